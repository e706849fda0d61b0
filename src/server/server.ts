/**
 * A gocache node: listens, accepts clients up to `maxclients`, runs periodic housekeeping (idle
 * timeouts, output buffer soft limits, statistics), and shuts down gracefully: stop accepting,
 * let replies in flight reach their clients, close everything.
 */
import { HeapGuard } from "./heap_guard.ts";
import type { Config } from "../config/config.ts";
import type { ServerContext, ServerIdentity, ShutdownRequest } from "../commands/context.ts";
import { createCommandTable } from "../commands/mod.ts";
import { unwatchAll } from "../commands/transactions.ts";
import { releaseBlockedClients } from "./blocked_keys.ts";
import type { CommandTable } from "../commands/registry.ts";
import { monotonicMs, now } from "../util/clock.ts";
import { Keyspace } from "../store/keyspace.ts";
import { Propagator } from "../propagation/propagator.ts";
import { Persistence } from "../persistence/persistence.ts";
import { Replication } from "../replication/replication.ts";
import { logger } from "../util/logger.ts";
import { REDIS_COMPAT_VERSION, VERSION } from "../version.ts";
import { ClientState } from "./client.ts";
import { ClientTable } from "./client_table.ts";
import { Connection } from "./connection.ts";
import { ServerStats } from "./stats.ts";
import { CommandObserver } from "./observer.ts";
import { Metrics } from "../metrics/mod.ts";
import { registerServerMetrics } from "../metrics/server_metrics.ts";
import { registerProcessMetrics } from "../metrics/process_metrics.ts";
import { registerReplicationMetrics } from "../metrics/replication_metrics.ts";
import { registerClusterMetrics } from "../metrics/cluster_metrics.ts";
import { encodingLimits } from "../store/collection.ts";
import {
  NOTIFY_EVICTED,
  NOTIFY_EXPIRED,
  NOTIFY_NEW,
  notifyKeyspaceEvent,
} from "../pubsub/keyspace_events.ts";
import { pubsubHub } from "../pubsub/hub.ts";
import { outputLimitClass } from "../pubsub/subscriber_mode.ts";
import { Cluster } from "../cluster/cluster.ts";
import { GroupMembership } from "../cluster/group.ts";
import { WritePause } from "./write_pause.ts";
import { Scripting } from "../scripting/scripting.ts";
import { Acl } from "../acl/acl.ts";
import { bindAddresses, isLocalPeer } from "./bind.ts";
import {
  openTlsListeners,
  setNoDelay,
  tlsConfigError,
  type TlsListener,
  tlsListenerSettingsError,
} from "./tls.ts";

const log = logger("server");
const MAX_CLIENTS_ERROR = new TextEncoder().encode("-ERR max number of clients reached\r\n");
const MAX_CLIENTS_PER_IP_ERROR = new TextEncoder().encode(
  "-ERR max number of clients from this address reached\r\n",
);
const SHUTDOWN_GRACE_MS = 5000;
/** Settings whose change reopens the TLS listeners (see #reloadTls). */
const TLS_LISTENER_SETTINGS: ReadonlySet<string> = new Set([
  "tls-cert-file",
  "tls-key-file",
  "tls-ca-cert-file",
  "tls-auth-clients",
  "tls-protocols",
]);
/** Redis 7.0's protected-mode refusal, word for word (its "Setup a an" included). */
const PROTECTED_MODE_DENIED = new TextEncoder().encode(
  "-DENIED Redis is running in protected mode because protected mode is enabled and no " +
    "password is set for the default user. In this mode connections are only accepted from " +
    "the loopback interface. If you want to connect from external computers to Redis you may " +
    "adopt one of the following solutions: 1) Just disable protected mode sending the command " +
    "'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the " +
    "same host the server is running, however MAKE SURE Redis is not publicly accessible from " +
    "internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively " +
    "you can just disable the protected mode by editing the Redis configuration file, and " +
    "setting the protected mode option to 'no', and then restarting the server. 3) If you " +
    "started the server manually just for testing, restart it with the '--protected-mode no' " +
    "option. 4) Setup a an authentication password for the default user. NOTE: You only need " +
    "to do one of the above things in order for the server to start accepting connections " +
    "from the outside.\r\n",
);

function formatAddr(addr: Deno.Addr): string {
  return addr.transport === "tcp" || addr.transport === "udp"
    ? `${addr.hostname}:${addr.port}`
    : String((addr as Deno.UnixAddr).path ?? "");
}

function randomRunId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A running server; see the module comment. */
export class Server implements ServerContext {
  /** Live configuration. */
  readonly config: Config;
  /** Connected clients. */
  readonly clients: ClientTable = new ClientTable();
  /** Counters. */
  readonly stats: ServerStats = new ServerStats();
  /** All commands. */
  readonly commands: CommandTable;
  /** The databases. */
  readonly keyspace: Keyspace;
  /** Where writes leave for the AOF and replicas. */
  readonly propagator: Propagator = new Propagator();
  /** Restoring the dataset, the AOF and its rewrites. */
  readonly persistence: Persistence;
  /** Leader or follower: followers, backlog, the link to a leader. */
  readonly replication: Replication;
  /** The pause of client writes during a coordinated manual failover. */
  readonly writePause: WritePause = new WritePause();
  /** Refuses commands that grow memory while V8's heap is near its limit. */
  readonly heapGuard: HeapGuard = new HeapGuard();
  #lastReplicationCron = 0;
  /** Command durations, the slow log and MONITOR clients. */
  readonly observer: CommandObserver;
  /** Metrics collectors, readiness checks and their HTTP endpoint. */
  readonly metrics: Metrics = new Metrics();
  /** Cluster mode, once opened (see {@link openPersistence}); null when disabled. */
  cluster: Cluster | null = null;
  /** The leader/follower group's bus (built-in failover without sharding), when configured. */
  group: Cluster | null = null;
  /** Lua scripts and functions, once the Lua VM is loaded (see {@link openPersistence}). */
  scripting: Scripting | null = null;
  /** ACL users, permission checks and the ACL LOG. */
  readonly acl: Acl;
  #loading = false;
  #loaded = false;
  #identity: ServerIdentity | null = null;
  /** One listener per `bind` address (see bind.ts); empty until {@link start}. */
  #listeners: Deno.TcpListener[] = [];
  /** With `tls-port`: one TLS listener per `bind` address (see tls.ts). */
  #tlsListeners: TlsListener[] = [];
  /** Open client connections per peer address (`connection-limit-per-ip`). */
  #connectionsByIp = new Map<string, number>();
  /** Live connections and the promise of each one's run loop. */
  #live = new Map<Connection, Promise<void>>();
  #cron: ReturnType<typeof setInterval> | undefined;
  #shuttingDown = false;
  #stopped: Promise<void>;
  #resolveStopped!: () => void;

  /** Creates a server for a configuration; nothing is opened until {@link start}. */
  constructor(config: Config) {
    this.config = config;
    this.commands = createCommandTable(config.values["rename-command"]);
    this.keyspace = new Keyspace(config.values.databases);
    this.keyspace.baselineBytes = Deno.memoryUsage().heapUsed;
    this.keyspace.events.removed = (db, key, why) => {
      // Redis notifies before propagating the DEL (deleteExpiredKeyAndPropagate).
      const type = why === "expired" ? NOTIFY_EXPIRED : NOTIFY_EVICTED;
      notifyKeyspaceEvent(this, type, why, key, db);
      this.propagator.command(db, ["DEL", key]);
    };
    // Cluster mode: database 0 indexes its keys by hash slot from the first key loaded on.
    if (config.values["cluster-enabled"]) this.keyspace.db(0).indexSlots();
    this.acl = new Acl(this.commands, config);
    this.persistence = new Persistence(this, config);
    this.replication = new Replication(this, () => this.commitWrites());
    this.observer = new CommandObserver(this.commands, this.clients, config);
    registerServerMetrics(this.metrics.registry, this, () => this.#loading);
    registerProcessMetrics(this.metrics.registry, performance.timeOrigin);
    registerReplicationMetrics(this.metrics.registry, this.metrics.readiness, this);
    registerClusterMetrics(this.metrics.registry, this);
    this.metrics.readiness.add("dataset-loaded", () => this.#loaded);
    this.metrics.readiness.add(
      "accepting-connections",
      () => this.#listeners.length > 0 && !this.#shuttingDown,
    );
    this.#applyEviction();
    this.#applyEncodingLimits();
    this.#applyKeyCreatedEvents();
    this.#stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
    config.onChange((names) => {
      log.info("Configuration changed: {params}", {
        params: names,
        values: Object.fromEntries(
          names.map((n) => [n, n === "requirepass" ? "(redacted)" : config.text(n)]),
        ),
      });
      if (names.some((n) => n.startsWith("maxmemory") || n === "maxkeys")) this.#applyEviction();
      if (names.includes("hz") && this.#cron !== undefined) this.#startCron();
      if (names.some((n) => n.endsWith("-entries") || n.endsWith("-value"))) {
        this.#applyEncodingLimits();
      }
      if (names.includes("notify-keyspace-events")) this.#applyKeyCreatedEvents();
      if (names.some((n) => TLS_LISTENER_SETTINGS.has(n))) void this.#reloadTls();
    });
  }

  /**
   * Listens for key creations only while `notify-keyspace-events` asks for `new` events (Redis's
   * `n` class, published from dbAdd), so that creating keys costs nothing otherwise.
   */
  #applyKeyCreatedEvents(): void {
    const wanted = (this.config.values["notify-keyspace-events"] & NOTIFY_NEW) !== 0;
    this.keyspace.events.keyCreated = wanted
      ? (db, key) => notifyKeyspaceEvent(this, NOTIFY_NEW, "new", key, db)
      : null;
  }

  /** Hands the `*-max-*` encoding settings to the collections (collection.ts). */
  #applyEncodingLimits(): void {
    const v = this.config.values;
    encodingLimits.hashMaxListpackEntries = v["hash-max-listpack-entries"];
    encodingLimits.hashMaxListpackValue = v["hash-max-listpack-value"];
    encodingLimits.setMaxIntsetEntries = v["set-max-intset-entries"];
    encodingLimits.zsetMaxListpackEntries = v["zset-max-listpack-entries"];
    encodingLimits.zsetMaxListpackValue = v["zset-max-listpack-value"];
  }

  /** Identity of this process; available once started. */
  get identity(): ServerIdentity {
    if (this.#identity === null) throw new Error("Server is not started");
    return this.#identity;
  }

  /** The port actually bound (useful with `port: 0`). */
  get port(): number {
    return this.identity.port;
  }

  /** True once shutdown began. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Resolves when the server has fully stopped. */
  get stopped(): Promise<void> {
    return this.#stopped;
  }

  /** The server as handlers see it (the server itself). */
  get ctx(): ServerContext {
    return this;
  }

  /**
   * Restores the dataset and opens the files writes go to, before {@link start} (see
   * `Persistence.open`).
   */
  async openPersistence(): Promise<void> {
    this.#loading = true;
    try {
      const host = {
        ctx: this,
        deliver: (kind: "channel" | "shard", channel: Uint8Array, message: Uint8Array) =>
          pubsubHub(this).publish(kind, channel, message),
      };
      const values = this.config.values;
      if (values["cluster-enabled"]) {
        // As Redis: the node's identity and slots are known before its data loads, and a
        // damaged nodes.conf stops the start.
        this.cluster = Cluster.open(host);
      } else if (values["group-name"] !== "") {
        this.group = Cluster.open(
          host,
          new GroupMembership(values["group-name"], values["group-members"]),
        );
      }
      // Functions in the dump or AOF are loaded into the Lua VM: it comes first.
      this.scripting ??= await Scripting.create();
      await this.persistence.open();
      this.#loaded = true;
    } finally {
      this.#loading = false;
    }
  }

  /**
   * Starts the metrics endpoint when `metrics-port` is set; called before
   * {@link openPersistence} so that `/readyz` answers (503) while the dataset loads.
   */
  startMetrics(): void {
    const v = this.config.values;
    if (v["metrics-port"] > 0) {
      this.metrics.start(v["metrics-bind"], v["metrics-port"], v["metrics-token"]);
    }
  }

  /** Hands the writes of a batch to the AOF; see `ConnectionHost.commitWrites`. */
  commitWrites(): Promise<boolean> | null {
    return this.persistence.commitWrites();
  }

  /** Opens the listening socket and starts accepting; throws if the address cannot be bound. */
  async start(): Promise<void> {
    const { bind } = this.config.values;
    let port = this.config.values.port;
    for (const address of bindAddresses(bind)) {
      try {
        const listener = Deno.listen({ hostname: address.hostname, port, transport: "tcp" });
        this.#listeners.push(listener);
        // With `port: 0` the system picks the port, which the other addresses then share.
        port = listener.addr.port;
      } catch (e) {
        if (!address.optional) {
          for (const listener of this.#listeners) listener.close();
          this.#listeners = [];
          throw e;
        }
        log.warn("Could not listen on optional address {host}: {error}", {
          host: address.hostname,
          error: String(e),
        });
      }
    }
    if (this.#listeners.length === 0) throw new Error(`could not listen on any of: ${bind}`);
    const tlsError = tlsConfigError(this.config.values);
    if (tlsError !== null) {
      for (const listener of this.#listeners) listener.close();
      this.#listeners = [];
      throw new Error(tlsError);
    }
    if (this.config.values["tls-port"] > 0) {
      try {
        this.#tlsListeners = await openTlsListeners(
          this.config.values,
          this.config.values["tls-port"],
        );
      } catch (e) {
        for (const listener of this.#listeners) listener.close();
        this.#listeners = [];
        throw e;
      }
    }
    // CONFIG GET port then reports the real one.
    this.config.values.port = port;
    this.#identity = {
      version: VERSION,
      redisVersion: REDIS_COMPAT_VERSION,
      runId: randomRunId(),
      startedAt: now(),
      port,
      pid: Deno.pid,
    };
    log.info("Listening on {host}:{port}", {
      host: bind,
      port: this.#identity.port,
      pid: Deno.pid,
      version: VERSION,
    });
    this.#startCron();
    this.replication.start();
    await this.cluster?.start(this.#identity.port);
    this.group?.start(this.#identity.port);
    for (const listener of this.#listeners) this.#acceptLoop(listener);
    for (const listener of this.#tlsListeners) this.#acceptLoop(listener, true);
    if (this.#tlsListeners.length > 0) {
      log.info("Listening with TLS on {host}:{port}", {
        host: bind,
        port: this.config.values["tls-port"],
      });
    }
  }

  /** Begins a graceful shutdown after the current batch of replies (SHUTDOWN command). */
  requestShutdown(request: ShutdownRequest): void {
    queueMicrotask(() => void this.shutdown(request));
  }

  /** Stops accepting, lets in-flight replies reach their clients, closes all connections. */
  async shutdown(request: ShutdownRequest = {}): Promise<void> {
    if (this.#shuttingDown) return this.#stopped;
    this.#shuttingDown = true;
    log.info("Shutting down: {clients} clients connected", { clients: this.clients.size });
    // A busy script (SHUTDOWN NOSAVE, a signal) ends at its next slice, written or not: its
    // caller is answered and the event loop can empty. One that wrote leaves its writes out of
    // the AOF and the followers' streams, and no dump is saved with them.
    const cutShort = this.scripting?.running ?? null;
    if (cutShort !== null) {
      cutShort.killRequested = true;
      if (cutShort.wrote && request.save !== false) {
        log.warn("Not saving: a script that wrote was stopped before its end");
        request = { ...request, save: false };
      }
    }
    clearInterval(this.#cron);
    this.#cron = undefined;
    try {
      for (const listener of [...this.#listeners, ...this.#tlsListeners]) listener.close();
    } catch {
      // Listener already closed.
    }
    // Clients blocked on keys (BLPOP...) wait for no reply any more: their connections close.
    releaseBlockedClients(this);
    for (const conn of this.#live.keys()) conn.closeWhenIdle();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        for (const conn of this.#live.keys()) conn.kill();
        resolve();
      }, SHUTDOWN_GRACE_MS);
    });
    this.cluster?.close();
    this.group?.close();
    this.writePause.end();
    await this.replication.close();
    await Promise.race([Promise.allSettled([...this.#live.values()]), grace]);
    await Promise.allSettled([...this.#live.values()]);
    clearTimeout(timer);
    await this.persistence.close(request.save);
    await this.metrics.close();
    log.info("Server stopped");
    this.#resolveStopped();
  }

  async #acceptLoop(listener: Deno.TcpListener | TlsListener, tls = false): Promise<void> {
    while (!this.#shuttingDown) {
      let socket: Deno.Conn;
      try {
        socket = await listener.accept();
      } catch (e) {
        // A TLS listener closed to reload its certificate ends its loop; its successor runs.
        if (this.#shuttingDown || e instanceof Deno.errors.BadResource) return;
        log.error("Accept failed: {error}", { error: String(e) });
        continue;
      }
      if (this.#shuttingDown) {
        socket.close();
        return;
      }
      this.#accept(socket, tls);
    }
  }

  /**
   * Reopens the TLS listeners with the TLS settings as they are now (CONFIG SET of a
   * certificate file, `tls-auth-clients`, `tls-protocols`): new connections get the new
   * settings, established ones keep their session. Settings that cannot work (a missing CA
   * for client certificates) are logged and the listeners stay as they were. The port is
   * released by the runtime a moment after the old listener closes, so the new one is tried
   * for up to a second; a failure then is logged and leaves the TLS port closed.
   */
  async #reloadTls(): Promise<void> {
    if (this.#tlsListeners.length === 0) return;
    const problem = tlsListenerSettingsError(this.config.values);
    if (problem !== null) {
      log.error("TLS settings not applied, the TLS port keeps the previous ones: {error}", {
        error: problem,
      });
      return;
    }
    const port = this.config.values["tls-port"];
    for (const listener of this.#tlsListeners) listener.close();
    this.#tlsListeners = [];
    for (let attempt = 0;; attempt++) {
      try {
        this.#tlsListeners = await openTlsListeners(this.config.values, port);
        break;
      } catch (e) {
        if (!(e instanceof Deno.errors.AddrInUse) || attempt >= 100 || this.#shuttingDown) {
          log.error("TLS certificate reload failed, TLS port closed: {error}", {
            error: String(e),
          });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    log.info("TLS certificate reloaded on port {port}", { port });
    for (const listener of this.#tlsListeners) this.#acceptLoop(listener, true);
  }

  /**
   * Protected mode (Redis's acceptCommonHandler): while `protected-mode` is on and the default
   * user has no password, a client not from 127.0.0.1 or ::1 gets Redis's -DENIED text and is
   * closed. True when it was.
   */
  #refusedByProtectedMode(socket: Deno.Conn): boolean {
    const v = this.config.values;
    if (!v["protected-mode"] || !this.acl.default.nopass) return false;
    const peer = socket.remoteAddr as Deno.NetAddr;
    if (isLocalPeer(peer.hostname)) return false;
    log.warn("Refused a connection from {addr}: protected mode", { addr: formatAddr(peer) });
    this.#refuse(socket, PROTECTED_MODE_DENIED);
    return true;
  }

  /** Answers a refused connection with `error` (counted as rejected) and closes it. */
  #refuse(socket: Deno.Conn, error: Uint8Array): void {
    this.stats.rejectedConnections++;
    socket.write(error).catch(() => {}).finally(() => {
      try {
        socket.close();
      } catch {
        // Peer already gone.
      }
    });
  }

  #accept(socket: Deno.Conn, tls: boolean): void {
    const values = this.config.values;
    if (this.clients.size >= values.maxclients) {
      this.#refuse(socket, MAX_CLIENTS_ERROR);
      log.warn("Rejected a connection: max number of clients ({max}) reached", {
        max: values.maxclients,
      });
      return;
    }
    const ip = (socket.remoteAddr as Deno.NetAddr).hostname;
    const fromIp = this.#connectionsByIp.get(ip) ?? 0;
    if (values["connection-limit-per-ip"] > 0 && fromIp >= values["connection-limit-per-ip"]) {
      this.#refuse(socket, MAX_CLIENTS_PER_IP_ERROR);
      log.warn("Rejected a connection from {ip}: {max} connections from it already", {
        ip,
        max: values["connection-limit-per-ip"],
      });
      return;
    }
    if (this.#refusedByProtectedMode(socket)) return;
    this.#connectionsByIp.set(ip, fromIp + 1);
    this.stats.connectionsReceived++;
    setNoDelay(socket);
    const state = new ClientState(
      this.clients.nextId(),
      formatAddr(socket.remoteAddr),
      formatAddr(socket.localAddr),
      this.acl.defaultAuthenticates,
    );
    state.user = this.acl.default;
    state.tls = tls;
    const conn = new Connection(socket, state, this);
    this.clients.add(conn);
    pubsubHub(this).attach(conn);
    log.debug("Accepted client {id} from {addr}", { id: state.id, addr: state.addr });
    const done = conn.run().finally(() => {
      unwatchAll(this, state);
      this.replication.detach(state);
      this.clients.remove(state.id);
      pubsubHub(this).detach(state);
      this.observer.removeMonitor(state);
      this.#live.delete(conn);
      const left = (this.#connectionsByIp.get(ip) ?? 1) - 1;
      if (left > 0) this.#connectionsByIp.set(ip, left);
      else this.#connectionsByIp.delete(ip);
      log.debug("Client {id} closed", { id: state.id });
    });
    this.#live.set(conn, done);
  }

  #applyEviction(): void {
    const v = this.config.values;
    this.keyspace.configureEviction({
      maxmemory: v.maxmemory,
      maxkeys: v.maxkeys,
      policy: v["maxmemory-policy"],
      samples: v["maxmemory-samples"],
    });
  }

  #startCron(): void {
    clearInterval(this.#cron);
    this.#cron = setInterval(() => this.#housekeeping(), 1000 / this.config.values.hz);
  }

  /** Periodic work: active expiry, statistics, idle timeouts, output buffer soft limits. */
  #housekeeping(): void {
    const at = now();
    // Like Redis, active expiry may use a quarter of each period; none while writes are paused
    // (its DELs would move the stream's offset past the one a manual failover waits for).
    // A script past the busy threshold runs alone (as Redis runs no serverCron then): no key
    // expires under it, and no save or rewrite snapshots its writes half done.
    const scriptBusy = this.scripting?.busy ?? false;
    if (!this.writePause.active && !scriptBusy) {
      if (this.keyspace.activeExpireEnabled) {
        this.keyspace.activeExpireCycle(at, 250 / this.config.values.hz, monotonicMs);
      }
    }
    this.propagator.flush();
    if (!scriptBusy) this.persistence.cron();
    this.cluster?.tick(at);
    this.group?.tick(at);
    if (at - this.#lastReplicationCron >= 1000) {
      this.#lastReplicationCron = at;
      this.replication.cron(at);
    }
    this.stats.sample(at);
    const timeoutMs = this.config.values.timeout * 1000;
    const queryTimeoutMs = this.config.values["client-query-timeout"] * 1000;
    const limits = this.config.values["client-output-buffer-limit"];
    for (const conn of this.#live.keys()) {
      const state = conn.state;
      const limit = limits[outputLimitClass(state)];
      // Replication links are never idle-closed, as in Redis.
      if (timeoutMs > 0 && state.link === "none" && at - state.lastInteraction > timeoutMs) {
        log.debug("Closing idle client {id}", { id: state.id });
        conn.kill();
        continue;
      }
      if (
        queryTimeoutMs > 0 && state.partialSince > 0 && state.link === "none" &&
        at - state.partialSince > queryTimeoutMs
      ) {
        log.warn("Client {id} ({addr}) closed: a command half-sent for over {seconds} s", {
          id: state.id,
          addr: state.addr,
          seconds: this.config.values["client-query-timeout"],
        });
        conn.kill();
        continue;
      }
      if (limit.soft > 0 && state.outputBufferBytes > limit.soft) {
        if (state.outputSoftLimitSince === 0) state.outputSoftLimitSince = at;
        else if (at - state.outputSoftLimitSince >= limit.softSeconds * 1000) {
          this.stats.outputBufferLimitDisconnections++;
          log.warn("Client {id} ({addr}) closed for overcoming output buffer soft limit", {
            id: state.id,
            addr: state.addr,
          });
          conn.kill();
        }
      } else state.outputSoftLimitSince = 0;
    }
  }
}
