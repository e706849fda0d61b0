/**
 * A point-in-time view of the keyspace, walked in slices while the server keeps serving: what
 * BGSAVE and BGREWRITEAOF write. Redis gets this from fork(); here every database tells the
 * snapshot before a key changes (a `ChangeGuard`), and the snapshot keeps that key's value from
 * when it began if it has not written the key yet (copy on write, per key). Keys created after
 * the snapshot began are remembered as absent and skipped. So the walk yields exactly the
 * dataset of its start, however writes interleave with it, and costs memory only for the keys
 * changed while it runs.
 *
 * A FLUSHALL, FLUSHDB or SWAPDB while a walk runs makes it {@link Snapshot.aborted}: the caller
 * starts again.
 */
import type { ChangeGuard, Database } from "./database.ts";
import type { Keyspace } from "./keyspace.ts";
import { monotonicMs } from "../util/clock.ts";

/** One key as it was when the snapshot began. */
export interface SnapshotEntry {
  /** Its database. */
  db: number;
  /** Key bytes (valid until the next step). */
  key: Uint8Array;
  /** Value bytes for a string (valid until the next step). */
  value: Uint8Array;
  /** Absolute expiry time in ms, or -1 for none. */
  expireAt: number;
}

/** A key's state when the snapshot began, kept because it changed before it was written. */
interface PreImage {
  key: Uint8Array;
  /** Null when the key did not exist when the snapshot began. */
  value: Uint8Array | null;
  expireAt: number;
  written: boolean;
}

/** The walk over one database. */
class DatabaseWalk implements ChangeGuard {
  readonly db: Database;
  /** Ids below it have been written (ids of existing keys never move). */
  cursor = 0;
  /** Ids at or above it were handed out after the snapshot began: their keys are new. */
  readonly limit: number;
  readonly preImages = new Map<string, PreImage>();
  /** Ids below `limit` whose entry changed since the snapshot began (a pre-image may exist). */
  readonly #touched: Uint8Array;
  #onReset: () => void;

  constructor(db: Database, onReset: () => void) {
    this.db = db;
    this.#onReset = onReset;
    this.limit = db.table.idLimit;
    this.#touched = new Uint8Array(this.limit);
  }

  /** Whether the entry at `id` may differ from the snapshot (so its key must be looked up). */
  touched(id: number): boolean {
    return id >= this.limit || this.#touched[id] === 1;
  }

  beforeChange(id: number): void {
    if (id < this.cursor) return;
    if (id < this.limit) {
      // Only the first change of an id needs its value copied.
      if (this.#touched[id] === 1) return;
      this.#touched[id] = 1;
    }
    const table = this.db.table;
    const name = table.keyString(id);
    if (this.preImages.has(name)) return;
    const keyStart = table.keyStart(id);
    const valueStart = table.valueStart(id);
    this.preImages.set(name, {
      key: table.arena.slice(keyStart, keyStart + table.keyLength(id)),
      value: table.arena.slice(valueStart, valueStart + table.valueLength(id)),
      expireAt: table.expireAt(id),
      written: false,
    });
  }

  beforeCreate(key: Uint8Array, start: number, end: number): void {
    let name = "";
    for (let i = start; i < end; i++) name += String.fromCharCode(key[i]);
    if (!this.preImages.has(name)) {
      this.preImages.set(name, {
        key: key.slice(start, end),
        value: null,
        expireAt: -1,
        written: true,
      });
    }
  }

  beforeReset(): void {
    this.#onReset();
  }
}

/** A point-in-time walk of the keyspace; see the module comment. */
export class Snapshot {
  /** When the snapshot began (ms): keys expired by then are left out. */
  readonly startedAt: number;
  #walks: DatabaseWalk[];
  #current = 0;
  #leftovers: PreImage[] | null = null;
  #aborted = false;
  #closed = false;
  readonly #guarded: boolean;

  /**
   * Begins a snapshot of `keyspace` as of `now`. An unguarded snapshot installs no change
   * guards: for a walk finished before anything else runs (SAVE), which also leaves a running
   * guarded snapshot undisturbed.
   */
  constructor(keyspace: Keyspace, now: number, guarded = true) {
    this.startedAt = now;
    this.#walks = keyspace.all().map((db) => new DatabaseWalk(db, () => this.#abort()));
    this.#guarded = guarded;
    if (guarded) { for (const walk of this.#walks) walk.db.setGuard(walk); }
  }

  /** Whether a FLUSHALL, FLUSHDB or SWAPDB made the snapshot unusable. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Keys whose old values the snapshot holds on to right now (its copy-on-write cost). */
  get retainedKeys(): number {
    let n = 0;
    for (const walk of this.#walks) n += walk.preImages.size;
    return n;
  }

  /**
   * Hands entries to `emit` for about `ms` milliseconds of work (checking the clock every
   * thousand keys); false once every key has been handed over (or the snapshot was aborted).
   * Background writers call it once per event-loop turn: a walk that moves fast leaves fewer
   * keys to be changed, and so copied, before it reaches them, while a turn stays short.
   */
  stepFor(ms: number, emit: (entry: SnapshotEntry) => void): boolean {
    const deadline = monotonicMs() + ms;
    let more = true;
    while (more && monotonicMs() < deadline) more = this.step(1000, emit);
    return more;
  }

  /**
   * Hands up to `budget` entries to `emit`, in database order; false once every key has been
   * handed over (or the snapshot was aborted).
   */
  step(budget: number, emit: (entry: SnapshotEntry) => void): boolean {
    while (!this.#aborted && this.#current < this.#walks.length) {
      const walk = this.#walks[this.#current];
      if (this.#leftovers === null) {
        budget = this.#walkTable(walk, budget, emit);
        if (budget <= 0) return true;
        // Keys that existed at the start but were removed before the walk reached them.
        this.#leftovers = [...walk.preImages.values()].filter((p) => !p.written);
      }
      while (this.#leftovers.length > 0) {
        if (budget-- <= 0) return true;
        const pre = this.#leftovers.pop()!;
        pre.written = true;
        this.#emit(walk.db.index, pre.key, pre.value!, pre.expireAt, emit);
      }
      this.#leftovers = null;
      this.#current++;
    }
    this.close();
    return false;
  }

  /** Walks one database's table; returns the budget left (0 or less: not finished). */
  #walkTable(walk: DatabaseWalk, budget: number, emit: (entry: SnapshotEntry) => void): number {
    const table = walk.db.table;
    while (budget > 0) {
      const id = table.nextLiveId(walk.cursor);
      if (id < 0) return budget;
      walk.cursor = id + 1;
      budget--;
      const pre = walk.touched(id) ? walk.preImages.get(table.keyString(id)) : undefined;
      if (pre !== undefined) {
        if (!pre.written) {
          pre.written = true;
          this.#emit(walk.db.index, pre.key, pre.value!, pre.expireAt, emit);
        }
        continue;
      }
      const keyStart = table.keyStart(id);
      const valueStart = table.valueStart(id);
      this.#emit(
        walk.db.index,
        table.arena.subarray(keyStart, keyStart + table.keyLength(id)),
        table.arena.subarray(valueStart, valueStart + table.valueLength(id)),
        table.expireAt(id),
        emit,
      );
    }
    return budget;
  }

  #emit(
    db: number,
    key: Uint8Array,
    value: Uint8Array,
    expireAt: number,
    emit: (entry: SnapshotEntry) => void,
  ): void {
    if (expireAt >= 0 && expireAt <= this.startedAt) return;
    emit({ db, key, value, expireAt });
  }

  #abort(): void {
    this.#aborted = true;
    this.close();
  }

  /** Ends the snapshot: databases stop reporting changes to it. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#guarded) { for (const walk of this.#walks) walk.db.setGuard(null); }
  }
}
