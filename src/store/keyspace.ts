/**
 * All databases of a node, their shared counters, the active expiry cycle and the SCAN cursor
 * table. The one owner of keyspace state: handlers reach it through the server context.
 */
import { type AccessTracking, Database, type KeyspaceCounters } from "./database.ts";

/** Keys looked at per active-expiry round (Redis's ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP). */
export const EXPIRE_SAMPLE = 20;
/** Most SCAN cursors kept open at once; the oldest is dropped beyond it. */
export const MAX_SCAN_CURSORS = 10_000;

/** What bounds the keyspace and how it makes room (from maxmemory, maxkeys and the policy). */
export interface EvictionSettings {
  /** Bytes of used memory allowed (0 = no limit). */
  maxmemory: number;
  /** Number of keys allowed across databases (0 = no limit). */
  maxkeys: number;
  /** Redis's maxmemory-policy name. */
  policy: string;
  /** Keys compared per eviction by the sampled policies. */
  samples: number;
}

/** Why a write was refused: the limit that could not be met by evicting. */
export type LimitExceeded = "maxmemory" | "maxkeys";

/**
 * An open SCAN: a live iterator over one database's keys, and how many more keys it may yield.
 * A Map iterator also walks keys added after the scan began, so without that budget a scan
 * racing a stream of inserts would never end; Redis's scans end once the table is covered.
 */
export interface ScanCursor {
  /** The database scanned. */
  readonly db: Database;
  /** The live iterator. */
  readonly keys: Iterator<string>;
  /** Keys it may still yield: the database's size when the scan began, counted down. */
  left: number;
}

/** The keyspace; see the module comment. */
export class Keyspace {
  /** Counters shared by every database. */
  readonly counters: KeyspaceCounters = { hits: 0, misses: 0, expiredKeys: 0, evictedKeys: 0 };
  /** Heap bytes in use before any key existed; part of `used_memory`, as in Redis. */
  baselineBytes = 0;
  #eviction: EvictionSettings = { maxmemory: 0, maxkeys: 0, policy: "noeviction", samples: 5 };
  #evictFrom = 0;
  readonly #dbs: Database[];
  #cursors = new Map<number, ScanCursor>();
  #nextCursor = 1;

  /** Creates `count` empty databases. */
  constructor(count: number) {
    this.#dbs = Array.from({ length: count }, (_, i) => new Database(i, this.counters));
  }

  /** Whether a memory or key limit is set, so dispatch must check it before commands. */
  get limited(): boolean {
    return this.#eviction.maxmemory > 0 || this.#eviction.maxkeys > 0;
  }

  /** The eviction settings in force. */
  get eviction(): Readonly<EvictionSettings> {
    return this.#eviction;
  }

  /** Applies limits and policy; accesses are tracked as the policy needs. */
  configureEviction(settings: EvictionSettings): void {
    this.#eviction = { ...settings };
    const policy = settings.policy;
    const tracking: AccessTracking = policy.endsWith("-lru")
      ? "lru"
      : policy.endsWith("-lfu")
      ? "lfu"
      : "none";
    for (const db of this.#dbs) db.setTracking(tracking);
  }

  /** Estimated bytes of every database's keys, values and TTLs (see memory.ts). */
  get datasetBytes(): number {
    let total = 0;
    for (const db of this.#dbs) total += db.bytes;
    return total;
  }

  /** `used_memory`: the baseline heap plus the dataset estimate. */
  get usedMemory(): number {
    return this.baselineBytes + this.datasetBytes;
  }

  /** Keys across all databases. */
  get totalKeys(): number {
    let total = 0;
    for (const db of this.#dbs) total += db.size;
    return total;
  }

  /**
   * Evicts keys until memory and key count are within their limits, as Redis's
   * `performEvictions` does before a command runs. Returns the limit still exceeded when the
   * policy is `noeviction` or nothing can be evicted (denyoom commands are then refused), or
   * null when within limits.
   */
  enforceLimits(now: number): LimitExceeded | null {
    const { maxmemory, maxkeys, policy, samples } = this.#eviction;
    for (let guard = 0;; guard++) {
      const overMemory = maxmemory > 0 && this.usedMemory > maxmemory;
      const overKeys = maxkeys > 0 && this.totalKeys > maxkeys;
      if (!overMemory && !overKeys) return null;
      const exceeded: LimitExceeded = overMemory ? "maxmemory" : "maxkeys";
      if (policy === "noeviction" || guard > 100_000) return exceeded;
      const victim = this.#pickVictim(policy, samples, now);
      if (victim === undefined) return exceeded;
      victim.db.delete(victim.key);
      this.counters.evictedKeys++;
    }
  }

  #pickVictim(
    policy: string,
    samples: number,
    now: number,
  ): { db: Database; key: string } | undefined {
    for (let i = 0; i < this.#dbs.length; i++) {
      const db = this.#dbs[(this.#evictFrom + i) % this.#dbs.length];
      const key = db.evictionCandidate(policy, samples, now);
      if (key !== undefined) {
        this.#evictFrom = db.index;
        return { db, key };
      }
    }
    return undefined;
  }

  /** Number of databases. */
  get count(): number {
    return this.#dbs.length;
  }

  /** Database `index` (0 <= index < count). */
  db(index: number): Database {
    return this.#dbs[index];
  }

  /** Every database. */
  all(): readonly Database[] {
    return this.#dbs;
  }

  /** Exchanges the contents of two databases (SWAPDB). */
  swap(a: number, b: number): void {
    if (a !== b) this.#dbs[a].swapWith(this.#dbs[b]);
    this.#cursors.clear();
  }

  /** Deletes every key of every database (FLUSHALL). */
  flushAll(): void {
    for (const db of this.#dbs) db.clear();
    this.#cursors.clear();
  }

  /** Resets the hit, miss, expiry and eviction counters (CONFIG RESETSTAT). */
  resetCounters(): void {
    const c = this.counters;
    c.hits =
      c.misses =
      c.expiredKeys =
      c.evictedKeys =
        0;
  }

  /**
   * Opens a SCAN over a database and returns its cursor number. A cursor is a live iterator
   * over the database's `Map`: JS Map iteration visits every key present for the whole scan
   * exactly once, even while keys are added and removed, which is SCAN's guarantee.
   */
  openScan(db: Database): number {
    if (this.#cursors.size >= MAX_SCAN_CURSORS) {
      const oldest = this.#cursors.keys().next().value as number;
      this.#cursors.delete(oldest);
    }
    const id = this.#nextCursor++;
    this.#cursors.set(id, { db, keys: db.keyIterator(), left: db.size });
    return id;
  }

  /** An open SCAN cursor on `db`, or undefined (unknown, dropped, or on another db). */
  scanCursor(id: number, db: Database): ScanCursor | undefined {
    const cursor = this.#cursors.get(id);
    return cursor !== undefined && cursor.db === db ? cursor : undefined;
  }

  /** Closes a SCAN cursor (its iteration finished). */
  closeScan(id: number): void {
    this.#cursors.delete(id);
  }

  /**
   * Active expiry, as Redis's `activeExpireCycle`: for each database, sample keys with a TTL
   * and delete the expired ones, repeating while more than a quarter of a sample had expired,
   * within `budgetMs` of wall time overall. Keys nobody reads again still go.
   */
  activeExpireCycle(now: number, budgetMs: number, clock: () => number): number {
    const deadline = clock() + budgetMs;
    let total = 0;
    for (const db of this.#dbs) {
      while (db.volatileCount > 0) {
        const { checked, expired } = db.expireSample(EXPIRE_SAMPLE, now);
        total += expired;
        if (checked === 0 || expired * 4 <= checked || clock() >= deadline) break;
      }
      if (clock() >= deadline) break;
    }
    return total;
  }
}
