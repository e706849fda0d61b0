import assert from "node:assert/strict";
import fc from "fast-check";
import { ValueBlocks } from "../../src/store/value_blocks.ts";
import { ArenaFullError, MAX_ARENA_BYTES } from "../../src/store/arena.ts";

/** Every value of `blocks` in index order. */
function valuesOf(blocks: ValueBlocks): string[] {
  const out: string[] = [];
  for (let i = 0; i < blocks.size; i++) out.push(blocks.get(i));
  return out;
}

/** A binary string (one character per byte) of `length` bytes drawn from `seed`. */
function binary(length: number, seed: number): string {
  let text = "";
  for (let i = 0; i < length; i++) text += String.fromCharCode((seed * 31 + i * 7) & 0xff);
  return text;
}

Deno.test("value blocks keep binary values by index through sets, removals and growth", () => {
  const blocks = new ValueBlocks();
  const model: string[] = [];
  for (let i = 0; i < 300; i++) {
    const value = binary(i % 40, i);
    blocks.push(value);
    model.push(value);
  }
  assert.deepEqual(valuesOf(blocks), model);
  // Shorter values stay in their blocks, longer ones move; both read back.
  for (let i = 0; i < 300; i += 3) {
    const value = binary(i % 2 === 0 ? 3 : 200, i + 1);
    blocks.set(i, value);
    model[i] = value;
    assert.equal(blocks.length(i), value.length);
  }
  assert.deepEqual(valuesOf(blocks), model);
  // Removing moves the last entry into the hole, as the member table does.
  for (const i of [0, 17, 150, 5]) {
    blocks.removeAt(i);
    const last = model.pop()!;
    if (i < model.length) model[i] = last;
  }
  assert.deepEqual(valuesOf(blocks), model);
  assert.equal(blocks.get(model.length - 1), model[model.length - 1]);
});

Deno.test("value blocks: the empty value, a value the size of a block, and emptying", () => {
  const blocks = new ValueBlocks(1, 1);
  blocks.push("");
  blocks.push("12345678");
  blocks.push("123456789");
  assert.deepEqual(valuesOf(blocks), ["", "12345678", "123456789"]);
  blocks.set(0, "abcdefgh");
  blocks.set(1, "");
  assert.deepEqual(valuesOf(blocks), ["abcdefgh", "", "123456789"]);
  while (blocks.size > 0) blocks.removeAt(0);
  blocks.push("again");
  assert.deepEqual(valuesOf(blocks), ["again"]);
});

Deno.test("value blocks compact the garbage of rewrites and stay correct", () => {
  const blocks = new ValueBlocks();
  const model: string[] = [];
  for (let i = 0; i < 50; i++) {
    blocks.push("x");
    model.push("x");
  }
  // Each rewrite outgrows its block: garbage piles up past the compaction threshold many times.
  for (let round = 1; round <= 40; round++) {
    for (let i = 0; i < 50; i++) {
      const value = binary(8 * round + (i % 5), round * 100 + i);
      blocks.set(i, value);
      model[i] = value;
    }
    assert.deepEqual(valuesOf(blocks), model);
  }
});

/** A random change to a value store: push, set or remove (the index taken modulo the size). */
type ChangeOp =
  | { kind: "push"; length: number; seed: number }
  | { kind: "set"; at: number; length: number; seed: number }
  | { kind: "remove"; at: number };

const changeOpArb: fc.Arbitrary<ChangeOp> = fc.oneof(
  fc.record({ kind: fc.constant("push" as const), length: fc.nat(300), seed: fc.nat(255) }),
  fc.record({
    kind: fc.constant("set" as const),
    at: fc.nat(),
    length: fc.nat(300),
    seed: fc.nat(255),
  }),
  fc.record({ kind: fc.constant("remove" as const), at: fc.nat() }),
);

/**
 * Applies `op` to `blocks` and to the array `model` alike; removals keep at least `keep`
 * values.
 */
function applyChange(blocks: ValueBlocks, model: string[], op: ChangeOp, keep = 0): void {
  if (op.kind === "push") {
    const value = binary(op.length, op.seed);
    blocks.push(value);
    model.push(value);
  } else if (op.kind === "set" && model.length > 0) {
    const at = op.at % model.length;
    const value = binary(op.length, op.seed);
    blocks.set(at, value);
    model[at] = value;
  } else if (op.kind === "remove" && model.length > keep) {
    const at = op.at % model.length;
    blocks.removeAt(at);
    const last = model.pop()!;
    if (at < model.length) model[at] = last;
  }
}

Deno.test("value blocks match an array under random pushes, sets and removals; clones are independent", () => {
  const op = fc.oneof(changeOpArb, fc.record({ kind: fc.constant("clone" as const) }));
  fc.assert(
    fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
      let blocks = new ValueBlocks();
      let model: string[] = [];
      for (const o of ops) {
        if (o.kind !== "clone") applyChange(blocks, model, o);
        else {
          const copy = blocks.clone();
          // Changing the original leaves the copy as it was.
          const snapshot = [...model];
          blocks.push("after the clone");
          assert.deepEqual(valuesOf(copy), snapshot);
          blocks = copy;
          model = snapshot;
        }
        assert.equal(blocks.size, model.length);
      }
      assert.deepEqual(valuesOf(blocks), model);
    }),
    { numRuns: 200 },
  );
});

Deno.test("values placed past 2 GiB keep their bytes (offsets beyond int32)", () => {
  // Byte offsets were int32s: from 2 GiB on they came back negative and HGET returned other
  // bytes. The store below starts its blocks 64 bytes short of 2 GiB in a 4 GiB buffer that is
  // never written before them (so costs no memory); no clones, which would copy it all.
  fc.assert(
    fc.property(fc.array(changeOpArb, { minLength: 1, maxLength: 100 }), (ops) => {
      const start = 2 ** 31 - 64;
      const blocks = new ValueBlocks(8, 2 ** 32, start);
      const model: string[] = [];
      // Emptying the store would start it over at offset 0: keep one value.
      for (const o of ops) applyChange(blocks, model, o, 1);
      assert.deepEqual(valuesOf(blocks), model);
      for (let i = 0; i < model.length; i++) {
        assert.ok(blocks.offset(i) >= start);
        const view = blocks.bytes.subarray(blocks.offset(i), blocks.offset(i) + blocks.length(i));
        assert.equal(String.fromCharCode(...view), model[i]);
      }
    }),
    { numRuns: 40 },
  );
});

Deno.test("a value that would take a hash's values past 16 GiB is refused, nothing changed", () => {
  const blocks = new ValueBlocks(8, 256, MAX_ARENA_BYTES - 64);
  assert.throws(() => blocks.push("x".repeat(100)), ArenaFullError);
  assert.equal(blocks.size, 0);
  assert.match(
    new ArenaFullError("the values of one hash").message,
    /^the values of one hash cannot take more than 16 GiB$/,
  );
});
