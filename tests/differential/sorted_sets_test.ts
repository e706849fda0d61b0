/**
 * The sorted set commands against redis-server: every command's normal cases, options and error
 * texts in Redis's order of checks, in RESP2 and RESP3, scores written byte for byte, encodings,
 * and the random commands by their properties.
 */
import assert from "node:assert/strict";
import {
  type Arg,
  type ConnPair,
  infoSummary,
  itemsOf,
  script,
  type Shape,
  stepsFromEmpty,
  withBoth,
} from "./_diff.ts";

const COMMANDS = [
  "zadd",
  "zincrby",
  "zrem",
  "zcard",
  "zcount",
  "zlexcount",
  "zscore",
  "zmscore",
  "zrank",
  "zrevrank",
  "zrange",
  "zrangestore",
  "zrevrange",
  "zrangebyscore",
  "zrevrangebyscore",
  "zrangebylex",
  "zrevrangebylex",
  "zremrangebyrank",
  "zremrangebyscore",
  "zremrangebylex",
  "zpopmin",
  "zpopmax",
  "zmpop",
  "zrandmember",
  "zunion",
  "zunionstore",
  "zinter",
  "zinterstore",
  "zintercard",
  "zdiff",
  "zdiffstore",
  "zscan",
];

/** A set with ties, infinities and binary members, in listpack encoding. */
const SEED: Arg[] = ["ZADD", "z", 1, "a", 2, "b", 2, "c", 3.5, "d", "-inf", "m", "+inf", "p"];

/**
 * Every range command over a grid of bounds. Lex ranges only on `lexKey`, whose members share
 * one score: Redis leaves lex ranges over different scores unspecified.
 */
function rangeGrid(key: string, lexKey = "same"): Arg[][] {
  const commands: Arg[][] = [];
  for (const [lo, hi] of [[0, -1], [1, 2], [-2, -1], [-100, 100], [3, 1], [5, 10], [0, 0]]) {
    commands.push(["ZRANGE", key, lo, hi], ["ZRANGE", key, lo, hi, "WITHSCORES"]);
    commands.push(["ZRANGE", key, lo, hi, "REV", "WITHSCORES"], ["ZREVRANGE", key, lo, hi]);
    commands.push(["ZREVRANGE", key, lo, hi, "WITHSCORES"]);
  }
  const scores = ["-inf", "+inf", "(1", "2", "(2", "3.5", "(3.5", "0", "inf", "(-inf"];
  for (const lo of scores) {
    for (const hi of scores) {
      commands.push(["ZRANGEBYSCORE", key, lo, hi, "WITHSCORES"], ["ZCOUNT", key, lo, hi]);
      commands.push(["ZREVRANGEBYSCORE", key, hi, lo], ["ZRANGE", key, lo, hi, "BYSCORE"]);
    }
  }
  const lexes = ["-", "+", "[a", "(a", "[b", "(c", "[z", "(", "["];
  for (const lo of lexes) {
    for (const hi of lexes) {
      commands.push(["ZRANGEBYLEX", lexKey, lo, hi], ["ZLEXCOUNT", lexKey, lo, hi]);
      commands.push(["ZREVRANGEBYLEX", lexKey, hi, lo], ["ZRANGE", lexKey, hi, lo, "BYLEX", "REV"]);
    }
  }
  for (const [offset, count] of [[0, 1], [1, 2], [0, -1], [-1, 1], [2, 0], [10, 1], [1, -5]]) {
    commands.push(["ZRANGEBYSCORE", key, "-inf", "+inf", "LIMIT", offset, count]);
    commands.push(["ZREVRANGEBYSCORE", key, "+inf", "-inf", "WITHSCORES", "LIMIT", offset, count]);
    commands.push(["ZRANGEBYLEX", lexKey, "-", "+", "LIMIT", offset, count]);
    commands.push(["ZRANGE", lexKey, "+", "-", "BYLEX", "REV", "LIMIT", offset, count]);
  }
  return commands;
}

/** Sorts the items of an array reply (random commands answer in any order). */
function sortedItems(shape: Shape): Shape[] {
  return [...itemsOf(shape)].sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
}

async function bothProtocols(c: ConnPair, body: () => Promise<void>): Promise<void> {
  await body();
  // HELLO itself differs (server name and version): only the protocol switch matters here.
  await c.call("HELLO", 3);
  await body();
  await c.call("HELLO", 2);
}

Deno.test("sorted set commands answer exactly like redis-server", async (t) => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();
    const step = stepsFromEmpty(t, c);

    await step("COMMAND INFO of every sorted set command agrees with Redis", async () => {
      for (const name of COMMANDS) {
        const { redis, gocache } = await c.call("COMMAND", "INFO", name);
        assert.deepEqual(infoSummary(itemsOf(gocache)[0]), infoSummary(itemsOf(redis)[0]), name);
      }
      for (
        const args of [
          ["ZUNIONSTORE", "d", 2, "a", "b", "WEIGHTS", 1, 2],
          ["ZINTER", 2, "a", "b"],
          ["ZMPOP", 2, "a", "b", "MIN"],
          ["ZINTERCARD", 1, "a", "LIMIT", 1],
          ["ZRANGESTORE", "d", "s", 0, 1],
        ]
      ) await c.assertSame(["COMMAND", "GETKEYS", ...args]);
    });

    await step("ZADD with every option and option conflict", async () => {
      await bothProtocols(c, () =>
        script(c, [
          ["DEL", "z", "e"],
          ["ZADD", "z", 1, "a", 2, "b"],
          ["ZADD", "z", "NX", 5, "a", 3, "c"],
          ["ZADD", "z", "XX", 5, "a", 4, "d"],
          ["ZADD", "z", "XX", "CH", 6, "a", 4, "d"],
          ["ZADD", "z", "GT", "CH", 1, "a", 7, "b"],
          ["ZADD", "z", "LT", "CH", 1, "a", 9, "b"],
          ["ZADD", "z", "CH", 1, "a", 1, "b", 3, "x"],
          ["ZADD", "z", "INCR", 2.5, "a"],
          ["ZADD", "z", "INCR", "NX", 2.5, "a"],
          ["ZADD", "z", "INCR", "XX", 2.5, "new"],
          ["ZADD", "z", "INCR", "GT", -1, "a"],
          ["ZADD", "z", "INCR", "LT", -1, "a"],
          ["ZADD", "z", "INCR", 0, "a"],
          ["ZADD", "z", "xx", "nx", 1, "a"],
          ["ZADD", "z", "gt", "lt", 1, "a"],
          ["ZADD", "z", "gt", "nx", 1, "a"],
          ["ZADD", "z", "lt", "nx", 1, "a"],
          ["ZADD", "z", "incr", 1, "a", 2, "b"],
          ["ZADD", "z", 1, "a", 2],
          ["ZADD", "z", "ch", "nx"],
          ["ZADD", "z", "ch"],
          ["ZADD", "z", "nan", "a"],
          ["ZADD", "z", " 1", "a"],
          ["ZADD", "z", "1 ", "a"],
          ["ZADD", "z", "", "a"],
          ["ZADD", "z", "1e400", "a"],
          ["ZADD", "z", "1e-400", "a"],
          ["ZADD", "z", "0x10", "hex", "1e-310", "tiny", "-0", "negzero", "+Inf", "i"],
          ["ZADD", "e", "XX", 1, "a"],
          ["ZADD", "e", "XX", "INCR", 1, "a"],
          ["EXISTS", "e"],
          ["ZADD", "z", "INCR", "-inf", "i"],
          ["ZINCRBY", "z", "-inf", "i"],
          ["ZINCRBY", "z", 1.5, "fresh"],
          ["ZINCRBY", "z", "x", "fresh"],
          ["ZINCRBY", "nokey", 2, "m"],
          ["ZRANGE", "z", 0, -1, "WITHSCORES"],
          ["SET", "s", "x"],
          ["ZADD", "s", 1, "a"],
          ["ZADD", "s", "x", "a"],
          ["ZINCRBY", "s", 1, "a"],
          ["ZADD", "z"],
          ["ZINCRBY", "z", 1],
        ]));
    });

    await step("scores are written as %.17g, byte for byte, in RESP2", async () => {
      await script(c, [["ZADD", "f", 1.1, "a", 0.1, "b", 1e17, "c", 1e-5, "d", "-0", "e"]]);
      await both.assertSameBytes([
        ["ZSCORE", "f", "a"],
        ["ZRANGE", "f", 0, -1, "WITHSCORES"],
        ["ZINCRBY", "f", 0.2, "b"],
        ["ZADD", "f", "INCR", 1e300, "c"],
        ["ZMSCORE", "f", "a", "nope", "d"],
        ["ZSCAN", "f", 0],
        ["ZPOPMIN", "f"],
        ["ZMPOP", 1, "f", "MAX", "COUNT", 2],
        ["ZUNION", 1, "f", "WEIGHTS", 3.3, "WITHSCORES"],
        ["CONFIG", "SET", "zset-max-listpack-entries", 0],
        ["ZADD", "g", "-0", "neg", 2.2, "x"],
        ["ZSCORE", "g", "neg"],
        ["ZRANGE", "g", 0, -1, "WITHSCORES"],
        ["CONFIG", "SET", "zset-max-listpack-entries", 128],
      ]);
    });

    await step("reads of one set, missing keys and missing members", async () => {
      await bothProtocols(c, () =>
        script(c, [
          ["DEL", "z"],
          SEED,
          ["ZCARD", "z"],
          ["ZCARD", "nokey"],
          ["ZSCORE", "z", "d"],
          ["ZSCORE", "z", "nope"],
          ["ZSCORE", "nokey", "d"],
          ["ZMSCORE", "z", "a", "nope", "p"],
          ["ZMSCORE", "nokey", "a", "b"],
          ["ZRANK", "z", "c"],
          ["ZREVRANK", "z", "c"],
          ["ZRANK", "z", "nope"],
          ["ZRANK", "nokey", "a"],
          ["ZREVRANK", "nokey", "a"],
          ["ZCOUNT", "nokey", 0, 1],
          ["ZCOUNT", "z", "x", 1],
          ["ZCOUNT", "nokey", "x", 1],
          ["ZCOUNT", "z", "(1", "((2"],
          ["ZCOUNT", "z", "", ""],
          ["ZCOUNT", "z", " 2", "3.5"],
          ["ZCOUNT", "z", "nan", 1],
          ["ZCOUNT", "z", "1e400", "-1e400"],
          ["ZLEXCOUNT", "z", "a", "b"],
          ["ZLEXCOUNT", "nokey", "-", "+"],
          ["ZLEXCOUNT", "z", "+x", "-"],
          ["SET", "s", "x"],
          ["ZCARD", "s"],
          ["ZSCORE", "s", "a"],
          ["ZMSCORE", "s", "a"],
          ["ZRANK", "s", "a"],
          ["ZCOUNT", "s", 0, 1],
          ["ZLEXCOUNT", "s", "-", "+"],
          ["ZRANGE", "s", 0, 1],
          ["ZSCAN", "s", 0],
          ["ZRANDMEMBER", "s"],
        ]));
    });

    await step("ranges by rank, score and lex over a grid, in both encodings", async () => {
      await script(c, [SEED, ["ZADD", "same", 0, "a", 0, "b", 0, "c", 0, "d", 0, "\xff"]]);
      await bothProtocols(c, () => script(c, [...rangeGrid("z"), ...rangeGrid("same")]));
      await script(c, [
        ["CONFIG", "SET", "zset-max-listpack-entries", 1],
        ["DEL", "z", "same"],
        SEED,
        ["ZADD", "same", 0, "a", 0, "b", 0, "c", 0, "d", 0, "\xff"],
        ["OBJECT", "ENCODING", "z"],
        ["CONFIG", "SET", "zset-max-listpack-entries", 128],
      ]);
      await script(c, [...rangeGrid("z"), ...rangeGrid("same")]);
    });

    await step("range option parsing and its errors", async () => {
      await script(c, [
        SEED,
        ["ZRANGE", "z", 0, -1, "REV", "LIMIT", 0, 1],
        ["ZRANGE", "z", 0, -1, "LIMIT", 0, 1],
        ["ZRANGE", "z", 0, -1, "LIMIT", 5, -1],
        ["ZRANGE", "z", 0, -1, "BYSCORE", "BYLEX"],
        ["ZRANGE", "z", 0, -1, "REV", "REV"],
        ["ZRANGE", "z", "x", 1],
        ["ZRANGE", "z", 0, "x"],
        ["ZRANGE", "z", "[a", "+", "BYLEX", "WITHSCORES"],
        ["ZRANGE", "z", 0, -1, "WITHSCORES", "WITHSCORES"],
        ["ZRANGE", "z", 0, -1, "foo"],
        ["ZRANGE", "z", "a", "b", "BYLEX"],
        ["ZRANGE", "z", "a", "b", "BYSCORE"],
        ["ZRANGE", "z", 0, 1, "LIMIT", 0],
        ["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 0],
        ["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "x", 1],
        ["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 1, 1, "LIMIT", 0, 5],
        ["ZRANGEBYSCORE", "z", "-inf", "+inf", "REV"],
        ["ZRANGEBYSCORE", "z", "-inf", "+inf", "BYSCORE"],
        ["ZRANGEBYLEX", "z", "-", "+", "WITHSCORES"],
        ["ZREVRANGE", "z", 0, 1, "LIMIT", 0, 1],
        ["ZREVRANGEBYLEX", "z", "-", "+", "BYLEX"],
        ["ZRANGE", "nokey", 0, -1],
        ["ZRANGE", "nokey", "x", -1],
        ["ZRANGEBYSCORE", "nokey", 0, 1, "WITHSCORES"],
        ["ZRANGE", "z", 0],
        ["ZRANGEBYLEX", "z", "-"],
      ]);
    });

    await step("ZRANGESTORE stores, replaces, deletes and picks the encoding", async () => {
      await script(c, [
        SEED,
        ["SET", "str", "x"],
        ["EXPIRE", "d", 100],
        ["ZRANGESTORE", "d", "z", 0, 2],
        ["ZRANGE", "d", 0, -1, "WITHSCORES"],
        ["OBJECT", "ENCODING", "d"],
        ["ZRANGESTORE", "d", "z", "(1", "+inf", "BYSCORE", "REV", "LIMIT", 1, 2],
        ["ZRANGE", "d", 0, -1, "WITHSCORES"],
        ["ZADD", "same", 0, "a", 0, "b", 0, "c", 0, "d"],
        ["ZRANGESTORE", "str", "same", "[a", "[c", "BYLEX"],
        ["TYPE", "str"],
        ["ZRANGESTORE", "d", "z", 0, -1, "WITHSCORES"],
        ["ZRANGESTORE", "d", "z", 10, 20],
        ["EXISTS", "d"],
        ["ZRANGESTORE", "d", "nokey", 0, -1],
        ["ZRANGESTORE", "d", "str", 0, -1],
        ["CONFIG", "SET", "zset-max-listpack-value", 3],
        ["ZADD", "long", 1, "abcdef", 2, "x"],
        ["OBJECT", "ENCODING", "long"],
        ["ZRANGESTORE", "d", "long", 1, 1],
        ["OBJECT", "ENCODING", "d"],
        ["ZRANGESTORE", "d", "long", 0, -1],
        ["OBJECT", "ENCODING", "d"],
        ["CONFIG", "SET", "zset-max-listpack-value", 64],
      ]);
    });

    await step("ZREM and ZREMRANGEBY* remove, count and delete emptied keys", async () => {
      await script(c, [
        SEED,
        ["ZREM", "z", "a", "nope", "a", "b"],
        ["ZREM", "nokey", "a"],
        ["ZREMRANGEBYRANK", "z", 0, 0],
        ["ZREMRANGEBYRANK", "z", 5, 10],
        ["ZREMRANGEBYRANK", "z", -1, -1],
        ["ZREMRANGEBYRANK", "z", "x", 1],
        ["ZREMRANGEBYRANK", "nokey", "x", 1],
        ["ZREMRANGEBYRANK", "nokey", 0, 1],
        ["ZRANGE", "z", 0, -1, "WITHSCORES"],
        SEED,
        ["ZREMRANGEBYSCORE", "z", "(1", 2],
        ["ZREMRANGEBYSCORE", "z", "x", 2],
        ["ZREMRANGEBYSCORE", "nokey", "x", 2],
        ["ZREMRANGEBYSCORE", "z", 5, 1],
        ["ZREMRANGEBYSCORE", "z", "-inf", "-inf"],
        ["ZREMRANGEBYLEX", "z", "x", "+"],
        ["ZREMRANGEBYLEX", "nokey", "x", "+"],
        ["ZRANGE", "z", 0, -1, "WITHSCORES"],
        ["ZADD", "lex", 0, "a", 0, "b", 0, "c"],
        ["ZREMRANGEBYLEX", "lex", "(a", "+"],
        ["ZREMRANGEBYLEX", "lex", "-", "+"],
        ["EXISTS", "lex"],
        ["ZREMRANGEBYSCORE", "z", "-inf", "+inf"],
        ["EXISTS", "z"],
        ["SET", "s", "x"],
        ["ZREM", "s", "a"],
        ["ZREMRANGEBYRANK", "s", 0, 1],
        ["ZREMRANGEBYSCORE", "s", "x", 1],
        ["ZREMRANGEBYLEX", "s", "-", "+"],
        ["ZREM", "z"],
      ]);
    });

    await step("ZPOPMIN, ZPOPMAX and ZMPOP in RESP2 and RESP3", async () => {
      await bothProtocols(c, () =>
        script(c, [
          ["DEL", "z", "y"],
          SEED,
          ["ZPOPMIN", "z"],
          ["ZPOPMAX", "z"],
          ["ZPOPMIN", "z", 2],
          ["ZPOPMAX", "z", 0],
          ["ZPOPMIN", "z", -1],
          ["ZPOPMIN", "z", "x"],
          ["ZPOPMIN", "z", 1, 2],
          ["ZPOPMIN", "nokey"],
          ["ZPOPMIN", "nokey", 3],
          ["ZPOPMAX", "z", 100],
          ["EXISTS", "z"],
          SEED,
          ["ZADD", "y", 5, "y1"],
          ["ZMPOP", 2, "nokey", "z", "MIN"],
          ["ZMPOP", 2, "nokey", "z", "max", "COUNT", 2],
          ["ZMPOP", 1, "nokey", "MIN"],
          ["ZMPOP", 0, "z", "MIN"],
          ["ZMPOP", -1, "z", "MIN"],
          ["ZMPOP", "x", "z", "MIN"],
          ["ZMPOP", 2, "z", "MIN"],
          ["ZMPOP", 5, "z", "MIN"],
          ["ZMPOP", 1, "z", "foo"],
          ["ZMPOP", 1, "z", "MIN", "COUNT", 0],
          ["ZMPOP", 1, "z", "MIN", "COUNT", -1],
          ["ZMPOP", 1, "z", "MIN", "COUNT", "x"],
          ["ZMPOP", 1, "z", "MIN", "COUNT", 1, "COUNT", 1],
          ["ZMPOP", 1, "z", "MIN", "COUNT"],
          ["ZMPOP", 1, "z", "MIN", "foo", 1],
          ["ZMPOP", 2, "z", "y", "MAX", "COUNT", 100],
          ["ZMPOP", 2, "z", "y", "MAX", "COUNT", 100],
          ["ZMPOP", 2, "z", "y", "MAX"],
          ["SET", "s", "x"],
          ["ZPOPMIN", "s"],
          ["ZMPOP", 2, "nokey", "s", "MIN"],
          ["ZMPOP", 2, "s", "y", "MIN"],
        ]));
    });

    await step("ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD", async () => {
      await script(c, [
        ["ZADD", "z1", 1, "a", 2, "b", 3, "c", "inf", "i"],
        ["ZADD", "z2", 10, "b", 20, "c", 30, "d", "-inf", "i"],
        ["SADD", "set", "a", "d", "x"],
        ["SET", "str", "x"],
      ]);
      const ops: Arg[][] = [];
      for (
        const keys of [["z1"], ["z1", "z2"], ["z2", "z1", "set"], ["z1", "nokey"], ["z1", "z1"]]
      ) {
        const n = keys.length;
        const weights = keys.map((_, i) => [2, -1, 0][i]);
        for (const op of ["ZUNION", "ZINTER"]) {
          ops.push([op, n, ...keys], [op, n, ...keys, "WITHSCORES"]);
          for (const agg of ["SUM", "MIN", "MAX"]) {
            ops.push([op, n, ...keys, "WEIGHTS", ...weights, "AGGREGATE", agg, "WITHSCORES"]);
          }
          ops.push([op + "STORE", "dst", n, ...keys, "AGGREGATE", "max"]);
          ops.push(["ZRANGE", "dst", 0, -1, "WITHSCORES"], ["OBJECT", "ENCODING", "dst"]);
        }
        ops.push(["ZDIFF", n, ...keys, "WITHSCORES"], ["ZDIFFSTORE", "dst", n, ...keys]);
        ops.push(["ZRANGE", "dst", 0, -1, "WITHSCORES"], ["EXISTS", "dst"]);
        ops.push(["ZINTERCARD", n, ...keys], ["ZINTERCARD", n, ...keys, "LIMIT", 1]);
        ops.push(["ZINTERCARD", n, ...keys, "LIMIT", 0]);
      }
      await bothProtocols(c, () =>
        script(c, [
          ...ops,
          ["ZUNION", 1, "z1", "WEIGHTS", "nan"],
          ["ZINTER", 1, "z1", "WEIGHTS", "inf", "WITHSCORES"],
          ["ZINTER", 1, "z1", "WEIGHTS", 0, "WITHSCORES"],
          ["ZUNION", 2, "z1", "z2", "WEIGHTS", "inf", "-inf", "WITHSCORES"],
          ["ZINTERSTORE", "dst", 0, "z1"],
          ["ZINTERSTORE", "dst", -1, "z1"],
          ["ZINTERSTORE", "dst", 2, "z1"],
          ["ZUNION", 1, "z1", "WEIGHTS", 1, 2],
          ["ZUNION", 1, "z1", "WEIGHTS", "x"],
          ["ZUNION", 1, "z1", "AGGREGATE", "foo"],
          ["ZUNION", 1, "z1", "AGGREGATE"],
          ["ZUNION", 1, "z1", "WITHSCORES", "foo"],
          ["ZUNIONSTORE", "dst", 1, "z1", "WITHSCORES"],
          ["ZINTER", 0, "z1"],
          ["ZDIFF", 0, "z1"],
          ["ZUNION", 0, "z1"],
          ["ZDIFF", 1, "z1", "WEIGHTS", 1],
          ["ZDIFF", 1, "z1", "AGGREGATE", "sum"],
          ["ZINTERCARD", 0, "z1"],
          ["ZINTERCARD", 1, "z1", "LIMIT", -1],
          ["ZINTERCARD", 1, "z1", "LIMIT", "x"],
          ["ZINTERCARD", 1, "z1", "WITHSCORES"],
          ["ZINTERCARD", 2, "z1"],
          ["ZINTERCARD", "x", "z1"],
          ["ZUNION", "x", "z1"],
          ["ZUNION", 999999999999, "z1"],
          ["ZUNION", 2, "z1", "str"],
          ["ZUNION", 2, "z1", "str", "foo"],
          ["ZINTERSTORE", "dst", 2, "str", "z1"],
          ["ZDIFF", 2, "nokey", "str"],
          ["ZUNIONSTORE", "dst", 1, "nokey"],
          ["EXISTS", "dst"],
          ["ZUNIONSTORE", "str", 1, "z1"],
          ["TYPE", "str"],
          ["SET", "str", "x"],
        ]));
    });

    await step("ZSCAN of listpack sets, MATCH, COUNT and cursor errors", async () => {
      await bothProtocols(c, () =>
        script(c, [
          SEED,
          ["ZSCAN", "z", 0],
          ["ZSCAN", "z", 0, "MATCH", "[a-c]"],
          ["ZSCAN", "z", 0, "COUNT", 1],
          ["ZSCAN", "z", 0, "COUNT", 0],
          ["ZSCAN", "z", 0, "COUNT", "x"],
          ["ZSCAN", "z", 0, "MATCH"],
          ["ZSCAN", "z", 0, "TYPE", "zset"],
          ["ZSCAN", "z", "x"],
          ["ZSCAN", "nokey", 0],
          ["ZSCAN", "nokey", "x"],
        ]));
    });

    await step("ZSCAN of a skiplist set returns every member with its score", async () => {
      const add: Arg[] = ["ZADD", "big"];
      for (let i = 0; i < 300; i++) add.push(i % 7, `m${i}`);
      await c.assertSame(add);
      for (const conn of [c.redis, c.gocache]) {
        const seen = new Map<string, string>();
        let cursor = "0";
        do {
          const reply = await conn.call("ZSCAN", "big", cursor, "COUNT", 25) as unknown[];
          cursor = new TextDecoder().decode(reply[0] as Uint8Array);
          const items = reply[1] as Uint8Array[];
          for (let i = 0; i < items.length; i += 2) {
            seen.set(new TextDecoder().decode(items[i]), new TextDecoder().decode(items[i + 1]));
          }
        } while (cursor !== "0");
        assert.equal(seen.size, 300);
        assert.equal(seen.get("m8"), "1");
      }
    });

    await step("ZRANDMEMBER answers with members of the set, by its count rules", async () => {
      await script(c, [
        SEED,
        ["ZRANDMEMBER", "z", "x"],
        ["ZRANDMEMBER", "z", 1, "WITHSCORES", "x"],
        ["ZRANDMEMBER", "z", 1, "foo"],
        ["ZRANDMEMBER", "z", "-9223372036854775808"],
        ["ZRANDMEMBER", "z", "4611686018427387904", "WITHSCORES"],
        ["ZRANDMEMBER", "z", "-4611686018427387904", "WITHSCORES"],
        ["ZRANDMEMBER", "z", 0],
        ["ZRANDMEMBER", "nokey"],
        ["ZRANDMEMBER", "nokey", 5],
        ["ZRANDMEMBER", "nokey", -5, "WITHSCORES"],
      ]);
      await bothProtocols(c, async () => {
        for (const args of [["ZRANDMEMBER", "z", 6], ["ZRANDMEMBER", "z", 100, "WITHSCORES"]]) {
          const { redis, gocache } = await c.call(...args);
          assert.deepEqual(sortedItems(gocache), sortedItems(redis));
        }
        for (const count of [-10, 3, 1, -1]) {
          const { redis, gocache } = await c.call("ZRANDMEMBER", "z", count, "WITHSCORES");
          assert.equal(itemsOf(gocache).length, itemsOf(redis).length, String(count));
        }
        const distinct = await c.gocache.call("ZRANDMEMBER", "z", 4) as Uint8Array[];
        assert.equal(new Set(distinct.map((m) => m.join())).size, 4);
        const one = await c.call("ZRANDMEMBER", "z");
        assert.equal(one.gocache.type, "bulk");
      });
    });

    await step("encodings follow zset-max-listpack-entries and -value", async () => {
      await script(c, [
        ["CONFIG", "SET", "zset-max-listpack-entries", 3],
        ["CONFIG", "SET", "zset-max-listpack-value", 4],
        ["ZADD", "a", 1, "x", 2, "y", 3, "z"],
        ["OBJECT", "ENCODING", "a"],
        ["ZADD", "a", 4, "w"],
        ["OBJECT", "ENCODING", "a"],
        ["ZREM", "a", "w", "z"],
        ["OBJECT", "ENCODING", "a"],
        ["ZADD", "b", 1, "short"],
        ["OBJECT", "ENCODING", "b"],
        ["ZUNIONSTORE", "u", 1, "a"],
        ["OBJECT", "ENCODING", "u"],
        ["ZUNIONSTORE", "u", 1, "b"],
        ["OBJECT", "ENCODING", "u"],
        ["CONFIG", "SET", "zset-max-listpack-entries", 128],
        ["CONFIG", "SET", "zset-max-listpack-value", 64],
      ]);
    });

    await step("writes propagate only when they change the set (keyspace events)", async () => {
      await using sub = await both.connect();
      await script(c, [["CONFIG", "SET", "notify-keyspace-events", "KEA"]]);
      await sub.assertSame(["PSUBSCRIBE", "__keyevent@0__:*"]);
      const commands: Arg[][] = [
        ["ZADD", "k", 1, "a", 2, "b"],
        ["ZADD", "k", "NX", 5, "a"],
        ["ZINCRBY", "k", 1, "a"],
        ["ZREM", "k", "nope"],
        ["ZREM", "k", "a"],
        ["ZPOPMIN", "k"],
        ["ZADD", "k", 1, "a", 2, "b", 3, "c"],
        ["ZREMRANGEBYSCORE", "k", 1, 1],
        ["ZREMRANGEBYRANK", "k", 0, 0],
        ["ZREMRANGEBYLEX", "k", "-", "+"],
        ["ZADD", "k", 1, "a"],
        ["ZUNIONSTORE", "u", 1, "k"],
        ["ZRANGESTORE", "r", "k", 0, -1],
        ["ZRANGESTORE", "r", "k", 5, 6],
        ["ZMPOP", 1, "k", "MAX"],
        ["SET", "end", "x"],
      ];
      await script(c, commands);
      const events: Shape[] = [];
      for (;;) {
        const { redis, gocache } = await sub.read();
        assert.deepEqual(gocache, redis);
        events.push(redis);
        const items = itemsOf(redis);
        if (items[3].type === "bulk" && items[3].value === "end") break;
      }
      assert.ok(events.length > 10);
      await script(c, [["CONFIG", "SET", "notify-keyspace-events", ""]]);
    });
  });
});
