/**
 * Seeded random sequences of string and key commands, transactions and WATCH, sent alike to
 * redis-server and gocache over two connections each (one RESP2, one RESP3), every reply
 * compared (types included).
 * The commands draw from a few keys and awkward values (empty, signed, huge, float-like,
 * padded), so that they collide: INCR on text, APPEND to counters, ranges past the end, NX/XX
 * on keys that come and go, EXEC after the other connection touched a watched key, wrong
 * arity. Every run replays the seeds in REGRESSION_SEEDS and one new random seed, named in the
 * test's name; GOCACHE_FUZZ_SEED=N takes N for the random one (`--filter "seed N"` runs it alone).
 * A failure names the seed and the step.
 *
 * DBSIZE is left out: it counts keys whose absolute expiry is past but that no command has
 * looked at yet, until each server's active expiry cycle removes them, at its own moment.
 * OBJECT ENCODING is left out: gocache derives it from the value's bytes, where Redis remembers
 * that APPEND, SETRANGE or INCRBYFLOAT wrote it (see encodingOf in src/commands/keys.ts).
 */
import { dumpString, restoreString } from "../../src/persistence/rdb/dump.ts";
import { mulberry32 } from "../../src/util/prng.ts";
import { type Arg, type ConnPair, type Shape, showBytes, unshow, withBoth } from "./_diff.ts";

const STEPS = 3000;
const KEYS = ["a", "b", "c", "{t}1", "{t}2"];
const VALUES = [
  "",
  "0",
  "1",
  "-1",
  "10",
  "007",
  " 5",
  "5 ",
  "+3",
  "1.5",
  "-0.25",
  "3e2",
  "inf",
  "9223372036854775807",
  "-9223372036854775808",
  "9223372036854775808",
  "abc",
  "x\r\ny\0z",
];
const INTEGERS = ["0", "1", "-1", "7", "-100", "9223372036854775807", "x", "1.0", ""];
const FLOATS = ["0", "1.5", "-2.25", "1e3", "inf", "nan", "abc", "0.1", "-0"];
const OFFSETS = ["0", "1", "2", "-1", "-3", "100", "-100", "x"];
/** Expiry arguments: long enough never to lapse during the test (100 s even as PX), or invalid. */
const TTLS = [
  "100000",
  "0",
  "-1",
  "x",
  "4102444800",
  "4102444800000",
  "9223372036854775807",
];
const GETEX_OPTIONS = [
  [],
  ["PERSIST"],
  ["EX", "100"],
  ["EX", "0"],
  ["PX", "x"],
  ["EXAT", "4102444800"],
  ["PERSIST", "EX", "1"],
  ["EX"],
];
/** Bit offsets: small ones, invalid ones, and the first past Redis's 512 MB limit. */
const BIT_OFFSETS = ["0", "1", "7", "8", "15", "31", "100", "-1", "x", "4294967296"];
const BIT_RANGES = [
  [],
  ["0", "-1"],
  ["1", "2"],
  ["-2", "-1"],
  ["-1", "-2"],
  ["5", "3"],
  ["0", "-1", "BIT"],
  ["3", "20", "BIT"],
  ["-9", "-2", "bit"],
  ["1", "1", "BYTE"],
  ["0", "-1", "WORD"],
  ["x", "1"],
  ["0", "x"],
  ["2"],
  ["-3"],
  ["0", "5", "BIT", "extra"],
];
const BITOP_MORE = [[], ["a"], ["b", "c"]];
const EXPIRE_NX_XX = [[], ["NX"], ["XX"]];
/** DUMP payloads of some of the values (byte for byte what redis-server 7.0 writes), one spoilt. */
const PAYLOADS: Uint8Array[] = ["", "10", "abc", "x\r\ny\0z", "9223372036854775808"].map((v) =>
  dumpString(Uint8Array.from(v, (ch) => ch.charCodeAt(0)), true)
);
PAYLOADS.push(PAYLOADS[2].map((b, i) => i === 2 ? b ^ 1 : b));
const RESTORE_OPTIONS = [[], ["REPLACE"], ["REPLACE", "ABSTTL"], ["ABSTTL"], ["IDLETIME", "5"]];
const LCS_OPTIONS = [[], ["LEN"], ["IDX"], ["IDX", "MINMATCHLEN", "1", "WITHMATCHLEN"], [
  "LEN",
  "IDX",
]];

/**
 * A DUMP reply, alone or inside EXEC's array, as the value it holds: values over 20 bytes are
 * LZF-compressed, and Redis's compressor finds other matches than ours, so their payload bytes
 * differ. A bulk reply is taken for a payload when its footer's CRC-64 checks out.
 */
function dumpedValue(shape: Shape): Shape {
  if (shape.type === "array") return { type: "array", items: shape.items.map(dumpedValue) };
  if (shape.type !== "bulk") return shape;
  const payload = Uint8Array.from(unshow(shape.value), (ch) => ch.charCodeAt(0));
  try {
    return { type: "bulk", value: showBytes(restoreString(payload, 1 << 20)) };
  } catch {
    return shape;
  }
}

/**
 * Seeds that once found a difference, replayed on every run (about a second each). Add every
 * seed that finds one, with its commit:
 * - 165: DBSIZE compared while one server's active expiry had removed a key (2cead87);
 * - 269: EXPIRE ... GT/LT with relative TTLs given a few ms apart (f6dbc63);
 * - 438: DUMP inside EXEC's array, whose LZF payloads differ (08a4edd).
 * A seed draws the same sequence only while the vocabulary below (makers and value lists) stays
 * as it was: 165 and 269 were found before DUMP and RESTORE joined it (54064bd), so they now
 * draw other sequences. Check that a new seed still fails before the fix that it pins.
 */
const REGRESSION_SEEDS: readonly number[] = [165, 269, 438];

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
  const value = () => pick(VALUES);
  const makers: (() => Arg[])[] = [
    () => ["SET", key(), value()],
    () => ["SET", key(), value(), pick(["NX", "XX", "GET", "KEEPTTL"])],
    () => ["SET", key(), value(), "NX", "XX"],
    () => ["SET", key(), value(), "XX", "GET"],
    () => ["GET", key()],
    () => ["GETSET", key(), value()],
    () => ["GETDEL", key()],
    () => ["SETNX", key(), value()],
    () => ["STRLEN", key()],
    () => ["APPEND", key(), value()],
    () => ["INCR", key()],
    () => ["DECR", key()],
    () => ["INCRBY", key(), pick(INTEGERS)],
    () => ["DECRBY", key(), pick(INTEGERS)],
    () => ["INCRBYFLOAT", key(), pick(FLOATS)],
    () => ["GETRANGE", key(), pick(OFFSETS), pick(OFFSETS)],
    () => ["SETRANGE", key(), pick(["0", "1", "3", "-1", "x"]), value()],
    () => ["MSET", key(), value(), key(), value()],
    () => ["MSETNX", key(), value(), key(), value()],
    () => ["MGET", key(), key(), key()],
    () => ["DEL", key(), key()],
    () => ["UNLINK", key()],
    () => ["EXISTS", key(), key(), key()],
    () => ["TYPE", key()],
    () => ["RENAME", key(), key()],
    () => ["RENAMENX", key(), key()],
    () => ["COPY", key(), key(), ...(random() < 0.5 ? ["REPLACE"] : [])],
    () => [pick(["EXPIRE", "PEXPIRE"]), key(), pick(["1000000", "x", "-1"]), ...pick(EXPIRE_NX_XX)],
    // GT and LT against absolute times only: two relative TTLs given a few ms apart compare
    // by when each server ran them.
    () => [
      "EXPIREAT",
      key(),
      pick(["4102444800", "4102444900", "100", "x"]),
      ...(random() < 0.5 ? [] : [pick(["NX", "XX", "GT", "LT"])]),
    ],
    () => ["PERSIST", key()],
    () => ["SET", key(), value(), pick(["EX", "PX", "EXAT", "PXAT"]), pick(TTLS)],
    () => [
      "SET",
      key(),
      value(),
      pick(["EX", "PX"]),
      "100000",
      pick(["NX", "XX", "GET", "KEEPTTL"]),
    ],
    () => ["GETEX", key(), ...pick(GETEX_OPTIONS)],
    () => [pick(["SETEX", "PSETEX"]), key(), pick(TTLS), value()],
    () => ["LCS", key(), key(), ...pick(LCS_OPTIONS)],
    () => ["SUBSTR", key(), pick(OFFSETS), pick(OFFSETS)],
    () => ["SETRANGE", key(), "536870912", "x"],
    () => ["SELECT", pick(["0", "1", "1", "16", "x"])],
    () => ["MOVE", key(), pick(["0", "1", "x"])],
    () => ["SWAPDB", "0", pick(["1", "0", "99"])],
    () => ["TOUCH", key(), key()],
    () => ["ECHO", value()],
    () => ["PING", ...(random() < 0.5 ? [] : [value()])],
    () => ["MSET", key()],
    () => ["DUMP", key()],
    () => [
      "RESTORE",
      key(),
      pick(["0", "100000", "x", "-1"]),
      pick(PAYLOADS),
      ...pick(RESTORE_OPTIONS),
    ],
    () => ["SETBIT", key(), pick(BIT_OFFSETS), pick(["0", "1", "1", "2", "-1", "x"])],
    () => ["GETBIT", key(), pick(BIT_OFFSETS)],
    () => ["BITCOUNT", key(), ...pick(BIT_RANGES)],
    () => ["BITPOS", key(), pick(["0", "1", "1", "2", "x"]), ...pick(BIT_RANGES)],
    () => ["BITOP", pick(["AND", "OR", "XOR", "NOT", "nand"]), key(), key(), ...pick(BITOP_MORE)],
    () => ["MULTI"],
    () => ["EXEC"],
    () => ["DISCARD"],
    () => ["WATCH", key()],
    () => ["UNWATCH"],
    () => [pick(["GET", "SET", "INCRBY", "GETRANGE"])],
    () => ["NOSUCHCOMMAND", key()],
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
    // The other connection speaks RESP3 (HELLO's own reply names each server: not compared).
    await other.call("HELLO", "3");
    for (let step = 0; step < STEPS; step++) {
      // Mostly the main connection; sometimes the other one, to break its WATCHes.
      const conn: ConnPair = random() < 0.85 ? main : other;
      const command = next();
      await conn.assertSame(command, {
        message: `seed ${seed}, step ${step}: ${JSON.stringify(command)} on the ` +
          `${conn === main ? "main" : "other"} connection`,
        normalize: command[0] === "DUMP" || command[0] === "EXEC" ? dumpedValue : undefined,
      });
    }
    await main.assertSame(["DISCARD"]);
    await main.assertSame(["MGET", ...KEYS], { message: `seed ${seed}: the final values` });
  });
}

const NAME = "random command sequences answer exactly like redis-server";

for (const seed of REGRESSION_SEEDS) {
  Deno.test(`${NAME} (regression seed ${seed})`, () => runSequence(seed));
}

const randomSeed = seedFromEnv();
Deno.test(
  `${NAME} (new seed ${randomSeed}; GOCACHE_FUZZ_SEED=${randomSeed} replays it)`,
  () => runSequence(randomSeed),
);
