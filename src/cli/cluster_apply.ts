/**
 * What the slot-moving commands of `gocache cluster` share: printing a plan, asking before
 * changing anything, moving its slots, and waiting until every node agrees with the result.
 */
import { CLUSTER_SLOTS, runsOfSlots } from "../cluster/key_slot.ts";
import { printErr, printOut } from "./output.ts";
import { flows, type Move, slotCounts } from "./cluster_plan.ts";
import { checkCluster } from "./cluster_report.ts";
import { type MoveNode, type MovesDone, runMoves } from "./cluster_move.ts";
import { infoField, isMaster, type LiveCluster, waitUntil } from "./cluster_view.ts";

/** Options every slot-moving command takes. */
export interface ManageOptions {
  /** Print the plan and change nothing. */
  dryRun: boolean;
  /** Do not ask before changing the cluster. */
  yes: boolean;
  /** AUTH password for every node (and MIGRATE). */
  password?: string;
  /** Bound on each wait (and MIGRATE's timeout), ms. */
  timeoutMs: number;
  /** Keys per MIGRATE batch. */
  pipeline: number;
  /** Move slots with CLUSTER MIGRATESLOTS (gocache masters only) instead of Redis's path. */
  atomic: boolean;
}

/** A shard of a plan. */
export interface PlanShard {
  /** The shard's name. */
  name: string;
  /** Its master. */
  master: MoveNode & { address: string };
  /** Whether add-shard brings it in. */
  isNew?: boolean;
}

/** A plan: shards (the indexes of the layout and moves), the layout now, the slots to move. */
export interface Plan {
  /** The shards, by index. */
  shards: PlanShard[];
  /** Owner of every slot now. */
  current: Int32Array;
  /** The slots to move. */
  moves: Move[];
}

/** The layout after a plan's moves. */
export function layoutAfter(plan: Plan): Int32Array {
  const after = Int32Array.from(plan.current);
  for (const m of plan.moves) after[m.slot] = m.to;
  return after;
}

function percent(part: number, whole: number): string {
  return `${(100 * part / whole).toFixed(1)}%`;
}

/** The plan as lines: every shard's slots before and after, then the flows between shards. */
export function describePlan(plan: Plan): string {
  const n = plan.shards.length;
  const before = slotCounts(plan.current, n);
  const after = slotCounts(layoutAfter(plan), n);
  const lines: string[] = [];
  const nameWidth = Math.max(...plan.shards.map((s) => s.name.length));
  plan.shards.forEach((s, i) => {
    const tag = s.isNew ? " (new)" : after[i] === 0 ? " (leaves)" : "";
    lines.push(
      `${s.name.padEnd(nameWidth)}  ${s.master.address}  ${before[i]} -> ${after[i]} slots${tag}`,
    );
  });
  const moved = plan.moves.map((m) => m.slot);
  const ranges = runsOfSlots(moved).length;
  lines.push(
    `Moves: ${plan.moves.length} slots (${percent(plan.moves.length, CLUSTER_SLOTS)} of ` +
      `${CLUSTER_SLOTS}) in ${ranges} ranges`,
  );
  for (const [from, to, slots] of flows(plan.moves)) {
    lines.push(`  ${plan.shards[from].name} -> ${plan.shards[to].name}: ${slots} slots`);
  }
  return lines.join("\n");
}

/** Asks on stdin; true when the answer is `yes`. */
export async function confirm(question: string): Promise<boolean> {
  printErr(`${question} Type 'yes' to go on:`);
  const buf = new Uint8Array(64);
  const n = await Deno.stdin.read(buf);
  return n !== null && new TextDecoder().decode(buf.subarray(0, n)).trim() === "yes";
}

/** Throws naming the first problem `check` finds (nothing is changed on a broken cluster). */
export async function requireHealthy(cluster: LiveCluster): Promise<void> {
  const { problems } = await checkCluster(cluster);
  if (problems.length > 0) {
    throw new Error(
      `the cluster has ${problems.length} problem(s), fix them first (see 'gocache cluster ` +
        `check'): ${problems[0]}`,
    );
  }
}

/**
 * Prints the plan; unless `--dry-run`, asks (without `--yes`), moves the slots, and waits until
 * every node of `cluster` sees every slot where the plan puts it. Resolves to what was moved, or
 * null for a dry run.
 */
export async function applyPlan(
  cluster: LiveCluster,
  plan: Plan,
  options: ManageOptions,
  before: () => Promise<void> = async () => {},
): Promise<MovesDone | null> {
  printOut(describePlan(plan));
  if (options.dryRun) {
    printOut("Dry run: nothing changed");
    return null;
  }
  if (!options.yes && !(await confirm("Move these slots?"))) {
    throw new Error("not confirmed; nothing changed");
  }
  const deadline = Date.now() + options.timeoutMs;
  await before();
  const masters = plan.shards.map((s) => s.master);
  const done = await runMoves(
    plan.moves.map((m) => ({ slot: m.slot, source: masters[m.from], target: masters[m.to] })),
    masters,
    {
      pipeline: options.pipeline,
      timeoutMs: options.timeoutMs,
      password: options.password,
      path: options.atomic ? "atomic" : "keys",
    },
  );
  const owners = Array.from(layoutAfter(plan), (i) => i < 0 ? null : masters[i].id);
  await waitForOwners(cluster, owners, deadline);
  return done;
}

/**
 * Waits until every reachable node of `cluster` (as the seed now sees it) reports
 * cluster_state:ok and sees each slot owned by `owners[slot]`.
 */
export async function waitForOwners(
  cluster: LiveCluster,
  owners: readonly (string | null)[],
  deadline: number,
): Promise<void> {
  await waitUntil("Nodes that see every slot in place", deadline, async () => {
    await cluster.refresh();
    let done = 0;
    const nodes = cluster.nodes.filter((n) => cluster.has(n.id));
    for (const node of nodes) {
      const link = cluster.link(node.id);
      const seen: (string | null)[] = new Array(CLUSTER_SLOTS).fill(null);
      for (const m of (await link.view()).filter(isMaster)) for (const s of m.slots) seen[s] = m.id;
      const state = infoField(await link.call("CLUSTER", "INFO"), "cluster_state");
      if (state === "ok" && seen.every((id, slot) => id === owners[slot])) done++;
    }
    return [done, nodes.length];
  });
}
