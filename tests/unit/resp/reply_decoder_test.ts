/**
 * Tests for the RESP2/RESP3 reply decoder: every frame type, malformed input, limits, and
 * properties that chunking never changes the result and that garbage only ever raises
 * RespDecodeError.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encodeCommand,
  ReplyDecoder,
  type ReplyDecoderOptions,
  RespBigNumber,
  RespDecodeError,
  RespDouble,
  RespError,
  RespMap,
  RespPush,
  RespSet,
  RespSimple,
  type RespValue,
  RespVerbatim,
} from "../../../src/resp/reply_decoder.ts";
import { bytes, concat } from "../../support/bytes.ts";
import { mulberry32 } from "../../../src/util/prng.ts";

const utf8 = new TextEncoder();

/** Decodes every complete frame in `input`, which must end exactly at a frame boundary. */
function decodeAll(input: Uint8Array | string, options?: ReplyDecoderOptions): RespValue[] {
  const decoder = new ReplyDecoder(options);
  decoder.push(typeof input === "string" ? bytes(input) : input);
  const values: RespValue[] = [];
  for (let value = decoder.next(); value !== undefined; value = decoder.next()) values.push(value);
  return values;
}

function decodeOne(input: Uint8Array | string, options?: ReplyDecoderOptions): RespValue {
  const values = decodeAll(input, options);
  assert.equal(values.length, 1, "expected exactly one frame");
  return values[0];
}

/** What decoding produced: the values, then either a decode error or the need for more bytes. */
interface Outcome {
  values: RespValue[];
  error?: string;
}

/** Feeds `input` in chunks of the given sizes (cycled), draining after every push. */
function decodeChunked(
  input: Uint8Array,
  sizes: number[],
  options?: ReplyDecoderOptions,
): Outcome {
  const decoder = new ReplyDecoder(options);
  const values: RespValue[] = [];
  // Each value consumes at least three bytes, so this bounds the calls of a decoder that works.
  let budget = input.length + 2 * (sizes.length + input.length) + 10;
  let at = 0;
  let turn = 0;
  try {
    do {
      const size = sizes.length === 0 ? input.length : sizes[turn++ % sizes.length];
      // The buffer is reused between pushes, as a socket reader would.
      const chunk = input.slice(at, at + size);
      decoder.push(chunk);
      chunk.fill(0x3f);
      at += size;
      for (let value = decoder.next(); value !== undefined; value = decoder.next()) {
        values.push(value);
        if (--budget < 0) throw new Error("Decoder made no progress");
      }
    } while (at < input.length);
  } catch (error) {
    if (!(error instanceof RespDecodeError)) throw error;
    return { values, error: error.message };
  }
  return { values };
}

function assertDecodeError(input: string, pattern: RegExp, options?: ReplyDecoderOptions): void {
  assert.throws(() => decodeAll(input, options), (error: unknown) => {
    assert.ok(error instanceof RespDecodeError, `not a RespDecodeError: ${error}`);
    assert.match(error.message, pattern);
    return true;
  }, `input ${JSON.stringify(input)}`);
}

// ---------------------------------------------------------------------------------------------
// RESP2 types

Deno.test("simple strings decode to RespSimple", () => {
  assert.deepEqual(decodeOne("+OK\r\n"), new RespSimple("OK"));
  assert.deepEqual(decodeOne("+\r\n"), new RespSimple(""));
  assert.deepEqual(
    decodeOne(utf8.encode("+h\u00e9llo \u{1f600}\r\n")),
    new RespSimple("h\u00e9llo \u{1f600}"),
  );
  const long = "x".repeat(1000) + "\u00e9";
  assert.deepEqual(decodeOne(utf8.encode(`+${long}\r\n`)), new RespSimple(long));
  // A leading U+FEFF is content, not a byte order mark to strip.
  assert.deepEqual(decodeOne(utf8.encode("+\ufeffa\r\n")), new RespSimple("\ufeffa"));
});

Deno.test("errors decode to RespError with the first word as code", () => {
  const error = decodeOne("-ERR unknown command 'foo'\r\n");
  assert.deepEqual(error, new RespError("ERR unknown command 'foo'"));
  assert.equal((error as RespError).code, "ERR");
  assert.equal((decodeOne("-MOVED 3999 127.0.0.1:6381\r\n") as RespError).code, "MOVED");
  assert.equal((decodeOne("-NOSCRIPT\r\n") as RespError).code, "NOSCRIPT");
  assert.equal((decodeOne("-\r\n") as RespError).code, "");
});

Deno.test("integers decode to numbers, or bigints outside the safe range", () => {
  assert.deepEqual(decodeAll(":0\r\n:-42\r\n:1000\r\n:123456789012345\r\n"), [
    0,
    -42,
    1000,
    123456789012345,
  ]);
  assert.ok(Object.is(decodeOne(":-0\r\n"), 0));
  assert.equal(decodeOne(":9007199254740991\r\n"), Number.MAX_SAFE_INTEGER);
  assert.equal(decodeOne(":-9007199254740991\r\n"), -Number.MAX_SAFE_INTEGER);
  assert.equal(decodeOne(":0009007199254740991\r\n"), Number.MAX_SAFE_INTEGER);
  assert.equal(decodeOne(":9007199254740992\r\n"), 9007199254740992n);
  assert.equal(decodeOne(":9223372036854775807\r\n"), 9223372036854775807n);
  assert.equal(decodeOne(":-9223372036854775808\r\n"), -9223372036854775808n);
});

Deno.test("bulk strings decode to byte arrays; $-1 is null", () => {
  assert.deepEqual(decodeOne("$5\r\nhello\r\n"), bytes("hello"));
  assert.deepEqual(decodeOne("$0\r\n\r\n"), new Uint8Array(0));
  assert.equal(decodeOne("$-1\r\n"), null);
  // Payloads are binary safe: CR, LF, NUL and high bytes inside are data.
  assert.deepEqual(decodeOne("$6\r\n\r\n\0\xff\r\n\r\n"), bytes("\r\n\0\xff\r\n"));
});

Deno.test("arrays decode to JS arrays; *-1 is null", () => {
  assert.deepEqual(decodeOne("*0\r\n"), []);
  assert.equal(decodeOne("*-1\r\n"), null);
  assert.deepEqual(
    decodeOne("*5\r\n:1\r\n$3\r\nfoo\r\n$-1\r\n*2\r\n+a\r\n-ERR b\r\n*0\r\n"),
    [1, bytes("foo"), null, [new RespSimple("a"), new RespError("ERR b")], []],
  );
  assert.deepEqual(decodeOne("*1\r\n*1\r\n*1\r\n*-1\r\n"), [[[null]]]);
});

// ---------------------------------------------------------------------------------------------
// RESP3 types

Deno.test("RESP3 null and booleans", () => {
  assert.deepEqual(decodeAll("_\r\n#t\r\n#f\r\n"), [null, true, false]);
});

Deno.test("RESP3 doubles decode to RespDouble, including inf and nan", () => {
  const cases: [string, number][] = [
    ["1.23", 1.23],
    ["10", 10],
    ["-0", -0],
    ["1e-5", 1e-5],
    ["1.5E+300", 1.5e300],
    [".5", 0.5],
    ["3.", 3],
    ["inf", Infinity],
    ["+inf", Infinity],
    ["-inf", -Infinity],
    ["nan", NaN],
    ["-nan", NaN],
    ["1.7976931348623157e+308", Number.MAX_VALUE],
  ];
  for (const [text, value] of cases) {
    assert.deepEqual(decodeOne(`,${text}\r\n`), new RespDouble(value), text);
  }
});

Deno.test("RESP3 big numbers decode to RespBigNumber", () => {
  assert.deepEqual(
    decodeOne("(3492890328409238509324850943850943825024385\r\n"),
    new RespBigNumber(3492890328409238509324850943850943825024385n),
  );
  assert.deepEqual(decodeOne("(-12\r\n"), new RespBigNumber(-12n));
});

Deno.test("RESP3 blob errors decode to RespError", () => {
  const error = decodeOne("!21\r\nSYNTAX invalid syntax\r\n") as RespError;
  assert.deepEqual(error, new RespError("SYNTAX invalid syntax"));
  assert.equal(error.code, "SYNTAX");
  assert.deepEqual(decodeOne("!4\r\na\r\nb\r\n"), new RespError("a\r\nb"));
});

Deno.test("RESP3 verbatim strings decode to RespVerbatim", () => {
  assert.deepEqual(
    decodeOne("=15\r\ntxt:Some string\r\n"),
    new RespVerbatim("txt", bytes("Some string")),
  );
  assert.deepEqual(decodeOne("=4\r\nmkd:\r\n"), new RespVerbatim("mkd", new Uint8Array(0)));
});

Deno.test("RESP3 maps, sets and pushes", () => {
  assert.deepEqual(
    decodeOne("%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n*1\r\n#t\r\n"),
    new RespMap([[new RespSimple("first"), 1], [bytes("second"), [true]]]),
  );
  assert.deepEqual(
    decodeOne("~3\r\n+orange\r\n:1\r\n_\r\n"),
    new RespSet([new RespSimple("orange"), 1, null]),
  );
  assert.deepEqual(
    decodeOne(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"),
    new RespPush([bytes("message"), bytes("ch"), bytes("hi")]),
  );
  assert.deepEqual(decodeAll("%0\r\n~0\r\n>0\r\n"), [
    new RespMap([]),
    new RespSet([]),
    new RespPush([]),
  ]);
});

Deno.test("RESP3 attributes are decoded and dropped", () => {
  // The example from the RESP3 specification.
  assert.deepEqual(
    decodeOne(
      "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n" +
        "*2\r\n:2039123\r\n:9543892\r\n",
    ),
    [2039123, 9543892],
  );
  // Inside an aggregate an attribute does not count as an element.
  assert.deepEqual(decodeOne("*3\r\n:1\r\n:2\r\n|1\r\n+ttl\r\n:3600\r\n:3\r\n"), [1, 2, 3]);
  assert.deepEqual(decodeOne("|0\r\n|1\r\n:1\r\n:2\r\n$1\r\nx\r\n"), bytes("x"));
  assert.deepEqual(
    decodeOne("%1\r\n|1\r\n:0\r\n:0\r\n+k\r\n|0\r\n+v\r\n"),
    new RespMap([[new RespSimple("k"), new RespSimple("v")]]),
  );
  // An attribute alone is not a frame: more bytes are needed.
  assert.deepEqual(decodeAll("|1\r\n+a\r\n+b\r\n"), []);
});

Deno.test("several frames in one chunk decode one per next() call", () => {
  const decoder = new ReplyDecoder();
  decoder.push(bytes("+OK\r\n:1\r\n$-1\r\n_\r\n$1\r\nx\r\n+PA"));
  assert.deepEqual(decoder.next(), new RespSimple("OK"));
  assert.equal(decoder.next(), 1);
  assert.equal(decoder.next(), null);
  assert.equal(decoder.next(), null);
  assert.deepEqual(decoder.next(), bytes("x"));
  assert.equal(decoder.next(), undefined);
  assert.equal(decoder.next(), undefined);
  decoder.push(bytes("RTIAL\r\n"));
  assert.deepEqual(decoder.next(), new RespSimple("PARTIAL"));
  assert.equal(decoder.next(), undefined);
});

// ---------------------------------------------------------------------------------------------
// Malformed input and limits

Deno.test("malformed frames raise RespDecodeError naming the problem and offset", () => {
  const cases: [string, RegExp][] = [
    ["?", /^Unknown reply type byte 0x3f at byte offset 0$/],
    ["+OK\r\nhello\r\n", /^Unknown reply type byte 0x68 at byte offset 5$/],
    ["\r\n", /Unknown reply type byte 0x0d at byte offset 0/],
    ["+OK\rX", /^Expected LF after CR at byte offset 4$/],
    [":\r\n", /^Integer is empty at byte offset 1$/],
    [":-\r\n", /Integer is empty/],
    [":12a\r\n", /^Integer has a non-digit at byte offset 3$/],
    [":+1\r\n", /Integer has a non-digit/],
    [":1 \r\n", /Integer has a non-digit/],
    ["$\r\n", /^Length is empty at byte offset 1$/],
    ["$abc\r\n", /Length is not a non-negative integer/],
    ["$-2\r\n", /Length is not a non-negative integer/],
    ["$-1x\r\n", /Length is not a non-negative integer/],
    ["*-2\r\n", /Length is not a non-negative integer/],
    ["%-1\r\n", /Length is not a non-negative integer/],
    ["!-1\r\n", /Length is not a non-negative integer/],
    ["$?\r\n", /Streamed \('\?'\) lengths are not supported/],
    ["*?\r\n", /Streamed \('\?'\) lengths are not supported/],
    ["$99999999999999999\r\n", /Length is too large/],
    ["$3\r\nabcd\r\n", /^Expected CRLF after bulk payload at byte offset 7$/],
    ["$3\r\nabc\n\r", /Expected CRLF after bulk payload at byte offset 7/],
    ["_x\r\n", /^Null frame has content at byte offset 1$/],
    ["#x\r\n", /Boolean frame is not #t or #f/],
    ["#tt\r\n", /Boolean frame is not #t or #f/],
    ["#\r\n", /Boolean frame is not #t or #f/],
    [",abc\r\n", /^Double is malformed at byte offset 1$/],
    [",1.2.3\r\n", /Double is malformed/],
    [",\r\n", /Double is malformed/],
    [",0x10\r\n", /Double is malformed/],
    [",Infinity\r\n", /Double is malformed/],
    ["(12x\r\n", /^Big number is malformed at byte offset 1$/],
    ["(\r\n", /Big number is malformed/],
    ["=3\r\ntxt\r\n", /Verbatim string is shorter than its format prefix/],
    ["=5\r\ntxt;a\r\n", /^Verbatim string lacks the ':' after its format at byte offset 4$/],
    [":" + "1".repeat(33) + "\r\n", /^Reply header line is too long at byte offset 0$/],
    ["*" + "1".repeat(40), /Reply header line is too long/],
  ];
  for (const [input, pattern] of cases) assertDecodeError(input, pattern);
});

Deno.test("offsets in errors count from the start of the stream across pushes", () => {
  const decoder = new ReplyDecoder();
  decoder.push(bytes("+OK\r\n$3\r\nab"));
  assert.deepEqual(decoder.next(), new RespSimple("OK"));
  assert.equal(decoder.next(), undefined);
  decoder.push(bytes("cX\r\n:1\r\n"));
  assert.throws(() => decoder.next(), /Expected CRLF after bulk payload at byte offset 12/);
});

Deno.test("a decode error is sticky", () => {
  const decoder = new ReplyDecoder();
  decoder.push(bytes("+OK\r\n?"));
  assert.deepEqual(decoder.next(), new RespSimple("OK"));
  assert.throws(() => decoder.next(), RespDecodeError);
  decoder.push(bytes("+OK\r\n"));
  assert.throws(() => decoder.next(), /Unknown reply type byte 0x3f at byte offset 5/);
});

Deno.test("bulk lengths beyond maxBulkLength are rejected before the payload arrives", () => {
  const options = { maxBulkLength: 10 };
  assert.deepEqual(decodeOne("$10\r\n0123456789\r\n", options), bytes("0123456789"));
  assertDecodeError(
    "$11\r\n",
    /^Bulk length 11 exceeds the limit of 10 at byte offset 1$/,
    options,
  );
  assertDecodeError("!11\r\n", /Bulk length 11 exceeds the limit of 10/, options);
  assertDecodeError("=11\r\n", /Bulk length 11 exceeds the limit of 10/, options);
  assertDecodeError("*1\r\n$600000000\r\n", /exceeds the limit of 536870912 at byte offset 5/);
  // The same bound applies to simple lines, so a line without CR cannot grow without limit.
  assert.deepEqual(decodeOne("+0123456789\r\n", options), new RespSimple("0123456789"));
  assertDecodeError("+0123456789a", /Reply header line is too long at byte offset 0/, options);
  assertDecodeError("-0123456789a\r\n", /Reply header line is too long/, options);
});

function nested(depth: number, open = "*1\r\n"): string {
  return open.repeat(depth) + ":1\r\n";
}

function nestedValue(depth: number): RespValue {
  let value: RespValue = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

Deno.test("aggregates nest up to maxDepth", () => {
  assert.deepEqual(decodeOne(nested(3), { maxDepth: 3 }), nestedValue(3));
  assertDecodeError(nested(4), /^Aggregate nesting exceeds the limit of 3 at byte offset 12$/, {
    maxDepth: 3,
  });
  assert.deepEqual(decodeOne(nested(64)), nestedValue(64));
  assertDecodeError(nested(65), /Aggregate nesting exceeds the limit of 64 at byte offset 256/);
  // Every aggregate kind counts, empty ones and attributes included.
  assertDecodeError("*1\r\n%1\r\n~0\r\n", /Aggregate nesting exceeds the limit of 2/, {
    maxDepth: 2,
  });
  assertDecodeError("*1\r\n|1\r\n:1\r\n:1\r\n:1\r\n", /Aggregate nesting/, { maxDepth: 1 });
  assert.deepEqual(decodeOne("*1\r\n*-1\r\n", { maxDepth: 1 }), [null]);
  assertDecodeError("*0\r\n", /Aggregate nesting exceeds the limit of 0/, { maxDepth: 0 });
});

// ---------------------------------------------------------------------------------------------
// Chunking and copies

Deno.test("a frame split at every byte decodes identically", () => {
  const input = bytes(
    "*6\r\n+OK\r\n-ERR x\r\n:-12345678901234567890\r\n$4\r\n\r\n\r\n\r\n" +
      "%1\r\n|1\r\n+a\r\n:1\r\n=7\r\ntxt:abc\r\n~1\r\n,-inf\r\n>2\r\n#f\r\n_\r\n(42\r\n",
  );
  const whole = decodeAll(input);
  assert.equal(whole.length, 2);
  assert.deepEqual(decodeChunked(input, [1]), { values: whole });
  for (let cut = 0; cut <= input.length; cut++) {
    const decoder = new ReplyDecoder();
    decoder.push(input.subarray(0, cut));
    const first = decoder.next();
    if (cut < input.length - 5) assert.equal(first, undefined, `cut at ${cut}`);
    decoder.push(input.subarray(cut));
    const values = first === undefined ? [] : [first];
    for (let value = decoder.next(); value !== undefined; value = decoder.next()) {
      values.push(value);
    }
    assert.deepEqual(values, whole, `cut at ${cut}`);
  }
});

Deno.test("decoded bulk strings are copies that later input never overwrites", () => {
  for (const sizes of [[], [1], [3, 7]]) {
    const input = bytes("$3\r\nabc\r\n=8\r\ntxt:wxyz\r\n$3\r\ndef\r\n");
    // decodeChunked overwrites each chunk after pushing it, as a reused socket buffer would be.
    const { values } = decodeChunked(input, sizes);
    const [first, verbatim, second] = values as [Uint8Array, RespVerbatim, Uint8Array];
    decodeChunked(bytes("$3\r\nXXX\r\n".repeat(10_000)), sizes);
    assert.deepEqual([first, verbatim.text, second], [bytes("abc"), bytes("wxyz"), bytes("def")]);
  }
  const decoder = new ReplyDecoder();
  const chunk = bytes("$5\r\nhello\r\n$2");
  decoder.push(chunk);
  chunk.fill(0);
  decoder.push(bytes("\r\nhi\r\n"));
  const hello = decoder.next() as Uint8Array;
  assert.deepEqual(hello, bytes("hello"));
  assert.deepEqual(decoder.next(), bytes("hi"));
  // Many small values decoded later (filling several slabs) leave earlier ones intact.
  const later: Uint8Array[] = [];
  for (let i = 0; i < 5000; i++) {
    decoder.push(bytes(`$4\r\n${String(i).padStart(4, "0")}\r\n`));
    later.push(decoder.next() as Uint8Array);
  }
  assert.deepEqual(hello, bytes("hello"));
  later.forEach((value, i) => assert.deepEqual(value, bytes(String(i).padStart(4, "0"))));
  // Larger values own their memory outright.
  const big = decodeOne(`$2000\r\n${"b".repeat(2000)}\r\n`) as Uint8Array;
  assert.equal(big.buffer.byteLength, 2000);
});

// Decoding in chunks must take linear time (a decoder that re-scans its buffer on every push
// takes minutes): `deno task bench:parsers` measures these two inputs at three sizes, since a
// time limit here fails falsely on a loaded machine.
Deno.test("a 100 MB bulk string in 64 KB chunks decodes whole, and the value after it too", () => {
  const size = 100 * 1024 * 1024;
  const chunk = new Uint8Array(64 * 1024);
  const decoder = new ReplyDecoder();
  decoder.push(bytes(`+before\r\n$${size}\r\n`));
  assert.deepEqual(decoder.next(), new RespSimple("before"));
  for (let sent = 0, i = 0; sent < size; sent += chunk.length, i++) {
    chunk.fill(i & 0xff);
    decoder.push(chunk);
    assert.equal(decoder.next(), undefined);
  }
  decoder.push(bytes("\r"));
  assert.equal(decoder.next(), undefined);
  decoder.push(bytes("\n:7\r\n"));
  const bulk = decoder.next() as Uint8Array;
  assert.equal(bulk.length, size);
  assert.equal(bulk[0], 0);
  assert.equal(bulk[size - 1], (size / chunk.length - 1) & 0xff);
  assert.equal(decoder.next(), 7);
});

Deno.test("long arrays and long lines arriving in small chunks decode whole", () => {
  const count = 300_000;
  const array = bytes(`*${count}\r\n` + ":12345\r\n".repeat(count));
  const line = bytes(`+${"y".repeat(4 * 1024 * 1024)}\r\n`);
  const { values } = decodeChunked(concat([array, line]), [1024]);
  assert.equal(values.length, 2);
  assert.equal((values[0] as number[]).length, count);
  assert.equal((values[1] as RespSimple).value.length, 4 * 1024 * 1024);
});

// ---------------------------------------------------------------------------------------------
// Property tests

/**
 * The test's own RESP encoder. Where the protocol has several encodings of a value (three
 * nulls, two error forms, attributes in front of any value) `random` picks one.
 */
function encodeValue(value: RespValue, out: Uint8Array[], random: () => number): void {
  const text = (s: string) => out.push(utf8.encode(s));
  if (random() < 0.1) {
    const entries = Math.floor(random() * 3);
    text(`|${entries}\r\n`);
    for (let i = 0; i < entries; i++) text(`+attr${i}\r\n:${i}\r\n`);
  }
  if (value === null) {
    text(["$-1\r\n", "*-1\r\n", "_\r\n"][Math.floor(random() * 3)]);
  } else if (typeof value === "boolean") {
    text(value ? "#t\r\n" : "#f\r\n");
  } else if (typeof value === "number" || typeof value === "bigint") {
    text(`:${value}\r\n`);
  } else if (value instanceof Uint8Array) {
    text(`$${value.length}\r\n`);
    out.push(value);
    text("\r\n");
  } else if (Array.isArray(value)) {
    text(`*${value.length}\r\n`);
    for (const item of value) encodeValue(item, out, random);
  } else if (value instanceof RespSimple) {
    text(`+${value.value}\r\n`);
  } else if (value instanceof RespError) {
    if (!/[\r\n]/.test(value.message) && random() < 0.5) {
      text(`-${value.message}\r\n`);
    } else {
      const message = utf8.encode(value.message);
      text(`!${message.length}\r\n`);
      out.push(message);
      text("\r\n");
    }
  } else if (value instanceof RespMap) {
    text(`%${value.entries.length}\r\n`);
    for (const [key, item] of value.entries) {
      encodeValue(key, out, random);
      encodeValue(item, out, random);
    }
  } else if (value instanceof RespSet || value instanceof RespPush) {
    text(`${value instanceof RespSet ? "~" : ">"}${value.items.length}\r\n`);
    for (const item of value.items) encodeValue(item, out, random);
  } else if (value instanceof RespDouble) {
    const v = value.value;
    const repr = Number.isNaN(v)
      ? "nan"
      : v === Infinity
      ? "inf"
      : v === -Infinity
      ? "-inf"
      : Object.is(v, -0)
      ? "-0"
      : String(v);
    text(`,${repr}\r\n`);
  } else if (value instanceof RespBigNumber) {
    text(`(${value.value}\r\n`);
  } else {
    text(`=${value.text.length + 4}\r\n${value.format}:`);
    out.push(value.text);
    text("\r\n");
  }
}

function encodeFrames(values: RespValue[], seed: number): Uint8Array {
  const out: Uint8Array[] = [];
  const random = mulberry32(seed);
  for (const value of values) encodeValue(value, out, random);
  return concat(out);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const lineText = fc.string({ unit: "grapheme", maxLength: 12 }).filter((s) => !/[\r\n]/.test(s));
const leaf: fc.Arbitrary<RespValue> = fc.oneof(
  lineText.map((s) => new RespSimple(s)),
  fc.oneof(lineText, fc.string({ maxLength: 8 }).map((s) => s + "\r\n"))
    .filter((s) => s.isWellFormed())
    .map((s) => new RespError(s)),
  fc.maxSafeInteger(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
    .map((b) => (b >= -MAX_SAFE && b <= MAX_SAFE ? Number(b) : b)),
  fc.uint8Array({ maxLength: 24 }),
  fc.constant(null),
  fc.boolean(),
  fc.double().map((d) => new RespDouble(d)),
  fc.bigInt().map((b) => new RespBigNumber(b)),
  fc.tuple(
    fc.string({
      unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz"),
      minLength: 3,
      maxLength: 3,
    }),
    fc.uint8Array({ maxLength: 16 }),
  ).map(([format, text]) => new RespVerbatim(format, text)),
);
const { value: respValue } = fc.letrec<{ value: RespValue; items: RespValue[] }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 4, depthIdentifier: "resp" },
    leaf,
    tie("items"),
    fc.array(fc.tuple(tie("value"), tie("value")), { maxLength: 3, depthIdentifier: "resp" })
      .map((entries) => new RespMap(entries)),
    tie("items").map((items) => new RespSet(items)),
    tie("items").map((items) => new RespPush(items)),
  ),
  items: fc.array(tie("value"), { maxLength: 4, depthIdentifier: "resp" }),
}));
const chunkSizes = fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 });

Deno.test("property: frames split into chunks anywhere decode like the whole input", () => {
  fc.assert(
    fc.property(
      fc.array(respValue, { maxLength: 6 }),
      fc.integer(),
      chunkSizes,
      (values, seed, sizes) => {
        const input = encodeFrames(values, seed);
        assert.deepEqual(decodeAll(input), values);
        assert.deepEqual(decodeChunked(input, sizes), { values });
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("property: every strict prefix of a frame asks for more bytes", () => {
  fc.assert(
    fc.property(respValue, fc.integer(), (value, seed) => {
      const input = encodeFrames([value], seed);
      // Every cut for small frames; for big ones (rare) a spread of cuts keeps the run short.
      const step = Math.max(1, Math.floor(input.length / 400));
      for (let cut = 0; cut < input.length; cut += step) {
        const decoder = new ReplyDecoder();
        decoder.push(input.subarray(0, cut));
        assert.equal(decoder.next(), undefined, `cut at ${cut}`);
        assert.equal(decoder.next(), undefined, `cut at ${cut}`);
        decoder.push(input.subarray(cut));
        assert.deepEqual(decoder.next(), value, `cut at ${cut}`);
        assert.equal(decoder.next(), undefined);
      }
    }),
    { numRuns: 150 },
  );
});

const protocolBytes = bytes("+-:$*_#,(!=%~|>\r\n\r\n0123456789-?tf.infa");
const garbage: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.array(fc.constantFrom(...protocolBytes), { maxLength: 48 }).map((b) => Uint8Array.from(b)),
  // Valid frames with a few bytes overwritten, inserted or removed.
  fc.tuple(
    fc.array(respValue, { minLength: 1, maxLength: 3 }),
    fc.integer(),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: -1, max: 255 }), fc.boolean()), {
      minLength: 1,
      maxLength: 3,
    }),
  ).map(([values, seed, edits]) => {
    const data = [...encodeFrames(values, seed)];
    for (const [position, byte, insert] of edits) {
      const at = position % (data.length + 1);
      if (byte < 0) data.splice(at, 1);
      else if (insert) data.splice(at, 0, byte);
      else data[at] = byte;
    }
    return Uint8Array.from(data);
  }),
);

Deno.test("property: arbitrary bytes only raise RespDecodeError, whatever the chunking", () => {
  fc.assert(
    fc.property(garbage, chunkSizes, fc.constantFrom(64, 3), (input, sizes, maxDepth) => {
      const options = { maxDepth, maxBulkLength: 1 << 20 };
      // decodeChunked rethrows anything but RespDecodeError and bounds the number of calls.
      const whole = decodeChunked(input, [], options);
      assert.deepEqual(decodeChunked(input, sizes, options), whole);
      assert.deepEqual(decodeChunked(input, [1], options), whole);
    }),
    { numRuns: 1000 },
  );
});

// ---------------------------------------------------------------------------------------------
// encodeCommand

Deno.test("encodeCommand produces a RESP2 multibulk request", () => {
  const decoder = new TextDecoder();
  assert.equal(
    decoder.decode(encodeCommand(["SET", "key", "v\u00e4lue"])),
    "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$6\r\nv\u00e4lue\r\n",
  );
  assert.equal(decoder.decode(encodeCommand([])), "*0\r\n");
  assert.equal(decoder.decode(encodeCommand([""])), "*1\r\n$0\r\n\r\n");
  assert.equal(
    decoder.decode(encodeCommand(["INCRBYFLOAT", 42, -1.5, Infinity, -Infinity, NaN])),
    "*6\r\n$11\r\nINCRBYFLOAT\r\n$2\r\n42\r\n$4\r\n-1.5\r\n$3\r\ninf\r\n$4\r\n-inf\r\n" +
      "$3\r\nnan\r\n",
  );
  assert.deepEqual(
    encodeCommand([bytes("\0\xff\r\n"), "\u{1f600}", "\ud800"]),
    concat([
      bytes("*3\r\n$4\r\n\0\xff\r\n\r\n$4\r\n"),
      utf8.encode("\u{1f600}"),
      bytes("\r\n$3\r\n\xef\xbf\xbd\r\n"),
    ]),
  );
  const long = "k".repeat(10_000);
  assert.deepEqual(encodeCommand([long]), bytes(`*1\r\n$10000\r\n${long}\r\n`));
});

Deno.test("property: encodeCommand output decodes to the UTF-8 bytes of its arguments", () => {
  const arg = fc.oneof(
    fc.string({ unit: "binary", maxLength: 80 }),
    fc.string({ maxLength: 80 }),
    fc.uint8Array({ maxLength: 80 }),
    fc.integer(),
  );
  fc.assert(
    fc.property(fc.array(arg, { maxLength: 12 }), (args) => {
      const expected = args.map((a) => a instanceof Uint8Array ? a : utf8.encode(String(a)));
      assert.deepEqual(decodeOne(encodeCommand(args)), expected);
    }),
  );
});

Deno.test("invalid limits are rejected when the decoder is created", () => {
  assert.throws(() => new ReplyDecoder({ maxDepth: -1 }), RangeError);
  assert.throws(() => new ReplyDecoder({ maxDepth: 1.5 }), RangeError);
  assert.throws(() => new ReplyDecoder({ maxBulkLength: NaN }), /maxBulkLength must be/);
});
