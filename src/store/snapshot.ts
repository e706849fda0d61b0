/**
 * A point-in-time view of the keyspace, walked in slices while the server keeps serving: what
 * BGSAVE and BGREWRITEAOF write. Redis gets this from fork(); here every database tells the
 * snapshot before an entry changes (a `ChangeGuard`), and the snapshot copies that entry, by its
 * id, the first time, if the walk has not written it yet (copy on write, per key). The walk goes
 * over the ids that held keys when it began, in order, writing the copy of changed ones and
 * the current entry of the others; ids that were free or new then belong to keys created since
 * and are skipped. So it yields exactly the dataset of its start, however writes interleave with
 * it, and costs memory only for the keys changed while it runs (plus two bytes per id).
 *
 * A FLUSHALL, FLUSHDB or SWAPDB while a walk runs makes it {@link Snapshot.aborted}: the caller
 * starts again.
 */
import type { ChangeGuard, Database } from "./database.ts";
import type { CollectionValue } from "./collection.ts";
import type { Keyspace } from "./keyspace.ts";
import { ByteBuffer } from "../util/bytes.ts";
import { monotonicMs } from "../util/clock.ts";

/** One key as it was when the snapshot began. */
export interface SnapshotEntry {
  /** Its database. */
  db: number;
  /** Key bytes (valid until the next step). */
  key: Uint8Array;
  /** Value bytes for a string (valid until the next step); empty for a collection. */
  value: Uint8Array;
  /**
   * The value when it is a collection (a hash, list, set or sorted set), else null. Read it
   * before the next step: the server may change it afterwards.
   */
  object: CollectionValue | null;
  /** Absolute expiry time in ms, or -1 for none. */
  expireAt: number;
}

/** The walk over one database. */
class DatabaseWalk implements ChangeGuard {
  readonly db: Database;
  /** Ids below it have been written (ids of existing keys never move). */
  cursor = 0;
  /** Ids at or above it were handed out after the snapshot began. */
  readonly limit: number;
  /** Which ids held a key when the snapshot began. */
  readonly #wasLive: Uint8Array;
  /** Offset + 1 of each id's pre-image in `#preImages` (0 = unchanged so far). */
  #preImage: Int32Array | null = null;
  /** Expiry time of each id's pre-image. */
  #preExpire: Float64Array | null = null;
  /** Pre-images: key length, value length (4 bytes each, little-endian), key, value. */
  readonly #preImages = new ByteBuffer(64 * 1024);
  /** The collections of changed ids, copied (a collection's bytes are not in the arena). */
  #preObjects: Map<number, CollectionValue> | null = null;
  /** Ids whose pre-image is kept. */
  retained = 0;
  #onReset: () => void;

  constructor(db: Database, onReset: () => void) {
    this.db = db;
    this.#onReset = onReset;
    const table = db.table;
    this.limit = table.idLimit;
    this.#wasLive = new Uint8Array(this.limit);
    for (let id = table.nextLiveId(0); id >= 0; id = table.nextLiveId(id + 1)) {
      this.#wasLive[id] = 1;
    }
  }

  /** Whether `id` held a key when the snapshot began. */
  wasLive(id: number): boolean {
    return id < this.limit && this.#wasLive[id] === 1;
  }

  /**
   * Copies the entry of a key that existed at the start and has not been written yet, the
   * first time it is about to change: what the walk will write for it. Keys created since
   * need nothing: their ids were free or new when the snapshot began.
   */
  beforeChange(id: number): void {
    if (id < this.cursor || id >= this.limit || this.#wasLive[id] === 0) return;
    this.#preImage ??= new Int32Array(this.limit);
    if (this.#preImage[id] !== 0) return;
    this.#preExpire ??= new Float64Array(this.limit);
    const table = this.db.table;
    const out = this.#preImages;
    const keyLength = table.keyLength(id);
    const valueLength = table.valueLength(id);
    this.#preImage[id] = out.length + 1;
    this.#preExpire[id] = table.expireAt(id);
    out.reserve(8 + keyLength + valueLength);
    const b = out.bytes;
    let p = out.length;
    for (const n of [keyLength, valueLength]) {
      b[p++] = n & 0xff;
      b[p++] = (n >>> 8) & 0xff;
      b[p++] = (n >>> 16) & 0xff;
      b[p++] = n >>> 24;
    }
    b.set(table.arena.subarray(table.keyStart(id), table.keyStart(id) + keyLength), p);
    p += keyLength;
    b.set(table.arena.subarray(table.valueStart(id), table.valueStart(id) + valueLength), p);
    out.length = p + valueLength;
    const object = table.objectOf(id);
    if (object !== undefined) (this.#preObjects ??= new Map()).set(id, object.clone());
    this.retained++;
  }

  /** The kept entry of `id` as key and value views and expiry, or null when unchanged. */
  preImageOf(
    id: number,
  ):
    | { key: Uint8Array; value: Uint8Array; object: CollectionValue | null; expireAt: number }
    | null {
    const at = this.#preImage === null ? 0 : this.#preImage[id];
    if (at === 0) return null;
    const b = this.#preImages.bytes;
    const p = at - 1;
    const keyLength = b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
    const valueLength = b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24);
    const keyStart = p + 8;
    return {
      key: b.subarray(keyStart, keyStart + keyLength),
      value: b.subarray(keyStart + keyLength, keyStart + keyLength + valueLength),
      object: this.#preObjects?.get(id) ?? null,
      expireAt: this.#preExpire![id],
    };
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
    if (guarded) { for (const walk of this.#walks) walk.db.addGuard(walk); }
  }

  /** Whether a FLUSHALL, FLUSHDB or SWAPDB made the snapshot unusable. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Keys whose old values the snapshot holds on to right now (its copy-on-write cost). */
  get retainedKeys(): number {
    let n = 0;
    for (const walk of this.#walks) n += walk.retained;
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
      budget = this.#walkTable(this.#walks[this.#current], budget, emit);
      if (budget <= 0) return true;
      this.#current++;
    }
    this.close();
    return false;
  }

  /**
   * Walks the ids one database had when the snapshot began, writing each key's kept entry if
   * it changed and its current one if not; returns the budget left (0 or less: not finished).
   */
  #walkTable(walk: DatabaseWalk, budget: number, emit: (entry: SnapshotEntry) => void): number {
    const table = walk.db.table;
    const index = walk.db.index;
    while (budget > 0 && walk.cursor < walk.limit) {
      const id = walk.cursor++;
      if (!walk.wasLive(id)) continue;
      budget--;
      const pre = walk.preImageOf(id);
      if (pre !== null) {
        this.#emit(index, pre.key, pre.value, pre.object, pre.expireAt, emit);
        continue;
      }
      const keyStart = table.keyStart(id);
      const valueStart = table.valueStart(id);
      this.#emit(
        index,
        table.arena.subarray(keyStart, keyStart + table.keyLength(id)),
        table.arena.subarray(valueStart, valueStart + table.valueLength(id)),
        table.objectOf(id) ?? null,
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
    object: CollectionValue | null,
    expireAt: number,
    emit: (entry: SnapshotEntry) => void,
  ): void {
    if (expireAt >= 0 && expireAt <= this.startedAt) return;
    emit({ db, key, value, object, expireAt });
  }

  #abort(): void {
    this.#aborted = true;
    this.close();
  }

  /** Ends the snapshot: databases stop reporting changes to it. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#guarded) { for (const walk of this.#walks) walk.db.removeGuard(walk); }
  }
}
