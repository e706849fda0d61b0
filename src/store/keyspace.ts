/**
 * All databases of a node, their shared counters, the active expiry cycle and the SCAN cursor
 * table. The one owner of keyspace state: handlers reach it through the server context.
 */
import { Database, type KeyspaceCounters } from "./database.ts";

/** Keys looked at per active-expiry round (Redis's ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP). */
export const EXPIRE_SAMPLE = 20;
/** Most SCAN cursors kept open at once; the oldest is dropped beyond it. */
export const MAX_SCAN_CURSORS = 10_000;

/** An open SCAN: a live iterator over one database's keys. */
interface ScanCursor {
  db: Database;
  keys: Iterator<string>;
}

/** The keyspace; see the module comment. */
export class Keyspace {
  /** Counters shared by every database. */
  readonly counters: KeyspaceCounters = { hits: 0, misses: 0, expiredKeys: 0 };
  readonly #dbs: Database[];
  #cursors = new Map<number, ScanCursor>();
  #nextCursor = 1;

  /** Creates `count` empty databases. */
  constructor(count: number) {
    this.#dbs = Array.from({ length: count }, (_, i) => new Database(i, this.counters));
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

  /** Resets the hit, miss and expiry counters (CONFIG RESETSTAT). */
  resetCounters(): void {
    this.counters.hits = this.counters.misses = this.counters.expiredKeys = 0;
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
    this.#cursors.set(id, { db, keys: db.keyIterator() });
    return id;
  }

  /** The iterator of an open SCAN cursor on `db`, or undefined (unknown, expired or other db). */
  scanCursor(id: number, db: Database): Iterator<string> | undefined {
    const cursor = this.#cursors.get(id);
    return cursor !== undefined && cursor.db === db ? cursor.keys : undefined;
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
