/**
 * The cluster bus's periodic work (Redis's clusterCron), run every 100 ms from the server's
 * housekeeping through `Cluster.tick`, and the write lease it renews on every tick.
 */
import { ErrorReply } from "../resp/reply.ts";
import { logger } from "../util/logger.ts";
import type { BusLink } from "./bus_link.ts";
import type { Cluster } from "./cluster.ts";
import { handleReplicaFailover } from "./failover.ts";
import { type ClusterNode, NodeFlag } from "./node.ts";
import { handleReplicaMigration } from "./replica_migration.ts";
import { MessageType } from "./state.ts";

const log = logger("cluster");
const NOREPLICAS = new ErrorReply("NOREPLICAS Not enough good replicas to write.");
const CLUSTERDOWN = new ErrorReply("CLUSTERDOWN The cluster is down");

/**
 * One cron tick of `cluster` (every 100 ms; `iteration` counts them), Redis's clusterCron:
 * connects to nodes without a link, drops handshakes that did not complete, pings a random node
 * every second and any node not heard from for the heartbeat period, suspects (PFAIL) a node
 * whose PING went unanswered for the node timeout, keeps a replica's replication link, renews the
 * write lease, runs the failover and migration steps, and saves nodes.conf when it changed.
 */
export function clusterCron(cluster: Cluster, iteration: number): void {
  const state = cluster.state;
  const now = Date.now();
  const timeout = cluster.nodeTimeout;
  const values = cluster.host.ctx.config.values;
  const myself = state.myself;
  // A group's heartbeat period is its own setting; a cluster pings at half the node timeout, as
  // Redis, except that a slot-serving master pings the other voters every quarter: its write
  // lease lasts a node timeout from the sending of an answered PING, so this leaves it three
  // quarters of a timeout of slack for a busy peer or a slow event loop instead of a half.
  const heartbeat = cluster.group !== null ? values["group-heartbeat-period"] : timeout / 2;
  const leaseHeartbeat = cluster.group === null && cluster.votes(myself) ? timeout / 4 : heartbeat;
  myself.hostname = values["cluster-announce-hostname"];
  if (values["cluster-announce-ip"] !== "") myself.ip = values["cluster-announce-ip"];
  let changed = false;
  for (const node of [...state.nodes.values()]) {
    if (node.isMyself || node.noAddress) continue;
    if (node.inHandshake && now - node.createdAt > Math.max(timeout, 1000)) {
      state.remove(node);
      continue;
    }
    if (node.link === null) cluster.connect(node);
  }
  if (iteration % 10 === 0) {
    let oldest: ClusterNode | null = null;
    const nodes = [...state.nodes.values()];
    for (let i = 0; i < 5 && nodes.length > 0; i++) {
      const node = nodes[Math.floor(Math.random() * nodes.length)];
      if (node.link === null || node.pingSent !== 0 || node.isMyself || node.inHandshake) {
        continue;
      }
      if (oldest === null || node.pongReceived < oldest.pongReceived) oldest = node;
    }
    if (oldest !== null) cluster.sendPing(oldest.link as BusLink, MessageType.PING);
  }
  for (const node of state.nodes.values()) {
    if (node.isMyself || node.noAddress || node.inHandshake) continue;
    const link = node.link as BusLink | null;
    if (
      link !== null && link.connected && now - link.createdAt > timeout &&
      node.pingSent !== 0 && now - node.pingSent > timeout / 2 &&
      now - node.dataReceived > timeout / 2
    ) {
      link.close("no reply within half the node timeout");
    }
    if (
      link !== null && link.connected && node.pingSent === 0 &&
      now - node.pongReceived > (cluster.votes(node) ? leaseHeartbeat : heartbeat)
    ) {
      cluster.sendPing(link, MessageType.PING);
      continue;
    }
    if (node.pingSent === 0) continue;
    const delay = Math.min(now - node.pingSent, now - node.dataReceived);
    if (delay > timeout && (node.flags & (NodeFlag.PFAIL | NodeFlag.FAIL)) === 0) {
      node.flags |= NodeFlag.PFAIL;
      changed = true;
      log.info("Node {id} is not reachable (PFAIL)", { id: node.id });
    }
  }
  if (
    myself.isReplica && myself.master !== null && !myself.master.noAddress &&
    cluster.host.ctx.replication.follower === null
  ) {
    cluster.host.ctx.replication.follow(myself.master.ip, cluster.replicationPort(myself.master));
  }
  if (cluster.group !== null) {
    if (iteration % 10 === 0) cluster.group.cron(cluster, now);
    cluster.host.ctx.replication.setWriteLease(
      cluster.group.writeLease(cluster, now),
      NOREPLICAS,
    );
  } else {
    cluster.host.ctx.replication.setWriteLease(
      cluster.votes(myself) ? leaseFrom(cluster) : null,
      CLUSTERDOWN,
    );
  }
  handleReplicaFailover(cluster);
  if (cluster.group === null) handleReplicaMigration(cluster, now);
  if (changed || iteration % 10 === 0) cluster.updateState();
  if (state.dirty) cluster.saveConfig();
}

/**
 * A master's write lease: writes run only until a quorum of voters, itself included, have
 * answered a PING sent less than a node timeout ago; Infinity when it alone is a quorum. The
 * others cannot have failed this master over before a node timeout (plus the election's delay)
 * without its PINGs answered, so a master that was stopped, or cut off from the majority,
 * refuses writes from the moment they could have, before its own timers or messages run.
 */
export function leaseFrom(cluster: Cluster): number {
  const needed = cluster.quorum - 1;
  if (needed <= 0) return Infinity;
  const acked: number[] = [];
  for (const node of cluster.state.nodes.values()) {
    if (node.isMyself || node.noAddress || !cluster.votes(node)) continue;
    acked.push(node.pingAckedAt);
  }
  if (acked.length < needed) return 0;
  acked.sort((a, b) => b - a);
  return acked[needed - 1] + cluster.nodeTimeout;
}
