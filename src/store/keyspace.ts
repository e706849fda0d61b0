/**
 * All databases of a node, their shared counters, eviction and the active expiry cycle. The one owner of keyspace state: handlers reach it through the server context.
 */
import {
  type AccessTracking,
  Database,
  type KeyspaceCounters,
  type KeyspaceEvents,
} from "./database.ts";

/** Keys looked at per active-expiry round (Redis's ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP). */
export const EXPIRE_SAMPLE = 20;

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

/** The keyspace; see the module comment. */
export class Keyspace {
  /** Counters shared by every database. */
  readonly counters: KeyspaceCounters = {
    hits: 0,
    misses: 0,
    expiredKeys: 0,
    evictedKeys: 0,
    dirty: 0,
  };
  /** Listeners for removals no command asked for (expiry, eviction). */
  readonly events: KeyspaceEvents = { removed: null, expiry: "delete" };
  /** Heap bytes in use before any key existed; part of `used_memory`, as in Redis. */
  baselineBytes = 0;
  #eviction: EvictionSettings = { maxmemory: 0, maxkeys: 0, policy: "noeviction", samples: 5 };
  #evictFrom = 0;
  #follower = false;
  readonly #dbs: Database[];

  /** Creates `count` empty databases. */
  constructor(count: number) {
    this.#dbs = Array.from(
      { length: count },
      (_, i) => new Database(i, this.counters, this.events),
    );
  }

  /**
   * Whether a memory or key limit applies, so dispatch must check it before commands. A
   * follower's does not: its leader evicts and sends the DELs (Redis's
   * `replica-ignore-maxmemory yes`).
   */
  get limited(): boolean {
    return (this.#eviction.maxmemory > 0 || this.#eviction.maxkeys > 0) && !this.#follower;
  }

  /**
   * Whether this is a follower's keyspace: expired keys are hidden but kept until the leader's
   * DEL, no active expiry, no eviction.
   */
  get follower(): boolean {
    return this.#follower;
  }

  set follower(value: boolean) {
    this.#follower = value;
    this.events.expiry = value ? "hide" : "delete";
  }

  /**
   * Runs `body` (applying the leader's commands on a follower) with expired keys visible, so
   * the commands act on the dataset the leader had.
   */
  asLeaderSaw<T>(body: () => T): T {
    if (!this.#follower) return body();
    this.events.expiry = "keep";
    try {
      return body();
    } finally {
      this.events.expiry = "hide";
    }
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
   * What the last {@link enforceLimits} found (Redis's `pre_command_oom_state`): scripts decide
   * their OOM refusals on it, as computed before the command that runs them, and evict nothing
   * themselves.
   */
  overLimit: LimitExceeded | null = null;

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
      if (!overMemory && !overKeys) return this.overLimit = null;
      const exceeded: LimitExceeded = overMemory ? "maxmemory" : "maxkeys";
      if (policy === "noeviction" || guard > 100_000) return this.overLimit = exceeded;
      if (!this.#evictOne(policy, samples, now)) return this.overLimit = exceeded;
      this.counters.evictedKeys++;
    }
  }

  /** Deletes one key chosen by the policy; false when no database has a candidate. */
  #evictOne(policy: string, samples: number, now: number): boolean {
    for (let i = 0; i < this.#dbs.length; i++) {
      const db = this.#dbs[(this.#evictFrom + i) % this.#dbs.length];
      const id = db.evictionCandidate(policy, samples, now);
      if (id >= 0) {
        this.#evictFrom = db.index;
        db.evictId(id);
        return true;
      }
    }
    return false;
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
    this.counters.dirty++;
  }

  /** Deletes every key of every database (FLUSHALL). */
  flushAll(): void {
    for (const db of this.#dbs) db.clear();
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

  /** Whether the server runs {@link activeExpireCycle} (DEBUG SET-ACTIVE-EXPIRE switches it). */
  activeExpireEnabled = true;

  /**
   * Active expiry, as Redis's `activeExpireCycle`: for each database, sample keys with a TTL
   * and delete the expired ones, repeating while more than a quarter of a sample had expired,
   * within `budgetMs` of wall time overall. Keys nobody reads again still go.
   */
  activeExpireCycle(now: number, budgetMs: number, clock: () => number): number {
    if (this.#follower) return 0;
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
