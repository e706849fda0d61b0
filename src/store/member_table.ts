/**
 * A chained hash table of distinct binary strings (one character per byte) over dense arrays,
 * the "hashtable" encoding of sets (set_value.ts) and hashes (hash_value.ts, which keeps the
 * values in an array parallel to {@link MemberTable.members}).
 *
 * Entry i is `members[i]` with its hash `hashes[i]` and chain link `next[i]`; `heads[bucket]`
 * starts each chain (-1: empty). Removing an entry moves the last one into its place, so the
 * entries stay dense: a uniformly random member is one index pick (Redis's
 * `dictGetFairRandomKey`), and SCAN walks buckets in Redis's reverse-binary cursor order.
 *
 * Why not a `Map<string, number>`: measured here (100k members of 20 bytes, lookups of fresh
 * strings as the request parser makes them), a Map lookup costs 780-900 ns, almost all cache
 * misses over its table and entries, and this table 250-430 ns; HSET on a 100k-field hash
 * spent a third of its time in the Map.
 *
 * Memory model ({@link MemberTable.bytes}): {@link BUCKET_BYTES} per bucket,
 * {@link TABLE_ENTRY_BYTES} per member and each member string's own bytes
 * ({@link memberBytes}). Unused tails of arrays that grow by doubling are left out, as
 * memory.ts leaves allocator slack out.
 */
import { nextScanCursor } from "./slots.ts";

/** Bytes per member besides its string: array slot, hash and chain link. */
export const TABLE_ENTRY_BYTES = 16;
/** Bytes per bucket (the head of its chain). */
export const BUCKET_BYTES = 4;
/** Smallest table, as Redis's DICT_HT_INITIAL_SIZE. */
const MIN_BUCKETS = 4;

/** Bytes a string kept in a table occupies: a 16-byte header and one byte per character, rounded up to 8. */
export function memberBytes(member: string): number {
  return (16 + member.length + 7) & ~7;
}

/** Seed of the member hash, chosen per process as Redis seeds its siphash. */
const HASH_SEED = (Math.random() * 0x100000000) >>> 0;

/** A 32-bit hash of a binary string (multiply-xor per byte, then murmur3's finalizer). */
export function hashOf(text: string): number {
  let h = HASH_SEED ^ text.length;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x5bd1e995);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** A table of distinct binary strings; see the module comment. */
export class MemberTable {
  /** The members, dense, in table order. */
  members: string[] = [];
  /** Hash of each member. */
  hashes = new Int32Array(MIN_BUCKETS);
  /** Next entry in each member's chain, -1 at the end. */
  next = new Int32Array(MIN_BUCKETS);
  /** First entry of each bucket's chain, -1 when empty. */
  heads = new Int32Array(MIN_BUCKETS).fill(-1);
  /** Sum of {@link memberBytes} over the members. */
  stringBytes = 0;

  /** Number of members. */
  get size(): number {
    return this.members.length;
  }

  /** Bytes by the memory model. */
  get bytes(): number {
    return this.heads.length * BUCKET_BYTES + this.members.length * TABLE_ENTRY_BYTES +
      this.stringBytes;
  }

  /** Index of `member`, whose hash is `hash` ({@link hashOf}), or -1. */
  find(member: string, hash: number): number {
    const { members, hashes, next } = this;
    for (let i = this.heads[hash & (this.heads.length - 1)]; i >= 0; i = next[i]) {
      if (hashes[i] === hash && members[i] === member) return i;
    }
    return -1;
  }

  /** Adds `member`; false when it was present. */
  add(member: string): boolean {
    const hash = hashOf(member);
    if (this.find(member, hash) >= 0) return false;
    this.insert(member, hash);
    return true;
  }

  /** Appends `member`, known to be absent, whose hash is `hash`; returns its index. */
  insert(member: string, hash: number): number {
    const i = this.members.length;
    if (i >= this.heads.length) this.#rehash(this.heads.length * 2);
    if (i === this.hashes.length) this.#growEntries(i * 2);
    const bucket = hash & (this.heads.length - 1);
    this.members.push(member);
    this.hashes[i] = hash;
    this.next[i] = this.heads[bucket];
    this.heads[bucket] = i;
    this.stringBytes += memberBytes(member);
    return i;
  }

  /** Removes `member`; false when it was absent. */
  delete(member: string): boolean {
    const i = this.find(member, hashOf(member));
    if (i < 0) return false;
    this.removeAt(i);
    return true;
  }

  /**
   * Removes the entry at index `i`, moving the last entry into its place (a caller keeping a
   * parallel array moves its last element the same way), and shrinks the table below 10% fill
   * (Redis's htNeedsResize) to the smallest power of two that fits.
   */
  removeAt(i: number): void {
    const member = this.members[i];
    this.#unlink(i);
    const last = this.members.length - 1;
    if (last !== i) this.#move(last, i);
    this.members.pop();
    this.stringBytes -= memberBytes(member);
    const buckets = this.heads.length;
    if (buckets > MIN_BUCKETS && last * 10 < buckets) this.#rehash(bucketsFor(last));
  }

  /** Points whatever links to entry `i` past it. */
  #unlink(i: number): void {
    const bucket = this.hashes[i] & (this.heads.length - 1);
    let at = this.heads[bucket];
    if (at === i) {
      this.heads[bucket] = this.next[i];
      return;
    }
    while (this.next[at] !== i) at = this.next[at];
    this.next[at] = this.next[i];
  }

  /** Moves entry `from` (still linked) into the free index `to`. */
  #move(from: number, to: number): void {
    const bucket = this.hashes[from] & (this.heads.length - 1);
    if (this.heads[bucket] === from) this.heads[bucket] = to;
    else {
      let at = this.heads[bucket];
      while (this.next[at] !== from) at = this.next[at];
      this.next[at] = to;
    }
    this.members[to] = this.members[from];
    this.hashes[to] = this.hashes[from];
    this.next[to] = this.next[from];
  }

  #growEntries(capacity: number): void {
    const hashes = new Int32Array(capacity);
    hashes.set(this.hashes);
    const next = new Int32Array(capacity);
    next.set(this.next);
    this.hashes = hashes;
    this.next = next;
  }

  #rehash(buckets: number): void {
    const heads = new Int32Array(buckets).fill(-1);
    const mask = buckets - 1;
    for (let i = 0; i < this.members.length; i++) {
      const bucket = this.hashes[i] & mask;
      this.next[i] = heads[bucket];
      heads[bucket] = i;
    }
    this.heads = heads;
  }

  /** Visits the indexes of the cursor's bucket; returns the next cursor (0: done). */
  scanStep(cursor: number, visit: (index: number) => void): number {
    const mask = this.heads.length - 1;
    for (let i = this.heads[cursor & mask]; i >= 0; i = this.next[i]) visit(i);
    return nextScanCursor(cursor, mask);
  }

  /** An independent copy (member strings, immutable, are shared). */
  clone(): MemberTable {
    const copy = new MemberTable();
    copy.members = this.members.slice();
    copy.hashes = this.hashes.slice();
    copy.next = this.next.slice();
    copy.heads = this.heads.slice();
    copy.stringBytes = this.stringBytes;
    return copy;
  }
}

/** The smallest power of two holding `n` entries, at least {@link MIN_BUCKETS}. */
function bucketsFor(n: number): number {
  let buckets = MIN_BUCKETS;
  while (buckets < n) buckets *= 2;
  return buckets;
}

/**
 * Member -> score over a {@link MemberTable} and an array of scores parallel to its members:
 * the dict of a skiplist-encoded sorted set (sorted_set_value.ts), with the same API as the
 * `Map<string, number>` it replaces and the table's faster lookups.
 */
export class ScoreDict {
  #table = new MemberTable();
  #scores: number[] = [];

  /** Number of members. */
  get size(): number {
    return this.#table.size;
  }

  /** `member`'s score, or undefined. */
  get(member: string): number | undefined {
    const at = this.#table.find(member, hashOf(member));
    return at < 0 ? undefined : this.#scores[at];
  }

  /** Sets `member`'s score, adding the member when absent. */
  set(member: string, score: number): void {
    const hash = hashOf(member);
    const at = this.#table.find(member, hash);
    if (at >= 0) {
      this.#scores[at] = score;
      return;
    }
    this.#table.insert(member, hash);
    this.#scores.push(score);
  }

  /** Removes `member`; false when it was absent. */
  delete(member: string): boolean {
    const at = this.#table.find(member, hashOf(member));
    if (at < 0) return false;
    this.#table.removeAt(at);
    const scores = this.#scores;
    const last = scores.length - 1;
    if (at !== last) scores[at] = scores[last];
    scores.pop();
    return true;
  }
}
