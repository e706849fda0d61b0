/**
 * The layout of a packed entry, shared by the collections' packed encodings (store/packed.ts)
 * and the reply encoder, which writes LRANGE's items straight out of a list's packed nodes: a
 * length prefix, the item's bytes (one character per byte of a binary string), and the prefix
 * again, mirrored, so that entries can be walked from either end as a listpack's can. The
 * prefix is a little-endian varint of 7-bit groups, the high bit set on all but the last: one
 * character below 128, two below 16384.
 */

/** The length prefix of a packed entry of `length` bytes (see the module comment). */
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
