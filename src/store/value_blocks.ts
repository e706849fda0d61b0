/**
 * The values of a large hash kept as bytes in one buffer, by index, parallel to the fields of
 * its {@link MemberTable} (hash_value.ts): what the key table does for string values
 * (key_table.ts), for the same reason. A value kept as a JS string and written into an array of
 * the old generation survives its first scavenge, so every HSET that overwrites a field had its
 * new value copied by V8 twice (into the survivor space, then into the old generation) and left
 * the old one for a full collection: measured on the server under `redis-benchmark -t hset -P 16`
 * (one hash of 100k fields), 54 scavenges of 3.4 ms per 400k requests, about 18% of its CPU,
 * against 0.3 ms for SET, whose values live in the key table's arena. Here the value's string
 * dies young and its bytes are copied once, into this buffer.
 *
 * Entry i is `length[i]` bytes at `offset[i]` of {@link ValueBlocks.bytes}, in a block of
 * `capacity[i]` bytes (its first length rounded up to 8). A new value that fits the block is
 * written over the old one; one that does not goes to the end of the buffer, and the old block
 * becomes garbage. Removing an entry moves the last one into its place (as the table does). The
 * buffer grows by doubling, and is compacted (live blocks copied in index order into a buffer of
 * twice their size) when garbage outweighs the live blocks: O(live bytes), paid for by the
 * writes that made the garbage.
 */
import { toBinaryString } from "../util/bytes.ts";
import { ArenaFullError, freeBuffer, MAX_ARENA_BYTES } from "./arena.ts";

/** Smallest buffer, in bytes. */
const MIN_BYTES = 256;
/** Fewest garbage bytes worth a compaction. */
const COMPACT_MIN_GARBAGE = 4096;

/** Bytes of the block for a value of `length` bytes: rounded up to 8, at least 8. */
function blockSize(length: number): number {
  return length === 0 ? 8 : (length + 7) & ~7;
}

/** Values by index in one byte buffer; see the module comment. */
export class ValueBlocks {
  /** The bytes; replaced when the buffer grows or is compacted. */
  #bytes: Uint8Array<ArrayBuffer>;
  /**
   * Per entry: offset of its block in 8-byte units (blocks are 8-aligned), so that int32s reach
   * 16 GiB: byte offsets from 2 GiB on did not fit and came back negative (HSET of 2200 values
   * of 1 MB: HGET of the last 151 returned other bytes).
   */
  #offset: Int32Array;
  /** Per entry: length of its value. */
  #length: Int32Array;
  /** Per entry: bytes of its block. */
  #capacity: Int32Array;
  /** Number of entries. */
  #size = 0;
  /** Bytes handed out from the start of the buffer (blocks live or garbage). */
  #top = 0;
  /** Bytes of blocks no entry uses any more. */
  #garbage = 0;

  /**
   * An empty store with room for `entries` values of `bytes` bytes in all. `skip` bytes at the
   * start hold no value (a test places blocks past 2 GiB without writing the bytes before).
   */
  constructor(entries = 8, bytes = MIN_BYTES, skip = 0) {
    const slots = Math.max(8, entries);
    this.#bytes = new Uint8Array(Math.max(MIN_BYTES, bytes));
    this.#top = skip;
    this.#offset = new Int32Array(slots);
    this.#length = new Int32Array(slots);
    this.#capacity = new Int32Array(slots);
  }

  /** Number of values. */
  get size(): number {
    return this.#size;
  }

  /** The value at `i` (0 <= i < size), as a binary string. */
  get(i: number): string {
    const at = this.#offset[i] * 8;
    return toBinaryString(this.#bytes, at, at + this.#length[i]);
  }

  /**
   * The buffer holding the values: with {@link offset} and {@link length}, a view of a value
   * that stays right only until the next change (HGET replies with it; see resp BytesRangeReply).
   */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /** The offset in {@link bytes} of the value at `i`. */
  offset(i: number): number {
    return this.#offset[i] * 8;
  }

  /** The length in bytes of the value at `i`. */
  length(i: number): number {
    return this.#length[i];
  }

  /** Appends `value` (a binary string) as entry {@link size}. */
  push(value: string): void {
    this.#checkRoom(value.length, 0);
    const i = this.#size;
    if (i === this.#offset.length) this.#growEntries(i * 2);
    this.#size++;
    this.#place(i, value);
  }

  /** Replaces the value at `i` with `value`, in its block when it fits. */
  set(i: number, value: string): void {
    if (value.length <= this.#capacity[i]) {
      this.#write(this.#offset[i] * 8, value);
      this.#length[i] = value.length;
      return;
    }
    this.#checkRoom(value.length, this.#capacity[i]);
    this.#garbage += this.#capacity[i];
    this.#place(i, value);
  }

  /** Removes entry `i`, moving the last entry into its place. */
  removeAt(i: number): void {
    this.#garbage += this.#capacity[i];
    const last = this.#size - 1;
    if (i !== last) {
      this.#offset[i] = this.#offset[last];
      this.#length[i] = this.#length[last];
      this.#capacity[i] = this.#capacity[last];
    }
    this.#size = last;
    if (last === 0) {
      this.#top = 0;
      this.#garbage = 0;
    } else this.#compactIfWasteful();
  }

  /**
   * An independent copy holding the same values: the arrays copied natively, garbage included
   * (a snapshot clones a large hash about to change during a save, so the copy must be quick).
   */
  clone(): ValueBlocks {
    const copy = new ValueBlocks(0, 0);
    const slots = Math.max(8, this.#size);
    copy.#bytes = this.#bytes.slice(0, Math.max(MIN_BYTES, this.#top));
    copy.#offset = this.#offset.slice(0, slots);
    copy.#length = this.#length.slice(0, slots);
    copy.#capacity = this.#capacity.slice(0, slots);
    copy.#size = this.#size;
    copy.#top = this.#top;
    copy.#garbage = this.#garbage;
    return copy;
  }

  /**
   * Gives entry `i` a new block at the end of the buffer holding `value`. Its old block, if
   * any, is already counted as garbage: the entry holds none meanwhile, so that a compaction
   * made to find room copies nothing for it.
   */
  #place(i: number, value: string): void {
    this.#length[i] = 0;
    this.#capacity[i] = 0;
    const size = blockSize(value.length);
    if (this.#top + size > this.#bytes.length) this.#makeRoom(size);
    const at = this.#top;
    this.#offset[i] = at / 8;
    this.#length[i] = value.length;
    this.#capacity[i] = size;
    this.#top += size;
    this.#write(at, value);
    this.#compactIfWasteful();
  }

  /** Writes the binary string `value` at `at` (one byte per character). */
  #write(at: number, value: string): void {
    const bytes = this.#bytes;
    for (let k = 0; k < value.length; k++) bytes[at + k] = value.charCodeAt(k);
  }

  /** Makes room for a block of `size` bytes at the end: by compacting, else by growing. */
  #makeRoom(size: number): void {
    const live = this.#top - this.#garbage;
    let capacity = this.#bytes.length;
    if (this.#garbage >= live && this.#garbage >= size) {
      this.#compact(Math.max(capacity, 2 * (live + size)));
      return;
    }
    while (capacity < this.#top + size) capacity *= 2;
    if (capacity > MAX_ARENA_BYTES) {
      // #checkRoom made sure the live blocks and this one fit.
      this.#compact(Math.min(MAX_ARENA_BYTES, 2 * (live + size)));
      return;
    }
    const bytes = new Uint8Array(capacity);
    bytes.set(this.#bytes.subarray(0, this.#top));
    freeBuffer(this.#bytes.buffer);
    this.#bytes = bytes;
  }

  /**
   * Throws {@link ArenaFullError}, before anything changes, when the live values less `freed`
   * bytes plus a block for `length` bytes would pass {@link MAX_ARENA_BYTES}.
   */
  #checkRoom(length: number, freed: number): void {
    if (this.#top - this.#garbage - freed + blockSize(length) > MAX_ARENA_BYTES) {
      throw new ArenaFullError("the values of one hash");
    }
  }

  /** Compacts when garbage outweighs the live blocks and is worth the copy. */
  #compactIfWasteful(): void {
    const live = this.#top - this.#garbage;
    if (this.#garbage >= COMPACT_MIN_GARBAGE && this.#garbage > live) {
      this.#compact(Math.max(MIN_BYTES, 2 * live));
    }
  }

  /** Copies the live blocks, in index order, to the start of a new buffer of `capacity` bytes. */
  #compact(capacity: number): void {
    const old = this.#bytes;
    const bytes = new Uint8Array(capacity);
    let top = 0;
    for (let i = 0; i < this.#size; i++) {
      const at = this.#offset[i] * 8;
      const size = this.#capacity[i];
      bytes.set(old.subarray(at, at + this.#length[i]), top);
      this.#offset[i] = top / 8;
      top += size;
    }
    freeBuffer(old.buffer);
    this.#bytes = bytes;
    this.#top = top;
    this.#garbage = 0;
  }

  /** Grows the per-entry arrays to `slots` entries. */
  #growEntries(slots: number): void {
    const grow = (array: Int32Array) => {
      const copy = new Int32Array(slots);
      copy.set(array.subarray(0, this.#size));
      return copy;
    };
    this.#offset = grow(this.#offset);
    this.#length = grow(this.#length);
    this.#capacity = grow(this.#capacity);
  }
}
