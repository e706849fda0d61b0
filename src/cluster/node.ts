/**
 * One node of the cluster as this node knows it: identity, address, role, epoch, the slots it
 * serves and what the failure detector knows of it. The cluster state owns every instance; the
 * bus updates them from messages.
 */
import { CLUSTER_SLOTS } from "./key_slot.ts";

/** Node flags, with Redis's bit values (they travel on the bus and are compared as such). */
export const NodeFlag = {
  MASTER: 1,
  SLAVE: 2,
  PFAIL: 4,
  FAIL: 8,
  MYSELF: 16,
  HANDSHAKE: 32,
  NOADDR: 64,
  MEET: 128,
  MIGRATE_TO: 256,
  NOFAILOVER: 512,
} as const;

/** A new random node id (160 random bits in hex, as Redis's getRandomHexChars). */
export function randomNodeId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Whether `text` is a well-formed node id (40 lower-case hex digits). */
export function isNodeId(text: string): boolean {
  return /^[0-9a-f]{40}$/.test(text);
}

/** Whether `slot` is set in a slot bitmap (the bus's layout: slot 0 = bit 0 of byte 0). */
export function hasSlotBit(bitmap: Uint8Array, slot: number): boolean {
  return (bitmap[slot >> 3] & (1 << (slot & 7))) !== 0;
}

/**
 * The first slot from `from` on that is set in a 16384-slot bitmap, or 16384 when none is:
 * whole bytes of unset slots are skipped 8 at a time (a PING carries its sender's bitmap, and a
 * master of a few slots leaves most bytes 0).
 */
export function nextSlotBit(bitmap: Uint8Array, from: number): number {
  let slot = from;
  while (slot < bitmap.length * 8) {
    if ((slot & 7) === 0 && bitmap[slot >> 3] === 0) slot += 8;
    else if (hasSlotBit(bitmap, slot)) return slot;
    else slot++;
  }
  return bitmap.length * 8;
}

/** The part of a bus connection a node needs to know of (see bus.ts). */
export interface NodeLink {
  /** When the link was created (ms). */
  readonly createdAt: number;
  /** Whether the TCP connection is established. */
  readonly connected: boolean;
  /** Bytes queued for sending. */
  readonly sendBufferBytes: number;
  /** Closes the link. */
  close(): void;
}

/** A cluster node; see the module comment. */
export class ClusterNode {
  /** 40-character hex id (a handshake node has a random one until its first reply). */
  id: string;
  /** {@link NodeFlag} bits. */
  flags: number;
  /** The epoch of the slot configuration this node (a master) claims. */
  configEpoch = 0;
  /** Last known IP address ("" until known). */
  ip = "";
  /** Client port. */
  port = 0;
  /** Plain-text client port when the client port is TLS (0 otherwise). */
  pport = 0;
  /** Cluster bus port. */
  cport = 0;
  /** Announced hostname ("" when none). */
  hostname = "";
  /** The master this node replicates, when it is a replica whose master is known. */
  master: ClusterNode | null = null;
  /** Replicas of this node (when a master). */
  readonly replicas: ClusterNode[] = [];
  /** Slots served, one bit per slot, in the bus's byte order (slot 0 = bit 0 of byte 0). */
  readonly slots: Uint8Array = new Uint8Array(CLUSTER_SLOTS / 8);
  /** Number of bits set in {@link slots}. */
  slotCount = 0;
  /** When the last PING to it was sent and not answered yet (ms), or 0. */
  pingSent = 0;
  /** When its last PONG arrived (ms). */
  pongReceived = 0;
  /** When anything last arrived from it (ms). */
  dataReceived = 0;
  /**
   * When this node sent the last PING it answered (ms): proof that it was alive and in touch
   * at that moment, unlike the arrival time of its PONG, which may have waited in a socket
   * while this process was stopped. Write leases count from it.
   */
  pingAckedAt = 0;
  /** When it was marked FAIL (ms), or 0. */
  failTime = 0;
  /** When this node last voted for a replica of this master (ms). */
  votedTime = 0;
  /**
   * Since when this master has been seen orphaned, serving slots with no working replica
   * (ms), or 0; a replica migrates to it only after a while (see replica_migration.ts).
   */
  orphanedAt = 0;
  /** Its `replica-priority` as a gocache node announces it; null for redis-server nodes. */
  priority: number | null = null;
  /** Its replication offset as last announced. */
  replOffset = 0;
  /** When the node object was created (ms). */
  readonly createdAt: number;
  /** The connection this node opened to it, if any. */
  link: NodeLink | null = null;
  /** The connection it opened to this node, once identified. */
  inboundLink: NodeLink | null = null;
  /** Masters that reported it as failing, with the time of their last report (ms). */
  readonly failReports: Map<string, number> = new Map();

  /** Creates a node with an id and flags. */
  constructor(id: string, flags: number, createdAt: number) {
    this.id = id;
    this.flags = flags;
    this.createdAt = createdAt;
  }

  /** Whether it is a master. */
  get isMaster(): boolean {
    return (this.flags & NodeFlag.MASTER) !== 0;
  }

  /** Whether it is a replica. */
  get isReplica(): boolean {
    return (this.flags & NodeFlag.SLAVE) !== 0;
  }

  /** Whether it is this process's own node. */
  get isMyself(): boolean {
    return (this.flags & NodeFlag.MYSELF) !== 0;
  }

  /** Whether the first exchange of a MEET or gossip handshake is still pending. */
  get inHandshake(): boolean {
    return (this.flags & NodeFlag.HANDSHAKE) !== 0;
  }

  /** Whether its address is unknown. */
  get noAddress(): boolean {
    return (this.flags & NodeFlag.NOADDR) !== 0;
  }

  /** Whether it is believed failed (FAIL) by the cluster. */
  get failed(): boolean {
    return (this.flags & NodeFlag.FAIL) !== 0;
  }

  /** Whether this node suspects it failed (PFAIL). */
  get timedOut(): boolean {
    return (this.flags & NodeFlag.PFAIL) !== 0;
  }

  /** Whether slot `slot` is set in its slot bitmap. */
  hasSlot(slot: number): boolean {
    return hasSlotBit(this.slots, slot);
  }

  /** Sets the bit of `slot`; returns whether it was clear. */
  setSlotBit(slot: number): boolean {
    if (this.hasSlot(slot)) return false;
    this.slots[slot >> 3] |= 1 << (slot & 7);
    this.slotCount++;
    return true;
  }

  /** Clears the bit of `slot`; returns whether it was set. */
  clearSlotBit(slot: number): boolean {
    if (!this.hasSlot(slot)) return false;
    this.slots[slot >> 3] &= ~(1 << (slot & 7));
    this.slotCount--;
    return true;
  }

  /**
   * Its slots as inclusive [start, end] ranges, ascending. Whole bytes of the bitmap that do
   * not end or start a range are skipped 8 slots at a time (nodes.conf is written with every
   * node's ranges after each slot a rebalance moves).
   */
  slotRanges(): [number, number][] {
    const ranges: [number, number][] = [];
    const bitmap = this.slots;
    let start = -1;
    for (let byte = 0; byte < bitmap.length; byte++) {
      const bits = bitmap[byte];
      if ((bits === 0 && start < 0) || (bits === 0xff && start >= 0)) continue;
      for (let bit = 0; bit < 8; bit++) {
        const slot = byte * 8 + bit;
        const has = (bits & (1 << bit)) !== 0;
        if (has && start < 0) start = slot;
        else if (!has && start >= 0) {
          ranges.push([start, slot - 1]);
          start = -1;
        }
      }
    }
    if (start >= 0) ranges.push([start, CLUSTER_SLOTS - 1]);
    return ranges;
  }

  /**
   * Adds a replica (once). A master that ever had a replica is expected to keep one: it is
   * marked MIGRATE_TO, so that a spare replica elsewhere migrates to it once it has none (as
   * Redis's clusterNodeAddSlave).
   */
  addReplica(replica: ClusterNode): void {
    if (this.replicas.includes(replica)) return;
    this.replicas.push(replica);
    this.flags |= NodeFlag.MIGRATE_TO;
  }

  /** Removes a replica if present. */
  removeReplica(replica: ClusterNode): void {
    const at = this.replicas.indexOf(replica);
    if (at >= 0) this.replicas.splice(at, 1);
  }

  /** Flag names as CLUSTER NODES prints them (`myself,master`, `slave`, `fail?`, `noflags`). */
  flagNames(): string {
    const names: string[] = [];
    const f = this.flags;
    if (f & NodeFlag.MYSELF) names.push("myself");
    if (f & NodeFlag.MASTER) names.push("master");
    if (f & NodeFlag.SLAVE) names.push("slave");
    if (f & NodeFlag.PFAIL) names.push("fail?");
    if (f & NodeFlag.FAIL) names.push("fail");
    if (f & NodeFlag.HANDSHAKE) names.push("handshake");
    if (f & NodeFlag.NOADDR) names.push("noaddr");
    if (f & NodeFlag.NOFAILOVER) names.push("nofailover");
    return names.length === 0 ? "noflags" : names.join(",");
  }
}
