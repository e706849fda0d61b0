/**
 * Decoders for the compact encodings Redis stores inside RDB strings, folder-private: listpack
 * (Redis 7 hashes, sets-of-pairs, sorted sets, quicklist nodes), ziplist (the same types in RDB
 * files from Redis 3.2 to 6.2), intset (integer sets) and zipmap (hashes before Redis 2.6).
 *
 * Each decoder takes the blob exactly as the RDB string holds it, checks it the way Redis's
 * deep integrity check does (`lpValidateIntegrity`, `ziplistValidateIntegrity`,
 * `intsetValidateIntegrity`, `zipmapValidateIntegrity`), and returns the elements as binary
 * strings (one char per byte), integers as the decimal text Redis would reply with. A blob that
 * fails a check throws {@link EncodingError}; nothing else is thrown, and no length read from
 * the blob is trusted before it is checked against the blob's size.
 */

import { toBinaryString } from "../../util/bytes.ts";

/**
 * A listpack, ziplist, intset or zipmap blob that is malformed. `offset` is the byte position
 * inside the blob where the problem was found, so the culprit can be located in a hex dump.
 */
export class EncodingError extends Error {
  /** Byte offset inside the blob where the problem was found. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(`${message} at offset ${offset}`);
    this.name = "EncodingError";
    this.offset = offset;
  }
}

const TWO_POW_32 = 4294967296;
/** High words in [-HIGH_SAFE, HIGH_SAFE) keep hi * 2^32 + lo within the safe integers. */
const HIGH_SAFE = 0x200000;

/** Little-endian unsigned 16-bit integer at `at`. */
function u16le(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8);
}

/** Little-endian unsigned 32-bit integer at `at`. */
function u32le(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/** Big-endian unsigned 32-bit integer at `at`. */
function u32be(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

/** Little-endian signed 16-bit integer at `at`. */
function i16le(b: Uint8Array, at: number): number {
  return (u16le(b, at) << 16) >> 16;
}

/** Little-endian signed 24-bit integer at `at`. */
function i24le(b: Uint8Array, at: number): number {
  return ((b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) << 8) >> 8;
}

/** Little-endian signed 32-bit integer at `at`. */
function i32le(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24);
}

/**
 * Compares the little-endian signed 64-bit integers at `a` and `b`: negative, zero or positive
 * as the first is smaller, equal or larger. Exact without BigInt.
 */
function compareI64le(blob: Uint8Array, a: number, b: number): number {
  const high = i32le(blob, a + 4) - i32le(blob, b + 4);
  return high !== 0 ? high : u32le(blob, a) - u32le(blob, b);
}

/** Decimal text of the little-endian signed 64-bit integer at `at`, exact over the full range. */
function i64leText(b: Uint8Array, at: number): string {
  const low = u32le(b, at);
  const high = i32le(b, at + 4);
  if (high >= -HIGH_SAFE && high < HIGH_SAFE) return String(high * TWO_POW_32 + low);
  return ((BigInt(high) << 32n) | BigInt(low)).toString();
}

// ---------------------------------------------------------------------------------------------
// Listpack
// ---------------------------------------------------------------------------------------------

const LP_HEADER = 6;
const LP_EOF = 0xff;
const LP_COUNT_UNKNOWN = 0xffff;

/** An {@link EncodingError} about a listpack. */
function lpError(message: string, offset: number): EncodingError {
  return new EncodingError(`Invalid listpack: ${message}`, offset);
}

/**
 * Bytes of the encoding header of the listpack entry starting with byte `c`: the encoding byte
 * plus its length bytes (`lpCurrentEncodedSizeBytes`), or 0 for an invalid encoding byte.
 */
function lpHeaderSize(c: number): number {
  if (c < 0xe0) return 1;
  if (c < 0xf0) return 2;
  if (c === 0xf0) return 5;
  return c <= 0xf4 ? 1 : 0;
}

/** Encoded size (header and payload, without backlen) of the entry at `p`, header checked. */
function lpEncodedSize(b: Uint8Array, p: number): number {
  const c = b[p];
  if (c < 0x80) return 1;
  if (c < 0xc0) return 1 + (c & 0x3f);
  if (c < 0xe0) return 2;
  if (c < 0xf0) return 2 + (((c & 0x0f) << 8) | b[p + 1]);
  switch (c) {
    case 0xf0:
      return 5 + u32le(b, p + 1);
    case 0xf1:
      return 3;
    case 0xf2:
      return 4;
    case 0xf3:
      return 5;
    default:
      return 9;
  }
}

/** Bytes `lpEncodeBacklen` uses for an entry of `size` bytes (Redis's exact thresholds). */
function lpBacklenSize(size: number): number {
  if (size <= 127) return 1;
  if (size < 16383) return 2;
  if (size < 2097151) return 3;
  if (size < 268435455) return 4;
  return 5;
}

/**
 * Checks the backlen of an entry of `size` bytes, stored in the `count` bytes ending just before
 * `end`: read right to left as `lpDecodeBacklen` does, it must use exactly those bytes (only the
 * leftmost without the continuation bit) and spell `size`.
 */
function lpCheckBacklen(b: Uint8Array, end: number, count: number, size: number): void {
  let value = 0;
  let scale = 1;
  for (let i = 1; i <= count; i++) {
    const byte = b[end - i];
    value += (byte & 0x7f) * scale;
    scale *= 128;
    const last = (byte & 0x80) === 0;
    if (last !== (i === count)) throw lpError("backlen has the wrong number of bytes", end - i);
  }
  if (value !== size) throw lpError(`backlen ${value} does not match entry size ${size}`, end - 1);
}

/** The value of the listpack entry at `p` (validated) as Redis renders it. */
function lpValue(b: Uint8Array, p: number, size: number): string {
  const c = b[p];
  if (c < 0x80) return String(c);
  if (c < 0xc0) return toBinaryString(b, p + 1, p + size);
  if (c < 0xe0) {
    const raw = ((c & 0x1f) << 8) | b[p + 1];
    return String(raw >= 4096 ? raw - 8192 : raw);
  }
  if (c < 0xf0) return toBinaryString(b, p + 2, p + size);
  switch (c) {
    case 0xf0:
      return toBinaryString(b, p + 5, p + size);
    case 0xf1:
      return String(i16le(b, p + 1));
    case 0xf2:
      return String(i24le(b, p + 1));
    case 0xf3:
      return String(i32le(b, p + 1));
    default:
      return i64leText(b, p + 1);
  }
}

/**
 * Validates the listpack entry at `p` (`lpValidateNext`), appends its value to `out` and
 * returns where the next entry starts. `eof` is the position of the terminator.
 */
function lpEntry(b: Uint8Array, p: number, eof: number, out: string[]): number {
  const headerSize = lpHeaderSize(b[p]);
  if (headerSize === 0) throw lpError(`invalid entry encoding 0x${b[p].toString(16)}`, p);
  if (p + headerSize > eof) throw lpError("entry header runs past the end", p);
  const size = lpEncodedSize(b, p);
  const backlen = lpBacklenSize(size);
  const next = p + size + backlen;
  if (next > eof) throw lpError("entry runs past the end", p);
  lpCheckBacklen(b, next, backlen, size);
  out.push(lpValue(b, p, size));
  return next;
}

/**
 * Decodes a Redis 7 listpack into its elements, in order. Hashes and sorted sets store their
 * pairs as consecutive elements (a zset score is a string such as "1.5" or an integer); pairing
 * is the caller's. Validated like `lpValidateIntegrity` in deep mode: the header's total size is
 * the blob's, every entry's encoding, length and backlen are consistent and inside the blob, the
 * header count (unless 65535, "unknown") is the number of entries, and the 0xFF terminator is
 * the last byte. Stricter than Redis in one respect: a terminator byte where an entry should
 * start is an error rather than an early end, so no trailing bytes are ignored.
 * @throws EncodingError when any check fails.
 */
export function decodeListpack(blob: Uint8Array): string[] {
  if (blob.length < LP_HEADER + 1) throw lpError(`${blob.length} bytes is too short`, 0);
  const total = u32le(blob, 0);
  if (total !== blob.length) {
    throw lpError(`header says ${total} bytes but the blob has ${blob.length}`, 0);
  }
  const eof = blob.length - 1;
  if (blob[eof] !== LP_EOF) throw lpError("missing 0xFF terminator", eof);
  const out: string[] = [];
  let p = LP_HEADER;
  while (p < eof) {
    if (blob[p] === LP_EOF) throw lpError("terminator before the end", p);
    p = lpEntry(blob, p, eof, out);
  }
  const declared = u16le(blob, 4);
  if (declared !== LP_COUNT_UNKNOWN && declared !== out.length) {
    throw lpError(`header count ${declared} but ${out.length} entries`, 4);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Ziplist
// ---------------------------------------------------------------------------------------------

const ZL_HEADER = 10;
const ZL_END = 0xff;
const ZL_BIG_PREVLEN = 0xfe;
const ZL_COUNT_UNKNOWN = 0xffff;

/** An {@link EncodingError} about a ziplist. */
function zlError(message: string, offset: number): EncodingError {
  return new EncodingError(`Invalid ziplist: ${message}`, offset);
}

/** Payload bytes of an integer entry with encoding byte `e`, or -1 when `e` is no encoding. */
function zlIntSize(e: number): number {
  switch (e) {
    case 0xc0:
      return 2;
    case 0xd0:
      return 4;
    case 0xe0:
      return 8;
    case 0xf0:
      return 3;
    case 0xfe:
      return 1;
    default:
      return e >= 0xf1 && e <= 0xfd ? 0 : -1;
  }
}

/** Bytes of the encoding field starting with byte `e` (1, 2 or 5), or 0 when it is invalid. */
function zlEncodingSize(e: number): number {
  if (e < 0x40) return 1;
  if (e < 0x80) return 2;
  if (e < 0xc0) return 5;
  return zlIntSize(e) < 0 ? 0 : 1;
}

/** Payload length of the entry whose (checked) encoding field is at `q`. */
function zlPayloadSize(b: Uint8Array, q: number): number {
  const e = b[q];
  if (e < 0x40) return e;
  if (e < 0x80) return ((e & 0x3f) << 8) | b[q + 1];
  if (e < 0xc0) return u32be(b, q + 1);
  return zlIntSize(e);
}

/** The value of the entry whose encoding field is at `q`, payload at `data`, `len` bytes. */
function zlValue(b: Uint8Array, q: number, data: number, len: number): string {
  const e = b[q];
  if (e < 0xc0) return toBinaryString(b, data, data + len);
  switch (e) {
    case 0xc0:
      return String(i16le(b, data));
    case 0xd0:
      return String(i32le(b, data));
    case 0xe0:
      return i64leText(b, data);
    case 0xf0:
      return String(i24le(b, data));
    case 0xfe:
      return String((b[data] << 24) >> 24);
    default:
      return String((e & 0x0f) - 1);
  }
}

/**
 * Validates the ziplist entry at `p` (`zipEntrySafe` with the prevlen checks of
 * `ziplistValidateIntegrity`), appends its value to `out` and returns where the next entry
 * starts. `end` is the position of the end marker, `prevSize` the size of the entry before.
 */
function zlEntry(b: Uint8Array, p: number, end: number, prevSize: number, out: string[]): number {
  const prevlenSize = b[p] < ZL_BIG_PREVLEN ? 1 : 5;
  const q = p + prevlenSize;
  if (q > end) throw zlError("prevlen runs past the end", p);
  const prevlen = prevlenSize === 1 ? b[p] : u32le(b, p + 1);
  const encodingSize = zlEncodingSize(b[q]);
  if (encodingSize === 0) throw zlError(`invalid entry encoding 0x${b[q].toString(16)}`, q);
  if (q + encodingSize > end) throw zlError("entry header runs past the end", q);
  const data = q + encodingSize;
  const len = zlPayloadSize(b, q);
  const next = data + len;
  if (next > end) throw zlError("entry runs past the end", p);
  if (p - prevlen < ZL_HEADER) throw zlError("prevlen points before the first entry", p);
  if (prevlen !== prevSize) {
    throw zlError(`prevlen ${prevlen} but the previous entry has ${prevSize} bytes`, p);
  }
  out.push(zlValue(b, q, data, len));
  return next;
}

/**
 * Decodes a ziplist (the list, hash and sorted-set encoding of RDB files written by Redis 3.2 to
 * 6.2, and of quicklist nodes) into its elements, in order; pairing hash fields and zset scores
 * is the caller's. Validated like `ziplistValidateIntegrity` in deep mode: zlbytes is the blob's
 * size, the last byte is the 0xFF end marker and the entries end exactly there, each entry's
 * prevlen is the previous entry's size, encodings are valid and inside the blob, zltail is the
 * offset of the last entry, and zllen (unless 65535, "unknown") is the number of entries.
 * @throws EncodingError when any check fails.
 */
export function decodeZiplist(blob: Uint8Array): string[] {
  if (blob.length < ZL_HEADER + 1) throw zlError(`${blob.length} bytes is too short`, 0);
  const total = u32le(blob, 0);
  if (total !== blob.length) {
    throw zlError(`zlbytes says ${total} bytes but the blob has ${blob.length}`, 0);
  }
  const end = blob.length - 1;
  if (blob[end] !== ZL_END) throw zlError("missing 0xFF end marker", end);
  const tail = u32le(blob, 4);
  if (tail > end) throw zlError(`zltail ${tail} is past the end`, 4);
  const out: string[] = [];
  let p = ZL_HEADER;
  let last = -1;
  while (p < end) {
    if (blob[p] === ZL_END) throw zlError("end marker before the end", p);
    const next = zlEntry(blob, p, end, last < 0 ? 0 : p - last, out);
    last = p;
    p = next;
  }
  if (last >= 0 && tail !== last) {
    throw zlError(`zltail ${tail} but the last entry is at ${last}`, 4);
  }
  const declared = u16le(blob, 8);
  if (declared !== ZL_COUNT_UNKNOWN && declared !== out.length) {
    throw zlError(`zllen ${declared} but ${out.length} entries`, 8);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Intset
// ---------------------------------------------------------------------------------------------

const INTSET_HEADER = 8;

/** An {@link EncodingError} about an intset. */
function isError(message: string, offset: number): EncodingError {
  return new EncodingError(`Invalid intset: ${message}`, offset);
}

/** Decimal texts of `count` 16- or 32-bit members from offset 8, checked strictly ascending. */
function intsetSmall(b: Uint8Array, width: number, count: number): string[] {
  const read = width === 2 ? i16le : i32le;
  const out = new Array<string>(count);
  let prev = 0;
  for (let i = 0; i < count; i++) {
    const at = INTSET_HEADER + i * width;
    const value = read(b, at);
    if (i > 0 && value <= prev) throw isError("members not strictly ascending", at);
    out[i] = String(value);
    prev = value;
  }
  return out;
}

/** Decimal texts of `count` 64-bit members from offset 8, checked strictly ascending. */
function intsetWide(b: Uint8Array, count: number): string[] {
  const out = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const at = INTSET_HEADER + i * 8;
    if (i > 0 && compareI64le(b, at - 8, at) >= 0) {
      throw isError("members not strictly ascending", at);
    }
    out[i] = i64leText(b, at);
  }
  return out;
}

/**
 * Decodes an intset (the encoding of small all-integer sets) into its members' decimal texts,
 * ascending; 64-bit members are exact. Validated like `intsetValidateIntegrity` in deep mode:
 * the encoding is 2, 4 or 8, the header length times the width fills the blob exactly, the set
 * is not empty, and members are strictly ascending (so no duplicates).
 * @throws EncodingError when any check fails.
 */
export function decodeIntset(blob: Uint8Array): string[] {
  if (blob.length < INTSET_HEADER) throw isError(`${blob.length} bytes is too short`, 0);
  const width = u32le(blob, 0);
  if (width !== 2 && width !== 4 && width !== 8) throw isError(`invalid encoding ${width}`, 0);
  const count = u32le(blob, 4);
  if (INTSET_HEADER + count * width !== blob.length) {
    throw isError(`${count} members of ${width} bytes do not fill ${blob.length} bytes`, 4);
  }
  if (count === 0) throw isError("empty set", 4);
  return width === 8 ? intsetWide(blob, count) : intsetSmall(blob, width, count);
}

// ---------------------------------------------------------------------------------------------
// Zipmap
// ---------------------------------------------------------------------------------------------

const ZM_BIGLEN = 254;
const ZM_END = 0xff;

/** An {@link EncodingError} about a zipmap. */
function zmError(message: string, offset: number): EncodingError {
  return new EncodingError(`Invalid zipmap: ${message}`, offset);
}

/**
 * Reads the zipmap length field at `p` (1 byte below 254, else 254 and a u32 LE) and checks the
 * field and the `extra` bytes after it fit before `end` (the end marker). Returns the length;
 * the field's size is `p`'s byte below 254 ? 1 : 5.
 */
function zmLength(b: Uint8Array, p: number, end: number, extra: number): number {
  const first = b[p];
  if (first === ZM_END) throw zmError("length field is the end marker", p);
  const size = first < ZM_BIGLEN ? 1 : 5;
  if (p + size + extra > end) throw zmError("length field runs past the end", p);
  return size === 1 ? first : u32le(b, p + 1);
}

/** Bytes of the length field at `p`. */
function zmLengthSize(b: Uint8Array, p: number): number {
  return b[p] < ZM_BIGLEN ? 1 : 5;
}

/**
 * Validates the zipmap entry (key, value and free bytes) at `p`, appends it to `out` and returns
 * where the next entry starts. `end` is the position of the end marker.
 */
function zmEntry(b: Uint8Array, p: number, end: number, out: [string, string][]): number {
  const keyLen = zmLength(b, p, end, 0);
  const key = p + zmLengthSize(b, p);
  const v = key + keyLen;
  if (v > end) throw zmError("key runs past the end", p);
  const valueLen = zmLength(b, v, end, 1);
  const freeAt = v + zmLengthSize(b, v);
  const value = freeAt + 1;
  const next = value + valueLen + b[freeAt];
  if (next > end) throw zmError("value runs past the end", v);
  out.push([toBinaryString(b, key, v), toBinaryString(b, value, value + valueLen)]);
  return next;
}

/**
 * Decodes a zipmap (the hash encoding of RDB files before Redis 2.6) into its field-value pairs,
 * in order. Validated like `zipmapValidateIntegrity` plus the duplicate check `rdbLoadObject`
 * adds in deep mode: the entries and their free bytes lie inside the blob and end exactly at the
 * final 0xFF, there is at least one entry, the header count (unless 254, "unknown") is the
 * number of entries, and no field appears twice. A value length field may not start with 0xFF.
 * @throws EncodingError when any check fails.
 */
export function decodeZipmap(blob: Uint8Array): [string, string][] {
  if (blob.length < 2) throw zmError(`${blob.length} bytes is too short`, 0);
  const end = blob.length - 1;
  if (blob[end] !== ZM_END) throw zmError("missing 0xFF end marker", end);
  const out: [string, string][] = [];
  const seen = new Set<string>();
  let p = 1;
  while (p < end) {
    const next = zmEntry(blob, p, end, out);
    const field = out[out.length - 1][0];
    if (seen.has(field)) throw zmError("duplicate field", p);
    seen.add(field);
    p = next;
  }
  if (out.length === 0) throw zmError("empty map", 1);
  if (blob[0] !== ZM_BIGLEN && blob[0] !== out.length) {
    throw zmError(`header count ${blob[0]} but ${out.length} entries`, 0);
  }
  return out;
}
