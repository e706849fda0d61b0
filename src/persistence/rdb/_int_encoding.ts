/**
 * Integer-encoded strings, folder-private: which strings Redis stores as RDB integers
 * (`rdbTryIntegerEncoding`) and the decimal text an integer-encoded string stands for.
 */

import { INT_ENCODING_MAX_LENGTH } from "./format.ts";

const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * The value of `bytes` when they are the canonical decimal form of a 32-bit signed integer
 * (what `string2ll` accepts and `ll2string` gives back unchanged: no sign but `-`, no leading
 * zeros, no `-0`), else null. Only such strings round-trip through an integer encoding.
 */
export function canonicalInt32(bytes: Uint8Array): number | null {
  const n = bytes.length;
  if (n === 0 || n > INT_ENCODING_MAX_LENGTH) return null;
  let i = 0;
  let negative = false;
  if (bytes[0] === MINUS) {
    if (n === 1) return null;
    negative = true;
    i = 1;
  }
  const first = bytes[i];
  if (first === ZERO) return n === 1 ? 0 : null;
  if (first < ZERO || first > NINE) return null;
  let value = 0;
  for (; i < n; i++) {
    const c = bytes[i];
    if (c < ZERO || c > NINE) return null;
    value = value * 10 + (c - ZERO);
  }
  if (negative) value = -value;
  return value >= -0x8000_0000 && value <= 0x7fff_ffff ? value : null;
}

/**
 * Writes the ASCII decimal form of a 32-bit integer (what an integer-encoded string stands for)
 * into `out` at `at` (room for 11 bytes needed) and returns the end position. No allocation:
 * the reader decodes millions of these.
 */
export function writeDecimal(value: number, out: Uint8Array, at: number): number {
  let p = at;
  let v = value;
  if (v < 0) {
    out[p++] = MINUS;
    v = -v;
  }
  const start = p;
  do {
    out[p++] = ZERO + (v % 10);
    v = Math.floor(v / 10);
  } while (v > 0);
  for (let i = start, j = p - 1; i < j; i++, j--) {
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return p;
}
