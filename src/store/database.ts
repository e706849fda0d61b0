/**
 * One numbered database: keys to values, plus the absolute expiry times of the keys that have
 * one. Keys and values are binary strings (one character per byte, see `toBinaryString`): V8
 * stores them as compact one-byte strings, allocating them is cheap, and a `Map` keyed by them
 * needs no custom hashing. TTLs live in their own map so that keys without one pay nothing.
 * Every read goes through {@link Database.get}, which applies lazy expiry: an expired key is
 * never returned.
 */

import { entryBytes, stringBytes, TTL_OVERHEAD } from "./memory.ts";
import { now as clockNow } from "../util/clock.ts";

/**
 * A stored value. Strings are binary strings; other Redis types will be objects, so
 * `typeof value === "string"` is the type tag for strings.
 */
export type StoredValue = string;

/**
 * What the database records about accesses, as the eviction policy needs: nothing, recency (an
 * accessed key moves to the end of the Map's insertion order, so the first key is always the
 * least recently used: exact LRU without per-key memory) or frequency (Redis's logarithmic
 * LFU counter, in a side Map that exists only under an LFU policy).
 */
export type AccessTracking = "none" | "lru" | "lfu";

/** Redis's LFU parameters: initial counter, log factor and decay period (minutes). */
const LFU_INIT = 5;
const LFU_LOG_FACTOR = 10;
const LFU_DECAY_MINUTES = 1;
/** Candidates the sampled policies remember between evictions (Redis's EVPOOL_SIZE). */
const EVICTION_POOL_SIZE = 16;
/** Largest random stride between two sampled keys. */
const SAMPLE_STRIDE = 16;

/** Counters shared by all databases (INFO stats). */
export interface KeyspaceCounters {
  /** Reads that found their key. */
  hits: number;
  /** Reads that did not. */
  misses: number;
  /** Keys deleted because their TTL passed (lazily or by the active cycle). */
  expiredKeys: number;
  /** Keys deleted to stay within maxmemory / maxkeys. */
  evictedKeys: number;
}

/** A database; see the module comment. */
export class Database {
  /** Its index (SELECT n). */
  readonly index: number;
  readonly #counters: KeyspaceCounters;
  #values = new Map<string, StoredValue>();
  #expires = new Map<string, number>();
  #expiryCursor: Iterator<[string, number]> | null = null;
  #sampleCursor: Iterator<string> | null = null;
  #lruCursor: Iterator<string> | null = null;
  #bytes = 0;
  #tracking: AccessTracking = "none";
  #frequency: Map<string, number> | null = null;
  /** Best eviction candidates seen so far, lowest score first (Redis's eviction pool). */
  #pool: { key: string; score: number }[] = [];

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

  /** Estimated heap bytes of this database's keys, values and TTLs (see memory.ts). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Chooses what accesses record (set by the keyspace from `maxmemory-policy`). */
  setTracking(tracking: AccessTracking): void {
    this.#tracking = tracking;
    this.#frequency = tracking === "lfu" ? (this.#frequency ?? new Map()) : null;
  }

  /**
   * The value of a live key, or undefined; counts a keyspace hit or miss and, unless
   * `noTouch` (CLIENT NO-TOUCH), records the access for eviction.
   */
  read(key: string, now: number, noTouch = false): StoredValue | undefined {
    const value = this.get(key, now);
    if (value === undefined) this.#counters.misses++;
    else {
      this.#counters.hits++;
      if (this.#tracking !== "none" && !noTouch) this.#touch(key, value, now);
    }
    return value;
  }

  /** Records an access to an existing key for the eviction policy (OBJECT-free TOUCH). */
  touch(key: string, now: number): void {
    const value = this.#values.get(key);
    if (value !== undefined && this.#tracking !== "none") this.#touch(key, value, now);
  }

  #touch(key: string, value: StoredValue, now: number): void {
    if (this.#tracking === "lru") {
      this.#values.delete(key);
      this.#values.set(key, value);
    } else if (this.#frequency !== null) {
      this.#frequency.set(key, lfuIncrement(this.#frequency.get(key), now));
    }
  }

  /** Redis's LFU counter of a key (0-255) after decay, for OBJECT FREQ; undefined if untracked. */
  frequency(key: string, now: number): number | undefined {
    if (this.#frequency === null || !this.#values.has(key)) return undefined;
    return lfuDecayed(this.#frequency.get(key), now);
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
  set(key: string, value: StoredValue, keepTtl = false, now = clockNow()): void {
    const old = this.#values.get(key);
    if (old === undefined) {
      this.#bytes += entryBytes(key, value);
      this.#values.set(key, value);
      if (this.#frequency !== null) this.#frequency.set(key, minutes(now) * 256 + LFU_INIT);
    } else {
      this.#bytes += stringBytes(value.length) - stringBytes(old.length);
      if (this.#tracking === "lru") this.#values.delete(key);
      this.#values.set(key, value);
      if (this.#frequency !== null) {
        this.#frequency.set(key, lfuIncrement(this.#frequency.get(key), now));
      }
    }
    if (!keepTtl && this.#expires.size > 0 && this.#expires.delete(key)) {
      this.#bytes -= TTL_OVERHEAD;
    }
  }

  /** Deletes a key; true if it existed (even if logically expired, as Redis's dbDelete). */
  delete(key: string): boolean {
    const old = this.#values.get(key);
    if (old === undefined) return false;
    this.#values.delete(key);
    this.#bytes -= entryBytes(key, old);
    if (this.#expires.size > 0 && this.#expires.delete(key)) this.#bytes -= TTL_OVERHEAD;
    this.#frequency?.delete(key);
    return true;
  }

  /** The absolute expiry time (ms) of a key, or undefined when it has none. */
  expireAt(key: string): number | undefined {
    return this.#expires.size === 0 ? undefined : this.#expires.get(key);
  }

  /** Sets the absolute expiry time (ms) of an existing key. */
  setExpireAt(key: string, at: number): void {
    if (!this.#expires.has(key)) this.#bytes += TTL_OVERHEAD;
    this.#expires.set(key, at);
  }

  /** Removes a key's TTL; true if it had one. */
  persist(key: string): boolean {
    if (!this.#expires.delete(key)) return false;
    this.#bytes -= TTL_OVERHEAD;
    return true;
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
    this.#expiryCursor = this.#sampleCursor = this.#lruCursor = null;
    this.#pool = [];
    this.#bytes = 0;
    if (this.#frequency !== null) this.#frequency = new Map();
  }

  /** Exchanges all contents with another database (SWAPDB). */
  swapWith(other: Database): void {
    [this.#values, other.#values] = [other.#values, this.#values];
    [this.#expires, other.#expires] = [other.#expires, this.#expires];
    [this.#bytes, other.#bytes] = [other.#bytes, this.#bytes];
    [this.#frequency, other.#frequency] = [other.#frequency, this.#frequency];
    this.#expiryCursor = other.#expiryCursor = null;
    this.#sampleCursor = other.#sampleCursor = null;
    this.#lruCursor = other.#lruCursor = null;
    this.#pool = [];
    other.#pool = [];
  }

  /**
   * The key the eviction policy would remove from this database, or undefined when it has no
   * candidate (no keys; no keys with a TTL for a volatile policy). LRU policies take the least
   * recently used key (exact, from the Map's order); random ones any sampled key; LFU and TTL
   * policies add `samples` sampled keys to a pool of the best candidates kept between
   * evictions, as Redis does, and take the lowest LFU counter or the nearest expiry from it.
   */
  evictionCandidate(policy: string, samples: number, now: number): string | undefined {
    const volatile = policy.startsWith("volatile-");
    if (volatile ? this.#expires.size === 0 : this.#values.size === 0) return undefined;
    if (policy === "allkeys-lru") return this.#leastRecent(false, samples);
    if (policy === "volatile-lru") return this.#leastRecent(true, samples) ?? this.#sample(true);
    if (policy.endsWith("-random")) return this.#sample(volatile);
    const score = (key: string) =>
      policy === "volatile-ttl"
        ? (this.#expires.get(key) ?? Infinity)
        : lfuDecayed(this.#frequency?.get(key), now);
    const pool = this.#pool;
    const population = volatile ? this.#expires.size : this.#values.size;
    // A population no larger than the sample is taken whole, as Redis's dictGetSomeKeys does:
    // random strides could otherwise keep landing on the same few keys.
    const whole = population <= samples
      ? [...(volatile ? this.#expires.keys() : this.#values.keys())]
      : null;
    for (let i = 0; i < (whole?.length ?? samples); i++) {
      const key = whole !== null ? whole[i] : this.#sample(volatile);
      if (key === undefined) break;
      if (pool.some((c) => c.key === key)) continue;
      const candidate = { key, score: score(key) };
      if (pool.length < EVICTION_POOL_SIZE) pool.push(candidate);
      else if (candidate.score < pool[pool.length - 1].score) pool[pool.length - 1] = candidate;
      else continue;
      pool.sort((a, b) => a.score - b.score);
    }
    while (pool.length > 0) {
      const { key } = pool.shift()!;
      if (this.#values.has(key) && (!volatile || this.#expires.has(key))) return key;
    }
    return undefined;
  }

  /**
   * The least recently used key (with a TTL, if `volatile`), from a cursor kept at the old end
   * of the Map's order. Evicting what it yields moves it forward; keys touched since it passed
   * them were re-inserted at the new end and come up again in order, so the order stays exact.
   * A fresh iterator would have to skip every deleted entry at the front each time.
   */
  #leastRecent(volatile: boolean, samples: number): string | undefined {
    for (let scanned = 0, restarts = 0; restarts < 2;) {
      this.#lruCursor ??= this.#values.keys();
      const next = this.#lruCursor.next();
      if (next.done) {
        this.#lruCursor = null;
        restarts++;
        continue;
      }
      const key = next.value;
      if (!volatile || this.#expires.has(key)) return key;
      if (++scanned > samples * 64) return undefined;
    }
    return undefined;
  }

  /**
   * A key from a rolling cursor over all keys (or over keys with a TTL), a random stride past
   * the last one so that samples are not runs of neighbours in insertion order.
   */
  #sample(volatile: boolean): string | undefined {
    let key = this.#nextSample(volatile);
    for (let skip = Math.floor(Math.random() * SAMPLE_STRIDE); skip > 0; skip--) {
      key = this.#nextSample(volatile);
    }
    return key;
  }

  #nextSample(volatile: boolean): string | undefined {
    if (volatile) {
      this.#expiryCursor ??= this.#expires.entries();
      let next = this.#expiryCursor.next();
      if (next.done) {
        this.#expiryCursor = this.#expires.entries();
        next = this.#expiryCursor.next();
      }
      return next.done ? undefined : next.value[0];
    }
    this.#sampleCursor ??= this.#values.keys();
    let next = this.#sampleCursor.next();
    if (next.done) {
      this.#sampleCursor = this.#values.keys();
      next = this.#sampleCursor.next();
    }
    return next.done ? undefined : next.value;
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
    this.delete(key);
    this.#counters.expiredKeys++;
  }
}

/** Minutes since the epoch, the LFU clock. */
function minutes(now: number): number {
  return Math.floor(now / 60_000);
}

/** A packed LFU record's counter after Redis's decay of one per LFU_DECAY_MINUTES idle. */
function lfuDecayed(packed: number | undefined, now: number): number {
  if (packed === undefined) return LFU_INIT;
  const counter = packed & 0xff;
  const idle = minutes(now) - Math.floor(packed / 256);
  const periods = Math.floor(idle / LFU_DECAY_MINUTES);
  return periods > counter ? 0 : counter - Math.max(0, periods);
}

/** Records one access in a packed LFU record (last-decrement minute * 256 + counter). */
function lfuIncrement(packed: number | undefined, now: number): number {
  let counter = lfuDecayed(packed, now);
  if (counter < 255) {
    const base = Math.max(0, counter - LFU_INIT);
    if (Math.random() < 1 / (base * LFU_LOG_FACTOR + 1)) counter++;
  }
  return minutes(now) * 256 + counter;
}
