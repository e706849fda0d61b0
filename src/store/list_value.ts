/**
 * The value of a Redis list: items (binary strings) in a ring buffer, a power-of-two array used
 * circularly. Pushes and pops at either end are O(1) amortized and reading or replacing the
 * item at an index is O(1), at least as good as Redis's quicklist (O(n / node size) for an
 * index). Inserting or removing in the middle moves the items of the shorter side, as a
 * quicklist moves the bytes of one listpack node after it found the place in O(n). The buffer
 * grows by doubling and shrinks by half once a quarter full, so a list that grew large and was
 * emptied does not keep its memory.
 *
 * OBJECT ENCODING of a list in Redis 7.0 is always "quicklist", whatever its size.
 */
import type { CollectionValue } from "./collection.ts";

/** Bytes counted for a list besides its items (Redis's object header and quicklist struct). */
export const LIST_BASE_BYTES = 48;
/**
 * Bytes counted per item besides its own bytes: its slot in the buffer (8) and the string's
 * header (16), as the JS heap lays them out.
 */
export const LIST_ITEM_OVERHEAD = 24;

/** Smallest buffer capacity (a power of two). */
const MIN_CAPACITY = 8;

/** A list; see the module comment. */
export class ListValue implements CollectionValue {
  /** Always "list". */
  readonly type = "list" as const;
  #items: (string | undefined)[] = new Array(MIN_CAPACITY);
  /** Capacity minus one (the capacity is a power of two). */
  #mask = MIN_CAPACITY - 1;
  /** Buffer position of the head item. */
  #head = 0;
  #size = 0;
  #bytes = LIST_BASE_BYTES;

  /** Number of items. */
  get size(): number {
    return this.#size;
  }

  /** Bytes by the memory model: {@link LIST_BASE_BYTES} plus each item and its overhead. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Always "quicklist", as Redis 7.0 answers OBJECT ENCODING for every list. */
  encoding(): string {
    return "quicklist";
  }

  /** An independent copy (strings are immutable, so copying the references is deep). */
  clone(): ListValue {
    const copy = new ListValue();
    for (const item of this.items()) copy.pushRight(item);
    return copy;
  }

  /** Adds `item` before the head (LPUSH). */
  pushLeft(item: string): void {
    this.#growIfFull();
    this.#head = (this.#head - 1) & this.#mask;
    this.#items[this.#head] = item;
    this.#added(item);
  }

  /** Adds `item` after the tail (RPUSH). */
  pushRight(item: string): void {
    this.#growIfFull();
    this.#items[(this.#head + this.#size) & this.#mask] = item;
    this.#added(item);
  }

  /** Removes and returns the head item, or undefined when empty (LPOP). */
  popLeft(): string | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head] as string;
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & this.#mask;
    this.#removed(item);
    return item;
  }

  /** Removes and returns the tail item, or undefined when empty (RPOP). */
  popRight(): string | undefined {
    if (this.#size === 0) return undefined;
    const slot = (this.#head + this.#size - 1) & this.#mask;
    const item = this.#items[slot] as string;
    this.#items[slot] = undefined;
    this.#removed(item);
    return item;
  }

  /** The item at 0-based `index` from the head, or undefined when out of range. */
  at(index: number): string | undefined {
    if (index < 0 || index >= this.#size) return undefined;
    return this.#items[(this.#head + index) & this.#mask];
  }

  /** Replaces the item at 0-based `index`; false (nothing changed) when out of range (LSET). */
  set(index: number, item: string): boolean {
    if (index < 0 || index >= this.#size) return false;
    const slot = (this.#head + index) & this.#mask;
    this.#bytes += item.length - (this.#items[slot] as string).length;
    this.#items[slot] = item;
    return true;
  }

  /** Every item, head to tail. Do not change the list while iterating. */
  *items(): Generator<string> {
    for (let i = 0; i < this.#size; i++) yield this.#items[(this.#head + i) & this.#mask] as string;
  }

  /** The items from index `start` to `end` inclusive (0 <= start <= end < size), head first. */
  range(start: number, end: number): string[] {
    const out: string[] = new Array(end - start + 1);
    for (let i = start; i <= end; i++) {
      out[i - start] = this.#items[(this.#head + i) & this.#mask] as string;
    }
    return out;
  }

  /**
   * Index of the first item equal to `item` scanning from the head, or from the tail when
   * `fromTail`, after skipping `skip` matches, looking at no more than `maxlen` items (0: all);
   * -1 when none. The building block of LINSERT and LPOS.
   */
  indexOf(item: string, fromTail = false, skip = 0, maxlen = 0): number {
    const limit = maxlen > 0 && maxlen < this.#size ? maxlen : this.#size;
    for (let n = 0; n < limit; n++) {
      const i = fromTail ? this.#size - 1 - n : n;
      if (this.#items[(this.#head + i) & this.#mask] === item && skip-- === 0) return i;
    }
    return -1;
  }

  /**
   * Indexes of the items equal to `item` (LPOS), scanning from the head, or from the tail when
   * `fromTail`: the matches after the first `skip`, at most `count` of them (0: all), looking at
   * no more than `maxlen` items (0: all).
   */
  positions(
    item: string,
    fromTail: boolean,
    skip: number,
    count: number,
    maxlen: number,
  ): number[] {
    const out: number[] = [];
    const limit = maxlen > 0 && maxlen < this.#size ? maxlen : this.#size;
    for (let n = 0; n < limit; n++) {
      const i = fromTail ? this.#size - 1 - n : n;
      if (this.#items[(this.#head + i) & this.#mask] !== item) continue;
      if (skip > 0) skip--;
      else {
        out.push(i);
        if (count > 0 && out.length >= count) break;
      }
    }
    return out;
  }

  /**
   * Inserts `item` so that it ends at index `index` (0 <= index <= size), moving the items of
   * the shorter side by one (LINSERT).
   */
  insertAt(index: number, item: string): void {
    if (index <= 0) return this.pushLeft(item);
    if (index >= this.#size) return this.pushRight(item);
    this.#growIfFull();
    const mask = this.#mask;
    const items = this.#items;
    if (index < this.#size - index) {
      // Move the `index` items before it one slot towards the head.
      this.#head = (this.#head - 1) & mask;
      for (let i = 0; i < index; i++) {
        items[(this.#head + i) & mask] = items[(this.#head + i + 1) & mask];
      }
    } else {
      for (let i = this.#size; i > index; i--) {
        items[(this.#head + i) & mask] = items[(this.#head + i - 1) & mask];
      }
    }
    items[(this.#head + index) & mask] = item;
    this.#added(item);
  }

  /**
   * Removes up to `limit` items equal to `item` (0: every one), scanning from the head, or from
   * the tail when `fromTail`, in one pass that closes the gaps; returns how many were removed
   * (LREM).
   */
  removeMatching(item: string, limit: number, fromTail: boolean): number {
    const size = this.#size;
    const keep: string[] = [];
    let removed = 0;
    for (let n = 0; n < size; n++) {
      const i = fromTail ? size - 1 - n : n;
      const current = this.#items[(this.#head + i) & this.#mask] as string;
      if (current === item && (limit === 0 || removed < limit)) removed++;
      else keep.push(current);
    }
    if (removed === 0) return 0;
    if (fromTail) keep.reverse();
    this.#replaceAll(keep);
    return removed;
  }

  /** Removes `left` items from the head and `right` from the tail (LTRIM, counted pops). */
  trim(left: number, right: number): void {
    for (let i = 0; i < left && this.#size > 0; i++) this.popLeft();
    for (let i = 0; i < right && this.#size > 0; i++) this.popRight();
  }

  #replaceAll(items: string[]): void {
    let bytes = LIST_BASE_BYTES;
    for (let i = 0; i < items.length; i++) bytes += items[i].length + LIST_ITEM_OVERHEAD;
    this.#bytes = bytes;
    this.#size = items.length;
    let capacity = MIN_CAPACITY;
    while (capacity < items.length) capacity *= 2;
    const buffer: (string | undefined)[] = items;
    buffer.length = capacity;
    this.#items = buffer;
    this.#mask = capacity - 1;
    this.#head = 0;
  }

  #added(item: string): void {
    this.#size++;
    this.#bytes += item.length + LIST_ITEM_OVERHEAD;
  }

  #removed(item: string): void {
    this.#size--;
    this.#bytes -= item.length + LIST_ITEM_OVERHEAD;
    const capacity = this.#mask + 1;
    if (capacity > MIN_CAPACITY && this.#size <= capacity >> 2) this.#resize(capacity >> 1);
  }

  #growIfFull(): void {
    if (this.#size === this.#mask + 1) this.#resize((this.#mask + 1) * 2);
  }

  /** Moves the items to a buffer of `capacity` slots, the head at position 0. */
  #resize(capacity: number): void {
    const buffer: (string | undefined)[] = new Array(capacity);
    for (let i = 0; i < this.#size; i++) buffer[i] = this.#items[(this.#head + i) & this.#mask];
    this.#items = buffer;
    this.#mask = capacity - 1;
    this.#head = 0;
  }
}
