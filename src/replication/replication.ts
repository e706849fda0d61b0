/**
 * A node's replication role, the one owner of it: a leader (its writes feed the stream its
 * followers copy), or a follower of another node (its dataset is the leader's; clients may read,
 * writes are refused). REPLICAOF switches between the two; dispatch asks {@link refusal} before
 * a command runs whenever {@link guarded} says a role rule may apply, so a leader without
 * `min-replicas-to-write` pays one property read per command.
 */
import type { ServerContext } from "../commands/context.ts";
import type { Command } from "../commands/registry.ts";
import { ErrorReply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { now } from "../util/clock.ts";
import { ByteBuffer } from "../util/bytes.ts";
import { encodeCommandInto } from "../resp/encoder.ts";
import { logger } from "../util/logger.ts";
import { FollowerLink } from "./follower.ts";
import { ReplicationLeader } from "./leader.ts";

const log = logger("replication");

const READONLY = new ErrorReply("READONLY You can't write against a read only replica.");
const MASTERDOWN = new ErrorReply(
  "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
);
const NOREPLICAS = new ErrorReply("NOREPLICAS Not enough good replicas to write.");

/** The replication role; see the module comment. */
export class Replication {
  /** The leader side: id, offset, backlog, followers (a follower has followers too). */
  readonly leader: ReplicationLeader;
  #ctx: ServerContext;
  #commit: () => Promise<boolean> | null;
  #follower: FollowerLink | null = null;
  #guarded = false;
  #leaseUntil: number | null = null;
  #leaseRefusal: ErrorReply = NOREPLICAS;
  #lastPing = 0;

  /**
   * Replication for the node `ctx`; `commit` hands writes applied from a leader to the AOF
   * (the server's `commitWrites`).
   */
  constructor(ctx: ServerContext, commit: () => Promise<boolean> | null) {
    this.#ctx = ctx;
    this.#commit = commit;
    this.leader = new ReplicationLeader(ctx);
    ctx.config.onChange((names) => {
      if (names.includes("repl-backlog-size")) this.leader.resizeBacklog();
      this.#updateGuard();
    });
  }

  /** Takes the configured role (`replicaof`) once the server listens. */
  start(): void {
    const target = this.#ctx.config.values.replicaof;
    const origin = this.#ctx.persistence.loadedReplication;
    if (origin !== null) this.leader.resetHistory(origin.replid, origin.offset);
    if (target === null) this.leader.ownWrites = true;
    else this.follow(target.host, target.port, origin?.db ?? 0);
    this.#updateGuard();
  }

  /**
   * AUX fields for a dump: where the dataset stands in the replication history, so a node
   * restarted from it can continue with its leader or followers instead of copying everything.
   */
  rdbAux(): [string, string][] {
    const leader = this.leader;
    if (leader.backlog === null) return [];
    // On a leader, writes of the running batch are in the dataset but not yet in the stream.
    const pending = this.#follower === null ? this.#ctx.propagator.pendingBytes : 0;
    return [
      ["repl-stream-db", String(leader.streamDb())],
      ["repl-id", leader.replid],
      ["repl-offset", String(leader.offset + pending)],
    ];
  }

  /** Whether dispatch must ask {@link refusal} before running a command. */
  get guarded(): boolean {
    return this.#guarded;
  }

  /** The link to the leader, when this node follows one. */
  get follower(): FollowerLink | null {
    return this.#follower;
  }

  #updateGuard(): void {
    this.#guarded = this.#follower !== null || this.#leaseUntil !== null ||
      this.#ctx.config.values["min-replicas-to-write"] > 0;
  }

  /**
   * The fence of a master in a cluster or a leader/follower group: writes run only before
   * `until` (ms since the epoch), when its lease from a majority runs out, and are refused with
   * `refusal` after; null (not a master, no bus) lifts it. Each write compares it with its
   * batch's time, read when the batch starts, so a leader that was stopped (SIGSTOP) or cut off
   * refuses writes from the moment its lease ended, before its own timers have run again.
   */
  setWriteLease(until: number | null, refusal: ErrorReply): void {
    this.#leaseRefusal = refusal;
    if (until === this.#leaseUntil) return;
    this.#leaseUntil = until;
    this.#updateGuard();
  }

  /**
   * Why `client` may not run `cmd` under the node's role (Redis's READONLY, MASTERDOWN and
   * NOREPLICAS, or the write lease's refusal), or null. `writes`: whether it writes, an EXEC of
   * queued writes included. The leader's own commands on a follower always run.
   */
  refusal(client: ClientState, cmd: Command, writes: boolean = cmd.write): ErrorReply | null {
    if (client.link === "leader") return null;
    const values = this.#ctx.config.values;
    const follower = this.#follower;
    if (follower !== null) {
      if (
        !values["replica-serve-stale-data"] && follower.state !== "connected" &&
        !cmd.def.flags.includes("stale")
      ) return MASTERDOWN;
      if (writes && values["replica-read-only"]) return READONLY;
      return null;
    }
    // The batch's time (read once per batch, after a SIGSTOP too): no clock read per write.
    if (writes && this.#leaseUntil !== null && now() >= this.#leaseUntil) {
      return this.#leaseRefusal;
    }
    const needed = values["min-replicas-to-write"];
    if (writes && needed > 0) {
      if (this.leader.goodReplicas(values["min-replicas-max-lag"]) < needed) return NOREPLICAS;
    }
    return null;
  }

  /**
   * REPLICAOF host port: drops any current link and follows `host:port`. The dataset stays
   * until the leader's copy replaces it; a former leader asks to continue from its own history,
   * which succeeds when the new leader was its follower (Redis's PSYNC2).
   */
  follow(host: string, port: number, streamDb = 0): void {
    const wasLeader = this.#follower === null;
    const wasUp = this.#follower?.state === "connected";
    void this.#follower?.stop();
    this.leader.ownWrites = false;
    this.#ctx.keyspace.follower = true;
    this.#ctx.propagator.flush();
    log.info("Following leader {host}:{port}", { host, port });
    const resumable = wasLeader ? this.leader.backlog !== null : true;
    this.#follower = new FollowerLink(
      this.#ctx,
      this.leader,
      host,
      port,
      resumable,
      this.#commit,
      streamDb,
    );
    if (wasUp) this.#follower.markDown();
    this.#ctx.config.values.replicaof = { host, port };
    this.#updateGuard();
  }

  /** REPLICAOF NO ONE: stops following and becomes a leader under a new replication id. */
  async promote(): Promise<void> {
    const follower = this.#follower;
    if (follower === null) return;
    this.#follower = null;
    this.#ctx.config.values.replicaof = null;
    this.#ctx.keyspace.follower = false;
    this.leader.shiftId();
    // A leader's stream names its database with a SELECT after every copy.
    this.leader.streamDb = () => 0;
    this.leader.ownWrites = true;
    this.#updateGuard();
    log.info("Leader mode enabled (was following {host}:{port})", {
      host: follower.host,
      port: follower.port,
    });
    await follower.stop();
  }

  /**
   * Sends a command to the followers only (PUBLISH: not a write, so not in the AOF). It joins
   * the stream after the writes of the batch being run, once they have been flushed; then the
   * client's WAIT waits for it (a WAIT in the same batch does not).
   */
  forwardToFollowers(argv: readonly Uint8Array[], client: ClientState): void {
    const leader = this.leader;
    if (this.#follower !== null || leader.backlog === null) return;
    const out = new ByteBuffer(64);
    encodeCommandInto(out, argv);
    const bytes = out.view();
    queueMicrotask(() => {
      this.#ctx.propagator.flush();
      leader.feedStream(bytes);
      client.replOffset = leader.offset;
    });
  }

  /** Forgets a closed connection (a follower of ours, or one that announced itself). */
  detach(client: ClientState): void {
    this.leader.detach(client);
  }

  /** Once a second: leader pings and timeouts. */
  cron(at: number = now()): void {
    const period = this.#ctx.config.values["repl-ping-replica-period"] * 1000;
    const pingDue = at - this.#lastPing >= period;
    if (pingDue) this.#lastPing = at;
    // No PING while client writes are paused: as in Redis, a manual failover's replica waits
    // for the offset the master had when it paused, and the stream stays there.
    this.leader.cron(at, pingDue && !this.#ctx.writePause.active);
  }

  /** Stops the link and ends pending WAITs (shutdown). */
  async close(): Promise<void> {
    this.leader.close();
    await this.#follower?.stop();
  }

  /** INFO replication, with Redis's field names. */
  infoFields(): [string, string | number][] {
    const leader = this.leader;
    const values = this.#ctx.config.values;
    const fields: [string, string | number][] = [];
    const follower = this.#follower;
    if (follower === null) {
      fields.push(["role", "master"]);
    } else {
      fields.push(
        ["role", "slave"],
        ["master_host", follower.host],
        ["master_port", follower.port],
        ["master_link_status", follower.state === "connected" ? "up" : "down"],
        ["master_last_io_seconds_ago", follower.lastIoSecondsAgo],
        ["master_sync_in_progress", follower.sync !== null ? 1 : 0],
        ["slave_read_repl_offset", leader.offset],
        ["slave_repl_offset", leader.offset],
      );
      if (follower.sync !== null) {
        const { total, read } = follower.sync;
        fields.push(
          ["master_sync_total_bytes", total],
          ["master_sync_read_bytes", read],
          ["master_sync_left_bytes", total < 0 ? -1 : total - read],
          ["master_sync_perc", total <= 0 ? "0.00" : ((read * 100) / total).toFixed(2)],
        );
      }
      if (follower.state !== "connected") {
        fields.push(["master_link_down_since_seconds", follower.downSeconds]);
      }
      fields.push(
        ["slave_priority", values["replica-priority"]],
        ["slave_read_only", values["replica-read-only"] ? 1 : 0],
        ["replica_announced", 1],
      );
    }
    const at = now();
    let n = 0;
    const replicas: [string, string][] = [];
    for (const r of leader.replicas) {
      const lag = Math.floor((at - r.ackAt) / 1000);
      replicas.push([
        `slave${n++}`,
        `ip=${r.ip},port=${r.port},state=${r.state},offset=${r.ackOffset},lag=${lag}`,
      ]);
    }
    fields.push(["connected_slaves", replicas.length], ...replicas);
    if (follower === null && values["min-replicas-to-write"] > 0) {
      fields.push(["min_slaves_good_slaves", leader.goodReplicas(values["min-replicas-max-lag"])]);
    }
    const backlog = leader.backlog;
    fields.push(
      ["master_failover_state", "no-failover"],
      ["master_replid", leader.replid],
      ["master_replid2", leader.replid2],
      ["master_repl_offset", leader.offset],
      ["second_repl_offset", leader.secondOffset],
      ["repl_backlog_active", backlog === null ? 0 : 1],
      ["repl_backlog_size", values["repl-backlog-size"]],
      ["repl_backlog_first_byte_offset", backlog === null ? 0 : backlog.firstOffset],
      ["repl_backlog_histlen", backlog === null ? 0 : backlog.historyLength],
    );
    return fields;
  }
}
