/**
 * The replication backlog (Redis's `repl_backlog`): the last `repl-backlog-size` bytes of the
 * replication stream in a ring, numbered by global offsets, so that a follower whose link
 * dropped can ask for the bytes after the last one it applied (`PSYNC <replid> <offset>`) and
 * resume with `+CONTINUE` instead of a full copy of the dataset.
 *
 * Offsets follow Redis: the stream's bytes are numbered from 1, {@link offset} is the number of
 * the last byte written (`master_repl_offset`), and a follower asks for the number of the next
 * byte it wants.
 */

/** The backlog; see the module comment. */
export class ReplicationBacklog {
  #ring: Uint8Array;
  /** Bytes written to the ring so far in total: the next byte goes to `#written % size`. */
  #written = 0;
  /** Stream offset of the last byte written. */
  #offset: number;

  /** A backlog of `size` bytes whose next byte will be stream byte `offset + 1`. */
  constructor(size: number, offset: number) {
    this.#ring = new Uint8Array(size);
    this.#offset = offset;
  }

  /** Offset of the last byte of the stream (`master_repl_offset`). */
  get offset(): number {
    return this.#offset;
  }

  /** Capacity in bytes (`repl_backlog_size`). */
  get size(): number {
    return this.#ring.length;
  }

  /** Bytes of history held (`repl_backlog_histlen`). */
  get historyLength(): number {
    return Math.min(this.#written, this.#ring.length);
  }

  /** Offset of the oldest byte held (`repl_backlog_first_byte_offset`). */
  get firstOffset(): number {
    return this.#offset - this.historyLength + 1;
  }

  /** Appends stream bytes. */
  append(chunk: Uint8Array): void {
    const ring = this.#ring;
    const size = ring.length;
    const tail = chunk.length > size ? chunk.subarray(chunk.length - size) : chunk;
    const at = this.#written % size;
    const first = Math.min(tail.length, size - at);
    ring.set(tail.subarray(0, first), at);
    if (first < tail.length) ring.set(tail.subarray(first), 0);
    this.#written += chunk.length;
    this.#offset += chunk.length;
  }

  /** Whether the bytes from stream offset `from` (the next byte a follower wants) are held. */
  covers(from: number): boolean {
    return from >= this.firstOffset && from <= this.#offset + 1;
  }

  /** A copy of the stream from offset `from` to the end; `from` must be {@link covers}ed. */
  copyFrom(from: number): Uint8Array {
    const length = this.#offset + 1 - from;
    const out = new Uint8Array(length);
    const size = this.#ring.length;
    const start = (this.#written - length) % size;
    const first = Math.min(length, size - start);
    out.set(this.#ring.subarray(start, start + first), 0);
    if (first < length) out.set(this.#ring.subarray(0, length - first), first);
    return out;
  }

  /**
   * Changes the capacity (CONFIG SET repl-backlog-size), keeping as much of the newest history
   * as fits.
   */
  resize(size: number): void {
    if (size === this.#ring.length) return;
    const keep = Math.min(this.historyLength, size);
    const history = this.copyFrom(this.#offset + 1 - keep);
    this.#ring = new Uint8Array(size);
    this.#ring.set(history, 0);
    this.#written = keep;
  }
}
