/**
 * The order-statistic skiplist behind large sorted sets (Redis's zskiplist, after William
 * Pugh's paper): elements ordered by score, then by member bytes (memcmp order, which is how
 * JS compares binary strings), with a span on every forward link so that an element's rank and
 * the element at a rank are found in O(log n). Level 0 is doubly linked, for reverse walks.
 *
 * Laid out as a struct of arrays rather than one object per node, so that a step of a search
 * touches few places in memory, as a step through Redis's nodes does:
 * - a node's levels are a run of consecutive slots, and the node's id IS the index of its first
 *   slot, so no table maps ids to slots;
 * - per slot, {@link Skiplist.#links} holds the forward link and its span (level-0 steps it
 *   jumps), and {@link Skiplist.#forwardScores} the forward node's score: a search compares
 *   against the score kept with the link it reads, instead of fetching it from the next node.
 * Measured on a 100k-member set (ZADD of random members and scores, `deno task bench:path
 * --tests zadd`): 4.4 us per command with ids mapped to slot runs and scores only per node,
 * 3.4-3.8 us with this layout. Keeping links, spans and scores together in one Float64Array
 * was slower than the old layout (ids read back as doubles), so links stay 32-bit integers; one
 * buffer of 16 bytes a slot seen as both an Int32Array and a Float64Array (link, span and score
 * on one cache line) was no faster either (updateScore then rank on 100k members: 2.4-2.7 us
 * against 2.3-2.4; on 1M: 6.5-9.6 against 6.3-9.8).
 *
 * Per-node values (score, member, backward link, level count) live in arrays indexed by id,
 * so sized by slots. Ids and their slot runs are reused through one free list per level
 * count; the arrays are compacted when most slots are free.
 *
 * Id 0 is the header ({@link MAX_LEVEL} levels, no element). No link ever leads to it, so 0 also
 * means "none" ({@link NIL}) in links, and in the ids the accessors return.
 *
 * It holds no member -> score index: the sorted set keeps that beside it, and always knows an
 * element's score before it asks the list about it.
 */

/** The id standing for "no node": the end of a walk, or an empty list's first and last. */
export const NIL = 0;
/** The header's id. */
const HEADER = 0;
/** Redis's ZSKIPLIST_MAXLEVEL: enough for 2^64 elements at p = 1/4. */
const MAX_LEVEL = 32;
/** Redis's ZSKIPLIST_P: the chance that a node reaches one level more. */
const LEVEL_P = 0.25;
/** Slots an empty list has room for (the header's included) before it grows. */
const INITIAL_SLOTS = 128;
/** Fewest slots in use for which a mostly free list is worth compacting. */
const COMPACT_MIN_SLOTS = 1024;

/** Per level, the rank of the node {@link Skiplist.insert} links after; reused. */
const rankScratch = new Int32Array(MAX_LEVEL);

/** A random level in 1..MAX_LEVEL, each level more with chance {@link LEVEL_P}, as Redis's. */
function randomLevel(): number {
  let level = 1;
  while (level < MAX_LEVEL && Math.random() < LEVEL_P) level++;
  return level;
}

/** A copy of `array` in a new array of `length` elements (zero-filled past the old ones). */
function grown<T extends Int32Array | Float64Array | Uint8Array>(array: T, length: number): T {
  const copy = new (array.constructor as new (length: number) => T)(length);
  copy.set(array);
  return copy;
}

/** The skiplist; see the module comment. */
export class Skiplist {
  /** Per slot s: at 2s the forward link, at 2s + 1 its span. */
  #links = new Int32Array(2 * INITIAL_SLOTS);
  /** Per slot, the score of the node its forward link leads to. */
  #forwardScores = new Float64Array(INITIAL_SLOTS);
  /** Per id, the score. */
  #scores = new Float64Array(INITIAL_SLOTS);
  /** Per id, the member ("" for ids that hold no element). */
  #members: string[] = new Array<string>(INITIAL_SLOTS).fill("");
  /** Per id, the previous node on level 0, or NIL for the first element. */
  #backward = new Int32Array(INITIAL_SLOTS);
  /** Per id, its number of levels. */
  #levels = new Uint8Array(INITIAL_SLOTS);
  /** Slots handed out so far: where the next new node's run starts. */
  #slots = MAX_LEVEL;
  /** Slots of the nodes in the list (the header's included). */
  #slotsInUse = MAX_LEVEL;
  /** Per level count, the freed ids of that many levels (their slot runs fit a new node). */
  #free: number[][] = [];
  /** Per level, the node {@link #unlink} relinks around the removed one. */
  readonly #update = new Int32Array(MAX_LEVEL);
  #tail = NIL;
  #level = 1;
  #length = 0;

  /** Builds an empty list (its header alone). */
  constructor() {
    this.#levels[HEADER] = MAX_LEVEL;
  }

  /** Number of elements. */
  get length(): number {
    return this.#length;
  }

  /** The first element's id, or NIL. */
  get first(): number {
    return this.#links[HEADER * 2];
  }

  /** The last element's id, or NIL. */
  get last(): number {
    return this.#tail;
  }

  /** The member of the element `id`. */
  member(id: number): string {
    return this.#members[id];
  }

  /** The score of the element `id`. */
  score(id: number): number {
    return this.#scores[id];
  }

  /** The element after `id` in order, or NIL: for forward walks. */
  next(id: number): number {
    return this.#links[id * 2];
  }

  /** The element before `id` in order, or NIL: for reverse walks. */
  previous(id: number): number {
    return this.#backward[id];
  }

  /** Inserts an element that is not in the list yet, in O(log n); returns its id. */
  insert(member: string, score: number): number {
    const update = this.#update;
    const rank = rankScratch;
    const links = this.#links;
    const forwardScores = this.#forwardScores;
    const members = this.#members;
    let x = HEADER;
    for (let i = this.#level - 1; i >= 0; i--) {
      rank[i] = i === this.#level - 1 ? 0 : rank[i + 1];
      for (;;) {
        const at = x + i;
        const n = links[at * 2];
        if (n === NIL) break;
        const s = forwardScores[at];
        if (!(s < score || (s === score && members[n] < member))) break;
        rank[i] += links[at * 2 + 1];
        x = n;
      }
      update[i] = x;
    }
    return this.#link(member, score, randomLevel());
  }

  /** Removes the element (member, score); false if it is not there. O(log n). */
  delete(member: string, score: number): boolean {
    const x = this.#find(member, score);
    if (x === NIL) return false;
    this.#unlink(x);
    this.#release(x);
    this.#compactIfSparse();
    return true;
  }

  /**
   * Changes the score of the element (member, oldScore), which must be there, to `newScore`;
   * in place when its position does not change (Redis's zslUpdateScore), else by removing and
   * reinserting it. Returns its id. The element keeps the member string it holds: `member` is
   * usually a request's argument, still in V8's young generation, and storing it instead would
   * have it copied twice on its way to the old one (ZADD of random scores on a 100k-member set,
   * `-P 16`: scavenges 203 to 50 ms per 400k requests, the server 9.3 to 7.2 us of CPU a request in
   * one A/B run; in process, `deno task bench:path --tests zadd`, 4.4-4.7 to 3.1-3.7 us).
   */
  updateScore(member: string, oldScore: number, newScore: number): number {
    const x = this.#find(member, oldScore);
    if (x === NIL) throw new RangeError("skiplist updateScore of an absent element");
    const back = this.#backward[x];
    const next = this.next(x);
    const scores = this.#scores;
    const members = this.#members;
    if (
      (back === NIL || scores[back] < newScore ||
        (scores[back] === newScore && members[back] < member)) &&
      (next === NIL || scores[next] > newScore ||
        (scores[next] === newScore && members[next] > member))
    ) {
      scores[x] = newScore;
      // The links into x carry its score: those of its predecessors on each of its levels.
      const update = this.#update;
      const forwardScores = this.#forwardScores;
      const level = this.#levels[x];
      for (let i = 0; i < level; i++) forwardScores[update[i] + i] = newScore;
      return x;
    }
    const kept = members[x];
    this.#unlink(x);
    this.#release(x);
    return this.insert(kept, newScore);
  }

  /**
   * Removes the elements of 0-based ranks [start, end] (within bounds), calling `removed` with
   * each member and score (it must not change the list); O(log n + m).
   */
  deleteRanks(
    start: number,
    end: number,
    removed: (member: string, score: number) => void,
  ): void {
    let node = this.next(this.#predecessorsOfRank(start));
    for (let rank = start; node !== NIL && rank <= end; rank++) {
      const following = this.next(node);
      const member = this.#members[node];
      const score = this.#scores[node];
      this.#unlink(node);
      this.#release(node);
      removed(member, score);
      node = following;
    }
    this.#compactIfSparse();
  }

  /** The 0-based rank of the element (member, score), or -1; O(log n). */
  rank(member: string, score: number): number {
    const links = this.#links;
    const forwardScores = this.#forwardScores;
    const members = this.#members;
    let rank = 0;
    let x = HEADER;
    for (let i = this.#level - 1; i >= 0; i--) {
      for (;;) {
        const at = x + i;
        const n = links[at * 2];
        if (n === NIL) break;
        const s = forwardScores[at];
        if (!(s < score || (s === score && members[n] <= member))) break;
        rank += links[at * 2 + 1];
        x = n;
      }
      if (x !== HEADER && members[x] === member) return rank - 1;
    }
    return -1;
  }

  /** The id of the element at 0-based `rank` (which must be within bounds); O(log n). */
  at(rank: number): number {
    if (!(rank >= 0 && rank < this.#length)) {
      throw new RangeError(`skiplist rank ${rank} out of range`);
    }
    return this.#predecessorsOfRank(rank + 1);
  }

  /**
   * How many elements score below `score` (or at most `score` when `inclusive`): the rank of
   * the first element past that bound. O(log n).
   */
  countScoresBelow(score: number, inclusive: boolean): number {
    return this.#countBelow(false, score, "", inclusive);
  }

  /**
   * How many elements have a member below `member` (or at most `member` when `inclusive`) in
   * memcmp order, by member alone: meaningful when all scores are equal, as ZRANGEBYLEX
   * requires. O(log n).
   */
  countMembersBelow(member: string, inclusive: boolean): number {
    return this.#countBelow(true, 0, member, inclusive);
  }

  /** {@link countScoresBelow} (by score) or {@link countMembersBelow} (`byMember`). */
  #countBelow(byMember: boolean, score: number, member: string, inclusive: boolean): number {
    const links = this.#links;
    const forwardScores = this.#forwardScores;
    const members = this.#members;
    let rank = 0;
    let x = HEADER;
    for (let i = this.#level - 1; i >= 0; i--) {
      for (;;) {
        const at = x + i;
        const n = links[at * 2];
        if (n === NIL) break;
        const below = byMember
          ? members[n] < member || (inclusive && members[n] === member)
          : forwardScores[at] < score || (inclusive && forwardScores[at] === score);
        if (!below) break;
        rank += links[at * 2 + 1];
        x = n;
      }
    }
    return rank;
  }

  /**
   * Fills {@link #update} with, per level, the last node before (member, score); returns the
   * element (member, score) itself, or NIL when it is not there.
   */
  #find(member: string, score: number): number {
    const update = this.#update;
    const links = this.#links;
    const forwardScores = this.#forwardScores;
    const members = this.#members;
    let x = HEADER;
    for (let i = this.#level - 1; i >= 0; i--) {
      for (;;) {
        const at = x + i;
        const n = links[at * 2];
        if (n === NIL) break;
        const s = forwardScores[at];
        if (!(s < score || (s === score && members[n] < member))) break;
        x = n;
      }
      update[i] = x;
    }
    const found = links[x * 2];
    return found !== NIL && forwardScores[x] === score && members[found] === member ? found : NIL;
  }

  /**
   * Fills {@link #update} with, per level, the last node of rank at most `rank` (1-based; the
   * header is rank 0); returns the level-0 one.
   */
  #predecessorsOfRank(rank: number): number {
    const update = this.#update;
    const links = this.#links;
    let traversed = 0;
    let x = HEADER;
    for (let i = this.#level - 1; i >= 0; i--) {
      for (;;) {
        const at = x + i;
        const n = links[at * 2];
        if (n === NIL || traversed + links[at * 2 + 1] > rank) break;
        traversed += links[at * 2 + 1];
        x = n;
      }
      update[i] = x;
    }
    return x;
  }

  /**
   * Links a new node of `level` levels after the nodes {@link #update} holds, whose ranks
   * {@link rankScratch} holds (Redis's zslInsert after its search); returns its id.
   */
  #link(member: string, score: number, level: number): number {
    const update = this.#update;
    const rank = rankScratch;
    if (level > this.#level) {
      for (let i = this.#level; i < level; i++) {
        rank[i] = 0;
        update[i] = HEADER;
        this.#links[(HEADER + i) * 2 + 1] = this.#length;
      }
      this.#level = level;
    }
    const node = this.#allocate(member, score, level);
    const links = this.#links;
    const forwardScores = this.#forwardScores;
    for (let i = 0; i < level; i++) {
      const mine = node + i;
      const theirs = update[i] + i;
      links[mine * 2] = links[theirs * 2];
      forwardScores[mine] = forwardScores[theirs];
      links[theirs * 2] = node;
      forwardScores[theirs] = score;
      links[mine * 2 + 1] = links[theirs * 2 + 1] - (rank[0] - rank[i]);
      links[theirs * 2 + 1] = rank[0] - rank[i] + 1;
    }
    for (let i = level; i < this.#level; i++) links[(update[i] + i) * 2 + 1]++;
    this.#backward[node] = update[0];
    const next = links[node * 2];
    if (next !== NIL) this.#backward[next] = node;
    else this.#tail = node;
    this.#length++;
    return node;
  }

  /** Unlinks `x`, whose predecessors per level {@link #update} holds (Redis's zslDeleteNode). */
  #unlink(x: number): void {
    const update = this.#update;
    const links = this.#links;
    const forwardScores = this.#forwardScores;
    for (let i = 0; i < this.#level; i++) {
      const theirs = update[i] + i;
      if (links[theirs * 2] === x) {
        const mine = x + i;
        links[theirs * 2 + 1] += links[mine * 2 + 1] - 1;
        links[theirs * 2] = links[mine * 2];
        forwardScores[theirs] = forwardScores[mine];
      } else links[theirs * 2 + 1]--;
    }
    const next = links[x * 2];
    if (next !== NIL) this.#backward[next] = this.#backward[x];
    else this.#tail = this.#backward[x];
    while (this.#level > 1 && links[(HEADER + this.#level - 1) * 2] === NIL) this.#level--;
    this.#length--;
  }

  /** A node id of `level` levels holding (member, score): a freed one, or a new one. */
  #allocate(member: string, score: number, level: number): number {
    const free = this.#free[level];
    let node: number;
    if (free !== undefined && free.length > 0) node = free.pop()!;
    else {
      node = this.#slots;
      this.#reserve(node + level);
      this.#levels[node] = level;
      this.#slots += level;
    }
    this.#slotsInUse += level;
    this.#scores[node] = score;
    this.#members[node] = member;
    return node;
  }

  /** Gives the unlinked node `x` back, for a node of as many levels to reuse. */
  #release(x: number): void {
    this.#members[x] = "";
    const level = this.#levels[x];
    this.#slotsInUse -= level;
    (this.#free[level] ??= []).push(x);
  }

  /** Grows the arrays, by doubling, to hold at least `slots` slots. */
  #reserve(slots: number): void {
    let capacity = this.#scores.length;
    if (slots <= capacity) return;
    while (slots > capacity) capacity *= 2;
    this.#links = grown(this.#links, 2 * capacity);
    this.#forwardScores = grown(this.#forwardScores, capacity);
    this.#scores = grown(this.#scores, capacity);
    this.#backward = grown(this.#backward, capacity);
    this.#levels = grown(this.#levels, capacity);
    const members = this.#members;
    for (let i = members.length; i < capacity; i++) members.push("");
  }

  /** Compacts the arrays when at most a quarter of the slots handed out are in use. */
  #compactIfSparse(): void {
    if (this.#slots >= COMPACT_MIN_SLOTS && this.#slotsInUse * 4 <= this.#slots) this.#compact();
  }

  /**
   * Moves the elements, in order, to consecutive slot runs right after the header's, in arrays
   * sized for them, freeing the rest: O(length), paid for by the removals since the arrays last
   * grew. Links and spans are renumbered; the stored forward scores stay valid.
   */
  #compact(): void {
    const oldLinks = this.#links;
    const oldForwardScores = this.#forwardScores;
    const oldScores = this.#scores;
    const oldMembers = this.#members;
    const oldLevels = this.#levels;
    // Old id -> new id; the header (and NIL, the same 0) stays 0.
    const renumbered = new Int32Array(this.#slots);
    let slots = MAX_LEVEL;
    for (let x = this.first; x !== NIL; x = oldLinks[x * 2]) {
      renumbered[x] = slots;
      slots += oldLevels[x];
    }
    let capacity = INITIAL_SLOTS;
    while (capacity < 2 * slots) capacity *= 2;
    this.#links = new Int32Array(2 * capacity);
    this.#forwardScores = new Float64Array(capacity);
    this.#scores = new Float64Array(capacity);
    this.#members = new Array<string>(capacity).fill("");
    this.#backward = new Int32Array(capacity);
    this.#levels = new Uint8Array(capacity);
    let previous = NIL;
    for (let x = HEADER;; x = oldLinks[x * 2]) {
      const id = renumbered[x];
      const level = oldLevels[x];
      this.#scores[id] = oldScores[x];
      this.#members[id] = oldMembers[x];
      this.#levels[id] = level;
      this.#backward[id] = previous;
      for (let i = 0; i < level; i++) {
        const from = x + i;
        const to = id + i;
        this.#links[to * 2] = renumbered[oldLinks[from * 2]];
        this.#links[to * 2 + 1] = oldLinks[from * 2 + 1];
        this.#forwardScores[to] = oldForwardScores[from];
      }
      previous = id;
      if (oldLinks[x * 2] === NIL) break;
    }
    // The first element's backward link is NIL, not the header.
    const first = this.#links[HEADER * 2];
    if (first !== NIL) this.#backward[first] = NIL;
    this.#tail = this.#length === 0 ? NIL : previous;
    this.#slots = slots;
    this.#slotsInUse = slots;
    this.#free = [];
  }
}
