/**
 * The sorted set value (Redis's zset): members (binary strings) with double scores, ordered by
 * score, then by member bytes (memcmp order; JS compares binary strings that way).
 *
 * Two encodings, as Redis 7.0 has, with the same OBJECT ENCODING names:
 * - "listpack": every member packed into ONE binary string (one character per byte), in order,
 *   for at most `zset-max-listpack-entries` members of at most `zset-max-listpack-value` bytes.
 *   Each entry is a length prefix (a varint, as in hash_value.ts: 7 bits per character, high
 *   bit set on all but the last, so one character up to 127 bytes and two up to 16383), then
 *   the score's 8 bytes (see packScore: its big-endian IEEE 754 bytes, made to sort as the
 *   scores do), then the member's bytes; so an entry's characters after its prefix sort as
 *   (score, member bytes) do, and comparing them needs no decoding. As Redis's listpack, lookups
 *   walk the string and writes rewrite it: O(n) on a bounded n, with no JS object per member.
 *   Measured: 275 bytes of heap per 10-member set of 8-byte members, against 719 when the form
 *   was an array of member strings beside an array of scores.
 * - "skiplist" (Redis's name, kept): a dict member -> score (member_table.ts's ScoreDict: O(1)
 *   ZSCORE, faster than a Map) beside an order-statistic B+ tree in Redis's skiplist's place
 *   (score_tree.ts: O(log n) insert, delete, rank and access by rank, with fewer cache misses).
 * A set converts from listpack to skiplist when an add crosses either limit and never converts
 * back, as Redis's zsetConvert; a set built whole (ZUNIONSTORE, ZRANGESTORE) is built by adds, so
 * it ends in the encoding Redis would choose for its final contents.
 *
 * Ranges are expressed as 0-based ranks: {@link SortedSetValue.rankByScore} and
 * {@link SortedSetValue.rankByLex} turn score and lex bounds into ranks in O(log n), and
 * {@link SortedSetValue.range} walks ranks in O(log n + m), so every range command costs what
 * it costs in Redis; on a listpack each is one walk of the (bounded) string, then a bisection of
 * its entries for the bounds (the same probes as the former arrays', so the same ranks even when
 * scores differ under a lex bound).
 *
 * Memory ({@link SortedSetValue.bytes}) models Redis's allocations, not the JS heap, and is kept
 * exact on every change: listpack {@link LISTPACK_BASE} plus, per member, its length and
 * {@link LISTPACK_ENTRY} (two entry headers, back-lengths and the score's text); skiplist
 * {@link SKIPLIST_BASE} plus, per member, its length and {@link SKIPLIST_ENTRY} (node with its
 * average 1.33 levels, dict entry and bucket, string header).
 */
import { detached, lengthPrefix, prefixSize, readLength } from "./packed.ts";
import { type CollectionValue, encodingLimits } from "./collection.ts";
import { ScoreDict } from "./member_table.ts";
import { NIL, ScoreTree } from "./score_tree.ts";
import { flatten } from "../util/bytes.ts";

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

/** The skiplist encoding: member -> score, and the ordered list. */
interface Indexed {
  dict: ScoreDict;
  list: ScoreTree;
}

/** Characters of a packed score. */
const SCORE_LENGTH = 8;
/** Scratch through which a score becomes its 8 bytes and back. */
const scoreBuffer = new ArrayBuffer(SCORE_LENGTH);
/** {@link scoreBuffer} as a double (big-endian, so that byte order follows magnitude). */
const scoreView = new DataView(scoreBuffer);
/** {@link scoreBuffer}'s bytes. */
const scoreBytes = new Uint8Array(scoreBuffer);

/**
 * The 8 characters of `score` (not NaN; -0 is the caller's to turn into 0), ordered as the
 * scores: its big-endian IEEE 754 bytes with the sign bit flipped when positive and every bit
 * flipped when negative, so that comparing packed entries compares scores without decoding.
 */
function packScore(score: number): string {
  scoreView.setFloat64(0, score);
  const b = scoreBytes;
  if (b[0] & 0x80) { for (let i = 0; i < SCORE_LENGTH; i++) b[i] = ~b[i]; }
  else b[0] ^= 0x80;
  return String.fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
}

/** The score {@link packScore} packed at `at`. */
function readScore(packed: string, at: number): number {
  const b = scoreBytes;
  for (let i = 0; i < SCORE_LENGTH; i++) b[i] = packed.charCodeAt(at + i);
  if (b[0] & 0x80) b[0] ^= 0x80;
  else for (let i = 0; i < SCORE_LENGTH; i++) b[i] = ~b[i];
  return scoreView.getFloat64(0);
}

/** Where the body (score, then member) of the entry {@link entryEnd} read last starts. */
let bodyStart = 0;

/**
 * Offset just past the entry at `at` (its length prefix); sets {@link bodyStart} to where its
 * score starts, its member following {@link SCORE_LENGTH} characters later.
 */
function entryEnd(packed: string, at: number): number {
  const length = readLength(packed, at);
  bodyStart = at + prefixSize(length);
  return bodyStart + SCORE_LENGTH + length;
}

/** The member and score of the entry at `at`. */
function readEntry(packed: string, at: number): ScoredMember {
  const end = entryEnd(packed, at);
  return [packed.slice(bodyStart + SCORE_LENGTH, end), readScore(packed, bodyStart)];
}

/** Sign of the comparison of packed characters [start, end) with `text`, in memcmp order. */
function compareAt(packed: string, start: number, end: number, text: string): number {
  const length = end - start;
  const common = Math.min(length, text.length);
  for (let i = 0; i < common; i++) {
    const diff = packed.charCodeAt(start + i) - text.charCodeAt(i);
    if (diff !== 0) return diff;
  }
  return length - text.length;
}

/**
 * Whether the packed characters ending at `end` are `member`'s. Compared from the end: members
 * often share a prefix ("user:1", "user:2"), and a loop beats `startsWith` on short strings.
 */
function equalAt(packed: string, end: number, member: string): boolean {
  const start = end - member.length;
  for (let i = member.length - 1; i >= 0; i--) {
    if (packed.charCodeAt(start + i) !== member.charCodeAt(i)) return false;
  }
  return true;
}

/** The rank of the entry {@link findEntry} found last. */
let foundRank = 0;

/** Offset of `member`'s entry in `packed`, or -1; sets {@link foundRank} when found. */
function findEntry(packed: string, member: string): number {
  const length = member.length + SCORE_LENGTH;
  let rank = 0;
  for (let at = 0; at < packed.length; rank++) {
    const end = entryEnd(packed, at);
    if (end - bodyStart === length && equalAt(packed, end, member)) {
      foundRank = rank;
      return at;
    }
    at = end;
  }
  return -1;
}

/** Which characters of an entry a bound compares with: its packed score, member, or both. */
type Part = "score" | "member" | "body";

/** Entry offsets of the string {@link walk} read last, then its length; reused. */
const walked: number[] = [];

/** Fills {@link walked} with the offset of each entry of `packed`; returns their count. */
function walk(packed: string): number {
  let count = 0;
  for (let at = 0; at < packed.length; at = entryEnd(packed, at)) walked[count++] = at;
  walked[count] = packed.length;
  return count;
}

/**
 * The rank of the first entry of `packed` whose `part` is not below `bound` (`after` false) or
 * is above it (`after`), in memcmp order: the count of entries before that bound. One walk to
 * find the entries, then a bisection, which leaves the entry offsets in {@link walked}.
 */
function boundRank(packed: string, bound: string, after: boolean, part: Part): number {
  let lo = 0;
  let hi = walk(packed);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const end = entryEnd(packed, walked[mid]);
    const start = part === "member" ? bodyStart + SCORE_LENGTH : bodyStart;
    const order = compareAt(packed, start, part === "score" ? start + SCORE_LENGTH : end, bound);
    if (after ? order > 0 : order >= 0) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The packed string whose entry offsets {@link entryOffsets} holds. */
let offsetsOf = "";
/** The entry offsets of {@link offsetsOf}, plus its length as a last item. */
let offsets: readonly number[] = [0];

/**
 * The offset of every entry of `packed`, by rank, then `packed.length`. Cached for the last
 * string asked about (strings are immutable), so that access by rank (ZRANDMEMBER's repeated
 * picks, range walks) costs one O(n) walk per version of a set rather than one per call.
 */
function entryOffsets(packed: string): readonly number[] {
  if (packed === offsetsOf) return offsets;
  const found: number[] = [];
  for (let at = 0; at < packed.length; at = entryEnd(packed, at)) found.push(at);
  found.push(packed.length);
  offsetsOf = packed;
  offsets = found;
  return found;
}

/** A sorted set; see the module comment. */
export class SortedSetValue implements CollectionValue {
  /** Redis's type name. */
  get type(): "zset" {
    return "zset";
  }
  /** Listpack encoding: the packed entries; "" once a skiplist. */
  #packed = "";
  /** Listpack encoding: number of members. */
  #count = 0;
  /** Skiplist encoding; null while a listpack. */
  #indexed: Indexed | null = null;
  #bytes = LISTPACK_BASE;

  /** Number of members. */
  get size(): number {
    return this.#indexed === null ? this.#count : this.#indexed.dict.size;
  }

  /** Bytes by the memory model (see the module comment); O(1). */
  get bytes(): number {
    return this.#bytes;
  }

  /** OBJECT ENCODING: "listpack" or "skiplist". */
  encoding(): string {
    return this.#indexed === null ? "listpack" : "skiplist";
  }

  /** An independent copy with the same members, scores and encoding. */
  clone(): SortedSetValue {
    const copy = new SortedSetValue();
    if (this.#indexed === null) {
      copy.#packed = this.#packed;
      copy.#count = this.#count;
    } else {
      copy.#convert();
      for (const [member, score] of this.entries()) copy.#insert(member, score);
    }
    copy.#bytes = this.#bytes;
    return copy;
  }

  /**
   * Converts a listpack-encoded set to the skiplist encoding, as SORT does to the sorted sets it
   * reads (Redis's zsetConvert in sortCommandGeneric); no change to the members.
   */
  toSkiplist(): void {
    if (this.#indexed === null) this.#convert();
  }

  /**
   * Sets `member`'s score, inserting it if new (true) or moving it if its score changed
   * (false). Converts to the skiplist encoding first when the new member crosses a limit.
   */
  add(member: string, score: number): boolean {
    const old = this.score(member);
    if (old !== undefined) {
      if (old !== score) this.#move(member, old, score);
      return false;
    }
    if (
      this.#indexed === null &&
      (this.#count + 1 > encodingLimits.zsetMaxListpackEntries ||
        member.length > encodingLimits.zsetMaxListpackValue)
    ) this.#convert();
    // A member read from a listpack is a view of its packed string: a skiplist keeps a copy.
    this.#insert(this.#indexed === null ? member : detached(member), score);
    this.#bytes += member.length + this.#entryOverhead();
    return true;
  }

  /** `member`'s score, or undefined when it is not a member. */
  score(member: string): number | undefined {
    if (this.#indexed !== null) return this.#indexed.dict.get(member);
    const packed = this.#packed;
    const at = findEntry(packed, member);
    if (at < 0) return undefined;
    entryEnd(packed, at);
    return readScore(packed, bodyStart);
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
    return findEntry(this.#packed, member) < 0 ? undefined : foundRank;
  }

  /** Every member with its score, ascending by (score, member bytes). */
  *entries(): IterableIterator<ScoredMember> {
    if (this.size > 0) yield* this.range(0, this.size - 1, false);
  }

  /** The member and score at 0-based rank `rank` (within bounds); O(log n) (skiplist). */
  at(rank: number): ScoredMember {
    if (this.#indexed === null) {
      const packed = this.#packed;
      return readEntry(packed, entryOffsets(packed)[rank]);
    }
    const list = this.#indexed.list;
    const node = list.at(rank);
    return [list.member(node), list.score(node)];
  }

  /**
   * The members of ranks [start, end] (0-based, within bounds, start <= end): ascending from
   * start, or descending from end when `reverse`. O(log n + m) (skiplist).
   */
  *range(start: number, end: number, reverse: boolean): IterableIterator<ScoredMember> {
    if (this.#indexed === null) {
      const packed = this.#packed;
      const at = entryOffsets(packed);
      if (reverse) { for (let i = end; i >= start; i--) yield readEntry(packed, at[i]); }
      else for (let i = start; i <= end; i++) yield readEntry(packed, at[i]);
      return;
    }
    const list = this.#indexed.list;
    let node = list.at(reverse ? end : start);
    for (let n = end - start + 1; n > 0 && node !== NIL; n--) {
      yield [list.member(node), list.score(node)];
      node = reverse ? list.previous(node) : list.next(node);
    }
  }

  /**
   * The rank of the first member whose score is above `score` (`after`) or at least `score`
   * (otherwise): the number of members below that bound. O(log n) (skiplist).
   */
  rankByScore(score: number, after: boolean): number {
    if (this.#indexed !== null) return this.#indexed.list.countScoresBelow(score, after);
    return boundRank(this.#packed, packScore(score === 0 ? 0 : score), after, "score");
  }

  /**
   * The rank of the first member sorting after `member` (`after`) or at or after it
   * (otherwise), by member bytes alone: meaningful when all scores are equal, as ZRANGEBYLEX
   * requires. O(log n) (skiplist).
   */
  rankByLex(member: string, after: boolean): number {
    if (this.#indexed !== null) return this.#indexed.list.countMembersBelow(member, after);
    return boundRank(this.#packed, member, after, "member");
  }

  /** Removes the members of ranks [start, end] (within bounds); returns how many. */
  deleteRange(start: number, end: number): number {
    const overhead = this.#entryOverhead();
    if (this.#indexed === null) {
      const packed = this.#packed;
      const at = entryOffsets(packed);
      for (let i = start; i <= end; i++) {
        this.#bytes -= entryEnd(packed, at[i]) - bodyStart - SCORE_LENGTH + overhead;
      }
      this.#replacePacked(at[start], at[end + 1], "");
      this.#count -= end - start + 1;
      return end - start + 1;
    }
    const { dict, list } = this.#indexed;
    let removed = 0;
    list.deleteRanks(start, end, (member) => {
      dict.delete(member);
      this.#bytes -= member.length + overhead;
      removed++;
    });
    return removed;
  }

  #entryOverhead(): number {
    return this.#indexed === null ? LISTPACK_ENTRY : SKIPLIST_ENTRY;
  }

  /** Inserts a member known to be absent, without accounting. */
  #insert(member: string, score: number): void {
    if (this.#indexed !== null) {
      this.#indexed.dict.set(member, score);
      this.#indexed.list.insert(member, score);
      return;
    }
    // Listpack zeros have no sign (Redis stores -0 as the integer 0 there).
    const stored = score === 0 ? 0 : score;
    const body = packScore(stored) + member;
    const at = walked[boundRank(this.#packed, body, false, "body")];
    this.#replacePacked(at, at, lengthPrefix(member.length) + body);
    this.#count++;
  }

  /** Moves a member known to be present with score `old` to `score`, without accounting. */
  #move(member: string, old: number, score: number): void {
    if (this.#indexed === null) {
      this.#remove(member, old);
      this.#insert(member, score);
      return;
    }
    this.#indexed.dict.set(member, score);
    this.#indexed.list.updateScore(member, old, score);
  }

  /** Removes a member known to be present with `score`, without accounting. */
  #remove(member: string, score: number): void {
    if (this.#indexed !== null) {
      this.#indexed.dict.delete(member);
      this.#indexed.list.delete(member, score);
      return;
    }
    const packed = this.#packed;
    const at = findEntry(packed, member);
    this.#replacePacked(at, entryEnd(packed, at), "");
    this.#count--;
  }

  /**
   * Replaces the packed characters [start, end) with `text`. The result is flattened: V8 would
   * otherwise keep it as a tree of the parts, holding the previous version alive.
   */
  #replacePacked(start: number, end: number, text: string): void {
    const packed = this.#packed;
    this.#packed = flatten(packed.slice(0, start) + text + packed.slice(end));
  }

  /** Converts to the skiplist encoding (Redis's zsetConvert), recounting the bytes. */
  #convert(): void {
    const packed = this.#packed;
    const dict = new ScoreDict();
    const list = new ScoreTree();
    let bytes = SKIPLIST_BASE;
    for (let at = 0; at < packed.length;) {
      const end = entryEnd(packed, at);
      const member = detached(packed.slice(bodyStart + SCORE_LENGTH, end));
      const score = readScore(packed, bodyStart);
      dict.set(member, score);
      list.insert(member, score);
      bytes += member.length + SKIPLIST_ENTRY;
      at = end;
    }
    this.#packed = "";
    this.#count = 0;
    this.#indexed = { dict, list };
    this.#bytes = bytes;
  }
}
