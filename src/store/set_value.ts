/**
 * The set type's value (Redis's `t_set.c` object), in Redis 7.0's two encodings:
 *
 * - "intset" while every member is a canonical 64-bit integer (Redis's `string2ll` rules: no
 *   sign but a minus, no leading zero, no "-0") and there are at most `set-max-intset-entries`
 *   of them: a sorted typed array whose element width grows as Redis's intset does (2, 4 and 8
 *   bytes; 8-byte values beyond 2^53 are kept in a BigInt64Array so they stay exact). Members
 *   come out in ascending numeric order, as in Redis.
 * - "hashtable" from the first member that breaks either rule on, for good (Redis 7.0 converts
 *   one way only): a chained hash table over a dense member array, so that membership is O(1),
 *   a uniformly random member is O(1) (an index into the dense array, for SPOP/SRANDMEMBER),
 *   and SSCAN walks buckets in Redis's reverse-binary cursor order, which returns every member
 *   present for the whole scan at least once, even across resizes.
 *
 * Memory model ({@link SetValue.bytes}, kept up to date on every change): {@link SET_OVERHEAD}
 * for the objects themselves; an intset adds Redis's 8-byte header plus its width per member;
 * a hash table adds 4 bytes per bucket, {@link TABLE_ENTRY_BYTES} per member (its slot in the
 * member array, its cached hash and its chain link) and each member string's own bytes (a
 * 16-byte header and one byte per character, rounded up to 8). Unused tails of arrays that grow
 * by doubling are left out, as memory.ts leaves allocator slack out.
 */
import { type CollectionValue, encodingLimits } from "./collection.ts";

/** Bytes counted for the value's objects whatever their contents. */
export const SET_OVERHEAD = 48;
/** Bytes of Redis's intset header (encoding and length). */
const INTSET_HEADER = 8;
/** Bytes per hash table member besides its string: array slot, hash and chain link. */
export const TABLE_ENTRY_BYTES = 16;
/** Bytes per hash table bucket (the head of its chain). */
const BUCKET_BYTES = 4;
/** Smallest hash table, as Redis's DICT_HT_INITIAL_SIZE. */
const MIN_BUCKETS = 4;

/** Bytes a member string occupies in the hash table encoding (see the module comment). */
export function memberBytes(member: string): number {
  return (16 + member.length + 7) & ~7;
}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/**
 * The value of a binary string that is a canonical 64-bit integer (Redis's `string2ll`): a
 * number when it is a safe integer, a bigint beyond, or null when it is no such integer.
 */
export function canonicalInt(text: string): number | bigint | null {
  const n = text.length;
  if (n === 0 || n > 20) return null;
  const negative = text.charCodeAt(0) === 45;
  let i = negative ? 1 : 0;
  if (i === n) return null;
  const first = text.charCodeAt(i);
  if (first === 48) return n === 1 ? 0 : null;
  if (first < 49 || first > 57) return null;
  let value = 0;
  for (; i < n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    value = value * 10 + d;
  }
  if (value <= Number.MAX_SAFE_INTEGER) return negative ? -value : value;
  const exact = BigInt(text);
  return exact > INT64_MAX || exact < INT64_MIN ? null : exact;
}

/** The element arrays of an intset, narrowest first (Redis's INTSET_ENC_INT16/32/64). */
type IntArray = Int16Array | Int32Array | Float64Array | BigInt64Array;

/** Element width in bytes of each intset tier (Float64Array holds safe 8-byte integers). */
const TIER_WIDTH = [2, 4, 8, 8];

/** The narrowest tier holding `v`: 0 int16, 1 int32, 2 safe integer, 3 any int64. */
function tierOf(v: number | bigint): number {
  if (typeof v === "bigint") return 3;
  if (v >= -32768 && v <= 32767) return 0;
  if (v >= -2147483648 && v <= 2147483647) return 1;
  return 2;
}

function newIntArray(tier: number, capacity: number): IntArray {
  if (tier === 0) return new Int16Array(capacity);
  if (tier === 1) return new Int32Array(capacity);
  if (tier === 2) return new Float64Array(capacity);
  return new BigInt64Array(capacity);
}

/** A sorted array of distinct 64-bit integers in the narrowest width that holds them all. */
class IntSet {
  tier = 0;
  length = 0;
  values: IntArray = new Int16Array(4);

  /** Index of `v`, or `-(insertion point) - 1` when absent (binary search). */
  indexOf(v: number | bigint): number {
    if (tierOf(v) > this.tier) return v < 0 ? -1 : -this.length - 1;
    const values = this.values;
    const key = this.tier === 3 ? BigInt(v) : v;
    let lo = 0;
    let hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = values[mid];
      if (at < key) lo = mid + 1;
      else if (at > key) hi = mid - 1;
      else return mid;
    }
    return -lo - 1;
  }

  /** Inserts the absent `v` at `at` (from {@link indexOf}), widening the array if needed. */
  insert(v: number | bigint, at: number): void {
    const tier = tierOf(v);
    if (tier > this.tier || this.length === this.values.length) {
      this.#reallocate(Math.max(tier, this.tier), Math.max(4, this.length * 2));
    }
    const values = this.values;
    values.copyWithin(at + 1, at, this.length);
    if (this.tier === 3) (values as BigInt64Array)[at] = BigInt(v);
    else (values as Float64Array)[at] = v as number;
    this.length++;
  }

  /** Removes the element at `at`. */
  removeAt(at: number): void {
    this.values.copyWithin(at, at + 1, this.length);
    this.length--;
  }

  /** The decimal text of the element at `at`. */
  text(at: number): string {
    return String(this.values[at]);
  }

  /** Bytes by the memory model (Redis's intset blob). */
  get bytes(): number {
    return INTSET_HEADER + this.length * TIER_WIDTH[this.tier];
  }

  #reallocate(tier: number, capacity: number): void {
    const next = newIntArray(tier, capacity);
    const old = this.values;
    if (tier === 3 && this.tier !== 3) {
      for (let i = 0; i < this.length; i++) (next as BigInt64Array)[i] = BigInt(old[i]);
    } else (next as Float64Array).set(old.subarray(0, this.length) as Float64Array);
    this.values = next;
    this.tier = tier;
  }

  clone(): IntSet {
    const copy = new IntSet();
    copy.tier = this.tier;
    copy.length = this.length;
    copy.values = this.values.slice(0, Math.max(4, this.length));
    return copy;
  }
}

/** Seed of the member hash, chosen per process as Redis seeds its siphash. */
const HASH_SEED = (Math.random() * 0x100000000) >>> 0;

/** A 32-bit hash of a binary string (multiply-xor per byte, then murmur3's finalizer). */
function hashOf(text: string): number {
  let h = HASH_SEED ^ text.length;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x5bd1e995);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** `v` with its 32 bits in reverse order. */
function reverseBits(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  return ((v >>> 16) | (v << 16)) >>> 0;
}

/**
 * A chained hash table of distinct binary strings over dense arrays: entry i is `members[i]`
 * with `hashes[i]` and chain link `next[i]`; `heads[bucket]` starts each chain (-1: empty).
 * Removing an entry moves the last one into its place, so the entries stay dense.
 */
class MemberTable {
  members: string[] = [];
  hashes = new Int32Array(MIN_BUCKETS);
  next = new Int32Array(MIN_BUCKETS);
  heads = new Int32Array(MIN_BUCKETS).fill(-1);
  stringBytes = 0;

  get size(): number {
    return this.members.length;
  }

  /** Bytes by the memory model. */
  get bytes(): number {
    return this.heads.length * BUCKET_BYTES + this.members.length * TABLE_ENTRY_BYTES +
      this.stringBytes;
  }

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
    const i = this.members.length;
    if (i >= this.heads.length) this.#rehash(this.heads.length * 2);
    if (i === this.hashes.length) this.#growEntries(i * 2);
    const bucket = hash & (this.heads.length - 1);
    this.members.push(member);
    this.hashes[i] = hash;
    this.next[i] = this.heads[bucket];
    this.heads[bucket] = i;
    this.stringBytes += memberBytes(member);
    return true;
  }

  /** Removes `member`; false when it was absent. */
  delete(member: string): boolean {
    const hash = hashOf(member);
    const i = this.find(member, hash);
    if (i < 0) return false;
    this.#unlink(i);
    const last = this.members.length - 1;
    if (last !== i) this.#move(last, i);
    this.members.pop();
    this.stringBytes -= memberBytes(member);
    // Redis's htNeedsResize: shrink below 10% fill, to the smallest power of two that fits.
    const buckets = this.heads.length;
    if (buckets > MIN_BUCKETS && last * 10 < buckets) this.#rehash(bucketsFor(last));
    return true;
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

  /** Visits the members of the cursor's bucket; returns the next cursor (0: done). */
  scanStep(cursor: number, visit: (member: string) => void): number {
    const mask = this.heads.length - 1;
    for (let i = this.heads[cursor & mask]; i >= 0; i = this.next[i]) visit(this.members[i]);
    // Redis's dictScan: increment the cursor's bits above the mask in reverse order.
    return reverseBits((reverseBits((cursor | ~mask) >>> 0) + 1) >>> 0);
  }

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

/** A set of binary strings; see the module comment. */
export class SetValue implements CollectionValue {
  /** The Redis type name. */
  readonly type = "set" as const;
  /** The intset encoding, or null once converted to the hash table. */
  #ints: IntSet | null = new IntSet();
  /** The hash table encoding, or null while an intset. */
  #table: MemberTable | null = null;

  /** A set of `members` (duplicates counted once), encoded as adding them one by one would. */
  static of(members: Iterable<string>): SetValue {
    const set = new SetValue();
    for (const member of members) set.add(member);
    return set;
  }

  /** Number of members. */
  get size(): number {
    return this.#ints !== null ? this.#ints.length : this.#table!.size;
  }

  /** Bytes by the memory model (see the module comment); O(1). */
  get bytes(): number {
    return SET_OVERHEAD + (this.#ints !== null ? this.#ints.bytes : this.#table!.bytes);
  }

  /** OBJECT ENCODING's answer: "intset" or "hashtable". */
  encoding(): string {
    return this.#ints !== null ? "intset" : "hashtable";
  }

  /** An independent copy with the same members and encoding. */
  clone(): SetValue {
    const copy = new SetValue();
    copy.#ints = this.#ints?.clone() ?? null;
    copy.#table = this.#table?.clone() ?? null;
    return copy;
  }

  /**
   * Adds `member`; true when it was not there. An intset turns into a hash table when the
   * member is no canonical integer or the set outgrows `set-max-intset-entries`, as in Redis.
   */
  add(member: string): boolean {
    const ints = this.#ints;
    if (ints === null) return this.#table!.add(member);
    const value = canonicalInt(member);
    if (value === null) {
      this.#convert().add(member);
      return true;
    }
    const at = ints.indexOf(value);
    if (at >= 0) return false;
    ints.insert(value, -at - 1);
    if (ints.length > encodingLimits.setMaxIntsetEntries) this.#convert();
    return true;
  }

  /** Removes `member`; true when it was there. */
  delete(member: string): boolean {
    const ints = this.#ints;
    if (ints === null) return this.#table!.delete(member);
    const value = canonicalInt(member);
    if (value === null) return false;
    const at = ints.indexOf(value);
    if (at < 0) return false;
    ints.removeAt(at);
    return true;
  }

  /** Whether `member` is in the set. */
  has(member: string): boolean {
    const ints = this.#ints;
    if (ints === null) return this.#table!.find(member, hashOf(member)) >= 0;
    const value = canonicalInt(member);
    return value !== null && ints.indexOf(value) >= 0;
  }

  /**
   * The members: ascending numeric order for an intset, table order for a hash table. Do not
   * change the set while iterating.
   */
  *members(): Generator<string> {
    const ints = this.#ints;
    if (ints !== null) {
      for (let i = 0; i < ints.length; i++) yield ints.text(i);
    } else yield* this.#table!.members;
  }

  /** A uniformly random member, in O(1); the set must not be empty. */
  randomMember(): string {
    const size = this.size;
    if (size === 0) throw new Error("randomMember: the set is empty");
    const at = Math.floor(Math.random() * size);
    return this.#ints !== null ? this.#ints.text(at) : this.#table!.members[at];
  }

  /**
   * One step of SSCAN from `cursor` (32-bit): calls `visit` with some members and returns the
   * next cursor, 0 when the scan is complete. An intset gives all its members at once with
   * cursor 0, as Redis does for its compact encodings; a hash table gives one bucket per step.
   */
  scanStep(cursor: number, visit: (member: string) => void): number {
    const ints = this.#ints;
    if (ints === null) return this.#table!.scanStep(cursor, visit);
    for (let i = 0; i < ints.length; i++) visit(ints.text(i));
    return 0;
  }

  /** Converts the intset into a hash table (Redis's setTypeConvert) and returns the table. */
  #convert(): MemberTable {
    const ints = this.#ints!;
    const table = new MemberTable();
    for (let i = 0; i < ints.length; i++) table.add(ints.text(i));
    this.#ints = null;
    this.#table = table;
    return table;
  }
}
