/**
 * Byte helpers for tests, with one argument each so they can be passed to `map`: test inputs spell
 * arbitrary bytes as strings whose code points are 0-255.
 */
import { concatBytes, fromBinaryString, toBinaryString } from "../../src/util/bytes.ts";

/** Bytes from a string whose code points are bytes (`"\xff\r\n"`). */
export function bytes(text: string): Uint8Array {
  return fromBinaryString(text);
}

/** The inverse of {@link bytes}: each byte becomes the code point of the same value. */
export function text(data: Uint8Array): string {
  return toBinaryString(data);
}

/** Joins byte arrays into one. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}
