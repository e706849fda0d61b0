/**
 * The storage under one database: a hash table of binary keys to binary values laid out in
 * typed arrays instead of JS objects. Measured in this runtime (100k random keys of 16 bytes,
 * values of 32): a lookup in a `Map<string, string>` costs ~1.2 µs, almost all of it cache and
 * TLB misses on the Map's table, the key string and the value string, which the garbage
 * collector scatters over the heap. Here a lookup is two dependent memory accesses: a slot, then
 * the key's block (key and value side by side). It also gives Redis's SCAN guarantees, O(1)
 * random keys, and memory that is counted, not estimated.
 *
 * Layout:
 * - `slots`: open addressing with linear probing, two int32 per slot: the key's hash and a
 *   reference to its arena block (0 = empty). At most 3/4 full; deletion shifts entries back
 *   instead of leaving tombstones. An entry's home slot is `hash & mask`, exactly the bucket of
 *   Redis's dict, and the entries of one home slot always form part of the run starting there,
 *   so SCAN's reverse binary cursor over home slots covers every key present for a whole scan
 *   across resizes, as Redis's does.
 * - An arena of 8-byte aligned blocks `[key length][value length][id][hash][access][key][value]`
 *   (the access stamp, LRU time or LFU counter, is a double in the block so that recording a
 *   read writes memory the lookup already loaded), recycled through free lists of exactly sized
 *   blocks; a value rewritten with the same block size stays in place. Block offsets pass 2^31
 *   in a large database, so they are divided and multiplied, never shifted as int32s (see
 *   arena.ts's MAX_ARENA_BYTES).
 * - A record of 16 bytes per entry id: block offset (in 8-byte units), flags, and the absolute
 *   expiry time (-1 = none) as a double. Ids are dense, so random sampling and iteration go
 *   through records; a key without a TTL is read and written without touching its record.
 * - The set of ids with a TTL (id_set.ts), so that sampling volatile keys is random and O(1).
 * - Values of types other than strings are JS objects in a side map; their block holds the key.
 * - In cluster mode only, a {@link SlotIndex} of the ids by hash slot, kept by {@link insert},
 *   {@link remove} and {@link clear}, the only ways a key enters or leaves the table.
 */

import { toBinaryString } from "../util/bytes.ts";
import { Arena, copyBytes, freeBuffer } from "./arena.ts";
import { nextScanCursor, placeRef, unplace } from "./slots.ts";
import { IdSet } from "./id_set.ts";
import { blockBytes, ENTRY_OVERHEAD, SLOT_INDEX_OVERHEAD, TTL_OVERHEAD } from "./memory.ts";
import { SlotIndex } from "./slot_index.ts";
import type { CollectionValue } from "./collection.ts";

/** Block header bytes (key length, value length, id, hash, access stamp). */
const HEADER = 24;
const INITIAL_SLOTS = 16;
const INITIAL_IDS = 16;
/** Bytes of a record. */
const RECORD = 16;
/** Flag bit in a record: the id holds a live entry. */
const LIVE = 1;
/** Added to a record's flags each time its id is freed (the generation above the flag bit). */
const GENERATION = 2;
/**
 * Flag bit in the id word of a block header: the value is a JS object (a non-string type), not
 * arena bytes. Kept in the block so that reading a value needs no access to the record.
 */
const OBJECT = 1 << 30;
/** The id in a block header's id word. */
const ID_MASK = OBJECT - 1;

/** A typed-array hash table of binary keys and values; see the module comment. */
export class KeyTable {
  #seed: number;
  #slots = new Int32Array(INITIAL_SLOTS * 2);
  #mask = INITIAL_SLOTS - 1;
  #recBuffer = new ArrayBuffer(INITIAL_IDS * RECORD);
  #rec = new Int32Array(this.#recBuffer);
  #recF = new Float64Array(this.#recBuffer);
  /** The entry the last successful {@link find} returned and its block, so that reading its
   * value right after does not need its record (one memory access fewer per GET). */
  #foundId = -1;
  #foundAt = 0;
  /** The key {@link findString} answered last (null once an entry was added or removed). */
  #lastString: string | null = null;
  /** {@link findString}'s answer for {@link #lastString}. */
  #lastStringId = -1;
  #idCapacity = INITIAL_IDS;
  /** Ids ever handed out; ids below it are live or on the free list. */
  #highWater = 0;
  #freeIds: number[] = [];
  #size = 0;
  /** Ids of the entries with a TTL. */
  #volatile = new IdSet();
  #mem: Arena;
  #scratch = new Uint8Array(64);
  /**
   * The collections, by id: an array rather than a Map (a Map entry costs ~30 bytes a
   * collection), allocated on the first collection stored, so a table of strings has none.
   */
  #objects: (CollectionValue | undefined)[] | null = null;
  /** Sum of the `bytes` of the objects in `#objects` (see {@link objectResized}). */
  #objectBytes = 0;
  #clears = 0;
  /** Ids by cluster hash slot, or null when not kept (outside cluster mode). */
  #bySlot: SlotIndex | null = null;

  /**
   * Creates an empty table; `seed` randomises hashing so clients cannot force collisions.
   * `arena` is where its blocks go (a test passes one already filled past 2 GiB).
   */
  constructor(seed = (Math.random() * 0x100000000) | 0, arena = new Arena()) {
    this.#seed = seed;
    this.#mem = arena;
  }

  /** The arena's bytes; replaced (and so to be re-read by callers) when it grows. */
  get arena(): Uint8Array {
    return this.#mem.bytes;
  }

  /** Number of entries. */
  get size(): number {
    return this.#size;
  }

  /** Number of entries with a TTL. */
  get volatileCount(): number {
    return this.#volatile.size;
  }

  /** Bytes the entries occupy, by the model in memory.ts. */
  get usedBytes(): number {
    const perKey = this.#bySlot === null ? ENTRY_OVERHEAD : ENTRY_OVERHEAD + SLOT_INDEX_OVERHEAD;
    return this.#mem.usedBytes + this.#size * perKey + this.#volatile.size * TTL_OVERHEAD +
      this.#objectBytes;
  }

  /** Bytes reserved by the table's arrays and arena, used or not (for fragmentation figures). */
  get reservedBytes(): number {
    return this.#mem.bytes.length + this.#recBuffer.byteLength + this.#slots.length * 4 +
      this.#volatile.reservedBytes + (this.#bySlot?.reservedBytes ?? 0);
  }

  /**
   * The index of ids by cluster hash slot, or null when none is kept. Read it between writes:
   * any insert or removal changes it.
   */
  get slotIndex(): SlotIndex | null {
    return this.#bySlot;
  }

  /**
   * Keeps an index of ids by cluster hash slot from now on (cluster mode), starting with the
   * entries present; does nothing if it is kept already.
   */
  indexSlots(): void {
    if (this.#bySlot !== null) return;
    const index = new SlotIndex(this.#idCapacity);
    const a32 = this.#mem.i32;
    for (const id of this.ids()) {
      const at = this.#rec[id * 4] * 8;
      index.add(id, this.#mem.bytes, at + HEADER, at + HEADER + a32[at / 4]);
    }
    this.#bySlot = index;
  }

  /** Number of slots, i.e. of home buckets (SCAN cursors range over them). */
  get buckets(): number {
    return this.#mask + 1;
  }

  /** The hash of `buf[start, end)`. */
  hash(buf: Uint8Array, start: number, end: number): number {
    let h = this.#seed ^ 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    h = Math.imul(h, 0x297a2d39);
    return h ^ (h >>> 15);
  }

  /** The id of the entry whose key is `buf[start, end)`, or -1. */
  find(buf: Uint8Array, start: number, end: number): number {
    const h = this.hash(buf, start, end);
    const slots = this.#slots;
    const mask = this.#mask;
    const a32 = this.#mem.i32;
    const len = end - start;
    for (let i = h & mask;; i = (i + 1) & mask) {
      const ref = slots[2 * i + 1];
      if (ref === 0) return -1;
      if (slots[2 * i] !== h) continue;
      const at = (ref - 1) * 8;
      if (a32[at / 4] !== len) continue;
      const arena = this.#mem.bytes;
      const k = at + HEADER - start;
      let j = start;
      while (j < end && arena[k + j] === buf[j]) j++;
      if (j === end) {
        const id = a32[at / 4 + 2] & ID_MASK;
        this.#foundId = id;
        this.#foundAt = at;
        return id;
      }
    }
  }

  /**
   * The id of the entry whose key is the binary string `key`, or -1. The last answer is
   * remembered until an entry is added or removed: a collection command looks its key up
   * several times (read, begin and end of the update), and the repeats then cost a string
   * comparison instead of a copy, a hash and a probe.
   */
  findString(key: string): number {
    if (key === this.#lastString) return this.#lastStringId;
    const bytes = this.#toScratch(key, 0, 0);
    const id = this.find(bytes, 0, key.length);
    this.#lastString = key;
    this.#lastStringId = id;
    return id;
  }

  /**
   * Adds an entry for a key known to be absent and returns its id. The value is
   * `value[vStart, vEnd)`; key and value may be views of the same buffer.
   */
  insert(
    key: Uint8Array,
    kStart: number,
    kEnd: number,
    value: Uint8Array,
    vStart: number,
    vEnd: number,
  ): number {
    this.#lastString = null;
    const h = this.hash(key, kStart, kEnd);
    const kLen = kEnd - kStart;
    const vLen = vEnd - vStart;
    // Growing the arena detaches views of it: copy a key or value taken from it first.
    if (key.buffer === this.#mem.bytes.buffer) {
      key = key.slice(kStart, kEnd);
      kStart = 0;
      kEnd = kLen;
    }
    if (value.buffer === this.#mem.bytes.buffer) {
      value = value.slice(vStart, vEnd);
      vStart = 0;
      vEnd = vLen;
    }
    const at = this.#mem.allocate(blockBytes(kLen, vLen));
    const id = this.#newId();
    const arena = this.#mem.bytes;
    const a32 = this.#mem.i32;
    a32[at / 4] = kLen;
    a32[at / 4 + 1] = vLen;
    a32[at / 4 + 2] = id;
    a32[at / 4 + 3] = h;
    arena.set(key.subarray(kStart, kEnd), at + HEADER);
    copyBytes(arena, at + HEADER + kLen, value, vStart, vEnd);
    this.#mem.f64[at / 8 + 2] = 0;
    this.#rec[id * 4] = at / 8;
    this.#rec[id * 4 + 1] |= LIVE;
    this.#recF[id * 2 + 1] = -1;
    this.#bySlot?.add(id, arena, at + HEADER, at + HEADER + kLen);
    placeRef(this.#slots, this.#mask, h, at / 8 + 1);
    this.#size++;
    if (this.#size * 4 > (this.#mask + 1) * 3) this.#resize((this.#mask + 1) * 2);
    return id;
  }

  /** Adds an entry for a binary-string key known to be absent, with a binary-string value. */
  insertStrings(key: string, value: string): number {
    const bytes = this.#toScratch(key, 0, key.length + value.length);
    this.#toScratch(value, key.length, 0);
    return this.insert(bytes, 0, key.length, bytes, key.length, key.length + value.length);
  }

  /** Replaces the value of entry `id` with `value[start, end)`. */
  setValue(id: number, value: Uint8Array, start: number, end: number): void {
    const at = this.#blockAt(id);
    const kLen = this.#mem.i32[at / 4];
    const oldLen = this.#mem.i32[at / 4 + 1];
    const vLen = end - start;
    const size = blockBytes(kLen, vLen);
    const oldSize = blockBytes(kLen, oldLen);
    if (size === oldSize) {
      this.#dropObject(id, at);
      this.#mem.i32[at / 4 + 1] = vLen;
      if (value.buffer === this.#mem.bytes.buffer) {
        // A range of the arena itself may overlap the destination: copyWithin handles that.
        const offset = value.byteOffset;
        this.#mem.bytes.copyWithin(at + HEADER + kLen, offset + start, offset + end);
      } else copyBytes(this.#mem.bytes, at + HEADER + kLen, value, start, end);
      return;
    }
    // The value may be a view of this very arena (APPEND of a key to itself): copy it out
    // before the block can move or be reused.
    const source = value.buffer === this.#mem.bytes.buffer ? value.slice(start, end) : value;
    const sStart = source === value ? start : 0;
    const slot = this.#slotOf(at);
    // Allocates before changing anything: a full arena (ArenaFullError) leaves the entry as it was.
    const newAt = this.#mem.allocate(size);
    this.#dropObject(id, at);
    const arena = this.#mem.bytes;
    arena.copyWithin(newAt, at, at + HEADER + kLen);
    this.#mem.i32[newAt / 4 + 1] = vLen;
    copyBytes(arena, newAt + HEADER + kLen, source, sStart, sStart + vLen);
    this.#mem.release(at, oldSize);
    this.#rec[id * 4] = newAt / 8;
    this.#slots[2 * slot + 1] = newAt / 8 + 1;
    this.#foundId = -1;
  }

  /** Replaces the value of entry `id` with a binary string. */
  setValueString(id: number, value: string): void {
    this.setValue(id, this.#toScratch(value, 0, 0), 0, value.length);
  }

  /** Replaces the value of entry `id` with an object (a value of another type than string). */
  setObject(id: number, value: CollectionValue): void {
    this.setValue(id, this.#scratch, 0, 0);
    this.#mem.i32[this.#blockAt(id) / 4 + 2] = id | OBJECT;
    this.#objectsFor(id)[id] = value;
    this.#objectBytes += value.bytes;
  }

  /**
   * Records that the object of an entry changed its `bytes` in place from `before` (a command
   * that added or removed elements), so that {@link usedBytes} stays exact.
   */
  objectResized(before: number, after: number): void {
    this.#objectBytes += after - before;
  }

  /**
   * The collections array, grown to hold `id`: packed (filled), sized to the id capacity, so
   * that it stays a fast array whatever ids the collections get.
   */
  #objectsFor(id: number): (CollectionValue | undefined)[] {
    let objects = this.#objects;
    if (objects === null || id >= objects.length) {
      const grown = new Array<CollectionValue | undefined>(Math.max(this.#idCapacity, id + 1))
        .fill(undefined);
      if (objects !== null) { for (let i = 0; i < objects.length; i++) grown[i] = objects[i]; }
      this.#objects = objects = grown;
    }
    return objects;
  }

  /** Turns entry `id` (block at `at`) back into a byte value if it held an object. */
  #dropObject(id: number, at: number): void {
    if ((this.#mem.i32[at / 4 + 2] & OBJECT) === 0) return;
    this.#mem.i32[at / 4 + 2] = id;
    this.#forgetObject(id);
  }

  #forgetObject(id: number): void {
    const object = this.#objects?.[id];
    if (object === undefined) return;
    this.#objectBytes -= object.bytes;
    this.#objects![id] = undefined;
  }

  /** The object value of entry `id`, or undefined when its value is bytes. */
  objectOf(id: number): CollectionValue | undefined {
    const word = this.#mem.i32[this.#blockAt(id) / 4 + 2];
    return (word & OBJECT) === 0 ? undefined : this.#objects![id];
  }

  /** Deletes entry `id`. */
  remove(id: number): void {
    this.#lastString = null;
    const rec = this.#rec;
    const r = id * 4;
    const at = this.#blockAt(id);
    this.#dropObject(id, at);
    unplace(this.#slots, this.#mask, this.#slotOf(at));
    // Before the release, which overwrites the block's first word (the key's length).
    this.#bySlot?.remove(id, this.#mem.bytes, at + HEADER, at + HEADER + this.#mem.i32[at / 4]);
    this.#mem.release(at, blockBytes(this.#mem.i32[at / 4], this.#mem.i32[at / 4 + 1]));
    if (this.#volatile.has(id)) this.clearExpire(id);
    rec[r + 1] = (rec[r + 1] & ~LIVE) + GENERATION;
    this.#freeIds.push(id);
    this.#foundId = -1;
    this.#size--;
    if (this.#mask + 1 > INITIAL_SLOTS && this.#size * 10 < this.#mask + 1) {
      this.#resize((this.#mask + 1) / 2);
    }
  }

  /** Whether `id` holds a live entry. */
  isLive(id: number): boolean {
    return id >= 0 && id < this.#highWater && (this.#rec[id * 4 + 1] & LIVE) !== 0;
  }

  /**
   * A number that changes whenever id `id` is freed (by {@link remove} or {@link clear}), so a
   * remembered id can be checked.
   */
  generation(id: number): number {
    return (this.#rec[id * 4 + 1] >>> 1) + this.#clears * 0x80000000;
  }

  /** Arena offset of entry `id`'s block. */
  #blockAt(id: number): number {
    return id === this.#foundId ? this.#foundAt : this.#rec[id * 4] * 8;
  }

  /** Arena offset of entry `id`'s key bytes (re-read after any write: the arena may move). */
  keyStart(id: number): number {
    return this.#blockAt(id) + HEADER;
  }

  /** Length of entry `id`'s key. */
  keyLength(id: number): number {
    return this.#mem.i32[this.#blockAt(id) / 4];
  }

  /** Arena offset of entry `id`'s value bytes (re-read after any write: the arena may move). */
  valueStart(id: number): number {
    const at = this.#blockAt(id);
    return at + HEADER + this.#mem.i32[at / 4];
  }

  /** Length of entry `id`'s value. */
  valueLength(id: number): number {
    return this.#mem.i32[this.#blockAt(id) / 4 + 1];
  }

  /** Arena bytes of entry `id`'s block. */
  blockBytes(id: number): number {
    const at = this.#blockAt(id);
    return blockBytes(this.#mem.i32[at / 4], this.#mem.i32[at / 4 + 1]);
  }

  /** Entry `id`'s key as a binary string. */
  keyString(id: number): string {
    const start = this.keyStart(id);
    return toBinaryString(this.#mem.bytes, start, start + this.keyLength(id));
  }

  /** Entry `id`'s value as a binary string. */
  valueString(id: number): string {
    const start = this.valueStart(id);
    return toBinaryString(this.#mem.bytes, start, start + this.valueLength(id));
  }

  /** Overwrites byte `index` (below the value's length) of entry `id`'s value in place. */
  setValueByte(id: number, index: number, byte: number): void {
    this.#mem.bytes[this.valueStart(id) + index] = byte;
  }

  /** Entry `id`'s absolute expiry time in ms, or -1 when it has none. */
  expireAt(id: number): number {
    return this.#recF[id * 2 + 1];
  }

  /** Sets entry `id`'s absolute expiry time in ms. */
  setExpire(id: number, at: number): void {
    this.#recF[id * 2 + 1] = at;
    this.#volatile.add(id);
  }

  /** Removes entry `id`'s TTL; true if it had one. */
  clearExpire(id: number): boolean {
    if (!this.#volatile.delete(id)) return false;
    this.#recF[id * 2 + 1] = -1;
    return true;
  }

  /** Entry `id`'s access stamp (LRU time or LFU counter, as the database uses it). */
  access(id: number): number {
    return this.#mem.f64[this.#blockAt(id) / 8 + 2];
  }

  /** Sets entry `id`'s access stamp. */
  setAccess(id: number, stamp: number): void {
    this.#mem.f64[this.#blockAt(id) / 8 + 2] = stamp;
  }

  /** A uniformly random live id, or -1 when the table is empty. */
  randomId(): number {
    if (this.#size === 0) return -1;
    for (;;) {
      const id = Math.floor(Math.random() * this.#highWater);
      if ((this.#rec[id * 4 + 1] & LIVE) !== 0) return id;
    }
  }

  /** A uniformly random id among entries with a TTL, or -1 when there is none. */
  randomVolatileId(): number {
    return this.#volatile.random();
  }

  /** The id at position `i` (0 <= i < volatileCount) of the list of entries with a TTL. */
  volatileAt(i: number): number {
    return this.#volatile.at(i);
  }

  /**
   * Makes room for `count` entries in all (slots and records) and `bytes` more bytes of keys
   * and values, so that loading that many keys does not rehash and copy the table and the
   * arena again and again as they grow (RDB RESIZEDB hints).
   */
  reserve(count: number, bytes = 0): void {
    if (bytes > 0) this.#mem.reserve(bytes + (count - this.#size) * 32);
    let ids = this.#idCapacity;
    while (ids < count) ids *= 2;
    if (ids > this.#idCapacity) this.#growIds(ids);
    let slots = this.#mask + 1;
    while (count * 4 > slots * 3) slots *= 2;
    if (slots > this.#mask + 1) this.#resize(slots);
  }

  /** One past the highest id handed out so far: ids at or above it are new from now on. */
  get idLimit(): number {
    return this.#highWater;
  }

  /** The first live id at or after `from`, or -1: a cursor that survives writes in between. */
  nextLiveId(from: number): number {
    for (let id = Math.max(0, from); id < this.#highWater; id++) {
      if ((this.#rec[id * 4 + 1] & LIVE) !== 0) return id;
    }
    return -1;
  }

  /** Every live id, in id order. Do not add or remove entries while iterating. */
  *ids(): Generator<number> {
    for (let id = 0; id < this.#highWater; id++) {
      if ((this.#rec[id * 4 + 1] & LIVE) !== 0) yield id;
    }
  }

  /**
   * Redis's `dictScan` over one table: visits the entries whose home slot is the one `cursor`
   * designates and returns the next cursor (0 when the scan is complete). Cursors advance in
   * reverse binary order of the home slot, so a resize between two calls neither skips keys nor
   * restarts the scan: every key present for the whole scan is visited at least once.
   */
  scanStep(cursor: number, visit: (id: number) => void): number {
    const mask = this.#mask;
    const slots = this.#slots;
    const home = cursor & mask;
    const ids: number[] = [];
    for (let i = home; slots[2 * i + 1] !== 0; i = (i + 1) & mask) {
      if ((slots[2 * i] & mask) === home) {
        ids.push(this.#mem.i32[(slots[2 * i + 1] - 1) * 2 + 2] & ID_MASK);
      }
    }
    for (const id of ids) visit(id);
    return nextScanCursor(cursor, mask);
  }

  /** Deletes every entry and returns the storage to its initial size. */
  clear(): void {
    this.#lastString = null;
    this.#slots = new Int32Array(INITIAL_SLOTS * 2);
    this.#mask = INITIAL_SLOTS - 1;
    this.#foundId = -1;
    this.#recBuffer = new ArrayBuffer(INITIAL_IDS * RECORD);
    this.#rec = new Int32Array(this.#recBuffer);
    this.#recF = new Float64Array(this.#recBuffer);
    this.#idCapacity = INITIAL_IDS;
    this.#highWater = 0;
    this.#freeIds = [];
    this.#size = 0;
    this.#volatile = new IdSet();
    this.#mem = new Arena();
    this.#objects = null;
    this.#objectBytes = 0;
    this.#bySlot?.clear(INITIAL_IDS);
    this.#clears++;
  }

  #newId(): number {
    const free = this.#freeIds.pop();
    if (free !== undefined) return free;
    if (this.#highWater === this.#idCapacity) this.#growIds(this.#idCapacity * 2);
    return this.#highWater++;
  }

  #growIds(capacity: number): void {
    const buffer = new ArrayBuffer(capacity * RECORD);
    new Uint8Array(buffer).set(new Uint8Array(this.#recBuffer));
    freeBuffer(this.#recBuffer);
    this.#recBuffer = buffer;
    this.#rec = new Int32Array(buffer);
    this.#recF = new Float64Array(buffer);
    this.#idCapacity = capacity;
    this.#bySlot?.grow(capacity);
  }

  #resize(size: number): void {
    const slots = new Int32Array(size * 2);
    const mask = size - 1;
    const old = this.#slots;
    // Each slot holds its entry's hash beside the reference: re-placing the entries from the
    // old slots reads memory in order, where reading each hash from its block missed the cache
    // once a key (6.3M keys: 0.98 s to grow the slots, see README "Growth pauses").
    for (let i = 1; i < old.length; i += 2) {
      const ref = old[i];
      if (ref !== 0) placeRef(slots, mask, old[i - 1], ref);
    }
    freeBuffer(old.buffer);
    this.#slots = slots;
    this.#mask = mask;
  }

  /** The slot holding the block at `at`. */
  #slotOf(at: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    const ref = at / 8 + 1;
    let i = this.#mem.i32[at / 4 + 3] & mask;
    while (slots[2 * i + 1] !== ref) i = (i + 1) & mask;
    return i;
  }

  /**
   * Writes a binary string's bytes at `offset` of a reused buffer (first making room for
   * `room` bytes, keeping nothing) and returns the buffer.
   */
  #toScratch(text: string, offset: number, room: number): Uint8Array {
    const need = Math.max(room, offset + text.length);
    if (need > this.#scratch.length) {
      let size = this.#scratch.length * 2;
      while (size < need) size *= 2;
      this.#scratch = new Uint8Array(size);
    }
    const bytes = this.#scratch;
    for (let i = 0; i < text.length; i++) bytes[offset + i] = text.charCodeAt(i);
    return bytes;
  }
}
