/**
 * One numbered database: keys to values, with their TTLs and access data, stored in a
 * {@link KeyTable} (typed arrays and a byte arena, see there for why). Keys and values cross
 * this API as binary strings (one character per byte, see `toBinaryString`) or, on hot paths,
 * as byte ranges. Every read goes through {@link Database.get} or {@link Database.find}, which
 * apply lazy expiry: an expired key is never returned.
 */

import { KeyTable } from "./key_table.ts";
import type { SlotIndex } from "./slot_index.ts";
import { now as clockNow } from "../util/clock.ts";
import { toBinaryString } from "../util/bytes.ts";
import type { CollectionValue } from "./collection.ts";

/**
 * A stored value. Strings are binary strings; the other Redis types are collection objects
 * (collection.ts), so `typeof value === "string"` is the type tag for strings.
 */
export type StoredValue = string | CollectionValue;

/**
 * What the database records about accesses, as the eviction policy needs: recency (each
 * entry's access stamp is its last access time, sampled against other keys as Redis's
 * approximated LRU does) or frequency (Redis's logarithmic LFU counter in the same field).
 * "none" records recency too, for OBJECT IDLETIME.
 */
export type AccessTracking = "none" | "lru" | "lfu";

/** Redis's LFU parameters: initial counter, log factor and decay period (minutes). */
const LFU_INIT = 5;
const LFU_LOG_FACTOR = 10;
const LFU_DECAY_MINUTES = 1;
/** Candidates the sampled policies remember between evictions (Redis's EVPOOL_SIZE). */
const EVICTION_POOL_SIZE = 16;
/**
 * Step added to an access stamp that would otherwise tie with the previous one (many accesses
 * within one millisecond), so LRU order stays exact; 2^-12 ms is one ulp of a current epoch time.
 */
const STAMP_STEP = 1 / 4096;

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
  /**
   * Changes made by commands (Redis's `server.dirty`): a write command that moved it changed
   * the dataset and is propagated. Removals by expiry and eviction are not counted here; they
   * are propagated on their own (see {@link KeyspaceEvents}).
   */
  dirty: number;
}

/**
 * What happens to a key whose TTL has passed when it is looked up: `delete` removes it (a
 * leader); `hide` reports it missing but keeps it, and `keep` still returns it (a follower,
 * which waits for its leader's DEL: `keep` while it applies the leader's own commands, so
 * they act on exactly the dataset the leader saw, as Redis's replicas do).
 */
export type ExpiryMode = "delete" | "hide" | "keep";

/** Callbacks the keyspace makes for changes no command asked for, and how expiry behaves. */
export interface KeyspaceEvents {
  /** A key of database `db` is about to be removed because it expired or was evicted. */
  removed: ((db: number, key: Uint8Array, why: "expired" | "evicted") => void) | null;
  /** How lookups treat keys past their TTL. */
  expiry: ExpiryMode;
  /**
   * A collection was stored under `key` of database `db` (created, or replacing a value): how
   * clients blocked on a missing key learn that it may serve them (server/blocked_keys.ts).
   */
  collectionStored?: ((db: number, key: string) => void) | null;
  /**
   * A key was created in database `db` (keyspace notifications' `new` event); null unless
   * someone listens, so that creating a key costs nothing more otherwise.
   */
  keyCreated?: ((db: number, key: Uint8Array) => void) | null;
}

/**
 * Told about changes while a point-in-time snapshot of the database is being walked, before
 * they happen, so the snapshot can keep what it has not written yet (see snapshot.ts).
 */
export interface ChangeGuard {
  /** The existing entry `id` is about to change or be removed. */
  beforeChange(id: number): void;
  /** The whole database is about to be emptied or swapped with another. */
  beforeReset(): void;
}

/** A client WATCHing keys: its flag is set when one of them is touched. */
export interface KeyWatcher {
  /** Set when a watched key was written, expired, evicted or flushed. */
  watchTouched: boolean;
}

/** An eviction candidate remembered between evictions. */
interface PoolEntry {
  id: number;
  generation: number;
  score: number;
}

/** A database; see the module comment. */
export class Database {
  /** Its index (SELECT n). */
  readonly index: number;
  readonly #counters: KeyspaceCounters;
  readonly #events: KeyspaceEvents;
  #table = new KeyTable();
  #tracking: AccessTracking = "none";
  #lastStamp = 0;
  #expireCursor = 0;
  #guard: ChangeGuard | null = null;
  #guards: ChangeGuard[] = [];
  /**
   * Clients watching keys of this database (WATCH), or null when none does; for each, whether
   * the key was already logically expired when watched (Redis's `watchedKey.expired`).
   */
  #watchers: Map<string, Map<KeyWatcher, boolean>> | null = null;
  /** Best eviction candidates seen so far, lowest score first (Redis's eviction pool). */
  #pool: PoolEntry[] = [];

  /** Creates an empty database sharing `counters` and `events` with its siblings. */
  constructor(index: number, counters: KeyspaceCounters, events: KeyspaceEvents) {
    this.index = index;
    this.#counters = counters;
    this.#events = events;
  }

  /** Number of keys, including expired ones not yet removed (as Redis's DBSIZE). */
  get size(): number {
    return this.#table.size;
  }

  /** Number of keys with a TTL. */
  get volatileCount(): number {
    return this.#table.volatileCount;
  }

  /** Bytes the keys, values and TTLs occupy (see memory.ts). */
  get bytes(): number {
    return this.#table.usedBytes;
  }

  /** Bytes the storage has reserved, used or not (arena and tables; for fragmentation). */
  get reservedBytes(): number {
    return this.#table.reservedBytes;
  }

  /** The underlying table, for byte-level fast paths that read values in place. */
  get table(): KeyTable {
    return this.#table;
  }

  /** Makes room for `count` keys in all and `bytes` more of keys and values (load hints). */
  reserve(count: number, bytes = 0): void {
    this.#table.reserve(count, bytes);
  }

  /**
   * Keeps an index of keys by cluster hash slot from now on (cluster mode, database 0), so that
   * {@link countKeysInSlot} is O(1) and {@link keysInSlot} O(count) rather than a scan.
   */
  indexSlots(): void {
    this.#table.indexSlots();
  }

  /**
   * Number of keys in cluster hash slot `slot` (0 <= slot < 16384), expired keys not yet removed
   * included, as Redis counts them. Needs the index ({@link indexSlots}: cluster mode).
   */
  countKeysInSlot(slot: number): number {
    return this.#slotIndex().count(slot);
  }

  /**
   * Up to `count` keys of cluster hash slot `slot`, newest first as Redis 7.0 lists them,
   * expired keys not yet removed included. Needs the index ({@link indexSlots}).
   */
  keysInSlot(slot: number, count: number): string[] {
    const table = this.#table;
    const index = this.#slotIndex();
    const keys: string[] = [];
    for (let id = index.first(slot); id >= 0 && keys.length < count; id = index.next(id)) {
      keys.push(table.keyString(id));
    }
    return keys;
  }

  /**
   * The id of the newest entry of cluster hash slot `slot`, or -1; with {@link nextIdInSlot},
   * a walk of the slot's entries (expired ones not yet removed included) that stays right
   * until the next write. Needs the index ({@link indexSlots}).
   */
  firstIdInSlot(slot: number): number {
    return this.#slotIndex().first(slot);
  }

  /** The entry after `id` in its slot's walk (see {@link firstIdInSlot}), or -1. */
  nextIdInSlot(id: number): number {
    return this.#slotIndex().next(id);
  }

  /** Entry `id`'s key as a view of its bytes, right only until the next write. */
  keyBytes(id: number): Uint8Array {
    const table = this.#table;
    const start = table.keyStart(id);
    return table.arena.subarray(start, start + table.keyLength(id));
  }

  /** Entry `id`'s key as a binary string. */
  keyString(id: number): string {
    return this.#table.keyString(id);
  }

  #slotIndex(): SlotIndex {
    const index = this.#table.slotIndex;
    if (index === null) throw new Error("keys by slot are indexed in cluster mode only");
    return index;
  }

  /**
   * Starts telling `watcher` when `key` is written, expires or is evicted (WATCH). A key that is
   * already logically expired is remembered as such: as in Redis, its removal by expiry is then
   * no change, while any write to it is.
   */
  watch(key: string, watcher: KeyWatcher, now: number): void {
    this.#watchers ??= new Map();
    let watching = this.#watchers.get(key);
    if (watching === undefined) this.#watchers.set(key, watching = new Map());
    watching.set(watcher, this.#expiredKey(key, now));
  }

  /** Stops telling `watcher` about `key` (UNWATCH, EXEC, DISCARD, disconnect). */
  unwatch(key: string, watcher: KeyWatcher): void {
    const watching = this.#watchers?.get(key);
    if (watching === undefined) return;
    watching.delete(watcher);
    if (watching.size === 0) this.#watchers!.delete(key);
    if (this.#watchers!.size === 0) this.#watchers = null;
  }

  /**
   * Whether `watcher`'s watched `key`, live when watched, has logically expired since, deleted
   * or not: EXEC then fails, as Redis's `isWatchedKeyExpired` decides.
   */
  watchedKeyExpired(key: string, watcher: KeyWatcher, now: number): boolean {
    return this.#watchers?.get(key)?.get(watcher) === false && this.#expiredKey(key, now);
  }

  /** Whether `key` is present but logically expired. */
  #expiredKey(key: string, now: number): boolean {
    const id = this.#table.findString(key);
    if (id < 0) return false;
    const at = this.#table.expireAt(id);
    return at >= 0 && at <= now;
  }

  /**
   * Before the entry `id` (or, when `id` is -1, the absent key `key` about to be created)
   * changes: the snapshot guard keeps its old value, and its watchers are told.
   */
  #changing(id: number, key?: Uint8Array | string, removing = false): void {
    if (id >= 0) this.#guard?.beforeChange(id);
    const watchers = this.#watchers;
    if (watchers === null) return;
    let name: string;
    if (id >= 0) name = this.#table.keyString(id);
    else if (typeof key === "string") name = key;
    else if (key !== undefined) name = toBinaryString(key);
    else return;
    const watching = watchers.get(name);
    if (watching === undefined) return;
    for (const [watcher, expiredWhenWatched] of watching) {
      // A key already expired when watched and now removed (by expiry, DEL, eviction, or a
      // follower's copy of its leader's DEL): no logical change, as in Redis.
      if (expiredWhenWatched && removing) watching.set(watcher, false);
      else watcher.watchTouched = true;
    }
  }

  /** Before the entry `id` is removed (expiry, DEL, eviction): {@link #changing} for removals. */
  #removing(id: number): void {
    this.#changing(id, undefined, true);
  }

  /**
   * Before this database is emptied (or swapped with `other`): touches the watched keys that
   * exist here (or in `other`), as Redis's touchAllWatchedKeysInDb.
   */
  #touchAllWatched(other?: Database): void {
    if (this.#watchers === null) return;
    const now = clockNow();
    for (const [name, watching] of this.#watchers) {
      const here = this.#table.findString(name) >= 0;
      const there = other !== undefined && other.#table.findString(name) >= 0;
      if (!here && !there) continue;
      const expiredThere = there && other!.#expiredKey(name, now);
      for (const [watcher, expiredWhenWatched] of watching) {
        if (expiredWhenWatched) {
          // An expired key gone (flushed, or swapped for nothing): no logical change; one
          // swapped for another expired key: still expired.
          if (!there) {
            watching.set(watcher, false);
            continue;
          }
          if (expiredThere) continue;
        } else if (!here && expiredThere) {
          // A missing key swapped for an expired one: as good as still missing.
          watching.set(watcher, true);
          continue;
        }
        watcher.watchTouched = true;
      }
    }
  }

  /**
   * Installs the guard of a snapshot that starts. Snapshots may overlap (a BGSAVE and a
   * follower's full copy): each gets told of every change.
   */
  addGuard(guard: ChangeGuard): void {
    this.#guards.push(guard);
    this.#installGuards();
  }

  /** Removes the guard of a snapshot that ended. */
  removeGuard(guard: ChangeGuard): void {
    this.#guards = this.#guards.filter((g) => g !== guard);
    this.#installGuards();
  }

  #installGuards(): void {
    const guards = this.#guards;
    // The write path calls one guard (or none) whatever the number of snapshots.
    this.#guard = guards.length === 0 ? null : guards.length === 1 ? guards[0] : {
      beforeChange: (id) => {
        for (const g of guards) g.beforeChange(id);
      },
      beforeReset: () => {
        for (const g of guards) g.beforeReset();
      },
    };
  }

  /** Chooses what accesses record (set by the keyspace from `maxmemory-policy`). */
  setTracking(tracking: AccessTracking): void {
    const wasLfu = this.#tracking === "lfu";
    this.#tracking = tracking;
    if (wasLfu === (tracking === "lfu")) return;
    const t = clockNow();
    const fresh = tracking === "lfu" ? minutes(t) * 256 + LFU_INIT : t;
    for (const id of this.#table.ids()) this.#table.setAccess(id, fresh);
    this.#pool = [];
  }

  /**
   * The id of the live entry for `key[start, end)`, or -1, deleting the key if it has expired
   * (no stats, no access recorded). The id is valid until the next write.
   */
  find(key: Uint8Array, start: number, end: number, now: number): number {
    const id = this.#table.find(key, start, end);
    if (id < 0 || this.#table.volatileCount === 0) return id;
    return this.#liveOrExpire(id, now);
  }

  /**
   * As {@link find}, counting a keyspace hit or miss and, unless `noTouch` (CLIENT NO-TOUCH),
   * recording the access for eviction and OBJECT IDLETIME.
   */
  readId(key: Uint8Array, start: number, end: number, now: number, noTouch = false): number {
    const id = this.find(key, start, end, now);
    this.#counted(id, now, noTouch);
    return id;
  }

  /**
   * The value of a live key, or undefined; counts a keyspace hit or miss and, unless
   * `noTouch` (CLIENT NO-TOUCH), records the access for eviction.
   */
  read(key: string, now: number, noTouch = false): StoredValue | undefined {
    const id = this.#findString(key, now);
    this.#counted(id, now, noTouch);
    return id < 0 ? undefined : this.valueOf(id);
  }

  /**
   * The arena holding entry `id`'s value when it is bytes (a string), or null for the object
   * of another type. With {@link valueStart} and {@link valueLength}: a view of the value that
   * stays right only until the next write (GET replies with it; see resp BytesRangeReply).
   */
  valueArena(id: number): Uint8Array | null {
    return this.#table.objectOf(id) === undefined ? this.#table.arena : null;
  }

  /** Offset of entry `id`'s value bytes in {@link valueArena} (re-read after any write). */
  valueStart(id: number): number {
    return this.#table.valueStart(id);
  }

  /** Length of entry `id`'s value bytes. */
  valueLength(id: number): number {
    return this.#table.valueLength(id);
  }

  /** The value of entry `id`: a binary string, or the object of another type. */
  valueOf(id: number): StoredValue {
    const object = this.#table.objectOf(id);
    return object === undefined ? this.#table.valueString(id) : object;
  }

  #counted(id: number, now: number, noTouch: boolean): void {
    if (id < 0) this.#counters.misses++;
    else {
      this.#counters.hits++;
      if (!noTouch) this.#touchId(id, now);
    }
  }

  /** Records an access to an existing key (TOUCH). */
  touch(key: string, now: number): void {
    const id = this.#table.findString(key);
    if (id >= 0) this.#touchId(id, now);
  }

  #touchId(id: number, now: number): void {
    const table = this.#table;
    if (this.#tracking === "lfu") table.setAccess(id, lfuIncrement(table.access(id), now));
    else table.setAccess(id, this.#stamp(now));
  }

  /** An access stamp for `now`: later than every stamp given before. */
  #stamp(now: number): number {
    const stamp = now > this.#lastStamp ? now : this.#lastStamp + STAMP_STEP;
    this.#lastStamp = stamp;
    return stamp;
  }

  /**
   * Sets a key's access record as RESTORE's IDLETIME and FREQ give it (Redis's
   * `objectSetLRUOrLFU`): the LFU counter under LFU tracking, the idle time otherwise; a hint
   * that is -1, or that does not apply to the tracking in force, is ignored. An idle time
   * reaching before 1970 is cut there (Redis's 24-bit LRU clock wraps instead).
   */
  setAccessHint(key: string, idleSeconds: number, frequency: number, now: number): void {
    // No hint for this policy (RESTORE without IDLETIME or FREQ): nothing to look up.
    if (this.#tracking === "lfu" ? frequency < 0 : idleSeconds < 0) return;
    const id = this.#table.findString(key);
    if (id < 0) return;
    if (this.#tracking === "lfu") {
      if (frequency >= 0) this.#table.setAccess(id, minutes(now) * 256 + frequency);
    } else if (idleSeconds >= 0) this.#table.setAccess(id, Math.max(0, now - idleSeconds * 1000));
  }

  /** Redis's LFU counter of a key (0-255) after decay, for OBJECT FREQ; undefined if untracked. */
  frequency(key: string, now: number): number | undefined {
    if (this.#tracking !== "lfu") return undefined;
    const id = this.#table.findString(key);
    return id < 0 ? undefined : lfuDecayed(this.#table.access(id), now);
  }

  /** Milliseconds since a key was last accessed (OBJECT IDLETIME); undefined under LFU. */
  idleMs(key: string, now: number): number | undefined {
    if (this.#tracking === "lfu") return undefined;
    const id = this.#table.findString(key);
    return id < 0 ? undefined : Math.max(0, now - this.#table.access(id));
  }

  /** The value of a live key, or undefined, deleting the key if it has expired (no stats). */
  get(key: string, now: number): StoredValue | undefined {
    const id = this.#findString(key, now);
    return id < 0 ? undefined : this.valueOf(id);
  }

  /**
   * The id of the live entry for `key` (a binary string), or -1, deleting the key if it has
   * expired (no stats, no access recorded). The id is valid until the next write.
   */
  findLive(key: string, now: number): number {
    return this.#findString(key, now);
  }

  /** Whether a live key exists (lazy expiry applies). */
  has(key: string, now: number): boolean {
    return this.#findString(key, now) >= 0;
  }

  #findString(key: string, now: number): number {
    const id = this.#table.findString(key);
    if (id < 0 || this.#table.volatileCount === 0) return id;
    return this.#liveOrExpire(id, now);
  }

  #liveOrExpire(id: number, now: number): number {
    const at = this.#table.expireAt(id);
    if (at < 0 || at > now) return id;
    const mode = this.#events.expiry;
    if (mode === "delete") {
      this.#expire(id);
      return -1;
    }
    return mode === "keep" ? id : -1;
  }

  /** Removes a key whose TTL passed, telling the listener first. */
  #expire(id: number): void {
    this.#removing(id);
    this.#announceRemoval(id, "expired");
    this.#table.remove(id);
    this.#counters.expiredKeys++;
  }

  #announceRemoval(id: number, why: "expired" | "evicted"): void {
    const removed = this.#events.removed;
    if (removed === null) return;
    const start = this.#table.keyStart(id);
    removed(this.index, this.#table.arena.slice(start, start + this.#table.keyLength(id)), why);
  }

  /** Deletes the entry `id` chosen by {@link evictionCandidate}, telling the listener first. */
  evictId(id: number): void {
    this.#removing(id);
    this.#announceRemoval(id, "evicted");
    this.#table.remove(id);
  }

  /** Stores a value. The key's TTL is removed unless `keepTtl` (SET ... KEEPTTL, APPEND). */
  set(key: string, value: StoredValue, keepTtl = false, now = clockNow()): void {
    this.#counters.dirty++;
    const table = this.#table;
    let id = table.findString(key);
    this.#changing(id, key);
    const isString = typeof value === "string";
    if (id < 0) {
      id = table.insertStrings(key, isString ? value : "");
      this.#created(id, now);
    } else {
      if (isString) table.setValueString(id, value);
      this.#overwritten(id, keepTtl, now);
    }
    if (!isString) {
      table.setObject(id, value);
      this.#events.collectionStored?.(this.index, key);
    }
  }

  /**
   * Stores `value[vStart, vEnd)` under `key[kStart, kEnd)` (the byte-level {@link set}); returns
   * the entry's id, valid until the next write.
   */
  setBytes(
    key: Uint8Array,
    kStart: number,
    kEnd: number,
    value: Uint8Array,
    vStart: number,
    vEnd: number,
    keepTtl: boolean,
    now: number,
  ): number {
    this.#counters.dirty++;
    const table = this.#table;
    const id = table.find(key, kStart, kEnd);
    this.#changing(id, this.#watchers === null ? undefined : key.subarray(kStart, kEnd));
    if (id < 0) {
      const created = table.insert(key, kStart, kEnd, value, vStart, vEnd);
      this.#created(created, now);
      return created;
    }
    table.setValue(id, value, vStart, vEnd);
    this.#overwritten(id, keepTtl, now);
    return id;
  }

  /**
   * Replaces the value of the live entry `id` with `value[start, end)`, as {@link setBytes} does
   * for a key it finds (for callers that already hold the id).
   */
  setValueAt(
    id: number,
    value: Uint8Array,
    start: number,
    end: number,
    keepTtl: boolean,
    now: number,
  ): void {
    this.#counters.dirty++;
    this.#changing(id);
    this.#table.setValue(id, value, start, end);
    this.#overwritten(id, keepTtl, now);
  }

  /**
   * Overwrites one byte of the live entry `id`'s string value in place (SETBIT inside the
   * value): a write like {@link setValueAt} (dirty count, WATCH, snapshots), keeping the TTL,
   * without copying the value.
   */
  setValueByte(id: number, index: number, byte: number, now: number): void {
    this.#counters.dirty++;
    this.#changing(id);
    this.#table.setValueByte(id, index, byte);
    this.#overwritten(id, true, now);
  }

  #created(id: number, now: number): void {
    const stamp = this.#tracking === "lfu" ? minutes(now) * 256 + LFU_INIT : this.#stamp(now);
    this.#table.setAccess(id, stamp);
    const keyCreated = this.#events.keyCreated;
    if (keyCreated != null) {
      const start = this.#table.keyStart(id);
      keyCreated(this.index, this.#table.arena.slice(start, start + this.#table.keyLength(id)));
    }
  }

  #overwritten(id: number, keepTtl: boolean, now: number): void {
    const table = this.#table;
    if (this.#tracking === "lfu") table.setAccess(id, lfuIncrement(table.access(id), now));
    else table.setAccess(id, this.#stamp(now));
    if (!keepTtl && table.volatileCount > 0) table.clearExpire(id);
  }

  /**
   * Before a command changes the collection stored under the existing `key` in place (HSET on
   * a hash that exists, LPUSH on a list, ...): tells the snapshots and the watchers, and returns
   * the collection's `bytes`, to hand back to {@link endUpdate} once the change is made. Call it
   * only when something will change, since {@link endUpdate} counts a change.
   */
  beginUpdate(key: string): number {
    const table = this.#table;
    const id = table.findString(key);
    const object = id < 0 ? undefined : table.objectOf(id);
    if (object === undefined) throw new Error("beginUpdate: the key holds no collection");
    this.#changing(id);
    return object.bytes;
  }

  /**
   * After a command changed the collection under `key` in place ({@link beginUpdate} gave
   * `bytesBefore`): counts `changes` (Redis's `server.dirty`, which also makes the command
   * propagate), records the access, and deletes the key if the collection is now empty, as
   * Redis never keeps an empty collection. Returns whether the key was deleted.
   */
  endUpdate(key: string, bytesBefore: number, changes = 1, now = clockNow()): boolean {
    const table = this.#table;
    const id = table.findString(key);
    const object = table.objectOf(id) as CollectionValue;
    this.#counters.dirty += changes;
    table.objectResized(bytesBefore, object.bytes);
    if (object.size === 0) {
      table.remove(id);
      return true;
    }
    this.#overwritten(id, true, now);
    return false;
  }

  /**
   * Records that a stored collection changed its `bytes` without a logical change (a
   * conversion to another encoding that a read caused), so that `used_memory` stays exact.
   */
  collectionResized(bytesBefore: number, bytesAfter: number): void {
    this.#table.objectResized(bytesBefore, bytesAfter);
  }

  /** Deletes a key; true if it existed (even if logically expired, as Redis's dbDelete). */
  delete(key: string): boolean {
    const id = this.#table.findString(key);
    if (id < 0) return false;
    this.#removing(id);
    this.#table.remove(id);
    this.#counters.dirty++;
    return true;
  }

  /** Deletes the entry `id` (from {@link find} or {@link evictionCandidate}). */
  deleteId(id: number): void {
    this.#removing(id);
    this.#table.remove(id);
    this.#counters.dirty++;
  }

  /** The absolute expiry time (ms) of a key, or undefined when it has none. */
  expireAt(key: string): number | undefined {
    if (this.#table.volatileCount === 0) return undefined;
    const id = this.#table.findString(key);
    const at = id < 0 ? -1 : this.#table.expireAt(id);
    return at < 0 ? undefined : at;
  }

  /** The absolute expiry time (ms) of the live entry `id`, or undefined when it has none. */
  expireAtId(id: number): number | undefined {
    const at = this.#table.expireAt(id);
    return at < 0 ? undefined : at;
  }

  /** Sets the absolute expiry time (ms) of an existing key. */
  setExpireAt(key: string, at: number): void {
    const id = this.#table.findString(key);
    if (id < 0) return;
    this.#changing(id);
    this.#table.setExpire(id, at);
    this.#counters.dirty++;
  }

  /** Sets the absolute expiry time (ms) of the live entry `id` (from {@link find}). */
  setExpireAtId(id: number, at: number): void {
    this.#changing(id);
    this.#table.setExpire(id, at);
    this.#counters.dirty++;
  }

  /** Removes a key's TTL; true if it had one. */
  persist(key: string): boolean {
    const id = this.#table.findString(key);
    if (id < 0 || this.#table.expireAt(id) < 0) return false;
    this.#changing(id);
    this.#table.clearExpire(id);
    this.#counters.dirty++;
    return true;
  }

  /** Every key, live or not yet removed (callers filter with {@link get}); do not write while
   * iterating. */
  *keys(): Generator<string> {
    const table = this.#table;
    for (const id of table.ids()) yield table.keyString(id);
  }

  /**
   * One step of SCAN from `cursor`: calls `visit` with the keys of one bucket and returns the
   * next cursor, 0 when the scan is complete (see `KeyTable.scanStep`).
   */
  scanStep(cursor: number, visit: (key: string) => void): number {
    const table = this.#table;
    return table.scanStep(cursor, (id) => visit(table.keyString(id)));
  }

  /** A random live key, or undefined when the database is empty; expired picks are deleted. */
  randomKey(now: number): string | undefined {
    const table = this.#table;
    // A follower does not delete expired picks: after 100 of them, one is returned anyway, as
    // Redis's replicas do, instead of looping forever over a database of expired keys.
    for (let tries = 0; table.size > 0; tries++) {
      const pick = table.randomId();
      const id = this.#liveOrExpire(pick, now);
      if (id >= 0) return table.keyString(id);
      if (tries >= 100 && this.#events.expiry !== "delete") return table.keyString(pick);
    }
    return undefined;
  }

  /**
   * Average remaining TTL in ms of keys that have one (INFO keyspace `avg_ttl`), estimated from
   * up to `sample` of them as Redis also estimates it; 0 when none.
   */
  averageTtl(now: number, sample = 1000): number {
    const table = this.#table;
    let sum = 0;
    let n = 0;
    for (let i = 0; i < table.volatileCount && n < sample; i++) {
      const at = table.expireAt(table.volatileAt(i));
      if (at > now) {
        sum += at - now;
        n++;
      }
    }
    return n === 0 ? 0 : Math.round(sum / n);
  }

  /** Deletes every key. */
  clear(): void {
    this.#guard?.beforeReset();
    this.#touchAllWatched();
    this.#counters.dirty += this.#table.size + 1;
    this.#table.clear();
    this.#pool = [];
    this.#expireCursor = 0;
  }

  /** Exchanges all contents with another database (SWAPDB). */
  swapWith(other: Database): void {
    this.#guard?.beforeReset();
    other.#guard?.beforeReset();
    this.#touchAllWatched(other);
    other.#touchAllWatched(this);
    [this.#table, other.#table] = [other.#table, this.#table];
    this.#pool = [];
    other.#pool = [];
    this.#expireCursor = other.#expireCursor = 0;
  }

  /**
   * The id of the key the eviction policy would remove from this database, or -1 when it has
   * no candidate (no keys; no keys with a TTL for a volatile policy). Random policies take a
   * random key; the others add `samples` random keys to a pool of the best candidates kept
   * between evictions and take the best from it, as Redis does: the oldest access for LRU, the
   * lowest LFU counter, or the nearest expiry for volatile-ttl.
   */
  evictionCandidate(policy: string, samples: number, now: number): number {
    const table = this.#table;
    const volatile = policy.startsWith("volatile-");
    const population = volatile ? table.volatileCount : table.size;
    if (population === 0) return -1;
    if (policy.endsWith("-random")) return volatile ? table.randomVolatileId() : table.randomId();
    const score = (id: number) =>
      policy === "volatile-ttl"
        ? table.expireAt(id)
        : policy.endsWith("-lfu")
        ? lfuDecayed(table.access(id), now)
        : table.access(id);
    const pool = this.#pool;
    // A population no larger than the sample is taken whole, as Redis's dictGetSomeKeys does.
    const whole = population <= samples;
    for (let i = 0; i < (whole ? population : samples); i++) {
      const id = whole
        ? (volatile ? table.volatileAt(i) : this.#nthId(i))
        : (volatile ? table.randomVolatileId() : table.randomId());
      if (pool.some((c) => c.id === id)) continue;
      const candidate = { id, generation: table.generation(id), score: score(id) };
      if (pool.length < EVICTION_POOL_SIZE) pool.push(candidate);
      else if (candidate.score < pool[pool.length - 1].score) pool[pool.length - 1] = candidate;
      else continue;
      pool.sort((a, b) => a.score - b.score);
    }
    while (pool.length > 0) {
      const { id, generation, score: remembered } = pool.shift()!;
      if (!table.isLive(id) || table.generation(id) !== generation) continue;
      if (volatile && table.expireAt(id) < 0) continue;
      // A key accessed since it was sampled is no longer the candidate it was.
      if (score(id) !== remembered) continue;
      return id;
    }
    return -1;
  }

  #nthId(n: number): number {
    for (const id of this.#table.ids()) if (n-- === 0) return id;
    return -1;
  }

  /**
   * One round of active expiry, like Redis's `activeExpireCycle`: looks at up to `sample` keys
   * with a TTL (continuing where the last round stopped) and deletes the expired ones.
   * Returns how many were looked at and how many expired, so the caller can decide whether to
   * run another round.
   */
  expireSample(sample: number, now: number): { checked: number; expired: number } {
    const table = this.#table;
    const limit = Math.min(sample, table.volatileCount);
    let checked = 0;
    let expired = 0;
    let i = this.#expireCursor;
    while (checked < limit && table.volatileCount > 0) {
      if (i >= table.volatileCount) i = 0;
      const id = table.volatileAt(i);
      checked++;
      if (table.expireAt(id) <= now) {
        // The last listed id moves into position i: look at i again.
        this.#expire(id);
        expired++;
      } else i++;
    }
    this.#expireCursor = i;
    return { checked, expired };
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
