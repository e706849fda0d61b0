/**
 * The client library's typed helpers, pipelines and transactions against the real server.
 */
import assert from "node:assert/strict";
import { connect, type Pipeline, ReplyError, RespSimple } from "../../src/client/mod.ts";
import { startServer } from "../support/server.ts";
import { waitFor } from "../support/wait_for.ts";

Deno.test("client helpers: ping, get, set, del, mget, mset, incr, expire, ttl", async () => {
  await using server = await startServer();
  await using client = await connect({ port: server.port });
  assert.equal(await client.ping(), "PONG");
  assert.equal(await client.ping("hi"), "hi");
  assert.equal(await client.get("missing"), null);
  assert.equal(await client.set("k", "héllo"), true);
  assert.equal(await client.get("k"), "héllo");
  assert.deepEqual(await client.getBuffer("k"), new TextEncoder().encode("héllo"));
  assert.equal(await client.set("k", "other", { nx: true }), false);
  assert.equal(await client.set("absent", "v", { xx: true }), false);
  assert.equal(await client.set("k", "new", { xx: true }), true);
  assert.equal(await client.get("k"), "new");
  await client.mset({ a: "1", b: "2" });
  await client.mset([[new Uint8Array([0xff]), 3]]);
  assert.deepEqual(await client.mget("a", "b", "nope"), ["1", "2", null]);
  assert.deepEqual(await client.mgetBuffer(new Uint8Array([0xff])), [new Uint8Array([51])]);
  assert.equal(await client.incr("counter"), 1);
  assert.equal(await client.incr("counter"), 2);
  assert.equal(await client.incrBy("counter", 10), 12);
  assert.equal(await client.exists("a", "b", "nope"), 2);
  assert.equal(await client.del("a", "b", "nope"), 2);
  assert.equal(await client.ttl("k"), -1);
  assert.equal(await client.ttl("nope"), -2);
  assert.equal(await client.expire("k", 100), true);
  assert.equal(await client.expire("nope", 100), false);
  assert.equal(await client.expire("k", 50, "GT"), false);
  const ttl = await client.ttl("k");
  assert.ok(ttl > 90 && ttl <= 100, `ttl ${ttl}`);
  assert.equal(await client.set("e", "v", { ex: 30 }), true);
  assert.ok((await client.ttl("e")) > 25);
  assert.equal(await client.set("p", "v", { px: 5000 }), true);
  const pttl = await client.pttl("p");
  assert.ok(pttl > 4000 && pttl <= 5000, `pttl ${pttl}`);
  assert.equal(await client.publish("nobody", "x"), 0);
  assert.deepEqual(await client.send("ECHO", "raw"), new TextEncoder().encode("raw"));
  assert.ok((await client.send("SET", "s", "v")) instanceof RespSimple);
});

Deno.test("SET with px makes the key expire", async () => {
  await using server = await startServer();
  await using client = await connect({ port: server.port });
  // Long enough to read the key back before it lapses, even on a loaded machine.
  assert.equal(await client.set("short", "v", { px: 1000 }), true);
  assert.equal(await client.get("short"), "v", "the key was stored");
  const pttl = await client.pttl("short");
  assert.ok(pttl > 0 && pttl <= 1000, `the key has a TTL of at most 1000 ms: pttl ${pttl}`);
  await waitFor(async () => (await client.get("short")) === null, { what: "the key to expire" });
  assert.equal(await client.exists("short"), 0);
});

Deno.test("commands issued together are pipelined and 10k replies match in order", async () => {
  await using server = await startServer();
  await using client = await connect({ port: server.port });
  const sets = [];
  for (let i = 0; i < 10_000; i++) sets.push(client.set(`key:${i}`, `value:${i}`));
  assert.ok(client.connection.pending > 9_000, "commands were queued without waiting");
  assert.ok((await Promise.all(sets)).every((ok) => ok));
  const gets = [];
  for (let i = 0; i < 10_000; i++) gets.push(client.get(`key:${i}`));
  const values = await Promise.all(gets);
  for (let i = 0; i < 10_000; i++) assert.equal(values[i], `value:${i}`);
});

Deno.test("a pipeline of 10k commands writes once and returns typed results in order", async () => {
  await using server = await startServer();
  await using client = await connect({ port: server.port });
  // Built in a loop, the tuple type is not tracked: name the element type instead.
  const pipeline: Pipeline<number[]> = client.pipeline();
  for (let i = 0; i < 10_000; i++) pipeline.incr("n");
  const flushes = client.connection.flushes;
  const results = await pipeline.exec();
  assert.equal(client.connection.flushes, flushes + 1, "the pipeline was written as one buffer");
  assert.equal(results.length, 10_000);
  assert.deepEqual(results.slice(0, 3), [1, 2, 3]);
  assert.equal(results[9_999], 10_000);
  const [set, get, bad, n] = await client.pipeline()
    .set("x", "1").get("x").send("INCR", "k", "extra").incr("x").exec();
  assert.equal(set, true);
  assert.equal(get, "1");
  assert.ok(bad instanceof ReplyError);
  assert.equal(bad.code, "ERR");
  assert.equal(n, 2);
});

Deno.test("multi() runs a transaction; EXECABORT rejects; WATCH makes exec resolve null", async () => {
  await using server = await startServer();
  await using client = await connect({ port: server.port });
  await using other = await connect({ port: server.port });
  const result = await client.multi().set("t", "5").incr("t").get("t").exec();
  assert.deepEqual(result, [true, 6, "6"]);
  await client.set("str", "abc");
  const mixed = await client.multi().incr("str").get("str").exec();
  assert.ok(mixed !== null && mixed[0] instanceof ReplyError);
  assert.equal(mixed?.[1], "abc");
  await assert.rejects(
    client.multi().send("NOSUCHCOMMAND").get("t").exec(),
    (e) => e instanceof ReplyError && e.code === "EXECABORT",
  );
  await client.watch("t");
  await other.set("t", "changed");
  assert.equal(await client.multi().set("t", "mine").exec(), null);
  assert.equal(await client.get("t"), "changed");
});

Deno.test("binary values: all 256 byte values round-trip as key and value", async () => {
  await using server = await startServer();
  await using client = await connect({ port: server.port });
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.equal(await client.set(all, all), true);
  assert.deepEqual(await client.getBuffer(all), all);
  for (let i = 0; i < 256; i++) await client.set(new Uint8Array([i]), new Uint8Array([255 - i, i]));
  const keys = Array.from({ length: 256 }, (_, i) => new Uint8Array([i]));
  const values = await client.mgetBuffer(...keys);
  for (let i = 0; i < 256; i++) assert.deepEqual(values[i], new Uint8Array([255 - i, i]));
});

Deno.test("RESP3: HELLO 3 on connect, replies read the same through the helpers", async () => {
  await using server = await startServer();
  await using client = await connect({ port: server.port, protocol: 3 });
  const hello = await client.hello();
  assert.equal(hello.get("proto"), 3);
  assert.equal(await client.get("nothing"), null);
  assert.equal(await client.set("k", "v"), true);
  assert.deepEqual(await client.mget("k", "nothing"), ["v", null]);
  assert.equal(await client.expire("k", 10), true);
});

Deno.test("db and password options select the database and authenticate", async () => {
  await using server = await startServer({ args: ["--requirepass", "s3cret"] });
  await assert.rejects(
    connect({ port: server.port, password: "wrong" }),
    (e) => e instanceof ReplyError && e.code === "WRONGPASS",
  );
  await using noAuth = await connect({ port: server.port });
  await assert.rejects(noAuth.get("x"), (e) => e instanceof ReplyError && e.code === "NOAUTH");
  await using db3 = await connect({ port: server.port, password: "s3cret", db: 3 });
  await db3.set("where", "three");
  await using db0 = await connect({ port: server.port, password: "s3cret", protocol: 3 });
  assert.equal(await db0.get("where"), null);
  await db0.send("SELECT", 3);
  assert.equal(await db0.get("where"), "three");
});
