/**
 * The value of a Redis list, laid out as Redis's quicklist: a deque of nodes, each holding a
 * run of consecutive items.
 *
 * - A packed node keeps its items in ONE binary string (one character per byte), each item as a
 *   length prefix, its bytes, and the prefix mirrored as a suffix (a varint of 7 bits per
 *   character, high bit set on all but the last: 1 byte up to 127, 2 up to 16383, more beyond),
 *   so that it can be walked from either end, as a listpack's entries with their back-lengths.
 *   A node is filled up to {@link LIST_NODE_TARGET} bytes. Popping from a packed node moves its
 *   live range (`start`, `end`) instead of rebuilding the string, and the string is freed when
 *   its last item is popped.
 * - An open node keeps its items as an array of strings. Pushes go to an open node at that end;
 *   when it holds {@link OPEN_NODE_ITEMS} items it is packed, appended to its packed neighbour
 *   while that stays under the target (one copy of at most a node per {@link OPEN_NODE_ITEMS}
 *   pushes), so pushes and pops at both ends are O(1) amortized. An item longer than
 *   {@link PLAIN_ITEM_BYTES} is pushed as an open node of its own (Redis's plain node), never
 *   copied into a packed string.
 *
 * Each node knows its item count and the index of its first item relative to a base that moves
 * with the head (the prefix-count cache: a push or pop at either end updates one node), so that
 * reading or replacing the item at an index finds its node by binary search, O(log nodes), then
 * walks the node from its nearer end. Inserting or replacing inside a packed node repacks that
 * node (O(node size)), and removing matches repacks only the nodes that had some. Items read
 * from a packed node are copied out of it, so that a returned item never keeps a node alive,
 * except where the caller asks for a view (popLeft/popRight for a reply).
 *
 * Memory model ({@link ListValue.bytes}): {@link LIST_BASE_BYTES}, plus per node
 * {@link LIST_NODE_OVERHEAD}, plus for a packed node {@link LIST_STRING_HEADER} and its string's
 * whole length (popped bytes included until the node is freed), for an open node
 * {@link LIST_OPEN_OVERHEAD} and, per item, its length and {@link LIST_ITEM_OVERHEAD}.
 *
 * OBJECT ENCODING of a list in Redis 7.0 is always "quicklist", whatever its size.
 */
import { copyRange, detached, lengthPrefix, prefixSize, readLength } from "./packed.ts";
import type { CollectionValue } from "./collection.ts";

/** Bytes counted for a list besides its nodes: the list object (~80) and its node ring (16). */
export const LIST_BASE_BYTES = 96;
/** Bytes counted per node besides its items: the node object (88) and its ring slot (8). */
export const LIST_NODE_OVERHEAD = 96;
/** Bytes of a JS one-byte string's header (map, hash, length), counted per packed node. */
export const LIST_STRING_HEADER = 16;
/** Bytes of an open node's array besides its slots: the array object and its backing header. */
export const LIST_OPEN_OVERHEAD = 48;
/**
 * Bytes counted per item of an open node besides its own bytes: its array slot (8) and the
 * string's header (16), as the JS heap lays them out.
 */
export const LIST_ITEM_OVERHEAD = 24;
/** Bytes a packed node is filled up to (Redis's default `list-max-listpack-size` -2: 8 KB). */
export const LIST_NODE_TARGET = 8192;
/** Items an open node at an end collects before it is packed. */
export const OPEN_NODE_ITEMS = 32;
/** Items longer than this are stored as a node of their own rather than packed. */
export const PLAIN_ITEM_BYTES = 4096;

/** Virtual indexes beyond this (in size) are renumbered from 0, to stay small integers. */
const RENUMBER_LIMIT = 2 ** 30;
/** Smallest capacity of the node ring (a power of two). */
const MIN_RING = 4;

/** Receives items as places in strings, in runs of items read from one string. */
export interface SliceSink {
  /** Starts a run of items read from `text`. */
  run(text: string): void;
  /** Takes the item `slice(start, start + length)` of the current run's string. */
  item(start: number, length: number): void;
  /**
   * Takes the `count` packed entries of `text` from `start` to `end` (the layout of
   * util/packed_entries.ts) as a run of their items, for a sink that walks them itself; absent,
   * the items of a packed node come through {@link run} and {@link item}.
   */
  entries?(text: string, start: number, end: number, count: number): void;
  /**
   * Takes `items` (a copy of some of an open node's items, the sink's to keep) as a run, for a
   * sink that writes them out itself; absent, they come through {@link run} and {@link item}.
   */
  strings?(items: string[]): void;
}

/** A run of consecutive items; see the module comment. */
class ListNode {
  /** Index of the first item, relative to the list's base (the head node's `first`). */
  first = 0;
  /** Number of items (never 0 while in the list). */
  count = 0;
  /** Packed node: the packed entries; "" for an open node. */
  data = "";
  /** Packed node: offset of the first live entry in `data`. */
  start = 0;
  /** Packed node: offset just past the last live entry in `data`. */
  end = 0;
  /** Open node: the items in order; null for a packed node. */
  items: string[] | null = null;
  /**
   * Packed node: packed runs of entries sealed onto its head end and not yet joined into
   * `data`, the newest first (see {@link ListValue.#sealLeft}); null when there are none.
   */
  headPieces: string[] | null = null;
  /** Packed node: the same at its tail end, the oldest first. */
  tailPieces: string[] | null = null;
}

/** A new open node holding `items`. */
function openNode(items: string[]): ListNode {
  const node = new ListNode();
  node.items = items;
  node.count = items.length;
  return node;
}

/** A new packed node holding `data`, `count` entries. */
function packedNode(data: string, count: number): ListNode {
  const node = new ListNode();
  node.data = data;
  node.end = data.length;
  node.count = count;
  return node;
}

/** Whether `node` is an open node of one long item (Redis's plain node), never packed. */
function isPlain(node: ListNode): boolean {
  return node.items !== null && node.count === 1 && node.items[0].length > PLAIN_ITEM_BYTES;
}

/**
 * Bytes of the pieces of packed `node` not joined into its `data` yet: their entries, and with
 * `headers` (the memory model) each piece's string header too.
 */
function pieceBytes(node: ListNode, headers = true): number {
  const header = headers ? LIST_STRING_HEADER : 0;
  let bytes = 0;
  if (node.headPieces !== null) {
    for (const piece of node.headPieces) bytes += piece.length + header;
  }
  if (node.tailPieces !== null) {
    for (const piece of node.tailPieces) bytes += piece.length + header;
  }
  return bytes;
}

/** Bytes of `node` by the memory model (O(items) for an open node). */
function nodeBytes(node: ListNode): number {
  if (node.items === null) {
    return LIST_NODE_OVERHEAD + LIST_STRING_HEADER + node.data.length + pieceBytes(node);
  }
  let bytes = LIST_NODE_OVERHEAD + LIST_OPEN_OVERHEAD;
  for (const item of node.items) bytes += item.length + LIST_ITEM_OVERHEAD;
  return bytes;
}

/** `prefix` mirrored, readable backwards from the end of its entry. */
function mirrored(prefix: string): string {
  let suffix = "";
  for (let i = prefix.length - 1; i >= 0; i--) suffix += prefix[i];
  return suffix;
}

/** Bytes of the packed entry of an item of `length` bytes. */
function entrySize(length: number): number {
  return length + 2 * prefixSize(length);
}

/** The packed entries of `items[from]` to `items[to - 1]`, as one flat string. */
function packItems(items: readonly string[], from = 0, to = items.length): string {
  const parts: string[] = [];
  for (let i = from; i < to; i++) {
    const prefix = lengthPrefix(items[i].length);
    parts.push(prefix, items[i], prefix.length === 1 ? prefix : mirrored(prefix));
  }
  return parts.join("");
}

/** Offset of the bytes of the entry {@link stepForward} or {@link stepBackward} read last. */
let entryStart = 0;
/** Length of the entry {@link stepForward} or {@link stepBackward} read last. */
let entryLength = 0;

/** Reads the entry starting at `at` in `data`; returns the offset just past it. */
function stepForward(data: string, at: number): number {
  entryLength = readLength(data, at);
  const width = prefixSize(entryLength);
  entryStart = at + width;
  return entryStart + entryLength + width;
}

/** Reads the entry ending just before `end` in `data`; returns the offset where it starts. */
function stepBackward(data: string, end: number): number {
  let length = 0;
  let scale = 1;
  let width = 1;
  let code = data.charCodeAt(end - 1);
  while (code >= 0x80) {
    length += (code & 0x7f) * scale;
    scale *= 0x80;
    code = data.charCodeAt(end - 1 - width++);
  }
  entryLength = length + code * scale;
  entryStart = end - width - entryLength;
  return entryStart - width;
}

/**
 * The item of the entry read last, copied out of `data`: V8 would make a slice of 13 or more
 * characters a view keeping the whole node alive, while joining two parts builds a new string.
 */
function entryItem(data: string): string {
  return copyRange(data, entryStart, entryStart + entryLength);
}

/** The item of the entry read last, as a slice of `data` (possibly a view keeping it alive). */
function entryView(data: string): string {
  return data.slice(entryStart, entryStart + entryLength);
}

/** Whether the entry read last in `data` equals `item`, compared in place. */
function entryEquals(data: string, item: string): boolean {
  return entryLength === item.length && data.startsWith(item, entryStart);
}

/** Offset in packed `node` of the entry at position `offset` (0 <= offset < count). */
function entryOffset(node: ListNode, offset: number): number {
  if (offset < node.count >> 1) {
    let at = node.start;
    for (let i = 0; i < offset; i++) at = stepForward(node.data, at);
    return at;
  }
  let at = node.end;
  for (let i = node.count; i > offset; i--) at = stepBackward(node.data, at);
  return at;
}

/**
 * Appends to `out` the items of `node` from position `from` (inclusive) to `to` (exclusive),
 * copied out of a packed node when `copy`, else possibly views of it (for repacking).
 */
function collectItems(node: ListNode, from: number, to: number, out: string[], copy: boolean) {
  if (node.items !== null) {
    for (let i = from; i < to; i++) out.push(node.items[i]);
    return;
  }
  let at = entryOffset(node, from);
  for (let i = from; i < to; i++) {
    at = stepForward(node.data, at);
    out.push(copy ? entryItem(node.data) : node.data.slice(entryStart, entryStart + entryLength));
  }
}

/** Every item of `node`, possibly views of its packed string (for repacking). */
function nodeItems(node: ListNode): string[] {
  const out: string[] = [];
  collectItems(node, 0, node.count, out, false);
  return out;
}

/**
 * Positions in `node` of the items equal to `item`, scanning from its head or its tail (when
 * `fromTail`), calling `visit` with each match's position until it answers false; looks at no
 * more than `limit` items. Returns how many items it looked at, or -1 when `visit` stopped it.
 */
function scanNode(
  node: ListNode,
  item: string,
  fromTail: boolean,
  limit: number,
  visit: (position: number) => boolean,
): number {
  const n = Math.min(limit, node.count);
  const data = node.data;
  let at = fromTail ? node.end : node.start;
  for (let k = 0; k < n; k++) {
    const position = fromTail ? node.count - 1 - k : k;
    let equal: boolean;
    if (node.items !== null) equal = node.items[position] === item;
    else {
      at = fromTail ? stepBackward(data, at) : stepForward(data, at);
      equal = entryEquals(data, item);
    }
    if (equal && !visit(position)) return -1;
  }
  return n;
}

/** Nodes holding `items` in order: packed up to the target, long items in nodes of their own. */
function buildNodes(items: readonly string[]): ListNode[] {
  const nodes: ListNode[] = [];
  let from = 0;
  let bytes = 0;
  const flush = (to: number) => {
    if (to > from) nodes.push(packedNode(packItems(items, from, to), to - from));
  };
  for (let i = 0; i < items.length; i++) {
    const size = entrySize(items[i].length);
    if (items[i].length > PLAIN_ITEM_BYTES) {
      flush(i);
      nodes.push(openNode([detached(items[i])]));
      from = i + 1;
      bytes = 0;
    } else if (bytes + size > LIST_NODE_TARGET && i > from) {
      flush(i);
      from = i;
      bytes = size;
    } else bytes += size;
  }
  flush(items.length);
  return nodes;
}

/** A list; see the module comment. */
export class ListValue implements CollectionValue {
  /** Always "list". */
  get type(): "list" {
    return "list";
  }
  /** The nodes, in a ring (a power-of-two array used circularly). */
  #ring: (ListNode | undefined)[] = new Array(MIN_RING);
  /** Ring capacity minus one. */
  #mask = MIN_RING - 1;
  /** Ring position of the head node. */
  #head = 0;
  /** Number of nodes. */
  #nodeCount = 0;
  #size = 0;
  #bytes = LIST_BASE_BYTES;

  /** Number of items. */
  get size(): number {
    return this.#size;
  }

  /** Bytes by the memory model of the module comment; O(1). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Number of nodes, so that tests and diagnostics can see the layout. */
  get nodeCount(): number {
    return this.#nodeCount;
  }

  /**
   * {@link bytes} recomputed from the layout in O(nodes + open items): a check of the O(1)
   * bookkeeping, for tests.
   */
  measureBytes(): number {
    let bytes = LIST_BASE_BYTES;
    for (let k = 0; k < this.#nodeCount; k++) bytes += nodeBytes(this.#peek(k));
    return bytes;
  }

  /** Always "quicklist", as Redis 7.0 answers OBJECT ENCODING for every list. */
  encoding(): string {
    return "quicklist";
  }

  /** An independent copy: nodes are copied, packed strings (immutable) shared. */
  clone(): ListValue {
    const copy = new ListValue();
    const nodes: ListNode[] = [];
    for (let k = 0; k < this.#nodeCount; k++) {
      const node = this.#node(k);
      const twin = node.items === null
        ? packedNode(node.data, node.count)
        : openNode(node.items.slice());
      twin.start = node.start;
      twin.end = node.end;
      nodes.push(twin);
    }
    copy.#setNodes(nodes);
    return copy;
  }

  /** Adds `item` before the head (LPUSH). */
  pushLeft(item: string): void {
    const head = this.#nodeCount > 0 ? this.#peek(0) : undefined;
    if (head !== undefined && acceptsPush(head, item)) {
      (head.items as string[]).unshift(item);
      head.count++;
      head.first--;
    } else {
      if (head !== undefined && head.items !== null && !isPlain(head)) this.#sealLeft();
      this.#addNodeLeft(openNode([item]));
      this.#bytes += LIST_NODE_OVERHEAD + LIST_OPEN_OVERHEAD;
    }
    this.#size++;
    this.#bytes += item.length + LIST_ITEM_OVERHEAD;
  }

  /** Adds `item` after the tail (RPUSH). */
  pushRight(item: string): void {
    const tail = this.#nodeCount > 0 ? this.#peek(this.#nodeCount - 1) : undefined;
    if (tail !== undefined && acceptsPush(tail, item)) {
      (tail.items as string[]).push(item);
      tail.count++;
    } else {
      if (tail !== undefined && tail.items !== null && !isPlain(tail)) this.#sealRight();
      this.#addNodeRight(openNode([item]));
      this.#bytes += LIST_NODE_OVERHEAD + LIST_OPEN_OVERHEAD;
    }
    this.#size++;
    this.#bytes += item.length + LIST_ITEM_OVERHEAD;
  }

  /**
   * Removes and returns the head item, or undefined when empty (LPOP). With `view`, an item of a
   * packed node may be a slice of the node's string (V8 makes a slice of 13 or more characters a
   * view of its parent) instead of a copy: for an item only written into a reply and dropped,
   * which then never keeps the node's string alive for long.
   */
  popLeft(view = false): string | undefined {
    if (this.#size === 0) return undefined;
    const node = this.#node(0);
    let item: string;
    if (node.items !== null) {
      item = node.items.shift() as string;
      this.#bytes -= item.length + LIST_ITEM_OVERHEAD;
    } else {
      node.start = stepForward(node.data, node.start);
      item = view ? entryView(node.data) : entryItem(node.data);
    }
    node.first++;
    this.#removedFrom(node, 0);
    return item;
  }

  /** Removes and returns the tail item, or undefined when empty (RPOP); `view` as for popLeft. */
  popRight(view = false): string | undefined {
    if (this.#size === 0) return undefined;
    const node = this.#node(this.#nodeCount - 1);
    let item: string;
    if (node.items !== null) {
      item = node.items.pop() as string;
      this.#bytes -= item.length + LIST_ITEM_OVERHEAD;
    } else {
      node.end = stepBackward(node.data, node.end);
      item = view ? entryView(node.data) : entryItem(node.data);
    }
    this.#removedFrom(node, this.#nodeCount - 1);
    return item;
  }

  /** The item at 0-based `index` from the head, or undefined when out of range. */
  at(index: number): string | undefined {
    if (index < 0 || index >= this.#size) return undefined;
    const node = this.#node(this.#find(index));
    const offset = this.#offsetIn(node, index);
    if (node.items !== null) return node.items[offset];
    stepForward(node.data, entryOffset(node, offset));
    return entryItem(node.data);
  }

  /** Replaces the item at 0-based `index`; false (nothing changed) when out of range (LSET). */
  set(index: number, item: string): boolean {
    if (index < 0 || index >= this.#size) return false;
    const k = this.#find(index);
    const node = this.#node(k);
    const offset = this.#offsetIn(node, index);
    if (node.items !== null) {
      this.#bytes += item.length - node.items[offset].length;
      node.items[offset] = item;
      return true;
    }
    const items = nodeItems(node);
    items[offset] = item;
    this.#replaceNode(k, items);
    return true;
  }

  /** Every item, head to tail. Do not change the list while iterating. */
  *items(): Generator<string> {
    for (let k = 0; k < this.#nodeCount; k++) {
      const node = this.#node(k);
      const out: string[] = [];
      collectItems(node, 0, node.count, out, true);
      yield* out;
    }
  }

  /**
   * Gives `sink` the items from index `start` to `end` inclusive (0 <= start <= end < size),
   * head first, each as its place in a string (a packed node's, or an open node's item), so
   * that a reply can be written without copying them out (LRANGE).
   */
  rangeSlices(start: number, end: number, sink: SliceSink): void {
    let k = this.#find(start);
    let from = this.#offsetIn(this.#node(k), start);
    let left = end - start + 1;
    while (left > 0) {
      const node = this.#node(k++);
      const to = Math.min(node.count, from + left);
      if (node.items !== null && sink.strings !== undefined) {
        sink.strings(node.items.slice(from, to));
      } else if (node.items !== null) {
        for (let i = from; i < to; i++) {
          sink.run(node.items[i]);
          sink.item(0, node.items[i].length);
        }
      } else if (sink.entries !== undefined) {
        const data = node.data;
        const first = entryOffset(node, from);
        let at = first;
        if (to === node.count) at = node.end;
        else for (let i = from; i < to; i++) at = stepForward(data, at);
        sink.entries(data, first, at, to - from);
      } else {
        const data = node.data;
        sink.run(data);
        let at = entryOffset(node, from);
        for (let i = from; i < to; i++) {
          at = stepForward(data, at);
          sink.item(entryStart, entryLength);
        }
      }
      left -= to - from;
      from = 0;
    }
  }

  /** The items from index `start` to `end` inclusive (0 <= start <= end < size), head first. */
  range(start: number, end: number): string[] {
    const out: string[] = [];
    let text = "";
    this.rangeSlices(start, end, {
      run(runText) {
        text = runText;
      },
      item(at, length) {
        // A packed node's item is copied out: a slice would keep the whole node alive. An open
        // node's item is its own string already.
        out.push(at === 0 && length === text.length ? text : copyRange(text, at, at + length));
      },
    });
    return out;
  }

  /**
   * Index of the first item equal to `item` scanning from the head, or from the tail when
   * `fromTail`, after skipping `skip` matches, looking at no more than `maxlen` items (0: all);
   * -1 when none. The building block of LINSERT and LPOS.
   */
  indexOf(item: string, fromTail = false, skip = 0, maxlen = 0): number {
    const found = this.positions(item, fromTail, skip, 1, maxlen);
    return found.length > 0 ? found[0] : -1;
  }

  /**
   * Indexes of the items equal to `item` (LPOS), scanning from the head, or from the tail when
   * `fromTail`: the matches after the first `skip`, at most `count` of them (0: all), looking at
   * no more than `maxlen` items (0: all). Compares in place, without copying items out.
   */
  positions(
    item: string,
    fromTail: boolean,
    skip: number,
    count: number,
    maxlen: number,
  ): number[] {
    const out: number[] = [];
    let limit = maxlen > 0 && maxlen < this.#size ? maxlen : this.#size;
    const visit = (index: number) => {
      if (skip > 0) skip--;
      else out.push(index);
      return count === 0 || out.length < count;
    };
    for (let n = 0; n < this.#nodeCount && limit > 0; n++) {
      const node = this.#node(fromTail ? this.#nodeCount - 1 - n : n);
      const nodeIndex = node.first - this.#node(0).first;
      const looked = scanNode(node, item, fromTail, limit, (p) => visit(nodeIndex + p));
      if (looked < 0) break;
      limit -= looked;
    }
    return out;
  }

  /**
   * Inserts `item` so that it ends at index `index` (0 <= index <= size), repacking the node
   * it lands in (LINSERT).
   */
  insertAt(index: number, item: string): void {
    if (index <= 0) return this.pushLeft(item);
    if (index >= this.#size) return this.pushRight(item);
    const k = this.#find(index);
    const node = this.#node(k);
    const items = nodeItems(node);
    items.splice(this.#offsetIn(node, index), 0, item);
    this.#replaceNode(k, items);
  }

  /**
   * Removes up to `limit` items equal to `item` (0: every one), scanning from the head, or from
   * the tail when `fromTail`; repacks only the nodes that held a removed item; returns how many
   * were removed (LREM).
   */
  removeMatching(item: string, limit: number, fromTail: boolean): number {
    const nodes: ListNode[] = [];
    let removed = 0;
    for (let n = 0; n < this.#nodeCount; n++) {
      const node = this.#node(fromTail ? this.#nodeCount - 1 - n : n);
      const drop: number[] = [];
      if (limit === 0 || removed < limit) {
        scanNode(node, item, fromTail, node.count, (position) => {
          drop.push(position);
          return limit === 0 || removed + drop.length < limit;
        });
      }
      removed += drop.length;
      if (drop.length === 0) nodes.push(node);
      else nodes.push(...withoutPositions(node, drop, fromTail));
    }
    if (removed === 0) return 0;
    if (fromTail) nodes.reverse();
    this.#setNodes(nodes);
    return removed;
  }

  /** Removes `left` items from the head and `right` from the tail (LTRIM), whole nodes at once. */
  trim(left: number, right: number): void {
    while (this.#nodeCount > 0 && left >= this.#node(0).count) {
      left -= this.#node(0).count;
      this.#dropWholeNode(0);
    }
    for (; left > 0 && this.#size > 0; left--) this.popLeft();
    while (this.#nodeCount > 0 && right >= this.#node(this.#nodeCount - 1).count) {
      right -= this.#node(this.#nodeCount - 1).count;
      this.#dropWholeNode(this.#nodeCount - 1);
    }
    for (; right > 0 && this.#size > 0; right--) this.popRight();
  }

  /**
   * The node at ring offset `k` from the head (0 <= k < node count), its pieces joined into
   * its `data` first, so that every reader sees one packed string.
   */
  #node(k: number): ListNode {
    const node = this.#ring[(this.#head + k) & this.#mask] as ListNode;
    if (node.headPieces !== null || node.tailPieces !== null) this.#join(node);
    return node;
  }

  /** The node at ring offset `k` as it is, pieces not joined (for sealing onto it). */
  #peek(k: number): ListNode {
    return this.#ring[(this.#head + k) & this.#mask] as ListNode;
  }

  /**
   * Joins the pieces of packed `node` and its live entries into one flat string, in one copy;
   * the bytes of entries popped from it meanwhile are dropped from the count, as they leave.
   */
  #join(node: ListNode): void {
    const parts: string[] = [];
    const head = node.headPieces;
    if (head !== null) { for (let i = head.length - 1; i >= 0; i--) parts.push(head[i]); }
    parts.push(node.data.slice(node.start, node.end));
    if (node.tailPieces !== null) parts.push(...node.tailPieces);
    const before = node.data.length + pieceBytes(node);
    node.data = parts.join("");
    node.start = 0;
    node.end = node.data.length;
    node.headPieces = null;
    node.tailPieces = null;
    this.#bytes += node.data.length - before;
  }

  /** Position in `node` of the item at list index `index`. */
  #offsetIn(node: ListNode, index: number): number {
    return index + this.#peek(0).first - node.first;
  }

  /** Ring offset of the node holding the item at `index` (0 <= index < size), by bisection. */
  #find(index: number): number {
    const target = index + this.#peek(0).first;
    let low = 0;
    let high = this.#nodeCount - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.#peek(middle).first <= target) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  /** Accounts an item removed from `node` at ring offset `k`; frees the node once empty. */
  #removedFrom(node: ListNode, k: number): void {
    node.count--;
    this.#size--;
    if (node.count === 0) this.#dropWholeNode(k);
  }

  /** Removes the node at ring offset `k` (the head or the tail) with all its items. */
  #dropWholeNode(k: number): void {
    const node = this.#node(k);
    this.#bytes -= nodeBytes(node);
    this.#size -= node.count;
    const slot = (this.#head + k) & this.#mask;
    this.#ring[slot] = undefined;
    if (k === 0) this.#head = (this.#head + 1) & this.#mask;
    this.#nodeCount--;
    if (this.#nodeCount === 0) this.#setNodes([]);
    else if (this.#mask + 1 > MIN_RING && this.#nodeCount <= (this.#mask + 1) >> 2) {
      this.#resizeRing((this.#mask + 1) >> 1);
    }
  }

  /** Puts `node` before the head node, numbering it. */
  #addNodeLeft(node: ListNode): void {
    if (this.#nodeCount > 0 && this.#peek(0).first < -RENUMBER_LIMIT) this.#renumber(0);
    node.first = this.#nodeCount > 0 ? this.#peek(0).first - node.count : 0;
    this.#growRingIfFull();
    this.#head = (this.#head - 1) & this.#mask;
    this.#ring[this.#head] = node;
    this.#nodeCount++;
  }

  /** Puts `node` after the tail node, numbering it. */
  #addNodeRight(node: ListNode): void {
    if (this.#nodeCount > 0 && this.#peek(0).first > RENUMBER_LIMIT) this.#renumber(0);
    const tail = this.#nodeCount > 0 ? this.#peek(this.#nodeCount - 1) : undefined;
    node.first = tail === undefined ? 0 : tail.first + tail.count;
    this.#growRingIfFull();
    this.#ring[(this.#head + this.#nodeCount) & this.#mask] = node;
    this.#nodeCount++;
  }

  /**
   * Packs the open tail node, onto its packed neighbour when that stays under the target. The
   * packed run waits there as a piece, joined with the others in one copy only when the node is
   * read ({@link #node}, {@link #join}): joining at every seal copied the growing node each time,
   * up to 32 copies of 4 KB on average per 8 KB node filled by pushes (RPUSH of 32-byte items,
   * in process: 97 to 83 ns an RPUSH, 117 to 101 an LPUSH, without the string of the item). A
   * full node is not joined either: a list that is only pushed to never copies its items again
   * (the joined string, allocated young, was copied twice more by the scavenger on its way to
   * the old generation); `deno task bench:path --tests lpush`, three alternated runs: 628-680
   * against 598-652 ns an LPUSH.
   */
  #sealRight(): void {
    const node = this.#peek(this.#nodeCount - 1);
    const packed = packItems(node.items as string[]);
    const before = this.#nodeCount > 1 ? this.#peek(this.#nodeCount - 2) : undefined;
    if (before === undefined || !canTake(before, packed)) return this.#packInPlace(node, packed);
    this.#bytes -= nodeBytes(node) - packed.length - LIST_STRING_HEADER;
    (before.tailPieces ??= []).push(packed);
    before.count += node.count;
    this.#ring[(this.#head + this.#nodeCount - 1) & this.#mask] = undefined;
    this.#nodeCount--;
  }

  /** Packs the open head node, onto its packed neighbour as {@link #sealRight} does. */
  #sealLeft(): void {
    const node = this.#peek(0);
    const packed = packItems(node.items as string[]);
    const after = this.#nodeCount > 1 ? this.#peek(1) : undefined;
    if (after === undefined || !canTake(after, packed)) return this.#packInPlace(node, packed);
    this.#bytes -= nodeBytes(node) - packed.length - LIST_STRING_HEADER;
    (after.headPieces ??= []).push(packed);
    after.first = node.first;
    after.count += node.count;
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) & this.#mask;
    this.#nodeCount--;
  }

  /** Turns open `node` into a packed node of `packed`. */
  #packInPlace(node: ListNode, packed: string): void {
    this.#bytes += LIST_STRING_HEADER + packed.length + LIST_NODE_OVERHEAD - nodeBytes(node);
    node.items = null;
    node.data = packed;
    node.start = 0;
    node.end = packed.length;
  }

  /** Replaces the node at ring offset `k` by nodes holding `items` (possibly several). */
  #replaceNode(k: number, items: string[]): void {
    const nodes: ListNode[] = [];
    for (let n = 0; n < this.#nodeCount; n++) {
      if (n === k) nodes.push(...buildNodes(items));
      else nodes.push(this.#node(n));
    }
    this.#setNodes(nodes);
  }

  /** Makes `nodes` the list's nodes, renumbering them and recounting size and bytes. */
  #setNodes(nodes: ListNode[]): void {
    let capacity = MIN_RING;
    while (capacity < nodes.length) capacity *= 2;
    this.#nodeCount = nodes.length;
    this.#size = 0;
    for (const node of nodes) this.#size += node.count;
    const ring: (ListNode | undefined)[] = nodes;
    ring.length = capacity;
    this.#ring = ring;
    this.#mask = capacity - 1;
    this.#head = 0;
    this.#renumber(0);
    this.#bytes = this.measureBytes();
  }

  /** Numbers the nodes from `base`, head first. */
  #renumber(base: number): void {
    for (let k = 0; k < this.#nodeCount; k++) {
      const node = this.#peek(k);
      node.first = base;
      base += node.count;
    }
  }

  #growRingIfFull(): void {
    if (this.#nodeCount === this.#mask + 1) this.#resizeRing((this.#mask + 1) * 2);
  }

  /** Moves the nodes to a ring of `capacity` slots, the head at position 0. */
  #resizeRing(capacity: number): void {
    const ring: (ListNode | undefined)[] = new Array(capacity);
    for (let k = 0; k < this.#nodeCount; k++) ring[k] = this.#peek(k);
    this.#ring = ring;
    this.#mask = capacity - 1;
    this.#head = 0;
  }
}

/** Whether `item` can be pushed into end node `node`: an open node with room, not plain. */
function acceptsPush(node: ListNode, item: string): boolean {
  return node.items !== null && node.count < OPEN_NODE_ITEMS &&
    item.length <= PLAIN_ITEM_BYTES && !isPlain(node);
}

/** Whether packed `node` can take `packed` entries and stay under the target. */
function canTake(node: ListNode, packed: string): boolean {
  return node.items === null &&
    node.end - node.start + pieceBytes(node, false) + packed.length <= LIST_NODE_TARGET;
}

/**
 * Nodes holding the items of `node` but those at `positions` (from its head), in the scanning
 * order: reversed when `fromTail`.
 */
function withoutPositions(node: ListNode, positions: number[], fromTail: boolean): ListNode[] {
  const drop = new Set(positions);
  const kept = nodeItems(node).filter((_, i) => !drop.has(i));
  const nodes = buildNodes(kept);
  return fromTail ? nodes.reverse() : nodes;
}
