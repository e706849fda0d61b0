/**
 * The sorted set value (Redis's zset): members (binary strings) with double scores, ordered by
 * score, then by member bytes (memcmp order; JS compares binary strings that way).
 *
 * Two encodings, as Redis 7.0 has, with the same OBJECT ENCODING names:
 * - "listpack": two parallel arrays kept in order, for at most `zset-max-listpack-entries`
 *   members of at most `zset-max-listpack-value` bytes. Lookups scan or bisect them, inserts
 *   shift them: O(n) on a bounded n, as Redis's listpack, with no per-member object.
 * - "skiplist": a Map member -> score (O(1) ZSCORE) beside an order-statistic skiplist
 *   (skiplist.ts: O(log n) insert, delete, rank and access by rank).
 * A set converts from listpack to skiplist when an add crosses either limit and never converts
 * back, as Redis's zsetConvert; a set built whole (ZUNIONSTORE, ZRANGESTORE) is built by adds, so
 * it ends in the encoding Redis would choose for its final contents.
 *
 * Ranges are expressed as 0-based ranks: {@link SortedSetValue.rankByScore} and
 * {@link SortedSetValue.rankByLex} turn score and lex bounds into ranks in O(log n), and
 * {@link SortedSetValue.range} walks ranks in O(log n + m), so every range command costs what
 * it costs in Redis.
 *
 * Memory ({@link SortedSetValue.bytes}), kept up to date on every change: listpack
 * {@link LISTPACK_BASE} plus, per member, its length and {@link LISTPACK_ENTRY} (two entry
 * headers, back-lengths and the score's text); skiplist {@link SKIPLIST_BASE} plus, per member,
 * its length and {@link SKIPLIST_ENTRY} (node with its average 1.33 levels, dict entry and bucket,
 * string header), as Redis's allocations are.
 */
import { type CollectionValue, encodingLimits } from "./collection.ts";
import { Skiplist, type SkipNode } from "./skiplist.ts";

/** Bytes of an empty listpack-encoded sorted set (object header, listpack header and end). */
export const LISTPACK_BASE = 24;
/** Bytes per member of a listpack-encoded sorted set, besides the member's own bytes. */
export const LISTPACK_ENTRY = 12;
/** Bytes of an empty skiplist-encoded sorted set (object, zset, dict and skiplist header). */
export const SKIPLIST_BASE = 192;
/** Bytes per member of a skiplist-encoded sorted set, besides the member's own bytes. */
export const SKIPLIST_ENTRY = 88;

/** A member and its score. */
export type ScoredMember = [member: string, score: number];

/** The listpack encoding: parallel arrays in (score, member) order. */
interface Packed {
  members: string[];
  scores: number[];
}

/** The skiplist encoding: member -> score, and the ordered list. */
interface Indexed {
  dict: Map<string, number>;
  list: Skiplist;
}

/** Whether (score a, member a) sorts before (score b, member b). */
function sortsBefore(aScore: number, aMember: string, bScore: number, bMember: string): boolean {
  return aScore < bScore || (aScore === bScore && aMember < bMember);
}

/** A sorted set; see the module comment. */
export class SortedSetValue implements CollectionValue {
  /** Redis's type name. */
  readonly type = "zset" as const;
  #packed: Packed | null = { members: [], scores: [] };
  #indexed: Indexed | null = null;
  #bytes = LISTPACK_BASE;

  /** Number of members. */
  get size(): number {
    return this.#packed !== null ? this.#packed.members.length : this.#indexed!.dict.size;
  }

  /** Bytes by the memory model (see the module comment); O(1). */
  get bytes(): number {
    return this.#bytes;
  }

  /** OBJECT ENCODING: "listpack" or "skiplist". */
  encoding(): string {
    return this.#packed !== null ? "listpack" : "skiplist";
  }

  /** An independent copy with the same members, scores and encoding. */
  clone(): SortedSetValue {
    const copy = new SortedSetValue();
    if (this.#packed === null) copy.#convert();
    for (const [member, score] of this.entries()) copy.#insert(member, score);
    copy.#bytes = this.#bytes;
    return copy;
  }

  /**
   * Converts a listpack-encoded set to the skiplist encoding, as SORT does to the sorted sets it
   * reads (Redis's zsetConvert in sortCommandGeneric); no change to the members.
   */
  toSkiplist(): void {
    if (this.#packed !== null) this.#convert();
  }

  /**
   * Sets `member`'s score, inserting it if new (true) or moving it if its score changed
   * (false). Converts to the skiplist encoding first when the new member crosses a limit.
   */
  add(member: string, score: number): boolean {
    const old = this.score(member);
    if (old !== undefined) {
      if (old !== score) {
        this.#remove(member, old);
        this.#insert(member, score);
      }
      return false;
    }
    if (
      this.#packed !== null &&
      (this.#packed.members.length + 1 > encodingLimits.zsetMaxListpackEntries ||
        member.length > encodingLimits.zsetMaxListpackValue)
    ) this.#convert();
    this.#insert(member, score);
    this.#bytes += member.length + this.#entryOverhead();
    return true;
  }

  /** `member`'s score, or undefined when it is not a member. */
  score(member: string): number | undefined {
    if (this.#indexed !== null) return this.#indexed.dict.get(member);
    const { members, scores } = this.#packed!;
    const i = members.indexOf(member);
    return i < 0 ? undefined : scores[i];
  }

  /** Removes `member`; false when it was not a member. */
  delete(member: string): boolean {
    const score = this.score(member);
    if (score === undefined) return false;
    this.#remove(member, score);
    this.#bytes -= member.length + this.#entryOverhead();
    return true;
  }

  /** `member`'s 0-based rank in ascending order, or undefined; O(log n) (skiplist). */
  rank(member: string): number | undefined {
    if (this.#indexed !== null) {
      const score = this.#indexed.dict.get(member);
      return score === undefined ? undefined : this.#indexed.list.rank(member, score);
    }
    const i = this.#packed!.members.indexOf(member);
    return i < 0 ? undefined : i;
  }

  /** Every member with its score, ascending by (score, member bytes). */
  *entries(): IterableIterator<ScoredMember> {
    if (this.size > 0) yield* this.range(0, this.size - 1, false);
  }

  /** The member and score at 0-based rank `rank` (within bounds); O(log n). */
  at(rank: number): ScoredMember {
    if (this.#packed !== null) return [this.#packed.members[rank], this.#packed.scores[rank]];
    const node = this.#indexed!.list.at(rank);
    return [node.member, node.score];
  }

  /**
   * The members of ranks [start, end] (0-based, within bounds, start <= end): ascending from
   * start, or descending from end when `reverse`. O(log n + m).
   */
  *range(start: number, end: number, reverse: boolean): IterableIterator<ScoredMember> {
    if (this.#packed !== null) {
      const { members, scores } = this.#packed;
      if (reverse) { for (let i = end; i >= start; i--) yield [members[i], scores[i]]; }
      else for (let i = start; i <= end; i++) yield [members[i], scores[i]];
      return;
    }
    let node: SkipNode | null = this.#indexed!.list.at(reverse ? end : start);
    for (let n = end - start + 1; n > 0 && node !== null; n--) {
      yield [node.member, node.score];
      node = reverse ? node.backward : node.next[0];
    }
  }

  /**
   * The rank of the first member whose score is above `score` (`after`) or at least `score`
   * (otherwise): the number of members below that bound. O(log n).
   */
  rankByScore(score: number, after: boolean): number {
    const below = after ? (s: number) => s <= score : (s: number) => s < score;
    if (this.#indexed !== null) return this.#indexed.list.countBelow((n) => below(n.score));
    return bisect(this.#packed!.scores, below);
  }

  /**
   * The rank of the first member sorting after `member` (`after`) or at or after it
   * (otherwise), by member bytes alone: meaningful when all scores are equal, as ZRANGEBYLEX
   * requires. O(log n).
   */
  rankByLex(member: string, after: boolean): number {
    const below = after ? (m: string) => m <= member : (m: string) => m < member;
    if (this.#indexed !== null) return this.#indexed.list.countBelow((n) => below(n.member));
    return bisect(this.#packed!.members, below);
  }

  /** Removes the members of ranks [start, end] (within bounds); returns how many. */
  deleteRange(start: number, end: number): number {
    const overhead = this.#entryOverhead();
    if (this.#packed !== null) {
      const { members, scores } = this.#packed;
      for (let i = start; i <= end; i++) this.#bytes -= members[i].length + overhead;
      members.splice(start, end - start + 1);
      scores.splice(start, end - start + 1);
      return end - start + 1;
    }
    const { dict, list } = this.#indexed!;
    let removed = 0;
    list.deleteRanks(start, end, (node) => {
      dict.delete(node.member);
      this.#bytes -= node.member.length + overhead;
      removed++;
    });
    return removed;
  }

  #entryOverhead(): number {
    return this.#packed !== null ? LISTPACK_ENTRY : SKIPLIST_ENTRY;
  }

  /** Inserts a member known to be absent, without accounting. */
  #insert(member: string, score: number): void {
    if (this.#indexed !== null) {
      this.#indexed.dict.set(member, score);
      this.#indexed.list.insert(member, score);
      return;
    }
    const { members, scores } = this.#packed!;
    // Listpack zeros have no sign (Redis stores -0 as the integer 0 there).
    const stored = score === 0 ? 0 : score;
    const at = bisectPair(members, scores, stored, member);
    members.splice(at, 0, member);
    scores.splice(at, 0, stored);
  }

  /** Removes a member known to be present with `score`, without accounting. */
  #remove(member: string, score: number): void {
    if (this.#indexed !== null) {
      this.#indexed.dict.delete(member);
      this.#indexed.list.delete(member, score);
      return;
    }
    const { members, scores } = this.#packed!;
    const i = members.indexOf(member);
    members.splice(i, 1);
    scores.splice(i, 1);
  }

  /** Converts to the skiplist encoding (Redis's zsetConvert), recounting the bytes. */
  #convert(): void {
    const { members, scores } = this.#packed!;
    const dict = new Map<string, number>();
    const list = new Skiplist();
    let bytes = SKIPLIST_BASE;
    for (let i = 0; i < members.length; i++) {
      dict.set(members[i], scores[i]);
      list.insert(members[i], scores[i]);
      bytes += members[i].length + SKIPLIST_ENTRY;
    }
    this.#packed = null;
    this.#indexed = { dict, list };
    this.#bytes = bytes;
  }
}

/** The number of leading items of sorted `items` that satisfy `below` (true for a prefix). */
function bisect<T>(items: readonly T[], below: (item: T) => boolean): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (below(items[mid])) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Where (score, member) goes in the parallel sorted arrays. */
function bisectPair(members: string[], scores: number[], score: number, member: string): number {
  let lo = 0;
  let hi = members.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sortsBefore(scores[mid], members[mid], score, member)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
