/**
 * A set of small non-negative integer ids with O(1) add, remove, membership and uniform random
 * choice: a dense list plus each id's position in it. The key table keeps the ids of keys with a
 * TTL here, so that the active expiry cycle and the volatile eviction policies sample them
 * directly instead of searching all keys.
 */
import { freeBuffer } from "./arena.ts";

const INITIAL_CAPACITY = 16;

/** A dense id set; see the module comment. */
export class IdSet {
  #list = new Int32Array(INITIAL_CAPACITY);
  /** Position + 1 of each id in the list (0 = absent), indexed by id. */
  #position = new Int32Array(INITIAL_CAPACITY);
  #size = 0;

  /** Number of ids in the set. */
  get size(): number {
    return this.#size;
  }

  /** Bytes of the arrays behind the set. */
  get reservedBytes(): number {
    return (this.#list.length + this.#position.length) * 4;
  }

  /** Whether `id` is in the set. */
  has(id: number): boolean {
    return id < this.#position.length && this.#position[id] !== 0;
  }

  /** Adds `id` (no effect if present). */
  add(id: number): void {
    if (id >= this.#position.length) this.#position = grown(this.#position, id + 1);
    if (this.#position[id] !== 0) return;
    if (this.#size === this.#list.length) this.#list = grown(this.#list, this.#size + 1);
    this.#list[this.#size++] = id;
    this.#position[id] = this.#size;
  }

  /** Removes `id`; true if it was present. The last id in the list takes its position. */
  delete(id: number): boolean {
    const pos = id < this.#position.length ? this.#position[id] : 0;
    if (pos === 0) return false;
    const last = this.#list[--this.#size];
    this.#list[pos - 1] = last;
    this.#position[last] = pos;
    this.#position[id] = 0;
    return true;
  }

  /** The id at position `i` (0 <= i < size). */
  at(i: number): number {
    return this.#list[i];
  }

  /** A uniformly random id of the set, or -1 when it is empty. */
  random(): number {
    return this.#size === 0 ? -1 : this.#list[Math.floor(Math.random() * this.#size)];
  }
}

/** A copy of `array` with room for at least `needed` elements (capacity doubles). */
function grown(array: Int32Array<ArrayBuffer>, needed: number): Int32Array<ArrayBuffer> {
  let capacity = array.length * 2;
  while (capacity < needed) capacity *= 2;
  const out = new Int32Array(capacity);
  out.set(array);
  freeBuffer(array.buffer);
  return out;
}
