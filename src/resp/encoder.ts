/**
 * Encodes reply values into a connection's output buffer as RESP2 or RESP3. One function serves
 * both protocols so that a handler's reply means the same thing whichever the client speaks.
 */
import { formatDouble17g } from "./double_format.ts";
import { ByteBuffer, MAX_SAFE_DIGITS, writeDigits } from "../util/bytes.ts";
import { int64Text } from "../util/int64.ts";
import { prefixSize, readLength } from "../util/packed_entries.ts";
import {
  BigNumberReply,
  BulkSlicesReply,
  BytesRangeReply,
  DeferredReply,
  DoubleReply,
  ErrorReply,
  MapReply,
  NoReply,
  NullArray,
  PushReply,
  RawReply,
  type Reply,
  ReplySequence,
  SetReply,
  SimpleString,
  VerbatimReply,
} from "./reply.ts";

/** The protocol version a connection speaks (`HELLO 3` switches to 3). */
export type Protocol = 2 | 3;

/** Most bytes a bulk or array header adds besides its digits: the type byte and CRLF. */
const HEADER_BYTES = 3;
const CRLF_0 = 13;
const CRLF_1 = 10;

function pushCrlf(out: ByteBuffer): void {
  out.reserve(2);
  out.bytes[out.length++] = CRLF_0;
  out.bytes[out.length++] = CRLF_1;
}

function pushHeader(out: ByteBuffer, type: number, n: number): void {
  out.pushByte(type);
  out.pushInt(n);
  pushCrlf(out);
}

function pushBulk(out: ByteBuffer, bytes: Uint8Array): void {
  pushHeader(out, 36, bytes.length);
  out.pushBytes(bytes);
  pushCrlf(out);
}

/**
 * Writes the header `<type><n>\r\n` (36 `$` for a bulk string, 42 `*` for an array) at `b[p]`,
 * which has room for it, and returns the position after it: the in-place writers' form of
 * {@link pushHeader}.
 */
function writeHeader(b: Uint8Array, p: number, type: number, n: number): number {
  b[p++] = type;
  p = writeDigits(b, p, n);
  b[p++] = CRLF_0;
  b[p++] = CRLF_1;
  return p;
}

/** Values up to this long are copied by a loop, longer ones by `set` (a native copy). */
const LOOP_COPY_MAX = 64;

/** A bulk string of a range of bytes (a value in the key table's arena). */
function pushBytesRange(out: ByteBuffer, reply: BytesRangeReply): void {
  const { bytes, start, end } = reply;
  const n = end - start;
  out.reserve(n + HEADER_BYTES + MAX_SAFE_DIGITS + 2);
  const b = out.bytes;
  let p = out.length;
  p = writeHeader(b, p, 36, n);
  if (n <= LOOP_COPY_MAX) {
    for (let i = 0; i < n; i++) b[p + i] = bytes[start + i];
  } else b.set(bytes.subarray(start, end), p);
  p += n;
  b[p++] = CRLF_0;
  b[p++] = CRLF_1;
  out.length = p;
}

/** A bulk string from a binary string (one byte per character), as keys and values are held. */
function pushBulkBinary(out: ByteBuffer, binary: string): void {
  pushHeader(out, 36, binary.length);
  out.pushAscii(binary);
  pushCrlf(out);
}

const asciiEncoder = new TextEncoder();

/** Items at least this long are moved with `copyWithin` (a flat ~22 ns), shorter ones by a loop. */
const COPY_WITHIN_MIN = 24;

/**
 * An array of bulk strings written from their places in longer binary strings. Room for the
 * whole reply is made once and every header, item and CRLF written in place (LRANGE 0 99 of a
 * list built by LPUSH, 32-byte items: 3.95 to 3.65 us to encode, against one call per piece).
 * The items of a run (a list node's) are turned into bytes together: their text is encoded
 * natively into the far end of the room they will take, which is exact when it is all ASCII (one
 * byte per character), and each item is then moved down to its place; a run with other
 * characters, or of one item, is read character by character (41 ns for a 32-byte item against
 * 17). Moving an item costs a loop about 1 ns a byte here and `copyWithin` a flat 22 ns
 * (3 bytes: 1.8 against 23 ns; 32 bytes: 30 against 23; 100 bytes: 80 against 22), hence
 * {@link COPY_WITHIN_MIN}. A list's packed node comes as a span of packed entries that this
 * walks itself (util/packed_entries.ts), so LRANGE's handler records nothing per item: handler
 * and encoding of LRANGE 0 99 of a list built by LPUSH, 32-byte items, in process, three runs
 * each: 5.03-5.56 us before, 4.39-4.45 after; server CPU per LRANGE_100 request under
 * `redis-benchmark -P 16`, two A/B runs of four rounds: 13.8 and 12.1 us of user time before,
 * 10.7 and 9.8 after.
 */
function pushBulkSlices(out: ByteBuffer, reply: BulkSlicesReply): void {
  const { texts, runStrings, runEnds, spanStarts, spanEnds, spanCounts, starts, lengths } = reply;
  const count = reply.length;
  let itemBytes = 0;
  for (let i = 0; i < starts.length; i++) itemBytes += lengths[i];
  // A span's entries hold their items' bytes and more (their prefixes).
  for (let r = 0; r < texts.length; r++) {
    if (spanStarts[r] >= 0) itemBytes += spanEnds[r] - spanStarts[r];
    else if (spanStarts[r] === -2) {
      const items = runStrings[r] as string[];
      for (let k = 0; k < items.length; k++) itemBytes += items[k].length;
    }
  }
  out.reserve(itemBytes + (count + 1) * (HEADER_BYTES + MAX_SAFE_DIGITS + 2));
  const b = out.bytes;
  let p = out.length;
  p = writeHeader(b, p, 42, count);
  let i = 0;
  for (let r = 0; r < texts.length; r++) {
    const text = texts[r];
    if (spanStarts[r] === -2) {
      p = pushStrings(b, p, runStrings[r] as string[]);
      continue;
    }
    if (spanStarts[r] >= 0) {
      const span = spanEnds[r] - spanStarts[r];
      const room = span + spanCounts[r] * (HEADER_BYTES + MAX_SAFE_DIGITS + 2);
      p = pushPackedEntries(b, p, room, text, spanStarts[r], spanEnds[r], spanCounts[r]);
      continue;
    }
    // Items given one by one (no list gives them so now: its runs are spans and strings).
    for (const end = runEnds[r]; i < end; i++) {
      const length = lengths[i];
      const start = starts[i];
      p = writeHeader(b, p, 36, length);
      for (let k = 0; k < length; k++) b[p + k] = text.charCodeAt(start + k);
      p += length;
      b[p++] = CRLF_0;
      b[p++] = CRLF_1;
    }
  }
  out.length = p;
}

/**
 * Writes `items` as bulk strings at `p` of `b`, which has room for them; returns the offset past
 * them. Joined, they are encoded natively into the far end of the room they take and moved down
 * item by item, as the items of a packed span are; a run of one item, or one with characters
 * above 127, is read character by character.
 */
function pushStrings(b: Uint8Array, p: number, items: readonly string[]): number {
  let inPlace = false;
  let q = 0;
  if (items.length > 1) {
    const text = items.join("");
    q = p + items.length * (HEADER_BYTES + MAX_SAFE_DIGITS + 2);
    const done = asciiEncoder.encodeInto(text, b.subarray(q, q + text.length));
    inPlace = done.read === text.length;
  }
  for (let k = 0; k < items.length; k++) {
    const item = items[k];
    const length = item.length;
    p = writeHeader(b, p, 36, length);
    if (!inPlace) {
      for (let i = 0; i < length; i++) b[p + i] = item.charCodeAt(i);
    } else if (length < COPY_WITHIN_MIN) {
      for (let i = 0; i < length; i++) b[p + i] = b[q + i];
    } else b.copyWithin(p, q, q + length);
    p += length;
    q += length;
    b[p++] = CRLF_0;
    b[p++] = CRLF_1;
  }
  return p;
}

/**
 * Writes the `count` packed entries of `text` from `start` to `end` (util/packed_entries.ts)
 * as bulk strings at `p` of `b`, which has room for `room` bytes there; returns the offset past
 * them. The span is encoded natively into the far end of that room first: when it is all ASCII
 * (every prefix then holds one byte), each item is moved down from there to its place (a bulk
 * string is longer than its entry, so the writes never reach the entries not read yet);
 * otherwise the items are read from the string.
 */
function pushPackedEntries(
  b: Uint8Array,
  p: number,
  room: number,
  text: string,
  start: number,
  end: number,
  count: number,
): number {
  const span = end - start;
  let q = p + room - span;
  const done = asciiEncoder.encodeInto(text.slice(start, end), b.subarray(q, q + span));
  if (done.read === span && done.written === span) {
    for (let n = 0; n < count; n++) {
      const length = b[q++];
      p = writeHeader(b, p, 36, length);
      if (length < COPY_WITHIN_MIN) {
        for (let k = 0; k < length; k++) b[p + k] = b[q + k];
      } else b.copyWithin(p, q, q + length);
      p += length;
      q += length + 1;
      b[p++] = CRLF_0;
      b[p++] = CRLF_1;
    }
    return p;
  }
  let at = start;
  for (let n = 0; n < count; n++) {
    const length = readLength(text, at);
    const width = prefixSize(length);
    at += width;
    p = writeHeader(b, p, 36, length);
    for (let k = 0; k < length; k++) b[p + k] = text.charCodeAt(at + k);
    p += length;
    at += length + width;
    b[p++] = CRLF_0;
    b[p++] = CRLF_1;
  }
  return p;
}

/** A bulk string from human-readable text, encoded as UTF-8. */
function pushBulkText(out: ByteBuffer, text: string): void {
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 127) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    pushHeader(out, 36, text.length);
    out.pushAscii(text);
  } else {
    const bytes = new TextEncoder().encode(text);
    pushHeader(out, 36, bytes.length);
    out.pushBytes(bytes);
  }
  pushCrlf(out);
}

/** Formats a double as Redis 7.0 replies with it, RESP3 and RESP2 alike (`%.17g`, inf, -inf). */
export function formatDouble(value: number): string {
  return formatDouble17g(value);
}

/**
 * Writes an error reply from a binary-string message (one byte per character); CR and LF inside
 * it become spaces so the frame stays valid, as Redis does.
 */
export function encodeError(out: ByteBuffer, message: string): void {
  out.reserve(message.length + 3);
  const b = out.bytes;
  let p = out.length;
  b[p++] = 45;
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i) & 0xff;
    b[p++] = c === 13 || c === 10 ? 32 : c;
  }
  b[p++] = 13;
  b[p++] = 10;
  out.length = p;
}

/** Appends the wire form of `reply` for a connection speaking protocol `proto`. */
export function encodeReply(out: ByteBuffer, reply: Reply, proto: Protocol): void {
  if (reply instanceof Uint8Array) return pushBulk(out, reply);
  switch (typeof reply) {
    case "number":
      if (Number.isSafeInteger(reply)) return pushHeader(out, 58, reply);
      out.pushByte(58);
      out.pushAscii(int64Text(reply));
      return pushCrlf(out);
    case "string":
      return pushBulkBinary(out, reply);
    case "bigint":
      out.pushByte(58);
      out.pushAscii(reply.toString());
      return pushCrlf(out);
    case "boolean":
      if (proto === 3) {
        out.pushAscii(reply ? "#t\r\n" : "#f\r\n");
      } else out.pushAscii(reply ? ":1\r\n" : ":0\r\n");
      return;
  }
  if (reply === null) {
    out.pushAscii(proto === 3 ? "_\r\n" : "$-1\r\n");
    return;
  }
  if (reply instanceof BytesRangeReply) return pushBytesRange(out, reply);
  if (reply instanceof SimpleString) return out.pushBytes(reply.wire);
  if (Array.isArray(reply)) {
    pushHeader(out, 42, reply.length);
    for (let i = 0; i < reply.length; i++) encodeReply(out, reply[i], proto);
    return;
  }
  if (reply instanceof BulkSlicesReply) return pushBulkSlices(out, reply);
  if (reply instanceof ErrorReply) return encodeError(out, reply.message);
  if (reply instanceof MapReply) {
    const flat = reply.flat;
    if (proto === 3) pushHeader(out, 37, flat.length / 2);
    else pushHeader(out, 42, flat.length);
    for (let i = 0; i < flat.length; i++) encodeReply(out, flat[i], proto);
    return;
  }
  if (reply instanceof ReplySequence) {
    for (const item of reply.items) encodeReply(out, item, proto);
    return;
  }
  if (reply instanceof SetReply || reply instanceof PushReply) {
    const type = proto === 2 ? 42 : reply instanceof SetReply ? 126 : 62;
    pushHeader(out, type, reply.items.length);
    for (const item of reply.items) encodeReply(out, item, proto);
    return;
  }
  if (reply instanceof DoubleReply) {
    const text = formatDouble(reply.value);
    if (proto === 3) {
      out.pushByte(44);
      out.pushAscii(text);
      pushCrlf(out);
    } else pushBulkText(out, text);
    return;
  }
  if (reply instanceof VerbatimReply) {
    if (proto === 2) return pushBulkText(out, reply.text);
    const bytes = new TextEncoder().encode(reply.text);
    pushHeader(out, 61, bytes.length + 4);
    out.pushAscii("txt:");
    out.pushBytes(bytes);
    return pushCrlf(out);
  }
  if (reply instanceof NullArray) {
    out.pushAscii(proto === 3 ? "_\r\n" : "*-1\r\n");
    return;
  }
  if (reply instanceof NoReply) return;
  if (reply instanceof BigNumberReply) {
    if (proto === 2) return pushBulkBinary(out, reply.text);
    out.pushByte(40);
    out.pushAscii(reply.text);
    return pushCrlf(out);
  }
  if (reply instanceof RawReply) return out.pushBytes(reply.bytes);
  if (reply instanceof DeferredReply) return encodeReply(out, reply.immediate, proto);
  throw new TypeError("Reply value has no RESP encoding");
}

/**
 * Appends a command as a RESP array of bulk strings (binary strings and numbers as their
 * text): the form the AOF, its rewrite and the replication stream hold.
 */
export function encodeCommandInto(
  out: ByteBuffer,
  args: readonly (string | Uint8Array | number)[],
): void {
  pushHeader(out, 42, args.length);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg === "string") pushBulkBinary(out, arg);
    else if (typeof arg === "number") {
      pushBulkBinary(
        out,
        Number.isInteger(arg) && !Number.isSafeInteger(arg) ? int64Text(arg) : String(arg),
      );
    } else pushBulk(out, arg);
  }
}
