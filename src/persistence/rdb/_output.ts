/**
 * The writer's output buffer, folder-private: bytes are appended into a chunk of fixed size,
 * full chunks go to the sink in order (one sink call at a time), and the CRC-64 is taken over
 * each chunk as it leaves. A sink failure is kept and thrown by every later call.
 */

import type { Crc64 } from "./crc64.ts";

/** Byte runs up to this long are copied by a loop rather than `Uint8Array.prototype.set`. */
const SHORT_COPY = 32;

/** Receives the output's chunks in order; a returned promise is awaited before the next one. */
export type ChunkSink = (chunk: Uint8Array) => void | Promise<void>;

/** A chunked byte output in front of a sink. */
export class ChunkedOutput {
  /** The chunk being filled; write `buf[len]` directly after {@link reserve}. */
  buf: Uint8Array;
  /** Bytes used in {@link buf}. */
  len = 0;
  readonly #sink: ChunkSink;
  readonly #chunkSize: number;
  readonly #crc: Crc64 | null;
  #delivered = 0;
  /** The chain of sink calls still in progress; it never rejects (failures land in #error). */
  #inflight: Promise<void> | null = null;
  #error: { cause: unknown } | null = null;
  /** Whether a chunk left since the last {@link begin}. */
  #sent = false;
  /** Whether the sink copies each chunk before it returns (see the constructor). */
  readonly #sinkCopies: boolean;

  /**
   * `sinkCopies`: the sink is synchronous and copies what it is handed, so the output reuses
   * one chunk and hands long runs over without copying them first (a DUMP payload's body costs
   * no allocation here).
   */
  constructor(sink: ChunkSink, chunkSize: number, crc: Crc64 | null, sinkCopies = false) {
    this.#sink = sink;
    this.#chunkSize = chunkSize;
    this.#crc = crc;
    this.#sinkCopies = sinkCopies;
    this.buf = new Uint8Array(chunkSize);
  }

  /** Bytes produced so far, delivered or buffered. */
  get total(): number {
    return this.#delivered + this.len;
  }

  /** The checksum of the delivered bytes (null when not computing one). */
  get crc(): Crc64 | null {
    return this.#crc;
  }

  /** Starts one public operation: throws an earlier sink failure. */
  begin(): void {
    if (this.#error) throw this.#error.cause;
    this.#sent = false;
  }

  /**
   * Ends one public operation: a promise if a chunk went to an asynchronous sink during it
   * (settling when the sink has taken it), otherwise nothing.
   */
  result(): void | Promise<void> {
    if (!this.#sent || this.#inflight === null) return;
    return this.#inflight.then(() => {
      if (this.#error) throw this.#error.cause;
    });
  }

  /** Makes room for `n` (at most 16) bytes in {@link buf}, delivering it first if needed. */
  reserve(n: number): void {
    if (this.len + n > this.#chunkSize) this.flush();
  }

  /** Appends one byte. */
  byte(b: number): void {
    if (this.len >= this.#chunkSize) this.flush();
    this.buf[this.len++] = b;
  }

  /**
   * Appends bytes. Runs of at least a chunk go to the sink directly: as they are when `stable`
   * (the caller promises not to change them), else copied.
   */
  bytes(bytes: Uint8Array, stable: boolean): void {
    const n = bytes.length;
    if (n <= this.#chunkSize - this.len) {
      if (n <= SHORT_COPY) {
        // A loop beats the cost of calling `set` for the short keys and values that dominate.
        const buf = this.buf;
        const at = this.len;
        for (let i = 0; i < n; i++) buf[at + i] = bytes[i];
      } else {
        this.buf.set(bytes, this.len);
      }
      this.len += n;
      return;
    }
    this.flush();
    if (n < this.#chunkSize) {
      this.buf.set(bytes, 0);
      this.len = n;
      return;
    }
    this.deliver(stable || this.#sinkCopies ? bytes : bytes.slice(), true);
  }

  /** Hands the buffered bytes to the sink and starts a new chunk. */
  flush(): void {
    if (this.len === 0) return;
    const chunk = this.buf.subarray(0, this.len);
    if (!this.#sinkCopies) this.buf = new Uint8Array(this.#chunkSize);
    this.len = 0;
    this.deliver(chunk, true);
  }

  /** Hands `chunk` to the sink after what went before, adding it to the checksum if asked. */
  deliver(chunk: Uint8Array, checksummed: boolean): void {
    if (checksummed) this.#crc?.update(chunk);
    this.#delivered += chunk.length;
    this.#sent = true;
    const previous = this.#inflight;
    if (previous !== null) {
      this.#track(previous.then(() => this.#error ? undefined : this.#sink(chunk)));
      return;
    }
    let result: void | Promise<void>;
    try {
      result = this.#sink(chunk);
    } catch (e) {
      this.#error = { cause: e };
      throw e;
    }
    if (result instanceof Promise) this.#track(result);
  }

  /** Resolves when the sink has taken everything; rejects with its failure if it had one. */
  async drain(): Promise<void> {
    while (this.#inflight) await this.#inflight;
    if (this.#error) throw this.#error.cause;
  }

  #track(promise: Promise<void>): void {
    const tracked: Promise<void> = promise.then(
      () => {
        if (this.#inflight === tracked) this.#inflight = null;
      },
      (e: unknown) => {
        this.#error ??= { cause: e };
        if (this.#inflight === tracked) this.#inflight = null;
      },
    );
    this.#inflight = tracked;
  }
}
