/**
 * Tests for inline command splitting: a table of `sdssplitargs()` quirks, a cross-check table
 * recorded from a real server, and round-trip properties.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { splitInlineArgs } from "../../../src/resp/inline.ts";
import { bytes, text } from "../../support/bytes.ts";

function split(line: string): string[] | null {
  const args = splitInlineArgs(bytes(line));
  return args === null ? null : args.map(text);
}

/** [line, expected arguments or null for "unbalanced quotes"] */
const QUIRKS: [string, string[] | null][] = [
  ["", []],
  ["   \t\r\n ", []],
  ["PING", ["PING"]],
  ["  SET  k   v  ", ["SET", "k", "v"]],
  ["a\tb\nc\rd", ["a", "b", "c", "d"]],
  // Blanks between arguments are isspace(), but only space, \t, \n, \r end an unquoted argument.
  ["\x0b\x0ca\x0b", ["a\x0b"]],
  ["a\x0bb a\x0cb", ["a\x0bb", "a\x0cb"]],
  // A NUL byte ends the C string sdssplitargs works on.
  ["a\x00b c", ["a"]],
  ['a \x00"', ["a"]],
  ['"a\x00b"', null],
  // Double quotes: \xHH, the C escapes, and backslash + anything else is that character.
  ['"a b"', ["a b"]],
  ['"\\x41\\x6a\\xFF\\x00"', ["Aj\xff\x00"]],
  ['"\\x4g"', ["x4g"]],
  ['"\\x4"', ["x4"]],
  ['"\\X41"', ["X41"]],
  ['"\\n\\r\\t\\b\\a"', ["\n\r\t\b\x07"]],
  ['"\\"\\\\\\q\\\'"', ["\"\\q'"]],
  ['"a\\', null],
  ['"\\"', null],
  // Single quotes: only \' is an escape.
  ["'a b'", ["a b"]],
  ["'it\\'s'", ["it's"]],
  ["'a\\nb\\\\x'", ["a\\nb\\\\x"]],
  // So a backslash before the closing quote escapes it, even right after another backslash.
  ["'a\\\\'", null],
  ["'a\\'", null],
  ["'\"'", ['"']],
  // Empty quoted strings are empty arguments.
  ['""', [""]],
  ["''", [""]],
  ['a "" b', ["a", "", "b"]],
  // A quote may open in the middle of an argument...
  ['foo"bar baz"', ["foobar baz"]],
  ["foo'bar baz'", ["foobar baz"]],
  // ...but a closing quote must be followed by a blank (any isspace) or the end.
  ['"foo"bar', null],
  ["'foo'bar", null],
  ['"a""b"', null],
  ['"a"\x0bb', ["a", "b"]],
  ["'a'\x0cb", ["a", "b"]],
  ['"a"\tb', ["a", "b"]],
  // Unterminated quotes.
  ['"', null],
  ["'", null],
  ['SET k "v', null],
  ['a"b', null],
  // Bytes that are not ASCII pass through untouched.
  ["\xc3\xa9 \x80\xff", ["\xc3\xa9", "\x80\xff"]],
];

Deno.test("splitInlineArgs reproduces the sdssplitargs quirks", () => {
  for (const [line, expected] of QUIRKS) {
    assert.deepEqual(split(line), expected, `line ${JSON.stringify(line)}`);
  }
});

/**
 * Checked against redis-server 7.0.15: each line below was sent to a real server as the inline
 * command `RPUSH t <line>` and the arguments read back with LRANGE (null: the server replied
 * "-ERR Protocol error: unbalanced quotes in request"; []: "wrong number of arguments", i.e. no
 * arguments after `t`). The 60 lines after the hand-written ones were drawn at random from an
 * alphabet of quotes, backslashes, hex digits and blanks. Lines containing NUL are not here:
 * Redis 7.0 finds the end of an inline line with strchr(), so such a line is never executed.
 */
const REDIS_7_0_15: [string, string[] | null][] = [
  ["a b c", ["a", "b", "c"]],
  ["a  b\tc", ["a", "b", "c"]],
  ['"a b" c', ["a b", "c"]],
  ["'a b' c", ["a b", "c"]],
  ['""', [""]],
  ["''", [""]],
  ['"" x', ["", "x"]],
  ['a "" b', ["a", "", "b"]],
  ['"a\\x41b"', ["aAb"]],
  ['"\\x4g"', ["x4g"]],
  ['"\\x4"', ["x4"]],
  ['"\\xZZ"', ["xZZ"]],
  ['"\\x"', ["x"]],
  ['"\\n\\r\\t\\b\\a"', ["\n\r\t\b\u0007"]],
  ['"\\q\\"\\\\"', ['q"\\']],
  ["'a\\'b'", ["a'b"]],
  ["'a\\\"b'", ['a\\"b']],
  ["'a\\nb'", ["a\\nb"]],
  ["'a\\\\b'", ["a\\\\b"]],
  ['"foo"bar', null],
  ["'foo'bar", null],
  ['"foo', null],
  ["'foo", null],
  ['"foo\\"', null],
  ['foo"bar baz"', ["foobar baz"]],
  ["foo'bar baz'", ["foobar baz"]],
  ['a"b"', ["ab"]],
  ["a\u000bb", ["a\u000bb"]],
  ["\u000ba", ["a"]],
  ["a \u000b b", ["a", "b"]],
  ["a\fb", ["a\fb"]],
  ['"x"\u000by', ["x", "y"]],
  ["'x'\fy", ["x", "y"]],
  ['"\u00ff\u00fe"', ["\u00ff\u00fe"]],
  ["\u00c3\u00a9 \u0080", ["\u00c3\u00a9", "\u0080"]],
  ['"a"  "b"', ["a", "b"]],
  ["  x  ", ["x"]],
  ["'\\'", null],
  ['"\\"', null],
  ["a\\x41", ["a\\x41"]],
  ["'it''s'", null],
  ['"\\x41\\x42"z', null],
  ['"\\xfF"', ["\u00ff"]],
  ['"a\\', null],
  ['"a\\\\"', ["a\\"]],
  ["a\rb", ["a", "b"]],
  ['"a"\tb', ["a", "b"]],
  ["\ta\t", ["a"]],
  ['"a\tb"', ["a\tb"]],
  ['"\\X41"', ["X41"]],
  ["'a\\'", null],
  ["'\\''", ["'"]],
  ['"\\\'"', ["'"]],
  ["'a'\r'b'", ["a", "b"]],
  ['"a\rb"', ["a\rb"]],
  ['x "y"z', null],
  ['"\\x00"', ["\u0000"]],
  ['"\\x0a\\x0D"', ["\n\r"]],
  ["'\"'", ['"']],
  ['"\'"', ["'"]],
  ['a"b', null],
  ["a'b", null],
  ['a""b', null],
  ['"" ""', ["", ""]],
  ['\\"a', null],
  ['"a"\u000b', ["a"]],
  ['"\\', null],
  ["'", null],
  ['"', null],
  ["\\'", null],
  ["\u000b", []],
  ["\f\u000b", []],
  ['"a\u000bb"', ["a\u000bb"]],
  ['abc\u000b"d"', ["abc\u000bd"]],
  ["g'\u000b a\u00ff\u000b4F", null],
  ["\u000bg\u000b\u000b\r\r", ["g\u000b\u000b"]],
  ["Fga\f\u00ff\u00ff Fx", ["Fga\f\u00ff\u00ff", "Fx"]],
  ["\f F'\"n", null],
  ["\tF\\\u000b", ["F\\\u000b"]],
  ["x\u000b\f g'\t\u000b", null],
  ["\f'\u000b\"'n \r ", null],
  ["a\fxx4'\r", null],
  ["\ta4", ["a4"]],
  ["' a'n", null],
  ['4"a \t', null],
  ["\\\rFn\u000bn'\t4", null],
  ["xn", ["xn"]],
  ["\\\\an\t\u000b", ["\\\\an"]],
  ["\ra\t Fxx", ["a", "Fxx"]],
  ["4 ' g4a", null],
  ['"\taF\f', null],
  ["n\tnFn\u00ff", ["n", "nFn\u00ff"]],
  ["xan\u00ff\t4 \u00ff", ["xan\u00ff", "4", "\u00ff"]],
  ["\\", ["\\"]],
  ["4", ["4"]],
  ["n", ["n"]],
  ["aF\rn", ["aF", "n"]],
  ["F", ["F"]],
  ["'4a\\\ta", null],
  ["x\\'\f\"\u000b\f'", ['x\\\f"\u000b\f']],
  ["\t \r '\r \"Fa\\", null],
  ['F 4 \f4\tg"', null],
  ["a\u00ffg\u00ffa\r", ["a\u00ffg\u00ffa"]],
  ['\fg a  "gF', null],
  ['\f""aag"\t', null],
  ["\\", ["\\"]],
  ["\fg\f\\' ", null],
  ["x \"'\u000b\r\u00ff", null],
  ['"\u00ff\\\r4a', null],
  ['\rF"n', null],
  ["a\r\f\fx\t'", null],
  ["\\", ["\\"]],
  ["\r\rg\u00ff", ["g\u00ff"]],
  ["g", ["g"]],
  ['"ax\t\f', null],
  ['\fa \\\r "4n', null],
  ["\f\u00ff", ["\u00ff"]],
  ["n\u000ba\f4", ["n\u000ba\f4"]],
  [" \rgF\\4'\u00ff", null],
  ["\\44aa", ["\\44aa"]],
  ["a4", ["a4"]],
  ["x\rn\r'x", null],
  ["\u000b\u000bx\u00ff\\\\a\u000b\fn\u00ff\f", ["x\u00ff\\\\a\u000b\fn\u00ff\f"]],
  ["\\n\"\\\r'\u000b'F", null],
  ['"aa', null],
  ['\u00ff\fF\\\f\t\u000b\t\u00ff\u000b"4', null],
  ['4F\\"g\\\f"', ["4F\\g\f"]],
  ["\fF\\\u000b", ["F\\\u000b"]],
  ['" ', null],
  ["44\f", ["44\f"]],
  ['\taa\t" \u00ff\u000bx', null],
  ["'4", null],
  ['\rn"\\\rax\'"4', null],
  ['"', null],
];

Deno.test("splitInlineArgs agrees with redis-server 7.0.15", () => {
  for (const [line, expected] of REDIS_7_0_15) {
    const args = split(`RPUSH t ${line}`);
    assert.deepEqual(
      args === null ? null : args.slice(2),
      expected,
      `line ${JSON.stringify(line)}`,
    );
    if (args !== null) assert.deepEqual(args.slice(0, 2), ["RPUSH", "t"]);
  }
});

Deno.test("splitInlineArgs honours start and end", () => {
  const buffer = bytes('xxSET k "a b"\r\nGET k');
  assert.deepEqual(splitInlineArgs(buffer, 2, 13)?.map(text), ["SET", "k", "a b"]);
  assert.deepEqual(splitInlineArgs(buffer, 15)?.map(text), ["GET", "k"]);
  // The end of the range counts as the end of the line for a closing quote or a backslash.
  assert.deepEqual(splitInlineArgs(bytes('"a"b'), 0, 3)?.map(text), ["a"]);
  assert.equal(splitInlineArgs(bytes('"a\\"'), 0, 3), null);
  assert.deepEqual(splitInlineArgs(buffer, 5, 5), []);
  assert.deepEqual(splitInlineArgs(buffer, 50, 60), []);
});

Deno.test("plain arguments are views of the line and quoted ones are rebuilt copies", () => {
  const line = bytes('abc "d e"');
  const args = splitInlineArgs(line) as Uint8Array[];
  assert.equal(args[0].buffer, line.buffer, "a plain argument is not copied");
  line.fill(0x7a);
  assert.deepEqual(args.map(text), ["zzz", "d e"]);
});

/** Quotes bytes the way Redis's sdscatrepr() does; its output is meant to split back. */
function repr(data: Uint8Array): string {
  let out = '"';
  for (const c of data) {
    if (c === 0x5c || c === 0x22) out += "\\" + String.fromCharCode(c);
    else if (c === 10) out += "\\n";
    else if (c === 13) out += "\\r";
    else if (c === 9) out += "\\t";
    else if (c === 7) out += "\\a";
    else if (c === 8) out += "\\b";
    else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else out += "\\x" + c.toString(16).padStart(2, "0");
  }
  return out + '"';
}

Deno.test("property: sdscatrepr-quoted arguments split back to themselves", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 8 }),
      fc.constantFrom(" ", "  ", "\t", " \x0b "),
      (args, blank) => {
        const line = bytes(args.map(repr).join(blank));
        assert.deepEqual(splitInlineArgs(line)?.map(text), args.map(text));
      },
    ),
  );
});

Deno.test("property: unquoted words split like a whitespace split", () => {
  const word = fc.string({
    unit: fc.constantFrom(..."abcXYZ019-_:{}\x0b\x0c\x80\xff"),
    minLength: 1,
  }).filter((w) => w[0] !== "\x0b" && w[0] !== "\x0c"); // Leading ones are blanks.
  fc.assert(
    fc.property(fc.array(word, { maxLength: 8 }), (words) => {
      assert.deepEqual(split(` ${words.join(" \t ")}\r`), words);
    }),
  );
});

Deno.test("property: any bytes give null or an argument list, and never throw", () => {
  const alphabet = fc.constantFrom(...[
    0,
    9,
    10,
    11,
    13,
    32,
    34,
    39,
    92,
    120,
    52,
    70,
    103,
    97,
    255,
  ]);
  fc.assert(
    fc.property(
      fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.array(alphabet, { maxLength: 40 })),
      (data) => {
        const line = Uint8Array.from(data);
        const args = splitInlineArgs(line);
        if (args === null) return;
        const total = args.reduce((sum, arg) => sum + arg.length, 0);
        assert.ok(total <= line.length);
      },
    ),
  );
});
