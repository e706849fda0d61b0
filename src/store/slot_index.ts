/**
 * The keys of a key table by cluster hash slot, kept only in cluster mode (database 0), so that
 * CLUSTER COUNTKEYSINSLOT is O(1), GETKEYSINSLOT O(count), and a lost slot's keys are deleted
 * without looking at the others. As in Redis 7.0 (`slotToKeyAddEntry`), each slot has a count
 * and a doubly linked list of its entries, a new entry goes to the head, and a listing walks
 * from the head: the newest key first.
 *
 * Layout: the links are two int32 per entry id (next and previous id, -1 = none), side by side
 * in one array indexed by the key table's dense entry ids and grown with them, plus a head and
 * a count per slot (128 KiB whatever the size). Redis threads the same list through 16 bytes of
 * metadata in each dict entry; here the cost is 8 bytes per id of capacity, which doubles, so
 * 8 to 16 bytes per key: 8.8 measured for 500k keys (`deno task bench:memory-model`, reserved
 * bytes, cluster case against the plain one), 8.4 for 2M keys by the arrays' sizes. A JS object
 * or a Set per slot would cost several times that and put every key on the collector's path.
 * Ids are stable while a key lives (a value rewritten in place or moved keeps its id), so the
 * lists only change when a key is added or removed. The slot of a key is not stored: it is
 * hashed again from the key's bytes on removal, as Redis does.
 */
import { CLUSTER_SLOTS, keySlotOfRange } from "../cluster/key_slot.ts";
import { freeBuffer } from "./arena.ts";

/** No entry (end of a list, empty slot). */
const NONE = -1;

/** Keys by hash slot; see the module comment. */
export class SlotIndex {
  /** First (newest) id of each slot, or -1. */
  #heads = new Int32Array(CLUSTER_SLOTS).fill(NONE);
  /** Number of entries of each slot. */
  #counts = new Int32Array(CLUSTER_SLOTS);
  /** `[2 * id]` the next id of the entry's slot, `[2 * id + 1]` the previous one (-1 = none). */
  #links: Int32Array<ArrayBuffer>;

  /** Creates an empty index with room for ids below `capacity`. */
  constructor(capacity: number) {
    this.#links = new Int32Array(capacity * 2);
  }

  /** Bytes of the index's arrays. */
  get reservedBytes(): number {
    return this.#heads.byteLength + this.#counts.byteLength + this.#links.byteLength;
  }

  /** Makes room for ids below `capacity` (the key table's id capacity after it grew). */
  grow(capacity: number): void {
    if (capacity * 2 <= this.#links.length) return;
    const links = new Int32Array(capacity * 2);
    links.set(this.#links);
    freeBuffer(this.#links.buffer);
    this.#links = links;
  }

  /** Forgets every entry, keeping room for ids below `capacity` only. */
  clear(capacity: number): void {
    this.#heads.fill(NONE);
    this.#counts.fill(0);
    freeBuffer(this.#links.buffer);
    this.#links = new Int32Array(capacity * 2);
  }

  /** Adds entry `id`, whose key is `buf[start, end)`, at the head of its slot's list. */
  add(id: number, buf: Uint8Array, start: number, end: number): void {
    const slot = keySlotOfRange(buf, start, end);
    const links = this.#links;
    const first = this.#heads[slot];
    links[2 * id] = first;
    links[2 * id + 1] = NONE;
    if (first !== NONE) links[2 * first + 1] = id;
    this.#heads[slot] = id;
    this.#counts[slot]++;
  }

  /** Removes entry `id`, whose key is `buf[start, end)`, from its slot's list. */
  remove(id: number, buf: Uint8Array, start: number, end: number): void {
    const slot = keySlotOfRange(buf, start, end);
    const links = this.#links;
    const next = links[2 * id];
    const prev = links[2 * id + 1];
    if (next !== NONE) links[2 * next + 1] = prev;
    if (prev !== NONE) links[2 * prev] = next;
    else this.#heads[slot] = next;
    this.#counts[slot]--;
  }

  /** Number of entries in `slot` (0 <= slot < 16384). */
  count(slot: number): number {
    return this.#counts[slot];
  }

  /** The newest entry of `slot`, or -1 when it has none. */
  first(slot: number): number {
    return this.#heads[slot];
  }

  /** The entry after `id` in its slot's list (the next older one), or -1. */
  next(id: number): number {
    return this.#links[2 * id];
  }
}
