/**
 * Encodes client commands as RESP2 multibulk requests, the form every Redis server accepts from
 * clients. Strings are UTF-8 encoded, byte arrays are sent as they are, numbers in decimal
 * (infinities as `inf`). Two shapes: {@link encodeCommand} returns one array per command, and
 * {@link appendCommand} writes into a growable buffer so that a client can send a whole
 * pipeline with one socket write.
 *
 * (The server's AOF and replication stream use `encodeCommandInto` in encoder.ts instead: there
 * a string holds one byte per character, not text.)
 *
 * @module
 */
import type { ByteBuffer } from "../util/bytes.ts";

/** One argument of a command: text (sent as UTF-8), raw bytes, or a number (sent in decimal). */
export type CommandArg = string | Uint8Array | number;

const CR = 13;
const LF = 10;
const BULK = 36; // '$'
const ARRAY = 42; // '*'

const utf8Encoder = new TextEncoder();

/** Encodes one command into a new array of exactly its size. */
export function encodeCommand(args: readonly CommandArg[]): Uint8Array {
  const count = args.length;
  const parts: (string | Uint8Array)[] = new Array(count);
  const lengths: number[] = new Array(count);
  let size = 3 + decimalLength(count);
  for (let i = 0; i < count; i++) {
    const arg = args[i];
    const part = typeof arg === "number" ? numberText(arg) : arg;
    const length = typeof part === "string" ? utf8Length(part) : part.length;
    parts[i] = part;
    lengths[i] = length;
    size += 5 + decimalLength(length) + length;
  }
  const out = new Uint8Array(size);
  out[0] = ARRAY;
  let at = writeDecimal(out, 1, count);
  out[at++] = CR;
  out[at++] = LF;
  for (let i = 0; i < count; i++) at = writeBulk(out, at, parts[i], lengths[i]);
  return out;
}

/**
 * Appends one command to `out` (growing it as needed), without an intermediate array per
 * command: a client accumulates a pipeline here and writes it with one socket write.
 */
export function appendCommand(out: ByteBuffer, args: readonly CommandArg[]): void {
  const count = args.length;
  out.reserve(3 + decimalLength(count));
  let at = out.length;
  out.bytes[at++] = ARRAY;
  at = writeDecimal(out.bytes, at, count);
  out.bytes[at++] = CR;
  out.bytes[at++] = LF;
  out.length = at;
  for (let i = 0; i < count; i++) {
    const arg = args[i];
    const part = typeof arg === "number" ? numberText(arg) : arg;
    const length = typeof part === "string" ? utf8Length(part) : part.length;
    out.reserve(5 + decimalLength(length) + length);
    out.length = writeBulk(out.bytes, out.length, part, length);
  }
}

/** Writes one bulk string whose encoded length is `length` at `at`; returns the end index. */
function writeBulk(out: Uint8Array, at: number, part: string | Uint8Array, length: number): number {
  out[at++] = BULK;
  at = writeDecimal(out, at, length);
  out[at++] = CR;
  out[at++] = LF;
  if (typeof part !== "string") {
    out.set(part, at);
  } else if (length === part.length && length <= 64) {
    for (let j = 0; j < length; j++) out[at + j] = part.charCodeAt(j);
  } else {
    utf8Encoder.encodeInto(part, out.subarray(at, at + length));
  }
  at += length;
  out[at++] = CR;
  out[at++] = LF;
  return at;
}

function numberText(n: number): string {
  if (n === Infinity) return "inf";
  if (n === -Infinity) return "-inf";
  if (Number.isNaN(n)) return "nan";
  return String(n);
}

/** Byte length of the UTF-8 encoding `TextEncoder` produces (lone surrogates become U+FFFD). */
export function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) length += 1;
    else if (c < 0x800) length += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length += 4;
        i++;
      } else {
        length += 3;
      }
    } else {
      length += 3;
    }
  }
  return length;
}

function decimalLength(n: number): number {
  let digits = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    digits++;
  }
  return digits;
}

/** Writes a non-negative integer in decimal at `at`, returning the index after it. */
function writeDecimal(out: Uint8Array, at: number, n: number): number {
  const end = at + decimalLength(n);
  for (let i = end - 1; i >= at; i--) {
    out[i] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
  return end;
}
