/**
 * Tests for the reply encoder: the exact RESP2 and RESP3 bytes of every reply type, error text
 * sanitising, double formatting, a round trip of random reply trees through the reply decoder,
 * and ByteBuffer's integer formatting.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encodeError,
  encodeReply,
  formatDouble,
  type Protocol,
} from "../../../src/resp/encoder.ts";
import {
  BigNumberReply,
  BulkSlicesReply,
  DoubleReply,
  ErrorReply,
  MapReply,
  NO_REPLY,
  NULL_ARRAY,
  OK,
  PONG,
  PushReply,
  QUEUED,
  type Reply,
  SetReply,
  SimpleString,
  VerbatimReply,
} from "../../../src/resp/reply.ts";
import {
  ReplyDecoder,
  RespDouble,
  RespError,
  RespMap,
  RespPush,
  RespSet,
  RespSimple,
  type RespValue,
  RespVerbatim,
} from "../../../src/resp/reply_decoder.ts";
import {
  ByteBuffer,
  fromBinaryString,
  toBinaryString,
  utf8 as utf8Bytes,
} from "../../../src/util/bytes.ts";
import { lengthPrefix } from "../../../src/util/packed_entries.ts";

const utf8 = new TextEncoder();

/** Maps bytes to code points one to one, so expected frames can spell any byte. */
function binary(data: Uint8Array): string {
  let out = "";
  for (let i = 0; i < data.length; i++) out += String.fromCharCode(data[i]);
  return out;
}

/** The UTF-8 bytes of `text`, as byte text. */
function u8(text: string): string {
  return binary(utf8.encode(text));
}

/** Encodes `reply` into a fresh (deliberately tiny, so it must grow) buffer, as byte text. */
function wire(reply: Reply, proto: Protocol): string {
  const out = new ByteBuffer(1);
  encodeReply(out, reply, proto);
  return binary(out.view());
}

/** Asserts the RESP2 and RESP3 forms of `reply`. */
function check(reply: Reply, resp2: string, resp3: string, what = resp3): void {
  assert.equal(wire(reply, 2), resp2, `RESP2 ${JSON.stringify(what)}`);
  assert.equal(wire(reply, 3), resp3, `RESP3 ${JSON.stringify(what)}`);
}

/** Asserts a reply whose form is the same under both protocols. */
function same(reply: Reply, both: string): void {
  check(reply, both, both);
}

// ---------------------------------------------------------------------------------------------
// Exact bytes per reply type

Deno.test("a Uint8Array is a bulk string of exactly its bytes", () => {
  same(new Uint8Array([0, 13, 10, 0x80, 0xff]), "$5\r\n\0\r\n\x80\xff\r\n");
  same(new Uint8Array(0), "$0\r\n\r\n");
  same(utf8.encode("hello"), "$5\r\nhello\r\n");
});

Deno.test("a string is a binary string: a bulk string with one byte per character", () => {
  same("hello", "$5\r\nhello\r\n");
  same("", "$0\r\n\r\n");
  same("h\xe9llo\x00\xff", "$7\r\nh\xe9llo\x00\xff\r\n");
  same(toBinaryString(utf8Bytes("日本")), `$6\r\n${u8("日本")}\r\n`);
  same("a\r\nb", "$4\r\na\r\nb\r\n");
});

Deno.test("a BulkSlicesReply is the array of its slices, in ASCII runs, other runs and runs of one", () => {
  const ascii = "\x03abc\x03\x02xy\x02\x00\x00\x05hello\x05";
  const other = "\x02\xe9\xff\x02\x01\x00\x01\x03\r\n\x80\x03";
  const reply = new BulkSlicesReply();
  reply.run(ascii);
  reply.item(1, 3);
  reply.item(6, 2);
  reply.item(10, 0);
  reply.item(12, 5);
  reply.run("lone item");
  reply.item(0, 9);
  reply.run(other);
  reply.item(1, 2);
  reply.item(5, 1);
  reply.item(8, 3);
  reply.run("never read");
  const items = ["abc", "xy", "", "hello", "lone item", "\xe9\xff", "\x00", "\r\n\x80"];
  assert.deepEqual(reply.items(), items);
  assert.equal(reply.length, items.length);
  check(reply, wire(items, 2), wire(items, 3));
  same(new BulkSlicesReply(), "*0\r\n");
});

/** `items` as packed entries (util/packed_entries.ts), one string. */
function packed(items: readonly string[]): string {
  return items.map((item) => {
    const prefix = lengthPrefix(item.length);
    return prefix + item + [...prefix].reverse().join("");
  }).join("");
}

Deno.test("a BulkSlicesReply writes runs of packed entries and of strings, ASCII or not, short or long", () => {
  const long = "L".repeat(200); // a two-byte prefix: the span is not ASCII
  const runs = [
    ["abc", "", "x".repeat(23), "y".repeat(24), "z".repeat(100)],
    ["caf\xe9", "\x00\r\n\xff", "plain"],
    [long, "after the long one"],
    ["one"],
  ];
  const reply = new BulkSlicesReply();
  const items: string[] = [];
  for (const [r, run] of runs.entries()) {
    // Each span sits inside a longer string, as a list node's live range does.
    const before = packed(["popped"]);
    const text = before + packed(run) + packed(["not in the range"]);
    reply.entries(text, before.length, before.length + packed(run).length, run.length);
    items.push(...run);
    if (r === 1) {
      // A run of items given one by one between spans.
      reply.run("12345");
      reply.item(0, 2);
      reply.item(2, 3);
      items.push("12", "345");
    }
    // Runs of whole strings (an open node's items): ASCII, not, long, short, one alone.
    const strings = [
      ["s1", "", "x".repeat(30), "y".repeat(5)],
      ["caf\xe9", "z".repeat(40)],
      ["lone"],
    ][r % 3];
    reply.strings([...strings]);
    items.push(...strings);
  }
  assert.deepEqual(reply.items(), items);
  assert.equal(reply.length, items.length);
  check(reply, wire(items, 2), wire(items, 3));
  // Items given out of order or overlapping are read from their string.
  const unordered = new BulkSlicesReply();
  const text = "0123456789abcdefghijklmnopqrstuvwxyz";
  const picks = [[10, 26], [0, 30], [5, 3], [5, 3], [30, 0]];
  unordered.run(text);
  for (const [start, length] of picks) unordered.item(start, length);
  const expected = picks.map(([start, length]) => text.slice(start, start + length));
  assert.deepEqual(unordered.items(), expected);
  same(unordered, wire(expected, 2));
  const empty = new BulkSlicesReply();
  empty.entries("\x01a\x01", 0, 0, 0);
  same(empty, "*0\r\n");
});

Deno.test("a BulkSlicesReply writes lengths and counts of any number of digits", () => {
  const sizes = [9, 10, 99, 100, 999, 1000, 12345];
  const items = sizes.map((n, i) => String.fromCharCode(97 + i).repeat(n));
  const reply = new BulkSlicesReply();
  reply.run(items.join(""));
  let at = 0;
  for (const item of items) {
    reply.item(at, item.length);
    at += item.length;
  }
  for (let i = 0; i < 120; i++) {
    reply.run(`item ${i}`);
    reply.item(0, `item ${i}`.length);
    items.push(`item ${i}`);
  }
  check(reply, wire(items, 2), wire(items, 3));
});

Deno.test("a BulkSlicesReply of random runs encodes as the array of its items (seeded)", () => {
  const run = fc.array(
    fc.string({
      unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)),
      maxLength: 40,
    }),
    { maxLength: 12 },
  );
  fc.assert(
    fc.property(fc.array(run, { maxLength: 8 }), (runs) => {
      const reply = new BulkSlicesReply();
      for (const items of runs) {
        const text = "<" + items.join("|") + ">";
        reply.run(text);
        let at = 1;
        for (const item of items) {
          reply.item(at, item.length);
          at += item.length + 1;
        }
      }
      const items = runs.flat();
      assert.deepEqual(reply.items(), items);
      assert.equal(wire(reply, 2), wire(items, 2));
    }),
    { seed: 19, numRuns: 300 },
  );
});

Deno.test("a BulkSlicesReply of ASCII runs with items far apart encodes as the array of its items (seeded)", () => {
  // Items with gaps of any size between them, as no list lays them out: runs of every span.
  const item = fc.record({
    gap: fc.oneof(fc.nat(3), fc.nat(400)),
    text: fc.string({ unit: fc.constantFrom("a", "b", "~", " ", "0"), maxLength: 70 }),
  });
  fc.assert(
    fc.property(fc.array(fc.array(item, { maxLength: 30 }), { maxLength: 5 }), (runs) => {
      const reply = new BulkSlicesReply();
      const items: string[] = [];
      for (const run of runs) {
        let text = "";
        const places: [number, number][] = [];
        for (const { gap, text: t } of run) {
          text += "-".repeat(gap);
          places.push([text.length, t.length]);
          text += t;
          items.push(t);
        }
        reply.run(text + "-");
        for (const [at, length] of places) reply.item(at, length);
      }
      assert.equal(wire(reply, 2), wire(items, 2));
    }),
    { seed: 23, numRuns: 400 },
  );
});

Deno.test("a BigNumberReply is a RESP3 big number and a RESP2 bulk string", () => {
  check(
    new BigNumberReply("-123456789012345678901234567890"),
    "$31\r\n-123456789012345678901234567890\r\n",
    "(-123456789012345678901234567890\r\n",
  );
});

Deno.test("a large bulk string is written whole", () => {
  const big = new Uint8Array(256 * 1024 + 3).fill(0x61);
  const expected = `$${big.length}\r\n${"a".repeat(big.length)}\r\n`;
  same(big, expected);
  same("a".repeat(big.length), expected);
});

Deno.test("integers are written in decimal, negative ones with a minus sign", () => {
  same(0, ":0\r\n");
  same(-0, ":0\r\n");
  same(7, ":7\r\n");
  same(-1, ":-1\r\n");
  same(42, ":42\r\n");
  same(-1234567, ":-1234567\r\n");
  same(4294967295, ":4294967295\r\n");
  same(4294967296, ":4294967296\r\n");
  same(-4294967296, ":-4294967296\r\n");
  same(Number.MAX_SAFE_INTEGER, ":9007199254740991\r\n");
  same(Number.MIN_SAFE_INTEGER, ":-9007199254740991\r\n");
});

Deno.test("an integer number beyond the safe range is a RESP integer, clamped to 64 bits", () => {
  // RESP integers are signed 64-bit: 2^63 (how INT64_MAX is held as a double) and anything
  // larger is sent as INT64_MAX, which every client can parse; smaller ones as their value.
  const cases: [number, bigint][] = [
    [2 ** 53, 2n ** 53n],
    [2 ** 60, 2n ** 60n],
    [-(2 ** 60), -(2n ** 60n)],
    [2 ** 63, 2n ** 63n - 1n],
    [-(2 ** 63), -(2n ** 63n)],
    [1e20, 2n ** 63n - 1n],
    [1e21, 2n ** 63n - 1n],
    [-1e21, -(2n ** 63n)],
    [1e300, 2n ** 63n - 1n],
  ];
  for (const [n, expected] of cases) {
    for (const proto of [2, 3] as const) {
      const frame = wire(n, proto);
      // String(1e21) is "1e+21", which is not a RESP integer.
      assert.match(frame, /^:-?\d+\r\n$/, `${n} as ${JSON.stringify(frame)}`);
      assert.equal(BigInt(frame.slice(1, -2)), expected, String(n));
    }
  }
});

Deno.test("a bigint is an integer of any size", () => {
  same(0n, ":0\r\n");
  same(123n, ":123\r\n");
  same(-123n, ":-123\r\n");
  same(2n ** 70n, ":1180591620717411303424\r\n");
  same(-(2n ** 64n), ":-18446744073709551616\r\n");
});

Deno.test("booleans are #t and #f under RESP3 and the integers 1 and 0 under RESP2", () => {
  check(true, ":1\r\n", "#t\r\n");
  check(false, ":0\r\n", "#f\r\n");
});

Deno.test("null is the null bulk string under RESP2 and the null type under RESP3", () => {
  check(null, "$-1\r\n", "_\r\n");
});

Deno.test("arrays nest and carry their element count", () => {
  same([], "*0\r\n");
  same(["a", 1], "*2\r\n$1\r\na\r\n:1\r\n");
  check(
    [1, ["a", null, []], [[true]]],
    "*3\r\n:1\r\n*3\r\n$1\r\na\r\n$-1\r\n*0\r\n*1\r\n*1\r\n:1\r\n",
    "*3\r\n:1\r\n*3\r\n$1\r\na\r\n_\r\n*0\r\n*1\r\n*1\r\n#t\r\n",
  );
});

Deno.test("a SimpleString is a status line under both protocols", () => {
  same(OK, "+OK\r\n");
  same(PONG, "+PONG\r\n");
  same(QUEUED, "+QUEUED\r\n");
  same(new SimpleString("héllo"), "+h\xc3\xa9llo\r\n");
  same(new SimpleString(""), "+\r\n");
});

Deno.test("an ErrorReply is an error line whose CR and LF become spaces", () => {
  same(new ErrorReply("ERR syntax error"), "-ERR syntax error\r\n");
  same(new ErrorReply("ERR bad\r\nthing"), "-ERR bad  thing\r\n");
  same(new ErrorReply("ERR a\nb\rc"), "-ERR a b c\r\n");
  same(new ErrorReply("\r\n"), "-  \r\n");
  // Messages are binary strings: each character is one byte on the wire.
  same(new ErrorReply(toBinaryString(utf8Bytes("ERR héllo"))), "-ERR h\xc3\xa9llo\r\n");
  same(new ErrorReply("ERR \x80\xff"), "-ERR \x80\xff\r\n");
  same(new ErrorReply("WRONGTYPE Operation"), "-WRONGTYPE Operation\r\n");
});

Deno.test("encodeError writes an error line and sanitises only its own bytes", () => {
  const out = new ByteBuffer(4);
  encodeReply(out, "a\r\n", 2);
  encodeError(out, "ERR x\ny");
  encodeError(out, toBinaryString(utf8Bytes("ERR 日本\r\n")));
  assert.equal(binary(out.view()), `$3\r\na\r\n\r\n-ERR x y\r\n-${u8("ERR 日本")}  \r\n`);
});

Deno.test("a MapReply is a % map under RESP3 and a flat array under RESP2", () => {
  check(
    new MapReply(["a", 1, "b", null]),
    "*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n$-1\r\n",
    "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n_\r\n",
  );
  check(new MapReply([]), "*0\r\n", "%0\r\n");
  check(
    new MapReply(["m", new MapReply(["k", true])]),
    "*2\r\n$1\r\nm\r\n*2\r\n$1\r\nk\r\n:1\r\n",
    "%1\r\n$1\r\nm\r\n%1\r\n$1\r\nk\r\n#t\r\n",
  );
});

Deno.test("a SetReply is a ~ set under RESP3 and an array under RESP2", () => {
  check(new SetReply(["a", "b"]), "*2\r\n$1\r\na\r\n$1\r\nb\r\n", "~2\r\n$1\r\na\r\n$1\r\nb\r\n");
  check(new SetReply([]), "*0\r\n", "~0\r\n");
});

Deno.test("a DoubleReply is a , double under RESP3 and a bulk string under RESP2", () => {
  check(new DoubleReply(1.5), "$3\r\n1.5\r\n", ",1.5\r\n");
  check(new DoubleReply(-0.25), "$5\r\n-0.25\r\n", ",-0.25\r\n");
  check(new DoubleReply(3), "$1\r\n3\r\n", ",3\r\n");
  check(new DoubleReply(0), "$1\r\n0\r\n", ",0\r\n");
  check(new DoubleReply(Infinity), "$3\r\ninf\r\n", ",inf\r\n");
  check(new DoubleReply(-Infinity), "$4\r\n-inf\r\n", ",-inf\r\n");
  check(new DoubleReply(NaN), "$3\r\nnan\r\n", ",nan\r\n");
  // Redis 7.0 writes doubles with "%.17g".
  check(new DoubleReply(1e21), "$5\r\n1e+21\r\n", ",1e+21\r\n");
  check(new DoubleReply(1e-7), "$22\r\n9.9999999999999995e-08\r\n", ",9.9999999999999995e-08\r\n");
  check(new DoubleReply(1.1), "$18\r\n1.1000000000000001\r\n", ",1.1000000000000001\r\n");
});

Deno.test("formatDouble writes %.17g, spells infinities and NaN as Redis does, and round-trips", () => {
  assert.equal(formatDouble(Infinity), "inf");
  assert.equal(formatDouble(-Infinity), "-inf");
  assert.equal(formatDouble(NaN), "nan");
  // C's "%.17g", as Redis 7.0 (values from Python's "%.17g" % v).
  assert.equal(formatDouble(0.1), "0.10000000000000001");
  assert.equal(formatDouble(1e300), "1.0000000000000001e+300");
  assert.equal(formatDouble(-1.5e-300), "-1.5000000000000001e-300");
  assert.equal(formatDouble(1.5), "1.5");
  assert.equal(formatDouble(3), "3");
  assert.equal(formatDouble(-0), "-0");
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
      const text = formatDouble(value);
      assert.match(text, /^-?\d+(\.\d+)?(e[-+]\d+)?$/);
      // -0 reads back as -0: Redis 7.0 prints it "-0".
      assert.equal(Number(text), value);
    }),
  );
});

Deno.test("a VerbatimReply is a txt verbatim string under RESP3 and a bulk under RESP2", () => {
  check(new VerbatimReply("hello"), "$5\r\nhello\r\n", "=9\r\ntxt:hello\r\n");
  check(new VerbatimReply(""), "$0\r\n\r\n", "=4\r\ntxt:\r\n");
  check(
    new VerbatimReply("héllo\r\n"),
    "$8\r\nh\xc3\xa9llo\r\n\r\n",
    "=12\r\ntxt:h\xc3\xa9llo\r\n\r\n",
  );
});

Deno.test("a PushReply is a > push under RESP3 and an array under RESP2", () => {
  check(
    new PushReply(["message", "ch", "hi"]),
    "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
    ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
  );
  check(new PushReply([]), "*0\r\n", ">0\r\n");
});

Deno.test("NULL_ARRAY is *-1 under RESP2 and the null type under RESP3", () => {
  check(NULL_ARRAY, "*-1\r\n", "_\r\n");
  check([NULL_ARRAY, null], "*2\r\n*-1\r\n$-1\r\n", "*2\r\n_\r\n_\r\n");
});

Deno.test("NO_REPLY writes nothing at all", () => {
  same(NO_REPLY, "");
  const out = new ByteBuffer(8);
  encodeReply(out, OK, 3);
  encodeReply(out, NO_REPLY, 3);
  encodeReply(out, 1, 3);
  assert.equal(binary(out.view()), "+OK\r\n:1\r\n");
});

Deno.test("replies are appended after what the buffer already holds", () => {
  const out = new ByteBuffer(2);
  encodeReply(out, PONG, 2);
  encodeReply(out, "x", 2);
  encodeReply(out, [1, 2], 2);
  assert.equal(binary(out.view()), "+PONG\r\n$1\r\nx\r\n*2\r\n:1\r\n:2\r\n");
});

Deno.test("a value that is not a reply is refused with a TypeError", () => {
  const out = new ByteBuffer();
  const notAReply = { hello: "world" } as unknown as Reply;
  assert.throws(() => encodeReply(out, notAReply, 2), TypeError);
  assert.throws(() => encodeReply(out, undefined as unknown as Reply, 3), TypeError);
});

// ---------------------------------------------------------------------------------------------
// Round trip through the reply decoder

/** Text without CR or LF, as a SimpleString requires. */
const statusText = fc.string({ unit: "binary", maxLength: 12 }).map((s) =>
  s.replace(/[\r\n]/g, "")
);

const leaf: fc.Arbitrary<Reply> = fc.oneof(
  fc.uint8Array({ maxLength: 24 }),
  fc.uint8Array({ maxLength: 16 }).map((b) => toBinaryString(b)),
  fc.string({ unit: "grapheme-ascii", maxLength: 16 }),
  fc.maxSafeInteger(),
  fc.integer({ min: -1000, max: 1000 }),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
  fc.boolean(),
  fc.constant(null),
  statusText.map((s) => new SimpleString(s)),
  fc.uint8Array({ maxLength: 16 }).map((b) => new ErrorReply(toBinaryString(b))),
  fc.double().map((d) => new DoubleReply(Object.is(d, -0) ? 0 : d)),
  fc.string({ unit: "binary", maxLength: 16 }).map((s) => new VerbatimReply(s)),
  fc.constant(NULL_ARRAY),
);

const { tree } = fc.letrec<{ tree: Reply }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("tree"), { maxLength: 5 }),
    fc.array(fc.tuple(tie("tree"), tie("tree")), { maxLength: 4 }).map((pairs) =>
      new MapReply(pairs.flat())
    ),
    fc.array(tie("tree"), { maxLength: 5 }).map((items) => new SetReply(items)),
    fc.array(tie("tree"), { maxLength: 5 }).map((items) => new PushReply(items)),
  ),
}));

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function viaUtf8(text: string): string {
  return new TextDecoder().decode(utf8.encode(text));
}

/** What the decoder must produce for `reply` encoded under `proto`. */
function expected(reply: Reply, proto: Protocol): RespValue {
  if (reply instanceof Uint8Array) return reply.slice();
  if (Array.isArray(reply)) return reply.map((item: Reply) => expected(item, proto));
  switch (typeof reply) {
    case "string":
      return fromBinaryString(reply);
    case "number":
      return reply;
    case "bigint":
      return reply >= -MAX_SAFE && reply <= MAX_SAFE ? Number(reply) : reply;
    case "boolean":
      return proto === 3 ? reply : reply ? 1 : 0;
  }
  if (reply === null || reply === NULL_ARRAY) return null;
  // Text goes out as UTF-8, so a lone surrogate comes back as U+FFFD.
  if (reply instanceof SimpleString) return new RespSimple(viaUtf8(reply.text));
  if (reply instanceof ErrorReply) {
    const wireBytes = fromBinaryString(reply.message).map((b) => (b === 13 || b === 10 ? 32 : b));
    return new RespError(new TextDecoder().decode(wireBytes));
  }
  if (reply instanceof MapReply) {
    const flat = reply.flat.map((item) => expected(item, proto));
    if (proto === 2) return flat;
    const entries: [RespValue, RespValue][] = [];
    for (let i = 0; i < flat.length; i += 2) entries.push([flat[i], flat[i + 1]]);
    return new RespMap(entries);
  }
  if (reply instanceof SetReply) {
    const items = reply.items.map((item) => expected(item, proto));
    return proto === 3 ? new RespSet(items) : items;
  }
  if (reply instanceof PushReply) {
    const items = reply.items.map((item) => expected(item, proto));
    return proto === 3 ? new RespPush(items) : items;
  }
  if (reply instanceof DoubleReply) {
    return proto === 3 ? new RespDouble(reply.value) : utf8.encode(formatDouble(reply.value));
  }
  if (reply instanceof VerbatimReply) {
    const text = utf8.encode(reply.text);
    return proto === 3 ? new RespVerbatim("txt", text) : text;
  }
  throw new Error("No expectation for this reply");
}

Deno.test("random reply trees decode back to the same structure under RESP2 and RESP3", () => {
  fc.assert(
    fc.property(
      fc.array(tree, { minLength: 1, maxLength: 4 }),
      fc.constantFrom<Protocol>(2, 3),
      fc.nat(),
      (replies, proto, cut) => {
        const out = new ByteBuffer(1);
        for (const reply of replies) encodeReply(out, reply, proto);
        const data = out.view().slice();
        const decoder = new ReplyDecoder();
        const at = cut % (data.length + 1);
        decoder.push(data.subarray(0, at));
        decoder.push(data.subarray(at));
        for (const reply of replies) {
          assert.deepEqual(decoder.next(), expected(reply, proto));
        }
        assert.equal(decoder.next(), undefined, "bytes left after the last reply");
      },
    ),
    { numRuns: 1000 },
  );
});

// ---------------------------------------------------------------------------------------------
// ByteBuffer.pushInt

const INTEGER_EDGES = [
  0,
  -0,
  1,
  -1,
  9,
  10,
  -9,
  -10,
  99,
  100,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 32 - 1,
  2 ** 32,
  -(2 ** 32 - 1),
  -(2 ** 32),
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  ...Array.from({ length: 16 }, (_, i) => 10 ** i - 1),
  ...Array.from({ length: 16 }, (_, i) => 10 ** i),
  ...Array.from({ length: 16 }, (_, i) => -(10 ** i) + 1),
];

function pushed(n: number, prefix = ""): string {
  const out = new ByteBuffer(1);
  out.pushAscii(prefix);
  out.pushInt(n);
  return binary(out.view());
}

Deno.test("ByteBuffer.pushInt writes the same digits as String for edge integers", () => {
  for (const n of INTEGER_EDGES) assert.equal(pushed(n), String(n), String(n));
});

Deno.test("ByteBuffer.pushInt writes the same digits as String for any safe integer", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.maxSafeInteger(), fc.integer(), fc.integer({ min: -1000, max: 1000 })),
      fc.string({ unit: "grapheme-ascii", maxLength: 5 }),
      (n, prefix) => {
        assert.equal(pushed(n, prefix), prefix + String(n));
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("ByteBuffer.pushInt appends many integers in a row without corruption", () => {
  const out = new ByteBuffer(2);
  let expectedText = "";
  for (let i = -5000; i <= 5000; i += 7) {
    out.pushInt(i * 1_000_003);
    out.pushByte(44);
    expectedText += `${i * 1_000_003},`;
  }
  assert.equal(binary(out.view()), expectedText);
});
