/**
 * Seeded random sequences of hash, list, set and sorted set commands (with the key commands that
 * move, copy or inspect them, SORT, transactions and short blocking pops), sent alike to
 * redis-server and gocache over two connections each (one RESP2, one RESP3), every reply
 * compared, types included. A few keys shared by every type make the commands collide: WRONGTYPE
 * on each other's keys, pops that empty and delete keys, stores over keys of other types.
 *
 * Left out, because Redis's own answers depend on hash-table order or randomness: SPOP,
 * SRANDMEMBER, HRANDFIELD, ZRANDMEMBER, SSCAN/HSCAN/ZSCAN cursors over large collections, DUMP
 * (gocache writes the plain RDB encodings, Redis listpacks: the bytes differ, the values not).
 * Replies listing a set's members (SMEMBERS, SUNION, SINTER, SDIFF) are compared as sorted
 * lists: Redis 7.0 keeps sets of strings in a hash table. A string's OBJECT ENCODING is not
 * compared (see stringEncoding).
 *
 * Every run replays REGRESSION_SEEDS and one new random seed named in the test's name;
 * GOCACHE_FUZZ_SEED=N picks it.
 */
import { mulberry32 } from "../../src/util/prng.ts";
import { type Arg, type ConnPair, type Shape, withBoth } from "./_diff.ts";

const STEPS = 2500;
const KEYS = ["a", "b", "c", "{t}1", "{t}2"];
const MEMBERS = ["", "0", "1", "-1", "10", "x", "y", "z", "1.5", "abc", "9223372036854775807"];
const SCORES = ["0", "1", "-1", "1.5", "-2.25", "inf", "-inf", "+inf", "nan", "x", "1e3", "(1"];
const INDEXES = ["0", "1", "2", "-1", "-2", "5", "-100", "100", "x"];
const COUNTS = ["0", "1", "2", "3", "-1", "-3", "100", "x"];
/**
 * The sorted set the lex-range commands use, whose members all have score 0: Redis documents
 * lex ranges over mixed scores as unspecified (its answer then depends on its encoding, and for
 * a skiplist on the node levels it drew).
 */
const LEX_KEY = "lex";
const LEX = ["-", "+", "[a", "(a", "[x", "(z", "a", "[", "(", "[0"];
const RANGES = ["-inf", "+inf", "0", "1", "(1", "-1", "(-inf", "2.5", "x"];

/** Commands whose array replies list set members in hash order: compared sorted. */
const SET_LISTINGS = new Set(["SMEMBERS", "SUNION", "SINTER", "SDIFF"]);

function sortItems(shape: Shape): Shape {
  if (shape.type !== "array" && shape.type !== "set") return shape;
  const items = [...shape.items].sort((a, b) =>
    JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0
  );
  return { type: "array", items };
}

/**
 * A string's OBJECT ENCODING as one word: gocache derives it from the bytes, where Redis
 * remembers that APPEND wrote the value (see encodingOf in src/commands/keys.ts).
 */
function stringEncoding(shape: Shape): Shape {
  if (shape.type !== "bulk" || !["int", "embstr", "raw"].includes(shape.value)) return shape;
  return { type: "bulk", value: "(a string encoding)" };
}

/** EXEC's array with each set listing inside sorted (the queued commands are remembered). */
function normalizerFor(command: Arg[], queued: Arg[][]): ((s: Shape) => Shape) | undefined {
  const name = String(command[0]).toUpperCase();
  if (SET_LISTINGS.has(name)) return sortItems;
  if (name === "OBJECT") return stringEncoding;
  if (name === "EXEC") {
    return (shape) => {
      if (shape.type !== "array") return shape;
      return {
        type: "array",
        items: shape.items.map((item, i) => {
          const queuedName = String(queued[i]?.[0]).toUpperCase();
          if (SET_LISTINGS.has(queuedName)) return sortItems(item);
          return queuedName === "OBJECT" ? stringEncoding(item) : item;
        }),
      };
    };
  }
  return undefined;
}

/**
 * Seeds that once found a difference, replayed on every run (about a second each):
 * - 583541371: SORT_RO left a listpack sorted set unconverted, where Redis's SORT converts it
 *   to a skiplist (found before LEX_KEY joined the vocabulary, so it now draws another sequence).
 * A seed draws the same sequence only while the vocabulary stays as it is.
 */
const REGRESSION_SEEDS: readonly number[] = [583541371];

function seedFromEnv(): number {
  const text = Deno.env.get("GOCACHE_FUZZ_SEED");
  return text === undefined || text === ""
    ? (Math.random() * 0x100000000) >>> 0
    : Number(text) >>> 0;
}

/** Builds one random command from the vocabulary. */
function commandMaker(random: () => number): () => Arg[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const key = () => pick(KEYS);
  const member = () => pick(MEMBERS);
  const some = (make: () => Arg[], max = 3) => {
    const out: Arg[] = [];
    for (let n = 1 + Math.floor(random() * max); n > 0; n--) out.push(...make());
    return out;
  };
  const makers: (() => Arg[])[] = [
    () => ["HSET", key(), ...some(() => [member(), member()])],
    () => ["HSETNX", key(), member(), member()],
    () => ["HGET", key(), member()],
    () => ["HMGET", key(), member(), member()],
    () => ["HDEL", key(), ...some(() => [member()])],
    () => ["HGETALL", key()],
    () => ["HKEYS", key()],
    () => ["HVALS", key()],
    () => ["HLEN", key()],
    () => ["HEXISTS", key(), member()],
    () => ["HSTRLEN", key(), member()],
    () => ["HINCRBY", key(), member(), pick(COUNTS)],
    () => ["HINCRBYFLOAT", key(), member(), pick(SCORES)],
    () => [pick(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]), key(), ...some(() => [member()])],
    () => [pick(["LPOP", "RPOP"]), key(), ...(random() < 0.5 ? [] : [pick(COUNTS)])],
    () => ["LRANGE", key(), pick(INDEXES), pick(INDEXES)],
    () => ["LINDEX", key(), pick(INDEXES)],
    () => ["LSET", key(), pick(INDEXES), member()],
    () => ["LINSERT", key(), pick(["BEFORE", "AFTER", "x"]), member(), member()],
    () => ["LREM", key(), pick(COUNTS), member()],
    () => ["LTRIM", key(), pick(INDEXES), pick(INDEXES)],
    () => ["LPOS", key(), member(), ...pick([[], ["RANK", "-1"], ["COUNT", "0"], ["MAXLEN", "2"]])],
    () => ["LMOVE", key(), key(), pick(["LEFT", "RIGHT"]), pick(["LEFT", "RIGHT"])],
    () => ["RPOPLPUSH", key(), key()],
    () => ["LMPOP", "2", key(), key(), pick(["LEFT", "RIGHT"]), "COUNT", pick(["1", "2", "0"])],
    () => ["LLEN", key()],
    () => ["BLPOP", key(), key(), "0.01"],
    () => ["SADD", key(), ...some(() => [member()])],
    () => ["SREM", key(), ...some(() => [member()])],
    () => ["SMEMBERS", key()],
    () => ["SISMEMBER", key(), member()],
    () => ["SMISMEMBER", key(), member(), member()],
    () => ["SCARD", key()],
    () => ["SMOVE", key(), key(), member()],
    () => [pick(["SINTER", "SUNION", "SDIFF"]), key(), key()],
    () => [pick(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), key(), key(), key()],
    () => ["SINTERCARD", "2", key(), key(), ...(random() < 0.5 ? [] : ["LIMIT", pick(COUNTS)])],
    () => [
      "ZADD",
      key(),
      ...(random() < 0.3 ? [pick(["NX", "XX", "GT", "LT", "CH", "INCR"])] : []),
      ...some(() => [pick(SCORES), member()]),
    ],
    () => ["ZINCRBY", key(), pick(SCORES), member()],
    () => ["ZREM", key(), ...some(() => [member()])],
    () => ["ZSCORE", key(), member()],
    () => ["ZMSCORE", key(), member(), member()],
    () => [pick(["ZRANK", "ZREVRANK"]), key(), member()],
    () => ["ZCARD", key()],
    () => ["ZCOUNT", key(), pick(RANGES), pick(RANGES)],
    () => ["ZADD", LEX_KEY, "0", member()],
    () => ["ZLEXCOUNT", LEX_KEY, pick(LEX), pick(LEX)],
    () => ["ZRANGE", key(), pick(INDEXES), pick(INDEXES), ...pick([[], ["WITHSCORES"], ["REV"]])],
    () => ["ZRANGE", key(), pick(RANGES), pick(RANGES), "BYSCORE", "LIMIT", "0", pick(COUNTS)],
    () => ["ZRANGEBYLEX", LEX_KEY, pick(LEX), pick(LEX)],
    () => ["ZREVRANGEBYSCORE", key(), pick(RANGES), pick(RANGES), "WITHSCORES"],
    () => ["ZRANGESTORE", key(), key(), pick(INDEXES), pick(INDEXES)],
    () => [pick(["ZPOPMIN", "ZPOPMAX"]), key(), ...(random() < 0.5 ? [] : [pick(COUNTS)])],
    () => ["ZMPOP", "2", key(), key(), pick(["MIN", "MAX"])],
    () => [pick(["ZREMRANGEBYRANK"]), key(), pick(INDEXES), pick(INDEXES)],
    () => ["ZREMRANGEBYSCORE", key(), pick(RANGES), pick(RANGES)],
    () => ["ZREMRANGEBYLEX", LEX_KEY, pick(LEX), pick(LEX)],
    () => [
      pick(["ZUNIONSTORE", "ZINTERSTORE"]),
      key(),
      "2",
      key(),
      key(),
      ...pick([[], ["WEIGHTS", "2", "-1"], ["AGGREGATE", pick(["MIN", "MAX", "SUM"])]]),
    ],
    () => [pick(["ZUNION", "ZINTER", "ZDIFF"]), "2", key(), key(), "WITHSCORES"],
    () => ["ZDIFFSTORE", key(), "2", key(), key()],
    () => ["ZINTERCARD", "2", key(), key()],
    () => [
      "SORT",
      key(),
      ...pick([[], ["DESC"], ["ALPHA"], ["LIMIT", "1", "2"], ["ALPHA", "DESC"]]),
    ],
    () => ["SORT", key(), "ALPHA", "STORE", key()],
    () => ["SORT_RO", key(), "ALPHA", "LIMIT", pick(INDEXES), pick(COUNTS)],
    () => ["TYPE", key()],
    () => ["OBJECT", "ENCODING", key()],
    () => ["EXISTS", key()],
    () => ["DEL", key()],
    () => ["RENAME", key(), key()],
    () => ["COPY", key(), key(), ...(random() < 0.5 ? ["REPLACE"] : [])],
    () => ["SET", key(), member()],
    () => ["GET", key()],
    () => ["APPEND", key(), member()],
    () => ["EXPIRE", key(), "100000"],
    () => ["MULTI"],
    () => ["EXEC"],
    () => ["DISCARD"],
    () => ["WATCH", key()],
  ];
  return () => pick(makers)();
}

/** Runs the STEPS commands drawn from `seed` on both servers, comparing every reply. */
async function runSequence(seed: number): Promise<void> {
  const random = mulberry32(seed);
  const next = commandMaker(random);
  await withBoth({}, async (both) => {
    await using main = await both.connect();
    await using other = await both.connect();
    await other.call("HELLO", "3");
    const queued = new Map<ConnPair, Arg[][] | null>([[main, null], [other, null]]);
    for (let step = 0; step < STEPS; step++) {
      const conn: ConnPair = random() < 0.85 ? main : other;
      const command = next();
      const name = String(command[0]).toUpperCase();
      const inMulti = queued.get(conn) ?? null;
      await conn.assertSame(command, {
        message: `seed ${seed}, step ${step}: ${JSON.stringify(command)} on the ` +
          `${conn === main ? "main" : "other"} connection`,
        normalize: normalizerFor(command, inMulti ?? []),
      });
      if (name === "MULTI" && inMulti === null) queued.set(conn, []);
      else if (name === "EXEC" || name === "DISCARD") queued.set(conn, null);
      else if (inMulti !== null && name !== "MULTI" && name !== "WATCH") inMulti.push(command);
    }
    await main.assertSame(["DISCARD"]);
    for (const k of KEYS) {
      await main.assertSame(["TYPE", k], { message: `seed ${seed}: the final type of ${k}` });
    }
  });
}

const NAME = "random collection command sequences answer exactly like redis-server";

for (const seed of REGRESSION_SEEDS) {
  Deno.test(`${NAME} (regression seed ${seed})`, () => runSequence(seed));
}

const randomSeed = seedFromEnv();
Deno.test(
  `${NAME} (new seed ${randomSeed}; GOCACHE_FUZZ_SEED=${randomSeed} replays it)`,
  () => runSequence(randomSeed),
);
