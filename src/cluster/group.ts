/**
 * Leader/follower groups: gocache's built-in failover without sharding. A group runs the cluster
 * bus and the cluster's failure detector and election code (cluster.ts, gossip.ts, failover.ts)
 * with two differences: every member of the group votes and reports failures (in a cluster only
 * slot-serving masters do), and a majority of the members named in `group-members` decides. The
 * leader is the node that serves the 16384 slots; clients never see slots: they talk to the
 * leader as to a standalone server and find it with Sentinel's client API (sentinel.ts).
 *
 * This module covers what only a group does: joining the members named in the configuration,
 * a fresh node taking its first role (leader, or follower of its `replicaof`), telling local
 * subscribers of a leader change (`+switch-master`, as Sentinel does), and the lease without
 * which a leader takes no writes (a majority heard from within the election timeout).
 */
import { bindAddresses, firstBindAddress } from "../server/bind.ts";
import type { GroupMember } from "../config/schema.ts";
import { logger } from "../util/logger.ts";
import type { Cluster } from "./cluster.ts";
import { leaseFrom } from "./cluster_cron.ts";
import { CLUSTER_SLOTS } from "./key_slot.ts";
import type { ClusterNode } from "./node.ts";

const log = logger("group");
const encoder = new TextEncoder();

/** How often a member that is not known yet is met again (ms). */
const MEET_RETRY_MS = 5000;

/** A group's own state, beside the cluster state it shares the code of. */
export class GroupMembership {
  /** The group's name (`group-name`), as Sentinel clients ask for it. */
  readonly name: string;
  /** The members named in the configuration, this node included. */
  readonly members: readonly GroupMember[];
  readonly #lastMeet = new Map<string, number>();
  #leader: ClusterNode | null = null;
  #leaderAddress: [string, number] | null = null;
  /** Leader changes this node has seen (failovers, from its point of view). */
  leaderChanges = 0;

  /** Creates the membership from the configuration. */
  constructor(name: string, members: readonly GroupMember[]) {
    this.name = name;
    this.members = members;
  }

  /** Votes a decision needs: a majority of the configured members. */
  get quorum(): number {
    return Math.floor(this.members.length / 2) + 1;
  }

  /** The current leader as this node sees it (the owner of the slots), or null. */
  get leader(): ClusterNode | null {
    return this.#leader;
  }

  /**
   * A fresh node's first role: a node without `replicaof` leads and serves every slot at config
   * epoch 1 (two such nodes resolve it by the config epoch collision rule: one ends following the
   * other); a node with `replicaof` waits to meet that member and then follows it.
   */
  claimFirstRole(cluster: Cluster): void {
    const state = cluster.state;
    if (cluster.host.ctx.config.values.replicaof !== null) return;
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      if (state.owners[slot] === null) state.addSlot(state.myself, slot);
    }
    if (state.currentEpoch === 0) state.currentEpoch = 1;
    if (state.myself.configEpoch === 0) state.myself.configEpoch = 1;
    state.dirty = true;
    log.info("Group {name}: leading as the first member without replicaof", { name: this.name });
  }

  /** Once a second from the cluster cron: meets members, takes the configured leader, watches. */
  cron(cluster: Cluster, now: number): void {
    this.#meetMembers(cluster, now);
    this.#followConfiguredLeader(cluster);
    this.watchLeader(cluster);
  }

  /** Whether a member entry names `node`. */
  static names(member: GroupMember, node: ClusterNode): boolean {
    return node.port === member.port && node.cport === member.busPort &&
      (node.ip === member.host || (node.hostname !== "" && node.hostname === member.host));
  }

  #meetMembers(cluster: Cluster, now: number): void {
    const state = cluster.state;
    for (const member of this.members) {
      if (GroupMembership.names(member, state.myself) || this.#isSelf(cluster, member)) continue;
      let known = false;
      for (const node of state.nodes.values()) {
        if (GroupMembership.names(member, node)) known = true;
      }
      const key = `${member.host}:${member.port}`;
      if (known || now - (this.#lastMeet.get(key) ?? 0) < MEET_RETRY_MS) continue;
      this.#lastMeet.set(key, now);
      cluster.meet(member.host, member.port, member.busPort);
    }
  }

  /** This node's own entry: its port and bus port, at an address it binds or announces. */
  #isSelf(cluster: Cluster, member: GroupMember): boolean {
    const values = cluster.host.ctx.config.values;
    const myself = cluster.state.myself;
    if (member.port !== myself.port || member.busPort !== myself.cport) return false;
    const bound = bindAddresses(values.bind).map((address) => address.hostname);
    const own = [...bound, values["cluster-announce-ip"], values["cluster-announce-hostname"]];
    if (own.includes(member.host)) return true;
    const loopback = ["127.0.0.1", "localhost", "::1"];
    return loopback.includes(member.host) &&
      bound.some((host) => loopback.includes(host) || host === "0.0.0.0" || host === "::");
  }

  /** A node that has no role yet and a `replicaof`: follows that member once it is known. */
  #followConfiguredLeader(cluster: Cluster): void {
    const state = cluster.state;
    const myself = state.myself;
    const target = cluster.host.ctx.config.values.replicaof;
    if (!myself.isMaster || myself.slotCount > 0 || target === null) return;
    for (const node of state.nodes.values()) {
      if (node.isMyself || node.inHandshake || !node.isMaster || node.slotCount === 0) continue;
      const named = node.port === target.port &&
        (node.ip === target.host || node.hostname === target.host ||
          (target.host === "localhost" && node.ip === "127.0.0.1"));
      if (!named) continue;
      log.info("Group {name}: following the leader {id} named by replicaof", {
        name: this.name,
        id: node.id,
      });
      cluster.setMaster(node);
      state.dirty = true;
      return;
    }
  }

  /**
   * Notes the leader this node sees; on a change, publishes Sentinel's `+switch-master <name>
   * <old-ip> <old-port> <new-ip> <new-port>` to this node's subscribers, so clients in Sentinel
   * mode that listen for it reconnect at once.
   */
  watchLeader(cluster: Cluster): void {
    const owner = cluster.state.owners[0];
    if (owner === this.#leader) return;
    const before = this.#leaderAddress;
    this.#leader = owner;
    if (owner === null) return;
    const address = this.addressOf(cluster, owner);
    this.#leaderAddress = address;
    if (before === null || (before[0] === address[0] && before[1] === address[1])) return;
    this.leaderChanges++;
    const text = `${this.name} ${before[0]} ${before[1]} ${address[0]} ${address[1]}`;
    log.info("Group {name}: leader is now {id} ({ip}:{port})", {
      name: this.name,
      id: owner.id,
      ip: address[0],
      port: address[1],
    });
    cluster.host.deliver("channel", encoder.encode("+switch-master"), encoder.encode(text));
  }

  /**
   * Until when this node may take writes as the leader (null: it follows); see `leaseFrom` in
   * cluster_cron.ts. Not in the first 2 seconds after a start either, so a leader restarted after
   * a failover learns of its successor before it takes a write.
   */
  writeLease(cluster: Cluster, now: number): number | null {
    if (!cluster.state.myself.isMaster) return null;
    if (this.members.length > 1 && now - cluster.startedAt < 2000) return 0;
    return leaseFrom(cluster);
  }

  /** The address clients reach `node` at: what it announces or was seen at. */
  addressOf(cluster: Cluster, node: ClusterNode): [string, number] {
    const values = cluster.host.ctx.config.values;
    let ip = node.ip;
    if (ip === "" && node.isMyself) {
      const bound = firstBindAddress(values.bind);
      ip = values["cluster-announce-ip"] || (bound === "0.0.0.0" ? "127.0.0.1" : bound);
    }
    return [ip, node.port];
  }
}
