/**
 * Abuse limits beside Redis's own: `connection-limit-per-ip` (connections from one address) and
 * `client-query-timeout` (a command that takes too long to arrive: half-sent requests, a
 * slowloris trickling bytes), with idle clients and slow-but-complete senders left alone.
 */
import assert from "node:assert/strict";
import { plain, RespConn } from "../support/resp_conn.ts";
import { startServer } from "../support/server.ts";
import { fromSource } from "../support/from_source.ts";
import { waitFor } from "../support/wait_for.ts";

const encoder = new TextEncoder();

/**
 * Whether the server closed `conn` within `ms` (reads and drops whatever arrives). A read may
 * stay pending afterwards: do not read `conn` again.
 */
async function closedWithin(conn: Deno.Conn, ms: number): Promise<boolean> {
  const buf = new Uint8Array(1024);
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"open">((resolve) =>
      timer = setTimeout(() => resolve("open"), left)
    );
    const read = conn.read(buf).catch(() => null);
    const result = await Promise.race([read, timeout]);
    clearTimeout(timer);
    if (result === "open") return false;
    if (result === null) return true;
  }
}

Deno.test("connection-limit-per-ip refuses connections past the limit from one address, not others", async () => {
  await using server = await startServer({
    args: ["--connection-limit-per-ip", "2", "--bind", "0.0.0.0", "--protected-mode", "no"],
  });
  const a = await RespConn.connect(server.port);
  await using b = await RespConn.connect(server.port);
  assert.equal(plain(await a.call("PING")), "PONG");
  assert.equal(plain(await b.call("PING")), "PONG");
  // A third from 127.0.0.1 is told why and closed; 127.0.0.2 has its own count.
  assert.equal(
    await fromSource("127.0.0.1", server.port),
    "-ERR max number of clients from this address reached\r\n",
  );
  assert.equal(await fromSource("127.0.0.2", server.port), "+PONG\r\n");
  const stats = String(plain(await b.call("INFO", "stats")));
  assert.match(stats, /rejected_connections:1\r\n/);
  // A closed connection frees its place.
  a.close();
  await waitFor(async () => (await fromSource("127.0.0.1", server.port)) === "+PONG\r\n", {
    what: "the closed connection's place to be free",
  });
  assert.equal(plain(await b.call("CONFIG", "SET", "connection-limit-per-ip", "0")), "OK");
  const many = await Promise.all([1, 2, 3].map(() => RespConn.connect(server.port)));
  for (const conn of many) {
    assert.equal(plain(await conn.call("PING")), "PONG");
    conn.close();
  }
});

Deno.test("client-query-timeout closes half-sent and trickled commands, not idle or steady clients", async () => {
  await using server = await startServer({ args: ["--client-query-timeout", "1"] });
  const half = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const trickle = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await using idle = await RespConn.connect(server.port);
  await using steady = await RespConn.connect(server.port);
  try {
    await half.write(encoder.encode("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n"));
    // One byte every 200 ms of a large value: progress, but the command never completes.
    await trickle.write(encoder.encode("*3\r\n$3\r\nSET\r\n$1\r\nt\r\n$100\r\n"));
    let trickling = true;
    const trickler = (async () => {
      while (trickling) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        if (!trickling) break;
        await trickle.write(encoder.encode("x")).catch(() => trickling = false);
      }
    })();
    // A steady client sends a command in pieces, each within the limit.
    for (let i = 0; i < 4; i++) {
      await steady.sendRaw("*2\r\n$4\r\nECHO\r\n");
      await new Promise((resolve) => setTimeout(resolve, 400));
      await steady.sendRaw(`$1\r\n${i}\r\n`);
      assert.equal(plain(await steady.read()), String(i));
    }
    assert.equal(await closedWithin(half, 1000), true, "the half-sent command's client");
    assert.equal(await closedWithin(trickle, 1000), true, "the trickling client");
    trickling = false;
    await trickler;
    assert.equal(plain(await idle.call("PING")), "PONG");
    assert.equal(plain(await steady.call("GET", "t")), null);
  } finally {
    half.close();
    trickle.close();
  }
});

Deno.test("without client-query-timeout (the default) a half-sent command waits", async () => {
  await using server = await startServer();
  const half = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await half.write(encoder.encode("*2\r\n$3\r\nGET\r\n"));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Still open: the rest of the command is answered.
    await half.write(encoder.encode("$1\r\nk\r\n"));
    const buf = new Uint8Array(16);
    const n = await half.read(buf);
    assert.equal(new TextDecoder().decode(buf.subarray(0, n ?? 0)), "$-1\r\n");
  } finally {
    half.close();
  }
});
