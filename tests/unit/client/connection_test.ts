/**
 * The client core against a scripted fake server: replies split anywhere still meet their
 * commands in order, RESP3 push frames are not taken for replies, a reply nobody asked for and
 * malformed bytes end the connection with ConnectionError, and closing fails what is pending.
 */
import assert from "node:assert/strict";
import { ConnectionError, RespConnection, RespSimple } from "../../../src/client/mod.ts";
import { waitFor } from "../../support/wait_for.ts";

const encoder = new TextEncoder();

/** A one-connection server that answers every read with the next scripted bytes. */
async function withFakeServer(
  replies: string[],
  body: (conn: RespConnection) => Promise<void>,
): Promise<void> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const socket = await listener.accept();
    const buf = new Uint8Array(4096);
    try {
      for (const reply of replies) {
        if ((await socket.read(buf)) === null) return;
        for (const byte of encoder.encode(reply)) await socket.write(new Uint8Array([byte]));
      }
      await socket.read(buf);
    } catch {
      // The client closed first.
    } finally {
      socket.close();
    }
  })();
  const conn = await RespConnection.open({ port: listener.addr.port, timeoutMs: 5000 });
  try {
    await body(conn);
  } finally {
    await conn.close();
    await serving;
  }
}

Deno.test("replies written one byte at a time, with a RESP3 push in between, match in order", async () => {
  await withFakeServer(["+OK\r\n>2\r\n$7\r\nmessage\r\n$1\r\nx\r\n$3\r\nabc\r\n"], async (conn) => {
    const [first, second] = await Promise.all([
      conn.call(["SET", "k", "v"]),
      conn.call(["GET", "k"]),
    ]);
    assert.ok(first instanceof RespSimple && first.value === "OK");
    assert.deepEqual(second, encoder.encode("abc"));
  });
});

Deno.test("a reply that no command waits for ends the connection with ConnectionError", async () => {
  await withFakeServer([":1\r\n:2\r\n"], async (conn) => {
    assert.equal(await conn.call(["INCR", "k"]), 1);
    await waitFor(() => conn.closed, { what: "the stray reply to close the connection" });
    const after = await conn.call(["PING"]).catch((e) => e);
    assert.ok(after instanceof ConnectionError);
    assert.equal(conn.closed, true);
  });
});

Deno.test("malformed reply bytes end the connection with a protocol ConnectionError", async () => {
  await withFakeServer(["?what\r\n"], async (conn) => {
    const error = await conn.call(["PING"]).catch((e) => e);
    assert.ok(error instanceof ConnectionError);
    assert.match(error.message, /Protocol error/);
  });
});

Deno.test("close() fails the commands still waiting", async () => {
  await withFakeServer([], async (conn) => {
    const pending = conn.call(["PING"]);
    assert.equal(conn.pending, 1);
    const rejected = assert.rejects(pending, ConnectionError);
    await conn.close();
    await rejected;
    await assert.rejects(conn.call(["PING"]), ConnectionError);
  });
});
