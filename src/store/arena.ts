/**
 * The byte arena under a key table: one growable buffer carved into 8-byte aligned blocks,
 * recycled through free lists of exactly sized blocks (typed-array heads for blocks up to 8 KiB,
 * a Map beyond). Keeping keys and values here rather than as JS strings keeps them out of the
 * garbage collector's way and next to each other in memory (see key_table.ts).
 */

/**
 * Largest arena: blocks are referenced by their offset in 8-byte units plus one, kept in
 * int32 slots and records, so offsets stay below 2^31 units. Offsets past 2^31 bytes are
 * beyond int32 arithmetic: the code on offsets divides and multiplies instead of shifting
 * (`at / 4`, not `at >> 2`, which turned offsets of 2 GiB and more negative and lost the keys
 * stored there).
 */
export const MAX_ARENA_BYTES = 2 ** 34;
/**
 * Thrown by an allocation that would take the arena (or a large hash's value buffer,
 * value_blocks.ts) past {@link MAX_ARENA_BYTES}; the store is left as it was. Dispatch answers
 * the command with an `-OOM` error.
 */
export class ArenaFullError extends RangeError {
  /** Creates the error for `what` (by default, a database's keys and values), naming the limit. */
  constructor(what = "keys and values of one database") {
    super(`${what} cannot take more than ${MAX_ARENA_BYTES / 2 ** 30} GiB`);
    this.name = "ArenaFullError";
  }
}

/** Block sizes (in 8-byte units) with their own free-list head in a typed array. */
const SMALL_UNITS = 1024;
const INITIAL_BYTES = 4096;

/** A growable arena of 8-byte aligned blocks; see the module comment. */
export class Arena {
  /** The bytes; replaced when the arena grows (offsets stay valid, views do not). */
  bytes = new Uint8Array(INITIAL_BYTES);
  /** The same bytes as 32-bit integers (block headers, free-list links). */
  i32 = new Int32Array(this.bytes.buffer);
  /** The same bytes as doubles (access stamps in block headers). */
  f64 = new Float64Array(this.bytes.buffer);
  /** Bytes in blocks handed out and not released. */
  usedBytes = 0;
  /** Bytes handed out so far from the end (blocks in use or on a free list). */
  #top = 0;
  #smallFree = new Int32Array(SMALL_UNITS + 1);
  #largeFree = new Map<number, number[]>();

  /** A block of `size` bytes (a multiple of 8): a freed one of that size, or fresh space. */
  allocate(size: number): number {
    const units = size / 8;
    if (units <= SMALL_UNITS) {
      const head = this.#smallFree[units];
      if (head !== 0) {
        const at = (head - 1) * 8;
        this.#smallFree[units] = this.i32[at / 4];
        this.usedBytes += size;
        return at;
      }
    } else {
      const at = this.#largeFree.get(units)?.pop();
      if (at !== undefined) {
        this.usedBytes += size;
        return at;
      }
    }
    // Grows first: a block that cannot fit leaves the arena as it was.
    if (this.#top + size > this.bytes.length) this.#grow(this.#top + size);
    const at = this.#top;
    this.#top += size;
    this.usedBytes += size;
    return at;
  }

  /** Returns the block at `at` of `size` bytes for reuse. */
  release(at: number, size: number): void {
    this.usedBytes -= size;
    const units = size / 8;
    if (units <= SMALL_UNITS) {
      this.i32[at / 4] = this.#smallFree[units];
      this.#smallFree[units] = at / 8 + 1;
    } else {
      const stack = this.#largeFree.get(units);
      if (stack === undefined) this.#largeFree.set(units, [at]);
      else stack.push(at);
    }
  }

  /**
   * Makes room for `bytes` more bytes of blocks without growing again meanwhile. A hint (an
   * RDB's RESIZEDB) past {@link MAX_ARENA_BYTES} is ignored rather than refused: the blocks,
   * if they come, meet the limit themselves.
   */
  reserve(bytes: number): void {
    const needed = this.#top + bytes;
    if (needed > this.bytes.length && needed <= MAX_ARENA_BYTES) this.#grow(needed);
  }

  #grow(needed: number): void {
    if (needed > MAX_ARENA_BYTES) throw new ArenaFullError();
    let capacity = this.bytes.length * 2;
    while (capacity < needed) capacity *= 2;
    capacity = Math.min(capacity, MAX_ARENA_BYTES);
    const bytes = new Uint8Array(capacity);
    bytes.set(this.bytes.subarray(0, this.#top));
    freeBuffer(this.bytes.buffer);
    this.bytes = bytes;
    this.i32 = new Int32Array(bytes.buffer);
    this.f64 = new Float64Array(bytes.buffer);
  }
}

/** Copies `src[start, end)` to `dst` at `at`; a loop for short runs, `set` for long ones. */
export function copyBytes(
  dst: Uint8Array,
  at: number,
  src: Uint8Array,
  start: number,
  end: number,
): void {
  if (end - start <= 64) {
    const d = at - start;
    for (let i = start; i < end; i++) dst[d + i] = src[i];
  } else dst.set(src.subarray(start, end), at);
}

/**
 * Hands a replaced buffer's memory back now rather than at the next full GC, which an idle
 * server may not run for a long time (measured: 2M keys held 130 MB of old arenas and tables
 * until a collection). Detaching is what frees it; views of it become empty. Callers allocate
 * the new buffer themselves instead of using `transfer(larger)`, which zero-fills the whole new
 * capacity at once, where a fresh buffer's untouched pages cost nothing.
 */
export function freeBuffer(buffer: ArrayBuffer): void {
  buffer.transfer(0);
}
