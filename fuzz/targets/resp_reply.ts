/**
 * Target `resp-reply`: the client's RESP2/RESP3 reply decoder (src/resp/reply_decoder.ts).
 *
 * Crash: an exception other than RespDecodeError, or a broken invariant: the same bytes decoded
 * differently (values or error text) when pushed in pieces than whole; a decoder that does not
 * keep throwing the same error after one; or a decoded value that, encoded again and decoded,
 * is not the same value (RESP3 attributes aside, which the decoder drops).
 *
 * @module
 */
import {
  ReplyDecoder,
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
} from "../../src/resp/reply_decoder.ts";
import {
  check,
  concat,
  type FuzzTarget,
  hashBytes,
  latin1,
  piecesOf,
  splitPoints,
  toHex,
  utf8,
} from "../target.ts";

/** A value as text that tells every value apart (types, -0, NaN, bytes). */
function canon(value: RespValue): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return Object.is(value, -0) ? "int:-0" : `int:${value}`;
  if (typeof value === "bigint") return `int:${value}n`;
  if (value instanceof Uint8Array) return `bulk:${toHex(value)}`;
  if (Array.isArray(value)) return `[${value.map(canon).join(",")}]`;
  if (value instanceof RespSimple) return `simple:${JSON.stringify(value.value)}`;
  if (value instanceof RespError) return `error:${JSON.stringify(value.message)}`;
  if (value instanceof RespDouble) {
    return Object.is(value.value, -0) ? "double:-0" : `double:${value.value}`;
  }
  if (value instanceof RespBigNumber) return `big:${value.value}`;
  if (value instanceof RespVerbatim) {
    return `verbatim:${JSON.stringify(value.format)}:${toHex(value.text)}`;
  }
  if (value instanceof RespMap) {
    return `map{${value.entries.map(([k, v]) => `${canon(k)}=>${canon(v)}`).join(",")}}`;
  }
  if (value instanceof RespSet) return `set{${value.items.map(canon).join(",")}}`;
  if (value instanceof RespPush) return `push<${value.items.map(canon).join(",")}>`;
  throw new Error(`unknown value ${String(value)}`);
}

function line(type: string, text: string): Uint8Array {
  return utf8(`${type}${text}\r\n`);
}

function sized(type: string, body: Uint8Array): Uint8Array[] {
  return [utf8(`${type}${body.length}\r\n`), body, utf8("\r\n")];
}

function encodeDouble(v: number): string {
  if (Number.isNaN(v)) return "nan";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  return Object.is(v, -0) ? "-0" : String(v);
}

/** The value in RESP3 (nulls as `_`). */
function encode(value: RespValue, out: Uint8Array[]): void {
  if (value === null) out.push(line("_", ""));
  else if (typeof value === "boolean") out.push(line("#", value ? "t" : "f"));
  else if (typeof value === "number" || typeof value === "bigint") {
    out.push(line(":", String(value)));
  } else if (value instanceof Uint8Array) out.push(...sized("$", value));
  else if (Array.isArray(value)) {
    out.push(line("*", String(value.length)));
    for (const item of value) encode(item, out);
  } else if (value instanceof RespSimple) out.push(line("+", value.value));
  else if (value instanceof RespError) out.push(...sized("!", utf8(value.message)));
  else if (value instanceof RespDouble) out.push(line(",", encodeDouble(value.value)));
  else if (value instanceof RespBigNumber) out.push(line("(", String(value.value)));
  else if (value instanceof RespVerbatim) {
    out.push(...sized("=", concat([latin1(value.format), latin1(":"), value.text])));
  } else if (value instanceof RespMap) {
    out.push(line("%", String(value.entries.length)));
    for (const [k, v] of value.entries) {
      encode(k, out);
      encode(v, out);
    }
  } else if (value instanceof RespSet || value instanceof RespPush) {
    out.push(line(value instanceof RespSet ? "~" : ">", String(value.items.length)));
    for (const item of value.items) encode(item, out);
  }
}

interface Outcome {
  values: string[];
  error: string | null;
}

/** Pulls every complete value; records the decode error, checking that it sticks. */
function pull(decoder: ReplyDecoder, into: Outcome, budget: number): void {
  if (into.error !== null) return;
  for (let i = 0; i <= budget; i++) {
    let value: RespValue | undefined;
    try {
      value = decoder.next();
    } catch (e) {
      if (!(e instanceof RespDecodeError)) throw e;
      into.error = e.message;
      let again: unknown = null;
      try {
        decoder.next();
      } catch (e2) {
        again = e2;
      }
      check(again === e, "the decoder did not throw the same error again");
      return;
    }
    if (value === undefined) return;
    into.values.push(canon(value));
  }
  throw new Error("more values than input bytes");
}

/** The resp-reply target. */
export const respReplyTarget: FuzzTarget = {
  name: "resp-reply",
  description: "ReplyDecoder: RespDecodeError only, same in pieces, values re-encode the same",
  maxLength: 8 * 1024,
  corpus: () =>
    [
      "+OK\r\n-ERR wrong\r\n:42\r\n:-9223372036854775808\r\n$5\r\nhello\r\n$-1\r\n*-1\r\n",
      "*3\r\n:1\r\n$3\r\nfoo\r\n*2\r\n+a\r\n-b\r\n",
      "%2\r\n+k\r\n:1\r\n$1\r\nx\r\n~2\r\n_\r\n#t\r\n",
      ",3.14\r\n,-inf\r\n,nan\r\n,1e+21\r\n(123456789012345678901234567890\r\n",
      "=15\r\ntxt:Some string\r\n!21\r\nSYNTAX invalid syntax\r\n",
      ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nmsg\r\n",
      "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.19\r\n$1\r\nb\r\n,0.01\r\n*2\r\n:2\r\n:3\r\n",
      "*1\r\n*1\r\n*1\r\n*1\r\n*0\r\n%0\r\n~0\r\n>0\r\n",
      "$0\r\n\r\n+\xc3\xa9\xff\r\n:007\r\n:-0\r\n,-0\r\n,.5\r\n#f\r\n",
      `$300\r\n${"y".repeat(300)}\r\n`,
    ].map(latin1),
  dictionary: ["\r\n", "*", "$", "%", "~", ">", "|", "_", "#", ",", "(", "!", "=", ":", "+", "-"]
    .map(utf8),
  run(input: Uint8Array): void {
    const whole: Outcome = { values: [], error: null };
    const wholeDecoder = new ReplyDecoder();
    wholeDecoder.push(input);
    pull(wholeDecoder, whole, input.length);

    const inPieces: Outcome = { values: [], error: null };
    const decoder = new ReplyDecoder();
    for (const piece of piecesOf(input, splitPoints(input.length, hashBytes(input)))) {
      decoder.push(piece);
      pull(decoder, inPieces, input.length);
    }
    check(
      whole.error === inPieces.error,
      () => `whole: error ${whole.error}; in pieces: error ${inPieces.error}`,
    );
    check(
      whole.values.join("\n") === inPieces.values.join("\n"),
      () => `whole: ${whole.values.join(" ")}\nin pieces: ${inPieces.values.join(" ")}`,
    );

    // Each value, encoded again, decodes to itself.
    const again = new ReplyDecoder();
    const parts: Uint8Array[] = [];
    const replay = new ReplyDecoder();
    replay.push(input);
    for (let i = 0; i < whole.values.length; i++) {
      const value = replay.next() as RespValue;
      encode(value, parts);
    }
    again.push(concat(parts));
    const decoded: Outcome = { values: [], error: null };
    pull(again, decoded, input.length + parts.length);
    check(decoded.error === null, () => `re-encoded values do not decode: ${decoded.error}`);
    check(
      decoded.values.join("\n") === whole.values.join("\n"),
      () =>
        `decoded: ${whole.values.join(" ")}\nre-encoded and decoded: ${decoded.values.join(" ")}`,
    );
  },
};
