import assert from "node:assert/strict";
import fc from "fast-check";
import { LIST_BASE_BYTES, LIST_ITEM_OVERHEAD, ListValue } from "../../src/store/list_value.ts";

/** Bytes the memory model counts for a list holding `items`. */
function expectedBytes(items: readonly string[]): number {
  return items.reduce((n, item) => n + item.length + LIST_ITEM_OVERHEAD, LIST_BASE_BYTES);
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
  assert.equal(list.bytes, expectedBytes(["a", "longer", "c"]));
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
  assert.equal(list.bytes, expectedBytes(model));
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
  assert.equal(list.bytes, expectedBytes(["x", "b", "c", "y"]));
});

Deno.test("a clone is independent and OBJECT ENCODING is always quicklist", () => {
  const list = listOf(["a", "b"]);
  const copy = list.clone();
  copy.pushRight("c");
  list.popLeft();
  assert.deepEqual([...list.items()], ["b"]);
  assert.deepEqual([...copy.items()], ["a", "b", "c"]);
  assert.equal(copy.bytes, expectedBytes(["a", "b", "c"]));
  assert.equal(list.type, "list");
  assert.equal(list.encoding(), "quicklist");
  assert.equal(listOf(Array.from({ length: 10000 }, (_, i) => String(i))).encoding(), "quicklist");
});

type Op =
  | { kind: "pushLeft" | "pushRight"; item: string }
  | { kind: "popLeft" | "popRight" }
  | { kind: "set"; index: number; item: string }
  | { kind: "insertAt"; index: number; item: string }
  | { kind: "removeMatching"; item: string; limit: number; fromTail: boolean }
  | { kind: "trim"; left: number; right: number };

const ITEM = fc.constantFrom("a", "b", "c", "", "\x00\xff", "long item value");
const OP: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom("pushLeft" as const, "pushRight" as const), item: ITEM }),
  fc.record({ kind: fc.constantFrom("popLeft" as const, "popRight" as const) }),
  fc.record({
    kind: fc.constant("set" as const),
    index: fc.integer({ min: -2, max: 40 }),
    item: ITEM,
  }),
  fc.record({
    kind: fc.constant("insertAt" as const),
    index: fc.integer({ min: 0, max: 40 }),
    item: ITEM,
  }),
  fc.record({
    kind: fc.constant("removeMatching" as const),
    item: ITEM,
    limit: fc.integer({ min: 0, max: 3 }),
    fromTail: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("trim" as const), left: fc.nat(5), right: fc.nat(5) }),
);

/** Applies `op` to the reference model (a plain array) and returns what the list should answer. */
function applyToModel(model: string[], op: Op): unknown {
  switch (op.kind) {
    case "pushLeft":
      return model.unshift(op.item);
    case "pushRight":
      return model.push(op.item);
    case "popLeft":
      return model.shift();
    case "popRight":
      return model.pop();
    case "set":
      if (op.index < 0 || op.index >= model.length) return false;
      model[op.index] = op.item;
      return true;
    case "insertAt":
      model.splice(Math.min(op.index, model.length), 0, op.item);
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
    case "popLeft":
      return list.popLeft();
    case "popRight":
      return list.popRight();
    case "set":
      return list.set(op.index, op.item);
    case "insertAt":
      return list.insertAt(Math.min(op.index, list.size), op.item);
    case "removeMatching":
      return list.removeMatching(op.item, op.limit, op.fromTail);
    case "trim":
      return list.trim(op.left, op.right);
  }
}

Deno.test("a list behaves like an array model under random operations (seeded)", () => {
  fc.assert(
    fc.property(fc.array(OP, { maxLength: 300 }), (ops) => {
      const list = new ListValue();
      const model: string[] = [];
      for (const op of ops) {
        assert.deepEqual(applyToList(list, op), applyToModel(model, op), JSON.stringify(op));
        assert.equal(list.size, model.length);
        assert.equal(list.bytes, expectedBytes(model));
      }
      assert.deepEqual([...list.items()], model);
      for (let i = 0; i < model.length; i++) assert.equal(list.at(i), model[i]);
      if (model.length > 0) assert.deepEqual(list.range(0, model.length - 1), model);
      for (const item of ["a", "b", ""]) {
        assert.equal(list.indexOf(item), model.indexOf(item));
        assert.equal(list.indexOf(item, true), model.lastIndexOf(item));
      }
    }),
    { seed: 20240607, numRuns: 300 },
  );
});
