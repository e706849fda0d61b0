/**
 * The client's failure classes and its lifetime: ReplyError codes, ConnectionError on a refused
 * port and on a connection the server closes, TimeoutError against a server that accepts and
 * never answers, and `await using` closing the socket (the server's CLIENT LIST shrinks).
 */
import assert from "node:assert/strict";
import {
  ClientError,
  connect,
  ConnectionError,
  ReplyError,
  TimeoutError,
} from "../../src/client/mod.ts";
import { freePort } from "../support/redis_server.ts";
import { startServer } from "../support/server.ts";
import { waitFor } from "../support/wait_for.ts";

Deno.test("an error reply rejects with ReplyError carrying the first word as code", async () => {
  await using server = await startServer();
  await using client = await connect({ port: server.port });
  await client.set("s", "text");
  const error = await client.incr("s").catch((e) => e);
  assert.ok(error instanceof ReplyError);
  assert.ok(error instanceof ClientError);
  assert.equal(error.code, "ERR");
  assert.match(error.message, /not an integer/);
  const unknown = await client.send("NOSUCH").catch((e) => e);
  assert.ok(unknown instanceof ReplyError);
  assert.match(unknown.message, /^ERR unknown command 'NOSUCH'/);
  const noAuth = await client.send("AUTH", "x").catch((e) => e);
  assert.ok(noAuth instanceof ReplyError);
  assert.equal(noAuth.code, "ERR");
  const wrongArity = await client.send("SELECT", 99).catch((e) => e);
  assert.ok(wrongArity instanceof ReplyError);
  assert.equal(wrongArity.reply, "ERR DB index is out of range");
  assert.equal(await client.ping(), "PONG", "the connection is still usable");
});

Deno.test("connecting to a refused port rejects with ConnectionError", async () => {
  const port = freePort();
  const error = await connect({ port, timeoutMs: 2000 }).catch((e) => e);
  assert.ok(error instanceof ConnectionError, String(error));
  assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
});

Deno.test("a server that accepts and stays silent makes commands reject with TimeoutError", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })();
  const client = await connect({ port: listener.addr.port, timeoutMs: 200 });
  try {
    const started = performance.now();
    const results = await Promise.allSettled([client.ping(), client.get("k")]);
    const waited = performance.now() - started;
    for (const result of results) {
      assert.equal(result.status, "rejected");
      assert.ok(result.status === "rejected" && result.reason instanceof TimeoutError);
    }
    assert.ok(waited >= 190 && waited < 5000, `waited ${waited} ms`);
  } finally {
    await client.close();
    listener.close();
    await accepting.catch(() => {});
    for (const conn of accepted) conn.close();
  }
});

Deno.test("a late reply after a timeout goes to its own command, not the next one", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  // Answers the first command only once released, every later one at once.
  const serving = (async () => {
    const conn = await listener.accept();
    const buf = new Uint8Array(4096);
    let first = true;
    try {
      while ((await conn.read(buf)) !== null) {
        if (first) await released;
        await conn.write(new TextEncoder().encode(first ? "$4\r\nlate\r\n" : "$5\r\nfresh\r\n"));
        first = false;
      }
    } finally {
      conn.close();
    }
  })();
  const client = await connect({ port: listener.addr.port, timeoutMs: 100 });
  try {
    await assert.rejects(client.get("slow"), TimeoutError);
    release();
    assert.equal(await client.get("next"), "fresh");
  } finally {
    await client.close();
    await serving;
  }
});

Deno.test("commands in flight when the server closes the connection reject with ConnectionError", async () => {
  await using server = await startServer();
  await using client = await connect({ port: server.port });
  await using killer = await connect({ port: server.port });
  const id = await client.send("CLIENT", "ID");
  await killer.send("CLIENT", "KILL", "ID", id as number);
  await waitFor(() => client.connection.closed, { what: "the client to see the close" });
  await assert.rejects(client.ping(), ConnectionError);
});

Deno.test("await using closes the socket: the server's CLIENT LIST count goes down", async () => {
  await using server = await startServer();
  await using observer = await connect({ port: server.port });
  const count = async () => {
    const list = await observer.send("CLIENT", "LIST");
    return new TextDecoder().decode(list as Uint8Array).trim().split("\n").length;
  };
  assert.equal(await count(), 1);
  let disposed: Awaited<ReturnType<typeof connect>>;
  {
    await using client = await connect({ port: server.port });
    disposed = client;
    assert.equal(await client.ping(), "PONG");
    assert.equal(await count(), 2);
  }
  assert.equal(disposed.connection.closed, true);
  await waitFor(async () => (await count()) === 1, { what: "CLIENT LIST to shrink" });
  await assert.rejects(disposed.ping(), ConnectionError);
});

Deno.test("quit() waits for earlier replies, then closes", async () => {
  await using server = await startServer();
  const client = await connect({ port: server.port });
  const pending = client.set("before-quit", "v");
  await client.quit();
  assert.equal(await pending, true);
  assert.equal(client.connection.closed, true);
  await using check = await connect({ port: server.port });
  assert.equal(await check.get("before-quit"), "v");
});
