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

/** Per-connection request parser state; see the module comment. */
export class RequestParser {
  /** Largest bulk argument accepted (`proto-max-bulk-len`). */
  maxBulkLength: number;
  /** When true, Redis's small limits for clients that have not authenticated yet apply. */
  unauthenticated = false;
  /** The command completed by the last {@link parse} call, or null when more bytes are needed. */
  command: Uint8Array[] | null = null;
  #args: Uint8Array[] = [];
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
      const cr = findByte(buf, CR, pos + 1, end);
      if (cr < 0) {
        if (end - pos > INLINE_MAX_SIZE) throw new ProtocolError("too big mbulk count string");
        return pos;
      }
      if (cr + 1 >= end) return pos;
      const count = parseStrictInteger(buf, pos + 1, cr);
      if (count === null || count > MAX_MULTIBULK_LENGTH) {
        throw new ProtocolError("invalid multibulk length");
      }
      if (this.unauthenticated && count > UNAUTHENTICATED_MULTIBULK_LIMIT) {
        throw new ProtocolError("unauthenticated multibulk length");
      }
      pos = cr + 2;
      if (count <= 0) {
        this.command = [];
        return pos;
      }
      this.#remaining = count;
      this.#args = [];
      this.#detached = 0;
      this.#argBytes = 0;
    }
    return this.#parseBulks(buf, pos, end);
  }

  /** Copies the arguments that still point into the caller's buffer, before it may change. */
  #detach(pos: number): number {
    const args = this.#args;
    for (let i = this.#detached; i < args.length; i++) args[i] = args[i].slice();
    this.#detached = args.length;
    return pos;
  }

  #parseBulks(buf: Uint8Array, pos: number, end: number): number {
    while (this.#remaining > 0) {
      if (this.#bulkLength < 0) {
        if (pos >= end) return this.#detach(pos);
        if (buf[pos] !== 36) {
          throw new ProtocolError(`expected '$', got '${String.fromCharCode(buf[pos])}'`);
        }
        const cr = findByte(buf, CR, pos + 1, end);
        if (cr < 0) {
          if (end - pos > INLINE_MAX_SIZE) throw new ProtocolError("too big bulk count string");
          return this.#detach(pos);
        }
        if (cr + 1 >= end) return this.#detach(pos);
        const length = parseStrictInteger(buf, pos + 1, cr);
        if (length === null || length < 0 || length > this.maxBulkLength) {
          throw new ProtocolError("invalid bulk length");
        }
        if (this.unauthenticated && length > UNAUTHENTICATED_BULK_LIMIT) {
          throw new ProtocolError("unauthenticated bulk length");
        }
        pos = cr + 2;
        this.#bulkLength = length;
      }
      const length = this.#bulkLength;
      if (end - pos < length + 2) return this.#detach(pos);
      // A view built by the constructor costs ~26 ns against ~42 ns for subarray().
      this.#args.push(new Uint8Array(buf.buffer, buf.byteOffset + pos, length));
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
