/**
 * Tests for the incremental request parser: multibulk and inline commands, pipelining, requests
 * split at every byte, binary arguments, every protocol error with Redis's exact text, the
 * unauthenticated limits, and properties that chunking never changes the result, that garbage
 * only ever raises ProtocolError, and that a large bulk lets the caller grow its buffer once.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  parseStrictInteger,
  ProtocolError,
  RequestParser,
} from "../../../src/resp/request_parser.ts";
import { bytes, concat, text } from "../../support/bytes.ts";
import { createCommandTable } from "../../../src/commands/mod.ts";

const MAX_BULK = 512 * 1024 * 1024;
/** The server's command table, whose usual spellings of names the parser may intern. */
const TABLE = createCommandTable();
const KIB64 = 64 * 1024;

/** The RESP multibulk form of `args`, built independently of the code under test. */
function multibulk(args: readonly (string | Uint8Array)[]): Uint8Array {
  const parts: Uint8Array[] = [bytes(`*${args.length}\r\n`)];
  for (const arg of args) {
    const data = typeof arg === "string" ? bytes(arg) : arg;
    parts.push(bytes(`$${data.length}\r\n`), data, bytes("\r\n"));
  }
  return concat(parts);
}

/** The arguments of the command the last parse completed, as byte text (null: none). */
function argvOf(parser: RequestParser): string[] | null {
  return parser.command === null ? null : parser.command.map(text);
}

/** What a sequence of feeds produced: the commands (arguments as byte text) and the error. */
interface Outcome {
  commands: string[][];
  error: string | null;
  /** Bytes still buffered (not consumed) at the end. */
  buffered: number;
}

/** Bytes written past the valid data so that a parser reading stale bytes would be caught. */
const STALE = bytes("\r\n$*\r\n0\n");

/**
 * Emulates the connection's buffer handling: one reusable buffer holding the unconsumed bytes
 * `[start, end)`; before each socket read it compacts and grows (to `pendingBulkBytes` when that is
 * known) as the connection does, a read fills at most the free space, every complete command is
 * taken, and the bytes before the returned position are dropped. Checks the parser's contract on
 * every call.
 */
class Feeder {
  readonly parser: RequestParser;
  readonly commands: Uint8Array[][] = [];
  buf: Uint8Array;
  start = 0;
  end = 0;
  /** How many times the buffer was reallocated. */
  grows = 0;
  readonly #poison: boolean;

  constructor(
    options: { maxBulk?: number; capacity?: number; poison?: boolean; names?: boolean } = {},
  ) {
    this.parser = new RequestParser(options.maxBulk ?? MAX_BULK);
    if (options.names) this.parser.names = TABLE;
    this.buf = new Uint8Array(options.capacity ?? 16);
    this.#poison = options.poison ?? true;
  }

  /** Delivers `chunk` from the socket: as many reads as the free space requires. */
  push(chunk: Uint8Array): void {
    let from = 0;
    while (from < chunk.length) {
      this.#makeRoom();
      const n = Math.min(chunk.length - from, this.buf.length - this.end);
      this.buf.set(chunk.subarray(from, from + n), this.end);
      this.end += n;
      from += n;
      if (this.#poison) {
        for (let i = this.end; i < this.buf.length; i++) this.buf[i] = STALE[i % STALE.length];
      }
      this.#drain();
    }
  }

  #makeRoom(): void {
    const pending = this.end - this.start;
    const wanted = Math.max(this.parser.pendingBulkBytes, pending + 1);
    if (
      this.start > 0 && (this.end === this.buf.length || wanted > this.buf.length - this.start)
    ) {
      this.buf.copyWithin(0, this.start, this.end);
      this.start = 0;
      this.end = pending;
    }
    if (wanted > this.buf.length - this.start || this.end === this.buf.length) {
      let size = this.buf.length * 2;
      while (size < wanted) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.buf.subarray(this.start, this.end));
      this.buf = grown;
      this.start = 0;
      this.end = pending;
      this.grows++;
    }
  }

  #drain(): void {
    const limit = this.end - this.start + 2;
    for (let calls = 0; this.start < this.end; calls++) {
      assert.ok(calls <= limit, "parse keeps returning commands without consuming bytes");
      const before = this.start;
      const pos = this.parser.parse(this.buf, before, this.end);
      assert.ok(
        pos >= before && pos <= this.end,
        `position ${pos} outside [${before}, ${this.end}]`,
      );
      this.start = pos;
      const command = this.parser.command;
      if (command === null) {
        // Asking again without new bytes changes nothing.
        assert.equal(this.parser.parse(this.buf, pos, this.end), pos);
        assert.equal(this.parser.command, null);
        break;
      }
      assert.ok(pos > before, "a completed command consumed no bytes");
      // Arguments are views valid until the buffer changes: consume them now, as dispatch does.
      this.commands.push(command.map((arg) => arg.slice()));
    }
    if (this.start >= this.end) this.start = this.end = 0;
  }
}

/** Feeds `chunks` one by one and reports the commands and the protocol error, if any. */
function feed(
  chunks: Uint8Array[],
  options: { maxBulk?: number; unauth?: boolean; names?: boolean } = {},
): Outcome {
  const feeder = new Feeder({ maxBulk: options.maxBulk, names: options.names });
  feeder.parser.unauthenticated = options.unauth ?? false;
  let error: string | null = null;
  try {
    for (const chunk of chunks) feeder.push(chunk);
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    error = e.message;
  }
  return {
    commands: feeder.commands.map((argv) => argv.map(text)),
    error,
    // After an error the connection drops its buffer, so what is left does not matter.
    buffered: error === null ? feeder.end - feeder.start : 0,
  };
}

/** Parses a whole byte-text buffer at once. */
function whole(
  input: string | Uint8Array,
  options: { maxBulk?: number; unauth?: boolean; names?: boolean } = {},
) {
  return feed([typeof input === "string" ? bytes(input) : input], options);
}

/** Splits `data` at the given cut points. */
function splitAt(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const point of points) {
    chunks.push(data.subarray(from, point));
    from = point;
  }
  chunks.push(data.subarray(from));
  return chunks;
}

/** The protocol error message `input` raises in a fresh parser, or null when none. */
function errorOf(input: string, options: { maxBulk?: number; unauth?: boolean } = {}) {
  return whole(input, options).error;
}

// ---------------------------------------------------------------------------------------------
// Multibulk commands

Deno.test("a multibulk command parses into its arguments and returns the position after it", () => {
  const parser = new RequestParser(MAX_BULK);
  const input = bytes("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
  assert.equal(parser.parse(input, 0, input.length), input.length);
  assert.deepEqual(argvOf(parser), ["SET", "key", "value"]);
  assert.equal(parser.pendingBulkBytes, 0);
  assert.equal(parser.partialBytes, 0);
});

Deno.test("parsing starts at the given position and never reads past the given end", () => {
  const parser = new RequestParser(MAX_BULK);
  const input = bytes("garbage*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nECHO\r\n");
  const end = 7 + 14;
  assert.equal(parser.parse(input, 7, end), end);
  assert.deepEqual(argvOf(parser), ["PING"]);
  // The same bytes with `end` one short of the final LF: nothing is complete yet.
  const again = new RequestParser(MAX_BULK);
  assert.equal(again.parse(input, 7, end - 1), 7 + 8);
  assert.equal(again.command, null);
});

Deno.test("pipelined commands in one buffer are returned one per call, in order", () => {
  const parser = new RequestParser(MAX_BULK);
  const input = concat([
    multibulk(["PING"]),
    multibulk(["ECHO", "hello"]),
    bytes("PING inline\r\n"),
    multibulk(["SET", "k", ""]),
  ]);
  const seen: string[][] = [];
  let pos = 0;
  while (pos < input.length) {
    pos = parser.parse(input, pos, input.length);
    assert.ok(parser.command !== null);
    seen.push(parser.command.map(text));
  }
  assert.deepEqual(seen, [["PING"], ["ECHO", "hello"], ["PING", "inline"], ["SET", "k", ""]]);
  assert.equal(parser.parse(input, pos, input.length), pos);
  assert.equal(parser.command, null);
});

Deno.test("bytes before the returned position are consumed and read arguments are kept", () => {
  const parser = new RequestParser(MAX_BULK);
  const first = bytes("*2\r\n$3\r\nfoo\r\n$3\r\nba");
  const pos = parser.parse(first, 0, first.length);
  assert.equal(parser.command, null);
  // `foo` and the length line of the second argument are consumed; `ba` is not.
  assert.equal(pos, first.length - 2);
  assert.equal(parser.partialBytes, 3);
  assert.equal(parser.pendingBulkBytes, 5);
  // The caller may hand over a completely different buffer holding the unconsumed bytes.
  first.fill(0);
  const second = bytes("xxbar\r\nPING\r\n");
  assert.equal(parser.parse(second, 2, second.length), 7);
  assert.deepEqual(argvOf(parser), ["foo", "bar"]);
  assert.equal(parser.partialBytes, 0);
  assert.equal(parser.pendingBulkBytes, 0);
  assert.equal(parser.parse(second, 7, second.length), second.length);
  assert.deepEqual(argvOf(parser), ["PING"]);
});

Deno.test("a complete command's arguments are views into the read buffer, not copies", () => {
  const parser = new RequestParser(MAX_BULK);
  const input = multibulk(["ECHO", "abc"]);
  parser.parse(input, 0, input.length);
  const argv = parser.command as Uint8Array[];
  for (const arg of argv) assert.equal(arg.buffer, input.buffer);
  assert.deepEqual(argv.map(text), ["ECHO", "abc"]);
});

Deno.test("arguments read before a command is complete survive reuse of the read buffer", () => {
  const parser = new RequestParser(MAX_BULK);
  const input = multibulk(["SET", "key", "value"]);
  const cut = input.length - 4;
  const buffer = new Uint8Array(input.length);
  buffer.set(input.subarray(0, cut));
  const pos = parser.parse(buffer, 0, cut);
  assert.equal(parser.command, null);
  buffer.fill(120, 0, pos);
  buffer.copyWithin(0, pos, cut);
  buffer.set(input.subarray(cut), cut - pos);
  assert.equal(parser.parse(buffer, 0, input.length - pos), input.length - pos);
  assert.deepEqual(argvOf(parser), ["SET", "key", "value"]);
});

Deno.test("binary arguments with NUL, CR, LF and bytes 0x80-0xFF come back unchanged", () => {
  const all = new Uint8Array(256).map((_, i) => i);
  const tricky = bytes("\r\n\0$3\r\n*1\r\n\r\n\r");
  const out = whole(multibulk(["SET", all, tricky, bytes("\xff\xfe\x80")]));
  assert.equal(out.error, null);
  assert.deepEqual(out.commands, [["SET", text(all), text(tricky), "\xff\xfe\x80"]]);
});

Deno.test("an empty bulk is an empty argument", () => {
  assert.deepEqual(whole("*2\r\n$0\r\n\r\n$0\r\n\r\n").commands, [["", ""]]);
  assert.deepEqual(whole("*1\r\n$0\r\n\r\n").commands, [[""]]);
});

Deno.test("*0 and *-1 are empty commands that consume their line", () => {
  for (const header of ["*0\r\n", "*-1\r\n", "*-5\r\n"]) {
    const parser = new RequestParser(MAX_BULK);
    const input = bytes(header + "*1\r\n$4\r\nPING\r\n");
    const pos = parser.parse(input, 0, input.length);
    assert.equal(pos, header.length, header);
    assert.deepEqual(parser.command, [], header);
    assert.equal(parser.parse(input, pos, input.length), input.length);
    assert.deepEqual(argvOf(parser), ["PING"]);
  }
});

Deno.test("the largest multibulk length (INT_MAX) is accepted and waits for its elements", () => {
  const out = whole("*2147483647\r\n$4\r\nPING\r\n");
  assert.equal(out.error, null);
  assert.deepEqual(out.commands, []);
  assert.equal(out.buffered, 0);
});

Deno.test("a bulk of exactly maxBulkLength bytes is accepted", () => {
  assert.deepEqual(whole("*1\r\n$10\r\n0123456789\r\n", { maxBulk: 10 }).commands, [[
    "0123456789",
  ]]);
});

Deno.test("the bytes after a bulk payload are skipped without checking, as Redis does", () => {
  // Checked against redis-server 7.0.15: it skips two bytes after the payload, whatever they are.
  assert.deepEqual(whole("*1\r\n$1\r\nab\r\nPING\r\n").commands, [["a"], [], ["PING"]]);
});

// ---------------------------------------------------------------------------------------------
// Requests split across reads

const SAMPLES: [string, Uint8Array, string[][]][] = [
  ["a SET with three arguments", multibulk(["SET", "key", "value"]), [["SET", "key", "value"]]],
  [
    "binary arguments",
    multibulk(["ECHO", bytes("\0\r\n\x80\xff$*")]),
    [["ECHO", "\0\r\n\x80\xff$*"]],
  ],
  ["empty arguments", multibulk(["", "x", ""]), [["", "x", ""]]],
  ["an empty multibulk", bytes("*0\r\n*-1\r\n"), [[], []]],
  ["an inline command with CRLF", bytes('SET k "a b"\r\n'), [["SET", "k", "a b"]]],
  ["an inline command with LF only", bytes("PING\n"), [["PING"]]],
  [
    "a pipeline mixing both forms",
    concat([multibulk(["PING"]), bytes("ECHO x\r\n\r\n"), multibulk(["GET", "k"])]),
    [["PING"], ["ECHO", "x"], [], ["GET", "k"]],
  ],
  [
    "a ten-byte bulk",
    multibulk(["ECHO", "0123456789"]),
    [["ECHO", "0123456789"]],
  ],
];

Deno.test("a request split at every byte position parses the same as when whole", () => {
  for (const [what, input, expected] of SAMPLES) {
    assert.deepEqual(whole(input), { commands: expected, error: null, buffered: 0 }, what);
    for (let cut = 0; cut <= input.length; cut++) {
      const out = feed([input.subarray(0, cut), input.subarray(cut)]);
      assert.deepEqual(out, { commands: expected, error: null, buffered: 0 }, `${what} @${cut}`);
    }
  }
});

Deno.test("a request fed one byte at a time parses the same as when whole", () => {
  for (const [what, input, expected] of SAMPLES) {
    const chunks = Array.from(input, (_, i) => input.subarray(i, i + 1));
    assert.deepEqual(feed(chunks), { commands: expected, error: null, buffered: 0 }, what);
  }
});

Deno.test("an incomplete request returns null and keeps the unconsumed bytes", () => {
  for (const partial of ["*", "*2", "*2\r", "*2\r\n$", "*2\r\n$3\r", "PING", "PING\r"]) {
    const out = whole(partial);
    assert.deepEqual(out.commands, [], partial);
    assert.equal(out.error, null, partial);
  }
  // A bulk whose length line was read is consumed up to its payload.
  assert.equal(whole("*2\r\n$3\r\nfoo\r\n$3\r\nb").buffered, 1);
});

// ---------------------------------------------------------------------------------------------
// Inline commands

Deno.test("inline commands are split on spaces and tabs, with CRLF or LF line ends", () => {
  assert.deepEqual(whole("PING\r\n").commands, [["PING"]]);
  assert.deepEqual(whole("PING\n").commands, [["PING"]]);
  assert.deepEqual(whole("  SET \t k   v  \r\n").commands, [["SET", "k", "v"]]);
  assert.deepEqual(whole("a\tb\n").commands, [["a", "b"]]);
  assert.deepEqual(whole("ECHO a\rb\n").commands, [["ECHO", "a", "b"]]);
});

Deno.test("inline commands honour double and single quotes", () => {
  assert.deepEqual(whole('SET k "hello world"\r\n').commands, [["SET", "k", "hello world"]]);
  assert.deepEqual(whole("SET k 'it\\'s'\r\n").commands, [["SET", "k", "it's"]]);
  assert.deepEqual(whole('ECHO "\\x00\\xff\\r\\n"\n').commands, [["ECHO", "\0\xff\r\n"]]);
  assert.deepEqual(whole('ECHO ""\r\n').commands, [["ECHO", ""]]);
});

Deno.test("empty and blank inline lines are empty commands", () => {
  assert.deepEqual(whole("\r\n").commands, [[]]);
  assert.deepEqual(whole("\n").commands, [[]]);
  assert.deepEqual(whole("   \t \r\n").commands, [[]]);
  assert.deepEqual(whole("\r\n\nPING\n").commands, [[], [], ["PING"]]);
});

Deno.test("an inline line without its newline waits for more bytes", () => {
  const parser = new RequestParser(MAX_BULK);
  const input = bytes("PING");
  assert.equal(parser.parse(input, 0, input.length), 0);
  assert.equal(parser.command, null);
});

Deno.test("inline commands are not limited for unauthenticated clients", () => {
  const line = Array.from({ length: 20 }, (_, i) => `a${i}`).join(" ");
  const out = whole(line + "\r\n", { unauth: true });
  assert.equal(out.error, null);
  assert.equal(out.commands[0].length, 20);
});

// ---------------------------------------------------------------------------------------------
// Protocol errors

Deno.test("protocol errors are ProtocolError instances carrying Redis's text", () => {
  const parser = new RequestParser(MAX_BULK);
  const input = bytes("*x\r\n");
  assert.throws(
    () => parser.parse(input, 0, input.length),
    (e: unknown) =>
      e instanceof ProtocolError && e.name === "ProtocolError" &&
      e.message === "invalid multibulk length",
  );
});

Deno.test("a multibulk length that is not a number or exceeds INT_MAX is invalid", () => {
  for (
    const input of [
      "*x\r\n",
      "*\r\n",
      "*1x\r\n",
      "*+1\r\n",
      "*01\r\n",
      "* 1\r\n",
      "*1 \r\n",
      "*-\r\n",
      "*-0\r\n",
      "*1.0\r\n",
      "*2147483648\r\n",
      "*9223372036854775807\r\n",
      "*99999999999\r\n",
      "*123456789012345678901\r\n",
    ]
  ) {
    assert.equal(errorOf(input), "invalid multibulk length", JSON.stringify(input));
  }
});

Deno.test("a negative multibulk length is ignored down to INT64_MIN and invalid below it", () => {
  // Checked against redis-server 7.0.15: string2ll accepts down to LLONG_MIN, so these are
  // ignored like *-1 and the PING after them is answered...
  for (const count of ["-9223372036854775000", "-9223372036854775807", "-9223372036854775808"]) {
    const out = whole(`*${count}\r\nPING\r\n`);
    assert.deepEqual(out, { commands: [[], ["PING"]], error: null, buffered: 0 }, count);
  }
  // ...while one below overflows and is refused.
  for (const count of ["-9223372036854775809", "-9223372036854777000", "-9999999999999999999"]) {
    assert.equal(errorOf(`*${count}\r\n`), "invalid multibulk length", count);
  }
});

Deno.test("a bulk length must be a strict non-negative integer within maxBulkLength", () => {
  for (
    const line of [
      "$x",
      "$",
      "$-1",
      "$-0",
      "$-5",
      "$+1",
      "$01",
      "$00",
      "$ 1",
      "$1 ",
      "$1x",
      "$1.0",
      "$999999999999",
      "$9223372036854775808",
    ]
  ) {
    assert.equal(errorOf(`*1\r\n${line}\r\n`), "invalid bulk length", line);
  }
  assert.equal(errorOf("*1\r\n$11\r\n", { maxBulk: 10 }), "invalid bulk length");
  assert.equal(errorOf("*1\r\n$10\r\n", { maxBulk: 10 }), null);
});

Deno.test("a change of maxBulkLength applies to the next length line", () => {
  const parser = new RequestParser(MAX_BULK);
  const input = bytes("*2\r\n$1\r\na\r\n$6\r\n");
  parser.maxBulkLength = 5;
  assert.throws(() => parser.parse(input, 0, input.length), { message: "invalid bulk length" });
});

Deno.test("a bulk that does not start with '$' names the byte found", () => {
  assert.equal(errorOf("*1\r\nx\r\n"), "expected '$', got 'x'");
  assert.equal(errorOf("*2\r\n$1\r\na\r\n:1\r\n"), "expected '$', got ':'");
  assert.equal(errorOf("*1\r\n*1\r\n$1\r\na\r\n"), "expected '$', got '*'");
  // Only the first byte is needed to tell.
  assert.equal(errorOf("*1\r\n+"), "expected '$', got '+'");
});

Deno.test("a multibulk length line longer than 64 KiB without CR is too big", () => {
  assert.equal(errorOf("*" + "1".repeat(KIB64)), "too big mbulk count string");
  // Exactly 64 KiB buffered is still acceptable: Redis refuses only beyond it.
  assert.equal(errorOf("*" + "1".repeat(KIB64 - 1)), null);
});

Deno.test("a bulk length line longer than 64 KiB without CR is too big", () => {
  assert.equal(errorOf("*1\r\n$" + "1".repeat(KIB64)), "too big bulk count string");
  assert.equal(errorOf("*1\r\n$" + "1".repeat(KIB64 - 1)), null);
});

Deno.test("a length line with a CR after 64 KiB is judged by its number, not its size", () => {
  assert.equal(errorOf("*" + "1".repeat(KIB64 + 10) + "\r\n"), "invalid multibulk length");
  assert.equal(errorOf("*1\r\n$" + "1".repeat(KIB64 + 10) + "\r\n"), "invalid bulk length");
});

Deno.test("an inline request longer than 64 KiB without LF is too big", () => {
  assert.equal(errorOf("a".repeat(KIB64 + 1)), "too big inline request");
  assert.equal(errorOf("a".repeat(KIB64)), null);
  // The limit counts from the start of the current request, not of the buffer.
  assert.equal(errorOf("PING\r\n" + "a".repeat(KIB64)), null);
});

Deno.test("the 64 KiB limits are reached across many small reads too", () => {
  const chunk = bytes("1".repeat(1000));
  const chunks = [bytes("*"), ...Array.from({ length: 70 }, () => chunk)];
  assert.equal(feed(chunks).error, "too big mbulk count string");
  const inline = [bytes("x"), ...Array.from({ length: 70 }, () => chunk)];
  assert.equal(feed(inline).error, "too big inline request");
});

Deno.test("an inline request with unbalanced quotes is refused", () => {
  assert.equal(errorOf('SET k "abc\r\n'), "unbalanced quotes in request");
  assert.equal(errorOf("SET k 'abc\n"), "unbalanced quotes in request");
  assert.equal(errorOf('ECHO "a"b\r\n'), "unbalanced quotes in request");
});

Deno.test("an unauthenticated client may send at most 10 elements", () => {
  assert.equal(errorOf("*11\r\n", { unauth: true }), "unauthenticated multibulk length");
  assert.equal(errorOf("*10\r\n", { unauth: true }), null);
  assert.equal(errorOf("*11\r\n"), null);
  // An invalid length is reported as invalid first.
  assert.equal(errorOf("*2147483648\r\n", { unauth: true }), "invalid multibulk length");
});

Deno.test("an unauthenticated client may send bulks of at most 16384 bytes", () => {
  assert.equal(errorOf("*1\r\n$16385\r\n", { unauth: true }), "unauthenticated bulk length");
  assert.equal(errorOf("*1\r\n$16384\r\n", { unauth: true }), null);
  assert.equal(errorOf("*1\r\n$16385\r\n"), null);
  assert.equal(errorOf("*1\r\n$-1\r\n", { unauth: true }), "invalid bulk length");
});

Deno.test("commands before a protocol error in the same buffer are still returned", () => {
  const out = whole("*1\r\n$4\r\nPING\r\nPING\r\n*1\r\n$x\r\n");
  assert.deepEqual(out.commands, [["PING"], ["PING"]]);
  assert.equal(out.error, "invalid bulk length");
});

// ---------------------------------------------------------------------------------------------
// parseStrictInteger

Deno.test("parseStrictInteger accepts exactly what Redis's string2ll accepts", () => {
  const table: [string, number | null][] = [
    ["0", 0],
    ["1", 1],
    ["-1", -1],
    ["42", 42],
    ["2147483647", 2147483647],
    ["-2147483648", -2147483648],
    ["9007199254740991", 9007199254740991],
    ["", null],
    ["-", null],
    ["-0", null],
    ["00", null],
    ["01", null],
    ["+1", null],
    [" 1", null],
    ["1 ", null],
    ["1a", null],
    ["0x10", null],
    ["1e3", null],
    ["1.5", null],
    ["123456789012345678901", null],
    ["99999999999999999999", null],
  ];
  for (const [input, expected] of table) {
    const data = bytes(input);
    assert.equal(parseStrictInteger(data, 0, data.length), expected, JSON.stringify(input));
  }
  const framed = bytes("$123\r\n");
  assert.equal(parseStrictInteger(framed, 1, 4), 123);
  assert.equal(parseStrictInteger(framed, 1, 1), null);
});

Deno.test("parseStrictInteger accepts the whole 64-bit range and nothing beyond it", () => {
  const inRange = ["9223372036854775807", "-9223372036854775808", "-9223372036854775807"];
  for (const input of inRange) {
    const data = bytes(input);
    const value = parseStrictInteger(data, 0, data.length);
    assert.ok(value !== null, `${input} is a 64-bit integer`);
    assert.equal(value, Number(input), input);
  }
  const beyond = ["9223372036854775808", "-9223372036854775809", "-9223372036854777000"];
  for (const input of beyond) {
    const data = bytes(input);
    assert.equal(parseStrictInteger(data, 0, data.length), null, input);
  }
});

Deno.test("parseStrictInteger reads back every safe integer's decimal form", () => {
  fc.assert(
    fc.property(fc.maxSafeInteger(), (n) => {
      const data = bytes(`x${n}y`);
      assert.equal(parseStrictInteger(data, 1, data.length - 1), n === 0 ? 0 : n);
    }),
  );
});

// ---------------------------------------------------------------------------------------------
// Properties

const token = fc.stringMatching(/^[A-Za-z0-9_:.\-]{1,12}$/);

/** A request with its expected argv: multibulk with arbitrary bytes, or an inline-safe line. */
const request: fc.Arbitrary<{ wire: Uint8Array; argv: string[] }> = fc.oneof(
  fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 6 }).map((args) => ({
    wire: multibulk(args),
    argv: args.map(text),
  })),
  fc.record({
    args: fc.array(token, { maxLength: 5 }),
    gaps: fc.array(fc.constantFrom(" ", "  ", "\t", " \t "), { minLength: 6, maxLength: 6 }),
    lead: fc.constantFrom("", " ", "\t"),
    end: fc.constantFrom("\r\n", "\n"),
  }).map(({ args, gaps, lead, end }) => ({
    wire: bytes(lead + args.map((arg, i) => arg + gaps[i]).join("") + end),
    argv: args,
  })),
);

Deno.test("valid commands split into arbitrary chunks parse like the whole buffer", () => {
  fc.assert(
    fc.property(
      fc.array(request, { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      (requests, cuts) => {
        const data = concat(requests.map((r) => r.wire));
        const expected = { commands: requests.map((r) => r.argv), error: null, buffered: 0 };
        assert.deepEqual(whole(data), expected);
        assert.deepEqual(feed(splitAt(data, cuts)), expected);
      },
    ),
    { numRuns: 500 },
  );
});

/** A request whose name is a command's in some spelling (usual or not), or an unknown one. */
const namedRequest: fc.Arbitrary<{ wire: Uint8Array; argv: string[] }> = fc.record({
  name: fc.constantFrom("SET", "set", "Set", "GET", "get", "MULTI", "exec", "EXEC", "nosuch"),
  args: fc.array(fc.uint8Array({ maxLength: 12 }), { maxLength: 3 }),
}).map(({ name, args }) => ({
  wire: multibulk([name, ...args]),
  argv: [name, ...args.map(text)],
}));

Deno.test("interned names parse like views, whole or split into arbitrary chunks", () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(namedRequest, request), { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      (requests, cuts) => {
        const data = concat(requests.map((r) => r.wire));
        const expected = { commands: requests.map((r) => r.argv), error: null, buffered: 0 };
        assert.deepEqual(whole(data, { names: true }), expected);
        assert.deepEqual(feed(splitAt(data, cuts), { names: true }), expected);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("a name spelled all lower or all upper case is one shared array; others are views", () => {
  const parser = new RequestParser(MAX_BULK);
  parser.names = TABLE;
  const input = concat([
    multibulk(["SET", "k", "v"]),
    multibulk(["SET", "k2", "v2"]),
    multibulk(["set", "k", "v"]),
    multibulk(["SeT", "k", "v"]),
    multibulk(["NOSUCH"]),
  ]);
  const names: Uint8Array[] = [];
  for (let pos = 0; pos < input.length;) {
    pos = parser.parse(input, pos, input.length);
    names.push((parser.command as Uint8Array[])[0]);
  }
  assert.deepEqual(names.map(text), ["SET", "SET", "set", "SeT", "NOSUCH"]);
  assert.equal(names[0], names[1]);
  assert.notEqual(names[0], names[2]);
  assert.notEqual(names[0].buffer, input.buffer);
  assert.notEqual(names[2].buffer, input.buffer);
  assert.equal(names[3].buffer, input.buffer);
  assert.equal(names[4].buffer, input.buffer);
  // The table resolves a shared spelling and a view alike, whichever was interned last.
  assert.equal(TABLE.lookup(names[0])?.name, "set");
  assert.equal(TABLE.lookup(names[3])?.name, "set");
  assert.equal(TABLE.lookup(bytes("GET"))?.name, "get");
  assert.equal(TABLE.lookup(names[2])?.name, "set");
  assert.equal(TABLE.lookup(names[4]), undefined);
});

Deno.test("a request with more arguments than are allocated up front keeps every one", () => {
  for (const count of [63, 64, 65, 200]) {
    const args = Array.from({ length: count }, (_, i) => `a${i}`);
    assert.deepEqual(whole(multibulk(args)).commands, [args]);
    const input = multibulk(args);
    assert.deepEqual(feed(splitAt(input, [7, 100, 301])).commands, [args]);
  }
});

Deno.test("a length line of 16 or more digits is judged by Redis's rules, not the quick path", () => {
  assert.equal(errorOf("*1\r\n$0000000000000001\r\na\r\n"), "invalid bulk length");
  assert.equal(errorOf("*1\r\n$1000000000000000\r\n"), "invalid bulk length");
  assert.equal(errorOf("*01\r\n$1\r\na\r\n"), "invalid multibulk length");
  assert.equal(errorOf("*1\r\n$01\r\na\r\n"), "invalid bulk length");
  assert.deepEqual(whole("*1\r\n$0\r\n\r\n").commands, [[""]]);
  assert.deepEqual(whole("*000000000000002\r\n").error, "invalid multibulk length");
  assert.equal(errorOf("*100000000000000\r\n"), "invalid multibulk length");
});

/** Bytes that steer random input towards the parser's interesting states. */
const protocolish = fc.array(
  fc.oneof(
    fc.constantFrom(
      "*",
      "$",
      "\r\n",
      "\r",
      "\n",
      "-1",
      "0",
      "1",
      "2",
      "3",
      "10",
      "-",
      "+",
      "99999999999",
      '"',
      "'",
      " ",
      "\0",
      "\\x4",
      "PING",
    ).map(bytes),
    fc.uint8Array({ maxLength: 8 }),
  ),
  { maxLength: 40 },
).map(concat);

/** A valid request with random byte replacements, insertions, deletions and a truncation. */
const mutated = fc.tuple(
  fc.array(request, { minLength: 1, maxLength: 4 }),
  fc.array(
    fc.record({
      kind: fc.constantFrom("set", "insert", "delete"),
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
    }),
    { maxLength: 4 },
  ),
  fc.option(fc.nat()),
).map(([requests, edits, truncate]) => {
  const data = Array.from(concat(requests.map((r) => r.wire)));
  for (const { kind, at, byte } of edits) {
    const i = at % (data.length + 1);
    if (kind === "set" && i < data.length) data[i] = byte;
    else if (kind === "insert") data.splice(i, 0, byte);
    else if (kind === "delete") data.splice(i, 1);
  }
  const out = Uint8Array.from(data);
  return truncate === null ? out : out.subarray(0, truncate % (out.length + 1));
});

Deno.test("garbage and mutated requests only raise ProtocolError, however they are chunked", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.uint8Array({ maxLength: 300 }), protocolish, mutated),
      fc.array(fc.nat(), { maxLength: 8 }),
      fc.boolean(),
      (data, cuts, unauth) => {
        // `feed` rethrows anything but ProtocolError and checks termination and positions.
        const once = whole(data, { maxBulk: 1000, unauth });
        const chunked = feed(splitAt(data, cuts), { maxBulk: 1000, unauth });
        assert.deepEqual(chunked, once);
      },
    ),
    { numRuns: 3000 },
  );
});

Deno.test("a 5 MB bulk in 64 KB reads reports pendingBulkBytes so the buffer grows once", () => {
  const size = 5 * 1024 * 1024;
  const value = new Uint8Array(size);
  for (let i = 0; i < size; i++) value[i] = (i * 31 + 7) & 0xff;
  const data = concat([multibulk(["SET", "key", value]), multibulk(["PING"])]);
  const feeder = new Feeder({ capacity: 16 * 1024, poison: false });
  const readSize = 64 * 1024;
  // The first read fills the 16 KiB buffer: the bulk length is known from then on.
  feeder.push(data.subarray(0, 16 * 1024));
  assert.equal(feeder.parser.pendingBulkBytes, size + 2);
  assert.equal(feeder.parser.partialBytes, "SET".length + "key".length);
  assert.equal(feeder.commands.length, 0);
  assert.equal(feeder.grows, 0);
  for (let at = 16 * 1024; at < data.length; at += readSize) {
    feeder.push(data.subarray(at, at + readSize));
    if (feeder.commands.length === 0) {
      assert.equal(feeder.parser.pendingBulkBytes, size + 2);
      assert.equal(feeder.parser.partialBytes, 6);
    }
  }
  // The buffer was reallocated once, straight to a size that holds the whole bulk.
  assert.equal(feeder.grows, 1);
  assert.equal(feeder.commands.length, 2);
  const [set, ping] = feeder.commands;
  assert.deepEqual(set.slice(0, 2).map(text), ["SET", "key"]);
  assert.equal(set[2].length, size);
  assert.ok(set[2].every((b, i) => b === ((i * 31 + 7) & 0xff)));
  assert.deepEqual(ping.map(text), ["PING"]);
  assert.equal(feeder.parser.pendingBulkBytes, 0);
  assert.equal(feeder.parser.partialBytes, 0);
});
