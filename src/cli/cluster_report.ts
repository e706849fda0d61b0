/**
 * `gocache cluster check` and `gocache cluster info`: what is wrong with a running cluster (as
 * `redis-cli --cluster check` reports it), and its shards with their ids, addresses, slots, keys
 * and replicas.
 */
import { CLUSTER_SLOTS, formatSlotRuns, runsOfSlots } from "../cluster/key_slot.ts";
import { printOut } from "./output.ts";
import { recognizeNames } from "./cluster_plan.ts";
import { infoField, isFailing, isMaster, type LiveCluster, type NodeInfo } from "./cluster_view.ts";

/** A shard of the cluster: a master holding slots, with the name the plan knows it by. */
export interface NamedShard {
  /** The shard's name (see cluster_plan.ts). */
  name: string;
  /** Its master. */
  master: NodeInfo;
}

/** The cluster's shards (masters holding slots), named, in name order (`shard-2` before `shard-10`). */
export function namedShards(cluster: LiveCluster): NamedShard[] {
  const masters = cluster.shardMasters();
  const names = recognizeNames(masters, [...cluster.names, ...cluster.nodes.map((n) => n.id)]);
  return masters.map((master, i) => ({ name: names[i], master }))
    .sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }));
}

/** `1 replica`, `2 replicas`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Slot numbers as ranges: `0-63,128-191`. */
export function rangesText(slots: readonly number[]): string {
  return formatSlotRuns(runsOfSlots(slots));
}

function rangeCount(slots: readonly number[]): number {
  return runsOfSlots(slots).length;
}

/** Slot owners (master ids) in one view; slots claimed by two masters are listed apart. */
function ownersIn(view: readonly NodeInfo[]): { owners: (string | null)[]; twice: number[] } {
  const owners: (string | null)[] = new Array(CLUSTER_SLOTS).fill(null);
  const twice: number[] = [];
  for (const node of view) {
    if (!isMaster(node)) continue;
    for (const slot of node.slots) {
      if (owners[slot] !== null && owners[slot] !== node.id) twice.push(slot);
      owners[slot] = node.id;
    }
  }
  return { owners, twice };
}

/** What `check` found: lines that passed and problems. */
export interface CheckResult {
  /** `[OK]` findings. */
  ok: string[];
  /** Problems, each one line. */
  problems: string[];
}

/** Checks reachability, coverage, open slots, one owner per slot and agreement of all views. */
export async function checkCluster(cluster: LiveCluster): Promise<CheckResult> {
  const ok: string[] = [];
  const problems: string[] = [];
  const where = (id: string) => cluster.node(id)?.address ?? id;
  for (const [id, why] of cluster.unreachable) problems.push(`${where(id)} (${id}): ${why}`);
  for (const n of cluster.nodes.filter(isFailing)) {
    problems.push(`${n.address} (${n.id}) is flagged ${n.flags.join(",")}`);
  }
  const seedView = ownersIn(cluster.nodes);
  const seedIds = cluster.nodes.map((n) => n.id).sort().join(" ");
  const open: string[] = [];
  let agreeing = 0;
  let reachable = 0;
  for (const node of cluster.nodes) {
    if (!cluster.has(node.id)) continue;
    reachable++;
    const link = cluster.link(node.id);
    const view = node.myself ? cluster.nodes : await link.view();
    const { owners, twice } = ownersIn(view);
    if (twice.length > 0) {
      problems.push(
        `${node.address} sees ${twice.length} slots claimed by two masters ` +
          `(${rangesText(twice).slice(0, 60)})`,
      );
    }
    const differ = owners.filter((o, slot) => o !== seedView.owners[slot]).length;
    const ids = view.map((n) => n.id).sort().join(" ");
    if (differ > 0) {
      problems.push(`${node.address} disagrees with ${cluster.seed.address} on ${differ} slots`);
    } else if (ids !== seedIds) {
      problems.push(
        `${node.address} knows ${view.length} nodes, ${cluster.seed.address} ` +
          `${cluster.nodes.length}`,
      );
    } else agreeing++;
    const me = view.find((n) => n.myself);
    for (const [slot, from] of me?.importing ?? []) {
      open.push(`slot ${slot} is importing on ${node.address} from ${where(from)}`);
    }
    for (const [slot, to] of me?.migrating ?? []) {
      open.push(`slot ${slot} is migrating on ${node.address} to ${where(to)}`);
    }
    const state = infoField(await link.call("CLUSTER", "INFO"), "cluster_state");
    if (state !== "ok") problems.push(`${node.address} reports cluster_state:${state}`);
  }
  if (agreeing === reachable) ok.push(`All ${reachable} nodes agree about slots and nodes`);
  const uncovered = seedView.owners.flatMap((o, slot) => o === null ? [slot] : []);
  if (uncovered.length === 0) ok.push(`All ${CLUSTER_SLOTS} slots covered`);
  else {
    problems.push(`${uncovered.length} slots not covered: ${rangesText(uncovered).slice(0, 60)}`);
  }
  if (open.length === 0) ok.push("No open slots");
  else {
    problems.push(...open.slice(0, 10));
    if (open.length > 10) problems.push(`... and ${open.length - 10} more open slots`);
  }
  return { ok, problems };
}

/** `check`: prints the shards and what was found; 0 when nothing is wrong, else 1. */
export async function runCheck(cluster: LiveCluster): Promise<number> {
  const shards = namedShards(cluster);
  const replicas = cluster.nodes.filter((n) => !isMaster(n)).length;
  printOut(
    `${cluster.seed.address}: ${plural(shards.length, "shard")}, ` +
      `${plural(cluster.nodes.length, "node")} (${plural(replicas, "replica")})`,
  );
  for (const { name, master } of shards) {
    printOut(
      `${name}: ${master.address} (${master.id}), ${master.slots.length} slots, ` +
        plural(cluster.replicasOf(master.id).length, "replica"),
    );
  }
  const { ok, problems } = await checkCluster(cluster);
  for (const line of ok) printOut(`[OK] ${line}`);
  for (const line of problems) printOut(`[ERR] ${line}`);
  return problems.length === 0 ? 0 : 1;
}

/** `info`: one line per master (shard name, id, address, slots, keys, replicas), then totals. */
export async function runInfo(cluster: LiveCluster): Promise<number> {
  const shards = namedShards(cluster);
  const named = new Map(shards.map((s) => [s.master.id, s.name]));
  // Shards in name order, then masters without slots.
  const masters = [
    ...shards.map((s) => s.master),
    ...cluster.nodes.filter((n) => isMaster(n) && !named.has(n.id)),
  ];
  const rows: string[][] = [["shard", "id", "address", "slots", "ranges", "keys", "replicas"]];
  let totalKeys = 0;
  for (const m of masters) {
    let keys = "?";
    if (cluster.has(m.id)) {
      keys = await cluster.link(m.id).call("DBSIZE");
      totalKeys += Number(keys);
    }
    const replicas = cluster.replicasOf(m.id).map((r) => r.address).join(",");
    rows.push([
      named.get(m.id) ?? "-",
      m.id,
      m.address,
      String(m.slots.length),
      String(rangeCount(m.slots)),
      keys,
      replicas === "" ? "-" : replicas,
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const row of rows) {
    printOut(row.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd());
  }
  const slots = masters.reduce((n, m) => n + m.slots.length, 0);
  printOut(
    `${plural(masters.length, "master")}, ` +
      `${plural(cluster.nodes.length - masters.length, "replica")}, ` +
      `${slots}/${CLUSTER_SLOTS} slots, ${totalKeys} keys`,
  );
  return 0;
}
