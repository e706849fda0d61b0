/**
 * Coordinated manual failover (CLUSTER FAILOVER without an option), by Redis 7.0's protocol so
 * that it works between redis-server and gocache nodes in either direction:
 * 1. the replica sends MFSTART to its master and answers +OK at once;
 * 2. the master, when the sender is one of its replicas, pauses its clients' writes for twice
 *    CLUSTER_MF_TIMEOUT and pings the replica at once; while the manual failover lasts every
 *    message it sends carries MFLAG_PAUSED next to its replication offset;
 * 3. the replica takes the offset of the first such message from its master, waits until its
 *    own replication offset reaches it (every acknowledged write is then in its dataset), and
 *    stands at once: rank 0, no delay, vote requests flagged FORCEACK so that the masters vote
 *    although its master is up;
 * 4. with a majority it takes the slots at a new epoch (failover.ts); the old master sees the
 *    newer claim, becomes its replica, and its pause ends: the writes it held are redirected to
 *    the new master.
 * Either side gives up after CLUSTER_MF_TIMEOUT (5 s), and the master resumes its writes.
 */
import { logger } from "../util/logger.ts";
import { type BusHeader, MFLAG_PAUSED } from "./bus_codec.ts";
import type { BusLink } from "./bus_link.ts";
import type { Cluster } from "./cluster.ts";
import type { ClusterNode } from "./node.ts";
import { MessageType } from "./state.ts";

const log = logger("cluster");

/** How long a manual failover may take (ms), Redis's CLUSTER_MF_TIMEOUT. */
export const MF_TIMEOUT_MS = 5000;
/** The master's pause lasts this many times {@link MF_TIMEOUT_MS} at most (CLUSTER_MF_PAUSE_MULT). */
const MF_PAUSE_MULT = 2;

/** A manual failover in progress, on either side (Redis's `mf_*` fields of clusterState). */
export class ManualFailover {
  /** When it is given up (ms since the epoch); 0 when none is in progress (`mf_end`). */
  end = 0;
  /** On the master: the replica that asked, whose failover paused writes (`mf_slave`). */
  replica: ClusterNode | null = null;
  /** On the replica: its master's offset once paused, or -1 until known (`mf_master_offset`). */
  masterOffset = -1;
  /** On the replica: caught up with that offset, so the election may start (`mf_can_start`). */
  canStart = false;
}

/**
 * Ends the manual failover in progress, whatever its outcome (Redis's resetManualFailover): a
 * master resumes its clients' writes, a replica stops standing without its master failed.
 */
export function resetManualFailover(cluster: Cluster): void {
  const mf = cluster.manualFailover;
  if (mf.replica !== null) cluster.host.ctx.writePause.end("manual-failover");
  if (mf.canStart) cluster.election.forced = false;
  mf.end = 0;
  mf.replica = null;
  mf.masterOffset = -1;
  mf.canStart = false;
}

/** Gives up a manual failover that outlived {@link MF_TIMEOUT_MS} (manualFailoverCheckTimeout). */
export function checkManualFailoverTimeout(cluster: Cluster, now: number): void {
  const end = cluster.manualFailover.end;
  if (end === 0 || end >= now) return;
  log.warn("Manual failover timed out");
  resetManualFailover(cluster);
}

/** CLUSTER FAILOVER on a replica: asks `master` to pause its writes (clusterSendMFStart). */
export function startManualFailover(cluster: Cluster, master: ClusterNode): void {
  resetManualFailover(cluster);
  cluster.manualFailover.end = Date.now() + MF_TIMEOUT_MS;
  log.warn("Manual failover user request accepted");
  if (master.link !== null) {
    cluster.sendHeaderOnly(master.link as BusLink, MessageType.MFSTART);
  }
}

/**
 * MFSTART on a master from one of its replicas: pauses client writes and pings the replica, so
 * that it learns the offset at which the stream stopped as early as possible.
 */
export function handleMfStart(cluster: Cluster, link: BusLink, sender: ClusterNode): void {
  const myself = cluster.state.myself;
  if (!myself.isMaster || sender.master !== myself) return;
  resetManualFailover(cluster);
  const now = Date.now();
  const mf = cluster.manualFailover;
  mf.end = now + MF_TIMEOUT_MS;
  mf.replica = sender;
  const ctx = cluster.host.ctx;
  ctx.writePause.pause("manual-failover", now + MF_TIMEOUT_MS * MF_PAUSE_MULT);
  // Writes already acknowledged are in the stream before the offset leaves.
  ctx.propagator.flush();
  log.warn("Manual failover requested by replica {id}", { id: sender.id });
  cluster.sendPing(link, MessageType.PING);
}

/** The flag a master's messages carry while its writes are paused for a manual failover. */
export function pausedFlag(cluster: Cluster): number {
  return cluster.state.myself.isMaster && cluster.manualFailover.end !== 0 ? MFLAG_PAUSED : 0;
}

/**
 * On a replica in a manual failover: takes its master's offset from the first message that
 * says the master paused; true when it did.
 */
export function noteMasterOffset(cluster: Cluster, sender: ClusterNode, h: BusHeader): boolean {
  const mf = cluster.manualFailover;
  const myself = cluster.state.myself;
  if (
    mf.end === 0 || !myself.isReplica || myself.master !== sender ||
    (h.mflags & MFLAG_PAUSED) === 0 || mf.masterOffset !== -1
  ) return false;
  mf.masterOffset = h.offset;
  log.warn("Received replication offset for paused master manual failover: {offset}", {
    offset: h.offset,
  });
  return true;
}

/**
 * The replica's step (clusterHandleManualFailover): once its replication offset reached the
 * paused master's, the election may start, at once and with FORCEACK. Redis waits for the
 * offsets to be equal; gocache for its own to be at least as far, which is the same once the
 * master's stream has stopped and does not wait out the timeout if a stray byte followed.
 */
export function handleManualFailover(cluster: Cluster): void {
  const mf = cluster.manualFailover;
  if (mf.end === 0 || mf.canStart || mf.masterOffset === -1) return;
  if (cluster.host.ctx.replication.leader.offset < mf.masterOffset) return;
  mf.canStart = true;
  log.warn("All master replication stream processed, manual failover can start");
  const election = cluster.election;
  election.forced = true;
  election.startsAt = Date.now() - 1;
  election.rank = 0;
  election.votes = 0;
  election.requested = false;
}
