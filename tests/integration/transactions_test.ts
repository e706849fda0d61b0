/**
 * Transactions over a real socket, where the server's read buffer is reused between reads:
 * queued commands keep views of it while EXEC is in the same batch and must own their bytes once
 * it is not (src/commands/transactions.ts keepQueuedArguments).
 */
import assert from "node:assert/strict";
import { plain, RespConn } from "../support/resp_conn.ts";
import { startServer } from "../support/server.ts";
import { waitFor } from "../support/wait_for.ts";

function command(...args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${a.length}\r\n${a}\r\n`).join("");
}

Deno.test("queued arguments survive later reads into the same buffer, split requests too", async () => {
  await using server = await startServer();
  await using conn = await RespConn.connect(server.port);
  await using admin = await RespConn.connect(server.port);
  const id = plain(await conn.call("CLIENT", "ID"));
  const first = "a".repeat(300);
  const second = "b".repeat(3000);
  const third = "c".repeat(100);
  // MULTI and a SET in one read; their bytes sit at the start of the read buffer.
  await conn.sendRaw(command("MULTI") + command("SET", "k1", first));
  assert.equal(plain(await conn.read()), "OK");
  assert.equal(plain(await conn.read()), "QUEUED");
  // The next read lands on the same bytes of the buffer, and is longer than the first.
  await conn.sendRaw(command("SET", "k2", second));
  assert.equal(plain(await conn.read()), "QUEUED");
  // A request split across two reads, then one with EXEC in the same batch.
  const split = command("APPEND", "k3", third);
  await conn.sendRaw(split.slice(0, 27));
  // The first part ends inside the value's length line ("$10"): the server has read it when
  // those 3 bytes wait in the query buffer, with APPEND and k3 already parsed.
  await waitFor(async () => {
    const list = String(plain(await admin.call("CLIENT", "LIST", "ID", String(id))));
    return list.includes(" qbuf=3 ");
  }, { what: "the first part of the split request in the query buffer" });
  await conn.sendRaw(split.slice(27));
  assert.equal(plain(await conn.read()), "QUEUED");
  await conn.sendRaw(command("SET", "k4", "dddd") + command("EXEC"));
  assert.equal(plain(await conn.read()), "QUEUED");
  assert.deepEqual(plain(await conn.read()), ["OK", "OK", 100, "OK"]);
  assert.equal(plain(await conn.call("GET", "k1")), first);
  assert.equal(plain(await conn.call("GET", "k2")), second);
  assert.equal(plain(await conn.call("GET", "k3")), third);
  assert.equal(plain(await conn.call("GET", "k4")), "dddd");
});
