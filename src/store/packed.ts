/**
 * Pieces the packed encodings of the collections share (hash_value.ts, set_value.ts,
 * sorted_set_value.ts, list_value.ts): the varint length prefix of a packed entry, and flat
 * copies of strings read out of a packed string.
 */

/** Strings this long or longer are sliced by V8 as views of their parent. */
const SLICE_MIN = 13;

/**
 * The length prefix of a packed entry of `length` bytes: a little-endian varint of 7-bit
 * groups, one byte below 128 and two below 16384.
 */
export function lengthPrefix(length: number): string {
  let prefix = "";
  while (length >= 0x80) {
    prefix += String.fromCharCode(0x80 | (length & 0x7f));
    length = Math.floor(length / 0x80);
  }
  return prefix + String.fromCharCode(length);
}

/** The length a prefix written by {@link lengthPrefix} at `at` of `packed` gives. */
export function readLength(packed: string, at: number): number {
  let length = 0;
  let scale = 1;
  let code = packed.charCodeAt(at++);
  while (code >= 0x80) {
    length += (code & 0x7f) * scale;
    scale *= 0x80;
    code = packed.charCodeAt(at++);
  }
  return length + code * scale;
}

/** Characters of the prefix {@link lengthPrefix} writes for `length` (without building it). */
export function prefixSize(length: number): number {
  let size = 1;
  while (length >= 0x80) {
    length = Math.floor(length / 0x80);
    size++;
  }
  return size;
}

/**
 * `text` as a string that shares no characters with another: V8 makes a slice of 13 characters
 * or more a view of its parent, which would keep a whole packed string alive for as long as one
 * entry read from it. Joining two parts copies them into a new flat string at native speed.
 */
export function detached(text: string): string {
  if (text.length < SLICE_MIN) return text;
  return [text.slice(0, 1), text.slice(1)].join("");
}

/** `text.slice(start, end)` as a string of its own (see {@link detached}). */
export function copyRange(text: string, start: number, end: number): string {
  if (end - start < SLICE_MIN) return text.slice(start, end);
  return [text.slice(start, start + 1), text.slice(start + 1, end)].join("");
}
