/**
 * Target `inline-request`: inline commands (`SET k "a b"`), split by `splitInlineArgs`
 * (src/resp/inline.ts) and read by the request parser's inline path.
 *
 * Crash: any exception (the splitter reports unbalanced quotes by returning null, the parser by
 * a ProtocolError), or a broken invariant: the parser's arguments for the line differ from the
 * splitter's; the line cut at its first NUL splits differently (Redis reads it as a C string);
 * an argument longer than the line; or the arguments, written back with `"\xHH"` quoting and
 * split again, differ from themselves.
 *
 * @module
 */
import { splitInlineArgs } from "../../src/resp/inline.ts";
import { ProtocolError, RequestParser } from "../../src/resp/request_parser.ts";
import { check, type FuzzTarget, latin1, sameBytes, utf8 } from "../target.ts";

function show(args: Uint8Array[] | null): string {
  return args === null ? "null" : JSON.stringify(args.map((a) => String.fromCharCode(...a)));
}

function same(a: Uint8Array[] | null, b: Uint8Array[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((arg, i) => sameBytes(arg, b[i]));
}

const HEX = Array.from({ length: 256 }, (_, i) => `\\x${i.toString(16).padStart(2, "0")}`);

/** The arguments as one inline line, each in double quotes with every byte escaped. */
function quoted(args: Uint8Array[]): Uint8Array {
  let line = "";
  for (const arg of args) {
    line += line === "" ? '"' : ' "';
    for (const b of arg) line += HEX[b];
    line += '"';
  }
  return latin1(line);
}

/** The inline-request target. */
export const inlineRequestTarget: FuzzTarget = {
  name: "inline-request",
  description: "splitInlineArgs and the inline path: null or ProtocolError only, round trips",
  maxLength: 4096,
  corpus: () =>
    [
      "PING",
      "SET key value",
      'SET k "a b"',
      "SET k 'it\\'s'",
      'ECHO "\\x41\\x4g\\n\\r\\t\\b\\a\\\\\\""',
      "  HSET\th f\x0bv  \x0cx ",
      'a"b c"d',
      "'unterminated",
      '"bad"close',
      "GET k\x00ignored",
      "\xff\xfe \x80",
      "SET \"\" ''",
    ].map(latin1),
  dictionary: ['"', "'", "\\", "\\x", "\\x4", " ", "\t", "\x00", "\r", "\v", "\f"].map(utf8),
  run(input: Uint8Array): void {
    const args = splitInlineArgs(input);
    if (args !== null) {
      for (const arg of args) check(arg.length <= input.length, "an argument longer than the line");
    }
    const nul = input.indexOf(0);
    if (nul >= 0) {
      const cut = splitInlineArgs(input.subarray(0, nul));
      check(same(args, cut), () => `cut at NUL: ${show(args)} vs ${show(cut)}`);
    }
    if (args !== null) {
      const again = splitInlineArgs(quoted(args));
      check(same(args, again), () => `requoted: ${show(args)} vs ${show(again)}`);
    }
    // The parser reads up to the first LF, without a CR before it, and splits that line.
    if (input[0] === 0x2a) return;
    const lf = input.indexOf(0x0a);
    const framed = new Uint8Array(lf < 0 ? input.length + 1 : input.length);
    framed.set(input);
    if (lf < 0) framed[input.length] = 0x0a;
    const lineEnd = lf < 0 ? input.length : lf;
    const line = input.subarray(
      0,
      lineEnd > 0 && input[lineEnd - 1] === 0x0d ? lineEnd - 1 : lineEnd,
    );
    const expected = splitInlineArgs(line);
    const parser = new RequestParser(512 * 1024 * 1024);
    let parsed: Uint8Array[] | null;
    try {
      const next = parser.parse(framed, 0, framed.length);
      check(
        next === lineEnd + 1,
        () => `parse consumed ${next} bytes, the line has ${lineEnd + 1}`,
      );
      parsed = parser.command;
      check(parsed !== null, "no command from a complete line");
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      check(
        e.message === "unbalanced quotes in request",
        () => `unexpected protocol error ${e.message}`,
      );
      parsed = null;
    }
    check(same(parsed, expected), () => `parser ${show(parsed)} vs splitter ${show(expected)}`);
  },
};
