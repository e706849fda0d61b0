/**
 * The leader side of replication (Redis's master role): the replication id and offset, the
 * backlog, and the followers attached to this node. A follower's PSYNC either resumes from the
 * backlog (`+CONTINUE`) or gets a full copy (`+FULLRESYNC`): a point-in-time RDB image built a
 * slice at a time while writes go on, then the stream written meanwhile, then the live stream.
 * Followers ACK their offsets; WAIT and `min-replicas-to-write` count those acks.
 *
 * A follower (see follower.ts) is also a leader for its own followers: it feeds its leader's
 * stream, byte for byte, through {@link ReplicationLeader.feedStream}, so offsets and ids match
 * along a chain.
 */
import type { ServerContext } from "../commands/context.ts";
import { snapshotRdb } from "../persistence/rdb_file.ts";
import { encodeCommandInto } from "../resp/encoder.ts";
import { ErrorReply, NO_REPLY, RawReply, type Reply, SimpleString } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import type { ClientHandle } from "../server/client_table.ts";
import { ByteBuffer, concatBytes } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import { logger } from "../util/logger.ts";
import { ReplicationBacklog } from "./backlog.ts";

const log = logger("replication");
const encoder = new TextEncoder();

/** A 40-hex-character replication id, as Redis makes them. */
export function randomReplicationId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Redis's "no second id" value. */
export const NO_REPLICATION_ID = "0".repeat(40);

/** Where a follower of ours stands (INFO's `slaveN:state=`). */
export type ReplicaState = "wait_bgsave" | "send_bulk" | "online";

/** What a follower said about itself in REPLCONF before PSYNC. */
interface Announcement {
  port: number;
  ip: string;
}

/** One follower attached to this node. */
export class ReplicaLink {
  state: ReplicaState = "wait_bgsave";
  /** Offset the follower last acknowledged. */
  ackOffset = 0;
  /** When it last acknowledged (ms). */
  ackAt = now();
  /** The stream produced while its full copy is being built, sent after the copy. */
  pending: ByteBuffer | null = null;

  constructor(
    readonly client: ClientState,
    readonly handle: ClientHandle,
    readonly ip: string,
    readonly port: number,
  ) {}
}

/** A WAIT in progress. */
interface Waiter {
  offset: number;
  count: number;
  resolve: (acked: number) => void;
}

/** The leader side; see the module comment. */
export class ReplicationLeader {
  /** This node's replication id (`master_replid`). */
  replid = randomReplicationId();
  /** The id it had before a promotion (`master_replid2`). */
  replid2 = NO_REPLICATION_ID;
  /** Last offset valid under {@link replid2} plus one (`second_repl_offset`), or -1. */
  secondOffset = -1;
  /** Full resynchronisations served (`sync_full`). */
  fullSyncs = 0;
  /** PSYNCs answered with +CONTINUE (`sync_partial_ok`). */
  partialSyncsOk = 0;
  /** PSYNCs that asked to continue and got a full copy instead (`sync_partial_err`). */
  partialSyncsFailed = 0;
  readonly #ctx: ServerContext;
  #backlog: ReplicationBacklog | null = null;
  /** `master_repl_offset` while there is no backlog yet. */
  #offset = 0;
  readonly #replicas = new Map<number, ReplicaLink>();
  readonly #announced = new Map<number, Announcement>();
  #waiters: Waiter[] = [];
  #ownWrites = false;
  /**
   * The database the stream's next command applies to when no SELECT precedes it: 0 on a
   * leader (a SELECT is forced after each copy), the leader's on a follower.
   */
  streamDb: () => number = () => 0;
  readonly #sink = (chunk: Uint8Array) => this.feedStream(chunk);

  /** Serves the followers of the node `ctx`. */
  constructor(ctx: ServerContext) {
    this.#ctx = ctx;
  }

  /** `master_repl_offset`: the offset of the last byte of the replication stream. */
  get offset(): number {
    return this.#backlog?.offset ?? this.#offset;
  }

  /** The backlog, once a follower asked for one. */
  get backlog(): ReplicationBacklog | null {
    return this.#backlog;
  }

  /**
   * The offset the stream reaches once the writes encoded in this batch are flushed: where a
   * write that just ran ends (see ClientState.replOffset).
   */
  get pendingOffset(): number {
    return this.offset + (this.#backlog === null ? 0 : this.#ctx.propagator.pendingBytes);
  }

  /** The attached followers, in attach order. */
  get replicas(): IterableIterator<ReplicaLink> {
    return this.#replicas.values();
  }

  /** Followers whose copy is complete and who receive the live stream. */
  get onlineCount(): number {
    let n = 0;
    for (const r of this.#replicas.values()) if (r.state === "online") n++;
    return n;
  }

  /**
   * Whether this node's own writes feed the stream (a leader) or only a leader's stream does
   * (a follower). The propagator feeds the backlog only in the first case.
   */
  set ownWrites(value: boolean) {
    if (value === this.#ownWrites) return;
    this.#ownWrites = value;
    if (this.#backlog === null) return;
    if (value) this.#ctx.propagator.addSink(this.#sink);
    else this.#ctx.propagator.removeSink(this.#sink);
  }

  /**
   * Starts over with a new history (a follower that loaded its leader's copy): the leader's id
   * and offset, an empty backlog, and no followers of its own, which must copy the new data.
   */
  resetHistory(replid: string, offset: number): void {
    this.replid = replid;
    this.replid2 = NO_REPLICATION_ID;
    this.secondOffset = -1;
    this.#offset = offset;
    // A follower keeps a backlog from the start, so that its own followers, and the node it
    // becomes when promoted, can resume.
    this.#backlog = new ReplicationBacklog(this.#ctx.config.values["repl-backlog-size"], offset);
    this.dropReplicas("its leader's history changed (full resynchronization)");
  }

  /**
   * Takes on a new id after a promotion, remembering the old one so followers of the old
   * leader can still continue from this node (Redis's `shiftReplicationId`).
   */
  shiftId(): void {
    this.replid2 = this.replid;
    this.secondOffset = this.offset + 1;
    this.replid = randomReplicationId();
    log.info("Replication id shifted: new {replid}, previous {replid2} valid to offset {offset}", {
      replid: this.replid,
      replid2: this.replid2,
      offset: this.secondOffset - 1,
    });
  }

  /** Adopts the id a leader announced with +CONTINUE, keeping the old one as the second id. */
  adoptId(replid: string): void {
    if (replid === this.replid) return;
    this.replid2 = this.replid;
    this.secondOffset = this.offset + 1;
    this.replid = replid;
  }

  #ensureBacklog(): ReplicationBacklog {
    if (this.#backlog === null) {
      const size = this.#ctx.config.values["repl-backlog-size"];
      this.#backlog = new ReplicationBacklog(size, this.#offset);
      if (this.#ownWrites) this.#ctx.propagator.addSink(this.#sink);
      log.info("Replication backlog created: {size} bytes", { size });
    }
    return this.#backlog;
  }

  /** Applies `repl-backlog-size` to an existing backlog. */
  resizeBacklog(): void {
    this.#backlog?.resize(this.#ctx.config.values["repl-backlog-size"]);
  }

  /**
   * Appends bytes to the replication stream: the backlog, online followers, and the buffers of
   * followers whose copy is being built.
   */
  feedStream(chunk: Uint8Array): void {
    const backlog = this.#backlog;
    if (backlog === null) {
      this.#offset += chunk.length;
      return;
    }
    backlog.append(chunk);
    for (const replica of this.#replicas.values()) {
      if (replica.pending !== null) {
        replica.pending.pushBytes(chunk);
        const hard = this.#ctx.config.values["client-output-buffer-limit"].replica.hard;
        if (hard > 0 && replica.pending.length > hard) {
          this.#drop(replica, "its output buffer reached the replica hard limit during sync");
        }
      } else if (replica.state === "online") replica.handle.pushFrame(chunk);
    }
  }

  /** REPLCONF listening-port / ip-address before PSYNC. */
  announce(client: ClientState, port: number | null, ip: string | null): void {
    const a = this.#announced.get(client.id) ?? { port: 0, ip: client.addr.replace(/:\d+$/, "") };
    if (port !== null) a.port = port;
    if (ip !== null) a.ip = ip;
    this.#announced.set(client.id, a);
  }

  /**
   * PSYNC from `client`: resumes from the backlog when `replid` is this node's id (or its
   * previous one, up to where that history ends) and the backlog still holds `from`, else starts
   * a full copy. `legacy` is SYNC: always a full copy, without the +FULLRESYNC line.
   */
  psync(client: ClientState, replid: string, from: number, legacy = false): Reply {
    const handle = this.#ctx.clients.get(client.id);
    if (handle === undefined) return new ErrorReply("ERR the client is gone");
    const backlog = this.#ensureBacklog();
    const announced = this.#announced.get(client.id);
    this.#announced.delete(client.id);
    const link = new ReplicaLink(
      client,
      handle,
      announced?.ip ?? client.addr.replace(/:\d+$/, ""),
      announced?.port ?? 0,
    );
    client.link = "replica";
    this.#replicas.set(client.id, link);
    const known = replid === this.replid ||
      (replid === this.replid2 && from <= this.secondOffset);
    if (known && backlog.covers(from)) {
      link.state = "online";
      link.ackOffset = from - 1;
      this.partialSyncsOk++;
      log.info("Follower {addr} resumed with +CONTINUE from offset {from} ({bytes} bytes)", {
        addr: link.ip + ":" + link.port,
        from,
        bytes: backlog.offset + 1 - from,
      });
      const head = encoder.encode(`+CONTINUE ${this.replid}\r\n`);
      return new RawReply(concatBytes([head, backlog.copyFrom(from)]));
    }
    if (replid !== "?") this.partialSyncsFailed++;
    this.fullSyncs++;
    // The copy is of the dataset as of now; the stream after it starts with a SELECT.
    this.#ctx.propagator.flush();
    this.#ctx.propagator.forceSelect();
    const offset = this.offset;
    link.pending = new ByteBuffer(16 * 1024);
    log.info("Full resynchronization of follower {addr} from offset {offset}", {
      addr: link.ip + ":" + link.port,
      offset,
    });
    void this.#sendCopy(link, offset);
    // SYNC (the protocol before PSYNC) gets the copy with no +FULLRESYNC line before it.
    return legacy ? NO_REPLY : new SimpleString(`FULLRESYNC ${this.replid} ${offset}`);
  }

  async #sendCopy(link: ReplicaLink, offset: number): Promise<void> {
    const values = this.#ctx.config.values;
    let image: Uint8Array;
    const started = performance.now();
    try {
      image = await snapshotRdb(this.#ctx.keyspace, now(), {
        compression: values.rdbcompression,
        checksum: values.rdbchecksum,
        extra: [
          ["repl-stream-db", String(this.streamDb())],
          ["repl-id", this.replid],
          ["repl-offset", String(offset)],
        ],
        functions: this.#ctx.scripting?.functions.codes(),
      });
    } catch (e) {
      this.#drop(link, `its copy could not be made: ${e instanceof Error ? e.message : e}`);
      return;
    }
    if (this.#replicas.get(link.client.id) !== link) return;
    link.state = "send_bulk";
    // The copy does not count towards the replica output limit, as in Redis: only the stream
    // that piles up behind it does.
    link.handle.pushFrame(encoder.encode(`$${image.length}\r\n`), true);
    link.handle.pushFrame(image, true);
    const pending = link.pending as ByteBuffer;
    link.pending = null;
    if (pending.length > 0) link.handle.pushFrame(pending.view());
    link.state = "online";
    link.ackAt = now();
    log.info(
      "Follower {addr} copy sent: {bytes} bytes of RDB in {ms} ms, then {streamed} bytes of stream",
      {
        addr: link.ip + ":" + link.port,
        bytes: image.length,
        ms: Math.round(performance.now() - started),
        streamed: pending.length,
      },
    );
  }

  /** REPLCONF ACK from a follower. */
  acknowledge(client: ClientState, offset: number): void {
    const link = this.#replicas.get(client.id);
    if (link === undefined) return;
    if (offset > link.ackOffset) link.ackOffset = offset;
    link.ackAt = now();
    if (this.#waiters.length > 0) this.#settleWaiters(false);
  }

  /** Followers that acknowledged `offset` or more. */
  ackedCount(offset: number): number {
    let n = 0;
    for (const r of this.#replicas.values()) if (r.state === "online" && r.ackOffset >= offset) n++;
    return n;
  }

  /**
   * WAIT: resolves with the number of followers that acknowledged `offset`, once `count` have,
   * or when the caller gives up (see {@link expireWaiters}).
   */
  wait(offset: number, count: number): { promise: Promise<number>; cancel: () => void } {
    let waiter!: Waiter;
    const promise = new Promise<number>((resolve) => {
      waiter = { offset, count, resolve };
    });
    this.#waiters.push(waiter);
    this.requestAcks();
    return {
      promise,
      cancel: () => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        waiter.resolve(this.ackedCount(offset));
      },
    };
  }

  #settleWaiters(all: boolean): void {
    this.#waiters = this.#waiters.filter((w) => {
      const acked = this.ackedCount(w.offset);
      if (!all && acked < w.count) return true;
      w.resolve(acked);
      return false;
    });
  }

  /** Asks every follower for its offset (`REPLCONF GETACK *` down the stream). */
  requestAcks(): void {
    if (this.#backlog === null || this.#replicas.size === 0) return;
    queueMicrotask(() => {
      this.#ctx.propagator.flush();
      const out = new ByteBuffer(64);
      encodeCommandInto(out, ["REPLCONF", "GETACK", "*"]);
      this.feedStream(out.view());
    });
  }

  /** Followers that acked within `maxLagSeconds` (for `min-replicas-to-write`). */
  goodReplicas(maxLagSeconds: number, at: number = now()): number {
    let n = 0;
    for (const r of this.#replicas.values()) {
      if (r.state === "online" && at - r.ackAt <= maxLagSeconds * 1000) n++;
    }
    return n;
  }

  /** Forgets a follower whose connection closed. */
  detach(client: ClientState): void {
    this.#announced.delete(client.id);
    const link = this.#replicas.get(client.id);
    if (link === undefined) return;
    this.#replicas.delete(client.id);
    log.info("Follower {addr} lost", { addr: link.ip + ":" + link.port });
  }

  #drop(link: ReplicaLink, why: string): void {
    log.warn("Dropping follower {addr}: {why}", { addr: link.ip + ":" + link.port, why });
    this.#replicas.delete(link.client.id);
    link.client.killed = true;
    link.handle.kill();
  }

  /** Disconnects every follower (their data no longer follows this node's history). */
  dropReplicas(why: string): void {
    for (const link of [...this.#replicas.values()]) this.#drop(link, why);
  }

  /**
   * Periodic work (once a second): PING down the stream every `repl-ping-replica-period`
   * seconds so followers see the link alive, and drop followers silent for `repl-timeout`.
   */
  cron(at: number, pingDue: boolean): void {
    if (this.#replicas.size === 0) return;
    if (pingDue && this.#ownWrites) {
      this.#ctx.propagator.flush();
      const out = new ByteBuffer(32);
      encodeCommandInto(out, ["PING"]);
      this.feedStream(out.view());
    }
    const timeoutMs = this.#ctx.config.values["repl-timeout"] * 1000;
    for (const link of [...this.#replicas.values()]) {
      if (link.state === "online" && at - link.ackAt > timeoutMs) {
        this.#drop(link, "replication timeout");
      }
    }
  }

  /** Ends every WAIT with what has been acknowledged so far (shutdown). */
  close(): void {
    this.#settleWaiters(true);
  }
}
