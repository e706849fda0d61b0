/**
 * `gocache cluster add-shard` and `gocache cluster remove-shard`: a shard joins (its empty nodes
 * meet the cluster, its replicas follow its master, then it takes the slots the plan for N + 1
 * shards gives it) or leaves (its slots go where the plan for N - 1 shards puts them, then every
 * other node forgets its nodes and they are reset).
 */
import { printOut } from "./output.ts";
import {
  currentLayout,
  growLayout,
  movesBetween,
  nextShardName,
  shrinkLayout,
} from "./cluster_plan.ts";
import { namedShards, plural } from "./cluster_report.ts";
import { applyPlan, type ManageOptions, type PlanShard, requireHealthy } from "./cluster_apply.ts";
import { findMaster, planShard } from "./cluster_balance.ts";
import { parseAddress } from "./cluster_topology.ts";
import {
  addressOf,
  infoField,
  isMaster,
  type LiveCluster,
  type NodeLink,
  openNode,
  parseNodes,
  waitUntil,
} from "./cluster_view.ts";

/** A node about to join: its link, id and bus port. */
interface Joining {
  link: NodeLink;
  id: string;
  cport: number;
}

/** Opens a node to add and checks that it is empty, alone and not a member already. */
async function openEmpty(cluster: LiveCluster, address: string, password?: string) {
  const link = await openNode(address, password);
  try {
    const id = await link.call("CLUSTER", "MYID");
    if (cluster.node(id) !== undefined) {
      throw new Error(`${address} is already a member of this cluster`);
    }
    const info = await link.call("CLUSTER", "INFO");
    const keys = Number(await link.call("DBSIZE"));
    if (
      infoField(info, "cluster_known_nodes") !== "1" ||
      infoField(info, "cluster_slots_assigned") !== "0" || keys !== 0
    ) {
      throw new Error(`${address} is not empty (it knows other nodes, has slots or has keys)`);
    }
    const me = parseNodes(await link.call("CLUSTER", "NODES")).find((n) => n.myself);
    return { link, id, cport: me?.cport ?? 0 } satisfies Joining;
  } catch (e) {
    await link.close();
    throw e;
  }
}

/** Waits until every connected node knows `total` nodes, none of them in handshake. */
async function waitForMembers(cluster: LiveCluster, total: number, deadline: number) {
  await waitUntil("Nodes that know every other node", deadline, async () => {
    await cluster.refresh();
    let done = 0;
    const linked = cluster.nodes.filter((n) => cluster.has(n.id));
    for (const n of linked) {
      const view = await cluster.link(n.id).view();
      if (view.length === total && !view.some((v) => v.flags.includes("handshake"))) done++;
    }
    return [done, linked.length];
  });
}

/** `add-shard`: the empty node `master` (and `replicas`) join as a new shard and take slots. */
export async function addShard(
  cluster: LiveCluster,
  masterAddress: string,
  replicaAddresses: string[],
  options: ManageOptions,
): Promise<number> {
  await requireHealthy(cluster);
  const joining: Joining[] = [];
  try {
    for (const address of [masterAddress, ...replicaAddresses]) {
      joining.push(await openEmpty(cluster, address, options.password));
    }
  } catch (e) {
    for (const j of joining) await j.link.close();
    throw e;
  }
  const [master, ...replicas] = joining;
  for (const j of joining) cluster.adopt(j.id, j.link);
  const shards = namedShards(cluster);
  const name = nextShardName(shards.map((s) => s.name));
  const { host, port } = parseAddress(masterAddress);
  const fresh: PlanShard = {
    name,
    master: {
      id: master.id,
      host: await addressOf(host),
      port,
      address: masterAddress,
      link: master.link,
    },
    isNew: true,
  };
  const current = currentLayout(shards.map((s) => s.master));
  const target = growLayout(current, [...shards.map((s) => s.name), name], shards.length);
  const plan = {
    shards: [...shards.map((s) => planShard(cluster, s)), fresh],
    current,
    moves: movesBetween(current, target),
  };
  const join = async () => {
    const deadline = Date.now() + options.timeoutMs;
    for (const j of joining) {
      const { host, port } = parseAddress(j.link.address);
      await cluster.seed.call(
        "CLUSTER",
        "MEET",
        await addressOf(host),
        port,
        j.cport || port + 10000,
      );
    }
    await waitForMembers(cluster, cluster.nodes.length + joining.length, deadline);
    for (const r of replicas) await r.link.call("CLUSTER", "REPLICATE", master.id);
    await waitUntil(`Replicas following ${name}`, deadline, async () => {
      await cluster.refresh();
      return [cluster.replicasOf(master.id).length, replicas.length];
    });
  };
  const done = await applyPlan(cluster, plan, options, join);
  if (done !== null) {
    printOut(
      `Added ${name} (${masterAddress}, ${master.id}) with ${
        plural(replicas.length, "replica")
      }: ` +
        `${done.slots} slots moved, ${done.keys} keys`,
    );
  }
  return 0;
}

/** `remove-shard`: the shard of master `which` hands its slots over and its nodes are forgotten. */
export async function removeShard(
  cluster: LiveCluster,
  which: string,
  options: ManageOptions,
): Promise<number> {
  await requireHealthy(cluster);
  const shards = namedShards(cluster);
  const leaving = findMaster(cluster, shards, which);
  const index = shards.findIndex((s) => s.master.id === leaving.id);
  if (index < 0) throw new Error(`${leaving.address} holds no slots: it is no shard`);
  if (shards.length === 1) throw new Error("cannot remove the last shard");
  const current = currentLayout(shards.map((s) => s.master));
  const target = shrinkLayout(current, shards.map((s) => s.name), index);
  const plan = {
    shards: shards.map((s) => planShard(cluster, s)),
    current,
    moves: movesBetween(current, target),
  };
  const removed = [leaving, ...cluster.replicasOf(leaving.id)];
  const done = await applyPlan(cluster, plan, options);
  if (done === null) {
    printOut(`Would forget: ${removed.map((n) => `${n.address} (${n.id})`).join(", ")}`);
    return 0;
  }
  await forgetNodes(cluster, removed.map((n) => n.id), Date.now() + options.timeoutMs);
  printOut(
    `Removed ${shards[index].name} (${leaving.address}): ${done.slots} slots moved, ` +
      `${done.keys} keys; forgot ${removed.map((n) => n.address).join(", ")}`,
  );
  return 0;
}

/**
 * As `redis-cli --cluster del-node`: nodes that follow a leaving node follow the staying master
 * with the fewest replicas instead; every staying node forgets the leaving ones; these are
 * reset (CLUSTER RESET SOFT) so that they do not come back. Waits until the forgetting holds.
 */
async function forgetNodes(cluster: LiveCluster, ids: string[], deadline: number) {
  await cluster.refresh();
  const staying = cluster.nodes.filter((n) => !ids.includes(n.id) && cluster.has(n.id));
  const masters = staying.filter((n) => isMaster(n) && n.slots.length > 0);
  for (const node of staying.filter((n) => n.master !== null && ids.includes(n.master))) {
    const fewest = [...masters].sort((a, b) =>
      cluster.replicasOf(a.id).length - cluster.replicasOf(b.id).length
    )[0];
    await cluster.link(node.id).call("CLUSTER", "REPLICATE", fewest.id);
  }
  for (const node of staying) {
    for (const id of ids) {
      try {
        await cluster.link(node.id).call("CLUSTER", "FORGET", id);
      } catch (e) {
        if (!String(e).includes("Unknown node")) throw e;
      }
    }
  }
  for (const id of ids.filter((id) => cluster.has(id))) {
    await cluster.link(id).call("CLUSTER", "RESET", "SOFT");
  }
  await waitUntil("Nodes that forgot the removed shard", deadline, async () => {
    let done = 0;
    for (const node of staying) {
      const view = await cluster.link(node.id).view();
      if (!view.some((v) => ids.includes(v.id)) && view.length === staying.length) done++;
    }
    return [done, staying.length];
  });
}
