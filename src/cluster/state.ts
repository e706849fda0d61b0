/**
 * The cluster as this node sees it (Redis's `clusterState`): every known node by id, which node
 * serves each of the 16384 slots, slots being moved in or out, the current epoch and the last
 * epoch this node voted in, and whether the cluster is up. The one owner of that state: the bus
 * and the CLUSTER commands change it only through these methods, which mark it for saving.
 */
import { CLUSTER_SLOTS } from "./key_slot.ts";
import { ClusterNode, NodeFlag } from "./node.ts";

/** Bus message types, with Redis's numbers. */
export const MessageType = {
  PING: 0,
  PONG: 1,
  MEET: 2,
  FAIL: 3,
  PUBLISH: 4,
  FAILOVER_AUTH_REQUEST: 5,
  FAILOVER_AUTH_ACK: 6,
  UPDATE: 7,
  MFSTART: 8,
  MODULE: 9,
  PUBLISHSHARD: 10,
} as const;

/** Number of bus message types. */
export const MESSAGE_TYPE_COUNT = 11;

/** Message type names as CLUSTER INFO's counters spell them. */
export const MESSAGE_TYPE_NAMES = [
  "ping",
  "pong",
  "meet",
  "fail",
  "publish",
  "auth-req",
  "auth-ack",
  "update",
  "mfstart",
  "module",
  "publishshard",
] as const;

/** How long a forgotten node may not be re-added by gossip (ms), as Redis. */
const FORGET_BLACKLIST_MS = 60_000;

/** The cluster's state; see the module comment. */
export class ClusterState {
  /** This node. */
  readonly myself: ClusterNode;
  /** Every known node (this one included) by id. */
  readonly nodes: Map<string, ClusterNode> = new Map();
  /** The node serving each slot, or null. */
  readonly owners: (ClusterNode | null)[] = new Array(CLUSTER_SLOTS).fill(null);
  /** How many slots have an owner (kept by addSlot and delSlot, the only writers of owners). */
  #assigned = 0;
  readonly #migratingTo: (ClusterNode | null)[] = new Array(CLUSTER_SLOTS).fill(null);
  readonly #importingFrom: (ClusterNode | null)[] = new Array(CLUSTER_SLOTS).fill(null);
  /** See {@link slotsInFlux}. */
  readonly #slotsInFlux = new Set<number>();
  /**
   * 1 for each slot this node serves and is not moving, 0 otherwise: the one byte the slot
   * check of every command reads when it can serve it (16 KB, so it stays in cache where the
   * three arrays of node references would not).
   */
  readonly servedStable: Uint8Array = new Uint8Array(CLUSTER_SLOTS);
  /** The highest epoch seen in the cluster. */
  currentEpoch = 0;
  /** The epoch of the last vote this node granted. */
  lastVoteEpoch = 0;
  /** Whether the cluster can serve queries. */
  ok = false;
  /** Masters serving at least one slot (CLUSTER INFO cluster_size). */
  size = 0;
  /** Bus messages sent, by type. */
  readonly sent: number[] = new Array(MESSAGE_TYPE_COUNT).fill(0);
  /** Bus messages received, by type. */
  readonly received: number[] = new Array(MESSAGE_TYPE_COUNT).fill(0);
  /** Bus bytes sent (whole messages). */
  bytesSent = 0;
  /** Bus bytes received (whole messages). */
  bytesReceived = 0;
  /** Elections this node started as a replica (vote requests sent). */
  electionsStarted = 0;
  /** Elections this node won. */
  electionsWon = 0;
  /** Times this node took over its master's slots (won elections and TAKEOVERs). */
  promotions = 0;
  /**
   * Times this node, a master, lost its last slot and began following the node that took it: a
   * replica promoted in its place, or a resharding's target (heard by the bus or by SETSLOT NODE).
   */
  demotions = 0;
  /** Links dropped for exceeding cluster-link-sendbuf-limit. */
  linksBufferLimitExceeded = 0;
  /** Set when something that nodes.conf records changed; the owner saves and clears it. */
  dirty = false;
  /** Forgotten node ids and until when gossip may not re-add them (ms). */
  readonly #blacklist = new Map<string, number>();

  /** A state holding only `myself`. */
  constructor(myself: ClusterNode) {
    this.myself = myself;
    this.nodes.set(myself.id, myself);
  }

  /** For each slot this node is moving out: the target. */
  get migratingTo(): readonly (ClusterNode | null)[] {
    return this.#migratingTo;
  }

  /** For each slot this node is moving in: the source. */
  get importingFrom(): readonly (ClusterNode | null)[] {
    return this.#importingFrom;
  }

  /** Marks `slot` as moving to `node` (MIGRATING), or not (null). */
  setMigrating(slot: number, node: ClusterNode | null): void {
    this.#migratingTo[slot] = node;
    this.#refresh(slot);
    this.dirty = true;
  }

  /** Marks `slot` as coming from `node` (IMPORTING), or not (null). */
  setImporting(slot: number, node: ClusterNode | null): void {
    this.#importingFrom[slot] = node;
    this.#refresh(slot);
    this.dirty = true;
  }

  #refresh(slot: number): void {
    const stable = this.#migratingTo[slot] === null && this.#importingFrom[slot] === null;
    this.servedStable[slot] = this.owners[slot] === this.myself && stable ? 1 : 0;
    if (stable) this.#slotsInFlux.delete(slot);
    else this.#slotsInFlux.add(slot);
  }

  /**
   * The slots marked MIGRATING or IMPORTING, in no order: nodes.conf and CLUSTER NODES list
   * them, and are written after every slot a rebalance moves (a scan of all 16384 slots took
   * most of the ~57 us a 4-master nodes.conf took to format).
   */
  get slotsInFlux(): ReadonlySet<number> {
    return this.#slotsInFlux;
  }

  /** The node with this id, if known. */
  lookup(id: string): ClusterNode | undefined {
    return this.nodes.get(id);
  }

  /** Adds a node. */
  add(node: ClusterNode): void {
    this.nodes.set(node.id, node);
    this.dirty = true;
  }

  /** Removes a node: its slots become unassigned, its links close, its reports vanish. */
  remove(node: ClusterNode): void {
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      if (this.#importingFrom[slot] === node) this.setImporting(slot, null);
      if (this.#migratingTo[slot] === node) this.setMigrating(slot, null);
      if (this.owners[slot] === node) this.delSlot(slot);
    }
    for (const other of this.nodes.values()) other.failReports.delete(node.id);
    if (node.master !== null) node.master.removeReplica(node);
    for (const replica of node.replicas) replica.master = null;
    node.link?.close();
    node.link = null;
    node.inboundLink?.close();
    node.inboundLink = null;
    this.nodes.delete(node.id);
    this.dirty = true;
  }

  /** Gives a handshake node the id it answered with. */
  rename(node: ClusterNode, id: string): void {
    this.nodes.delete(node.id);
    node.id = id;
    this.nodes.set(id, node);
    this.dirty = true;
  }

  /** Assigns `slot` to `node`; false if it already has an owner. */
  addSlot(node: ClusterNode, slot: number): boolean {
    if (this.owners[slot] !== null) return false;
    node.setSlotBit(slot);
    this.owners[slot] = node;
    this.#assigned++;
    this.#refresh(slot);
    this.dirty = true;
    return true;
  }

  /** Unassigns `slot`; false if it had no owner. */
  delSlot(slot: number): boolean {
    const owner = this.owners[slot];
    if (owner === null) return false;
    owner.clearSlotBit(slot);
    this.owners[slot] = null;
    this.#assigned--;
    this.#refresh(slot);
    this.dirty = true;
    return true;
  }

  /**
   * Makes `node` a master (keeping its slots). Another node promoted from replica is marked
   * MIGRATE_TO, as in Redis's clusterSetNodeAsMaster: it took over a shard that had replicas.
   */
  setMasterRole(node: ClusterNode): void {
    const promoted = node.master !== null && !node.isMyself;
    if (node.master !== null) node.master.removeReplica(node);
    node.master = null;
    if (node.isMaster && !node.isReplica) return;
    if (promoted) node.flags |= NodeFlag.MIGRATE_TO;
    node.flags = (node.flags & ~NodeFlag.SLAVE) | NodeFlag.MASTER;
    this.dirty = true;
  }

  /** Makes `node` a replica of `master`; a former master loses its slots. */
  setReplicaRole(node: ClusterNode, master: ClusterNode): void {
    if (node.isMaster) {
      for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
        if (this.owners[slot] === node) this.delSlot(slot);
      }
      node.flags = (node.flags & ~(NodeFlag.MASTER | NodeFlag.MIGRATE_TO)) | NodeFlag.SLAVE;
    }
    if (node.master !== master) {
      node.master?.removeReplica(node);
      node.master = master;
      master.addReplica(node);
    }
    this.dirty = true;
  }

  /** The master of this node's shard: itself, or the master it replicates. */
  shardMaster(node: ClusterNode = this.myself): ClusterNode | null {
    return node.isMaster ? node : node.master;
  }

  /** Keeps gossip from re-adding a forgotten node for a minute. */
  blacklist(id: string, now: number): void {
    this.#blacklist.set(id, now + FORGET_BLACKLIST_MS);
  }

  /** Whether gossip may not add this node now. */
  blacklisted(id: string, now: number): boolean {
    const until = this.#blacklist.get(id);
    if (until === undefined) return false;
    if (until > now) return true;
    this.#blacklist.delete(id);
    return false;
  }

  /** Forgets every node but this one and every slot (CLUSTER RESET). */
  reset(): void {
    for (const node of [...this.nodes.values()]) if (node !== this.myself) this.remove(node);
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      this.delSlot(slot);
      this.setMigrating(slot, null);
      this.setImporting(slot, null);
    }
    this.#blacklist.clear();
    this.dirty = true;
  }

  /** Slots with an owner, and those whose owner is suspected (PFAIL) or failed (CLUSTER INFO). */
  slotCounts(): { assigned: number; pfail: number; fail: number } {
    let assigned = 0;
    let pfail = 0;
    let fail = 0;
    for (const owner of this.owners) {
      if (owner === null) continue;
      assigned++;
      if (owner.failed) fail++;
      else if (owner.timedOut) pfail++;
    }
    return { assigned, pfail, fail };
  }

  /** The largest config epoch any node has. */
  maxConfigEpoch(): number {
    let max = 0;
    for (const node of this.nodes.values()) if (node.configEpoch > max) max = node.configEpoch;
    return max;
  }

  /** Number of failure reports about `node` that are still fresh. */
  freshFailReports(node: ClusterNode, now: number, validityMs: number): number {
    for (const [id, at] of node.failReports) {
      if (now - at > validityMs) node.failReports.delete(id);
    }
    return node.failReports.size;
  }

  /**
   * Recomputes `ok` and `size` (Redis's clusterUpdateState): down while a slot has no working
   * owner (with full coverage required) or while this node reaches fewer than a majority of the
   * masters that serve slots. Returns whether `ok` changed.
   */
  updateState(requireFullCoverage: boolean): boolean {
    // Every slot has an owner and no owner of a slot is failed: counted per node, not per slot
    // (this runs after every bus message that changes a node or a slot).
    let ok = !requireFullCoverage || this.#assigned === CLUSTER_SLOTS;
    let size = 0;
    let reachable = 0;
    for (const node of this.nodes.values()) {
      if (node.slotCount === 0) continue;
      if (requireFullCoverage && node.failed) ok = false;
      if (node.isMaster) {
        size++;
        if ((node.flags & (NodeFlag.FAIL | NodeFlag.PFAIL)) === 0) reachable++;
      }
    }
    this.size = size;
    if (reachable < Math.floor(size / 2) + 1) ok = false;
    const changed = ok !== this.ok;
    this.ok = ok;
    return changed;
  }

  /**
   * A leader/follower group's {@link updateState}: up while this node reaches `quorum` members
   * (itself included), whatever its role; returns whether `ok` changed.
   */
  updateGroupState(quorum: number): boolean {
    let size = 0;
    let reachable = 0;
    for (const node of this.nodes.values()) {
      if (node.isMaster && node.slotCount > 0) size++;
      if (node.inHandshake || node.noAddress) continue;
      if ((node.flags & (NodeFlag.FAIL | NodeFlag.PFAIL)) === 0) reachable++;
    }
    this.size = size;
    const ok = reachable >= quorum;
    const changed = ok !== this.ok;
    this.ok = ok;
    return changed;
  }
}
