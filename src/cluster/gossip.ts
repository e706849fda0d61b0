/**
 * What a node does with each message arriving on the bus (Redis 7.0's clusterProcessPacket):
 * answer PINGs and MEETs, finish handshakes, learn epochs, roles, addresses and hostnames, take
 * slot ownership from the node with the newer config epoch (answering stale claims with an
 * UPDATE), resolve config epoch collisions, count failure reports from gossip and mark a node
 * FAIL once a majority of masters agree, deliver PUBLISH messages, and pass votes and manual
 * failover requests (MFSTART) on to failover.ts and manual_failover.ts.
 */
import { logger } from "../util/logger.ts";
import { bytesEqual } from "../util/bytes.ts";
import type { BusMessage } from "./bus_codec.ts";
import { type BusLink, normalizeIp, peerIp } from "./bus_link.ts";
import type { Cluster } from "./cluster.ts";
import { CLUSTER_SLOTS } from "./key_slot.ts";
import { ClusterNode, isNodeId, nextSlotBit, NodeFlag, randomNodeId } from "./node.ts";
import { MessageType } from "./state.ts";
import { handleAuthAck, handleAuthRequest, handleReplicaFailover } from "./failover.ts";
import { handleMfStart, noteMasterOffset } from "./manual_failover.ts";
import { countKeysInSlot, deleteKeysInSlots } from "./slot_keys.ts";

const log = logger("cluster");

/** Handles one decoded message from `link`. */
export function handleMessage(cluster: Cluster, link: BusLink, message: BusMessage): void {
  const state = cluster.state;
  const h = message.header;
  const now = Date.now();
  state.received[h.type]++;
  const sender = state.lookup(h.sender);
  if (sender !== undefined && link.inbound && link.node === null) {
    link.node = sender;
    sender.inboundLink = link;
  }
  if (sender !== undefined) sender.dataReceived = now;
  if (sender !== undefined && !sender.inHandshake) {
    if (h.currentEpoch > state.currentEpoch) {
      state.currentEpoch = h.currentEpoch;
      state.dirty = true;
    }
    if (h.configEpoch > sender.configEpoch) {
      sender.configEpoch = h.configEpoch;
      state.dirty = true;
    }
    sender.replOffset = h.offset;
    sender.priority = h.priority ?? null;
    if (noteMasterOffset(cluster, sender, h)) handleReplicaFailover(cluster);
  }
  const type = h.type;
  if (type === MessageType.PING || type === MessageType.MEET) {
    if (type === MessageType.MEET || state.myself.ip === "") learnOwnIp(cluster, link);
    if (sender === undefined && type === MessageType.MEET) {
      const node = new ClusterNode(randomNodeId(), NodeFlag.HANDSHAKE, now);
      node.ip = peerIp(link, h.ip);
      node.port = h.port;
      node.pport = h.pport;
      node.cport = h.cport;
      state.add(node);
    }
    cluster.sendPing(link, MessageType.PONG);
  }
  if (type === MessageType.PING || type === MessageType.PONG || type === MessageType.MEET) {
    pingExchange(cluster, link, message, sender);
    return;
  }
  if (sender === undefined) return;
  switch (type) {
    case MessageType.FAIL: {
      const failing = state.lookup(message.failed as string);
      if (failing !== undefined && (failing.flags & (NodeFlag.FAIL | NodeFlag.MYSELF)) === 0) {
        log.info("FAIL message received from {sender} about {id}", {
          sender: sender.id,
          id: failing.id,
        });
        failing.flags = (failing.flags | NodeFlag.FAIL) & ~NodeFlag.PFAIL;
        failing.failTime = now;
        state.dirty = true;
        cluster.updateState();
      }
      break;
    }
    case MessageType.PUBLISH:
    case MessageType.PUBLISHSHARD: {
      const publish = message.publish as NonNullable<BusMessage["publish"]>;
      cluster.host.deliver(
        type === MessageType.PUBLISH ? "channel" : "shard",
        publish.channel,
        publish.message,
      );
      break;
    }
    case MessageType.FAILOVER_AUTH_REQUEST:
      handleAuthRequest(cluster, link, sender, h);
      break;
    case MessageType.FAILOVER_AUTH_ACK:
      handleAuthAck(cluster, sender, h);
      break;
    case MessageType.MFSTART:
      handleMfStart(cluster, link, sender);
      break;
    case MessageType.UPDATE: {
      const update = message.update as NonNullable<BusMessage["update"]>;
      const node = state.lookup(update.id);
      if (node === undefined || node.configEpoch >= update.configEpoch) break;
      if (node.isReplica) state.setMasterRole(node);
      node.configEpoch = update.configEpoch;
      state.dirty = true;
      updateSlotsWith(cluster, node, update.configEpoch, update.slots);
      break;
    }
  }
}

/** The PING/PONG/MEET part: handshakes, addresses, PONG timing, roles, slots, gossip. */
function pingExchange(
  cluster: Cluster,
  link: BusLink,
  message: BusMessage,
  sender: ClusterNode | undefined,
): void {
  const state = cluster.state;
  const h = message.header;
  const now = Date.now();
  if (!link.inbound && link.node !== null) {
    const node = link.node;
    if (node.inHandshake) {
      if (sender !== undefined) {
        // Already known under its real id: this handshake was redundant.
        updateAddress(cluster, sender, link, h.ip, h.port, h.pport, h.cport);
        state.remove(node);
        return;
      }
      state.rename(node, h.sender);
      node.pport = h.pport;
      node.flags = (node.flags & ~NodeFlag.HANDSHAKE) |
        (h.flags & (NodeFlag.MASTER | NodeFlag.SLAVE));
      log.info("Handshake with node {id} completed ({ip}:{port})", {
        id: node.id,
        ip: node.ip,
        port: node.port,
      });
    } else if (node.id !== h.sender) {
      log.info("Node {id} at {ip}:{port} now answers as {other}: address dropped", {
        id: node.id,
        ip: node.ip,
        port: node.port,
        other: h.sender,
      });
      node.flags |= NodeFlag.NOADDR;
      node.ip = "";
      node.port = 0;
      node.cport = 0;
      link.close();
      state.dirty = true;
      return;
    }
  }
  if (sender !== undefined && h.type === MessageType.PING && !sender.inHandshake) {
    updateAddress(cluster, sender, link, h.ip, h.port, h.pport, h.cport);
  }
  if (!link.inbound && link.node !== null && h.type === MessageType.PONG) {
    const node = link.node;
    node.pongReceived = now;
    if (node.pingSent !== 0) node.pingAckedAt = node.pingSent;
    node.pingSent = 0;
    if (node.timedOut) {
      node.flags &= ~NodeFlag.PFAIL;
      cluster.updateState();
    } else if (node.failed) clearFailureIfNeeded(cluster, node);
  }
  if (sender === undefined) return;
  if (h.replicaOf === null) {
    if (!sender.isMaster) state.setMasterRole(sender);
  } else {
    const master = state.lookup(h.replicaOf);
    if (master !== undefined && master !== sender) {
      if (sender.master !== master || sender.isMaster) state.setReplicaRole(sender, master);
    } else if (sender.isMaster) {
      for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
        if (state.owners[slot] === sender) state.delSlot(slot);
      }
      sender.flags = (sender.flags & ~NodeFlag.MASTER) | NodeFlag.SLAVE;
      state.dirty = true;
    }
  }
  sender.flags = (sender.flags & ~NodeFlag.NOFAILOVER) | (h.flags & NodeFlag.NOFAILOVER);
  const senderMaster = sender.isMaster ? sender : sender.master;
  const dirtySlots = senderMaster !== null && !bytesEqual(senderMaster.slots, h.slots);
  if (sender.isMaster && dirtySlots) updateSlotsWith(cluster, sender, h.configEpoch, h.slots);
  if (dirtySlots) {
    for (
      let slot = nextSlotBit(h.slots, 0);
      slot < CLUSTER_SLOTS;
      slot = nextSlotBit(h.slots, slot + 1)
    ) {
      const owner = state.owners[slot];
      if (owner === null || owner === sender || owner === senderMaster) continue;
      if (owner.configEpoch > h.configEpoch) {
        cluster.sendUpdate(link, owner);
        break;
      }
    }
  }
  const myself = state.myself;
  if (sender.isMaster && myself.isMaster && sender.configEpoch === myself.configEpoch) {
    handleEpochCollision(cluster, sender);
  }
  processGossip(cluster, message, sender);
  if (h.mflags & 4) {
    const hostname = message.hostname ?? "";
    if (hostname !== sender.hostname) {
      sender.hostname = hostname;
      state.dirty = true;
    }
  }
}

/** Takes a node's address from its message when it changed (Redis's nodeUpdateAddressIfNeeded). */
function updateAddress(
  cluster: Cluster,
  node: ClusterNode,
  link: BusLink,
  announced: string,
  port: number,
  pport: number,
  cport: number,
): void {
  if (node.isMyself || link === node.link) return;
  const ip = peerIp(link, announced);
  if (node.ip === ip && node.port === port && node.pport === pport && node.cport === cport) {
    return;
  }
  node.ip = ip;
  node.port = port;
  node.pport = pport;
  node.cport = cport;
  node.link?.close();
  node.link = null;
  node.flags &= ~NodeFlag.NOADDR;
  cluster.state.dirty = true;
  log.info("Address updated for node {id}, now {ip}:{port}", { id: node.id, ip, port });
}

/** Clears FAIL from a node that is back (Redis's clearNodeFailureIfNeeded). */
function clearFailureIfNeeded(cluster: Cluster, node: ClusterNode): void {
  const now = Date.now();
  const timeout = cluster.nodeTimeout;
  if (node.isReplica || node.slotCount === 0 || now - node.failTime > timeout * 2) {
    node.flags &= ~NodeFlag.FAIL;
    cluster.state.dirty = true;
    log.info("Clear FAIL state for node {id}: it is reachable again", { id: node.id });
    cluster.updateState();
  }
}

/**
 * Gives this node's view the slots `sender` claims at `senderEpoch` wherever the current owner
 * has an older config epoch (Redis's clusterUpdateSlotsConfigWith). If this node (or its master)
 * lost its last slot to the sender, it becomes the sender's replica; keys of slots lost
 * otherwise are deleted.
 */
export function updateSlotsWith(
  cluster: Cluster,
  sender: ClusterNode,
  senderEpoch: number,
  slots: Uint8Array,
): void {
  const state = cluster.state;
  const myself = state.myself;
  if (sender === myself) return;
  const current = state.shardMaster();
  let newMaster: ClusterNode | null = null;
  const lost = new Set<number>();
  let movedFromUs = 0;
  let senderSlots = 0;
  for (
    let slot = nextSlotBit(slots, 0);
    slot < CLUSTER_SLOTS;
    slot = nextSlotBit(slots, slot + 1)
  ) {
    senderSlots++;
    const owner = state.owners[slot];
    if (owner === sender || state.importingFrom[slot] !== null) continue;
    if (owner === null || owner.configEpoch < senderEpoch) {
      // A group keeps no index of keys by slot: a leader that loses its slots follows the new
      // one and gets its data by replication.
      if (
        owner === myself && cluster.group === null && countKeysInSlot(cluster.host.ctx, slot) > 0
      ) {
        lost.add(slot);
      }
      if (owner !== null && owner === current) {
        newMaster = sender;
        movedFromUs++;
      }
      state.delSlot(slot);
      state.addSlot(sender, slot);
    }
  }
  const values = cluster.host.ctx.config.values;
  if (
    newMaster !== null && current !== null && current.slotCount === 0 &&
    (values["cluster-allow-replica-migration"] || senderSlots === movedFromUs)
  ) {
    if (myself.isMaster) state.demotions++;
    log.info("Lost my last slot to {id}: reconfiguring as its replica", { id: sender.id });
    cluster.setMaster(sender);
  } else if (lost.size > 0) {
    const deleted = deleteKeysInSlots(cluster.host.ctx, lost);
    log.info("Deleted {keys} keys of {slots} slots now served by {id}", {
      keys: deleted,
      slots: lost.size,
      id: sender.id,
    });
  }
  cluster.updateState();
}

/**
 * Two masters with one config epoch: the one with the smaller id takes a new epoch (Redis's
 * clusterHandleConfigEpochCollision), so every master ends with a distinct epoch.
 */
function handleEpochCollision(cluster: Cluster, sender: ClusterNode): void {
  const state = cluster.state;
  const myself = state.myself;
  if (sender.id <= myself.id) return;
  state.currentEpoch++;
  myself.configEpoch = state.currentEpoch;
  state.dirty = true;
  log.info("configEpoch collision with node {id}: configEpoch set to {epoch}", {
    id: sender.id,
    epoch: myself.configEpoch,
  });
}

/** Reads the gossip entries of a PING/PONG/MEET (Redis's clusterProcessGossipSection). */
function processGossip(cluster: Cluster, message: BusMessage, sender: ClusterNode): void {
  const state = cluster.state;
  const now = Date.now();
  for (const g of message.gossip) {
    const node = state.lookup(g.id);
    if (node !== undefined) {
      if (cluster.reportsFailures(sender) && !node.isMyself) {
        if (g.flags & (NodeFlag.FAIL | NodeFlag.PFAIL)) {
          node.failReports.set(sender.id, now);
          markFailingIfNeeded(cluster, node);
        } else node.failReports.delete(sender.id);
      }
      if (
        (g.flags & (NodeFlag.FAIL | NodeFlag.PFAIL)) === 0 && node.pingSent === 0 &&
        node.failReports.size === 0
      ) {
        const pong = g.pongReceived * 1000;
        if (pong <= now + 500 && pong > node.pongReceived) node.pongReceived = pong;
      }
      if (
        (node.flags & (NodeFlag.FAIL | NodeFlag.PFAIL)) !== 0 &&
        (g.flags & NodeFlag.NOADDR) === 0 && g.ip !== "" &&
        (node.ip !== g.ip || node.port !== g.port || node.cport !== g.cport)
      ) {
        node.link?.close();
        node.link = null;
        node.ip = g.ip;
        node.port = g.port;
        node.cport = g.cport;
        node.flags &= ~NodeFlag.NOADDR;
        state.dirty = true;
      }
    } else if (
      (g.flags & NodeFlag.NOADDR) === 0 && isNodeId(g.id) && !state.blacklisted(g.id, now)
    ) {
      const added = new ClusterNode(g.id, g.flags & ~(NodeFlag.MYSELF | NodeFlag.HANDSHAKE), now);
      added.ip = g.ip;
      added.port = g.port;
      added.cport = g.cport;
      added.pport = g.pport;
      state.add(added);
      log.info("Node {id} ({ip}:{port}) learned from {sender}'s gossip", {
        id: g.id,
        ip: g.ip,
        port: g.port,
        sender: sender.id,
      });
    }
  }
}

/**
 * Marks a node FAIL when this node suspects it (PFAIL) and, counting itself if a master, a
 * majority of slot-serving masters reported it within twice the node timeout; then tells
 * everyone (Redis's markNodeAsFailingIfNeeded). In a group, every member reports and counts,
 * and the majority is of the configured members.
 */
function markFailingIfNeeded(cluster: Cluster, node: ClusterNode): void {
  const state = cluster.state;
  const needed = cluster.quorum;
  if (!node.timedOut || node.failed) return;
  const now = Date.now();
  let failures = state.freshFailReports(node, now, cluster.nodeTimeout * 2);
  if (cluster.reportsFailures(state.myself)) failures++;
  if (failures < needed) return;
  log.info("Marking node {id} as failing (quorum reached)", { id: node.id });
  node.flags = (node.flags & ~NodeFlag.PFAIL) | NodeFlag.FAIL;
  node.failTime = now;
  state.dirty = true;
  cluster.broadcastFail(node);
  cluster.updateState();
}

/** This node's address as a peer saw it, learned from a MEET when none is announced. */
function learnOwnIp(cluster: Cluster, link: BusLink): void {
  if (cluster.host.ctx.config.values["cluster-announce-ip"] !== "") return;
  const ip = normalizeIp(link.localIp);
  const myself = cluster.state.myself;
  if (ip !== "" && ip !== myself.ip) {
    myself.ip = ip;
    cluster.state.dirty = true;
    log.info("IP address for this node updated to {ip}", { ip });
  }
}
