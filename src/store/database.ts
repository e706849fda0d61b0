/**
 * One numbered database: keys to values, plus the absolute expiry times of the keys that have
 * one. Keys and values are binary strings (one character per byte, see `toBinaryString`): V8
 * stores them as compact one-byte strings, allocating them is cheap, and a `Map` keyed by them
 * needs no custom hashing. TTLs live in their own map so that keys without one pay nothing.
 * Every read goes through {@link Database.get}, which applies lazy expiry: an expired key is
 * never returned.
 */

/**
 * A stored value. Strings are binary strings; other Redis types will be objects, so
 * `typeof value === "string"` is the type tag for strings.
 */
export type StoredValue = string;

/** Counters shared by all databases (INFO stats). */
export interface KeyspaceCounters {
  /** Reads that found their key. */
  hits: number;
  /** Reads that did not. */
  misses: number;
  /** Keys deleted because their TTL passed (lazily or by the active cycle). */
  expiredKeys: number;
}

/** A database; see the module comment. */
export class Database {
  /** Its index (SELECT n). */
  readonly index: number;
  readonly #counters: KeyspaceCounters;
  #values = new Map<string, StoredValue>();
  #expires = new Map<string, number>();
  #expiryCursor: Iterator<[string, number]> | null = null;

  /** Creates an empty database sharing `counters` with its siblings. */
  constructor(index: number, counters: KeyspaceCounters) {
    this.index = index;
    this.#counters = counters;
  }

  /** Number of keys, including expired ones not yet removed (as Redis's DBSIZE). */
  get size(): number {
    return this.#values.size;
  }

  /** Number of keys with a TTL. */
  get volatileCount(): number {
    return this.#expires.size;
  }

  /** The value of a live key, or undefined; counts a keyspace hit or miss. */
  read(key: string, now: number): StoredValue | undefined {
    const value = this.get(key, now);
    if (value === undefined) this.#counters.misses++;
    else this.#counters.hits++;
    return value;
  }

  /** The value of a live key, or undefined, deleting the key if it has expired (no stats). */
  get(key: string, now: number): StoredValue | undefined {
    const value = this.#values.get(key);
    if (value === undefined || this.#expires.size === 0) return value;
    const at = this.#expires.get(key);
    if (at !== undefined && at <= now) {
      this.#expireKey(key);
      return undefined;
    }
    return value;
  }

  /** Whether a live key exists (lazy expiry applies). */
  has(key: string, now: number): boolean {
    return this.get(key, now) !== undefined;
  }

  /** Stores a value. The key's TTL is removed unless `keepTtl` (SET ... KEEPTTL, APPEND). */
  set(key: string, value: StoredValue, keepTtl = false): void {
    this.#values.set(key, value);
    if (!keepTtl && this.#expires.size > 0) this.#expires.delete(key);
  }

  /** Deletes a key; true if it existed (even if logically expired, as Redis's dbDelete). */
  delete(key: string): boolean {
    if (!this.#values.delete(key)) return false;
    if (this.#expires.size > 0) this.#expires.delete(key);
    return true;
  }

  /** The absolute expiry time (ms) of a key, or undefined when it has none. */
  expireAt(key: string): number | undefined {
    return this.#expires.size === 0 ? undefined : this.#expires.get(key);
  }

  /** Sets the absolute expiry time (ms) of an existing key. */
  setExpireAt(key: string, at: number): void {
    this.#expires.set(key, at);
  }

  /** Removes a key's TTL; true if it had one. */
  persist(key: string): boolean {
    return this.#expires.delete(key);
  }

  /** Every key, live or not yet removed, in insertion order (callers filter with {@link get}). */
  keys(): IterableIterator<string> {
    return this.#values.keys();
  }

  /** A live iterator over keys (SCAN); sees deletions and additions made while it runs. */
  keyIterator(): Iterator<string> {
    return this.#values.keys();
  }

  /** A random live key, or undefined when the database is empty. */
  randomKey(now: number): string | undefined {
    for (let attempt = 0; attempt < 100 && this.#values.size > 0; attempt++) {
      let skip = Math.floor(Math.random() * this.#values.size);
      for (const key of this.#values.keys()) {
        if (skip-- > 0) continue;
        if (this.get(key, now) !== undefined) return key;
        break;
      }
    }
    for (const key of this.#values.keys()) if (this.get(key, now) !== undefined) return key;
    return undefined;
  }

  /**
   * Average remaining TTL in ms of keys that have one (INFO keyspace `avg_ttl`), estimated from
   * up to `sample` of them as Redis also estimates it; 0 when none.
   */
  averageTtl(now: number, sample = 1000): number {
    let sum = 0;
    let n = 0;
    for (const at of this.#expires.values()) {
      if (at > now) {
        sum += at - now;
        n++;
      }
      if (n >= sample) break;
    }
    return n === 0 ? 0 : Math.round(sum / n);
  }

  /** Deletes every key. */
  clear(): void {
    this.#values = new Map();
    this.#expires = new Map();
    this.#expiryCursor = null;
  }

  /** Exchanges all contents with another database (SWAPDB). */
  swapWith(other: Database): void {
    [this.#values, other.#values] = [other.#values, this.#values];
    [this.#expires, other.#expires] = [other.#expires, this.#expires];
    this.#expiryCursor = other.#expiryCursor = null;
  }

  /**
   * One round of active expiry, like Redis's `activeExpireCycle`: looks at up to `sample` keys
   * with a TTL (continuing where the last round stopped) and deletes the expired ones.
   * Returns how many were looked at and how many expired, so the caller can decide whether to
   * run another round.
   */
  expireSample(sample: number, now: number): { checked: number; expired: number } {
    let checked = 0;
    let expired = 0;
    if (this.#expires.size === 0) return { checked, expired };
    this.#expiryCursor ??= this.#expires.entries();
    while (checked < sample) {
      const next = this.#expiryCursor.next();
      if (next.done) {
        this.#expiryCursor = this.#expires.entries();
        if (checked > 0 || this.#expires.size === 0) break;
        continue;
      }
      checked++;
      const [key, at] = next.value;
      if (at <= now) {
        this.#expireKey(key);
        expired++;
      }
    }
    return { checked, expired };
  }

  #expireKey(key: string): void {
    this.#values.delete(key);
    this.#expires.delete(key);
    this.#counters.expiredKeys++;
  }
}
