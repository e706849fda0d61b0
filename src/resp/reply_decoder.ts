/**
 * Incremental decoding of RESP2 and RESP3 reply frames, for our client library and the test
 * harness (the server parses requests with its own parser). Bytes arrive from a socket in chunks
 * that may split a frame anywhere, so the decoder keeps its progress between calls instead of
 * re-parsing: partially decoded aggregates live on an explicit stack and a bulk string that is
 * still arriving is copied straight into its final array.
 *
 * Bulk strings are returned as copies that later input never overwrites. Copies of up to 1 KiB
 * share write-once 16 KiB slabs, as Node's Buffer pool does, because a separate ArrayBuffer per
 * small reply made decoding them about ten times slower; so `value.buffer` may hold other replies
 * too, and a caller that keeps a small value for long and cares about memory can `slice()` it.
 *
 * Not supported: RESP3 streamed strings and aggregates (`$?`, `*?`, `;` chunks, `.` end); a `?`
 * length is reported as malformed input. Redis does not send them.
 *
 * @module
 */

export { encodeCommand } from "./command_writer.ts";

const CR = 13;
const LF = 10;
const MINUS = 45;

const SIMPLE = 43; // '+'
const ERROR = 45; // '-'
const INTEGER = 58; // ':'
const BULK = 36; // '$'
const ARRAY = 42; // '*'
const NULL = 95; // '_'
const BOOLEAN = 35; // '#'
const DOUBLE = 44; // ','
const BIG_NUMBER = 40; // '('
const BLOB_ERROR = 33; // '!'
const VERBATIM = 61; // '='
const MAP = 37; // '%'
const SET = 126; // '~'
const ATTRIBUTE = 124; // '|'
const PUSH = 62; // '>'

/** Longest header line accepted for types whose line holds a number, a boolean or nothing. */
const SHORT_LINE_LIMIT = 32;
const INITIAL_CAPACITY = 16 * 1024;
/** An idle buffer larger than this is released so that one huge reply does not pin memory. */
const SHRINK_THRESHOLD = 1024 * 1024;
/** Incomplete bulk strings up to this size get their final array at once; larger ones grow. */
const BULK_EAGER_LIMIT = 1024 * 1024;
/** Copies of bulk strings up to this size share write-once slabs (see the module comment). */
const POOLED_MAX = 1024;
const SLAB_SIZE = 16 * 1024;
const DEFAULT_MAX_BULK_LENGTH = 512 * 1024 * 1024;
const DEFAULT_MAX_DEPTH = 64;

/**
 * Per type byte: 0 = unknown, otherwise the longest header line content allowed (the long limit
 * is filled in per decoder from `maxBulkLength`, marked here by -1).
 */
const LINE_LIMITS = new Int32Array(256);
for (
  const type of [
    INTEGER,
    BULK,
    ARRAY,
    NULL,
    BOOLEAN,
    BLOB_ERROR,
    VERBATIM,
    MAP,
    SET,
    ATTRIBUTE,
    PUSH,
  ]
) {
  LINE_LIMITS[type] = SHORT_LINE_LIMIT;
}
for (const type of [SIMPLE, ERROR, DOUBLE, BIG_NUMBER]) LINE_LIMITS[type] = -1;

// ignoreBOM keeps a leading U+FEFF: it is part of the value, not a byte order mark.
const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * An error reply (`-` or RESP3 `!`). It is a value, not a thrown exception, because an error
 * reply is a normal answer to a command and may sit inside an array (e.g. EXEC results).
 */
export class RespError {
  /** Wraps the error text as the server sent it, e.g. `ERR unknown command`. */
  constructor(readonly message: string) {}

  /** The first word of the message (`ERR`, `WRONGTYPE`, `MOVED`), which callers branch on. */
  get code(): string {
    const space = this.message.indexOf(" ");
    return space < 0 ? this.message : this.message.slice(0, space);
  }
}

/** A RESP3 map (`%`); entries keep wire order and may have non-string keys, hence not a `Map`. */
export class RespMap {
  /** Wraps the key/value pairs in the order they were received. */
  constructor(readonly entries: [RespValue, RespValue][]) {}
}

/** A RESP3 set (`~`), kept distinct from an array so callers can tell the reply types apart. */
export class RespSet {
  /** Wraps the members in the order they were received. */
  constructor(readonly items: RespValue[]) {}
}

/** A RESP3 out-of-band push (`>`), e.g. pub/sub messages, which must not be taken as a reply. */
export class RespPush {
  /** Wraps the push payload; the first item names the kind of push. */
  constructor(readonly items: RespValue[]) {}
}

/** A RESP3 double (`,`), boxed so it is not confused with an integer reply. */
export class RespDouble {
  /** Wraps the value; `inf`, `-inf` and `nan` map to the JS equivalents. */
  constructor(readonly value: number) {}
}

/** A RESP3 big number (`(`), an integer of arbitrary size. */
export class RespBigNumber {
  /** Wraps the integer value. */
  constructor(readonly value: bigint) {}
}

/** A RESP3 verbatim string (`=`): text plus a three-letter format such as `txt` or `mkd`. */
export class RespVerbatim {
  /** Wraps the format and the text bytes (a private copy). */
  constructor(readonly format: string, readonly text: Uint8Array) {}
}

/** A simple string (`+`), boxed to tell status replies such as `OK` apart from bulk strings. */
export class RespSimple {
  /** Wraps the status text. */
  constructor(readonly value: string) {}
}

/**
 * Any decoded reply. Integers (`:`) are numbers, or bigints outside the safe integer range; bulk
 * strings (`$`) are byte arrays; RESP2 null bulk/array and RESP3 null (`_`) are `null`; RESP3
 * booleans (`#`) are booleans; arrays (`*`) are JS arrays.
 */
export type RespValue =
  | RespSimple
  | RespError
  | number
  | bigint
  | Uint8Array
  | null
  | boolean
  | RespValue[]
  | RespMap
  | RespSet
  | RespPush
  | RespDouble
  | RespBigNumber
  | RespVerbatim;

/**
 * Malformed reply input. The stream cannot be resynchronised after it, so the connection should
 * be closed; the decoder keeps throwing the same error.
 */
export class RespDecodeError extends Error {
  override name = "RespDecodeError";
}

/** Limits that protect the client from a misbehaving server. */
export interface ReplyDecoderOptions {
  /**
   * Largest accepted bulk string, blob error or verbatim string, in bytes (default 512 MiB). It
   * also bounds the line of a simple string, error, double or big number.
   */
  maxBulkLength?: number;
  /** Deepest accepted nesting of aggregates (default 64). */
  maxDepth?: number;
}

/** An aggregate whose elements are still being decoded. */
interface Pending {
  type: number;
  /** Elements still expected (maps and attributes count keys and values separately). */
  remaining: number;
  items: RespValue[];
}

/**
 * Decodes a stream of reply frames pushed in arbitrary chunks, returning one complete frame per
 * `next()` call. RESP3 attributes (`|`) are decoded and dropped, since no caller uses them yet.
 */
export class ReplyDecoder {
  #buf = new Uint8Array(INITIAL_CAPACITY);
  /** Next unread byte in `#buf`. */
  #pos = 0;
  /** End of the received bytes in `#buf`. */
  #len = 0;
  /** Stream offset of `#buf[0]`, for error messages. */
  #base = 0;
  /** Where the search for the current header line's CR resumes. */
  #scan = 0;

  /** Destination of a bulk payload that is still arriving, or null. */
  #bulk: Uint8Array | null = null;
  #bulkType = 0;
  #bulkLength = 0;
  #bulkFilled = 0;
  #bulkOffset = 0;

  #stack: Pending[] = [];
  #failure: RespDecodeError | null = null;

  readonly #maxBulkLength: number;
  readonly #maxDepth: number;

  /** Creates a decoder with empty state; options bound the memory a single reply may claim. */
  constructor(options: ReplyDecoderOptions = {}) {
    this.#maxBulkLength = options.maxBulkLength ?? DEFAULT_MAX_BULK_LENGTH;
    this.#maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    if (!Number.isSafeInteger(this.#maxBulkLength) || this.#maxBulkLength < 0) {
      throw new RangeError(
        `maxBulkLength must be a non-negative integer, got ${this.#maxBulkLength}`,
      );
    }
    if (!Number.isSafeInteger(this.#maxDepth) || this.#maxDepth < 0) {
      throw new RangeError(`maxDepth must be a non-negative integer, got ${this.#maxDepth}`);
    }
  }

  /**
   * Appends bytes received from the socket (copying as needed; the caller may reuse its buffer).
   */
  push(chunk: Uint8Array): void {
    let from = 0;
    const bulk = this.#bulk;
    if (bulk !== null && this.#bulkFilled < this.#bulkLength) {
      // While a payload is incomplete the buffer holds no unread bytes: they all went to `bulk`.
      const take = Math.min(chunk.length, this.#bulkLength - this.#bulkFilled);
      const target = this.#bulkFilled + take > bulk.length
        ? this.#growBulk(this.#bulkFilled + take)
        : bulk;
      target.set(take === chunk.length ? chunk : chunk.subarray(0, take), this.#bulkFilled);
      this.#bulkFilled += take;
      this.#base += this.#len + take;
      this.#pos = this.#len = this.#scan = 0;
      from = take;
    }
    const count = chunk.length - from;
    if (count === 0) return;
    if (this.#pos === this.#len) {
      this.#base += this.#len;
      this.#pos = this.#len = this.#scan = 0;
      if (this.#buf.length > SHRINK_THRESHOLD) this.#buf = new Uint8Array(INITIAL_CAPACITY);
    }
    if (this.#len + count > this.#buf.length) this.#makeRoom(count);
    this.#buf.set(from === 0 ? chunk : chunk.subarray(from), this.#len);
    this.#len += count;
  }

  /**
   * Returns the next complete frame, or `undefined` when more bytes are needed. Throws
   * RespDecodeError on malformed input, and again on every later call.
   */
  next(): RespValue | undefined {
    if (this.#failure !== null) throw this.#failure;
    try {
      return this.#decode();
    } catch (error) {
      if (error instanceof RespDecodeError) this.#failure = error;
      throw error;
    }
  }

  #decode(): RespValue | undefined {
    const stack = this.#stack;
    for (;;) {
      let value: RespValue;
      if (this.#bulk !== null) {
        if (this.#bulkFilled < this.#bulkLength || this.#len - this.#pos < 2) return undefined;
        const bytes = this.#bulk;
        this.#bulk = null;
        this.#expectCrlf(this.#pos);
        this.#pos += 2;
        value = this.#bulkValue(this.#bulkType, bytes, this.#bulkOffset);
      } else {
        const buf = this.#buf;
        const start = this.#pos;
        if (start >= this.#len) return undefined;
        const type = buf[start];
        const cr = this.#findLineEnd(type);
        if (cr < 0) return undefined;
        const from = start + 1;
        this.#pos = cr + 2;
        switch (type) {
          case SIMPLE:
            value = commonSimple(buf, from, cr) ?? new RespSimple(decodeText(buf, from, cr));
            break;
          case ERROR:
            value = new RespError(decodeText(buf, from, cr));
            break;
          case INTEGER:
            value = this.#parseInteger(from, cr);
            break;
          case BULK:
          case BLOB_ERROR:
          case VERBATIM: {
            const length = this.#parseLength(from, cr, type === BULK);
            if (length < 0) {
              value = null;
              break;
            }
            if (length > this.#maxBulkLength) {
              throw this.#error(
                `Bulk length ${length} exceeds the limit of ${this.#maxBulkLength}`,
                from,
              );
            }
            const bodyStart = this.#pos;
            if (type === VERBATIM && length < 4) {
              throw this.#error("Verbatim string is shorter than its format prefix", bodyStart);
            }
            if (this.#len - bodyStart >= length + 2) {
              this.#expectCrlf(bodyStart + length);
              this.#pos = bodyStart + length + 2;
              value = this.#bulkValue(
                type,
                copyBytes(buf, bodyStart, length),
                this.#base + bodyStart,
              );
              break;
            }
            this.#startBulk(type, length);
            continue;
          }
          case ARRAY:
          case MAP:
          case SET:
          case PUSH:
          case ATTRIBUTE: {
            const length = this.#parseLength(from, cr, type === ARRAY);
            if (length < 0) {
              value = null;
              break;
            }
            if (stack.length >= this.#maxDepth) {
              throw this.#error(`Aggregate nesting exceeds the limit of ${this.#maxDepth}`, start);
            }
            if (length === 0) {
              if (type === ATTRIBUTE) continue;
              value = emptyAggregate(type);
              break;
            }
            const elements = type === MAP || type === ATTRIBUTE ? length * 2 : length;
            stack.push({ type, remaining: elements, items: [] });
            continue;
          }
          case NULL:
            if (cr !== from) throw this.#error("Null frame has content", from);
            value = null;
            break;
          case BOOLEAN:
            if (cr !== from + 1 || (buf[from] !== 116 && buf[from] !== 102)) {
              throw this.#error("Boolean frame is not #t or #f", from);
            }
            value = buf[from] === 116;
            break;
          case DOUBLE:
            value = new RespDouble(this.#parseDouble(from, cr));
            break;
          default: // BIG_NUMBER; other bytes were rejected by #findLineEnd.
            value = new RespBigNumber(this.#parseBigNumber(from, cr));
            break;
        }
      }

      // Hand the value to the innermost pending aggregate, completing aggregates as they fill.
      for (;;) {
        const top = stack.length === 0 ? undefined : stack[stack.length - 1];
        if (top === undefined) return value;
        top.items.push(value);
        if (--top.remaining > 0) break;
        stack.pop();
        if (top.type === ATTRIBUTE) break;
        value = buildAggregate(top.type, top.items);
      }
    }
  }

  /**
   * Returns the index of the CR ending the header line at `#pos`, or -1 when the line is not
   * complete yet. Rejects unknown type bytes and over-long lines as soon as they are visible.
   */
  #findLineEnd(type: number): number {
    const buf = this.#buf;
    const start = this.#pos;
    const len = this.#len;
    let limit = LINE_LIMITS[type];
    if (limit === 0) {
      throw this.#error(`Unknown reply type byte 0x${hex2(type)}`, start);
    }
    if (limit < 0) limit = this.#maxBulkLength;
    let i = this.#scan > start ? this.#scan : start + 1;
    while (i < len && buf[i] !== CR) i++;
    if (i - start - 1 > limit) throw this.#error("Reply header line is too long", start);
    if (i + 1 >= len) {
      this.#scan = i;
      return -1;
    }
    if (buf[i + 1] !== LF) throw this.#error("Expected LF after CR", i + 1);
    return i;
  }

  /** Parses an aggregate or bulk length; -1 (null) only where RESP allows it. */
  #parseLength(from: number, end: number, allowNull: boolean): number {
    const buf = this.#buf;
    if (allowNull && end - from === 2 && buf[from] === MINUS && buf[from + 1] === 49) return -1;
    if (from === end) throw this.#error("Length is empty", from);
    if (buf[from] === 63) throw this.#error("Streamed ('?') lengths are not supported", from);
    let n = 0;
    for (let i = from; i < end; i++) {
      const digit = buf[i] - 48;
      if (digit < 0 || digit > 9) throw this.#error("Length is not a non-negative integer", from);
      n = n * 10 + digit;
    }
    if (n > Number.MAX_SAFE_INTEGER) throw this.#error("Length is too large", from);
    return n;
  }

  #parseInteger(from: number, end: number): number | bigint {
    const buf = this.#buf;
    const negative = buf[from] === MINUS;
    const digitsFrom = negative ? from + 1 : from;
    if (digitsFrom === end) throw this.#error("Integer is empty", from);
    let n = 0;
    for (let i = digitsFrom; i < end; i++) {
      const digit = buf[i] - 48;
      if (digit < 0 || digit > 9) throw this.#error("Integer has a non-digit", i);
      n = n * 10 + digit;
    }
    // Up to 15 digits the accumulated number is exact; beyond that go through BigInt.
    if (end - digitsFrom <= 15) return negative ? 0 - n : n;
    const big = BigInt(latin1(buf, from, end));
    return big >= -MAX_SAFE_BIG && big <= MAX_SAFE_BIG ? Number(big) : big;
  }

  #parseDouble(from: number, end: number): number {
    const text = latin1(this.#buf, from, end);
    switch (text.toLowerCase()) {
      case "inf":
      case "+inf":
        return Infinity;
      case "-inf":
        return -Infinity;
      case "nan":
      case "-nan":
        return NaN;
    }
    if (!DOUBLE_PATTERN.test(text)) throw this.#error("Double is malformed", from);
    return Number(text);
  }

  #parseBigNumber(from: number, end: number): bigint {
    const text = latin1(this.#buf, from, end);
    if (!BIG_NUMBER_PATTERN.test(text)) throw this.#error("Big number is malformed", from);
    return BigInt(text);
  }

  /** Turns a complete bulk-like payload (a private copy) found at `streamOffset` into its value. */
  #bulkValue(type: number, bytes: Uint8Array, streamOffset: number): RespValue {
    if (type === BULK) return bytes;
    if (type === BLOB_ERROR) return new RespError(utf8Decoder.decode(bytes));
    if (bytes[3] !== 58) {
      throw decodeError("Verbatim string lacks the ':' after its format", streamOffset);
    }
    return new RespVerbatim(latin1(bytes, 0, 3), copyBytes(bytes, 4, bytes.length - 4));
  }

  /** Moves the available part of a payload into its final array and waits for the rest. */
  #startBulk(type: number, length: number): void {
    const take = Math.min(this.#len - this.#pos, length);
    const capacity = length <= BULK_EAGER_LIMIT
      ? length
      : Math.min(length, Math.max(take * 2, BULK_EAGER_LIMIT));
    const bulk = new Uint8Array(capacity);
    bulk.set(this.#buf.subarray(this.#pos, this.#pos + take));
    this.#bulkOffset = this.#base + this.#pos;
    this.#pos += take;
    this.#bulk = bulk;
    this.#bulkType = type;
    this.#bulkLength = length;
    this.#bulkFilled = take;
  }

  /** Grows the pending payload array geometrically, never beyond the announced length. */
  #growBulk(needed: number): Uint8Array {
    const old = this.#bulk as Uint8Array;
    const grown = new Uint8Array(Math.min(this.#bulkLength, Math.max(needed, old.length * 2)));
    grown.set(old.subarray(0, this.#bulkFilled));
    this.#bulk = grown;
    return grown;
  }

  /**
   * Makes room for `count` more bytes, compacting when at least half the buffer is already read
   * (so compaction cost is paid for by consumed bytes) and doubling otherwise.
   */
  #makeRoom(count: number): void {
    const live = this.#len - this.#pos;
    const capacity = this.#buf.length;
    if (live + count <= capacity && this.#pos >= capacity >>> 1) {
      this.#buf.copyWithin(0, this.#pos, this.#len);
    } else {
      const grown = new Uint8Array(Math.max(capacity * 2, live + count));
      grown.set(this.#buf.subarray(this.#pos, this.#len));
      this.#buf = grown;
    }
    this.#base += this.#pos;
    this.#scan -= this.#pos;
    this.#pos = 0;
    this.#len = live;
  }

  #expectCrlf(at: number): void {
    if (this.#buf[at] !== CR || this.#buf[at + 1] !== LF) {
      throw this.#error("Expected CRLF after bulk payload", at);
    }
  }

  /** The error for a problem found at index `at` of the buffer. */
  #error(what: string, at: number): RespDecodeError {
    return decodeError(what, this.#base + at);
  }
}

const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The commonest status replies (`OK`, `PONG`, and `QUEUED` for every command of a transaction)
 * as shared values, so they are not rebuilt per reply; RespSimple is immutable.
 */
const COMMON_SIMPLE = [new RespSimple("OK"), new RespSimple("PONG"), new RespSimple("QUEUED")];
const COMMON_SIMPLE_BYTES = COMMON_SIMPLE.map((s) => new TextEncoder().encode(s.value));

/** The shared value for a common status line, or null. */
function commonSimple(buf: Uint8Array, from: number, end: number): RespSimple | null {
  for (let i = 0; i < COMMON_SIMPLE.length; i++) {
    const bytes = COMMON_SIMPLE_BYTES[i];
    if (end - from !== bytes.length) continue;
    let j = 0;
    while (j < bytes.length && buf[from + j] === bytes[j]) j++;
    if (j === bytes.length) return COMMON_SIMPLE[i];
  }
  return null;
}
const DOUBLE_PATTERN = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const BIG_NUMBER_PATTERN = /^[+-]?\d+$/;

let slab = new Uint8Array(0);
let slabUsed = 0;

/**
 * Copies `length` bytes starting at `from` into memory that nothing else writes to. Small copies
 * share a slab (like Node's Buffer pool), so their `.buffer` may hold other replies too.
 */
function copyBytes(source: Uint8Array, from: number, length: number): Uint8Array {
  if (length > POOLED_MAX) {
    const copy = new Uint8Array(length);
    copy.set(source.subarray(from, from + length));
    return copy;
  }
  if (slabUsed + length > slab.length) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const start = slabUsed;
  if (length <= 32) {
    for (let i = 0; i < length; i++) slab[start + i] = source[from + i];
  } else {
    slab.set(source.subarray(from, from + length), start);
  }
  slabUsed = start + length;
  return slab.subarray(start, slabUsed);
}

function decodeError(what: string, streamOffset: number): RespDecodeError {
  return new RespDecodeError(`${what} at byte offset ${streamOffset}`);
}

function emptyAggregate(type: number): RespValue {
  switch (type) {
    case MAP:
      return new RespMap([]);
    case SET:
      return new RespSet([]);
    case PUSH:
      return new RespPush([]);
    default:
      return [];
  }
}

function buildAggregate(type: number, items: RespValue[]): RespValue {
  switch (type) {
    case MAP: {
      const entries: [RespValue, RespValue][] = [];
      for (let i = 0; i < items.length; i += 2) entries.push([items[i], items[i + 1]]);
      return new RespMap(entries);
    }
    case SET:
      return new RespSet(items);
    case PUSH:
      return new RespPush(items);
    default:
      return items;
  }
}

/** Decodes UTF-8 text, building short ASCII strings directly (most status lines are `OK`). */
function decodeText(buf: Uint8Array, from: number, end: number): string {
  if (end - from <= 32) {
    let text = "";
    for (let i = from; i < end; i++) {
      const c = buf[i];
      if (c >= 0x80) return utf8Decoder.decode(buf.subarray(from, end));
      text += String.fromCharCode(c);
    }
    return text;
  }
  return utf8Decoder.decode(buf.subarray(from, end));
}

/** Maps bytes to code points one to one; for fields that are ASCII when well formed. */
function latin1(buf: Uint8Array, from: number, end: number): string {
  let text = "";
  for (let i = from; i < end; i++) text += String.fromCharCode(buf[i]);
  return text;
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
