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
 * 80% of all slots are then in place (after add-shard and remove-shard, which move the fewest
 * slots rather than to the rule's layout, see {@link growLayout}), only a shard whose name fits
 * its slots on its own (see `acceptAbove`) keeps its name; otherwise a shard with fewer than
 * half of its slots in place is named by its node id. `nodeIds` are the ids of every node in the
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
  // id). Otherwise a name must fit its shard's slots on its own: the search above can always
  // find some names that put a few shards' slots in place by chance, but not names whose
  // ranking of the blocks agrees with a shard's slots three deviations beyond chance.
  const held = shards.reduce((n, s) => n + s.slots.length, 0);
  const mostly = total(fits) >= 0.8 * held;
  const fitting = names.map((name, i) =>
    mostly ? fits[i] >= 0.5 : affinity(name, shards[i].slots) >= acceptAbove(shards[i])
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

/**
 * Slots per shard for `names` (in slots, the floor or ceiling of an even share, the larger
 * shares going to the first names in name order, as the rule gives blocks).
 */
function shares(names: readonly string[]): number[] {
  const base = Math.floor(CLUSTER_SLOTS / names.length);
  const extra = CLUSTER_SLOTS % names.length;
  const cap = new Array<number>(names.length).fill(base);
  const byName = names.map((name, index) => ({ name, index })).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  );
  for (let i = 0; i < extra; i++) cap[byName[i].index]++;
  return cap;
}

/** Held slots per shard index. */
function counts(layout: Int32Array, shards: number): number[] {
  const held = new Array<number>(shards).fill(0);
  for (const owner of layout) if (owner >= 0) held[owner]++;
  return held;
}

/**
 * The layout with the fewest moves that gives every shard `cap[shard]` slots: shards above
 * their cap give their excess to shards below theirs: the slots whose block the receiver's name
 * scores highest above the giver's (the rule's preference), so givers keep the blocks they
 * favour most, receivers get blocks they favour, and shard names stay recognizable (see
 * recognizeNames). Nothing else moves.
 */
function balancedLayout(
  current: Int32Array,
  names: readonly string[],
  cap: readonly number[],
): Int32Array {
  const target = current.slice();
  const held = counts(current, names.length);
  const excess = held.map((h, shard) => Math.max(0, h - cap[shard]));
  const room = held.map((h, shard) => Math.max(0, cap[shard] - h));
  const receivers = room.flatMap((r, shard) => (r > 0 ? [shard] : []));
  const pairs: { slot: number; to: number; score: number }[] = [];
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    const from = current[slot];
    if (from < 0 || excess[from] === 0) continue;
    const block = slot / BLOCK_SLOTS | 0;
    const kept = blockScore(names[from], block);
    for (const to of receivers) {
      pairs.push({ slot, to, score: blockScore(names[to], block) - kept });
    }
  }
  pairs.sort((a, b) => b.score - a.score || a.slot - b.slot || a.to - b.to);
  for (const { slot, to } of pairs) {
    const from = current[slot];
    if (target[slot] !== from || excess[from] === 0 || room[to] === 0) continue;
    target[slot] = to;
    excess[from]--;
    room[to]--;
  }
  return target;
}

/**
 * `add-shard`'s layout: shard `added` (an index of `names`, holding nothing) takes from every
 * shard what it holds above its new even share, the blocks its name prefers, and nothing else
 * moves: from N to N+1 evenly spread shards, exactly 1/(N+1) of the slots move. The rule's own
 * layout for the new names would move more (28% instead of 25% for 3 -> 4: its bounded shares
 * make some blocks change hands between the shards that stay).
 */
export function growLayout(
  current: Int32Array,
  names: readonly string[],
  added: number,
): Int32Array {
  if (counts(current, names.length)[added] !== 0) throw new Error("the new shard holds slots");
  return balancedLayout(current, names, shares(names));
}

/**
 * `remove-shard`'s layout: the slots of shard `removed` (an index of `names`, which holds every
 * shard's name) go to the others, up to their new even shares, each where a name scores its
 * block highest; nothing else moves unless a staying shard is already over its share.
 */
export function shrinkLayout(
  current: Int32Array,
  names: readonly string[],
  removed: number,
): Int32Array {
  const staying = names.filter((_, i) => i !== removed);
  const stayingCaps = shares(staying);
  const cap = names.map((_, i) => (i === removed ? 0 : stayingCaps[i < removed ? i : i - 1]));
  return balancedLayout(current, names, cap);
}

/** Per shard, how far its slot count is from an even share, as a fraction of that share. */
export function countDeviations(current: Int32Array, names: readonly string[]): number[] {
  const cap = shares(names);
  return counts(current, names.length).map((h, i) => Math.abs(h - cap[i]) / cap[i]);
}

/**
 * `rebalance`: when a shard's slot count is more than `threshold` (a fraction, 0.02 for 2%) off
 * an even share, the fewest moves that even every shard out (see {@link balancedLayout});
 * otherwise none. Shards are balanced by count, as `redis-cli --cluster rebalance` does, not
 * moved to the rule's layout: after add-shard and remove-shard there is nothing to do.
 */
export function rebalanceMoves(
  current: Int32Array,
  names: readonly string[],
  threshold: number,
): Move[] {
  if (countDeviations(current, names).every((d) => d <= threshold)) return [];
  return movesBetween(current, balancedLayout(current, names, shares(names)));
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
