import assert from "node:assert/strict";
import fc from "fast-check";
import {
  LIST_BASE_BYTES,
  LIST_NODE_TARGET,
  ListValue,
  OPEN_NODE_ITEMS,
  PLAIN_ITEM_BYTES,
} from "../../src/store/list_value.ts";
import { BulkSlicesReply, type Reply } from "../../src/resp/reply.ts";
import { encodeReply } from "../../src/resp/encoder.ts";
import { ByteBuffer, toBinaryString } from "../../src/util/bytes.ts";

/**
 * Checks the list's O(1) byte count against a recount of its layout, and that it counts at
 * least every item with its one-byte prefix and suffix (exactly the base once empty).
 */
function assertBytes(list: ListValue, items: readonly string[]): void {
  assert.equal(list.bytes, list.measureBytes());
  const floor = items.reduce((n, item) => n + item.length + 2, LIST_BASE_BYTES);
  assert.ok(list.bytes >= floor, `${list.bytes} < ${floor}`);
  if (items.length === 0) assert.equal(list.bytes, LIST_BASE_BYTES);
}

function listOf(items: readonly string[]): ListValue {
  const list = new ListValue();
  for (const item of items) list.pushRight(item);
  return list;
}

Deno.test("a list pushes and pops at both ends in order", () => {
  const list = new ListValue();
  list.pushRight("b");
  list.pushLeft("a");
  list.pushRight("c");
  assert.deepEqual([...list.items()], ["a", "b", "c"]);
  assert.equal(list.size, 3);
  assert.equal(list.popLeft(), "a");
  assert.equal(list.popRight(), "c");
  assert.equal(list.popRight(), "b");
  assert.equal(list.popLeft(), undefined);
  assert.equal(list.popRight(), undefined);
  assert.equal(list.size, 0);
  assert.equal(list.bytes, LIST_BASE_BYTES);
});

Deno.test("a list reads and replaces by index and answers undefined out of range", () => {
  const list = listOf(["a", "b", "c"]);
  assert.equal(list.at(0), "a");
  assert.equal(list.at(2), "c");
  assert.equal(list.at(3), undefined);
  assert.equal(list.at(-1), undefined);
  assert.equal(list.set(1, "longer"), true);
  assert.equal(list.set(3, "x"), false);
  assert.deepEqual([...list.items()], ["a", "longer", "c"]);
  assertBytes(list, ["a", "longer", "c"]);
});

Deno.test("a list keeps its order across many wraps, growths and shrinks", () => {
  const list = new ListValue();
  const model: string[] = [];
  for (let i = 0; i < 5000; i++) {
    const item = `i${i}`;
    if (i % 3 === 0) {
      list.pushLeft(item);
      model.unshift(item);
    } else {
      list.pushRight(item);
      model.push(item);
    }
  }
  assert.deepEqual([...list.items()], model);
  while (list.size > 10) assert.equal(list.popLeft(), model.shift());
  assert.deepEqual([...list.items()], model);
  assertBytes(list, model);
});

Deno.test("insertAt, removeMatching, trim, indexOf and positions do what LINSERT, LREM, LTRIM and LPOS need", () => {
  const list = listOf(["a", "b", "a", "c", "a"]);
  list.insertAt(1, "x");
  list.insertAt(5, "y");
  list.insertAt(0, "h");
  list.insertAt(list.size, "t");
  assert.deepEqual([...list.items()], ["h", "a", "x", "b", "a", "c", "y", "a", "t"]);
  assert.equal(list.indexOf("a"), 1);
  assert.equal(list.indexOf("a", true), 7);
  assert.equal(list.indexOf("a", false, 1), 4);
  assert.equal(list.indexOf("a", false, 0, 1), -1);
  assert.deepEqual(list.positions("a", false, 0, 0, 0), [1, 4, 7]);
  assert.deepEqual(list.positions("a", true, 1, 1, 0), [4]);
  assert.deepEqual(list.positions("a", true, 0, 0, 2), [7]);
  assert.equal(list.removeMatching("a", 2, true), 2);
  assert.deepEqual([...list.items()], ["h", "a", "x", "b", "c", "y", "t"]);
  assert.equal(list.removeMatching("zz", 0, false), 0);
  list.trim(2, 1);
  assert.deepEqual([...list.items()], ["x", "b", "c", "y"]);
  assert.deepEqual(list.range(1, 2), ["b", "c"]);
  assertBytes(list, ["x", "b", "c", "y"]);
});

Deno.test("a clone is independent and OBJECT ENCODING is always quicklist", () => {
  const list = listOf(["a", "b"]);
  const copy = list.clone();
  copy.pushRight("c");
  list.popLeft();
  assert.deepEqual([...list.items()], ["b"]);
  assert.deepEqual([...copy.items()], ["a", "b", "c"]);
  assertBytes(copy, ["a", "b", "c"]);
  assert.equal(list.type, "list");
  assert.equal(list.encoding(), "quicklist");
  assert.equal(listOf(Array.from({ length: 10000 }, (_, i) => String(i))).encoding(), "quicklist");
});

Deno.test("a long list of short items packs into nodes of about 8 KB, under 16 bytes an item", () => {
  const list = new ListValue();
  for (let i = 0; i < 10000; i++) list.pushRight(`item:${i}`);
  assert.ok(list.bytes / list.size < 16, `${list.bytes / list.size} bytes per item`);
  assert.ok(list.nodeCount >= 10000 * 11 / LIST_NODE_TARGET, `${list.nodeCount} nodes`);
  assert.ok(list.nodeCount <= 2 * 10000 * 11 / LIST_NODE_TARGET, `${list.nodeCount} nodes`);
  assert.equal(list.at(5000), "item:5000");
  assert.equal(list.indexOf("item:9999", true), 9999);
  for (let i = 0; i < 10000; i++) assert.equal(list.popLeft(), `item:${i}`);
  assertBytes(list, []);
});

/** A binary string of `length` bytes cycling through every byte value from `offset`. */
function bytesItem(length: number, offset = 0): string {
  let out = "";
  for (let i = 0; i < length; i++) out += String.fromCharCode((i + offset) & 0xff);
  return out;
}

/** Items of the lengths around the prefix boundaries and the plain-node threshold. */
const BOUNDARY_ITEMS = [0, 1, 12, 13, 127, 128, 129, PLAIN_ITEM_BYTES, PLAIN_ITEM_BYTES + 1]
  .concat([16383, 16384, 16385])
  .map((length, i) => bytesItem(length, i * 7));

Deno.test("items of every byte value and of lengths around the prefix boundaries round-trip", () => {
  const list = new ListValue();
  const model: string[] = [];
  for (let round = 0; round < 3; round++) {
    for (const item of BOUNDARY_ITEMS) {
      list.pushRight(item);
      list.pushLeft(item + "<");
      model.push(item);
      model.unshift(item + "<");
    }
    for (let i = 0; i < 300; i++) {
      list.pushRight(bytesItem(i % 40, i));
      model.push(bytesItem(i % 40, i));
    }
  }
  assert.deepEqual([...list.items()], model);
  assert.deepEqual(list.range(0, model.length - 1), model);
  for (let i = 0; i < model.length; i++) assert.equal(list.at(i), model[i]);
  for (const item of BOUNDARY_ITEMS) assert.equal(list.indexOf(item), model.indexOf(item));
  assertBytes(list, model);
  while (list.size > 0) {
    assert.equal(list.popRight(), model.pop());
    if (list.size > 0) assert.equal(list.popLeft(), model.shift());
  }
  assertBytes(list, []);
});

Deno.test("runs sealed onto a packed node from both ends wait as pieces and read back in order", () => {
  const list = new ListValue();
  const model: string[] = [];
  let n = 0;
  const next = () => `item-${n}-${"x".repeat(n++ % 9)}`;
  for (let round = 0; round < 8; round++) {
    // Both open end nodes seal onto the same packed node while it has room.
    for (let i = 0; i < OPEN_NODE_ITEMS + 3; i++) {
      const right = next();
      list.pushRight(right);
      model.push(right);
      const left = next();
      list.pushLeft(left);
      model.unshift(left);
    }
    assertBytes(list, model);
    if (round % 2 === 0) {
      // A read joins the pieces of the node it lands in.
      const middle = model.length >> 1;
      assert.equal(list.at(middle), model[middle]);
      assert.deepEqual(list.range(middle - 30, middle + 30), model.slice(middle - 30, middle + 31));
      assertBytes(list, model);
    }
  }
  // Pops reach, and go through, nodes that still hold pieces.
  for (let i = 0; i < 3 * OPEN_NODE_ITEMS; i++) {
    assert.equal(list.popLeft(), model.shift());
    assert.equal(list.popRight(), model.pop());
    assertBytes(list, model);
  }
  assert.ok(list.set(5, "replaced"));
  model[5] = "replaced";
  assert.deepEqual([...list.items()], model);
  assertBytes(list, model);
  assert.deepEqual([...list.clone().items()], model);
  while (list.size > 0) assert.equal(list.popRight(), model.pop());
  assertBytes(list, model);
});

Deno.test("nodes filled by pushes alone read back in order from either end and by index", () => {
  const list = new ListValue();
  const model: string[] = [];
  // Enough 32-byte items at each end to fill several packed nodes that no read has joined.
  const perEnd = Math.ceil((4 * LIST_NODE_TARGET) / 34);
  for (let i = 0; i < perEnd; i++) {
    const right = `r${i}`.padEnd(32, ".");
    list.pushRight(right);
    model.push(right);
    const left = `l${i}`.padEnd(32, ".");
    list.pushLeft(left);
    model.unshift(left);
  }
  assertBytes(list, model);
  for (const i of [0, 1, 250, model.length >> 1, model.length - 2, model.length - 1]) {
    assert.equal(list.at(i), model[i]);
  }
  assert.deepEqual(list.range(0, model.length - 1), model);
  assertBytes(list, model);
  for (let i = 0; i < 300; i++) {
    assert.equal(list.popLeft(), model.shift());
    assert.equal(list.popRight(), model.pop());
  }
  assertBytes(list, model);
});

Deno.test("a sink that copies runs gets an open node's items as one joined run, same items", () => {
  const list = new ListValue();
  const items: string[] = [];
  for (let i = 0; i < 3 * OPEN_NODE_ITEMS + 5; i++) {
    const item = i % 3 === 0 ? `\xff\x00${i}` : `item ${i}`;
    list.pushLeft(item);
    items.unshift(item);
  }
  for (const [start, end] of [[0, 0], [0, 4], [2, 40], [0, items.length - 1], [30, 70]]) {
    const reply = new BulkSlicesReply();
    list.rangeSlices(start, end, reply);
    assert.deepEqual(reply.items(), items.slice(start, end + 1));
    assert.deepEqual(list.range(start, end), items.slice(start, end + 1));
  }
  const reply = new BulkSlicesReply();
  list.rangeSlices(0, 4, reply);
  assert.equal(reply.texts.length, 1, "the open head node's items come as one run");
});

Deno.test("alternating pushes and pops at a node boundary keep the bookkeeping", () => {
  const list = new ListValue();
  const model: string[] = [];
  for (let i = 0; i < 3 * OPEN_NODE_ITEMS + 1; i++) {
    list.pushLeft(`l${i}`);
    model.unshift(`l${i}`);
  }
  for (let i = 0; i < 200; i++) {
    list.pushLeft(`x${i}`);
    assert.equal(list.popLeft(), `x${i}`);
    assert.equal(list.popLeft(), model.shift());
    list.pushRight(`y${i}`);
    model.push(`y${i}`);
    assertBytes(list, model);
  }
  assert.deepEqual([...list.items()], model);
});

type Op =
  | { kind: "pushLeft" | "pushRight"; item: string }
  | { kind: "pushMany"; items: string[]; left: boolean }
  | { kind: "popLeft" | "popRight" }
  | { kind: "at"; index: number }
  | { kind: "range"; start: number; length: number }
  | { kind: "set"; index: number; item: string }
  | { kind: "insertAt"; index: number; item: string }
  | { kind: "removeMatching"; item: string; limit: number; fromTail: boolean }
  | { kind: "trim"; left: number; right: number }
  | {
    kind: "positions";
    item: string;
    fromTail: boolean;
    skip: number;
    count: number;
    maxlen: number;
  }
  | { kind: "clone" };

/** Items drawn from a few repeated ones (so that matches exist), any bytes, and boundary ones. */
const ITEM = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("a", "b", "c", "", "\x00\xff", "long item value") },
  {
    weight: 2,
    arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 20 })
      .map((codes) => String.fromCharCode(...codes)),
  },
  { weight: 1, arbitrary: fc.constantFrom(...BOUNDARY_ITEMS) },
);
/** Short items for bulk pushes, so that lists span many nodes. */
const BULK_ITEM = fc.oneof(
  fc.constantFrom("a", "b", "item:1234"),
  fc.nat(99999).map((n) => `item:${n}`),
);
/** An index, taken modulo a little more than the list's size when applied. */
const INDEX = fc.nat(1_000_000);

const OP: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom("pushLeft" as const, "pushRight" as const), item: ITEM }),
  fc.record({
    kind: fc.constant("pushMany" as const),
    items: fc.array(BULK_ITEM, { minLength: 100, maxLength: 3000 }),
    left: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("pushMany" as const),
    items: fc.array(BULK_ITEM, { minLength: 100, maxLength: 3000 }),
    left: fc.boolean(),
  }),
  fc.record({ kind: fc.constantFrom("popLeft" as const, "popRight" as const) }),
  fc.record({ kind: fc.constant("at" as const), index: INDEX }),
  fc.record({ kind: fc.constant("range" as const), start: INDEX, length: fc.nat(2000) }),
  fc.record({ kind: fc.constant("set" as const), index: INDEX, item: ITEM }),
  fc.record({ kind: fc.constant("insertAt" as const), index: INDEX, item: ITEM }),
  fc.record({
    kind: fc.constant("removeMatching" as const),
    item: ITEM,
    limit: fc.integer({ min: 0, max: 3 }),
    fromTail: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("trim" as const), left: fc.nat(400), right: fc.nat(400) }),
  fc.record({
    kind: fc.constant("positions" as const),
    item: ITEM,
    fromTail: fc.boolean(),
    skip: fc.nat(3),
    count: fc.nat(3),
    maxlen: INDEX,
  }),
  fc.record({ kind: fc.constant("clone" as const) }),
);

/** `index` folded into -1 .. size + 1, so that out-of-range indexes occur too. */
function fold(index: number, size: number): number {
  return (index % (size + 3)) - 1;
}

/** LPOS on the reference model. */
function modelPositions(model: string[], op: Extract<Op, { kind: "positions" }>): number[] {
  const out: number[] = [];
  const maxlen = op.maxlen % (model.length + 2);
  const limit = maxlen > 0 && maxlen < model.length ? maxlen : model.length;
  let skip = op.skip;
  for (let n = 0; n < limit; n++) {
    const i = op.fromTail ? model.length - 1 - n : n;
    if (model[i] !== op.item) continue;
    if (skip > 0) skip--;
    else out.push(i);
    if (op.count > 0 && out.length >= op.count) break;
  }
  return out;
}

/** Applies `op` to the reference model (a plain array) and returns what the list should answer. */
function applyToModel(model: string[], op: Op): unknown {
  switch (op.kind) {
    case "pushLeft":
      return model.unshift(op.item);
    case "pushRight":
      return model.push(op.item);
    case "pushMany":
      for (const item of op.items) {
        if (op.left) model.unshift(item);
        else model.push(item);
      }
      return model.length;
    case "popLeft":
      return model.shift();
    case "popRight":
      return model.pop();
    case "at":
      return model[fold(op.index, model.length)];
    case "range": {
      if (model.length === 0) return [];
      const start = op.start % model.length;
      return model.slice(start, Math.min(model.length, start + op.length + 1));
    }
    default:
      return applyChangeToModel(model, op);
  }
}

/** The changing operations of {@link applyToModel} besides pushes and pops. */
function applyChangeToModel(model: string[], op: Op): unknown {
  switch (op.kind) {
    case "set": {
      const index = fold(op.index, model.length);
      if (index < 0 || index >= model.length) return false;
      model[index] = op.item;
      return true;
    }
    case "insertAt":
      model.splice(op.index % (model.length + 1), 0, op.item);
      return undefined;
    case "removeMatching": {
      const order = model.map((_, i) => i);
      if (op.fromTail) order.reverse();
      const drop = new Set<number>();
      for (const i of order) {
        if (model[i] === op.item && (op.limit === 0 || drop.size < op.limit)) drop.add(i);
      }
      const kept = model.filter((_, i) => !drop.has(i));
      model.splice(0, model.length, ...kept);
      return drop.size;
    }
    case "trim":
      model.splice(0, Math.min(op.left, model.length));
      model.splice(Math.max(0, model.length - op.right), op.right);
      return undefined;
    case "positions":
      return [modelPositions(model, op), modelPositions(model, { ...op, count: 1 })[0] ?? -1];
    default:
      return model.length;
  }
}

function applyToList(list: ListValue, op: Op): unknown {
  switch (op.kind) {
    case "pushLeft":
      list.pushLeft(op.item);
      return list.size;
    case "pushRight":
      list.pushRight(op.item);
      return list.size;
    case "pushMany":
      for (const item of op.items) {
        if (op.left) list.pushLeft(item);
        else list.pushRight(item);
      }
      return list.size;
    case "popLeft":
      return list.popLeft();
    case "popRight":
      return list.popRight();
    case "at":
      return list.at(fold(op.index, list.size));
    case "range": {
      if (list.size === 0) return [];
      const start = op.start % list.size;
      return list.range(start, Math.min(list.size - 1, start + op.length));
    }
    default:
      return applyChangeToList(list, op);
  }
}

/** The changing operations of {@link applyToList} besides pushes and pops. */
function applyChangeToList(list: ListValue, op: Op): unknown {
  switch (op.kind) {
    case "set":
      return list.set(fold(op.index, list.size), op.item);
    case "insertAt":
      return list.insertAt(op.index % (list.size + 1), op.item);
    case "removeMatching":
      return list.removeMatching(op.item, op.limit, op.fromTail);
    case "trim":
      return list.trim(op.left, op.right);
    case "positions": {
      const maxlen = op.maxlen % (list.size + 2);
      return [
        list.positions(op.item, op.fromTail, op.skip, op.count, maxlen),
        list.indexOf(op.item, op.fromTail, op.skip, maxlen),
      ];
    }
    default:
      return list.size;
  }
}

/** The items `rangeSlices` gives for `start` to `end` inclusive, read out of their strings. */
function slicedRange(list: ListValue, start: number, end: number): string[] {
  const items: string[] = [];
  let text = "";
  list.rangeSlices(start, end, {
    run(runText) {
      text = runText;
    },
    item(at, length) {
      items.push(text.slice(at, at + length));
    },
  });
  return items;
}

/** Checks every read of `list` against `model`. */
function assertSameReads(list: ListValue, model: string[]): void {
  assert.deepEqual([...list.items()], model);
  for (let i = 0; i < model.length; i++) assert.equal(list.at(i), model[i]);
  if (model.length > 0) {
    assert.deepEqual(list.range(0, model.length - 1), model);
    assert.deepEqual(slicedRange(list, 0, model.length - 1), model);
    const from = model.length >> 2;
    const to = model.length - 1 - (model.length >> 3);
    assert.deepEqual(slicedRange(list, from, to), model.slice(from, to + 1));
  }
  for (const item of ["a", "b", "", BOUNDARY_ITEMS[5]]) {
    assert.equal(list.indexOf(item), model.indexOf(item));
    assert.equal(list.indexOf(item, true), model.lastIndexOf(item));
  }
}

Deno.test("a list behaves like an array model under random operations (seeded)", () => {
  fc.assert(
    fc.property(fc.array(OP, { minLength: 20, maxLength: 120, size: "max" }), (ops) => {
      let list = new ListValue();
      const model: string[] = [];
      for (const op of ops) {
        if (op.kind === "clone") {
          const copy = list.clone();
          list.pushRight("clone-only");
          assert.deepEqual([...copy.items()], model);
          assertBytes(copy, model);
          list = copy;
          continue;
        }
        const expected = applyToModel(model, op);
        assert.deepEqual(applyToList(list, op), expected, op.kind);
        assert.equal(list.size, model.length);
        assertBytes(list, model);
      }
      assertSameReads(list, model);
    }),
    { seed: 20240607, numRuns: 100 },
  );
});

Deno.test("a reply walking packed entries itself gets every range of a list right, on the wire too; pops as views give the same items", () => {
  const itemArb = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 })
      .map((codes) => String.fromCharCode(...codes)),
    fc.constantFrom("x".repeat(24), "y".repeat(200)),
  );
  // Lists of short printable items only too: their packed spans are ASCII, which the encoder
  // copies another way than spans with other bytes or two-byte prefixes.
  const asciiItemArb = fc.string({ maxLength: 40 });
  const ops = (item: fc.Arbitrary<string>) =>
    fc.array(
      fc.oneof(
        { weight: 3, arbitrary: fc.record({ push: fc.constantFrom("left", "right"), item }) },
        {
          weight: 1,
          arbitrary: fc.record({ pop: fc.constantFrom("left", "right"), view: fc.boolean() }),
        },
      ),
      { minLength: 1, maxLength: 700, size: "max" },
    );
  fc.assert(
    fc.property(
      fc.oneof(ops(itemArb), ops(asciiItemArb)),
      fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 8 }),
      (ops, ranges) => {
        const list = new ListValue();
        const model: string[] = [];
        for (const o of ops) {
          // Binary strings: one byte per character.
          if ("push" in o) {
            const item = [...o.item].map((c) => String.fromCharCode(c.charCodeAt(0) & 0xff))
              .join("");
            if (o.push === "left") {
              list.pushLeft(item);
              model.unshift(item);
            } else {
              list.pushRight(item);
              model.push(item);
            }
          } else if (o.pop === "left") assert.equal(list.popLeft(o.view), model.shift());
          else assert.equal(list.popRight(o.view), model.pop());
        }
        if (model.length === 0) return;
        for (const [a, b] of ranges) {
          const start = Math.min(a, b) % model.length;
          const end = Math.min(model.length - 1, start + Math.abs(a - b));
          const reply = new BulkSlicesReply();
          list.rangeSlices(start, end, reply);
          const expected = model.slice(start, end + 1);
          assert.deepEqual(reply.items(), expected);
          assert.equal(encoded(reply), encoded(expected));
        }
      },
    ),
    { seed: 0x5eed, numRuns: 150 },
  );
});

/** The RESP2 bytes of `reply`, as a binary string. */
function encoded(reply: Reply): string {
  const out = new ByteBuffer(8);
  encodeReply(out, reply, 2);
  return toBinaryString(out.view());
}
