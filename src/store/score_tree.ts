/**
 * The ordered index behind large sorted sets: an order-statistic B+ tree of (score, member)
 * elements, ordered by score, then by member bytes (memcmp order, which is how JS compares
 * binary strings), with each child's element count kept in its parent so that an element's rank
 * and the element at a rank are found in O(log n). It plays the part of Redis's zskiplist, and
 * offers what the skiplist did: insert, delete, score updates, rank, access by rank, counts
 * below a score or a member bound, and walks both ways from any element.
 *
 * Why a B+ tree rather than Redis's skiplist: a skiplist search takes about 2 log4(n) steps, each
 * to a node elsewhere in memory, so on a large set nearly every step is a cache miss; here a
 * search takes one step per level (four levels, the leaves' included, up to about 300k
 * elements), each a bisection inside one node's contiguous separators or one leaf's scores. Measured in process against the
 * skiplist this replaced (links, spans and forward scores in typed arrays, already laid out for
 * few misses), random members and scores, two runs each: on 100k members a score update (what a
 * ZADD of an existing member does) 1.43-1.59 us to 0.84-0.96, rank 0.53-0.85 to 0.27-0.33, access
 * by rank 0.21-0.25 to 0.11-0.14; on 1M members 4.8-5.7 us to 2.2-2.4, 2.6-2.9 to 0.85-0.90 and
 * 1.2-1.4 to 0.30-0.35; popping the first element 156-256 ns to 153-169 (leaves of 16 or 64 and
 * nodes of 64 measured within 10% of these 32s). Memory, 1M members at random scores, member
 * strings left out: 23 bytes a member against the skiplist's 77.
 *
 * Layout, as a struct of arrays (no object per node or element):
 * - a leaf holds up to {@link LEAF_CAPACITY} elements in order, its scores in a Float64Array
 *   and its members in an array, both at `leaf * LEAF_CAPACITY + i` counted across the chunks
 *   of {@link CHUNK_LEAVES} leaves they are kept in; leaves are doubly linked in order;
 * - an internal node holds up to {@link FANOUT} children: per child its id, its element count
 *   and its separator, the smallest key it may hold (child 0's is never read: it takes every key
 *   below child 1's). A key goes to the last child whose separator is at most the key, so a
 *   deletion never has to update a separator.
 * Leaves split in halves when full, except that an element added at either end of a full leaf
 * starts a leaf of its own (members added in score order, as timestamps are, leave full leaves
 * behind); a leaf or node left under a quarter full merges with a neighbour under the same
 * parent when both fit in three quarters of one; a root with one child gives way to it. Leaf
 * slots grow a chunk at a time, the rest by doubling; all is rebuilt smaller when at most a
 * quarter of the leaves there is room for are in use.
 *
 * An element's id ({@link ScoreTree.at}, {@link ScoreTree.first}, ...) is its place,
 * `leaf * LEAF_CAPACITY + index + 1`, so 0 means "none" ({@link NIL}); an id stays valid until
 * the next change to the tree.
 */

/** The id standing for "no element": the end of a walk, or an empty tree's first and last. */
export const NIL = 0;
/** Elements a leaf holds at most (a power of two: ids split into leaf and index by shifts). */
const LEAF_CAPACITY = 32;
const LEAF_SHIFT = 5;
/**
 * Leaves per storage chunk: leaf slots live in chunks of this many leaves (512 kB of scores), so
 * that a large set grows by adding a chunk instead of copying all its elements into arrays twice
 * the size: with one array per field, the first 5000 inserts after filling a 1M-member set in
 * score order cost 12-13 us each (the copy), later ones 1.0-1.6. The first chunk starts small
 * and doubles up to this size, so a small set stays small.
 */
const CHUNK_SHIFT = 11;
const CHUNK_LEAVES = 1 << CHUNK_SHIFT;
/** A slot's chunk is `slot >> CHUNK_SLOT_SHIFT`, its place there `slot & CHUNK_SLOT_MASK`. */
const CHUNK_SLOT_SHIFT = CHUNK_SHIFT + LEAF_SHIFT;
const CHUNK_SLOT_MASK = (1 << CHUNK_SLOT_SHIFT) - 1;
/** Children an internal node holds at most. */
const FANOUT = 32;
/** Levels above the leaves that a search can record; far more than 2^31 elements need. */
const MAX_HEIGHT = 48;
/** Leaves the arrays start with room for. */
const INITIAL_LEAVES = 4;
/** Fewest leaves of room for which a mostly empty tree is worth rebuilding smaller. */
const REBUILD_MIN_LEAVES = 256;

/** Where `leaf`'s slots start in its chunk. */
function offsetOf(leaf: number): number {
  return (leaf & (CHUNK_LEAVES - 1)) * LEAF_CAPACITY;
}

/** `(s1, m1)` sorts strictly before `(s2, m2)`. */
function before(s1: number, m1: string, s2: number, m2: string): boolean {
  return s1 < s2 || (s1 === s2 && m1 < m2);
}

/**
 * The first i in [lo, hi) whose element (`scores[base + i]`, `members[base + i]`) is not below
 * the bound of {@link ScoreTree.countScoresBelow} (`score`, or with `byMember` `member`; at most
 * it when `inclusive`), or hi; the elements below it come first.
 */
function firstNotBelow(
  scores: Float64Array,
  members: readonly string[],
  base: number,
  lo: number,
  hi: number,
  byMember: boolean,
  score: number,
  member: string,
  inclusive: boolean,
): number {
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const s = scores[base + mid];
    const m = members[base + mid];
    const isBelow = byMember
      ? m < member || (inclusive && m === member)
      : s < score || (inclusive && s === score);
    if (isBelow) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A copy of `array` in a new array of `length` elements (zero-filled past the old ones). */
function grown<T extends Int32Array | Float64Array>(array: T, length: number): T {
  const copy = new (array.constructor as new (length: number) => T)(length);
  copy.set(array);
  return copy;
}

/** The tree; see the module comment. */
export class ScoreTree {
  /** Per chunk, per leaf slot, the score. */
  #scoreChunks = [new Float64Array(INITIAL_LEAVES * LEAF_CAPACITY)];
  /** Per chunk, per leaf slot, the member ("" in unused slots). */
  #memberChunks = [new Array<string>(INITIAL_LEAVES * LEAF_CAPACITY).fill("")];
  /** Per leaf, its element count. */
  #counts = new Int32Array(INITIAL_LEAVES);
  /** Per leaf, the next and the previous leaf in order, or -1. */
  #nextLeaf = new Int32Array(INITIAL_LEAVES);
  #previousLeaf = new Int32Array(INITIAL_LEAVES);
  /** Leaf ids handed out so far, and the freed ones to reuse. */
  #leavesMade = 0;
  #freeLeaves: number[] = [];

  /** Per internal node slot: the child's id, its element count and its separator. */
  #children = new Int32Array(FANOUT);
  #childCounts = new Int32Array(FANOUT);
  #separatorScores = new Float64Array(FANOUT);
  #separatorMembers: string[] = new Array<string>(FANOUT).fill("");
  /** Per internal node, its number of children. */
  #sizes = new Int32Array(1);
  #nodesMade = 0;
  #freeNodes: number[] = [];

  /** The root: a leaf when {@link #height} is 0, else an internal node. */
  #root = 0;
  /** Levels of internal nodes above the leaves. */
  #height = 0;
  #firstLeaf = 0;
  #lastLeaf = 0;
  #length = 0;

  /** Per level (1 = the leaves' parents), the node a search went through and the child taken. */
  readonly #pathNodes = new Int32Array(MAX_HEIGHT + 1);
  readonly #pathChildren = new Int32Array(MAX_HEIGHT + 1);

  /** Builds an empty tree: one empty leaf as its root. */
  constructor() {
    this.#root = this.#newLeaf();
    this.#firstLeaf = this.#lastLeaf = this.#root;
    this.#nextLeaf[this.#root] = this.#previousLeaf[this.#root] = -1;
  }

  /** Number of elements. */
  get length(): number {
    return this.#length;
  }

  /** The first element's id, or NIL. */
  get first(): number {
    return this.#length === 0 ? NIL : this.#firstLeaf * LEAF_CAPACITY + 1;
  }

  /** The last element's id, or NIL. */
  get last(): number {
    const leaf = this.#lastLeaf;
    return this.#length === 0 ? NIL : leaf * LEAF_CAPACITY + this.#counts[leaf];
  }

  /** The member of the element `id`. */
  member(id: number): string {
    const slot = id - 1;
    return this.#memberChunks[slot >> CHUNK_SLOT_SHIFT][slot & CHUNK_SLOT_MASK];
  }

  /** The score of the element `id`. */
  score(id: number): number {
    const slot = id - 1;
    return this.#scoreChunks[slot >> CHUNK_SLOT_SHIFT][slot & CHUNK_SLOT_MASK];
  }

  /** The element after `id` in order, or NIL: for forward walks. */
  next(id: number): number {
    const slot = id - 1;
    const leaf = slot >> LEAF_SHIFT;
    if ((slot & (LEAF_CAPACITY - 1)) + 1 < this.#counts[leaf]) return id + 1;
    const following = this.#nextLeaf[leaf];
    return following < 0 ? NIL : following * LEAF_CAPACITY + 1;
  }

  /** The element before `id` in order, or NIL: for reverse walks. */
  previous(id: number): number {
    const slot = id - 1;
    if ((slot & (LEAF_CAPACITY - 1)) > 0) return id - 1;
    const preceding = this.#previousLeaf[slot >> LEAF_SHIFT];
    return preceding < 0 ? NIL : preceding * LEAF_CAPACITY + this.#counts[preceding];
  }

  /** Inserts an element that is not in the tree yet, in O(log n); returns its id. */
  insert(member: string, score: number): number {
    const leaf = this.#descend(score, member);
    const height = this.#height;
    const childCounts = this.#childCounts;
    for (let level = 1; level <= height; level++) {
      childCounts[this.#pathNodes[level] * FANOUT + this.#pathChildren[level]]++;
    }
    this.#length++;
    let target = leaf;
    let index = this.#lowerBound(leaf, score, member);
    if (this.#counts[leaf] === LEAF_CAPACITY) {
      // Halves, but an element added at either end starts a leaf of its own (see the module
      // comment).
      const keep = index === LEAF_CAPACITY ? LEAF_CAPACITY : index === 0 ? 0 : LEAF_CAPACITY >> 1;
      const right = this.#splitLeaf(leaf, keep);
      if (index > keep || (index === keep && keep === LEAF_CAPACITY)) {
        target = right;
        index -= keep;
      }
      this.#placeElement(target, index, member, score);
      const first = offsetOf(right);
      this.#addChild(1, leaf, right, this.#scoresOf(right)[first], this.#membersOf(right)[first]);
    } else this.#placeElement(target, index, member, score);
    return target * LEAF_CAPACITY + index + 1;
  }

  /** Removes the element (member, score); false if it is not there. O(log n). */
  delete(member: string, score: number): boolean {
    const leaf = this.#descend(score, member);
    const index = this.#lowerBound(leaf, score, member);
    const slot = offsetOf(leaf) + index;
    if (
      index >= this.#counts[leaf] || this.#scoresOf(leaf)[slot] !== score ||
      this.#membersOf(leaf)[slot] !== member
    ) return false;
    this.#removeAt(leaf, index);
    this.#rebuildIfSparse();
    return true;
  }

  /**
   * Changes the score of the element (member, oldScore), which must be there, to `newScore`;
   * in place when it stays between its neighbours in its leaf, else by removing and reinserting
   * it. Returns its id. The element keeps the member string it holds: `member` is usually a
   * request's argument, still in V8's young generation, and storing it instead would have it
   * copied twice on its way to the old one.
   */
  updateScore(member: string, oldScore: number, newScore: number): number {
    const leaf = this.#descend(oldScore, member);
    const index = this.#lowerBound(leaf, oldScore, member);
    const slot = offsetOf(leaf) + index;
    const count = this.#counts[leaf];
    const scores = this.#scoresOf(leaf);
    const members = this.#membersOf(leaf);
    if (index >= count || scores[slot] !== oldScore || members[slot] !== member) {
      throw new RangeError("score tree updateScore of an absent element");
    }
    const kept = members[slot];
    // In place only strictly inside the leaf: its first element is what its separator bounds.
    if (
      index > 0 && index + 1 < count &&
      before(scores[slot - 1], members[slot - 1], newScore, kept) &&
      before(newScore, kept, scores[slot + 1], members[slot + 1])
    ) {
      scores[slot] = newScore;
      return leaf * LEAF_CAPACITY + index + 1;
    }
    this.#removeAt(leaf, index);
    return this.insert(kept, newScore);
  }

  /**
   * Removes the elements of 0-based ranks [start, end] (within bounds), calling `removed` with
   * each member and score, in order (it must not change the tree); O(m log n), O(n) for all.
   */
  deleteRanks(
    start: number,
    end: number,
    removed: (member: string, score: number) => void,
  ): void {
    const count = end - start + 1;
    if (count === this.#length) {
      const [members, scores] = this.#elements();
      this.#reset(INITIAL_LEAVES);
      for (let k = 0; k < count; k++) removed(members[k], scores[k]);
      return;
    }
    for (let i = 0; i < count; i++) {
      // Each removal moves the next element of the range to rank `start`.
      let rank = start;
      let node = this.#root;
      const childCounts = this.#childCounts;
      for (let level = this.#height; level > 0; level--) {
        const base = node * FANOUT;
        let child = 0;
        while (rank >= childCounts[base + child]) rank -= childCounts[base + child++];
        this.#pathNodes[level] = node;
        this.#pathChildren[level] = child;
        node = this.#children[base + child];
      }
      const slot = offsetOf(node) + rank;
      const member = this.#membersOf(node)[slot];
      const score = this.#scoresOf(node)[slot];
      this.#removeAt(node, rank);
      removed(member, score);
    }
    this.#rebuildIfSparse();
  }

  /** The 0-based rank of the element (member, score), or -1; O(log n). */
  rank(member: string, score: number): number {
    let rank = 0;
    let node = this.#root;
    for (let level = this.#height; level > 0; level--) {
      const child = this.#route(node, score, member);
      rank += this.#countBefore(node, child);
      node = this.#children[node * FANOUT + child];
    }
    const index = this.#lowerBound(node, score, member);
    const slot = offsetOf(node) + index;
    if (
      index >= this.#counts[node] || this.#scoresOf(node)[slot] !== score ||
      this.#membersOf(node)[slot] !== member
    ) return -1;
    return rank + index;
  }

  /** The id of the element at 0-based `rank` (which must be within bounds); O(log n). */
  at(rank: number): number {
    if (!(rank >= 0 && rank < this.#length)) {
      throw new RangeError(`score tree rank ${rank} out of range`);
    }
    let node = this.#root;
    const childCounts = this.#childCounts;
    for (let level = this.#height; level > 0; level--) {
      const base = node * FANOUT;
      let child = 0;
      while (rank >= childCounts[base + child]) rank -= childCounts[base + child++];
      node = this.#children[base + child];
    }
    return node * LEAF_CAPACITY + rank + 1;
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
    let below = 0;
    let node = this.#root;
    for (let level = this.#height; level > 0; level--) {
      const base = node * FANOUT;
      // The last child whose separator is below the bound: every child before it is.
      const child = firstNotBelow(
        this.#separatorScores,
        this.#separatorMembers,
        base,
        1,
        this.#sizes[node],
        byMember,
        score,
        member,
        inclusive,
      ) - 1;
      below += this.#countBefore(node, child);
      node = this.#children[base + child];
    }
    const base = offsetOf(node);
    return below + firstNotBelow(
      this.#scoresOf(node),
      this.#membersOf(node),
      base,
      0,
      this.#counts[node],
      byMember,
      score,
      member,
      inclusive,
    );
  }

  /** Elements under the children of internal `node` before child `child`. */
  #countBefore(node: number, child: number): number {
    const childCounts = this.#childCounts;
    const base = node * FANOUT;
    let sum = 0;
    for (let i = 0; i < child; i++) sum += childCounts[base + i];
    return sum;
  }

  /** The child of internal `node` that holds or would hold (score, member). */
  #route(node: number, score: number, member: string): number {
    const base = node * FANOUT;
    const scores = this.#separatorScores;
    const members = this.#separatorMembers;
    let lo = 1;
    let hi = this.#sizes[node];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(score, member, scores[base + mid], members[base + mid])) hi = mid;
      else lo = mid + 1;
    }
    return lo - 1;
  }

  /**
   * The leaf that holds or would hold (score, member), recording in {@link #pathNodes} and
   * {@link #pathChildren} the way down.
   */
  #descend(score: number, member: string): number {
    let node = this.#root;
    for (let level = this.#height; level > 0; level--) {
      const child = this.#route(node, score, member);
      this.#pathNodes[level] = node;
      this.#pathChildren[level] = child;
      node = this.#children[node * FANOUT + child];
    }
    return node;
  }

  /** The index in `leaf` of the first element not before (score, member). */
  #lowerBound(leaf: number, score: number, member: string): number {
    const base = offsetOf(leaf);
    const scores = this.#scoresOf(leaf);
    const members = this.#membersOf(leaf);
    let lo = 0;
    let hi = this.#counts[leaf];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(scores[base + mid], members[base + mid], score, member)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Puts an element at `index` of `leaf` (which has room), moving the later ones up. */
  #placeElement(leaf: number, index: number, member: string, score: number): void {
    const base = offsetOf(leaf);
    const scores = this.#scoresOf(leaf);
    const members = this.#membersOf(leaf);
    for (let i = base + this.#counts[leaf]; i > base + index; i--) {
      scores[i] = scores[i - 1];
      members[i] = members[i - 1];
    }
    scores[base + index] = score;
    members[base + index] = member;
    this.#counts[leaf]++;
  }

  /**
   * Removes the element at `index` of `leaf`, the leaf {@link #descend} last reached (its path
   * recorded), updating the counts above it and merging or freeing the leaf if it ran low.
   */
  #removeAt(leaf: number, index: number): void {
    const base = offsetOf(leaf);
    const scores = this.#scoresOf(leaf);
    const members = this.#membersOf(leaf);
    const count = --this.#counts[leaf];
    for (let i = base + index; i < base + count; i++) {
      scores[i] = scores[i + 1];
      members[i] = members[i + 1];
    }
    members[base + count] = "";
    if (--this.#length === 0) {
      this.#reset(INITIAL_LEAVES);
      return;
    }
    const height = this.#height;
    const childCounts = this.#childCounts;
    for (let level = 1; level <= height; level++) {
      childCounts[this.#pathNodes[level] * FANOUT + this.#pathChildren[level]]--;
    }
    if (height > 0 && count < LEAF_CAPACITY >> 2) this.#joinLeaf(leaf);
  }

  /** A new leaf linked after full `leaf`, holding its elements from index `keep` on. */
  #splitLeaf(leaf: number, keep: number): number {
    const right = this.#newLeaf();
    const from = offsetOf(leaf) + keep;
    const to = offsetOf(right);
    const fromScores = this.#scoresOf(leaf);
    const fromMembers = this.#membersOf(leaf);
    const toScores = this.#scoresOf(right);
    const toMembers = this.#membersOf(right);
    for (let i = 0; i < LEAF_CAPACITY - keep; i++) {
      toScores[to + i] = fromScores[from + i];
      toMembers[to + i] = fromMembers[from + i];
      fromMembers[from + i] = "";
    }
    this.#counts[leaf] = keep;
    this.#counts[right] = LEAF_CAPACITY - keep;
    const following = this.#nextLeaf[leaf];
    this.#nextLeaf[right] = following;
    this.#previousLeaf[right] = leaf;
    this.#nextLeaf[leaf] = right;
    if (following >= 0) this.#previousLeaf[following] = right;
    else this.#lastLeaf = right;
    return right;
  }

  /** Elements under `child`, a leaf when `level` is 1, else an internal node. */
  #sizeOf(level: number, child: number): number {
    if (level === 1) return this.#counts[child];
    const base = child * FANOUT;
    let sum = 0;
    for (let i = 0; i < this.#sizes[child]; i++) sum += this.#childCounts[base + i];
    return sum;
  }

  /**
   * After `left` (the child taken at `level` of the recorded path) was split, adds `right`
   * after it with separator (score, member), fixing both counts; splits the parent in turn
   * when full, up to a new root.
   */
  #addChild(level: number, left: number, right: number, score: number, member: string): void {
    for (;;) {
      if (level > this.#height) {
        const root = this.#newNode();
        const base = root * FANOUT;
        this.#children[base] = left;
        this.#childCounts[base] = this.#sizeOf(level, left);
        this.#children[base + 1] = right;
        this.#childCounts[base + 1] = this.#sizeOf(level, right);
        this.#separatorScores[base + 1] = score;
        this.#separatorMembers[base + 1] = member;
        this.#sizes[root] = 2;
        this.#root = root;
        this.#height = level;
        return;
      }
      const node = this.#pathNodes[level];
      const at = this.#pathChildren[level] + 1;
      const base = node * FANOUT;
      const size = this.#sizes[node];
      const children = this.#children;
      const childCounts = this.#childCounts;
      const separatorScores = this.#separatorScores;
      const separatorMembers = this.#separatorMembers;
      childCounts[base + at - 1] = this.#sizeOf(level, left);
      for (let i = base + size; i > base + at; i--) {
        children[i] = children[i - 1];
        childCounts[i] = childCounts[i - 1];
        separatorScores[i] = separatorScores[i - 1];
        separatorMembers[i] = separatorMembers[i - 1];
      }
      children[base + at] = right;
      childCounts[base + at] = this.#sizeOf(level, right);
      separatorScores[base + at] = score;
      separatorMembers[base + at] = member;
      this.#sizes[node] = size + 1;
      if (size + 1 < FANOUT) return;
      // Full: move the upper half to a new node, whose first separator goes up.
      const sibling = this.#newNode();
      const half = FANOUT >> 1;
      const to = sibling * FANOUT;
      // Re-read: a new node may have grown the arrays.
      const kids = this.#children;
      const counts = this.#childCounts;
      const sepScores = this.#separatorScores;
      const sepMembers = this.#separatorMembers;
      for (let i = 0; i < FANOUT - half; i++) {
        kids[to + i] = kids[base + half + i];
        counts[to + i] = counts[base + half + i];
        sepScores[to + i] = sepScores[base + half + i];
        sepMembers[to + i] = sepMembers[base + half + i];
        sepMembers[base + half + i] = "";
      }
      this.#sizes[node] = half;
      this.#sizes[sibling] = FANOUT - half;
      score = sepScores[to];
      member = sepMembers[to];
      sepMembers[to] = "";
      left = node;
      right = sibling;
      level++;
    }
  }

  /**
   * `leaf` ran under a quarter full: frees it if empty, or merges it with the neighbour under
   * the same parent when both fit in three quarters of a leaf; then the parent in turn.
   */
  #joinLeaf(leaf: number): void {
    const parent = this.#pathNodes[1];
    const child = this.#pathChildren[1];
    const size = this.#sizes[parent];
    if (this.#counts[leaf] === 0) {
      this.#unlinkLeaf(leaf);
      this.#removeChild(1, parent, child);
      return;
    }
    if (size === 1) return;
    // Merge the right one of the pair into the left one.
    const leftChild = child > 0 ? child - 1 : child;
    const base = parent * FANOUT;
    const left = this.#children[base + leftChild];
    const right = this.#children[base + leftChild + 1];
    const total = this.#counts[left] + this.#counts[right];
    if (total > (LEAF_CAPACITY * 3) >> 2) return;
    const to = offsetOf(left) + this.#counts[left];
    const from = offsetOf(right);
    const fromScores = this.#scoresOf(right);
    const fromMembers = this.#membersOf(right);
    const toScores = this.#scoresOf(left);
    const toMembers = this.#membersOf(left);
    for (let i = 0; i < this.#counts[right]; i++) {
      toScores[to + i] = fromScores[from + i];
      toMembers[to + i] = fromMembers[from + i];
      fromMembers[from + i] = "";
    }
    this.#counts[left] = total;
    this.#counts[right] = 0;
    this.#childCounts[base + leftChild] = total;
    this.#unlinkLeaf(right);
    this.#removeChild(1, parent, leftChild + 1);
  }

  /** Takes `leaf` out of the order and frees it. */
  #unlinkLeaf(leaf: number): void {
    const preceding = this.#previousLeaf[leaf];
    const following = this.#nextLeaf[leaf];
    if (preceding >= 0) this.#nextLeaf[preceding] = following;
    else this.#firstLeaf = following;
    if (following >= 0) this.#previousLeaf[following] = preceding;
    else this.#lastLeaf = preceding;
    this.#freeLeaves.push(leaf);
  }

  /**
   * Removes child `child` (already emptied or merged away) from `node` at `level` of the
   * recorded path; then `node` merges with a neighbour when low, and a root left with one
   * child gives way to it.
   */
  #removeChild(level: number, node: number, child: number): void {
    for (;;) {
      const base = node * FANOUT;
      const size = this.#sizes[node] - 1;
      const children = this.#children;
      const childCounts = this.#childCounts;
      const separatorScores = this.#separatorScores;
      const separatorMembers = this.#separatorMembers;
      for (let i = base + child; i < base + size; i++) {
        children[i] = children[i + 1];
        childCounts[i] = childCounts[i + 1];
        separatorScores[i] = separatorScores[i + 1];
        separatorMembers[i] = separatorMembers[i + 1];
      }
      separatorMembers[base + size] = "";
      separatorMembers[base] = "";
      this.#sizes[node] = size;
      if (level === this.#height) {
        // The root: with one child left, that child becomes the root.
        while (this.#height > 0 && this.#sizes[this.#root] === 1) {
          const only = this.#children[this.#root * FANOUT];
          this.#freeNodes.push(this.#root);
          this.#root = only;
          this.#height--;
        }
        return;
      }
      const parent = this.#pathNodes[level + 1];
      const at = this.#pathChildren[level + 1];
      if (size === 0) {
        // No child left: it goes too (the tree is not empty, so the root never gets here).
        this.#freeNodes.push(node);
        level++;
        node = parent;
        child = at;
        continue;
      }
      if (size >= FANOUT >> 2) return;
      const parentSize = this.#sizes[parent];
      if (parentSize === 1) return;
      const leftChild = at > 0 ? at - 1 : at;
      const parentBase = parent * FANOUT;
      const left = this.#children[parentBase + leftChild];
      const right = this.#children[parentBase + leftChild + 1];
      const leftSize = this.#sizes[left];
      const rightSize = this.#sizes[right];
      if (leftSize + rightSize > (FANOUT * 3) >> 2) return;
      const to = left * FANOUT + leftSize;
      const from = right * FANOUT;
      for (let i = 0; i < rightSize; i++) {
        children[to + i] = children[from + i];
        childCounts[to + i] = childCounts[from + i];
        separatorScores[to + i] = separatorScores[from + i];
        separatorMembers[to + i] = separatorMembers[from + i];
        separatorMembers[from + i] = "";
      }
      // The right node's first child is bounded by the right node's own separator.
      separatorScores[to] = separatorScores[parentBase + leftChild + 1];
      separatorMembers[to] = separatorMembers[parentBase + leftChild + 1];
      this.#sizes[left] = leftSize + rightSize;
      childCounts[parentBase + leftChild] += childCounts[parentBase + leftChild + 1];
      this.#freeNodes.push(right);
      level++;
      node = parent;
      child = leftChild + 1;
    }
  }

  /** A leaf id: a freed one, or a new one (growing the arrays). */
  #newLeaf(): number {
    const reused = this.#freeLeaves.pop();
    if (reused !== undefined) {
      this.#counts[reused] = 0;
      return reused;
    }
    const leaf = this.#leavesMade++;
    const capacity = this.#counts.length;
    this.#makeRoom(leaf);
    if (leaf >= capacity) {
      const grownTo = capacity * 2;
      this.#counts = grown(this.#counts, grownTo);
      this.#nextLeaf = grown(this.#nextLeaf, grownTo);
      this.#previousLeaf = grown(this.#previousLeaf, grownTo);
    }
    this.#counts[leaf] = 0;
    return leaf;
  }

  /**
   * Makes room for the slots of new leaf `leaf`: a new chunk, or the first chunk doubled while
   * it is smaller than a chunk.
   */
  #makeRoom(leaf: number): void {
    const chunk = leaf >> CHUNK_SHIFT;
    const chunks = this.#scoreChunks;
    if (chunk === chunks.length) {
      chunks.push(new Float64Array(CHUNK_LEAVES * LEAF_CAPACITY));
      this.#memberChunks.push(new Array<string>(CHUNK_LEAVES * LEAF_CAPACITY).fill(""));
      return;
    }
    const scores = chunks[chunk];
    const needed = offsetOf(leaf) + LEAF_CAPACITY;
    if (needed <= scores.length) return;
    let size = scores.length * 2;
    while (size < needed) size *= 2;
    chunks[chunk] = grown(scores, size);
    const members = this.#memberChunks[chunk];
    this.#memberChunks[chunk] = members.concat(
      new Array<string>(size - members.length).fill(""),
    );
  }

  /** The scores of the chunk that holds `leaf`. */
  #scoresOf(leaf: number): Float64Array {
    return this.#scoreChunks[leaf >> CHUNK_SHIFT];
  }

  /** The members of the chunk that holds `leaf`. */
  #membersOf(leaf: number): string[] {
    return this.#memberChunks[leaf >> CHUNK_SHIFT];
  }

  /** An internal node id: a freed one, or a new one (growing the arrays). */
  #newNode(): number {
    const reused = this.#freeNodes.pop();
    if (reused !== undefined) {
      this.#sizes[reused] = 0;
      return reused;
    }
    const node = this.#nodesMade++;
    const capacity = this.#sizes.length;
    if (node >= capacity) {
      const grownTo = capacity * 2;
      this.#children = grown(this.#children, grownTo * FANOUT);
      this.#childCounts = grown(this.#childCounts, grownTo * FANOUT);
      this.#separatorScores = grown(this.#separatorScores, grownTo * FANOUT);
      const members = this.#separatorMembers;
      for (let i = members.length; i < grownTo * FANOUT; i++) members.push("");
      this.#sizes = grown(this.#sizes, grownTo);
    }
    this.#sizes[node] = 0;
    return node;
  }

  /** Empties the tree, with arrays sized for `leaves` leaves. */
  #reset(leaves: number): void {
    const slots = Math.min(leaves, CHUNK_LEAVES) * LEAF_CAPACITY;
    this.#scoreChunks = [new Float64Array(slots)];
    this.#memberChunks = [new Array<string>(slots).fill("")];
    this.#counts = new Int32Array(leaves);
    this.#nextLeaf = new Int32Array(leaves);
    this.#previousLeaf = new Int32Array(leaves);
    this.#leavesMade = 0;
    this.#freeLeaves = [];
    const nodes = Math.max(1, Math.ceil(leaves / 4));
    this.#children = new Int32Array(nodes * FANOUT);
    this.#childCounts = new Int32Array(nodes * FANOUT);
    this.#separatorScores = new Float64Array(nodes * FANOUT);
    this.#separatorMembers = new Array<string>(nodes * FANOUT).fill("");
    this.#sizes = new Int32Array(nodes);
    this.#nodesMade = 0;
    this.#freeNodes = [];
    this.#height = 0;
    this.#length = 0;
    this.#root = this.#newLeaf();
    this.#firstLeaf = this.#lastLeaf = this.#root;
    this.#nextLeaf[this.#root] = this.#previousLeaf[this.#root] = -1;
  }

  /**
   * Rebuilds the tree in smaller arrays when at most a quarter of the leaves they have room for
   * are in use: O(n), paid for by the removals since they last grew.
   */
  /** Every element's member and score, in order. */
  #elements(): [members: string[], scores: number[]] {
    const members: string[] = new Array(this.#length);
    const scores: number[] = new Array(this.#length);
    let i = 0;
    for (let id = this.first; id !== NIL; id = this.next(id)) {
      members[i] = this.member(id);
      scores[i++] = this.score(id);
    }
    return [members, scores];
  }

  #rebuildIfSparse(): void {
    const room = this.#counts.length;
    const inUse = this.#leavesMade - this.#freeLeaves.length;
    if (room < REBUILD_MIN_LEAVES || inUse * 4 > room) return;
    const length = this.#length;
    const [members, scores] = this.#elements();
    let leaves = INITIAL_LEAVES;
    while (leaves * LEAF_CAPACITY < 2 * length) leaves *= 2;
    this.#reset(leaves);
    for (let k = 0; k < length; k++) this.insert(members[k], scores[k]);
  }
}
