/**
 * Incremental parser of client requests (RESP multibulk arrays and inline commands) over the
 * connection's read buffer. A request split across reads at any byte is normal: the parser keeps
 * the arguments already read and resumes where it stopped, so bytes are scanned once.
 * Limits and error texts follow Redis's `processMultibulkBuffer` / `processInlineBuffer`.
 *
 * Arguments of a completed command are views into the caller's buffer, not copies: allocating a
 * byte array per argument costs far more than the rest of a PING. They are valid until the caller
 * next changes that buffer; a command split across reads has its earlier arguments copied before
 * the parser asks for more bytes, since the caller may then compact or replace the buffer.
 */
import {
  INLINE_MAX_SIZE,
  MAX_MULTIBULK_LENGTH,
  UNAUTHENTICATED_BULK_LIMIT,
  UNAUTHENTICATED_MULTIBULK_LIMIT,
} from "./limits.ts";
import { splitInlineArgs } from "./inline.ts";
import { parseInt64Bytes } from "../util/int64.ts";

/**
 * A malformed request. The message is Redis's text after `Protocol error: `; the server replies
 * `-ERR Protocol error: <message>` and closes that connection.
 */
export class ProtocolError extends Error {
  /** Creates a protocol error with Redis's wording (e.g. `invalid bulk length`). */
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

const CR = 13;
const LF = 10;

/** Index of the first `byte` in `buf[from..end)`, or -1; bounded so stale bytes are never read. */
function findByte(buf: Uint8Array, byte: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === byte) return i;
  return -1;
}

/**
 * Parses a length line's digits exactly like Redis's `string2ll`: optional minus, no plus, no
 * leading zeros, no spaces, within the signed 64-bit range. Returns null when the text is not
 * such an integer. Values beyond 2^53 come back rounded, which is enough for comparing with
 * limits, the only use they have here.
 */
export function parseStrictInteger(buf: Uint8Array, start: number, end: number): number | null {
  const value = parseInt64Bytes(buf, start, end);
  return value === null ? null : Number(value);
}

/**
 * Shared arrays for command names as clients usually spell them (all lower or all upper case),
 * so that the parser need not build a view for each request's name. The command table is one.
 */
export interface CommandNames {
  /**
   * The shared bytes of the command name `buf[start, end)` when it is spelled exactly as one
   * of a command's usual spellings, else null. Nothing may write into the array returned.
   */
  intern(buf: Uint8Array, start: number, end: number): Uint8Array | null;
}

/** Largest argument count for which a request's argument array is allocated at its full size. */
const PRESIZED_ARGS = 64;

/** Where the line {@link scanLength} read last ends (its CR). */
let scannedCr = 0;

/**
 * The common case of a length line, read in one pass: 1 to 15 digits without a leading zero
 * (or a lone 0), then CR and one more byte, all before `end`. Returns the value and leaves the
 * CR's index in {@link scannedCr}; returns -1 for anything else (a sign, an incomplete line, a
 * malformed one), which the general path then reads and judges with Redis's rules.
 */
function scanLength(buf: Uint8Array, from: number, end: number): number {
  let i = from;
  let value = 0;
  const limit = Math.min(end, from + 15);
  while (i < limit) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) break;
    value = value * 10 + d;
    i++;
  }
  if (i === from || i + 1 >= end || buf[i] !== CR) return -1;
  if (buf[from] === 48 && i - from > 1) return -1;
  scannedCr = i;
  return value;
}

/** Per-connection request parser state; see the module comment. */
export class RequestParser {
  /** Largest bulk argument accepted (`proto-max-bulk-len`). */
  maxBulkLength: number;
  /** When true, Redis's small limits for clients that have not authenticated yet apply. */
  unauthenticated = false;
  /**
   * Shared arrays for the usual spellings of command names, used as a request's first argument
   * in place of a view (see commands/registry.ts); null to always build views.
   */
  names: CommandNames | null = null;
  /** The command completed by the last {@link parse} call, or null when more bytes are needed. */
  command: Uint8Array[] | null = null;
  #args: Uint8Array[] = [];
  /** Arguments of the current command read so far. */
  #argc = 0;
  #detached = 0;
  #argBytes = 0;
  #remaining = 0;
  #bulkLength = -1;

  /** Creates a parser that refuses bulk arguments longer than `maxBulkLength`. */
  constructor(maxBulkLength: number) {
    this.maxBulkLength = maxBulkLength;
  }

  /**
   * Bytes that must be buffered from the current position before parsing can progress, when
   * known (a bulk argument whose length was read); 0 otherwise. Lets the connection grow its
   * buffer once to the right size for large values.
   */
  get pendingBulkBytes(): number {
    return this.#bulkLength >= 0 ? this.#bulkLength + 2 : 0;
  }

  /** Bytes held in arguments of a command that is not complete yet (query buffer accounting). */
  get partialBytes(): number {
    return this.#argBytes;
  }

  /**
   * Parses from `buf[pos..end)`. Returns the position after the bytes consumed and sets
   * {@link command} to the completed argument vector (empty for an empty inline line or a
   * zero-length multibulk, which Redis ignores) or null when more bytes are needed.
   * Throws {@link ProtocolError} for malformed input.
   */
  parse(buf: Uint8Array, pos: number, end: number): number {
    this.command = null;
    if (this.#remaining === 0) {
      if (pos >= end) return pos;
      if (buf[pos] !== 42) return this.#parseInline(buf, pos, end);
      let count = scanLength(buf, pos + 1, end);
      let cr = scannedCr;
      if (count < 0) {
        cr = findByte(buf, CR, pos + 1, end);
        if (cr < 0) {
          if (end - pos > INLINE_MAX_SIZE) throw new ProtocolError("too big mbulk count string");
          return pos;
        }
        if (cr + 1 >= end) return pos;
        const parsed = parseStrictInteger(buf, pos + 1, cr);
        if (parsed === null) throw new ProtocolError("invalid multibulk length");
        count = parsed;
      }
      if (count > MAX_MULTIBULK_LENGTH) throw new ProtocolError("invalid multibulk length");
      if (this.unauthenticated && count > UNAUTHENTICATED_MULTIBULK_LIMIT) {
        throw new ProtocolError("unauthenticated multibulk length");
      }
      pos = cr + 2;
      if (count <= 0) {
        this.command = [];
        return pos;
      }
      this.#remaining = count;
      // Sized up front (an array grown by push costs several times more), but never beyond what
      // a small request needs: the count is the client's word, not yet backed by bytes.
      this.#args = new Array(Math.min(count, PRESIZED_ARGS));
      this.#argc = 0;
      this.#detached = 0;
      this.#argBytes = 0;
    }
    return this.#parseBulks(buf, pos, end);
  }

  /** Copies the arguments that still point into the caller's buffer, before it may change. */
  #detach(pos: number): number {
    const args = this.#args;
    for (let i = this.#detached; i < this.#argc; i++) args[i] = args[i].slice();
    this.#detached = this.#argc;
    return pos;
  }

  #parseBulks(buf: Uint8Array, pos: number, end: number): number {
    const buffer = buf.buffer;
    const base = buf.byteOffset;
    const args = this.#args;
    while (this.#remaining > 0) {
      if (this.#bulkLength < 0) {
        if (pos >= end) return this.#detach(pos);
        if (buf[pos] !== 36) {
          throw new ProtocolError(`expected '$', got '${String.fromCharCode(buf[pos])}'`);
        }
        let length = scanLength(buf, pos + 1, end);
        let cr = scannedCr;
        if (length < 0) {
          cr = findByte(buf, CR, pos + 1, end);
          if (cr < 0) {
            if (end - pos > INLINE_MAX_SIZE) throw new ProtocolError("too big bulk count string");
            return this.#detach(pos);
          }
          if (cr + 1 >= end) return this.#detach(pos);
          const parsed = parseStrictInteger(buf, pos + 1, cr);
          if (parsed === null || parsed < 0) throw new ProtocolError("invalid bulk length");
          length = parsed;
        }
        if (length > this.maxBulkLength) throw new ProtocolError("invalid bulk length");
        if (this.unauthenticated && length > UNAUTHENTICATED_BULK_LIMIT) {
          throw new ProtocolError("unauthenticated bulk length");
        }
        pos = cr + 2;
        this.#bulkLength = length;
      }
      const length = this.#bulkLength;
      if (end - pos < length + 2) return this.#detach(pos);
      // A view built by the constructor costs ~26 ns against ~42 ns for subarray().
      const name = this.#argc === 0 && this.names !== null
        ? this.names.intern(buf, pos, pos + length)
        : null;
      args[this.#argc++] = name ?? new Uint8Array(buffer, base + pos, length);
      this.#argBytes += length;
      pos += length + 2;
      this.#bulkLength = -1;
      this.#remaining--;
    }
    // The next multibulk header gives #args a fresh array; this one now belongs to the caller.
    this.command = this.#args;
    this.#argBytes = 0;
    return pos;
  }

  #parseInline(buf: Uint8Array, pos: number, end: number): number {
    const lf = findByte(buf, LF, pos, end);
    if (lf < 0) {
      if (end - pos > INLINE_MAX_SIZE) throw new ProtocolError("too big inline request");
      return pos;
    }
    const lineEnd = lf > pos && buf[lf - 1] === CR ? lf - 1 : lf;
    const args = splitInlineArgs(buf, pos, lineEnd);
    if (args === null) throw new ProtocolError("unbalanced quotes in request");
    this.command = args;
    return lf + 1;
  }
}
