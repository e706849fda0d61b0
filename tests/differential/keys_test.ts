/**
 * Key commands (DEL, EXPIRE and friends, KEYS, SCAN, RENAME, COPY, MOVE, OBJECT, MEMORY): the same
 * scripts sent to redis-server and gocache, replies compared with their RESP types. One server
 * pair serves every step; each step starts from FLUSHALL. Data is seeded with SET, which both
 * servers have.
 */
import assert from "node:assert/strict";
import {
  type Arg,
  assertIdleTime,
  type ConnPair,
  infoSummary,
  intOf,
  itemsOf,
  script,
  type Shape,
  stepsFromEmpty,
  textOf,
  unshow,
  withBoth,
} from "./_diff.ts";
import { waitFor } from "../support/wait_for.ts";

/** Sends every command of a script and asserts identical replies, one by one. */
/** An array reply with its elements sorted (KEYS order is unspecified). */
function sorted(shape: Shape): Shape {
  if (shape.type !== "array") return shape;
  const text = (s: Shape) => JSON.stringify(s);
  return { type: "array", items: [...shape.items].sort((a, b) => text(a).localeCompare(text(b))) };
}

/**
 * Sends a command whose integer reply depends on the clock (TTL, PTTL) and asserts both servers
 * answer an integer within `tolerance` of each other.
 */
async function assertClose(c: ConnPair, args: readonly Arg[], tolerance: number): Promise<void> {
  const { redis, gocache } = await c.call(...args);
  assert.equal(gocache.type, "integer", `${args.join(" ")}: gocache answers an integer`);
  assert.equal(redis.type, "integer");
  const diff = Math.abs(intOf(gocache) - intOf(redis));
  assert.ok(diff <= tolerance, `${args.join(" ")}: ${intOf(gocache)} vs ${intOf(redis)}`);
}

/** Runs a full SCAN on one side and returns every key it returned, sorted and deduplicated. */
async function scanAll(c: ConnPair, side: "redis" | "gocache", options: Arg[]): Promise<string[]> {
  const conn = c[side];
  const keys = new Set<string>();
  let cursor = "0";
  do {
    const reply = await conn.call("SCAN", cursor, ...options);
    assert.ok(Array.isArray(reply), `SCAN answers an array on ${side}`);
    const [next, batch] = reply as [Uint8Array, Uint8Array[]];
    cursor = new TextDecoder().decode(next);
    for (const k of batch) keys.add(new TextDecoder("latin1").decode(k));
  } while (cursor !== "0");
  return [...keys].sort();
}

/** The value of one field of INFO's text. */
function infoField(shape: Shape, name: string): number {
  const line = unshow(textOf(shape)).split("\r\n").find((l) => l.startsWith(`${name}:`));
  assert.ok(line, `INFO has ${name}`);
  return Number(line.slice(name.length + 1));
}

/** The key commands compared by COMMAND INFO. */
const KEY_COMMANDS = [
  "del",
  "unlink",
  "exists",
  "type",
  "expire",
  "pexpire",
  "expireat",
  "pexpireat",
  "ttl",
  "pttl",
  "expiretime",
  "pexpiretime",
  "persist",
  "keys",
  "scan",
  "randomkey",
  "rename",
  "renamenx",
  "copy",
  "move",
  "touch",
  "object",
  "object|encoding",
  "object|freq",
  "object|idletime",
  "object|refcount",
  "object|help",
  "memory",
  "memory|usage",
  "memory|stats",
  "memory|help",
  "memory|doctor",
  "memory|malloc-stats",
  "memory|purge",
  "dump",
  "restore",
];

/** A time far enough ahead that no step outlives it, in seconds. */
const FUTURE = Math.floor(Date.now() / 1000) + 100_000;

Deno.test("key commands answer exactly like redis-server", async (t) => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();
    const step = stepsFromEmpty(t, c, 0);

    await step("COMMAND INFO of every key command agrees with Redis", async () => {
      for (const name of KEY_COMMANDS) {
        const { redis, gocache } = await c.call("COMMAND", "INFO", name);
        const r = itemsOf(redis)[0];
        const g = itemsOf(gocache)[0];
        assert.notEqual(g.type, "null", `gocache has ${name}`);
        assert.deepEqual(infoSummary(g), infoSummary(r), name);
      }
    });

    await step("DEL, UNLINK, EXISTS, TOUCH and TYPE count and name keys", async () => {
      await script(c, [
        ["SET", "a", "1"],
        ["SET", "b", "2"],
        ["SET", "", "empty"],
        ["EXISTS", "a", "a", "b", "nope", ""],
        ["TOUCH", "a", "nope", "b"],
        ["TYPE", "a"],
        ["TYPE", "nope"],
        ["DEL", "a", "a", "nope"],
        ["UNLINK", "b", ""],
        ["EXISTS", "a", "b", ""],
        ["DEL"],
        ["UNLINK"],
        ["EXISTS"],
        ["TOUCH"],
        ["TYPE"],
        ["TYPE", "a", "b"],
      ]);
    });

    await step("EXPIRE and its options follow Redis 7's rules", async () => {
      await script(c, [
        ["SET", "k", "v"],
        ["EXPIRE", "k", 100, "XX"],
        ["EXPIRE", "k", 100, "GT"],
        ["EXPIRE", "k", 100, "LT"],
        ["EXPIRE", "k", 200, "NX"],
        ["EXPIRE", "k", 200, "gt"],
        ["EXPIRE", "k", 300, "LT"],
        ["EXPIRE", "k", 50, "xx", "lt"],
        ["EXPIRE", "k", 50, "NX", "NX"],
        ["EXPIRE", "nope", 10],
        ["EXPIRE", "nope", 10, "NX", "XX"],
        ["EXPIRE", "k", 10, "NX", "GT"],
        ["EXPIRE", "k", 10, "NX", "LT"],
        ["EXPIRE", "k", 10, "GT", "LT"],
        ["EXPIRE", "k", 10, "XX", "GT", "LT"],
        ["EXPIRE", "k", 10, "bogus"],
        ["EXPIRE", "k", 10, "NX", "bogus"],
        ["EXPIRE", "k", "abc", "bogus"],
        ["EXPIRE", "k", "abc", "NX", "XX"],
        ["EXPIRE", "k", 10, "bo\x00gus"],
        ["EXPIRE", "k", "abc"],
        ["EXPIRE", "k", "1.5"],
        ["EXPIRE", "k", "+5"],
        ["EXPIRE", "k", " 5"],
        ["EXPIRE", "k", "05"],
        ["EXPIRE", "k", "-0"],
        ["EXPIRE", "k", ""],
        ["EXPIRE", "k", "9223372036854775807"],
        ["EXPIRE", "k", "9223372036854775"],
        ["EXPIRE", "k", "-9223372036854775808"],
        ["EXPIRE", "k", "9223372036854775808"],
        ["PEXPIRE", "k", "9223372036854775807"],
        ["EXPIREAT", "k", "9223372036854775807"],
        ["PEXPIREAT", "k", "abc"],
        ["EXPIRE", "k"],
        ["PEXPIRE"],
      ]);
      await assertClose(c, ["TTL", "k"], 1);
      await assertClose(c, ["PTTL", "k"], 1000);
    });

    await step("a time in the past deletes the key and answers 1", async () => {
      await script(c, [
        ["SET", "a", "1"],
        ["EXPIRE", "a", -1],
        ["EXISTS", "a"],
        ["SET", "a", "1"],
        ["PEXPIRE", "a", 0],
        ["EXISTS", "a"],
        ["SET", "a", "1"],
        ["EXPIREAT", "a", 1],
        ["EXISTS", "a"],
        ["SET", "a", "1"],
        ["PEXPIREAT", "a", "-9223372036854775808"],
        ["EXISTS", "a"],
        ["SET", "a", "1"],
        ["PEXPIRE", "a", "-9223372036854775808"],
        ["EXISTS", "a"],
        ["SET", "a", "1"],
        ["EXPIRE", "a", -5, "GT"],
        ["EXISTS", "a"],
        ["EXPIRE", "a", -5, "LT"],
        ["EXISTS", "a"],
      ]);
    });

    await step("TTL, PTTL, EXPIRETIME and PEXPIRETIME report -2, -1 or the time", async () => {
      await script(c, [
        ["TTL", "nope"],
        ["PTTL", "nope"],
        ["EXPIRETIME", "nope"],
        ["PEXPIRETIME", "nope"],
        ["SET", "k", "v"],
        ["TTL", "k"],
        ["PTTL", "k"],
        ["EXPIRETIME", "k"],
        ["PEXPIRETIME", "k"],
        ["EXPIREAT", "k", FUTURE],
        ["EXPIRETIME", "k"],
        ["PEXPIRETIME", "k"],
        ["PEXPIREAT", "k", FUTURE * 1000 + 499],
        ["EXPIRETIME", "k"],
        ["PEXPIREAT", "k", FUTURE * 1000 + 500],
        ["EXPIRETIME", "k"],
        ["PEXPIRETIME", "k"],
        ["TTL"],
        ["PTTL", "a", "b"],
        ["EXPIRETIME"],
      ]);
      await c.assertSame(["PEXPIRE", "k", 50_000]);
      await assertClose(c, ["PTTL", "k"], 1000);
      await assertClose(c, ["TTL", "k"], 1);
      await c.assertSame(["EXPIRE", "k", 1000]);
      await assertClose(c, ["TTL", "k"], 1);
    });

    await step("PERSIST removes a TTL once, and SET clears it", async () => {
      await script(c, [
        ["SET", "k", "v"],
        ["PERSIST", "k"],
        ["EXPIRE", "k", 100],
        ["PERSIST", "k"],
        ["PERSIST", "k"],
        ["TTL", "k"],
        ["PERSIST", "nope"],
        ["EXPIRE", "k", 100],
        ["SET", "k", "w"],
        ["TTL", "k"],
        ["PERSIST"],
      ]);
    });

    await step("KEYS matches Redis's globs, the empty key only with a lone star", async () => {
      await script(c, [
        ["SET", "", "empty"],
        ["SET", "hello", "1"],
        ["SET", "hallo", "1"],
        ["SET", "hxllo", "1"],
        ["SET", "heeeello", "1"],
        ["SET", "a*b", "1"],
        ["SET", "bin\x00\xff", "1"],
      ]);
      for (
        const pattern of [
          "*",
          "**",
          "?*",
          "",
          "h?llo",
          "h*llo",
          "h[ae]llo",
          "h[^e]llo",
          "h[a-b]llo",
          "a\\*b",
          "bin*",
          "[",
          "nomatch",
        ]
      ) {
        await c.assertSame(["KEYS", pattern], { normalize: sorted });
      }
      await script(c, [["KEYS"], ["KEYS", "a", "b"]]);
    });

    await step("SCAN visits every key with MATCH, COUNT and TYPE", async () => {
      for (let i = 0; i < 120; i++) await c.assertSame(["SET", `key:${i}`, i]);
      await c.assertSame(["SET", "", "empty"]);
      await c.assertSame(["SET", "other", "x"]);
      for (
        const options of [
          [],
          ["COUNT", 1],
          ["COUNT", 1000],
          ["MATCH", "key:1*"],
          ["MATCH", "*"],
          ["MATCH", "?*", "COUNT", 7],
          ["TYPE", "string"],
          ["TYPE", "STRING", "MATCH", "o*"],
          ["TYPE", "list"],
          ["TYPE", "nosuchtype"],
          ["count", 5, "match", "key:?", "type", "string"],
        ] as Arg[][]
      ) {
        const redis = await scanAll(c, "redis", options);
        const gocache = await scanAll(c, "gocache", options);
        assert.deepEqual(gocache, redis, `SCAN ${options.join(" ")}`);
      }
    });

    await step("SCAN refuses bad cursors and options with Redis's errors", async () => {
      await c.assertSame(["SET", "k", "v"]);
      await script(c, [
        ["SCAN", "abc"],
        ["SCAN", "1x"],
        ["SCAN", " 1"],
        ["SCAN", "18446744073709551616"],
        ["SCAN", "-"],
        ["SCAN", "0", "COUNT", 0],
        ["SCAN", "0", "COUNT", -1],
        ["SCAN", "0", "COUNT", "x"],
        ["SCAN", "0", "COUNT", "+5"],
        ["SCAN", "+0"],
        ["SCAN", "-0"],
        ["SCAN", ""],
        ["SCAN", "0", "COUNT", "99999999999999999999"],
        ["SCAN", "0", "COUNT"],
        ["SCAN", "0", "MATCH"],
        ["SCAN", "0", "TYPE"],
        ["SCAN", "0", "bogus", "1"],
        ["SCAN"],
      ]);
      // A full scan from cursor 0 of one key ends at once on both.
      await c.assertSame(["SCAN", "0"]);
      await c.assertSame(["SCAN", "0", "COUNT", 100, "MATCH", "k"]);
    });

    await step("RANDOMKEY answers nil on an empty database and a live key otherwise", async () => {
      await script(c, [
        ["RANDOMKEY"],
        ["SET", "only", "1"],
        ["RANDOMKEY"],
        ["RANDOMKEY", "x"],
      ]);
    });

    await step("RENAME and RENAMENX move the value and its TTL", async () => {
      await script(c, [
        ["RENAME", "nope", "x"],
        ["RENAMENX", "nope", "x"],
        ["SET", "a", "1"],
        ["EXPIREAT", "a", FUTURE],
        ["SET", "b", "2"],
        ["EXPIREAT", "b", FUTURE + 50],
        ["RENAME", "a", "a"],
        ["RENAMENX", "a", "a"],
        ["RENAMENX", "a", "b"],
        ["RENAME", "a", "b"],
        ["EXISTS", "a"],
        ["GET", "b"],
        ["EXPIRETIME", "b"],
        ["SET", "c", "3"],
        ["RENAME", "c", "b"],
        ["EXPIRETIME", "b"],
        ["RENAMENX", "b", "d"],
        ["GET", "d"],
        ["RENAME", "a"],
        ["RENAMENX", "a", "b", "c"],
      ]);
    });

    await step("COPY copies the value and TTL, across databases and with REPLACE", async () => {
      await script(c, [
        ["COPY", "nope", "x"],
        ["SET", "a", "1"],
        ["EXPIREAT", "a", FUTURE],
        ["SET", "b", "2"],
        ["COPY", "a", "a"],
        ["COPY", "a", "b"],
        ["COPY", "a", "b", "REPLACE"],
        ["GET", "b"],
        ["EXPIRETIME", "b"],
        ["COPY", "a", "a", "DB", 1],
        ["COPY", "a", "a", "db", 1],
        ["COPY", "a", "a", "DB", 1, "replace"],
        ["COPY", "a", "a", "DB", 0],
        ["COPY", "a", "x", "DB", 16],
        ["COPY", "a", "x", "DB", -1],
        ["COPY", "a", "x", "DB", "x"],
        ["COPY", "a", "x", "DB", "4294967296"],
        ["COPY", "a", "x", "DB", "-2147483649"],
        ["COPY", "a", "x", "DB", "99999999999999999999"],
        ["COPY", "a", "x", "DB"],
        ["COPY", "a", "x", "bogus"],
        ["COPY", "a", "x", "REPLACE", "REPLACE"],
        ["SELECT", 1],
        ["GET", "a"],
        ["EXPIRETIME", "a"],
        ["COPY", "a"],
      ]);
    });

    await step("MOVE transfers the key and its TTL unless the target has it", async () => {
      await script(c, [
        ["MOVE", "nope", 1],
        ["SET", "a", "1"],
        ["EXPIREAT", "a", FUTURE],
        ["MOVE", "a", 0],
        ["MOVE", "a", 16],
        ["MOVE", "a", -1],
        ["MOVE", "a", "x"],
        ["MOVE", "a", "4294967296"],
        ["MOVE", "a", "99999999999999999999"],
        ["MOVE", "a", 1],
        ["EXISTS", "a"],
        ["SET", "a", "2"],
        ["MOVE", "a", 1],
        ["SELECT", 1],
        ["GET", "a"],
        ["EXPIRETIME", "a"],
        ["MOVE", "a"],
      ]);
    });

    await step("OBJECT ENCODING, REFCOUNT, FREQ, IDLETIME and HELP answer like Redis", async () => {
      for (
        const value of [
          "0",
          "123",
          "9999",
          "10000",
          "-5",
          "9223372036854775807",
          "-9223372036854775808",
          "9223372036854775808",
          "01",
          "-0",
          "+1",
          " 1",
          "1.5",
          "",
          "x".repeat(44),
          "x".repeat(45),
          "1".repeat(21),
        ]
      ) {
        await c.assertSame(["SET", "k", value]);
        await c.assertSame(["OBJECT", "ENCODING", "k"], { message: `encoding of ${value}` });
        await c.assertSame(["OBJECT", "REFCOUNT", "k"], { message: `refcount of ${value}` });
      }
      await script(c, [
        ["OBJECT", "ENCODING", "nope"],
        ["OBJECT", "REFCOUNT", "nope"],
        ["OBJECT", "FREQ", "nope"],
        ["OBJECT", "IDLETIME", "nope"],
        ["OBJECT", "FREQ", "k"],
        ["OBJECT", "HELP"],
        ["object", "help"],
        ["OBJECT", "HELP", "x"],
        ["OBJECT", "ENCODING"],
        ["OBJECT", "ENCODING", "a", "b"],
        ["OBJECT", "bogus", "k"],
        ["OBJECT"],
      ]);
      await assertIdleTime(c, "k", 0);
    });

    await step("OBJECT FREQ counts accesses under an LFU policy and IDLETIME refuses", async () => {
      await script(c, [
        ["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
        ["SET", "f", "v"],
        ["OBJECT", "FREQ", "f"],
        ["OBJECT", "FREQ", "nope"],
        ["GET", "f"],
        ["OBJECT", "FREQ", "f"],
        ["OBJECT", "IDLETIME", "f"],
        ["OBJECT", "IDLETIME", "nope"],
        ["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
        ["OBJECT", "FREQ", "f"],
        ["CONFIG", "SET", "maxmemory", "1gb"],
        ["SET", "n", "42"],
        ["OBJECT", "REFCOUNT", "n"],
        ["CONFIG", "SET", "maxmemory-policy", "allkeys-random"],
        ["SET", "n", "43"],
        ["OBJECT", "REFCOUNT", "n"],
        ["CONFIG", "SET", "maxmemory", "0"],
        ["CONFIG", "SET", "maxmemory-policy", "noeviction"],
      ]);
    });

    await step("MEMORY USAGE answers an integer for a key and nil without one", async () => {
      await c.assertSame(["SET", "k", "v".repeat(100)]);
      for (const args of [["k"], ["k", "SAMPLES", 0], ["k", "samples", 5]]) {
        const { redis, gocache } = await c.call("MEMORY", "USAGE", ...args);
        assert.equal(redis.type, "integer");
        assert.equal(gocache.type, "integer");
        assert.ok(intOf(gocache) > 100, "the estimate covers the value");
      }
      await script(c, [
        ["MEMORY", "USAGE", "nope"],
        ["MEMORY", "USAGE", "k", "SAMPLES", -1],
        ["MEMORY", "USAGE", "k", "SAMPLES", "x"],
        ["MEMORY", "USAGE", "k", "SAMPLES"],
        ["MEMORY", "USAGE", "k", "bogus"],
        ["MEMORY", "USAGE"],
        ["MEMORY", "bogus"],
        ["MEMORY"],
      ]);
    });

    await step("MEMORY HELP, DOCTOR, PURGE and STATS answer as Redis does", async () => {
      await c.assertSame(["MEMORY", "HELP"]);
      await c.assertSame(["MEMORY", "DOCTOR"]);
      await c.assertSame(["MEMORY", "PURGE"]);
      for (const sub of ["DOCTOR", "PURGE", "MALLOC-STATS"]) {
        await c.assertSame(["MEMORY", sub, "x"]);
      }
      // Redis's MALLOC-STATS is jemalloc's own report; gocache gives Redis's text for builds
      // without jemalloc, of the same reply type.
      const malloc = await c.call("MEMORY", "MALLOC-STATS");
      assert.equal(malloc.gocache.type, malloc.redis.type);
      const stats = await c.call("MEMORY", "STATS");
      assert.equal(stats.gocache.type, stats.redis.type);
      await c.assertSame(["MEMORY", "HELP", "x"]);
      await c.assertSame(["MEMORY", "STATS", "x"]);
    });

    await step("binary keys round-trip through every key command", async () => {
      const key = new Uint8Array([0, 0xff, 0x0d, 0x0a, 0x80, 0x20]);
      const other = new Uint8Array([0xfe, 0]);
      await script(c, [
        ["SET", key, "v"],
        ["EXISTS", key],
        ["TYPE", key],
        ["EXPIREAT", key, FUTURE],
        ["EXPIRETIME", key],
        ["KEYS", "*"],
        ["SCAN", "0"],
        ["RANDOMKEY"],
        ["RENAME", key, other],
        ["COPY", other, key],
        ["MOVE", other, 2],
        ["OBJECT", "ENCODING", key],
        ["DEL", key],
        ["SELECT", 2],
        ["KEYS", new Uint8Array([0xfe, 0x2a])],
        ["PERSIST", other],
        ["UNLINK", other],
      ]);
    });

    await step("RESP3 replies have Redis's types", async () => {
      await using p = await both.connect();
      await p.call("HELLO", "3");
      await script(p, [
        ["SET", "k", "12"],
        ["TYPE", "k"],
        ["TYPE", "nope"],
        ["EXISTS", "k"],
        ["TTL", "k"],
        ["KEYS", "*"],
        ["SCAN", "0"],
        ["RANDOMKEY"],
        ["OBJECT", "ENCODING", "k"],
        ["OBJECT", "ENCODING", "nope"],
        ["OBJECT", "HELP"],
        ["MEMORY", "USAGE", "nope"],
        ["RENAME", "k", "j"],
        ["COPY", "j", "k"],
        ["DEL", "j", "k"],
        ["RANDOMKEY"],
      ]);
      const stats = await p.call("MEMORY", "STATS");
      assert.equal(stats.gocache.type, "map");
      assert.equal(stats.redis.type, "map");
    });

    await step("reads count keyspace hits and misses as Redis does", async () => {
      await script(c, [["SET", "k", "v"], ["CONFIG", "RESETSTAT"]]);
      await script(c, [
        ["EXISTS", "k", "nope"],
        ["TYPE", "k"],
        ["TTL", "nope"],
        ["PTTL", "k"],
        ["TOUCH", "k"],
        ["OBJECT", "ENCODING", "k"],
        ["COPY", "k", "k2"],
        ["DEL", "nope"],
        ["EXPIRE", "k", 100],
        ["PERSIST", "k"],
        ["RENAME", "k2", "k3"],
      ]);
      // Replies in no set order: only their effect on the counters is compared.
      await c.call("KEYS", "*");
      await c.call("RANDOMKEY");
      await c.call("SCAN", "0", "TYPE", "string");
      const { redis, gocache } = await c.call("INFO", "stats");
      for (const field of ["keyspace_hits", "keyspace_misses"]) {
        assert.equal(infoField(gocache, field), infoField(redis, field), field);
      }
    });

    await step("keys with a 1 s TTL disappear without being read", async () => {
      await c.assertSame(["CONFIG", "RESETSTAT"]);
      for (let i = 0; i < 30; i++) {
        await c.assertSame(["SET", `t${i}`, "v"]);
        await c.assertSame(["PEXPIRE", `t${i}`, 1000]);
      }
      await c.assertSame(["SET", "stays", "v"]);
      await c.assertSame(["DBSIZE"]);
      for (const side of ["redis", "gocache"] as const) {
        await waitFor(async () => (await c[side].call("DBSIZE")) === 1, {
          what: `${side} to expire the keys actively`,
          timeoutMs: 15_000,
          intervalMs: 100,
        });
      }
      await c.assertSame(["KEYS", "*"]);
      const { redis, gocache } = await c.call("INFO", "stats");
      assert.equal(infoField(gocache, "expired_keys"), infoField(redis, "expired_keys"));
    });
  });
});
