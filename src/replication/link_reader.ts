/**
 * Buffered reading of a follower's connection to its leader: handshake lines, the RDB payload
 * (sized, or ended by a 40-byte mark under `capa eof`), then the command stream, which the
 * follower parses in place from {@link LinkReader.bytes}.
 */

import { concatBytes } from "../util/bytes.ts";

const decoder = new TextDecoder();

/** Reads from one socket through a growable buffer. */
export class LinkReader {
  #buf = new Uint8Array(64 * 1024);
  /** First unread byte. */
  start = 0;
  /** End of the bytes read. */
  end = 0;
  /** Bytes received in total. */
  received = 0;
  /** When bytes last arrived (ms, monotonic). */
  lastIo = performance.now();
  readonly #conn: Deno.Conn;

  /** Reads `conn`. */
  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** The buffer; unread bytes are `bytes[start, end)`. */
  get bytes(): Uint8Array {
    return this.#buf;
  }

  /** Reads more bytes after those buffered (compacting or growing first); false at EOF. */
  async fill(): Promise<boolean> {
    if (this.start > 0 && this.start === this.end) this.start = this.end = 0;
    if (this.end === this.#buf.length) {
      const pending = this.end - this.start;
      if (this.start > 0 && pending < this.#buf.length / 2) {
        this.#buf.copyWithin(0, this.start, this.end);
      } else {
        const grown = new Uint8Array(this.#buf.length * 2);
        grown.set(this.#buf.subarray(this.start, this.end));
        this.#buf = grown;
      }
      this.start = 0;
      this.end = pending;
    }
    const n = await this.#conn.read(this.#buf.subarray(this.end));
    if (n === null) return false;
    this.end += n;
    this.received += n;
    this.lastIo = performance.now();
    return true;
  }

  /**
   * The next line without its line end. Empty lines are returned as "" (a leader sends bare
   * newlines to keep the link alive while it prepares a copy).
   */
  async line(): Promise<string> {
    for (;;) {
      const lf = this.#buf.subarray(this.start, this.end).indexOf(10);
      if (lf >= 0) {
        let stop = this.start + lf;
        if (stop > this.start && this.#buf[stop - 1] === 13) stop--;
        const text = decoder.decode(this.#buf.subarray(this.start, stop));
        this.start += lf + 1;
        return text;
      }
      if (this.end - this.start > 64 * 1024) throw new Error("handshake line too long");
      if (!await this.fill()) throw new Error("connection closed by the leader");
    }
  }

  /** Exactly `length` bytes (a copy). */
  async exact(length: number, progress?: (read: number) => void): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let at = 0;
    while (at < length) {
      if (this.start === this.end && !await this.fill()) {
        throw new Error("connection closed by the leader during the transfer");
      }
      const take = Math.min(length - at, this.end - this.start);
      out.set(this.#buf.subarray(this.start, this.start + take), at);
      this.start += take;
      at += take;
      progress?.(at);
    }
    return out;
  }

  /** Every byte up to `mark` (which ends the payload and is consumed, not returned). */
  async untilMark(mark: Uint8Array, progress?: (read: number) => void): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      // Keep the last mark.length - 1 bytes unconsumed: the mark may straddle two reads.
      const view = this.#buf.subarray(this.start, this.end);
      const at = indexOf(view, mark);
      if (at >= 0) {
        parts.push(view.slice(0, at));
        total += at;
        this.start += at + mark.length;
        break;
      }
      const safe = Math.max(0, view.length - (mark.length - 1));
      if (safe > 0) {
        parts.push(view.slice(0, safe));
        total += safe;
        this.start += safe;
        progress?.(total);
      }
      if (!await this.fill()) {
        throw new Error("connection closed by the leader during the transfer");
      }
    }
    return concatBytes(parts);
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  const first = needle[0];
  for (let i = haystack.indexOf(first); i >= 0 && i + needle.length <= haystack.length;) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
    i = haystack.indexOf(first, i + 1);
  }
  return -1;
}
