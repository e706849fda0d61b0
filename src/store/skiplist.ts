/**
 * The order-statistic skiplist behind large sorted sets (Redis's zskiplist, after William
 * Pugh's paper): elements ordered by score, then by member bytes (memcmp order, which is how
 * JS compares binary strings), with a span on every forward link so that an element's rank and
 * the element at a rank are found in O(log n). Level 0 is doubly linked, for reverse walks.
 *
 * Laid out as a struct of arrays rather than one object per node, as Redis's node keeps its
 * levels inline: a node is an integer id indexing {@link Skiplist}'s typed arrays (score,
 * backward link, level count, where its levels start) and a member array; each node's levels
 * are a run of slots in one Int32Array holding, per slot, the forward link and its span. A walk
 * thus reads flat typed arrays instead of chasing three heap objects per step, and inserts
 * allocate nothing on the JS heap (the arrays grow by doubling). Ids and their slot runs are
 * reused through one free list per level count; the arrays are compacted when most ids are free.
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
/** Node ids an empty list has room for (the header included) before it grows. */
const INITIAL_NODES = 64;
/** Fewest ids in use for which a mostly free list is worth compacting. */
const COMPACT_MIN_NODES = 1024;

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

/** The arrays {@link Skiplist} keeps its nodes in (see their fields), as compaction reads them. */
interface Layout {
  scores: Float64Array;
  members: string[];
  backward: Int32Array;
  base: Int32Array;
  levels: Uint8Array;
  links: Int32Array;
}

/** The skiplist; see the module comment. */
export class Skiplist {
  /** Per id, the score. */
  #scores = new Float64Array(INITIAL_NODES);
  /** Per id, the member ("" once freed, so the string can be collected). */
  #members: string[] = [""];
  /** Per id, the previous node on level 0, or NIL for the first element. */
  #backward = new Int32Array(INITIAL_NODES);
  /** Per id, its first slot: the slot of its level i is `#base[id] + i`. */
  #base = new Int32Array(INITIAL_NODES);
  /** Per id, its number of levels. */
  #levels = new Uint8Array(INITIAL_NODES);
  /** Per slot s: at 2s the forward link, at 2s + 1 the level-0 steps that link jumps. */
  #links = new Int32Array(4 * MAX_LEVEL);
  /** Ids handed out so far (free ones included): the next new id. */
  #nodes = 1;
  /** Slots handed out so far. */
  #slots = MAX_LEVEL;
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
    return this.#links[this.#base[HEADER] << 1];
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
    return this.#links[this.#base[id] << 1];
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
    const base = this.#base;
    const scores = this.#scores;
    const members = this.#members;
    let x = HEADER;
    for (let i = this.#level - 1; i >= 0; i--) {
      rank[i] = i === this.#level - 1 ? 0 : rank[i + 1];
      for (;;) {
        const at = (base[x] + i) << 1;
        const n = links[at];
        if (n === NIL) break;
        const s = scores[n];
        if (!(s < score || (s === score && members[n] < member))) break;
        rank[i] += links[at + 1];
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
   * reinserting it. Returns its id.
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
      return x;
    }
    this.#unlink(x);
    this.#release(x);
    return this.insert(member, newScore);
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
    const base = this.#base;
    const scores = this.#scores;
    const members = this.#members;
    let rank = 0;
    let x = HEADER;
    for (let i = this.#level - 1; i >= 0; i--) {
      for (;;) {
        const at = (base[x] + i) << 1;
        const n = links[at];
        if (n === NIL) break;
        const s = scores[n];
        if (!(s < score || (s === score && members[n] <= member))) break;
        rank += links[at + 1];
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
    const base = this.#base;
    const scores = this.#scores;
    const members = this.#members;
    let rank = 0;
    let x = HEADER;
    for (let i = this.#level - 1; i >= 0; i--) {
      for (;;) {
        const at = (base[x] + i) << 1;
        const n = links[at];
        if (n === NIL) break;
        const below = byMember
          ? members[n] < member || (inclusive && members[n] === member)
          : scores[n] < score || (inclusive && scores[n] === score);
        if (!below) break;
        rank += links[at + 1];
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
    const base = this.#base;
    const scores = this.#scores;
    const members = this.#members;
    let x = HEADER;
    for (let i = this.#level - 1; i >= 0; i--) {
      for (;;) {
        const n = links[(base[x] + i) << 1];
        if (n === NIL) break;
        const s = scores[n];
        if (!(s < score || (s === score && members[n] < member))) break;
        x = n;
      }
      update[i] = x;
    }
    const found = links[base[x] << 1];
    return found !== NIL && scores[found] === score && members[found] === member ? found : NIL;
  }

  /**
   * Fills {@link #update} with, per level, the last node of rank at most `rank` (1-based; the
   * header is rank 0); returns the level-0 one.
   */
  #predecessorsOfRank(rank: number): number {
    const update = this.#update;
    const links = this.#links;
    const base = this.#base;
    let traversed = 0;
    let x = HEADER;
    for (let i = this.#level - 1; i >= 0; i--) {
      for (;;) {
        const at = (base[x] + i) << 1;
        const n = links[at];
        if (n === NIL || traversed + links[at + 1] > rank) break;
        traversed += links[at + 1];
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
      const headerBase = this.#base[HEADER];
      for (let i = this.#level; i < level; i++) {
        rank[i] = 0;
        update[i] = HEADER;
        this.#links[((headerBase + i) << 1) + 1] = this.#length;
      }
      this.#level = level;
    }
    const node = this.#allocate(member, score, level);
    const links = this.#links;
    const base = this.#base;
    const nodeBase = base[node];
    for (let i = 0; i < level; i++) {
      const mine = (nodeBase + i) << 1;
      const theirs = (base[update[i]] + i) << 1;
      links[mine] = links[theirs];
      links[theirs] = node;
      links[mine + 1] = links[theirs + 1] - (rank[0] - rank[i]);
      links[theirs + 1] = rank[0] - rank[i] + 1;
    }
    for (let i = level; i < this.#level; i++) links[((base[update[i]] + i) << 1) + 1]++;
    this.#backward[node] = update[0];
    const next = links[nodeBase << 1];
    if (next !== NIL) this.#backward[next] = node;
    else this.#tail = node;
    this.#length++;
    return node;
  }

  /** Unlinks `x`, whose predecessors per level {@link #update} holds (Redis's zslDeleteNode). */
  #unlink(x: number): void {
    const update = this.#update;
    const links = this.#links;
    const base = this.#base;
    const xBase = base[x];
    for (let i = 0; i < this.#level; i++) {
      const theirs = (base[update[i]] + i) << 1;
      if (links[theirs] === x) {
        const mine = (xBase + i) << 1;
        links[theirs + 1] += links[mine + 1] - 1;
        links[theirs] = links[mine];
      } else links[theirs + 1]--;
    }
    const next = links[xBase << 1];
    if (next !== NIL) this.#backward[next] = this.#backward[x];
    else this.#tail = this.#backward[x];
    const headerBase = base[HEADER];
    while (this.#level > 1 && links[(headerBase + this.#level - 1) << 1] === NIL) this.#level--;
    this.#length--;
  }

  /** A node id of `level` levels holding (member, score): a freed one, or a new one. */
  #allocate(member: string, score: number, level: number): number {
    const free = this.#free[level];
    let node: number;
    if (free !== undefined && free.length > 0) node = free.pop()!;
    else {
      node = this.#nodes++;
      this.#reserve(node + 1, this.#slots + level);
      this.#base[node] = this.#slots;
      this.#levels[node] = level;
      this.#slots += level;
    }
    this.#scores[node] = score;
    this.#members[node] = member;
    return node;
  }

  /** Gives the unlinked node `x` back, for a node of as many levels to reuse. */
  #release(x: number): void {
    this.#members[x] = "";
    (this.#free[this.#levels[x]] ??= []).push(x);
  }

  /** Grows the arrays, by doubling, to hold at least `nodes` ids and `slots` slots. */
  #reserve(nodes: number, slots: number): void {
    let capacity = this.#scores.length;
    if (nodes > capacity) {
      while (nodes > capacity) capacity *= 2;
      this.#scores = grown(this.#scores, capacity);
      this.#backward = grown(this.#backward, capacity);
      this.#base = grown(this.#base, capacity);
      this.#levels = grown(this.#levels, capacity);
    }
    let slotCapacity = this.#links.length >> 1;
    if (slots > slotCapacity) {
      while (slots > slotCapacity) slotCapacity *= 2;
      this.#links = grown(this.#links, slotCapacity << 1);
    }
  }

  /** Compacts the arrays when at most a quarter of the ids handed out are in use. */
  #compactIfSparse(): void {
    if (this.#nodes >= COMPACT_MIN_NODES && this.#length * 4 <= this.#nodes) this.#compact();
  }

  /**
   * Renumbers the elements 1..length in order into arrays sized for them, freeing the rest:
   * O(length), paid for by the (at least 3 * length) removals since the arrays last grew.
   */
  #compact(): void {
    const old: Layout = {
      scores: this.#scores,
      members: this.#members,
      backward: this.#backward,
      base: this.#base,
      levels: this.#levels,
      links: this.#links,
    };
    const renumbered = new Int32Array(this.#nodes);
    let slots = MAX_LEVEL;
    for (let x = this.first, id = 1; x !== NIL; x = this.next(x), id++) {
      renumbered[x] = id;
      slots += old.levels[x];
    }
    let capacity = INITIAL_NODES;
    while (capacity < 2 * (this.#length + 1)) capacity *= 2;
    this.#scores = new Float64Array(capacity);
    this.#members = [];
    this.#backward = new Int32Array(capacity);
    this.#base = new Int32Array(capacity);
    this.#levels = new Uint8Array(capacity);
    this.#links = new Int32Array(4 * slots);
    this.#slots = 0;
    for (let x = HEADER, id = 0; id <= this.#length; x = old.links[old.base[x] << 1], id++) {
      this.#copyNode(old, x, renumbered);
    }
    this.#tail = this.#length === 0 ? NIL : this.#length;
    this.#nodes = this.#length + 1;
    this.#free = [];
  }

  /** Appends node `x` of the `old` arrays as node `renumbered[x]`, its links renumbered. */
  #copyNode(old: Layout, x: number, renumbered: Int32Array): void {
    const id = renumbered[x];
    const level = old.levels[x];
    const from = old.base[x];
    this.#scores[id] = old.scores[x];
    this.#members.push(old.members[x]);
    this.#backward[id] = renumbered[old.backward[x]];
    this.#base[id] = this.#slots;
    this.#levels[id] = level;
    for (let i = 0; i < level; i++) {
      const source = (from + i) << 1;
      const target = (this.#slots + i) << 1;
      this.#links[target] = renumbered[old.links[source]];
      this.#links[target + 1] = old.links[source + 1];
    }
    this.#slots += level;
  }
}
