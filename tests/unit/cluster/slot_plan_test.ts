import assert from "node:assert/strict";
import { CLUSTER_SLOTS } from "../../../src/cluster/key_slot.ts";
import { BLOCK_SLOTS, planSlots, rangesOf } from "../../../src/cluster/slot_plan.ts";

const BLOCKS = CLUSTER_SLOTS / BLOCK_SLOTS;

/** The shard name serving each slot (plans index shards by position; names are what last). */
function owners(names: readonly string[]): string[] {
  const plan = planSlots(names);
  return Array.from(plan, (shard) => names[shard]);
}

/** How many slots change owner between two shard lists, and how many of them go elsewhere. */
function movement(before: readonly string[], after: readonly string[]) {
  const a = owners(before);
  const b = owners(after);
  let moved = 0;
  /** Slots that change hands between two shards present in both plans. */
  let betweenStayers = 0;
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    if (a[slot] === b[slot]) continue;
    moved++;
    if (after.includes(a[slot]) && before.includes(b[slot])) betweenStayers++;
  }
  return { moved, betweenStayers };
}

/** Fixed shard lists of many shapes (not random: the bounds below hold for exactly these). */
function nameSets(count: number, size: number): string[][] {
  return Array.from(
    { length: count },
    (_, set) => Array.from({ length: size }, (_, i) => `set${set}-shard-${i + 1}`),
  );
}

Deno.test("every slot goes to one shard, in whole blocks of 64 slots, for 1 to 300 shards", () => {
  for (const n of [1, 2, 3, 4, 5, 6, 7, 10, 16, 100, 255, 256, 300]) {
    const names = Array.from({ length: n }, (_, i) => `shard-${i + 1}`);
    const plan = planSlots(names);
    assert.equal(plan.length, CLUSTER_SLOTS);
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      assert.ok(plan[slot] >= 0 && plan[slot] < n, `slot ${slot} of ${n} shards: ${plan[slot]}`);
      assert.equal(plan[slot], plan[slot - (slot % BLOCK_SLOTS)], `slot ${slot} leaves its block`);
    }
    // rangesOf covers exactly the shard's slots with sorted, disjoint, non-adjacent ranges.
    let covered = 0;
    for (let shard = 0; shard < n; shard++) {
      let previousEnd = -2;
      for (const [start, end] of rangesOf(plan, shard)) {
        assert.ok(start > previousEnd + 1 && end >= start, `ranges of shard ${shard}`);
        for (let slot = start; slot <= end; slot++) assert.equal(plan[slot], shard);
        covered += end - start + 1;
        previousEnd = end;
      }
    }
    assert.equal(covered, CLUSTER_SLOTS);
  }
});

Deno.test("every shard is within one block (64 slots) of an even share", () => {
  for (const n of [1, 2, 3, 4, 5, 6, 7, 9, 10, 16, 33, 100, 256]) {
    for (const names of nameSets(n > 50 ? 3 : 12, n)) {
      const counts = new Array<number>(n).fill(0);
      for (const shard of planSlots(names)) counts[shard]++;
      const low = Math.floor(BLOCKS / n) * BLOCK_SLOTS;
      const high = Math.ceil(BLOCKS / n) * BLOCK_SLOTS;
      for (const count of counts) {
        assert.ok(count >= low && count <= high, `${n} shards: ${counts.join(",")}`);
      }
      assert.ok(Math.max(...counts) - Math.min(...counts) <= BLOCK_SLOTS);
    }
  }
});

Deno.test("the plan is deterministic and does not depend on the order of the names", () => {
  const names = ["shard-1", "shard-2", "shard-3", "shard-4"];
  const reference = owners(names);
  assert.deepEqual(owners(names), reference, "same input, same plan");
  const permutations = (list: string[]): string[][] =>
    list.length <= 1
      ? [list]
      : list.flatMap((first, i) =>
        permutations([...list.slice(0, i), ...list.slice(i + 1)]).map((rest) => [first, ...rest])
      );
  for (const order of permutations(names)) assert.deepEqual(owners(order), reference, `${order}`);
  // Ten shards (256 = 10 * 25 + 6: the uneven share too) in reversed and rotated orders.
  const ten = Array.from({ length: 10 }, (_, i) => `node-${i}.example:7000`);
  const tenPlan = owners(ten);
  assert.deepEqual(owners([...ten].reverse()), tenPlan);
  assert.deepEqual(owners([...ten.slice(3), ...ten.slice(0, 3)]), tenPlan);
});

Deno.test("planSlots refuses an empty list and repeated names", () => {
  assert.throws(() => planSlots([]), /at least one shard/);
  assert.throws(() => planSlots(["a", "b", "a"]), /distinct/);
});

// Pure rendezvous hashing would move slots only to an added shard (and only from a removed
// one), but cannot keep shards within one block of each other; with the load bound, the
// changed share per shard makes a few blocks change hands between the shards that stay.
// No rule that is a function of the names alone can do both (a per-block choice that never
// moves between stayers is a fixed ranking of names per block, i.e. plain rendezvous). These
// tests hold the rule to what it can promise: under 1/3 of the slots move from 3 to 4 shards,
// the new shard receives its full share, and the moves between stayers are a small remainder.

Deno.test("adding a 4th shard to 3 moves under a third of the slots, nearly all to the new one", () => {
  const sets = [["shard-1", "shard-2", "shard-3"], ...nameSets(200, 3)];
  let worstStray = 0;
  for (const names of sets) {
    const added = `${names[0]}-new`;
    const after = [...names, added];
    const { moved, betweenStayers } = movement(names, after);
    const toNew = owners(after).filter((name) => name === added).length;
    assert.equal(toNew, BLOCKS / 4 * BLOCK_SLOTS, `${added} gets its full share`);
    assert.ok(moved < CLUSTER_SLOTS / 3, `${names}: ${moved} slots moved`);
    worstStray = Math.max(worstStray, betweenStayers);
  }
  // Measured: at most 13 blocks (832 slots, 5% of all) change hands between stayers.
  assert.ok(worstStray <= 16 * BLOCK_SLOTS, `${worstStray} slots moved between stayers`);
  // cluster-init's own names: 4608 slots move (28%), 512 of them between the first three.
  const own = movement(["shard-1", "shard-2", "shard-3"], [
    "shard-1",
    "shard-2",
    "shard-3",
    "shard-4",
  ]);
  assert.ok(own.moved <= 0.3 * CLUSTER_SLOTS && own.betweenStayers <= 8 * BLOCK_SLOTS);
});

Deno.test("removing one of 4 shards moves its slots and few others", () => {
  for (const names of [["shard-1", "shard-2", "shard-3", "shard-4"], ...nameSets(100, 4)]) {
    for (const removed of names) {
      const after = names.filter((name) => name !== removed);
      const before = owners(names);
      const next = owners(after);
      const { moved, betweenStayers } = movement(names, after);
      for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
        if (before[slot] === removed) assert.notEqual(next[slot], removed);
      }
      assert.ok(moved < CLUSTER_SLOTS / 3, `${names} without ${removed}: ${moved} moved`);
      assert.ok(betweenStayers <= 16 * BLOCK_SLOTS, `${betweenStayers} moved between stayers`);
    }
  }
});

Deno.test("growing one shard at a time from 2 to 10 moves about 1/N each time", () => {
  const names = ["shard-1", "shard-2"];
  for (let n = 3; n <= 10; n++) {
    const before = [...names];
    names.push(`shard-${n}`);
    const { moved } = movement(before, names);
    // Ideal 1/n; the bound's reshuffle adds at most 1/16 of the slots in these cases.
    assert.ok(moved >= CLUSTER_SLOTS / n - BLOCK_SLOTS, `${n} shards: ${moved} moved`);
    assert.ok(moved <= CLUSTER_SLOTS / n + CLUSTER_SLOTS / 16, `${n} shards: ${moved} moved`);
  }
});
