import assert from "node:assert/strict";
import { CLUSTER_SLOTS } from "../../../src/cluster/key_slot.ts";
import { BLOCK_SLOTS, planSlots } from "../../../src/cluster/slot_plan.ts";
import {
  blockScore,
  countDeviations,
  currentLayout,
  growLayout,
  movesBetween,
  nextShardName,
  rebalanceMoves,
  recognizeNames,
  reshardMoves,
  ruleLayout,
  type ShardSlots,
  shrinkLayout,
  slotCounts,
} from "../../../src/cli/cluster_plan.ts";
import { parseNodes } from "../../../src/cli/cluster_view.ts";

const names = (n: number) => Array.from({ length: n }, (_, i) => `shard-${i + 1}`);

/** Masters holding exactly the slots the rule gives `list`, with ids `id-<name>`. */
function shardsOf(list: string[]): ShardSlots[] {
  const plan = planSlots(list);
  return list.map((name, i) => ({
    id: `id-${name}`,
    slots: [...plan.keys()].filter((slot) => plan[slot] === i),
  }));
}

Deno.test("blockScore is the rule's own score: planSlots rebuilt from it gives the same plan", () => {
  for (const list of [names(3), ["alpha", "beta", "gamma", "delta"], names(7)]) {
    const blocks = CLUSTER_SLOTS / BLOCK_SLOTS;
    const pairs = list.flatMap((name, shard) =>
      Array.from(
        { length: blocks },
        (_, block) => ({ block, shard, score: blockScore(name, block) }),
      )
    ).sort((a, b) => b.score - a.score || a.block - b.block || a.shard - b.shard);
    const sorted = [...list].sort();
    const capacity = list.map((n) =>
      Math.floor(blocks / list.length) + (sorted.indexOf(n) < blocks % list.length ? 1 : 0)
    );
    const owner = new Array<number>(blocks).fill(-1);
    const taken = list.map(() => 0);
    for (const p of pairs) {
      if (owner[p.block] >= 0 || taken[p.shard] >= capacity[p.shard]) continue;
      owner[p.block] = p.shard;
      taken[p.shard]++;
    }
    const plan = planSlots(list);
    assert.ok(owner.every((o, block) => plan[block * BLOCK_SLOTS] === o), list.join(","));
  }
});

Deno.test("shard names are recovered from the slots: cluster-init's, with gaps, many shards", () => {
  const id = "f".repeat(40);
  for (const list of [names(3), ["shard-1", "shard-3", "shard-4"], names(12), ["shard-2", id]]) {
    const shards = shardsOf(list);
    assert.deepEqual(recognizeNames(shards, [...shards.map((s) => s.id), id]), list);
  }
  // A topology file's own names are found only when given (`--names`).
  const topology = shardsOf(["alpha", "beta", "gamma"]);
  const ids = topology.map((s) => s.id);
  assert.deepEqual(recognizeNames(topology, ids), ids);
  assert.deepEqual(recognizeNames(topology, ["alpha", "beta", "gamma", ...ids]), [
    "alpha",
    "beta",
    "gamma",
  ]);
});

Deno.test("masters whose slots match no name (redis-cli's contiguous ranges) go by node id", () => {
  const third = Math.ceil(CLUSTER_SLOTS / 3);
  const shards = [0, 1, 2].map((i) => ({
    id: `node-${i}`,
    slots: Array.from({ length: CLUSTER_SLOTS }, (_, s) => s).filter((s) => (s / third | 0) === i),
  }));
  assert.deepEqual(recognizeNames(shards, shards.map((s) => s.id)), ["node-0", "node-1", "node-2"]);
});

Deno.test("a shard named by its old master's id keeps its name after a failover", () => {
  const ids = ["a".repeat(40), "b".repeat(40), "c".repeat(40)];
  const shards = shardsOf(ids).map((s, i) => ({ ...s, id: i === 1 ? "d".repeat(40) : ids[i] }));
  // The promoted replica "ddd..." now leads shard "bbb..."; the old master is still a member.
  assert.deepEqual(recognizeNames(shards, [...ids, "d".repeat(40)]), ids);
});

Deno.test("3 -> 4 shards: the plan moves 28.1% of the slots, a quarter to the new one from all", () => {
  const current = ruleLayout(names(3));
  const target = ruleLayout(names(4));
  const moves = movesBetween(current, target);
  assert.equal(moves.length, 4608);
  assert.ok(moves.length / CLUSTER_SLOTS <= 0.25 * 1.13, "at most 1.13 x the ideal quarter");
  const toNew = moves.filter((m) => m.to === 3);
  assert.equal(toNew.length, CLUSTER_SLOTS / 4);
  for (const from of [0, 1, 2]) {
    const given = toNew.filter((m) => m.from === from).length;
    assert.ok(given >= 0.2 * toNew.length, `shard ${from} gives ${given}`);
  }
  assert.deepEqual(slotCounts(target, 4), [4096, 4096, 4096, 4096]);
  // Removing it again is the same moves backwards.
  assert.equal(movesBetween(target, current).length, moves.length);
});

/** Masters holding the slots of `layout`, named by `list` (ids `id-<name>`). */
function shardsFrom(layout: Int32Array, list: readonly string[]): ShardSlots[] {
  return list.map((name, i) => ({
    id: `id-${name}`,
    slots: [...layout.keys()].filter((slot) => layout[slot] === i),
  }));
}

Deno.test("add-shard and remove-shard move exactly the ideal share, 3 -> 4 -> 3", () => {
  const current = ruleLayout(names(3));
  const grown = growLayout(current, names(4), 3);
  const moves = movesBetween(current, grown);
  assert.equal(moves.length, CLUSTER_SLOTS / 4, "3 -> 4 moves 25.0% of the slots");
  assert.ok(moves.every((m) => m.to === 3));
  for (const from of [0, 1, 2]) {
    const given = moves.filter((m) => m.from === from).length;
    assert.ok(given >= 0.3 * moves.length, `shard ${from} gives ${given}`);
  }
  assert.deepEqual(slotCounts(grown, 4), [4096, 4096, 4096, 4096]);
  // The new shard holds blocks its name prefers: the names are still recognized.
  const ids = names(4).map((n) => `id-${n}`);
  assert.deepEqual(recognizeNames(shardsFrom(grown, names(4)), ids), names(4));
  for (const removed of [3, 0]) {
    const shrunk = shrinkLayout(grown, names(4), removed);
    const back = movesBetween(grown, shrunk);
    assert.equal(back.length, CLUSTER_SLOTS / 4, "4 -> 3 moves only the removed shard's slots");
    assert.ok(back.every((m) => m.from === removed && m.to !== removed));
    const left = slotCounts(shrunk, 4).filter((_, i) => i !== removed).sort();
    assert.deepEqual(left, [5461, 5461, 5462]);
  }
});

Deno.test("growing one shard at a time from 2 to 10, from redis-cli's ranges too, moves 1/N", () => {
  for (const start of ["rule", "contiguous"]) {
    let list = names(2);
    let layout = start === "rule" ? ruleLayout(list) : currentLayout([
      { id: "a", slots: Array.from({ length: 8192 }, (_, i) => i) },
      { id: "b", slots: Array.from({ length: 8192 }, (_, i) => 8192 + i) },
    ]);
    for (let n = 3; n <= 10; n++) {
      list = names(n);
      const next = growLayout(layout, list, n - 1);
      const moved = movesBetween(layout, next).length;
      const ideal = CLUSTER_SLOTS / n;
      assert.ok(moved <= ideal + n, `${n - 1} -> ${n} (${start}): ${moved} moved, ideal ${ideal}`);
      const held = slotCounts(next, n);
      assert.ok(Math.max(...held) - Math.min(...held) <= 1, `${n} shards hold ${held}`);
      if (start === "rule") {
        const ids = list.map((name) => `id-${name}`);
        assert.deepEqual(recognizeNames(shardsFrom(next, list), ids), list, `${n} shards`);
      }
      layout = next;
    }
  }
});

Deno.test("removing one of four shards moves its slots and only a few others", () => {
  const four = names(4);
  const current = ruleLayout(four);
  const staying = [0, 1, 3];
  const target = ruleLayout(staying.map((i) => four[i])).map((i) => staying[i]);
  const moves = movesBetween(current, target);
  assert.ok(moves.every((m) => m.to !== 2));
  assert.equal(moves.filter((m) => m.from === 2).length, 4096);
  assert.ok(moves.length - 4096 <= 0.04 * CLUSTER_SLOTS, `${moves.length - 4096} more`);
});

Deno.test("rebalance evens slot counts once a shard is past the threshold, with the fewest moves", () => {
  const list = names(3);
  const target = ruleLayout(list);
  assert.deepEqual(rebalanceMoves(target, list, 0.02), []);
  const ten = reshardMoves(target, target, 0, 2, 10);
  const after = Int32Array.from(target);
  for (const m of ten) after[m.slot] = m.to;
  assert.deepEqual(rebalanceMoves(after, list, 0.02), [], "10 slots are within 2%");
  const even = (layout: Int32Array) => {
    const held = slotCounts(layout, 3);
    return Math.max(...held) - Math.min(...held) <= 1;
  };
  const excess = (layout: Int32Array) =>
    slotCounts(layout, 3).reduce((sum, h) => sum + Math.max(0, h - 5462), 0);
  for (const [count, threshold] of [[10, 0], [400, 0.02]] as const) {
    const layout = Int32Array.from(target);
    for (const m of reshardMoves(target, target, 0, 2, count)) layout[m.slot] = m.to;
    const off = countDeviations(layout, list);
    assert.ok(off[2] > threshold, off.join(","));
    const moves = rebalanceMoves(layout, list, threshold);
    assert.ok(moves.length <= excess(layout) + 2, `${moves.length} moves for ${count}`);
    for (const m of moves) layout[m.slot] = m.to;
    assert.ok(even(layout), slotCounts(layout, 3).join(","));
  }
});

Deno.test("reshard takes the slots the plan gives the receiver first", () => {
  const current = ruleLayout(names(3));
  const target = ruleLayout(names(4));
  const moves = reshardMoves(current, target, 0, 3, 100);
  assert.equal(moves.length, 100);
  assert.ok(moves.every((m) => current[m.slot] === 0 && target[m.slot] === 3));
  const layout = currentLayout(shardsOf(names(3)));
  assert.deepEqual(layout, current);
});

Deno.test("add-shard names a new shard after the smallest free shard-K", () => {
  assert.equal(nextShardName(["shard-1", "shard-2", "shard-3"]), "shard-4");
  assert.equal(nextShardName(["shard-1", "shard-3"]), "shard-2");
  assert.equal(nextShardName(["alpha"]), "shard-1");
});

Deno.test("CLUSTER NODES lines parse with ranges, open slots and replicas", () => {
  const a = "a".repeat(40);
  const b = "b".repeat(40);
  const nodes = parseNodes(
    `${a} 127.0.0.1:7000@17000,host-a myself,master - 0 0 1 connected 0-2 7 [8->-${b}]\n` +
      `${b} 127.0.0.1:7001@17001 master - 0 1 2 connected 9 [8-<-${a}]\n` +
      `${"c".repeat(40)} 127.0.0.1:7002@17002 slave ${a} 0 1 1 connected\n`,
  );
  assert.deepEqual(nodes[0].slots, [0, 1, 2, 7]);
  assert.deepEqual(nodes[0].migrating, [[8, b]]);
  assert.deepEqual(nodes[1].importing, [[8, a]]);
  assert.equal(nodes[0].myself, true);
  assert.equal(nodes[0].address, "127.0.0.1:7000");
  assert.equal(nodes[1].cport, 17001);
  assert.equal(nodes[2].master, a);
  assert.deepEqual(nodes[2].flags, ["slave"]);
});
