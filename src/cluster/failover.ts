/**
 * Automatic failover in cluster mode, by Redis 7.0's rules spoken over its bus, so that
 * redis-server masters vote for gocache replicas and gocache masters for redis-server replicas:
 * - a master votes (FAILOVER_AUTH_ACK) at most once per epoch, for a replica whose master it sees
 *   failed, never twice within twice the node timeout for one failed master, and only if the
 *   replica's claimed slots are not owned at a newer config epoch; the vote's epoch is written to
 *   nodes.conf before the vote is sent;
 * - a replica whose master failed waits 500 ms + random(0..500) ms (a quarter of the node
 *   timeout each when that is shorter) + rank x 1000 ms (rank: how
 *   many sibling replicas have a lower replica-priority, or the same and a larger replication
 *   offset), then takes a new epoch, asks every
 *   master for its vote, and with a majority of the slot-serving masters takes its master's
 *   slots at that epoch, becomes a master and tells everyone; the other replicas and the old
 *   master, once back, follow it because its claim is newer (gossip.ts).
 * A replica whose link to its master has been down longer than node timeout x
 * `cluster-replica-validity-factor` (+ `repl-ping-replica-period`) does not stand either, as in
 * Redis. A replica with `cluster-replica-no-failover yes` or `replica-priority 0` never stands on its
 * own; CLUSTER FAILOVER FORCE starts an election at once with the master up (voters see the
 * FORCEACK flag), TAKEOVER takes the slots at a new epoch without a vote, and the plain form
 * stands the same way once the paused master's last write arrived (manual_failover.ts).
 */
import { logger } from "../util/logger.ts";
import type { BusHeader } from "./bus_codec.ts";
import { MFLAG_FORCEACK } from "./bus_codec.ts";
import type { BusLink } from "./bus_link.ts";
import type { Cluster } from "./cluster.ts";
import { CLUSTER_SLOTS } from "./key_slot.ts";
import { type ClusterNode, hasSlotBit } from "./node.ts";
import { MessageType } from "./state.ts";
import {
  checkManualFailoverTimeout,
  handleManualFailover,
  resetManualFailover,
} from "./manual_failover.ts";

const log = logger("cluster");

/** A replica's election in progress (Redis's failover_auth_* fields). */
export class Election {
  /** When the election starts (or started), ms; 0 = none scheduled, -1 = data too old. */
  startsAt = 0;
  /** Votes received for {@link epoch}. */
  votes = 0;
  /** Whether the vote requests were sent. */
  requested = false;
  /** This replica's rank among its master's replicas when scheduled. */
  rank = 0;
  /** The epoch this node asked votes for. */
  epoch = 0;
  /** Whether the election was started by CLUSTER FAILOVER FORCE (votes even with the master up). */
  forced = false;
}

/** A master's answer to FAILOVER_AUTH_REQUEST (Redis's clusterSendFailoverAuthIfNeeded). */
export function handleAuthRequest(
  cluster: Cluster,
  link: BusLink,
  requester: ClusterNode,
  h: BusHeader,
): void {
  const state = cluster.state;
  const myself = state.myself;
  const now = Date.now();
  const timeout = cluster.nodeTimeout;
  if (!cluster.votes(myself)) return;
  const refuse = (reason: string) =>
    log.info("Failover auth denied to {id}: {reason}", { id: requester.id, reason });
  if (h.currentEpoch < state.currentEpoch) {
    return refuse(`its epoch ${h.currentEpoch} is older than ${state.currentEpoch}`);
  }
  if (state.lastVoteEpoch === state.currentEpoch) {
    return refuse(`already voted for epoch ${state.currentEpoch}`);
  }
  const master = requester.master;
  const forced = (h.mflags & MFLAG_FORCEACK) !== 0;
  if (!requester.isReplica || master === null) {
    return refuse("it is not a replica of a known master");
  }
  if (!master.failed && !forced) return refuse("its master is not failed");
  if (now - master.votedTime < timeout * 2) {
    return refuse(`voted for a replica of ${master.id} less than two node timeouts ago`);
  }
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    if (!hasSlotBit(h.slots, slot)) continue;
    const owner = state.owners[slot];
    if (owner === null || owner.configEpoch <= h.configEpoch) continue;
    return refuse(`slot ${slot} is served at config epoch ${owner.configEpoch} > ${h.configEpoch}`);
  }
  state.lastVoteEpoch = state.currentEpoch;
  master.votedTime = now;
  // The vote is durable before it leaves: a restarted master never votes twice in one epoch.
  state.dirty = true;
  cluster.saveConfig();
  // Redis answers on its own link to the replica; the request's link when there is none yet.
  const answerOn = (requester.link as BusLink | null) ?? link;
  cluster.sendHeaderOnly(answerOn, MessageType.FAILOVER_AUTH_ACK);
  log.info("Failover auth granted to {id} for epoch {epoch}", {
    id: requester.id,
    epoch: state.currentEpoch,
  });
}

/** Counts a vote (Redis: an ACK from a slot-serving master for the epoch asked). */
export function handleAuthAck(cluster: Cluster, voter: ClusterNode, h: BusHeader): void {
  const election = cluster.election;
  if (!cluster.votes(voter) || h.currentEpoch < election.epoch) return;
  election.votes++;
  handleReplicaFailover(cluster);
}

/**
 * This replica's rank among its master's replicas: how many stand before it. gocache orders by
 * `replica-priority` first (lower first; Redis ignores priority in clusters), then by
 * replication offset (larger first), as Redis does by offset alone, and then by node id (so two
 * replicas with one offset do not stand at the same moment and split the votes); a
 * redis-server sibling, whose priority is not on the bus, counts as Redis's default 100, and
 * priority 0 never stands.
 */
function rankOf(cluster: Cluster, master: ClusterNode): number {
  const mine = cluster.host.ctx.replication.leader.offset;
  const myPriority = cluster.host.ctx.config.values["replica-priority"];
  const myId = cluster.state.myself.id;
  let rank = 0;
  for (const replica of master.replicas) {
    if (replica.isMyself || replica.noAddress || replica.failed) continue;
    const priority = replica.priority ?? 100;
    if (priority === 0) continue;
    const ahead = priority < myPriority ||
      (priority === myPriority &&
        (replica.replOffset > mine || (replica.replOffset === mine && replica.id < myId)));
    if (ahead) rank++;
  }
  return rank;
}

/**
 * A replica's failover step, from the cron and on every vote (clusterHandleSlaveFailover),
 * after the manual failover's (a timed-out one first ends, on a master too, so that a late
 * vote cannot complete it). An election of CLUSTER FAILOVER (forced) runs even with
 * `cluster-replica-no-failover` or `replica-priority 0`, as Redis's manual failover does.
 */
export function handleReplicaFailover(cluster: Cluster): void {
  const state = cluster.state;
  const myself = state.myself;
  const master = myself.master;
  const election = cluster.election;
  const values = cluster.host.ctx.config.values;
  const now = Date.now();
  checkManualFailoverTimeout(cluster, now);
  handleManualFailover(cluster);
  if (
    !myself.isReplica || master === null || master.slotCount === 0 ||
    (!master.failed && !election.forced) ||
    ((values["cluster-replica-no-failover"] || values["replica-priority"] === 0) &&
      !election.forced)
  ) {
    return;
  }
  const timeout = cluster.nodeTimeout;
  // Redis's data-age rule: a replica cut off from its master for longer than node timeout x
  // cluster-replica-validity-factor (plus a ping period) holds data too old to stand with.
  const factor = values["cluster-replica-validity-factor"];
  const link = cluster.host.ctx.replication.follower;
  if (factor > 0 && link !== null && !election.forced) {
    const age = link.state === "connected" ? link.lastIoSecondsAgo * 1000 : now - link.downSince;
    const allowed = timeout * factor + values["repl-ping-replica-period"] * 1000;
    if (Math.max(0, age - timeout) > allowed) {
      if (election.startsAt !== -1) {
        log.warn("Unable to failover: disconnected from the master for {ms} ms", { ms: age });
      }
      election.startsAt = -1;
      return;
    }
    if (election.startsAt === -1) election.startsAt = 0;
  }
  const authTimeout = Math.max(timeout * 2, 2000);
  const retry = authTimeout * 2;
  if (election.startsAt === 0 || now - election.startsAt > retry) {
    election.rank = rankOf(cluster, master);
    // Redis waits 500 ms + random(0..500) ms so that the FAIL reaches every master first; on
    // a small node timeout gocache waits a quarter of it for each part instead (a FAIL crosses a
    // LAN in milliseconds), which cuts a 1 s-timeout failover by ~0.4 s. Ranks stay 1 s apart.
    const part = Math.min(500, Math.floor(timeout / 4));
    election.startsAt = now + part + Math.floor(Math.random() * part) + election.rank * 1000;
    election.votes = 0;
    election.requested = false;
    log.info("Start of election delayed for {ms} ms (rank #{rank}, offset {offset})", {
      ms: election.startsAt - now,
      rank: election.rank,
      offset: cluster.host.ctx.replication.leader.offset,
    });
    // Tell the sibling replicas our offset, so they rank themselves behind us if they should.
    cluster.broadcastPong((node) => node.master === master);
    return;
  }
  if (!election.requested && !election.forced) {
    const rank = rankOf(cluster, master);
    if (rank > election.rank) {
      election.startsAt += (rank - election.rank) * 1000;
      election.rank = rank;
    }
  }
  if (now < election.startsAt) return;
  if (now - election.startsAt > authTimeout) {
    // Lost or unanswered: a forced election is not retried; an automatic one is, later.
    election.forced = false;
    return;
  }
  if (!election.requested) {
    state.currentEpoch++;
    election.epoch = state.currentEpoch;
    if (cluster.group !== null) {
      // A group member votes for itself first (as in Raft): then it cannot also vote for a
      // sibling standing in the same epoch.
      state.lastVoteEpoch = election.epoch;
      master.votedTime = now;
      election.votes = 1;
    }
    state.dirty = true;
    cluster.saveConfig();
    state.electionsStarted++;
    log.info("Starting a failover election for epoch {epoch}", { epoch: election.epoch });
    cluster.requestVotes(election.forced);
    election.requested = true;
    if (election.votes >= cluster.quorum) {
      state.electionsWon++;
      replaceMaster(cluster, master, election.epoch);
    }
    return;
  }
  const needed = cluster.quorum;
  if (election.votes < needed) return;
  state.electionsWon++;
  log.info("Failover election won: {votes} of {needed} votes; taking over from {id}", {
    votes: election.votes,
    needed,
    id: master.id,
  });
  replaceMaster(cluster, master, election.epoch);
}

/** Makes this replica the master of its master's slots (clusterFailoverReplaceYourMaster). */
export function replaceMaster(cluster: Cluster, master: ClusterNode, epoch: number): void {
  const state = cluster.state;
  const myself = state.myself;
  state.setMasterRole(myself);
  void cluster.host.ctx.replication.promote();
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    if (state.owners[slot] !== master) continue;
    state.delSlot(slot);
    state.addSlot(myself, slot);
  }
  if (myself.configEpoch < epoch) myself.configEpoch = epoch;
  state.promotions++;
  cluster.election.startsAt = 0;
  cluster.election.forced = false;
  resetManualFailover(cluster);
  state.dirty = true;
  cluster.updateState();
  cluster.saveConfig();
  cluster.broadcastPong();
  log.info("Failover done: this node now serves {slots} slots at config epoch {epoch}", {
    slots: myself.slotCount,
    epoch: myself.configEpoch,
  });
}
