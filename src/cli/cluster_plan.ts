/**
 * Plans for `gocache cluster`: which name each shard of a running cluster goes by, the layout
 * gocache's consistent-hash rule (src/cluster/slot_plan.ts) gives those names, and the slot moves
 * that take the cluster from its layout to another. Pure functions, no I/O.
 *
 * Shard names are the keys of the slot rule but a cluster does not store them (Redis Cluster has
 * no such field), so they are recovered from the slots each master holds: the rule gives every
 * shard mostly the blocks its name scores highest on, so for the right name a master's slots sit
 * far above the middle of that name's ranking of the 256 blocks, and for any other name around
 * it. Candidates are the names `cluster-init` and `add-shard` give (`shard-1`, `shard-2`, ...)
 * and the ids of the cluster's nodes; a master whose slots match none (a cluster formed by
 * redis-cli, whose ranges are contiguous) is named by its own node id.
 */
import { CLUSTER_SLOTS } from "../cluster/key_slot.ts";
import { BLOCK_SLOTS, blockScore, planSlots } from "../cluster/slot_plan.ts";

const BLOCKS = CLUSTER_SLOTS / BLOCK_SLOTS;
/** Candidate `shard-K` names tried beyond the number of shards (gaps left by removed shards). */
const EXTRA_CANDIDATES = 32;

export { blockScore };

/**
 * How well slots fit a name: the mean, over the slots, of their block's place in the name's
 * ranking of all blocks (1 = its favourite block, 0 = its least liked). About 0.5 for a name
 * that has nothing to do with the slots; 0.8-0.9 for the name the rule gave them to.
 */
export function affinity(name: string, slots: readonly number[]): number {
  if (slots.length === 0) return 0;
  const order = Array.from({ length: BLOCKS }, (_, b) => b)
    .map((block) => ({ block, score: blockScore(name, block) }))
    .sort((a, b) => b.score - a.score || a.block - b.block);
  const place = new Float64Array(BLOCKS);
  order.forEach(({ block }, rank) => place[block] = 1 - rank / (BLOCKS - 1));
  let sum = 0;
  for (const slot of slots) sum += place[slot / BLOCK_SLOTS | 0];
  return sum / slots.length;
}

/** A master holding slots, as the plan sees it. */
export interface ShardSlots {
  /** The master's node id. */
  id: string;
  /** The slots it holds. */
  slots: number[];
}

/**
 * The affinity a name needs to be taken as a shard's: three standard deviations above what a
 * name unrelated to the shard's blocks scores (uniform ranks: sd 0.289 / sqrt(blocks)), at least
 * 0.6 and at most 0.75 (the right name scores 0.7 to 0.9).
 */
function acceptAbove(shard: ShardSlots): number {
  const blocks = Math.max(1, shard.slots.length / BLOCK_SLOTS);
  return Math.min(0.75, Math.max(0.6, 0.5 + 3 * 0.289 / Math.sqrt(blocks)));
}

/** Per shard, the fraction of the slots it holds that the rule gives it under `names`. */
function inPlace(shards: readonly ShardSlots[], names: readonly string[]): number[] {
  const plan = planSlots(names);
  return shards.map((s, i) => s.slots.filter((slot) => plan[slot] === i).length / s.slots.length);
}

/**
 * The name of every shard (same order as `shards`; each holds at least one slot), recovered as
 * the module comment says: first each shard's best-fitting candidate by {@link affinity}, each
 * name used once; then, for a shard whose slots are not mostly where the rule with those names
 * puts them, the candidate that puts the most slots of all shards in place. When fewer than
 * 80% of all slots are then in place, only a shard with 80% of its own slots in place and a
 * name that fits them (see `acceptAbove`) keeps its name; otherwise a shard with fewer than half
 * of its slots in place is named by its node id. `nodeIds` are the ids of every node in the
 * cluster (masters and replicas: a replica promoted by a failover keeps the shard's name, its old
 * master's id), and any other names to try (`--names`: a topology file's).
 */
export function recognizeNames(
  shards: readonly ShardSlots[],
  nodeIds: readonly string[],
): string[] {
  const candidates = [
    ...new Set([
      ...Array.from({ length: shards.length + EXTRA_CANDIDATES }, (_, i) => `shard-${i + 1}`),
      ...nodeIds,
    ]),
  ];
  const pairs: { shard: number; name: string; fit: number }[] = [];
  shards.forEach((s, shard) => {
    for (const name of candidates) pairs.push({ shard, name, fit: affinity(name, s.slots) });
  });
  pairs.sort((a, b) => b.fit - a.fit || a.shard - b.shard);
  const names: string[] = shards.map(() => "");
  for (const p of pairs) {
    if (names[p.shard] === "" && !names.includes(p.name)) names[p.shard] = p.name;
  }
  const total = (fits: number[]) => fits.reduce((sum, f, i) => sum + f * shards[i].slots.length, 0);
  let fits = inPlace(shards, names);
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < shards.length; i++) {
      if (fits[i] >= 0.9) continue;
      for (const name of candidates) {
        if (names.includes(name)) continue;
        const trial = names.with(i, name);
        const trialFits = inPlace(shards, trial);
        if (total(trialFits) > total(fits)) {
          names[i] = name;
          fits = trialFits;
        }
      }
    }
  }
  // Most slots in place: the names are right (a shard far off its share is still named by its
  // id). Otherwise a name must also fit its shard's slots on its own: the search above can always
  // find some names that put a few shards' slots in place by chance.
  const held = shards.reduce((n, s) => n + s.slots.length, 0);
  const mostly = total(fits) >= 0.8 * held;
  const fitting = names.map((name, i) =>
    mostly
      ? fits[i] >= 0.5
      : fits[i] >= 0.8 && affinity(name, shards[i].slots) >= acceptAbove(shards[i])
  );
  const chosen = names.map((name, i) => fitting[i] ? name : shards[i].id);
  // A fitting name that is another (unfitting) shard's own id wins; that shard keeps its search name.
  return chosen.map((name, i) =>
    !fitting[i] && chosen.some((other, j) => j !== i && other === name) ? names[i] : name
  );
}

/** The name `add-shard` gives a new shard: `shard-K` for the smallest K not in use. */
export function nextShardName(names: readonly string[]): string {
  for (let k = 1;; k++) if (!names.includes(`shard-${k}`)) return `shard-${k}`;
}

/**
 * The shard index (into `shards`) of every slot, -1 where none of them holds it: the cluster's
 * current layout.
 */
export function currentLayout(shards: readonly ShardSlots[]): Int32Array {
  const owner = new Int32Array(CLUSTER_SLOTS).fill(-1);
  shards.forEach((s, i) => {
    for (const slot of s.slots) owner[slot] = i;
  });
  return owner;
}

/** The rule's layout for shards with these names (indexes as in `names`). */
export function ruleLayout(names: readonly string[]): Int32Array {
  return planSlots(names);
}

/** One slot to move, between shard indexes. */
export interface Move {
  /** The slot. */
  slot: number;
  /** The shard that holds it. */
  from: number;
  /** The shard that should. */
  to: number;
}

/** The moves from `current` to `target` (same shard indexes; unassigned slots are not moved). */
export function movesBetween(current: Int32Array, target: Int32Array): Move[] {
  const moves: Move[] = [];
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    const from = current[slot];
    const to = target[slot];
    if (from >= 0 && to >= 0 && from !== to) moves.push({ slot, from, to });
  }
  return moves;
}

/**
 * How far each shard is from `target`: the slots out of place (held but not its by the plan,
 * plus its by the plan but held by another) as a fraction of the slots the plan gives it.
 */
export function deviations(current: Int32Array, target: Int32Array, shards: number): number[] {
  const wrong = new Array<number>(shards).fill(0);
  const planned = new Array<number>(shards).fill(0);
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    const t = target[slot];
    const c = current[slot];
    if (t >= 0) planned[t]++;
    if (c === t) continue;
    if (t >= 0) wrong[t]++;
    if (c >= 0) wrong[c]++;
  }
  return wrong.map((w, i) => planned[i] === 0 ? (w > 0 ? Infinity : 0) : w / planned[i]);
}

/**
 * `rebalance`: the moves towards `target` of the slots held by, or planned for, a shard that
 * deviates from the plan by more than `threshold` (a fraction, 0.02 for 2%).
 */
export function rebalanceMoves(current: Int32Array, target: Int32Array, threshold: number): Move[] {
  const shards = Math.max(0, ...current, ...target) + 1;
  const off = deviations(current, target, shards).map((d) => d > threshold);
  return movesBetween(current, target).filter((m) => off[m.from] || off[m.to]);
}

/**
 * `reshard`: `count` slots of shard `from` for shard `to`, those the plan gives `to` first (so a
 * reshard goes the plan's way where it can), then the others in slot order.
 */
export function reshardMoves(
  current: Int32Array,
  target: Int32Array,
  from: number,
  to: number,
  count: number,
): Move[] {
  const held: number[] = [];
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) if (current[slot] === from) held.push(slot);
  const preferred = held.filter((slot) => target[slot] === to);
  const rest = held.filter((slot) => target[slot] !== to);
  return [...preferred, ...rest].slice(0, count).map((slot) => ({ slot, from, to }));
}

/** Slots per shard in a layout (index = shard). */
export function slotCounts(layout: Int32Array, shards: number): number[] {
  const counts = new Array<number>(shards).fill(0);
  for (const owner of layout) if (owner >= 0) counts[owner]++;
  return counts;
}

/** The moves grouped by (from, to), largest first: `[from, to, slots]`. */
export function flows(moves: readonly Move[]): [number, number, number][] {
  const byPair = new Map<string, [number, number, number]>();
  for (const m of moves) {
    const key = `${m.from}>${m.to}`;
    const entry = byPair.get(key) ?? [m.from, m.to, 0];
    entry[2]++;
    byPair.set(key, entry);
  }
  return [...byPair.values()].sort((a, b) => b[2] - a[2] || a[0] - b[0] || a[1] - b[1]);
}
