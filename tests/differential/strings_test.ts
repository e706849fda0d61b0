/**
 * String commands (GET, SET and its options, SETNX, SETEX, PSETEX, GETSET, GETDEL, GETEX, MGET,
 * MSET, MSETNX, the counters, APPEND, STRLEN, GETRANGE, SUBSTR, SETRANGE): the same command
 * scripts to redis-server and gocache must get the same replies, RESP types included.
 */
import assert from "node:assert/strict";
import { type Arg, script, type Shape, textOf, unshow, withBoth } from "./_diff.ts";

/** Every byte value 0-255, so that binary payloads cover NUL, CR, LF and 0x80-0xFF. */
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);
/** The same bytes in reverse, for a second distinct binary key. */
const ALL_BYTES_REVERSED = ALL_BYTES.slice().reverse();

const INT64_MAX = "9223372036854775807";
/** Every command of the family. */
const STRING_COMMANDS = [
  "get",
  "set",
  "setnx",
  "setex",
  "psetex",
  "getset",
  "getdel",
  "getex",
  "mget",
  "mset",
  "msetnx",
  "incr",
  "decr",
  "incrby",
  "decrby",
  "incrbyfloat",
  "append",
  "strlen",
  "getrange",
  "substr",
  "setrange",
  "lcs",
];
const INT64_MIN = "-9223372036854775808";

/**
 * Treats a positive integer reply within `slack` below `expected` as `expected`: the two servers
 * run the commands a few milliseconds apart, so remaining TTLs may differ by that much.
 */
function near(expected: number, slack: number): (shape: Shape) => Shape {
  return (shape) => {
    if (shape.type !== "integer") return shape;
    const v = Number(shape.value);
    return v <= expected && v >= expected - slack ? { type: "integer", value: expected } : shape;
  };
}

/**
 * A TTL for keys a step reads before they expire: far longer than any stall of one server on a
 * loaded machine between two commands, so it cannot lapse mid-step on one server only.
 */
const SHORT_TTL_MS = 1000;

/**
 * Resolves once a TTL of `ttlMs` set by a command whose replies (from both servers) had arrived
 * at `repliedAt` has passed on both: each server fixed its expiry time before it replied, so both
 * expiry times lie before `repliedAt + ttlMs`. The key is not touched while waiting, so the next
 * read still meets it unexpired-but-due (lazy expiry) unless active expiry deleted it first.
 */
async function outlive(repliedAt: number, ttlMs: number): Promise<void> {
  const wait = repliedAt + ttlMs + 20 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

Deno.test("string commands answer exactly like redis-server", async (t) => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();
    const step = (name: string, fn: () => Promise<void>) =>
      t.step(name, async () => {
        await c.assertSame(["FLUSHALL"]);
        await fn();
      });

    await step("GET returns the value SET stored, and nil for a missing key", async () => {
      await script(c, [["GET", "k"], ["SET", "k", "v"], ["GET", "k"], ["SET", "k", ""], [
        "GET",
        "k",
      ]]);
    });

    await step("GET and MGET keep the value they read when a later write changes it", async () => {
      // Values of the same length are overwritten in place; gocache's GET reads the bytes when
      // its reply is encoded, which inside MULTI and scripts comes after later commands.
      const long = ALL_BYTES;
      const other = ALL_BYTES_REVERSED;
      await script(c, [
        ["SET", "k", long],
        ["SET", "s", "short"],
        ["MULTI"],
        ["GET", "k"],
        ["MGET", "s", "k", "missing"],
        ["SET", "k", other],
        ["SET", "s", "SHORT"],
        ["GET", "k"],
        ["DEL", "s"],
        ["MGET", "s", "k"],
        ["EXEC"],
        [
          "EVAL",
          "local v = redis.call('GET', KEYS[1]); redis.call('SET', KEYS[1], ARGV[1]); " +
          "return {v, redis.call('MGET', KEYS[1])[1]}",
          "1",
          "k",
          long,
        ],
        ["GET", "k"],
      ]);
    });

    await step("GET and SET with a wrong number of arguments are arity errors", async () => {
      await script(c, [["GET"], ["GET", "a", "b"], ["SET", "k"], ["SET"]]);
    });

    await step("SET with NX does not overwrite an existing key", async () => {
      await script(c, [
        ["SET", "k", "1", "NX"],
        ["SET", "k", "2", "NX"],
        ["GET", "k"],
        ["SET", "k", "3", "nx"],
      ]);
    });

    await step("SET with XX only overwrites an existing key", async () => {
      await script(c, [["SET", "k", "1", "XX"], ["GET", "k"], ["SET", "k", "0"], [
        "SET",
        "k",
        "2",
        "xx",
      ], ["GET", "k"]]);
    });

    await step("SET with GET returns the old value, with NX and XX too", async () => {
      await script(c, [
        ["SET", "k", "a", "GET"],
        ["SET", "k", "b", "GET"],
        ["SET", "k", "c", "NX", "GET"],
        ["GET", "k"],
        ["SET", "k", "d", "GET", "XX"],
        ["SET", "n", "e", "XX", "GET"],
        ["SET", "n", "f", "NX", "GET"],
        ["GET", "n"],
        ["SET", "k", "g", "GET", "GET"],
        ["GET", "k"],
      ]);
    });

    await step("SET with conflicting or unknown options is a syntax error", async () => {
      await script(c, [
        ["SET", "k", "v", "NX", "XX"],
        ["SET", "k", "v", "XX", "NX"],
        ["SET", "k", "v", "EX", "10", "PX", "100"],
        ["SET", "k", "v", "EX", "10", "KEEPTTL"],
        ["SET", "k", "v", "KEEPTTL", "PX", "10"],
        ["SET", "k", "v", "EXAT", "10", "PXAT", "100"],
        ["SET", "k", "v", "PXAT", "10", "EX", "100"],
        ["SET", "k", "v", "EX"],
        ["SET", "k", "v", "PX"],
        ["SET", "k", "v", "PERSIST"],
        ["SET", "k", "v", "FOO"],
        ["SET", "k", "v", "EX", "10", "EX", "20"],
        ["GET", "k"],
      ]);
    });

    await step("SET with an invalid expire time is refused", async () => {
      await script(c, [
        ["SET", "k", "v", "EX", "0"],
        ["SET", "k", "v", "EX", "-1"],
        ["SET", "k", "v", "PX", "0"],
        ["SET", "k", "v", "EXAT", "0"],
        ["SET", "k", "v", "PXAT", "-5"],
        ["SET", "k", "v", "EX", "abc"],
        ["SET", "k", "v", "EX", "1.5"],
        ["SET", "k", "v", "EX", "9223372036854776"],
        ["SET", "k", "v", "EX", INT64_MAX],
        ["SET", "k", "v", "PX", INT64_MAX],
        ["SET", "k", "v", "PX", "9223372036854775000"],
        ["SET", "k", "v", "PXAT", INT64_MAX],
        ["SET", "k", "v", "EXAT", "9223372036854775"],
        ["SET", "k", "v", "EX", "99999999999999999999"],
        ["SET", "k", "v", "EX", "5", "NX", "GET"],
        ["GET", "k"],
      ]);
    });

    await step("SET with EXAT or PXAT in the past stores a key that is already gone", async () => {
      await script(
        c,
        [
          ["SET", "k", "v", "EXAT", "1"],
          ["GET", "k"],
          [
            "SET",
            "k",
            "v",
            "PXAT",
            "1000",
          ],
          ["GET", "k"],
          ["EXISTS", "k"],
        ],
      );
    });

    await step("SET with PX expires the key", async () => {
      await c.assertSame(["SET", "k", "v", "PX", String(SHORT_TTL_MS)]);
      const repliedAt = Date.now();
      await c.assertSame(["GET", "k"]);
      await c.assertSame(["PTTL", "k"], { normalize: near(SHORT_TTL_MS, SHORT_TTL_MS - 1) });
      await outlive(repliedAt, SHORT_TTL_MS);
      await script(c, [["GET", "k"], ["EXISTS", "k"]]);
    });

    await step("SET EX, KEEPTTL and plain SET set, keep and clear the TTL", async () => {
      await c.assertSame(["SET", "k", "v", "EX", "100"]);
      await c.assertSame(["TTL", "k"], { normalize: near(100, 1) });
      await c.assertSame(["PTTL", "k"], { normalize: near(100_000, 1000) });
      await c.assertSame(["SET", "k", "w", "KEEPTTL"]);
      await c.assertSame(["TTL", "k"], { normalize: near(100, 1) });
      await c.assertSame(["SET", "k", "x"]);
      await c.assertSame(["TTL", "k"]);
      await c.assertSame(["SET", "k", "v", "PX", "50000"]);
      await c.assertSame(["PTTL", "k"], { normalize: near(50_000, 1000) });
      await c.assertSame(["SET", "k", "v", "EXAT", String(Math.floor(Date.now() / 1000) + 200)]);
      await c.assertSame(["TTL", "k"], { normalize: near(200, 2) });
      await c.assertSame(["SET", "k", "v", "PXAT", String(Date.now() + 300_000)]);
      await c.assertSame(["TTL", "k"], { normalize: near(300, 2) });
      await c.assertSame(["SETEX", "k", "60", "v"]);
      await c.assertSame(["TTL", "k"], { normalize: near(60, 1) });
      await c.assertSame(["PSETEX", "k", "70000", "v"]);
      await c.assertSame(["TTL", "k"], { normalize: near(70, 1) });
      await c.assertSame(["INCR", "n"]);
      await c.assertSame(["SET", "n", "5", "EX", "100"]);
      await c.assertSame(["INCR", "n"]);
      await c.assertSame(["TTL", "n"], { normalize: near(100, 1) });
      await c.assertSame(["APPEND", "n", "0"]);
      await c.assertSame(["SETRANGE", "n", "0", "1"]);
      await c.assertSame(["INCRBYFLOAT", "n", "0.5"]);
      await c.assertSame(["TTL", "n"], { normalize: near(100, 1) });
      await c.assertSame(["GETSET", "n", "1"]);
      await c.assertSame(["TTL", "n"]);
      await c.assertSame(["SET", "m", "1", "EX", "100"]);
      await c.assertSame(["MSET", "m", "2"]);
      await c.assertSame(["TTL", "m"]);
    });

    await step("SETNX sets only a missing key and answers 1 or 0", async () => {
      await script(c, [["SETNX", "k", "a"], ["SETNX", "k", "b"], ["GET", "k"], ["SETNX", "k"]]);
    });

    await step(
      "SETEX and PSETEX set a value and refuse bad times with their own names",
      async () => {
        await script(c, [
          ["SETEX", "k", "10", "v"],
          ["GET", "k"],
          ["PSETEX", "p", "10000", "w"],
          ["GET", "p"],
          ["SETEX", "k", "0", "v"],
          ["SETEX", "k", "-10", "v"],
          ["SETEX", "k", "x", "v"],
          ["SETEX", "k", INT64_MAX, "v"],
          ["PSETEX", "k", "0", "v"],
          ["PSETEX", "k", "-1", "v"],
          ["PSETEX", "k", "1.0", "v"],
          ["PSETEX", "k", INT64_MAX, "v"],
          ["SETEX", "k", "10"],
          ["PSETEX", "k", "10", "v", "x"],
        ]);
      },
    );

    await step("GETSET returns the old value and stores the new one", async () => {
      await script(c, [["GETSET", "k", "a"], ["GETSET", "k", "b"], ["GET", "k"], ["GETSET", "k"]]);
    });

    await step("GETDEL returns the value and deletes the key", async () => {
      await script(c, [["GETDEL", "k"], ["SET", "k", "v"], ["GETDEL", "k"], ["GET", "k"], [
        "GETDEL",
        "k",
        "x",
      ]]);
    });

    await step("GETEX returns the value and changes the TTL as asked", async () => {
      await script(c, [
        ["GETEX", "k"],
        ["GETEX", "k", "EX", "0"],
        ["SET", "k", "v"],
        ["GETEX", "k"],
        ["GETEX", "k", "EX", "100"],
        ["GETEX", "k", "PX", "100000"],
        ["GETEX", "k", "EXAT", String(Math.floor(Date.now() / 1000) + 100)],
        ["GETEX", "k", "PXAT", String(Date.now() + 100_000)],
        ["GETEX", "k", "PERSIST"],
        ["GETEX", "k", "persist"],
        ["GETEX", "k", "PXAT", "1"],
        ["GET", "k"],
        ["SET", "k", "v"],
        ["GETEX", "k", "EXAT", "1"],
        ["GETEX", "k"],
      ]);
    });

    await step("GETEX refuses conflicting options and invalid times", async () => {
      await script(c, [
        ["SET", "k", "v"],
        ["GETEX", "k", "EX", "10", "PX", "10"],
        ["GETEX", "k", "EX", "10", "PERSIST"],
        ["GETEX", "k", "PERSIST", "EX", "10"],
        ["GETEX", "k", "KEEPTTL"],
        ["GETEX", "k", "NX"],
        ["GETEX", "k", "GET"],
        ["GETEX", "k", "EX"],
        ["GETEX", "k", "EX", "0"],
        ["GETEX", "k", "PX", "-1"],
        ["GETEX", "k", "EXAT", "0"],
        ["GETEX", "k", "EX", "ten"],
        ["GETEX", "k", "EX", INT64_MAX],
        ["GETEX", "k", "PX", INT64_MAX],
        ["GETEX", "missing", "EX", "0"],
        ["GETEX", "missing", "EX", "1", "PX", "1"],
        ["GETEX"],
      ]);
    });

    await step("GETEX sets and removes the TTL", async () => {
      await c.assertSame(["SET", "k", "v"]);
      await c.assertSame(["GETEX", "k", "EX", "100"]);
      await c.assertSame(["TTL", "k"], { normalize: near(100, 1) });
      await c.assertSame(["GETEX", "k"]);
      await c.assertSame(["TTL", "k"], { normalize: near(100, 1) });
      await c.assertSame(["GETEX", "k", "PERSIST"]);
      await c.assertSame(["TTL", "k"]);
      await c.assertSame(["GETEX", "k", "PX", "200000"]);
      await c.assertSame(["PTTL", "k"], { normalize: near(200_000, 1000) });
    });

    await step("MGET returns values and nils in order", async () => {
      await script(c, [
        ["MGET", "a"],
        ["MSET", "a", "1", "b", "2"],
        ["MGET", "a", "x", "b", "a"],
        ["MGET"],
      ]);
    });

    await step("MSET sets every pair and needs an even number of arguments", async () => {
      await script(c, [
        ["MSET", "a", "1", "b", "2", "a", "3"],
        ["MGET", "a", "b"],
        ["MSET", "a"],
        ["MSET", "a", "1", "b"],
        ["MSET"],
      ]);
    });

    await step("MSETNX sets all pairs only when no key exists", async () => {
      await script(c, [
        ["MSETNX", "a", "1", "b", "2"],
        ["MSETNX", "b", "3", "c", "4"],
        ["MGET", "a", "b", "c"],
        ["MSETNX", "c", "5", "c", "6"],
        ["GET", "c"],
        ["MSETNX", "d", "1", "e"],
        ["MSETNX", "d"],
      ]);
    });

    await step("INCR, DECR, INCRBY and DECRBY count from zero and keep integers", async () => {
      await script(c, [
        ["INCR", "n"],
        ["INCR", "n"],
        ["DECR", "n"],
        ["DECR", "m"],
        ["INCRBY", "n", "100"],
        ["INCRBY", "n", "-250"],
        ["DECRBY", "n", "10"],
        ["DECRBY", "n", "-1000"],
        ["GET", "n"],
        ["SET", "n", "-5"],
        ["INCRBY", "n", "5"],
        ["GET", "n"],
        ["INCRBY", "n", "0"],
        ["DECRBY", "n", "0"],
        ["INCR"],
        ["INCRBY", "n"],
        ["DECR", "n", "1"],
      ]);
    });

    await step("counters refuse values that are not 64-bit integers", async () => {
      await script(c, [
        ["SET", "s", "abc"],
        ["INCR", "s"],
        ["SET", "s", "1.5"],
        ["DECR", "s"],
        ["SET", "s", " 1"],
        ["INCR", "s"],
        ["SET", "s", "1 "],
        ["INCR", "s"],
        ["SET", "s", "+1"],
        ["INCR", "s"],
        ["SET", "s", "01"],
        ["INCR", "s"],
        ["SET", "s", "-0"],
        ["INCR", "s"],
        ["SET", "s", ""],
        ["INCR", "s"],
        ["SET", "s", "9223372036854775808"],
        ["INCR", "s"],
        ["SET", "s", "-9223372036854775809"],
        ["DECR", "s"],
        ["INCRBY", "n", "1.0"],
        ["INCRBY", "n", "x"],
        ["INCRBY", "n", ""],
        ["DECRBY", "n", "9223372036854775808"],
        ["INCRBY", "n", "99999999999999999999"],
        ["SET", "s", "abc"],
        ["INCRBY", "s", "x"],
      ]);
    });

    await step("counters are exact over the whole signed 64-bit range", async () => {
      await script(c, [
        ["SET", "n", "9007199254740991"],
        ["INCR", "n"],
        ["INCR", "n"],
        ["INCRBY", "n", "9007199254740993"],
        ["GET", "n"],
        ["SET", "n", "9223372036854775806"],
        ["INCR", "n"],
        ["INCR", "n"],
        ["GET", "n"],
        ["DECRBY", "n", INT64_MAX],
        ["SET", "n", "-9223372036854775807"],
        ["DECR", "n"],
        ["DECR", "n"],
        ["GET", "n"],
        ["INCRBY", "n", INT64_MAX],
        ["SET", "n", "-1"],
        ["INCRBY", "n", INT64_MIN],
        ["INCRBY", "n", "-1"],
        ["DECRBY", "x", INT64_MIN],
        ["DECRBY", "x", "-9223372036854775807"],
        ["INCRBY", "y", INT64_MIN],
        ["DECRBY", "y", "1"],
        ["SET", "z", INT64_MIN],
        ["INCRBY", "z", INT64_MAX],
        ["INCRBY", "z", "-9007199254740993"],
        ["DECRBY", "z", "-18014398509481985"],
      ]);
    });

    await step("INCRBYFLOAT adds decimals and formats like Redis", async () => {
      await script(c, [
        ["SET", "f", "10.5"],
        ["INCRBYFLOAT", "f", "0.1"],
        ["SET", "f", "3.0e3"],
        ["INCRBYFLOAT", "f", "200"],
        ["SET", "f", "5.0e3"],
        ["INCRBYFLOAT", "f", "-5000"],
        ["INCRBYFLOAT", "g", "1.5"],
        ["INCRBYFLOAT", "g", "-3"],
        ["INCRBYFLOAT", "g", "+1.5"],
        ["INCRBYFLOAT", "g", ".25"],
        ["INCRBYFLOAT", "g", "5."],
        ["INCRBYFLOAT", "g", "1e2"],
        ["INCRBYFLOAT", "g", "0x10"],
        ["INCRBYFLOAT", "g", "-1E-2"],
        ["INCRBYFLOAT", "e", "1e-18"],
        ["INCRBYFLOAT", "e", "1e20"],
        ["INCRBYFLOAT", "i", "7"],
        ["INCRBYFLOAT", "i", "-0.0"],
        ["SET", "i", "100"],
        ["INCRBYFLOAT", "i", "0.000001"],
        ["INCRBYFLOAT", "t", "0.1"],
        ["INCRBYFLOAT", "t", "0.2"],
        ["INCRBYFLOAT", "t", "-0.3"],
        ["GET", "t"],
      ]);
    });

    await step("INCRBYFLOAT computes in long double precision as Redis does", async () => {
      await script(c, [
        ["INCRBYFLOAT", "third", "0.33333333333333333"],
        ["INCRBYFLOAT", "third", "0.33333333333333333"],
        ["INCRBYFLOAT", "third", "0.33333333333333333"],
        ["SET", "f", "12345678.9"],
        ["INCRBYFLOAT", "f", "0"],
        ["INCRBYFLOAT", "f", "0.1"],
        ["INCRBYFLOAT", "big", "1e300"],
        ["INCRBYFLOAT", "big", "1"],
        ["INCRBYFLOAT", "huge", "1e400"],
        ["INCRBYFLOAT", "huge", "-1e400"],
        ["INCRBYFLOAT", "max", "1.18e4932"],
        ["INCRBYFLOAT", "max", "1e4932"],
        ["INCRBYFLOAT", "tiny", "1e-320"],
        ["INCRBYFLOAT", "tiny", "1e-4940"],
        ["INCRBYFLOAT", "tiny", "1e-4960"],
        ["INCRBYFLOAT", "hex", "0x1.8p1"],
        ["INCRBYFLOAT", "hex", "-0X.8P-1"],
        ["INCRBYFLOAT", "pi", "3.14159265358979323846264338327950288"],
        ["INCRBYFLOAT", "pi", "-3"],
        ["INCRBYFLOAT", "neg", "-0.00000000000000001"],
        ["INCRBYFLOAT", "neg", "-0.000000000000000004"],
        ["INCRBYFLOAT", "half", "0.000000000000000005"],
        ["INCRBYFLOAT", "half", "0.000000000000000015"],
        ["SET", "i", INT64_MAX],
        ["INCRBYFLOAT", "i", "1"],
        ["INCRBY", "i", "1"],
      ]);
      for (let i = 0; i < 30; i++) await c.assertSame(["INCRBYFLOAT", "loop", "0.1"]);
      for (let i = 0; i < 30; i++) await c.assertSame(["INCRBYFLOAT", "loop", "-1.7e-3"]);
    });

    await step("INCRBYFLOAT refuses invalid floats and infinite results", async () => {
      await script(
        c,
        [
          ["INCRBYFLOAT", "f", "abc"],
          ["INCRBYFLOAT", "f", ""],
          ["INCRBYFLOAT", "f", " 1"],
          ["INCRBYFLOAT", "f", "1 "],
          ["INCRBYFLOAT", "f", "nan"],
          ["INCRBYFLOAT", "f", "1e"],
          ["INCRBYFLOAT", "f", "0x"],
          ["INCRBYFLOAT", "f", "inf"],
          ["INCRBYFLOAT", "f", "-infinity"],
          ["INCRBYFLOAT", "f", "1e-5000"],
          ["INCRBYFLOAT", "f", "1e5000"],
          ["SET", "s", "hello"],
          ["INCRBYFLOAT", "s", "1"],
          ["SET", "s", "1.5 "],
          ["INCRBYFLOAT", "s", "1"],
          ["INCRBYFLOAT", "z", new TextEncoder().encode("1.5\0junk")],
          ["INCRBYFLOAT", "z", new TextEncoder().encode("\0")],
          ["SET", "z", new TextEncoder().encode("2\0x")],
          ["INCRBYFLOAT", "z", "1"],
          ["INCRBYFLOAT", "long", "1".padEnd(5119, "0")],
          ["INCRBYFLOAT", "long", "1".padEnd(5120, "0")],
          ["INCRBYFLOAT"],
          ["INCRBYFLOAT", "f"],
          ["EXISTS", "f"],
        ],
      );
    });

    await step("APPEND creates or extends the value and returns the length", async () => {
      await script(c, [
        ["APPEND", "k", "hello"],
        ["APPEND", "k", " world"],
        ["APPEND", "k", ""],
        ["GET", "k"],
        ["APPEND", "e", ""],
        ["GET", "e"],
        ["SET", "n", "12"],
        ["APPEND", "n", "34"],
        ["INCR", "n"],
        ["APPEND", "k"],
      ]);
    });

    await step("STRLEN returns the length in bytes, 0 for a missing key", async () => {
      await script(c, [
        ["STRLEN", "k"],
        ["SET", "k", "héllo"],
        ["STRLEN", "k"],
        [
          "SET",
          "n",
          "-123",
        ],
        ["STRLEN", "n"],
        ["STRLEN"],
      ]);
    });

    await step("GETRANGE and SUBSTR take inclusive ranges with negative indexes", async () => {
      const ranges: [string, string][] = [
        ["0", "3"],
        ["0", "-1"],
        ["-3", "-1"],
        ["5", "3"],
        ["-1", "-5"],
        ["0", "100"],
        ["-100", "2"],
        ["-100", "-90"],
        ["100", "200"],
        ["3", "3"],
        ["-1", "0"],
        [INT64_MIN, INT64_MAX],
        [INT64_MAX, INT64_MIN],
        ["0", INT64_MIN],
      ];
      await c.assertSame(["SET", "k", "This is a string"]);
      for (const [start, end] of ranges) {
        await c.assertSame(["GETRANGE", "k", start, end]);
        await c.assertSame(["SUBSTR", "k", start, end]);
        await c.assertSame(["GETRANGE", "missing", start, end]);
      }
      await script(c, [
        ["SET", "e", ""],
        ["GETRANGE", "e", "0", "-1"],
        ["GETRANGE", "k", "a", "1"],
        ["GETRANGE", "k", "0", "1.5"],
        ["GETRANGE", "missing", "x", "1"],
        ["GETRANGE", "k", "0"],
        ["SUBSTR", "k", "0", "1", "2"],
      ]);
    });

    await step("SETRANGE overwrites, pads with zero bytes and checks the offset", async () => {
      await script(c, [
        ["SET", "k", "Hello World"],
        ["SETRANGE", "k", "6", "Redis"],
        ["GET", "k"],
        ["SETRANGE", "k", "20", "!"],
        ["GET", "k"],
        ["SETRANGE", "k", "0", ""],
        ["SETRANGE", "new", "5", "x"],
        ["GET", "new"],
        ["SETRANGE", "none", "5", ""],
        ["GET", "none"],
        ["SETRANGE", "none", "0", ""],
        ["SETRANGE", "k", "-1", "x"],
        ["SETRANGE", "k", "x", "x"],
        ["SETRANGE", "k", INT64_MAX, "x"],
        ["SETRANGE", "k", "536870911", "xy"],
        ["SETRANGE", "k", "536870912", "x"],
        ["SETRANGE", "k", "1"],
        ["SET", "n", "1234"],
        ["SETRANGE", "n", "1", "9"],
        ["INCR", "n"],
      ]);
    });

    await step("APPEND and SETRANGE refuse results longer than proto-max-bulk-len", async () => {
      const mb = 1024 * 1024;
      await c.assertSame(["CONFIG", "SET", "proto-max-bulk-len", "1mb"]);
      try {
        await script(c, [
          ["SETRANGE", "k", String(mb - 1), "x"],
          ["STRLEN", "k"],
          ["SETRANGE", "k", String(mb), "x"],
          ["SETRANGE", "k", String(mb - 1), "xy"],
          ["APPEND", "k", "z"],
          ["STRLEN", "k"],
          ["SETRANGE", "j", String(mb), "x"],
          ["SETRANGE", "j", String(mb), ""],
        ]);
      } finally {
        await c.assertSame(["CONFIG", "SET", "proto-max-bulk-len", "512mb"]);
      }
    });

    await step("the wrong type of value gets WRONGTYPE from every string command", async () => {
      // No other type exists yet in gocache; this checks the texts against a hash in Redis only
      // once another family lands. Until then, the keys are strings and the commands succeed.
      await script(c, [["SET", "k", "v"], ["GET", "k"], ["STRLEN", "k"]]);
    });

    await step("LCS returns the common subsequence, its length or its ranges", async () => {
      await script(c, [
        ["MSET", "key1", "ohmytext", "key2", "mynewtext"],
        ["LCS", "key1", "key2"],
        ["LCS", "key1", "key2", "LEN"],
        ["LCS", "key1", "key2", "IDX"],
        ["LCS", "key1", "key2", "idx", "MINMATCHLEN", "4"],
        ["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"],
        ["LCS", "key1", "key2", "IDX", "WITHMATCHLEN", "MINMATCHLEN", "-3"],
        ["LCS", "key1", "missing"],
        ["LCS", "missing", "key2", "IDX"],
        ["LCS", "key1", "key2", "LEN", "IDX"],
        ["LCS", "key1", "key2", "MINMATCHLEN"],
        ["LCS", "key1", "key2", "MINMATCHLEN", "x"],
        ["LCS", "key1", "key2", "FOO"],
        ["LCS", "key1"],
      ]);
      await c.assertSame(["HELLO", "3"], { normalize: (shape) => ({ type: shape.type }) as Shape });
      await c.assertSame(["LCS", "key1", "key2", "IDX", "WITHMATCHLEN"]);
      await c.assertSame(["HELLO", "2"], { normalize: (shape) => ({ type: shape.type }) as Shape });
      let seed = 7;
      const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
      const text = () => Array.from({ length: random(30) }, () => "abc"[random(3)]).join("");
      for (let i = 0; i < 40; i++) {
        await c.assertSame(["MSET", "a", text(), "b", text()]);
        await c.assertSame(["LCS", "a", "b"]);
        await c.assertSame(["LCS", "a", "b", "IDX", "WITHMATCHLEN", "MINMATCHLEN", String(i % 3)]);
      }
      await c.assertSame(["CONFIG", "SET", "proto-max-bulk-len", "1mb"]);
      try {
        await script(c, [
          ["MSET", "a", "x".repeat(600), "b", "x".repeat(600)],
          ["LCS", "a", "b", "LEN"],
          ["SET", "b", "x".repeat(400)],
          ["LCS", "a", "b", "LEN"],
        ]);
      } finally {
        await c.assertSame(["CONFIG", "SET", "proto-max-bulk-len", "512mb"]);
      }
    });

    await step("reads count keyspace hits and misses as Redis does, writes do not", async () => {
      await c.assertSame(["CONFIG", "RESETSTAT"]);
      await script(c, [
        ["SET", "k", "1"],
        ["GET", "k"],
        ["GET", "missing"],
        ["MGET", "k", "missing", "k"],
        ["STRLEN", "k"],
        ["GETRANGE", "missing", "0", "1"],
        ["SET", "k", "2", "GET"],
        ["GETSET", "missing", "x"],
        ["GETEX", "k"],
        ["GETDEL", "missing"],
        ["INCR", "k"],
        ["APPEND", "k", "0"],
        ["SETRANGE", "k", "0", "1"],
        ["INCRBYFLOAT", "k", "1"],
        ["SETNX", "k", "1"],
        ["MSETNX", "k", "1"],
        ["LCS", "k", "missing"],
      ]);
      const { redis, gocache } = await c.call("INFO", "stats");
      const counters = (shape: Shape) =>
        unshow(textOf(shape)).split("\r\n").filter((line) => /^keyspace_(hits|misses):/.test(line));
      assert.deepEqual(counters(gocache), counters(redis));
      assert.equal(counters(redis).length, 2);
    });

    await step("COMMAND INFO declares every string command as Redis does", async () => {
      // Name, arity, flags, key positions and ACL categories; Redis's tips and key-spec flags
      // (RW, access, ...) are not modelled by gocache.
      const headOnly = (shape: Shape): Shape => {
        if (shape.type !== "array") return shape;
        return {
          type: "array",
          items: shape.items.map((entry) =>
            entry.type === "array" ? { type: "array", items: entry.items.slice(0, 7) } : entry
          ),
        };
      };
      for (const name of STRING_COMMANDS) {
        await c.assertSame(["COMMAND", "INFO", name], { normalize: headOnly });
      }
    });

    await step("keys and values with every byte value round-trip", async () => {
      const key = ALL_BYTES;
      const other = ALL_BYTES_REVERSED;
      const commands: Arg[][] = [
        ["SET", key, ALL_BYTES],
        ["GET", key],
        ["MSET", other, ALL_BYTES_REVERSED, "plain", ALL_BYTES],
        ["MGET", key, other, "plain", "missing"],
        ["APPEND", key, ALL_BYTES_REVERSED],
        ["GET", key],
        ["STRLEN", key],
        ["GETRANGE", key, "120", "140"],
        ["GETRANGE", key, "-10", "-1"],
        ["SETRANGE", key, "250", ALL_BYTES],
        ["GET", key],
        ["SETRANGE", other, "300", ALL_BYTES],
        ["GET", other],
        ["GETSET", key, ALL_BYTES_REVERSED],
        ["GETDEL", other],
        ["GETEX", key],
        ["SETNX", ALL_BYTES.subarray(128), ALL_BYTES.subarray(0, 128)],
        ["LCS", key, ALL_BYTES.subarray(128)],
        ["GET", ALL_BYTES.subarray(128)],
      ];
      await script(c, commands);
      await both.assertSameBytes(commands);
    });

    await step("pipelined commands are answered in order", async () => {
      const commands: Arg[][] = [];
      for (let i = 0; i < 50; i++) commands.push(["INCR", "p"], ["APPEND", "s", String(i)]);
      commands.push(["GET", "p"], ["GET", "s"], ["MGET", "p", "s"]);
      await both.assertSameBytes(commands);
    });
  });
});
