/**
 * What a command handler may reach besides its own client: configuration, the client table,
 * statistics, the command table and server identity. The server implements it; handlers never
 * see sockets or files.
 */
import type { HeapGuard } from "../server/heap_guard.ts";
import type { Config } from "../config/config.ts";
import type { ClientTable } from "../server/client_table.ts";
import type { ServerStats } from "../server/stats.ts";
import type { Propagator } from "../propagation/propagator.ts";
import type { Keyspace } from "../store/keyspace.ts";
import type { CommandTable } from "./registry.ts";
import type { Replication } from "../replication/replication.ts";
import type { CommandObserver } from "../server/observer.ts";
import type { Metrics } from "../metrics/mod.ts";
import type { Cluster } from "../cluster/cluster.ts";
import type { WritePause } from "../server/write_pause.ts";
import type { Scripting } from "../scripting/scripting.ts";
import type { Acl } from "../acl/acl.ts";

/** Facts about this server process, for INFO and HELLO. */
export interface ServerIdentity {
  /** gocache's version. */
  readonly version: string;
  /** The Redis version we report for client compatibility. */
  readonly redisVersion: string;
  /** Random 40-hex-character id of this run. */
  readonly runId: string;
  /** When the server started (ms since epoch). */
  readonly startedAt: number;
  /** The TCP port actually bound. */
  readonly port: number;
  /** Process id. */
  readonly pid: number;
}

/** What INFO persistence shows of the append-only file. */
export interface AofStatus {
  /** Current size in bytes. */
  readonly size: number;
  /** Size when the server opened it. */
  readonly baseSize: number;
  /** Bytes waiting to be written. */
  readonly pendingBytes: number;
  /** The last write's error, or null. */
  readonly writeError: string | null;
}

/** Where in a leader's history a dataset stands: its replication id, offset and stream db. */
export interface ReplicationOrigin {
  /** Replication id. */
  readonly replid: string;
  /** Offset of the last byte of the stream the dataset includes. */
  readonly offset: number;
  /** Database the stream's next command applies to without a SELECT. */
  readonly db: number;
}

/** What handlers see of persistence (INFO persistence, BGREWRITEAOF, MISCONF). */
export interface PersistenceView {
  /** The append-only file, when `appendonly` is on. */
  readonly aof: AofStatus | null;
  /** Whether an AOF rewrite is running. */
  readonly rewriting: boolean;
  /** Whether the last rewrite succeeded. */
  readonly lastRewriteOk: boolean;
  /** Rewrites completed. */
  readonly rewrites: number;
  /** Seconds the last rewrite took, or -1. */
  readonly lastRewriteSeconds: number;
  /** Whether BGREWRITEAOF waits for a running BGSAVE. */
  readonly rewriteScheduled: boolean;
  /** Starts BGREWRITEAOF; Redis's error text when it cannot, null when it started. */
  startRewrite(): string | null;
  /** Whether a BGSAVE runs. */
  readonly saving: boolean;
  /** When the last successful save ended (ms). */
  readonly lastSaveTime: number;
  /** Whether the last background save succeeded. */
  readonly lastBgsaveOk: boolean;
  /** Saves completed. */
  readonly saves: number;
  /** Seconds the last background save took, or -1. */
  readonly lastBgsaveSeconds: number;
  /** Changes since the last save. */
  readonly changesSinceSave: number;
  /** The replication history the dump loaded at start recorded, if any. */
  readonly loadedReplication: ReplicationOrigin | null;
  /** SAVE: Redis's error text, or null once the dump is written. */
  save(): string | null;
  /** Queues BGSAVE or BGREWRITEAOF for the cron (asked for inside EXEC). */
  schedule(job: "bgsave" | "rewrite"): void;
  /** BGSAVE [SCHEDULE]: whether it started (or was scheduled), with Redis's reply text. */
  startBgsave(schedule: boolean): { ok: boolean; text: string };
}

/** How SHUTDOWN was asked to behave. */
export interface ShutdownRequest {
  /** SAVE / NOSAVE, or undefined for the configured default. */
  save?: boolean;
}

/** The server as handlers see it. */
export interface ServerContext {
  /** Live configuration. */
  readonly config: ServerConfigView;
  /** Connected clients. */
  readonly clients: ClientTable;
  /** Counters. */
  readonly stats: ServerStats;
  /** The databases. */
  readonly keyspace: Keyspace;
  /** All commands. */
  readonly commands: CommandTable;
  /** Where writes leave for the AOF and replicas. */
  readonly propagator: Propagator;
  /** Identity of this process. */
  readonly identity: ServerIdentity;
  /** Persistence state and controls. */
  readonly persistence: PersistenceView;
  /** The node's replication role: leader or follower, followers, backlog, WAIT. */
  readonly replication: Replication;
  /** The pause of client writes (a master's, during a coordinated manual failover). */
  readonly writePause: WritePause;
  /** Refuses commands that grow memory while V8's heap is near its limit. */
  readonly heapGuard: HeapGuard;
  /** Command durations, the slow log and MONITOR clients. */
  readonly observer: CommandObserver;
  /** Metrics collectors and readiness checks (other modules add theirs here). */
  readonly metrics: Metrics;
  /** Cluster mode (slots, bus, nodes.conf), or null when `cluster-enabled` is off. */
  readonly cluster: Cluster | null;
  /**
   * A leader/follower group's bus (`group-name`: elections, fencing, Sentinel's client API), or
   * null; never set together with {@link cluster}.
   */
  readonly group: Cluster | null;
  /**
   * Lua scripts and functions: the engine, the script cache, the libraries, the running
   * script; null until the Lua VM is loaded (and in contexts built without one).
   */
  readonly scripting: Scripting | null;
  /** ACL users, their permission checks and the ACL LOG. */
  readonly acl: Acl;
  /** Asks the server to stop gracefully once the current batch of replies is written. */
  requestShutdown(request: ShutdownRequest): void;
}

/** The configuration object handlers use. */
export type ServerConfigView = Config;
