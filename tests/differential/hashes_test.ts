/**
 * Hash commands against redis-server: replies and their RESP2/RESP3 types, listpack order (an
 * update keeps a field's place), OBJECT ENCODING conversions at the configured limits, every
 * error in Redis's order of checks, change counts, keyspace events, and the random and scanning
 * commands (compared exactly where Redis is deterministic, by their guarantees elsewhere).
 */
import assert from "node:assert/strict";
import {
  type Arg,
  type ConnPair,
  infoSummary,
  itemsOf,
  pairsOf,
  script,
  type Shape,
  shapeOf,
  stepsFromEmpty,
  textOf,
  unshow,
  withBoth,
} from "./_diff.ts";
import type { RespConn } from "../support/resp_conn.ts";
import { dispatch } from "../../src/commands/dispatch.ts";
import { Config, defaultValues } from "../../src/config/config.ts";
import { RequestParser } from "../../src/resp/request_parser.ts";
import { ClientState } from "../../src/server/client.ts";
import { Server } from "../../src/server/server.ts";
import { fromBinaryString, toBinaryString } from "../../src/util/bytes.ts";

const HASH_COMMANDS = [
  "hset",
  "hsetnx",
  "hget",
  "hmset",
  "hmget",
  "hgetall",
  "hdel",
  "hlen",
  "hstrlen",
  "hexists",
  "hkeys",
  "hvals",
  "hincrby",
  "hincrbyfloat",
  "hrandfield",
  "hscan",
];

/** HELLO's reply differs between the servers (name, version): compare its type only. */
const typeOnly = (shape: Shape) => ({ type: shape.type }) as Shape;

/** An array reply with its elements sorted (hashtable order is the table's own). */
function sortedItems(shape: Shape): Shape {
  if (shape.type !== "array" && shape.type !== "set") return shape;
  const text = (s: Shape) => JSON.stringify(s);
  return { ...shape, items: [...shape.items].sort((a, b) => text(a).localeCompare(text(b))) };
}

/** A map (or RESP2 flat pair array) reply with its pairs sorted by field. */
function sortedPairs(shape: Shape): Shape {
  const pairs = pairsOf(shape).sort((a, b) => textOf(a[0]).localeCompare(textOf(b[0])));
  return { type: "map", entries: pairs };
}

/** Fills `key` with `n` fields f0..f(n-1) on both servers. */
async function fill(c: ConnPair, key: string, n: number, from = 0): Promise<void> {
  const args: Arg[] = ["HSET", key];
  for (let i = from; i < from + n; i++) args.push(`f${i}`, `v${i}`);
  await c.assertSame(args);
}

/** Runs a full HSCAN on one side; returns every field/value pair seen (deduplicated). */
async function hscanAll(conn: RespConn, key: string, options: Arg[]): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  let cursor = "0";
  let calls = 0;
  do {
    const reply = shapeOf(await conn.call("HSCAN", key, cursor, ...options));
    const [next, batch] = itemsOf(reply);
    cursor = textOf(next);
    const items = itemsOf(batch).map(textOf);
    for (let i = 0; i < items.length; i += 2) seen.set(items[i], items[i + 1]);
    assert.ok(++calls < 10_000, "HSCAN ends");
  } while (cursor !== "0");
  return seen;
}

/** Reads keyspace notifications on one side until the marker message. */
async function eventsUntilMarker(conn: RespConn): Promise<string[]> {
  const events: string[] = [];
  while (true) {
    const items = itemsOf(shapeOf(await conn.read())).map(textOf);
    if (items[0] === "message" && items[1] === "marker") return events;
    events.push(items.slice(2).join(" "));
  }
}

/** The value of one field of INFO's text. */
function infoField(shape: Shape, name: string): number {
  const line = unshow(textOf(shape)).split("\r\n").find((l) => l.startsWith(`${name}:`));
  assert.ok(line, `INFO has ${name}`);
  return Number(line.slice(name.length + 1));
}

/** HRANDFIELD's properties on each side: reply length, distinctness, membership, pair shape. */
async function checkRandom(
  c: ConnPair,
  args: Arg[],
  expect: { length: number; distinct: boolean; pairs: "flat" | "nested" | "none" },
  hash: Map<string, string>,
): Promise<void> {
  const replies = await c.call(...args);
  for (const side of ["redis", "gocache"] as const) {
    const items = itemsOf(replies[side]);
    const what = `${args.join(" ")} on ${side}`;
    let fields: string[];
    if (expect.pairs === "nested") {
      fields = items.map((pair) => {
        const [f, v] = itemsOf(pair).map(textOf);
        assert.equal(hash.get(f), v, what);
        return f;
      });
    } else if (expect.pairs === "flat") {
      fields = [];
      for (let i = 0; i < items.length; i += 2) {
        const [f, v] = [textOf(items[i]), textOf(items[i + 1])];
        assert.equal(hash.get(f), v, what);
        fields.push(f);
      }
    } else fields = items.map(textOf);
    assert.equal(fields.length, expect.length, what);
    for (const f of fields) assert.ok(hash.has(f), `${what}: ${f} is a field`);
    if (expect.distinct) assert.equal(new Set(fields).size, fields.length, `${what}: distinct`);
  }
}

Deno.test("hash commands answer exactly like redis-server", async (t) => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();
    const step = stepsFromEmpty(t, c);

    await step("COMMAND INFO of every hash command agrees with Redis", async () => {
      for (const name of HASH_COMMANDS) {
        const { redis, gocache } = await c.call("COMMAND", "INFO", name);
        assert.deepEqual(infoSummary(itemsOf(gocache)[0]), infoSummary(itemsOf(redis)[0]), name);
      }
    });

    await step("HSET, HGET, HMSET and HMGET keep listpack order, updates in place", async () => {
      await script(c, [
        ["HSET", "h", "b", "1", "a", "2"],
        ["HSET", "h", "c", "3", "a", "changed", "b", "1"],
        ["HGETALL", "h"],
        ["HKEYS", "h"],
        ["HVALS", "h"],
        ["HGET", "h", "a"],
        ["HGET", "h", "missing"],
        ["HGET", "missing", "a"],
        ["HMSET", "h", "d", "4", "e", ""],
        ["HMGET", "h", "a", "missing", "e", "a"],
        ["HMGET", "missing", "a", "b"],
        ["HLEN", "h"],
        ["HLEN", "missing"],
        ["HSTRLEN", "h", "a"],
        ["HSTRLEN", "h", "e"],
        ["HSTRLEN", "h", "missing"],
        ["HSTRLEN", "missing", "a"],
        ["HEXISTS", "h", "a"],
        ["HEXISTS", "h", "missing"],
        ["HEXISTS", "missing", "a"],
        ["HGETALL", "missing"],
        ["HKEYS", "missing"],
        ["HVALS", "missing"],
        ["TYPE", "h"],
        ["OBJECT", "ENCODING", "h"],
        ["HSET", "bin", "\x00\r\n", "\xff\x80", "", "empty field", "123", "-5"],
        ["HGETALL", "bin"],
        ["HGET", "bin", ""],
        ["HSET", "h", "a", "x", "a", "y"],
        ["HGET", "h", "a"],
        ["EXPIRE", "h", 1000],
        ["HSET", "h", "new", "1"],
        ["HDEL", "h", "new"],
        ["HINCRBY", "h", "n", "1"],
        ["TTL", "h"],
        ["HDEL", "h", "a", "b", "c", "d", "e", "n"],
        ["EXISTS", "h"],
        ["HSET", "h", "a", "1"],
        ["TTL", "h"],
      ]);
    });

    await step(
      "HGET and HMGET keep the value they read when a later write changes it",
      async () => {
        // Values over hash-max-listpack-value make a "hashtable" hash, whose values are bytes
        // overwritten in place at the same length; gocache's HGET reads them when its reply is
        // encoded, which inside MULTI and scripts comes after later commands.
        const long = "a".repeat(100) + "\x00\xff\r\n";
        const other = "b".repeat(100) + "\xff\x00\n\r";
        const short = "s".repeat(64);
        await script(c, [
          ["HSET", "h", "f", long, "g", short],
          ["OBJECT", "ENCODING", "h"],
          ["HGET", "h", "f"],
          ["HMGET", "h", "g", "missing", "f"],
          ["MULTI"],
          ["HGET", "h", "f"],
          ["HMGET", "h", "g", "f", "missing"],
          ["HSET", "h", "f", other, "g", "t".repeat(64)],
          ["HGET", "h", "f"],
          ["EXEC"],
          [
            "EVAL",
            "local v = redis.call('HGET', KEYS[1], 'f'); redis.call('HSET', KEYS[1], 'f', ARGV[1]); " +
            "return {v, redis.call('HMGET', KEYS[1], 'f', 'g')}",
            "1",
            "h",
            long,
          ],
          ["HGET", "h", "f"],
          ["HGET", "h", "missing"],
        ]);
      },
    );

    await step("HSETNX sets only a missing field, creating the key if needed", async () => {
      await script(c, [
        ["HSETNX", "h", "a", "1"],
        ["HSETNX", "h", "a", "2"],
        ["HSETNX", "h", "b", "3"],
        ["HGETALL", "h"],
        ["HSETNX", "h", "a", "x".repeat(100)],
        ["OBJECT", "ENCODING", "h"],
        ["HSETNX", "h", "c", "x".repeat(100)],
        ["OBJECT", "ENCODING", "h"],
      ]);
    });

    await step("HDEL counts deleted fields and deletes an emptied key", async () => {
      await script(c, [
        ["HSET", "h", "a", "1", "b", "2", "c", "3"],
        ["HDEL", "h", "missing"],
        ["HDEL", "h", "a", "a", "missing"],
        ["HGETALL", "h"],
        ["HDEL", "missing", "a"],
        ["HDEL", "h", "b", "c", "d"],
        ["EXISTS", "h"],
        ["HSET", "h", "x", "1"],
        ["HDEL", "h", "x", "x"],
        ["EXISTS", "h"],
      ]);
    });

    await step("encodings convert at the configured limits, never back", async () => {
      await script(c, [
        ["HSET", "h", "a", "x".repeat(64)],
        ["OBJECT", "ENCODING", "h"],
        ["HSET", "h", "b", "x".repeat(65)],
        ["OBJECT", "ENCODING", "h"],
        ["HDEL", "h", "b"],
        ["OBJECT", "ENCODING", "h"],
        ["HSET", "k", "y".repeat(65), "1"],
        ["OBJECT", "ENCODING", "k"],
        ["HSET", "i", "a", "1"],
        ["HINCRBY", "i", "f".repeat(70), "1"],
        ["OBJECT", "ENCODING", "i"],
        ["HSET", "j", "a", "1"],
        ["HINCRBYFLOAT", "j", "a", "1e100"],
        ["OBJECT", "ENCODING", "j"],
        ["CONFIG", "SET", "hash-max-listpack-entries", "4"],
        ["HSET", "e", "a", "1", "b", "2", "c", "3", "d", "4", "a", "5"],
        ["OBJECT", "ENCODING", "e"],
        ["HSET", "e", "e", "5"],
        ["OBJECT", "ENCODING", "e"],
        ["HSET", "dup", "a", "1", "a", "2", "a", "3", "a", "4", "a", "5"],
        ["OBJECT", "ENCODING", "dup"],
        ["CONFIG", "SET", "hash-max-listpack-entries", "0"],
        ["HSET", "z", "a", "1"],
        ["OBJECT", "ENCODING", "z"],
        ["CONFIG", "SET", "hash-max-listpack-entries", "128"],
        ["CONFIG", "SET", "hash-max-listpack-value", "2"],
        ["HSET", "v", "ab", "cd"],
        ["OBJECT", "ENCODING", "v"],
        ["HSET", "v", "ab", "cde"],
        ["OBJECT", "ENCODING", "v"],
        ["CONFIG", "SET", "hash-max-listpack-value", "64"],
      ]);
      await fill(c, "big", 129);
      await c.assertSame(["OBJECT", "ENCODING", "big"]);
      await c.assertSame(["HGETALL", "big"], { normalize: sortedPairs });
      await c.assertSame(["HKEYS", "big"], { normalize: sortedItems });
      await c.assertSame(["HVALS", "big"], { normalize: sortedItems });
      await c.assertSame(["HMGET", "big", "f0", "f128", "nope"]);
      await c.assertSame(["HDEL", "big", "f0", "f5", "nope"]);
      await c.assertSame(["HLEN", "big"]);
    });

    await step("HINCRBY is exact over int64 with Redis's errors", async () => {
      await script(c, [
        ["HINCRBY", "h", "n", "5"],
        ["HINCRBY", "h", "n", "-12"],
        ["HGET", "h", "n"],
        ["HINCRBY", "h", "n", "9223372036854775807"],
        ["HSET", "h", "max", "9223372036854775806"],
        ["HINCRBY", "h", "max", "1"],
        ["HINCRBY", "h", "max", "1"],
        ["HSET", "h", "min", "-9223372036854775807"],
        ["HINCRBY", "h", "min", "-1"],
        ["HINCRBY", "h", "min", "-1"],
        ["HINCRBY", "h", "min", "9223372036854775807"],
        ["HSET", "h", "s", "abc", "z", "007", "sp", " 1", "f", "1.5", "e", ""],
        ["HINCRBY", "h", "s", "1"],
        ["HINCRBY", "h", "z", "1"],
        ["HINCRBY", "h", "sp", "1"],
        ["HINCRBY", "h", "f", "1"],
        ["HINCRBY", "h", "e", "1"],
        ["HINCRBY", "h", "n", "x"],
        ["HINCRBY", "h", "n", "1.0"],
        ["HINCRBY", "h", "n", "9223372036854775808"],
        ["HINCRBY", "missing", "n", "x"],
        ["EXISTS", "missing"],
        ["HGETALL", "h"],
      ]);
    });

    await step("HINCRBYFLOAT computes in long double and formats like INCRBYFLOAT", async () => {
      await script(c, [
        ["HINCRBYFLOAT", "h", "x", "10.5"],
        ["HINCRBYFLOAT", "h", "x", "0.1"],
        ["HINCRBYFLOAT", "h", "x", "-5.0e3"],
        ["HINCRBYFLOAT", "h", "x", "1e-20"],
        ["HINCRBYFLOAT", "h", "y", "3.0"],
        ["HINCRBYFLOAT", "h", "z", "0x10"],
        ["HINCRBYFLOAT", "h", "w", "-0"],
        ["HSET", "h", "int", "17", "big", "1e4932"],
        ["HINCRBYFLOAT", "h", "int", "0.25"],
        ["HINCRBYFLOAT", "h", "big", "1e4932"],
        ["HINCRBYFLOAT", "h", "x", "inf"],
        ["HINCRBYFLOAT", "h", "x", "-infinity"],
        ["HINCRBYFLOAT", "h", "x", "nan"],
        ["HINCRBYFLOAT", "h", "x", "1e5000"],
        ["HINCRBYFLOAT", "h", "x", "abc"],
        ["HINCRBYFLOAT", "h", "x", " 1"],
        ["HINCRBYFLOAT", "h", "x", ""],
        ["HSET", "h", "s", "abc", "i", "inf"],
        ["HINCRBYFLOAT", "h", "s", "1"],
        ["HINCRBYFLOAT", "h", "i", "1"],
        ["HINCRBYFLOAT", "missing", "x", "nan"],
        ["EXISTS", "missing"],
        ["HGETALL", "h"],
      ]);
    });

    await step("errors: arity, odd HSET arguments, WRONGTYPE, in Redis's order", async () => {
      await script(c, [
        ["SET", "s", "string"],
        ["HSET", "h"],
        ["HSET", "h", "f"],
        ["HSET", "h", "f", "v", "g"],
        ["HSET", "s", "f", "v", "g"],
        ["HMSET", "h", "f", "v", "g"],
        ["HMSET", "h", "f"],
        ["HSETNX", "h", "f"],
        ["HGET", "h"],
        ["HMGET", "h"],
        ["HDEL", "h"],
        ["HLEN"],
        ["HLEN", "h", "x"],
        ["HSTRLEN", "h"],
        ["HEXISTS", "h"],
        ["HKEYS"],
        ["HVALS", "h", "x"],
        ["HGETALL"],
        ["HINCRBY", "h", "f"],
        ["HINCRBYFLOAT", "h", "f"],
        ["HRANDFIELD"],
        ["HSCAN", "h"],
        ["HSET", "s", "f", "v"],
        ["HMSET", "s", "f", "v"],
        ["HSETNX", "s", "f", "v"],
        ["HGET", "s", "f"],
        ["HMGET", "s", "f"],
        ["HDEL", "s", "f"],
        ["HLEN", "s"],
        ["HSTRLEN", "s", "f"],
        ["HEXISTS", "s", "f"],
        ["HKEYS", "s"],
        ["HVALS", "s"],
        ["HGETALL", "s"],
        ["HINCRBY", "s", "f", "1"],
        ["HINCRBY", "s", "f", "x"],
        ["HINCRBYFLOAT", "s", "f", "1"],
        ["HINCRBYFLOAT", "s", "f", "x"],
        ["HRANDFIELD", "s"],
        ["HRANDFIELD", "s", "1"],
        ["HRANDFIELD", "s", "x"],
        ["HSCAN", "s", "0"],
        ["HSCAN", "s", "x"],
        ["HSCAN", "s", "0", "COUNT", "0"],
        ["GET", "s"],
        ["HSET", "h", "f", "v"],
        ["GET", "h"],
        ["APPEND", "h", "x"],
      ]);
    });

    await step("HRANDFIELD: argument checks, empty cases and the whole-hash case", async () => {
      await script(c, [
        ["HRANDFIELD", "missing"],
        ["HRANDFIELD", "missing", "5"],
        ["HRANDFIELD", "missing", "-5", "WITHVALUES"],
        ["HRANDFIELD", "missing", "x"],
        ["HRANDFIELD", "missing", "1.5"],
        ["HRANDFIELD", "missing", "-9223372036854775808"],
        ["HRANDFIELD", "missing", "9223372036854775808"],
        ["HRANDFIELD", "missing", "1", "WITHVALUESX"],
        ["HRANDFIELD", "missing", "1", "WITHVALUES", "x"],
        ["HRANDFIELD", "missing", "4611686018427387904", "WITHVALUES"],
        ["HRANDFIELD", "missing", "-4611686018427387904", "withvalues"],
        ["HRANDFIELD", "missing", "4611686018427387903", "WITHVALUES"],
        ["HSET", "h", "c", "3", "a", "1", "b", "2"],
        ["HRANDFIELD", "h", "0"],
        ["HRANDFIELD", "h", "0", "WITHVALUES"],
        ["HRANDFIELD", "h", "3"],
        ["HRANDFIELD", "h", "100", "WITHVALUES"],
        ["HRANDFIELD", "h", "9223372036854775807"],
        ["HSET", "one", "only", "v"],
        ["HRANDFIELD", "one"],
        ["HRANDFIELD", "one", "-3", "WITHVALUES"],
        ["HRANDFIELD", "one", "1", "withvalues"],
      ]);
      await c.assertSame(["HELLO", "3"], { normalize: typeOnly });
      await script(c, [
        ["HRANDFIELD", "missing"],
        ["HRANDFIELD", "missing", "2", "WITHVALUES"],
        ["HRANDFIELD", "h", "3", "WITHVALUES"],
        ["HRANDFIELD", "one", "-2", "WITHVALUES"],
        ["HRANDFIELD", "h", "0", "WITHVALUES"],
      ]);
      await c.assertSame(["HELLO", "2"], { normalize: typeOnly });
    });

    await step("HRANDFIELD samples distinct or repeated fields of both encodings", async () => {
      for (const size of [10, 300]) {
        await c.assertSame(["DEL", "h"]);
        await fill(c, "h", size);
        const hash = new Map(Array.from({ length: size }, (_, i) => [`f${i}`, `v${i}`]));
        for (let round = 0; round < 5; round++) {
          const single = await c.call("HRANDFIELD", "h");
          for (const side of [single.redis, single.gocache]) assert.ok(hash.has(textOf(side)));
          for (const count of [1, 3, size / 2, size - 1]) {
            await checkRandom(c, ["HRANDFIELD", "h", count], {
              length: count,
              distinct: true,
              pairs: "none",
            }, hash);
            await checkRandom(c, ["HRANDFIELD", "h", count, "WITHVALUES"], {
              length: count,
              distinct: true,
              pairs: "flat",
            }, hash);
          }
          await checkRandom(c, ["HRANDFIELD", "h", -2 * size], {
            length: 2 * size,
            distinct: false,
            pairs: "none",
          }, hash);
          await checkRandom(c, ["HRANDFIELD", "h", -7, "WITHVALUES"], {
            length: 7,
            distinct: false,
            pairs: "flat",
          }, hash);
        }
        await checkRandom(c, ["HRANDFIELD", "h", size + 1], {
          length: size,
          distinct: true,
          pairs: "none",
        }, hash);
        await c.assertSame(["HELLO", "3"], { normalize: typeOnly });
        await checkRandom(c, ["HRANDFIELD", "h", 4, "WITHVALUES"], {
          length: 4,
          distinct: true,
          pairs: "nested",
        }, hash);
        await checkRandom(c, ["HRANDFIELD", "h", -9, "WITHVALUES"], {
          length: 9,
          distinct: false,
          pairs: "nested",
        }, hash);
        await c.assertSame(["HELLO", "2"], { normalize: typeOnly });
      }
    });

    await step("HSCAN returns a listpack hash whole, with MATCH and COUNT", async () => {
      await script(c, [
        ["HSET", "h", "b", "1", "a", "2", "ab", "3", "\xff", "4"],
        ["HSCAN", "h", "0"],
        ["HSCAN", "h", "12345"],
        ["HSCAN", "h", "0", "COUNT", "1"],
        ["HSCAN", "h", "0", "MATCH", "a*"],
        ["HSCAN", "h", "0", "match", "[ab]", "count", "100"],
        ["HSCAN", "h", "0", "MATCH", "*"],
        ["HSCAN", "h", "0", "MATCH", "zz*", "MATCH", "a"],
        ["HSCAN", "h", "-1"],
        ["HSCAN", "h", ""],
        ["HSCAN", "h", "18446744073709551615"],
        ["HSCAN", "h", "18446744073709551616"],
        ["HSCAN", "h", " 1"],
        ["HSCAN", "h", "1x"],
        ["HSCAN", "h", "0", "COUNT", "0"],
        ["HSCAN", "h", "0", "COUNT", "-1"],
        ["HSCAN", "h", "0", "COUNT", "x"],
        ["HSCAN", "h", "0", "COUNT"],
        ["HSCAN", "h", "0", "MATCH"],
        ["HSCAN", "h", "0", "TYPE", "hash"],
        ["HSCAN", "h", "0", "FOO", "bar"],
        ["HSCAN", "missing", "0"],
        ["HSCAN", "missing", "0", "COUNT", "0"],
        ["HSCAN", "missing", "x"],
      ]);
      await c.assertSame(["HELLO", "3"], { normalize: typeOnly });
      await c.assertSame(["HSCAN", "h", "0"]);
      await c.assertSame(["HGETALL", "h"]);
      await c.assertSame(["HGETALL", "missing"]);
      await c.assertSame(["HKEYS", "h"]);
      await c.assertSame(["HINCRBYFLOAT", "h", "n", "1.5"]);
      await c.assertSame(["HELLO", "2"], { normalize: typeOnly });
    });

    await step("HSCAN of a hashtable hash visits every field, MATCH filtering", async () => {
      await fill(c, "h", 1000);
      for (const options of [[], ["COUNT", 7], ["COUNT", 1000], ["MATCH", "f1*", "COUNT", 50]]) {
        const redis = await hscanAll(c.redis, "h", options);
        const gocache = await hscanAll(c.gocache, "h", options);
        assert.deepEqual(new Map([...gocache].sort()), new Map([...redis].sort()), String(options));
      }
      const first = await c.call("HSCAN", "h", "0");
      assert.notEqual(textOf(itemsOf(first.gocache)[0]), "0", "a large hash takes several steps");
    });

    await step("changes are counted as Redis counts them", async () => {
      const changes = async () => {
        const { redis, gocache } = await c.call("INFO", "persistence");
        return {
          redis: infoField(redis, "rdb_changes_since_last_save"),
          gocache: infoField(gocache, "rdb_changes_since_last_save"),
        };
      };
      const commands: Arg[][] = [
        ["HSET", "h", "a", "1", "b", "2", "c", "3"],
        ["HSET", "h", "a", "1", "d", "4"],
        ["HMSET", "h", "a", "1"],
        ["HSETNX", "h", "a", "1"],
        ["HSETNX", "h", "e", "1"],
        ["HDEL", "h", "a", "b", "zz"],
        ["HDEL", "h", "zz"],
        ["HINCRBY", "h", "n", "1"],
        ["HINCRBYFLOAT", "h", "n", "1.5"],
        ["HINCRBY", "h", "n", "x"],
        ["HSET", "new", "a", "1", "b", "2", "a", "3"],
        ["HDEL", "new", "a", "b"],
      ];
      for (const command of commands) {
        const before = await changes();
        await c.assertSame(command);
        const after = await changes();
        assert.equal(
          after.gocache - before.gocache,
          after.redis - before.redis,
          `changes counted by ${command.join(" ")}`,
        );
      }
    });

    await step("reads count keyspace hits and misses, writes do not", async () => {
      const stats = async () => {
        const { redis, gocache } = await c.call("INFO", "stats");
        const read = (s: Shape) => [infoField(s, "keyspace_hits"), infoField(s, "keyspace_misses")];
        return { redis: read(redis), gocache: read(gocache) };
      };
      const commands: Arg[][] = [
        ["HSET", "h", "a", "1"],
        ["HSETNX", "h", "b", "1"],
        ["HINCRBY", "h", "n", "1"],
        ["HINCRBYFLOAT", "h", "n", "1"],
        ["HDEL", "h", "zz"],
        ["HDEL", "missing", "zz"],
        ["HGET", "h", "a"],
        ["HGET", "missing", "a"],
        ["HMGET", "h", "a", "b"],
        ["HMGET", "missing", "a"],
        ["HLEN", "h"],
        ["HSTRLEN", "missing", "a"],
        ["HEXISTS", "h", "a"],
        ["HGETALL", "h"],
        ["HKEYS", "missing"],
        ["HVALS", "h"],
        ["HRANDFIELD", "h"],
        ["HRANDFIELD", "missing", "2"],
        ["HSCAN", "h", "0"],
        ["HSCAN", "missing", "0"],
      ];
      for (const command of commands) {
        const before = await stats();
        // HRANDFIELD's pick is random: its reply type is what can be compared.
        await c.assertSame(command, {
          normalize: command[0] === "HRANDFIELD" ? typeOnly : undefined,
        });
        const after = await stats();
        assert.deepEqual(
          after.gocache.map((n, i) => n - before.gocache[i]),
          after.redis.map((n, i) => n - before.redis[i]),
          `hits and misses of ${command.join(" ")}`,
        );
      }
    });

    await step("keyspace events are Redis's, in Redis's order", async () => {
      await c.assertSame(["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
      await using sub = await both.connect();
      await sub.assertSame(["PSUBSCRIBE", "__key*__:*"]);
      await sub.assertSame(["SUBSCRIBE", "marker"]);
      await script(c, [
        ["HSET", "h", "a", "1", "b", "2"],
        ["HMSET", "h", "c", "3"],
        ["HSETNX", "h", "a", "1"],
        ["HSETNX", "h", "d", "1"],
        ["HINCRBY", "h", "n", "1"],
        ["HINCRBYFLOAT", "h", "n", "1.5"],
        ["HINCRBY", "h", "a", "x"],
        ["HDEL", "h", "zz"],
        ["HDEL", "h", "a", "b"],
        ["HDEL", "h", "c", "d", "n"],
        ["HGET", "h", "a"],
        ["PUBLISH", "marker", "done"],
      ]);
      const [redis, gocache] = await Promise.all([
        eventsUntilMarker(sub.redis),
        eventsUntilMarker(sub.gocache),
      ]);
      assert.ok(redis.length >= 10, "the script raised events");
      assert.deepEqual(gocache, redis);
      await c.assertSame(["CONFIG", "SET", "notify-keyspace-events", ""]);
    });
  });
});

/**
 * What an in-process server propagates (to the AOF and replicas) for hash writes: decoded
 * commands since the last call. Not differential (redis-server's stream is not observable
 * here without a replica), but the rule is Redis's: a write that changed nothing is not
 * propagated, and HINCRBYFLOAT is propagated as HSET of its result.
 */
function propagation() {
  const server = new Server(new Config(defaultValues()));
  const client = new ClientState(1, "127.0.0.1:1", "127.0.0.1:2", true);
  const chunks: Uint8Array[] = [];
  server.propagator.addSink((chunk) => chunks.push(chunk.slice()));
  const run = (...args: string[]) => dispatch(server, client, args.map(fromBinaryString));
  const stream = (): string[][] => {
    server.propagator.flush();
    const parser = new RequestParser(1 << 20);
    const out: string[][] = [];
    for (const chunk of chunks.splice(0)) {
      for (let pos = 0; pos < chunk.length;) {
        pos = parser.parse(chunk, pos, chunk.length);
        if (parser.command === null) break;
        out.push(parser.command.map((a) => toBinaryString(a)));
      }
    }
    return out;
  };
  return { run, stream };
}

Deno.test("hash writes propagate when they change something; HINCRBYFLOAT as HSET", () => {
  const { run, stream } = propagation();
  run("HSET", "h", "a", "1", "f", "1.5");
  run("HSETNX", "h", "a", "2");
  run("HDEL", "h", "missing");
  run("HDEL", "missing", "a");
  run("HINCRBY", "h", "a", "x");
  run("HINCRBYFLOAT", "h", "f", "0.25");
  run("HINCRBYFLOAT", "h", "a", "nan");
  run("HINCRBY", "h", "a", "2");
  run("HGET", "h", "a");
  run("HDEL", "h", "a", "f");
  assert.deepEqual(stream(), [
    ["SELECT", "0"],
    ["HSET", "h", "a", "1", "f", "1.5"],
    ["HSET", "h", "f", "1.75"],
    ["HINCRBY", "h", "a", "2"],
    ["HDEL", "h", "a", "f"],
  ]);
});
