/**
 * The set type's value (Redis's `t_set.c` object). OBJECT ENCODING answers Redis 7.0's two
 * encodings, "intset" and "hashtable"; a small "hashtable" set is kept in a third, packed form
 * (Redis 7.2's listpack set), which still answers "hashtable" since Redis 7.0 has no such thing:
 *
 * - "intset" while every member is a canonical 64-bit integer (Redis's `string2ll` rules: no
 *   sign but a minus, no leading zero, no "-0") and there are at most `set-max-intset-entries`
 *   of them: a sorted typed array whose element width grows as Redis's intset does (2, 4 and 8
 *   bytes; 8-byte values beyond 2^53 are kept in a BigInt64Array so they stay exact). Members
 *   come out in ascending numeric order, as in Redis.
 * - packed (answers "hashtable") while the set has at most {@link PACKED_MAX_ENTRIES} members of
 *   at most {@link PACKED_MAX_MEMBER} bytes each: every member in ONE binary string (one
 *   character per byte), each as a length prefix (hash_value.ts's varint: one byte below 128,
 *   else two) followed by its bytes, in insertion order. As Redis's listpack it finds, adds and
 *   deletes by a linear walk (O(n), n bounded), rewrites the string on every change, picks a
 *   random member by walking to it and gives SSCAN everything at once with cursor 0. A set of
 *   ten 8-byte members costs one ~110-byte string instead of ten strings and a table.
 * - hashtable: a chained hash table over a dense member array, so that membership is O(1), a
 *   uniformly random member is O(1) (an index into the dense array, for SPOP/SRANDMEMBER), and
 *   SSCAN walks buckets in Redis's reverse-binary cursor order, which returns every member
 *   present for the whole scan at least once, even across resizes.
 *
 * An intset leaves for the packed form when it gets a non-integer member or outgrows
 * `set-max-intset-entries`, if the result still fits the packed limits, else for the hash
 * table; a packed set turns into a hash table when an add would break its limits. Every
 * conversion is one way, for good (Redis 7.0 converts one way only).
 *
 * Memory model ({@link SetValue.bytes}, kept up to date on every change): {@link SET_OVERHEAD}
 * for the objects themselves; an intset adds Redis's 8-byte header plus its width per member;
 * the packed form adds {@link PACKED_STRING_HEADER} plus the packed string's length (members
 * and their prefixes), which is what V8 allocates for it but its rounding up to 8 bytes; a
 * hash table adds 4 bytes per bucket, `TABLE_ENTRY_BYTES` (member_table.ts) per member (its slot in the
 * member array, its cached hash and its chain link) and each member string's own bytes (a
 * 16-byte header and one byte per character, rounded up to 8). Unused tails of arrays that grow
 * by doubling are left out, as memory.ts leaves allocator slack out.
 */
import { copyRange, lengthPrefix, prefixSize, readLength } from "./packed.ts";
import { hashOf, MemberTable } from "./member_table.ts";
import { type CollectionValue, encodingLimits } from "./collection.ts";

/** Bytes counted for the value's objects whatever their contents. */
export const SET_OVERHEAD = 48;
/** Bytes of Redis's intset header (encoding and length). */
const INTSET_HEADER = 8;

/** Most members of a packed set (Redis 7.2's `set-max-listpack-entries` default). */
export const PACKED_MAX_ENTRIES = 128;
/** Longest member, in bytes, of a packed set (Redis 7.2's `set-max-listpack-value` default). */
export const PACKED_MAX_MEMBER = 64;
/** Bytes of the packed string's header (a JS one-byte string's map, hash and length). */
export const PACKED_STRING_HEADER = 16;

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

/** Offset of the first byte of the packed member at `at` whose length is `length`. */
function memberStart(at: number, length: number): number {
  return at + prefixSize(length);
}

/** Offset of the prefix of `member` in `packed`, or -1 (a linear walk, as Redis's lpFind). */
function packedFind(packed: string, member: string): number {
  const wanted = member.length;
  for (let at = 0; at < packed.length;) {
    const length = readLength(packed, at);
    const start = memberStart(at, length);
    if (length === wanted && packed.startsWith(member, start)) return at;
    at = start + length;
  }
  return -1;
}

/** Offset just past the packed member at `at`. */
function packedSkip(packed: string, at: number): number {
  const length = readLength(packed, at);
  return memberStart(at, length) + length;
}

/** The packed member at `at`, as its own string. */
function packedMemberAt(packed: string, at: number): string {
  const length = readLength(packed, at);
  const start = memberStart(at, length);
  return copyRange(packed, start, start + length);
}

/** Every packed member, in order (walks the given string, so later changes do not affect it). */
function* packedMembers(packed: string): Generator<string> {
  for (let at = 0; at < packed.length; at = packedSkip(packed, at)) {
    yield packedMemberAt(packed, at);
  }
}

/**
 * `packed` without its bytes [start, end), as a flat string: a `+` or a bare slice would leave
 * V8 a tree of parts or a view that keeps the old string alive, while joining copies.
 */
function packedWithout(packed: string, start: number, end: number): string {
  if (start === 0) return copyRange(packed, end, packed.length);
  if (end === packed.length) return copyRange(packed, 0, start);
  return [packed.slice(0, start), packed.slice(end)].join("");
}

/**
 * `packed` with `member` appended, as a flat string (measured on 10-member sets: ~190 B per
 * set this way against ~580 B when appending with `+`, whose parts V8 keeps).
 */
function packedWith(packed: string, member: string): string {
  return [packed, lengthPrefix(member.length), member].join("");
}

/** The packed string of an intset's members, in its order. */
function packInts(ints: IntSet): string {
  const parts: string[] = [];
  for (let i = 0; i < ints.length; i++) {
    const text = ints.text(i);
    parts.push(lengthPrefix(text.length), text);
  }
  return parts.join("");
}

/** A set of binary strings; see the module comment. */
export class SetValue implements CollectionValue {
  /** The Redis type name. */
  get type(): "set" {
    return "set";
  }
  /** The intset encoding, or null once converted. */
  #ints: IntSet | null = new IntSet();
  /** The hash table encoding, or null while an intset or packed. */
  #table: MemberTable | null = null;
  /** The packed form's members (see the module comment); "" unless packed. */
  #packed = "";
  /** The packed form's member count; 0 unless packed. */
  #packedCount = 0;

  /** A set of `members` (duplicates counted once), encoded as adding them one by one would. */
  static of(members: Iterable<string>): SetValue {
    const set = new SetValue();
    for (const member of members) set.add(member);
    return set;
  }

  /** Number of members. */
  get size(): number {
    if (this.#ints !== null) return this.#ints.length;
    return this.#table !== null ? this.#table.size : this.#packedCount;
  }

  /** Bytes by the memory model (see the module comment); O(1). */
  get bytes(): number {
    if (this.#ints !== null) return SET_OVERHEAD + this.#ints.bytes;
    if (this.#table !== null) return SET_OVERHEAD + this.#table.bytes;
    return SET_OVERHEAD + PACKED_STRING_HEADER + this.#packed.length;
  }

  /** OBJECT ENCODING's answer: "intset", or "hashtable" for the packed form and the table. */
  encoding(): string {
    return this.#ints !== null ? "intset" : "hashtable";
  }

  /** Whether the set is in the packed form, which OBJECT ENCODING hides (for tests). */
  get isPacked(): boolean {
    return this.#ints === null && this.#table === null;
  }

  /** An independent copy with the same members, representation and member order. */
  clone(): SetValue {
    const copy = new SetValue();
    copy.#ints = this.#ints?.clone() ?? null;
    copy.#table = this.#table?.clone() ?? null;
    copy.#packed = this.#packed;
    copy.#packedCount = this.#packedCount;
    return copy;
  }

  /**
   * Adds `member`; true when it was not there. An intset leaves its encoding when the member
   * is no canonical integer or the set outgrows `set-max-intset-entries`, as in Redis; a
   * packed set turns into a hash table when the member would break its limits.
   */
  add(member: string): boolean {
    if (this.#table !== null) return this.#table.add(member);
    if (this.#ints !== null) return this.#addToInts(this.#ints, member);
    return this.#addPacked(member);
  }

  /** Removes `member`; true when it was there. */
  delete(member: string): boolean {
    if (this.#table !== null) return this.#table.delete(member);
    const ints = this.#ints;
    if (ints === null) return this.#deletePacked(member);
    const value = canonicalInt(member);
    if (value === null) return false;
    const at = ints.indexOf(value);
    if (at < 0) return false;
    ints.removeAt(at);
    return true;
  }

  /** Whether `member` is in the set. */
  has(member: string): boolean {
    if (this.#table !== null) return this.#table.find(member, hashOf(member)) >= 0;
    const ints = this.#ints;
    if (ints === null) return packedFind(this.#packed, member) >= 0;
    const value = canonicalInt(member);
    return value !== null && ints.indexOf(value) >= 0;
  }

  /**
   * The members: ascending numeric order for an intset, insertion order for the packed form,
   * table order for a hash table. Do not change the set while iterating.
   */
  *members(): Generator<string> {
    const ints = this.#ints;
    if (ints !== null) {
      for (let i = 0; i < ints.length; i++) yield ints.text(i);
    } else if (this.#table !== null) yield* this.#table.members;
    else yield* packedMembers(this.#packed);
  }

  /**
   * A uniformly random member, the set must not be empty: O(1) for an intset or a hash table,
   * O(n) for the packed form (n <= {@link PACKED_MAX_ENTRIES}; Redis's lpRandomPair walks too).
   */
  randomMember(): string {
    const size = this.size;
    if (size === 0) throw new Error("randomMember: the set is empty");
    const pick = Math.floor(Math.random() * size);
    if (this.#ints !== null) return this.#ints.text(pick);
    if (this.#table !== null) return this.#table.members[pick];
    let at = 0;
    for (let i = 0; i < pick; i++) at = packedSkip(this.#packed, at);
    return packedMemberAt(this.#packed, at);
  }

  /**
   * One step of SSCAN from `cursor` (32-bit): calls `visit` with some members and returns the
   * next cursor, 0 when the scan is complete. An intset or a packed set gives all its members
   * at once with cursor 0, as Redis does for its compact encodings; a hash table gives one
   * bucket per step.
   */
  scanStep(cursor: number, visit: (member: string) => void): number {
    const table = this.#table;
    if (table !== null) return table.scanStep(cursor, (i) => visit(table.members[i]));
    for (const member of this.members()) visit(member);
    return 0;
  }

  /** Adds `member` to the intset `ints`, leaving the encoding when Redis would. */
  #addToInts(ints: IntSet, member: string): boolean {
    const value = canonicalInt(member);
    if (value === null) {
      const fits = ints.length < PACKED_MAX_ENTRIES && member.length <= PACKED_MAX_MEMBER;
      this.#leaveIntset(fits);
      return this.add(member);
    }
    const at = ints.indexOf(value);
    if (at >= 0) return false;
    ints.insert(value, -at - 1);
    if (ints.length > encodingLimits.setMaxIntsetEntries) {
      this.#leaveIntset(ints.length <= PACKED_MAX_ENTRIES);
    }
    return true;
  }

  /** Adds `member` to the packed form, first converting to a hash table if it would not fit. */
  #addPacked(member: string): boolean {
    if (member.length > PACKED_MAX_MEMBER) return this.#packedToTable().add(member);
    if (packedFind(this.#packed, member) >= 0) return false;
    if (this.#packedCount >= PACKED_MAX_ENTRIES) return this.#packedToTable().add(member);
    this.#packed = packedWith(this.#packed, member);
    this.#packedCount++;
    return true;
  }

  /** Removes `member` from the packed form; true when it was there. */
  #deletePacked(member: string): boolean {
    const at = packedFind(this.#packed, member);
    if (at < 0) return false;
    this.#packed = packedWithout(this.#packed, at, packedSkip(this.#packed, at));
    this.#packedCount--;
    return true;
  }

  /** Converts the intset to the packed form when `packed`, else to a hash table. */
  #leaveIntset(packed: boolean): void {
    const ints = this.#ints!;
    this.#ints = null;
    if (packed) {
      this.#packed = packInts(ints);
      this.#packedCount = ints.length;
      return;
    }
    const table = new MemberTable();
    for (let i = 0; i < ints.length; i++) table.add(ints.text(i));
    this.#table = table;
  }

  /** Converts the packed form into a hash table (Redis's setTypeConvert) and returns it. */
  #packedToTable(): MemberTable {
    const table = new MemberTable();
    for (const member of packedMembers(this.#packed)) table.add(member);
    this.#packed = "";
    this.#packedCount = 0;
    this.#table = table;
    return table;
  }
}
