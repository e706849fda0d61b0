import assert from "node:assert/strict";
import { hasSlotBit, nextSlotBit } from "../../../src/cluster/node.ts";
import { CLUSTER_SLOTS } from "../../../src/cluster/key_slot.ts";

/** The slots `nextSlotBit` walks through, from 0 to the end. */
function walk(bitmap: Uint8Array): number[] {
  const slots: number[] = [];
  for (let s = nextSlotBit(bitmap, 0); s < CLUSTER_SLOTS; s = nextSlotBit(bitmap, s + 1)) {
    slots.push(s);
  }
  return slots;
}

function bitmapOf(slots: number[]): Uint8Array {
  const bitmap = new Uint8Array(CLUSTER_SLOTS / 8);
  for (const s of slots) bitmap[s >> 3] |= 1 << (s & 7);
  return bitmap;
}

Deno.test("nextSlotBit walks exactly the set slots, in order, across empty bytes", () => {
  for (const slots of [[], [0], [16383], [7, 8], [0, 1, 2, 3, 4, 5, 6, 7, 8], [100, 5000, 16376]]) {
    assert.deepEqual(walk(bitmapOf(slots)), slots);
  }
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let round = 0; round < 50; round++) {
    const bitmap = bitmapOf(Array.from({ length: 40 }, () => Math.floor(random() * CLUSTER_SLOTS)));
    const expected: number[] = [];
    for (let s = 0; s < CLUSTER_SLOTS; s++) if (hasSlotBit(bitmap, s)) expected.push(s);
    assert.deepEqual(walk(bitmap), expected);
  }
});

Deno.test("nextSlotBit from a set slot returns it; past the last, the slot count", () => {
  const bitmap = bitmapOf([9, 10]);
  assert.equal(nextSlotBit(bitmap, 9), 9);
  assert.equal(nextSlotBit(bitmap, 3), 9);
  assert.equal(nextSlotBit(bitmap, 11), CLUSTER_SLOTS);
  assert.equal(nextSlotBit(bitmap, CLUSTER_SLOTS), CLUSTER_SLOTS);
});
