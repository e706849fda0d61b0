/**
 * `gocache cluster rebalance` (move slots back to the plan where a shard strays from it by more
 * than a threshold) and `gocache cluster reshard` (move N slots from one master to another),
 * with what finds a shard from the way a user names it.
 */
import { printOut } from "./output.ts";
import {
  countDeviations,
  currentLayout,
  rebalanceMoves,
  reshardMoves,
  ruleLayout,
} from "./cluster_plan.ts";
import { type NamedShard, namedShards } from "./cluster_report.ts";
import { applyPlan, type ManageOptions, type PlanShard, requireHealthy } from "./cluster_apply.ts";
import { isMaster, type LiveCluster, type NodeInfo } from "./cluster_view.ts";

/** A shard's master as a {@link PlanShard}. */
export function planShard(cluster: LiveCluster, shard: NamedShard): PlanShard {
  const m = shard.master;
  return {
    name: shard.name,
    master: { id: m.id, host: m.host, port: m.port, address: m.address, link: cluster.link(m.id) },
  };
}

/**
 * The node `text` names: its HOST:PORT, its node id (or a prefix of 8 or more characters), or
 * its shard's name. Throws a message naming `text` when no node or more than one matches.
 */
export function findNode(
  cluster: LiveCluster,
  shards: readonly NamedShard[],
  text: string,
): NodeInfo {
  const host = text.replace(/^localhost:/, "127.0.0.1:");
  const found = cluster.nodes.filter((n) =>
    n.address === host || n.id === text || (text.length >= 8 && n.id.startsWith(text)) ||
    shards.some((s) => s.name === text && s.master.id === n.id)
  );
  if (found.length === 0) {
    throw new Error(`unknown node '${text}': no node, node id or shard of this cluster`);
  }
  if (found.length > 1) throw new Error(`'${text}' names ${found.length} nodes`);
  return found[0];
}

/** Like {@link findNode}, for a master; a replica is refused naming its master. */
export function findMaster(
  cluster: LiveCluster,
  shards: readonly NamedShard[],
  text: string,
): NodeInfo {
  const node = findNode(cluster, shards, text);
  if (!isMaster(node)) {
    const master = cluster.node(node.master ?? "");
    throw new Error(
      `${node.address} is a replica (of ${master?.address ?? node.master}); name its master`,
    );
  }
  return node;
}

/**
 * `rebalance`: when a shard's slot count is more than `threshold` (a fraction) off an even
 * share, evens every shard out with the fewest moves.
 */
export async function rebalance(
  cluster: LiveCluster,
  threshold: number,
  options: ManageOptions,
): Promise<number> {
  await requireHealthy(cluster);
  const shards = namedShards(cluster);
  const current = currentLayout(shards.map((s) => s.master));
  const names = shards.map((s) => s.name);
  const off = countDeviations(current, names);
  const moves = rebalanceMoves(current, names, threshold);
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  if (moves.length === 0) {
    for (const [i, s] of shards.entries()) {
      printOut(
        `${s.name}  ${s.master.address}  ${s.master.slots.length} slots, ${pct(off[i])} off`,
      );
    }
    printOut(`Nothing to move: every shard is within ${pct(threshold)} of an even share`);
    return 0;
  }
  const plan = { shards: shards.map((s) => planShard(cluster, s)), current, moves };
  const done = await applyPlan(cluster, plan, options);
  if (done !== null) printOut(`Rebalanced: ${done.slots} slots moved, ${done.keys} keys`);
  return 0;
}

/** `reshard`: moves `count` slots from master `from` to master `to` (plan's choice first). */
export async function reshard(
  cluster: LiveCluster,
  count: number,
  fromText: string,
  toText: string,
  options: ManageOptions,
): Promise<number> {
  await requireHealthy(cluster);
  const shards = namedShards(cluster);
  const from = findMaster(cluster, shards, fromText);
  const to = findMaster(cluster, shards, toText);
  if (from.id === to.id) throw new Error(`--from and --to name the same master (${from.address})`);
  if (from.slots.length < count) {
    throw new Error(`${from.address} holds only ${from.slots.length} slots, not ${count}`);
  }
  // An empty master (joined by other tools) can take slots: it joins the plan under its id.
  const all = shards.some((s) => s.master.id === to.id)
    ? shards
    : [...shards, { name: to.id, master: to }];
  const current = currentLayout(all.map((s) => s.master));
  const target = ruleLayout(shards.map((s) => s.name));
  const index = (id: string) => all.findIndex((s) => s.master.id === id);
  const moves = reshardMoves(current, target, index(from.id), index(to.id), count);
  const plan = { shards: all.map((s) => planShard(cluster, s)), current, moves };
  const done = await applyPlan(cluster, plan, options);
  if (done !== null) printOut(`Resharded: ${done.slots} slots moved, ${done.keys} keys`);
  return 0;
}
