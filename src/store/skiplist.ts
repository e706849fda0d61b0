/**
 * The order-statistic skiplist behind large sorted sets (Redis's zskiplist, after William
 * Pugh's paper): elements ordered by score, then by member bytes (memcmp order, which is how
 * JS compares binary strings), with a span on every forward link so that an element's rank and
 * the element at a rank are found in O(log n). Level 0 is doubly linked, for reverse walks.
 *
 * It holds no member -> score index: the sorted set keeps that beside it, and always knows an
 * element's score before it asks the list about it.
 */

/** Redis's ZSKIPLIST_MAXLEVEL: enough for 2^64 elements at p = 1/4. */
const MAX_LEVEL = 32;
/** Redis's ZSKIPLIST_P: the chance that a node reaches one level more. */
const LEVEL_P = 0.25;

/** One element of the list, or the header (member "" and no score meaning). */
export class SkipNode {
  /** The member (a binary string). */
  readonly member: string;
  /** The score. */
  readonly score: number;
  /** The previous node on level 0, or null for the first element. */
  backward: SkipNode | null = null;
  /** Per level, the next node at that level, or null. */
  readonly next: (SkipNode | null)[];
  /** Per level, how many level-0 steps the link at that level jumps. */
  readonly span: number[];

  /** Creates a node with `level` levels. */
  constructor(member: string, score: number, level: number) {
    this.member = member;
    this.score = score;
    this.next = new Array(level).fill(null);
    this.span = new Array(level).fill(0);
  }
}

/** Whether (score a, member a) sorts before (score b, member b). */
function before(aScore: number, aMember: string, bScore: number, bMember: string): boolean {
  return aScore < bScore || (aScore === bScore && aMember < bMember);
}

function randomLevel(): number {
  let level = 1;
  while (level < MAX_LEVEL && Math.random() < LEVEL_P) level++;
  return level;
}

/** A predicate over nodes that is true for a prefix of the list (the nodes "below" a bound). */
export type Below = (node: SkipNode) => boolean;

/** The skiplist; see the module comment. */
export class Skiplist {
  readonly #header = new SkipNode("", 0, MAX_LEVEL);
  #tail: SkipNode | null = null;
  #level = 1;
  #length = 0;

  /** Number of elements. */
  get length(): number {
    return this.#length;
  }

  /** The first element, or null. */
  get first(): SkipNode | null {
    return this.#header.next[0];
  }

  /** The last element, or null. */
  get last(): SkipNode | null {
    return this.#tail;
  }

  /** Inserts an element that is not in the list yet, in O(log n). */
  insert(member: string, score: number): SkipNode {
    const update: SkipNode[] = new Array(MAX_LEVEL);
    const rank: number[] = new Array(MAX_LEVEL);
    let x = this.#header;
    for (let i = this.#level - 1; i >= 0; i--) {
      rank[i] = i === this.#level - 1 ? 0 : rank[i + 1];
      for (
        let n = x.next[i];
        n !== null && before(n.score, n.member, score, member);
        n = x.next[i]
      ) {
        rank[i] += x.span[i];
        x = n;
      }
      update[i] = x;
    }
    const level = randomLevel();
    if (level > this.#level) {
      for (let i = this.#level; i < level; i++) {
        rank[i] = 0;
        update[i] = this.#header;
        this.#header.span[i] = this.#length;
      }
      this.#level = level;
    }
    const node = new SkipNode(member, score, level);
    for (let i = 0; i < level; i++) {
      node.next[i] = update[i].next[i];
      update[i].next[i] = node;
      node.span[i] = update[i].span[i] - (rank[0] - rank[i]);
      update[i].span[i] = rank[0] - rank[i] + 1;
    }
    for (let i = level; i < this.#level; i++) update[i].span[i]++;
    node.backward = update[0] === this.#header ? null : update[0];
    if (node.next[0] !== null) node.next[0].backward = node;
    else this.#tail = node;
    this.#length++;
    return node;
  }

  /** Removes the element (member, score); false if it is not there. O(log n). */
  delete(member: string, score: number): boolean {
    const update = this.#predecessors((n) => before(n.score, n.member, score, member));
    const x = update[0].next[0];
    if (x === null || x.score !== score || x.member !== member) return false;
    this.#unlink(x, update);
    return true;
  }

  /**
   * Removes the elements of 0-based ranks [start, end] (within bounds), calling `removed` with
   * each; O(log n + m).
   */
  deleteRanks(start: number, end: number, removed: (node: SkipNode) => void): void {
    const update: SkipNode[] = new Array(MAX_LEVEL);
    let traversed = 0;
    let x = this.#header;
    for (let i = this.#level - 1; i >= 0; i--) {
      while (x.next[i] !== null && traversed + x.span[i] <= start) {
        traversed += x.span[i];
        x = x.next[i]!;
      }
      update[i] = x;
    }
    let node = x.next[0];
    for (let rank = start; node !== null && rank <= end; rank++) {
      const following: SkipNode | null = node.next[0];
      this.#unlink(node, update);
      removed(node);
      node = following;
    }
  }

  /** The 0-based rank of the element (member, score), or -1; O(log n). */
  rank(member: string, score: number): number {
    let rank = 0;
    let x = this.#header;
    for (let i = this.#level - 1; i >= 0; i--) {
      for (let n = x.next[i]; n !== null; n = x.next[i]) {
        if (
          !(before(n.score, n.member, score, member) || (n.score === score && n.member === member))
        ) break;
        rank += x.span[i];
        x = n;
      }
      if (x !== this.#header && x.member === member) return rank - 1;
    }
    return -1;
  }

  /** The element at 0-based `rank` (which must be within bounds); O(log n). */
  at(rank: number): SkipNode {
    const target = rank + 1;
    let traversed = 0;
    let x = this.#header;
    for (let i = this.#level - 1; i >= 0; i--) {
      while (x.next[i] !== null && traversed + x.span[i] <= target) {
        traversed += x.span[i];
        x = x.next[i]!;
      }
      if (traversed === target) return x;
    }
    throw new RangeError(`skiplist rank ${rank} out of range`);
  }

  /**
   * How many elements satisfy `below`, a predicate true for a prefix of the list (e.g. "score
   * < 5"): the rank of the first element that does not. O(log n).
   */
  countBelow(below: Below): number {
    let rank = 0;
    let x = this.#header;
    for (let i = this.#level - 1; i >= 0; i--) {
      for (let n = x.next[i]; n !== null && below(n); n = x.next[i]) {
        rank += x.span[i];
        x = n;
      }
    }
    return rank;
  }

  /** Per level, the last node that satisfies `below` (or the header). */
  #predecessors(below: Below): SkipNode[] {
    const update: SkipNode[] = new Array(MAX_LEVEL);
    let x = this.#header;
    for (let i = this.#level - 1; i >= 0; i--) {
      for (let n = x.next[i]; n !== null && below(n); n = x.next[i]) x = n;
      update[i] = x;
    }
    return update;
  }

  #unlink(x: SkipNode, update: SkipNode[]): void {
    for (let i = 0; i < this.#level; i++) {
      if (update[i].next[i] === x) {
        update[i].span[i] += x.span[i] - 1;
        update[i].next[i] = x.next[i];
      } else update[i].span[i]--;
    }
    if (x.next[0] !== null) x.next[0].backward = x.backward;
    else this.#tail = x.backward;
    while (this.#level > 1 && this.#header.next[this.#level - 1] === null) this.#level--;
    this.#length--;
  }
}
