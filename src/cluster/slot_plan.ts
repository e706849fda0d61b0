/**
 * How slots are spread over shards: gocache's consistent-hash rule. The 16384 slots form 256
 * blocks of 64 consecutive slots; every (block, shard) pair gets a score from a hash of the
 * block number and the shard's name, and blocks go to shards in order of decreasing score, each
 * shard taking at most its fair share (the floor or ceiling of 256 / shards blocks). A shard's
 * preferred blocks do not depend on the other shards, so adding one shard moves about 1/(N+1)
 * of the blocks, mostly to the new shard (those it scores highest on), and removing one moves
 * its own blocks, while every shard stays within one block (64 slots) of an even share and
 * serves at most 256 ranges. Because the fair share changes with N, a few blocks also change
 * hands between shards that stay (3 -> 4 shards: 28% of the slots move, 3% between the first
 * three); no rule of the names alone can keep that balance and avoid such moves entirely, so
 * `gocache cluster add-shard` and `remove-shard` move only the slots they must, chosen by these
 * scores (src/cli/cluster_plan.ts).
 * This is rendezvous (highest random weight) hashing with bounded loads.
 */
import { CLUSTER_SLOTS, slotRuns } from "./key_slot.ts";

/** Slots per block. */
export const BLOCK_SLOTS = 64;
const BLOCKS = CLUSTER_SLOTS / BLOCK_SLOTS;

/**
 * The rule's score of a (shard, block) pair: 32-bit FNV-1a of `shard#block`, then an avalanche
 * mix (murmur3's finalizer). Exported for `gocache cluster`, which recovers shard names from it.
 */
export function blockScore(shard: string, block: number): number {
  let h = 0x811c9dc5;
  const text = `${shard}#${block}`;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The shard index (into `shards`) of every slot, for shards named `shards` (names must be
 * distinct and stable: a shard keeps its name for the life of the cluster).
 */
export function planSlots(shards: readonly string[]): Int32Array {
  if (shards.length === 0) throw new Error("A slot plan needs at least one shard");
  if (new Set(shards).size !== shards.length) throw new Error("Shard names must be distinct");
  const n = shards.length;
  const base = Math.floor(BLOCKS / n);
  const extra = BLOCKS % n;
  // The first `extra` shards in name order get one more block, so that the plan does not
  // depend on the order the shards were listed in.
  const byName = shards.map((name, index) => ({ name, index })).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  );
  const capacity = new Array<number>(n).fill(base);
  for (let i = 0; i < extra; i++) capacity[byName[i].index]++;
  const pairs: { block: number; shard: number; score: number }[] = [];
  for (let block = 0; block < BLOCKS; block++) {
    for (let shard = 0; shard < n; shard++) {
      pairs.push({ block, shard, score: blockScore(shards[shard], block) });
    }
  }
  pairs.sort((a, b) => b.score - a.score || a.block - b.block || a.shard - b.shard);
  const owner = new Int32Array(BLOCKS).fill(-1);
  const taken = new Array<number>(n).fill(0);
  for (const p of pairs) {
    if (owner[p.block] >= 0 || taken[p.shard] >= capacity[p.shard]) continue;
    owner[p.block] = p.shard;
    taken[p.shard]++;
  }
  const slots = new Int32Array(CLUSTER_SLOTS);
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) slots[slot] = owner[slot / BLOCK_SLOTS | 0];
  return slots;
}

/** The inclusive slot ranges of shard `shard` in a plan. */
export function rangesOf(plan: Int32Array, shard: number): [number, number][] {
  return slotRuns((slot) => plan[slot] === shard);
}
