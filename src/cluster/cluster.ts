/**
 * A node's cluster mode (Redis Cluster as clients and other nodes see it): the cluster state
 * and its nodes.conf, the bus listener and one outbound link per known node, the 100 ms cron
 * (driven by the server's housekeeping) that pings, times nodes out and reconnects, and the commands' entry points (MEET, FORGET,
 * REPLICATE, slot assignment). What arrives on the bus is handled in gossip.ts; this module owns
 * links, timing and persistence.
 */
import { firstBindAddress } from "../server/bind.ts";
import { connectTlsPeer, openTlsListener, setNoDelay, type TlsListener } from "../server/tls.ts";
import type { ServerContext } from "../commands/context.ts";
import type { ClientState } from "../server/client.ts";
import { logger } from "../util/logger.ts";
import {
  type BusHeader,
  encodeFail,
  encodeHeaderOnly,
  encodePing,
  encodePublish,
  encodeUpdate,
  type GossipEntry,
} from "./bus_codec.ts";
import { BusLink, type CloseCause } from "./bus_link.ts";
import { CLUSTER_SLOTS } from "./key_slot.ts";
import { ClusterNode, NodeFlag, randomNodeId } from "./node.ts";
import { NodesConfFile, readNodesConf } from "./nodes_conf.ts";
import { ClusterState, MessageType } from "./state.ts";
import { handleMessage } from "./gossip.ts";
import { Election } from "./failover.ts";
import { clusterCron } from "./cluster_cron.ts";
import { MFLAG_FORCEACK } from "./bus_codec.ts";
import { GroupMembership } from "./group.ts";
import { ManualFailover, pausedFlag, resetManualFailover } from "./manual_failover.ts";

const log = logger("cluster");
const CRON_MS = 100;

/** What the cluster needs of the rest of the node. */
export interface ClusterHost {
  /** The server: configuration, keyspace, replication, propagation. */
  readonly ctx: ServerContext;
  /** Delivers a message published on another node to this node's subscribers. */
  deliver(kind: "channel" | "shard", channel: Uint8Array, message: Uint8Array): void;
}

/** A node's cluster mode; see the module comment. */
export class Cluster {
  /** The cluster as this node sees it. */
  readonly state: ClusterState;
  /** Path of nodes.conf. */
  readonly file: string;
  /** nodes.conf's writer. */
  readonly #conf: NodesConfFile;
  readonly host: ClusterHost;
  #listener: Deno.TcpListener | TlsListener | null = null;
  readonly #links = new Set<BusLink>();
  #lastCron = 0;
  #started = false;
  #iteration = 0;
  #closing = false;
  /** The timer of a {@link broadcastPongSoon} not sent yet. */
  #pongTimer: ReturnType<typeof setTimeout> | null = null;
  #startedAt = 0;
  /** The epochs as of the last durable save of nodes.conf. */
  #durableEpochs = "";
  /** The save {@link saveConfigSoon} scheduled, if any. */
  #saveTimer: ReturnType<typeof setTimeout> | null = null;
  /** The bus port this node listens on. */
  busPort = 0;
  /** This node's election, when it is a replica whose master failed. */
  readonly election: Election = new Election();
  /** The coordinated manual failover (CLUSTER FAILOVER) in progress, on either side. */
  readonly manualFailover: ManualFailover = new ManualFailover();
  /** The leader/follower group this bus serves, or null in cluster mode (see group.ts). */
  readonly group: GroupMembership | null;
  /** Whether nodes.conf existed at start (a fresh node takes its first role). */
  readonly #loaded: boolean;

  private constructor(
    host: ClusterHost,
    state: ClusterState,
    file: string,
    group: GroupMembership | null,
    loaded: boolean,
  ) {
    this.host = host;
    this.state = state;
    this.file = file;
    this.#conf = new NodesConfFile(file);
    this.group = group;
    this.#loaded = loaded;
  }

  /**
   * Loads nodes.conf (a damaged file throws, naming the line) or creates a fresh identity and
   * writes it, as Redis's clusterInit does. With `group` set, the bus serves a leader/follower
   * group instead of a cluster; after its first start, nodes.conf (not `replicaof`) says whether
   * the node leads or follows.
   */
  static open(host: ClusterHost, group: GroupMembership | null = null): Cluster {
    const values = host.ctx.config.values;
    const name = values["cluster-config-file"];
    const file = name.startsWith("/") ? name : `${values.dir}/${name}`;
    const loaded = readNodesConf(file, Date.now());
    const state = loaded ??
      new ClusterState(
        new ClusterNode(randomNodeId(), NodeFlag.MYSELF | NodeFlag.MASTER, Date.now()),
      );
    log.info(
      loaded !== null
        ? "Node configuration loaded, I'm {id}"
        : "No cluster configuration found, I'm {id}",
      { id: state.myself.id },
    );
    const cluster = new Cluster(host, state, file, group, loaded !== null);
    if (group !== null && loaded !== null) {
      const master = state.myself.master;
      values.replicaof = state.myself.isReplica && master !== null && master.ip !== ""
        ? { host: master.ip, port: cluster.replicationPort(master) }
        : null;
    }
    cluster.saveConfig();
    return cluster;
  }

  /** The configuration values. */
  get #values() {
    return this.host.ctx.config.values;
  }

  /** Node timeout (ms): a group's election timeout. */
  get nodeTimeout(): number {
    return this.group !== null
      ? this.#values["group-election-timeout"]
      : this.#values["cluster-node-timeout"];
  }

  /**
   * Votes a failure report or an election needs: a majority of the slot-serving masters in a
   * cluster, of the configured members in a group.
   */
  get quorum(): number {
    return this.group !== null ? this.group.quorum : Math.floor(this.state.size / 2) + 1;
  }

  /**
   * Whether `node` votes in elections and its failure reports count: a slot-serving master in a
   * cluster (as Redis), any member in a group.
   */
  votes(node: ClusterNode): boolean {
    return this.group !== null ? !node.inHandshake : node.isMaster && node.slotCount > 0;
  }

  /** Whether `node`'s failure reports count: a master's in a cluster (as Redis), any member's in a group. */
  reportsFailures(node: ClusterNode): boolean {
    return this.group !== null ? !node.inHandshake : node.isMaster;
  }

  /**
   * Starts the bus listener and the cron; `port` is the client port actually bound. With
   * `tls-cluster` the bus speaks TLS and, as Redis's deriveAnnouncedPorts, the node announces
   * its TLS port as its port (the plain one as `pport`), the bus port defaulting to the TLS
   * port + 10000.
   */
  async start(port: number): Promise<void> {
    const values = this.#values;
    const tlsCluster = values["tls-cluster"];
    const clientPort = tlsCluster ? values["tls-port"] : port;
    this.busPort = values["cluster-port"] || clientPort + 10000;
    this.#startedAt = Date.now();
    const myself = this.state.myself;
    this.#announce(clientPort, tlsCluster ? port : 0);
    const host = firstBindAddress(values.bind);
    this.#listener = tlsCluster
      ? await openTlsListener(values, host, this.busPort)
      : Deno.listen({ hostname: host, port: this.busPort });
    log.info("Cluster bus listening on {host}:{port}", {
      host,
      port: this.busPort,
      tls: tlsCluster,
    });
    void this.#acceptLoop(this.#listener);
    if (this.group !== null && !this.#loaded) this.group.claimFirstRole(this);
    if (myself.isReplica && myself.master !== null && myself.master.ip !== "") {
      this.#follow(myself.master);
    }
    this.#started = true;
  }

  #announce(port: number, plainPort: number): void {
    const values = this.#values;
    const myself = this.state.myself;
    myself.port = values["cluster-announce-port"] || port;
    myself.pport = plainPort;
    myself.cport = values["cluster-announce-bus-port"] || this.busPort;
    myself.hostname = values["cluster-announce-hostname"];
    if (values["cluster-announce-ip"] !== "") myself.ip = values["cluster-announce-ip"];
  }

  /** Stops the cron, the listener and every link; saves nodes.conf if it changed. */
  close(): void {
    this.#closing = true;
    this.#started = false;
    try {
      this.#listener?.close();
    } catch {
      // Already closed.
    }
    if (this.#saveTimer !== null) clearTimeout(this.#saveTimer);
    this.#saveTimer = null;
    if (this.#pongTimer !== null) clearTimeout(this.#pongTimer);
    this.#pongTimer = null;
    for (const link of [...this.#links]) link.close();
    if (this.state.dirty) this.saveConfig();
    this.#conf.close();
  }

  /**
   * Writes nodes.conf: durably and atomically when an epoch changed since the last durable save
   * (current, last vote, this shard's config epoch), as Redis fsyncs only then; otherwise in
   * place (see NodesConfFile).
   */
  saveConfig(): void {
    const state = this.state;
    const epochs = this.#epochs();
    const durable = epochs !== this.#durableEpochs;
    this.#conf.write(state, durable);
    if (durable) this.#durableEpochs = epochs;
    state.dirty = false;
  }

  /**
   * Saves nodes.conf once the replies and messages of this event-loop turn are out, once for
   * all the changes made meanwhile; a change of an epoch is saved durably at once instead (a
   * vote or a claim is on disk before it leaves). Redis saves in beforeSleep, once per turn but
   * before the replies: here a SETSLOT's reply does not wait for the write (about 100 us of a
   * ~300 us round trip measured under `redis-cli --cluster rebalance`), and a crash in between
   * loses only that change, which touches no epoch and is learned back from the bus.
   */
  saveConfigSoon(): void {
    if (this.#epochs() !== this.#durableEpochs) {
      this.saveConfig();
      return;
    }
    this.state.dirty = true;
    this.#saveTimer ??= setTimeout(() => {
      this.#saveTimer = null;
      if (this.state.dirty && !this.#closing) this.saveConfig();
    }, 0);
  }

  /** The epochs a durable save records: current, last vote, this shard's config epoch. */
  #epochs(): string {
    const state = this.state;
    const myself = state.myself;
    return `${state.currentEpoch} ${state.lastVoteEpoch} ${myself.configEpoch} ${
      myself.master?.configEpoch ?? 0
    }`;
  }

  async #acceptLoop(listener: Deno.TcpListener | TlsListener): Promise<void> {
    while (!this.#closing) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      setNoDelay(conn);
      const link = this.#newLink(true, null);
      void link.run(conn);
    }
  }

  #newLink(inbound: boolean, node: ClusterNode | null): BusLink {
    const maxFrame = 2 * this.#values["proto-max-bulk-len"] + 8192;
    const link = new BusLink({ inbound, node, now: Date.now(), maxFrame }, {
      message: (l, message, length) => {
        this.state.bytesReceived += length;
        try {
          handleMessage(this, l, message);
        } finally {
          if (this.state.dirty) this.saveConfigSoon();
        }
      },
      closed: (l, error, cause) => this.#linkClosed(l, error, cause),
    });
    this.#links.add(link);
    return link;
  }

  #linkClosed(link: BusLink, error: string | null, cause: CloseCause): void {
    this.#links.delete(link);
    const node = link.node;
    if (node !== null) {
      if (node.link === link) node.link = null;
      if (node.inboundLink === link) node.inboundLink = null;
    }
    if (error === null || this.#closing) return;
    // Bad input from a peer is worth a warning; a bug in this node's handling an error; a peer
    // that went away is routine.
    const level = cause === "protocol" || cause === "limit"
      ? "warn"
      : cause === "internal"
      ? "error"
      : "debug";
    log[level]("Cluster bus link {direction} {peer} closed: {error}", {
      direction: link.inbound ? "from" : "to",
      peer: node !== null ? node.id : link.peerIp || "unknown peer",
      error,
    });
  }

  /** Opens the outbound link to `node`; it sends a PING (or MEET) once connected. */
  connect(node: ClusterNode): void {
    const link = this.#newLink(false, node);
    node.link = link;
    // As Redis, which queues the PING when it creates the link: the wait for an answer starts
    // now, so a node whose connections are refused (killed) times out like a silent one.
    if (node.pingSent === 0) node.pingSent = Date.now();
    const meet = (node.flags & NodeFlag.MEET) !== 0;
    const timer = setTimeout(() => link.close("connect timeout"), Math.max(this.nodeTimeout, 1000));
    const connecting: Promise<Deno.Conn> = this.#values["tls-cluster"]
      ? connectTlsPeer(this.#values, node.ip, node.cport)
      : Deno.connect({ hostname: node.ip, port: node.cport });
    connecting.then((conn) => {
      clearTimeout(timer);
      if (link.closed) {
        conn.close();
        return;
      }
      setNoDelay(conn);
      const pingSent = node.pingSent;
      this.sendPing(link, meet ? MessageType.MEET : MessageType.PING);
      if (pingSent !== 0) node.pingSent = pingSent;
      node.flags &= ~NodeFlag.MEET;
      void link.run(conn);
    }, (e) => {
      clearTimeout(timer);
      link.close(e instanceof Error ? e.message : String(e));
    });
  }

  /** The header of a message from this node (Redis's clusterBuildMessageHdr). */
  header(type: number): BusHeader {
    const myself = this.state.myself;
    const master = myself.isReplica && myself.master !== null ? myself.master : myself;
    return {
      type,
      port: myself.port,
      currentEpoch: this.state.currentEpoch,
      configEpoch: master.configEpoch,
      offset: this.host.ctx.replication.leader.offset,
      sender: myself.id,
      slots: master.slots,
      replicaOf: myself.isReplica && myself.master !== null ? myself.master.id : null,
      ip: this.#values["cluster-announce-ip"],
      pport: myself.pport,
      cport: myself.cport,
      flags: myself.flags & 0xffff,
      state: this.state.ok ? 0 : 1,
      mflags: pausedFlag(this),
      priority: this.#values["replica-priority"],
    };
  }

  /** Sends a message on a link and counts it. */
  send(link: BusLink, frame: Uint8Array, type: number): void {
    const limit = this.#values["cluster-link-sendbuf-limit"];
    if (limit > 0 && link.sendBufferBytes + frame.length > limit) {
      this.state.linksBufferLimitExceeded++;
      link.close("send buffer limit exceeded", "limit");
      return;
    }
    link.send(frame);
    this.state.sent[type]++;
    this.state.bytesSent += frame.length;
  }

  /** Sends a PING, PONG or MEET with gossip about a tenth of the nodes (at least 3). */
  sendPing(link: BusLink, type: number): void {
    const state = this.state;
    const now = Date.now();
    const candidates: ClusterNode[] = [];
    const pfail: ClusterNode[] = [];
    for (const node of state.nodes.values()) {
      if (node.isMyself || node.inHandshake || node.noAddress) continue;
      if (node.timedOut) pfail.push(node);
      if (node.link === null && node.slotCount === 0) continue;
      candidates.push(node);
    }
    const fresh = state.nodes.size - 2;
    const wanted = Math.min(Math.max(3, Math.floor(state.nodes.size / 10)), fresh);
    const chosen = new Set<ClusterNode>();
    for (
      let tries = 0;
      chosen.size < wanted && tries < wanted * 3 && candidates.length > 0;
      tries++
    ) {
      chosen.add(candidates[Math.floor(Math.random() * candidates.length)]);
    }
    for (const node of pfail) chosen.add(node);
    const gossip: GossipEntry[] = [];
    for (const node of chosen) {
      gossip.push({
        id: node.id,
        pingSent: Math.floor(node.pingSent / 1000),
        pongReceived: Math.floor(node.pongReceived / 1000),
        ip: node.ip,
        port: node.port,
        cport: node.cport,
        flags: node.flags & 0xffff,
        pport: node.pport,
      });
    }
    if (link.node !== null && type === MessageType.PING && !link.inbound) link.node.pingSent = now;
    this.send(link, encodePing(this.header(type), gossip, state.myself.hostname), type);
  }

  /** Sends a frame to every node this node has a link to. */
  broadcast(frame: Uint8Array, type: number, filter?: (node: ClusterNode) => boolean): void {
    for (const node of this.state.nodes.values()) {
      if (node.isMyself || node.inHandshake || node.link === null) continue;
      if (filter !== undefined && !filter(node)) continue;
      this.send(node.link as BusLink, frame, type);
    }
  }

  /** Tells every node that `node` failed. */
  broadcastFail(node: ClusterNode): void {
    this.broadcast(encodeFail(this.header(MessageType.FAIL), node.id), MessageType.FAIL);
  }

  /**
   * Sends a PONG to every node on a later event-loop turn, once the replies of this one are out:
   * Redis's clusterBroadcastPong only queues the messages, which its event loop writes after the
   * replies. A SETSLOT NODE that bumps this node's epoch sent them before its reply, and each
   * send on loopback runs the receiver's TCP input there: 201 us for three, of a reply's ~390 us
   * round trip under `redis-cli --cluster rebalance`. bench:reshard's Redis path, three
   * alternating pairs: 6.58-7.00 s against 6.83-7.39 before, 4-5% less CPU per node. A timer
   * rather than util/event_loop.ts's nextTurn (~40 us): the same times (7.28-7.50 s against
   * 7.32-7.53, alternating), and the thread-pool wake-up it costs shows in the CPU. The PONGs
   * describe the state when they leave, so the changes of several commands share them.
   */
  broadcastPongSoon(): void {
    this.#pongTimer ??= setTimeout(() => {
      this.#pongTimer = null;
      if (this.#started && !this.#closing) this.broadcastPong();
    }, 0);
  }

  /** Sends a PONG to every node, or those `filter` keeps (after this node's state changed). */
  broadcastPong(filter?: (node: ClusterNode) => boolean): void {
    for (const node of this.state.nodes.values()) {
      if (node.isMyself || node.inHandshake || node.link === null) continue;
      if (filter !== undefined && !filter(node)) continue;
      this.sendPing(node.link as BusLink, MessageType.PONG);
    }
  }

  /** Asks every node for its vote (FAILOVER_AUTH_REQUEST); only masters with slots answer. */
  requestVotes(force: boolean): void {
    const header = this.header(MessageType.FAILOVER_AUTH_REQUEST);
    if (force) header.mflags |= MFLAG_FORCEACK;
    this.broadcast(encodeHeaderOnly(header), MessageType.FAILOVER_AUTH_REQUEST);
  }

  /** Sends an UPDATE about `about` to the node behind `link`. */
  sendUpdate(link: BusLink, about: ClusterNode): void {
    const frame = encodeUpdate(this.header(MessageType.UPDATE), {
      configEpoch: about.configEpoch,
      id: about.id,
      slots: about.slots,
    });
    this.send(link, frame, MessageType.UPDATE);
  }

  /**
   * PUBLISH on a cluster node: every other node delivers it (Redis's clusterPropagatePublish);
   * SPUBLISH: the nodes of this shard.
   */
  propagatePublish(kind: "channel" | "shard", channel: Uint8Array, message: Uint8Array): void {
    const type = kind === "channel" ? MessageType.PUBLISH : MessageType.PUBLISHSHARD;
    const frame = encodePublish(this.header(type), channel, message);
    if (kind === "channel") {
      this.broadcast(frame, type);
      return;
    }
    const master = this.state.shardMaster();
    this.broadcast(frame, type, (node) => node === master || node.master === master);
  }

  /** Sends a header-only message (failover votes and manual failover) to a node. */
  sendHeaderOnly(link: BusLink, type: number): void {
    this.send(link, encodeHeaderOnly(this.header(type)), type);
  }

  /**
   * The port a replica follows `master` on: its announced port, which is its TLS port under
   * `tls-cluster`, unless `tls-replication` is off and the master announced a plain one.
   */
  replicationPort(master: ClusterNode): number {
    const values = this.#values;
    return values["tls-cluster"] && !values["tls-replication"] && master.pport !== 0
      ? master.pport
      : master.port;
  }

  /**
   * The port `client` is told for `node` (redirections, CLUSTER NODES/SLOTS): with
   * `tls-cluster`, a client on the plain port gets the node's plain port, as Redis 7.0's
   * use_pport (its TLS port otherwise).
   */
  clientPortOf(node: ClusterNode, client: ClientState | undefined): number {
    return this.#values["tls-cluster"] && client !== undefined && !client.tls && node.pport !== 0
      ? node.pport
      : node.port;
  }

  /** CLUSTER MEET: starts a handshake with the node at ip:port (bus port cport). */
  meet(ip: string, port: number, cport: number): void {
    const state = this.state;
    for (const node of state.nodes.values()) {
      if (node.inHandshake && node.ip === ip && node.port === port && node.cport === cport) {
        return;
      }
    }
    const node = new ClusterNode(randomNodeId(), NodeFlag.HANDSHAKE | NodeFlag.MEET, Date.now());
    node.ip = ip;
    node.port = port;
    node.cport = cport;
    state.add(node);
  }

  /** Makes this node a replica of `master` (Redis's clusterSetMaster). */
  setMaster(master: ClusterNode): void {
    const state = this.state;
    const myself = state.myself;
    if (myself.isMaster) {
      for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
        state.setMigrating(slot, null);
        state.setImporting(slot, null);
      }
    }
    state.setReplicaRole(myself, master);
    log.info("Configured as a replica of {id}", { id: master.id });
    this.#follow(master);
    resetManualFailover(this);
  }

  /** Replicates from `master` unless the link already goes to its address. */
  #follow(master: ClusterNode): void {
    const link = this.host.ctx.replication.follower;
    const port = this.replicationPort(master);
    if (link !== null && link.host === master.ip && link.port === port) return;
    this.host.ctx.replication.follow(master.ip, port);
  }

  /**
   * Called from the server's housekeeping (every 1000/hz ms): runs {@link cron} once 100 ms have
   * passed, as Redis runs clusterCron from serverCron, so an idle node wakes up once per period
   * instead of once for each timer.
   */
  tick(at: number): void {
    // A little early counts: the housekeeping timer at hz 10 fires about every 100 ms, not after.
    if (!this.#started || at - this.#lastCron < CRON_MS * 0.8) return;
    this.#lastCron = at;
    this.cron();
  }

  /** One cron tick (every 100 ms): see cluster_cron.ts. */
  cron(): void {
    clusterCron(this, this.#iteration++);
  }

  /** When the bus started (ms): a master takes no writes in its first 2 seconds. */
  get startedAt(): number {
    return this.#startedAt;
  }

  /** Recomputes cluster_state and logs a change. */
  updateState(): void {
    const state = this.state;
    const group = this.group;
    const before = state.ok;
    const changed = group !== null
      ? state.updateGroupState(group.quorum)
      : state.updateState(this.#values["cluster-require-full-coverage"]);
    // Like Redis, a master does not declare the cluster up in its first 2 seconds after start,
    // so it can learn the configuration from the others before accepting writes.
    if (!before && state.ok && state.myself.isMaster && Date.now() - this.#startedAt < 2000) {
      state.ok = false;
    } else if (changed) {
      log.info("Cluster state changed: {state}", { state: state.ok ? "ok" : "fail" });
    }
    group?.watchLeader(this);
  }

  /** Links for CLUSTER LINKS. */
  get links(): ReadonlySet<BusLink> {
    return this.#links;
  }
}
