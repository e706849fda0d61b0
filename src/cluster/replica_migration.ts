/**
 * Replica migration (Redis 7.0's clusterHandleSlaveMigration): a master serving slots whose
 * replicas all failed (an orphan) gets one of the spare replicas of the master with the most
 * working replicas, so that one more failure does not leave its slots unserved.
 * - Only masters marked MIGRATE_TO are orphans: those that had a replica once, or took over
 *   from a master that had (node.ts, state.ts); a master that never had one is not waited for.
 * - A replica considers it only when its own master has the most working (not FAIL) replicas,
 *   at least two, and `cluster-allow-replica-migration` is on.
 * - It moves only while the cluster is ok, when its master keeps more than
 *   `cluster-migration-barrier` replicas that are neither FAIL nor PFAIL, when it has the
 *   smallest node id among the replicas of the masters with the most working replicas (so
 *   exactly one moves), and when the orphan has been orphaned for more than 5 s
 *   (CLUSTER_SLAVE_MIGRATION_DELAY), which gives a failed-over shard's own replicas the time
 *   to announce that they follow its new master.
 */
import { logger } from "../util/logger.ts";
import type { Cluster } from "./cluster.ts";
import { type ClusterNode, NodeFlag } from "./node.ts";

const log = logger("cluster");

/** How long a master must stay orphaned before a replica migrates to it (ms). */
export const MIGRATION_DELAY_MS = 5000;

/** `master`'s replicas not marked FAIL (Redis's clusterCountNonFailingSlaves). */
export function workingReplicas(master: ClusterNode): number {
  let count = 0;
  for (const replica of master.replicas) if (!replica.failed) count++;
  return count;
}

/** Whether `node` is an orphaned master: up, expected to have replicas, none working. */
function orphaned(node: ClusterNode): boolean {
  return node.isMaster && !node.failed && (node.flags & NodeFlag.MIGRATE_TO) !== 0 &&
    workingReplicas(node) === 0;
}

/**
 * The cron's part on a replica: whether any orphan serves slots, and whether this replica's
 * master is among those with the most working replicas (at least two); then
 * {@link migrateIfCandidate}.
 */
export function handleReplicaMigration(cluster: Cluster, now: number): void {
  const state = cluster.state;
  const myself = state.myself;
  const master = myself.master;
  if (!myself.isReplica || master === null) return;
  if (!cluster.host.ctx.config.values["cluster-allow-replica-migration"]) return;
  let orphans = 0;
  let most = 0;
  let mine = 0;
  for (const node of state.nodes.values()) {
    if (node.isMyself || node.noAddress || node.inHandshake) continue;
    if (!node.isMaster || node.failed) continue;
    const working = workingReplicas(node);
    if (working === 0 && node.slotCount > 0 && (node.flags & NodeFlag.MIGRATE_TO) !== 0) {
      orphans++;
    }
    if (working > most) most = working;
    if (node === master) mine = working;
  }
  if (orphans > 0 && most >= 2 && mine === most) migrateIfCandidate(cluster, most, now);
}

/** Redis's clusterHandleSlaveMigration proper: the checks of the module comment, then the move. */
function migrateIfCandidate(cluster: Cluster, most: number, now: number): void {
  const state = cluster.state;
  const myself = state.myself;
  const master = myself.master as ClusterNode;
  if (!state.ok) return;
  let keeps = 0;
  for (const replica of master.replicas) if (!replica.failed && !replica.timedOut) keeps++;
  if (keeps <= cluster.host.ctx.config.values["cluster-migration-barrier"]) return;
  let target: ClusterNode | null = null;
  let candidate = myself;
  for (const node of state.nodes.values()) {
    if (orphaned(node)) {
      if (target === null && node.slotCount > 0) target = node;
      if (node.orphanedAt === 0) node.orphanedAt = now;
    } else node.orphanedAt = 0;
    if (node.isMaster && workingReplicas(node) === most) {
      for (const replica of node.replicas) if (replica.id < candidate.id) candidate = replica;
    }
  }
  if (target === null || candidate !== myself || now - target.orphanedAt <= MIGRATION_DELAY_MS) {
    return;
  }
  log.warn("Migrating to orphaned master {id}", { id: target.id });
  cluster.setMaster(target);
}
