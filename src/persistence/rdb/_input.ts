/**
 * The reader's input buffer, folder-private: chunks arrive from the source, the parser reads
 * records out of them, and a record cut off by the end of the buffered data is retried whole
 * once enough bytes have arrived.
 *
 * Reads past the buffered data throw {@link NEED_MORE} after noting how many bytes the record
 * needs, so the parser stays synchronous (no promise per field) and a large value is retried
 * only once its bytes are all there. The buffer grows only with data that actually arrived:
 * a length field claiming gigabytes allocates nothing until the gigabytes come.
 */

import { Crc64 } from "./crc64.ts";

/** Thrown (this one object, not an Error) by a read that needs bytes not yet buffered. */
export const NEED_MORE: { readonly needMore: true } = Object.freeze({ needMore: true });

/** Buffers above this size are replaced by smaller ones once they are mostly empty. */
const SHRINK_ABOVE = 1024 * 1024;

/** A cursor over buffered input with record-level commit and rewind. */
export class ByteInput {
  /** The buffered bytes; `buf[pos, end)` is unread. */
  buf: Uint8Array = new Uint8Array(0);
  /** Read position in `buf`. */
  pos = 0;
  /** End of the valid bytes in `buf`. */
  end = 0;
  /** File offset of `buf[0]`. */
  base = 0;
  /** Start of the current record: bytes before it are consumed and may be discarded. */
  mark = 0;
  /** The file offset a retried record needs the data to reach, set when NEED_MORE is thrown. */
  wanted = 0;
  /**
   * Where a retried record would rather the data reached (0: no preference): a large record
   * asks for more than its known minimum so that it is not parsed again for every chunk. The
   * end of the input may come first; only {@link wanted} is required.
   */
  preferred = 0;
  /** Checksum of the consumed bytes, or null when not verifying. */
  readonly crc: Crc64 | null;
  /** `buf[0, crcPos)` is already in the checksum. */
  #crcPos = 0;
  /** Whether `buf` is ours to write into (adopted chunks are not). */
  #owned = false;

  constructor(crc: Crc64 | null) {
    this.crc = crc;
  }

  /** File offset of the read position. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** File offset just past the buffered data. */
  get received(): number {
    return this.base + this.end;
  }

  /** Throws {@link NEED_MORE} unless `n` more bytes are buffered. */
  require(n: number): void {
    if (this.end - this.pos < n) {
      this.wanted = this.base + this.pos + n;
      throw NEED_MORE;
    }
  }

  /** Reads one byte. */
  u8(): number {
    if (this.pos >= this.end) this.require(1);
    return this.buf[this.pos++];
  }

  /** Reads a 32-bit unsigned big-endian integer. */
  u32be(): number {
    this.require(4);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }

  /** Reads a 32-bit unsigned little-endian integer. */
  u32le(): number {
    this.require(4);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  }

  /** Skips `n` bytes and returns their start index in `buf` (valid until the next push). */
  take(n: number): number {
    this.require(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** Ends the current record: what was read is consumed. */
  commit(): void {
    this.mark = this.pos;
  }

  /** Rewinds to the start of the current record, to retry it once more data has arrived. */
  rewind(): void {
    this.pos = this.mark;
  }

  /** Adds everything consumed so far to the checksum. */
  checksumConsumed(): void {
    if (this.crc && this.#crcPos < this.mark) this.crc.update(this.buf, this.#crcPos, this.mark);
    this.#crcPos = this.mark;
  }

  /** Appends a chunk from the source, discarding consumed bytes. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.checksumConsumed();
    const keep = this.end - this.mark;
    const consumed = this.mark;
    const needed = keep + chunk.length;
    if (keep === 0) {
      this.buf = chunk;
      this.#owned = false;
      this.end = chunk.length;
    } else if (
      this.#owned && this.buf.length >= needed &&
      !(this.buf.length > SHRINK_ABOVE && needed * 4 < this.buf.length)
    ) {
      if (consumed > 0) this.buf.copyWithin(0, consumed, this.end);
      this.buf.set(chunk, keep);
      this.end = needed;
    } else {
      const grown = this.#owned ? Math.min(this.buf.length * 2, needed * 2) : 0;
      const next = new Uint8Array(Math.max(needed, grown));
      next.set(this.buf.subarray(consumed, this.end), 0);
      next.set(chunk, keep);
      this.buf = next;
      this.#owned = true;
      this.end = needed;
    }
    this.base += consumed;
    this.pos -= consumed;
    this.mark = 0;
    this.#crcPos = 0;
  }
}
