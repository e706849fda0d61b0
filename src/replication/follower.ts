/**
 * The follower side of replication: the link to a leader, in Redis's own protocol, so that the
 * leader may be gocache or redis-server. Handshake (PING, AUTH, REPLCONF listening-port,
 * REPLCONF capa eof capa psync2, PSYNC), then either a full copy (an RDB image, sized or ended
 * by a mark, loaded in place of the dataset) or a resume from the leader's backlog, then the
 * command stream, applied through dispatch by a client flagged as the leader's. The offset of
 * what has been applied is acknowledged every second and on `REPLCONF GETACK`; the link is
 * retried with backoff when it drops, resuming where it stopped.
 */
import { connectToLeader, setNoDelay } from "../server/tls.ts";
import type { ServerContext } from "../commands/context.ts";
import { dispatch } from "../commands/dispatch.ts";
import { keepQueuedArguments } from "../commands/transactions.ts";
import { loadRdbFrom } from "../persistence/rdb_file.ts";
import { encodeCommandInto } from "../resp/encoder.ts";
import { RequestParser } from "../resp/request_parser.ts";
import { ClientState } from "../server/client.ts";
import { ByteBuffer } from "../util/bytes.ts";
import { now, withBatchTime } from "../util/clock.ts";
import { logger } from "../util/logger.ts";
import type { ReplicationLeader } from "./leader.ts";
import { LinkReader } from "./link_reader.ts";

const log = logger("replication");
const textEncoder = new TextEncoder();
const ACK_INTERVAL_MS = 1000;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2000;

/** ROLE's words for the link's progress. */
export type LinkState = "connect" | "connecting" | "handshake" | "sync" | "connected";

/** Where a full copy stands (INFO's `master_sync_*`). */
export interface SyncProgress {
  /** Payload size, or -1 when it ends with a mark. */
  total: number;
  /** Bytes received so far. */
  read: number;
}

/** Raised for a handshake reply that ends this attempt. */
class HandshakeError extends Error {}

/** The link to one leader; see the module comment. */
export class FollowerLink {
  /** Leader's host. */
  readonly host: string;
  /** Leader's port. */
  readonly port: number;
  /** Progress of the link. */
  state: LinkState = "connect";
  /** When the link went down (ms), for `master_link_down_since_seconds`. */
  downSince = now();
  /** Whether {@link downSince} counts: false until the link has been up and dropped. */
  #wentDown = false;
  /** The copy being received, or null. */
  sync: SyncProgress | null = null;
  /** Offset of the last byte of the leader's stream applied here. */
  get offset(): number {
    return this.#leader.offset;
  }
  readonly #ctx: ServerContext;
  readonly #leader: ReplicationLeader;
  /** The client the leader's commands run as (flag M in CLIENT LIST). */
  readonly #client: ClientState;
  #conn: Deno.Conn | null = null;
  #reader: LinkReader | null = null;
  #stopped = false;
  /** Whether this node holds a dataset that followed some leader's history (it may resume). */
  #resumable: boolean;
  #running: Promise<void>;
  #writing: Promise<unknown> = Promise.resolve();
  /** Hands the writes just applied to the AOF (the server's `commitWrites`). */
  readonly #commit: () => Promise<boolean> | null;

  /**
   * Starts following `host:port`. `resumable` says whether the current dataset is at the
   * leader's id and offset the {@link ReplicationLeader} holds (after a promotion or a restart
   * from a dump that recorded them), so PSYNC may ask to continue.
   */
  constructor(
    ctx: ServerContext,
    leader: ReplicationLeader,
    host: string,
    port: number,
    resumable: boolean,
    commit: () => Promise<boolean> | null,
    streamDb: number,
  ) {
    this.#ctx = ctx;
    this.#commit = commit;
    this.#leader = leader;
    this.host = host;
    this.port = port;
    this.#resumable = resumable;
    this.#client = new ClientState(0, `${host}:${port}`, "", true);
    this.#client.link = "leader";
    this.#client.db = streamDb;
    leader.streamDb = () => this.#client.db;
    this.#running = this.#run();
  }

  /** Seconds since bytes last came from the leader, or -1 when the link is down. */
  get lastIoSecondsAgo(): number {
    if (this.#reader === null || this.state !== "connected") return -1;
    return Math.floor((performance.now() - this.#reader.lastIo) / 1000);
  }

  /**
   * Seconds since the link went down (INFO's `master_link_down_since_seconds`), or -1 while
   * it has not been up yet: Redis's `repl_down_since` of 0, "down since ever", which Sentinel
   * reads when it picks the follower to promote.
   */
  get downSeconds(): number {
    return this.#wentDown ? Math.floor((now() - this.downSince) / 1000) : -1;
  }

  /**
   * Starts the down count at `at`: the link dropped, or it replaced a link to another leader
   * that was up (Redis's REPLICAOF while connected frees its master client, which counts).
   */
  markDown(at: number = now()): void {
    this.downSince = at;
    this.#wentDown = true;
  }

  /** The CLIENT LIST line of the leader's client while connected. */
  get client(): ClientState {
    return this.#client;
  }

  /** Closes the link for good (REPLICAOF NO ONE, another leader, shutdown). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#closeConnection();
    await this.#running;
  }

  /** Drops the current connection; the link reconnects (CLIENT KILL TYPE master). */
  disconnect(): void {
    this.#closeConnection();
  }

  #closeConnection(): void {
    try {
      this.#conn?.close();
    } catch {
      // Already closed.
    }
    this.#conn = null;
  }

  async #run(): Promise<void> {
    let delay = RETRY_MIN_MS;
    while (!this.#stopped) {
      const wasUp = await this.#session().catch((e) => {
        if (!this.#stopped) {
          log.warn("Link with leader {host}:{port} failed: {error}", {
            host: this.host,
            port: this.port,
            error: e instanceof Error ? e.message : String(e),
          });
        }
        return false;
      });
      this.#closeConnection();
      if (this.state === "connected") this.markDown();
      this.state = "connect";
      this.sync = null;
      this.#reader = null;
      if (this.#stopped) break;
      if (wasUp) delay = RETRY_MIN_MS;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    }
  }

  #send(args: (string | number)[]): Promise<unknown> {
    const out = new ByteBuffer(128);
    encodeCommandInto(out, args);
    const bytes = out.view().slice();
    const conn = this.#conn;
    this.#writing = this.#writing.then(async () => {
      if (conn === null) return;
      for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
    }).catch(() => this.#closeConnection());
    return this.#writing;
  }

  async #ask(args: (string | number)[]): Promise<string> {
    await this.#send(args);
    const reader = this.#reader as LinkReader;
    for (;;) {
      const line = await reader.line();
      if (line !== "") return line;
    }
  }

  /** One connection's life; true if it reached the streaming state. */
  async #session(): Promise<boolean> {
    this.state = "connecting";
    log.info("Connecting to leader {host}:{port}", { host: this.host, port: this.port });
    const conn = await connectToLeader(this.#ctx.config.values, this.host, this.port);
    if (this.#stopped) {
      conn.close();
      return false;
    }
    setNoDelay(conn);
    this.#conn = conn;
    this.#reader = new LinkReader(conn);
    this.state = "handshake";
    const pong = await this.#ask(["PING"]);
    if (pong.startsWith("-") && !pong.startsWith("-NOAUTH")) throw new HandshakeError(pong);
    const values = this.#ctx.config.values;
    if (values.masterauth !== "") {
      const auth = values.masteruser !== ""
        ? ["AUTH", values.masteruser, values.masterauth]
        : ["AUTH", values.masterauth];
      const reply = await this.#ask(auth);
      if (reply.startsWith("-")) throw new HandshakeError(`AUTH failed: ${reply}`);
    }
    // Leaders that do not know these options still serve the follower, as Redis's do.
    await this.#ask(["REPLCONF", "listening-port", this.#ctx.identity.port]);
    await this.#ask(["REPLCONF", "capa", "eof", "capa", "psync2"]);
    const leader = this.#leader;
    const psync = this.#resumable ? [leader.replid, leader.offset + 1] : ["?", -1];
    const reply = await this.#ask(["PSYNC", ...psync]);
    if (reply.startsWith("+FULLRESYNC")) {
      const [, replid, offset] = reply.split(" ");
      await this.#receiveCopy(replid, Number(offset));
    } else if (reply.startsWith("+CONTINUE")) {
      const newId = reply.split(" ")[1];
      if (newId !== undefined && newId !== "") leader.adoptId(newId);
      log.info("Resumed from the leader's backlog at offset {offset}", { offset: leader.offset });
    } else {
      throw new HandshakeError(`PSYNC refused: ${reply}`);
    }
    this.#resumable = true;
    this.state = "connected";
    log.info("Link with leader {host}:{port} is up", { host: this.host, port: this.port });
    await this.#stream();
    return true;
  }

  async #receiveCopy(replid: string, offset: number): Promise<void> {
    const reader = this.#reader as LinkReader;
    this.state = "sync";
    let header = "";
    while (header === "") header = await reader.line();
    if (!header.startsWith("$")) throw new HandshakeError(`unexpected copy header: ${header}`);
    let image: Uint8Array;
    if (header.startsWith("$EOF:")) {
      const mark = textEncoder.encode(header.slice(5));
      if (mark.length !== 40) throw new HandshakeError("bad end mark in the copy header");
      this.sync = { total: -1, read: 0 };
      const progress = this.sync;
      image = await reader.untilMark(mark, (read) => (progress.read = read));
    } else {
      const total = Number(header.slice(1));
      if (!Number.isSafeInteger(total) || total < 0) {
        throw new HandshakeError(`bad copy length: ${header}`);
      }
      this.sync = { total, read: 0 };
      const progress = this.sync;
      image = await reader.exact(total, (read) => (progress.read = read));
    }
    const keyspace = this.#ctx.keyspace;
    const started = performance.now();
    keyspace.flushAll();
    // The leader's copy brings its function libraries: they replace this node's (Redis 7.0).
    const functions = this.#ctx.scripting?.functions ?? null;
    functions?.flush();
    const counts = await loadRdbFrom(keyspace, image, image.length, now(), true, (code) => {
      if (functions === null) throw new Error("the copy holds function libraries: no Lua VM");
      functions.loadFromDump(code);
    });
    const streamDb = Number(counts.aux.get("repl-stream-db") ?? 0);
    this.#client.db = Number.isInteger(streamDb) && streamDb >= 0 && streamDb < keyspace.count
      ? streamDb
      : 0;
    this.#client.multi = null;
    this.#leader.resetHistory(replid, offset);
    this.sync = null;
    log.info(
      "Copy from the leader loaded: {keys} keys, {bytes} bytes in {ms} ms (offset {offset})",
      {
        keys: counts.keys,
        bytes: image.length,
        ms: Math.round(performance.now() - started),
        offset,
      },
    );
    // The AOF now lags the dataset it must describe: write it afresh.
    if (this.#ctx.persistence.aof !== null) this.#ctx.persistence.startRewrite();
  }

  /** Applies the command stream until the connection ends. */
  async #stream(): Promise<void> {
    const reader = this.#reader as LinkReader;
    const ctx = this.#ctx;
    const maxBulk = ctx.config.values["proto-max-bulk-len"];
    let parser = new RequestParser(maxBulk);
    const ack = setInterval(
      () => void this.#send(["REPLCONF", "ACK", this.offset]),
      ACK_INTERVAL_MS,
    );
    const timeout = setInterval(() => {
      const silentMs = performance.now() - reader.lastIo;
      if (silentMs > ctx.config.values["repl-timeout"] * 1000) {
        log.warn("Leader silent for {seconds} s: dropping the link", {
          seconds: Math.round(silentMs / 1000),
        });
        this.#closeConnection();
      }
    }, ACK_INTERVAL_MS);
    try {
      for (;;) {
        if (reader.start < reader.end) {
          const applied = withBatchTime(() => this.#applyBuffered(parser));
          if (applied < 0) parser = new RequestParser(maxBulk);
        }
        void this.#commit();
        if (this.#stopped || !await reader.fill()) return;
      }
    } finally {
      clearInterval(ack);
      clearInterval(timeout);
    }
  }

  /**
   * Runs every complete command buffered, feeding exactly their bytes to this node's own
   * stream; returns -1 when a command was left incomplete (the parser must start over on it
   * once more bytes are in).
   */
  #applyBuffered(parser: RequestParser): number {
    const reader = this.#reader as LinkReader;
    const buf = reader.bytes;
    const ctx = this.#ctx;
    let pos = reader.start;
    let fed = pos;
    let result = 0;
    ctx.keyspace.asLeaderSaw(() => {
      while (pos < reader.end) {
        const next = parser.parse(buf, pos, reader.end);
        const argv = parser.command;
        if (argv === null) {
          result = -1;
          break;
        }
        if (argv.length > 0 && isGetAck(argv)) {
          // The ack counts the GETACK itself, as Redis's replicas do.
          this.#leader.feedStream(buf.subarray(fed, next));
          fed = next;
          void this.#send(["REPLCONF", "ACK", this.offset]);
        } else if (argv.length > 0) dispatch(ctx, this.#client, argv);
        pos = next;
      }
    });
    // The link's next read reuses the buffer that a transaction's queued arguments may view.
    keepQueuedArguments(this.#client);
    // This node's own stream (its followers, its backlog) gets exactly the bytes applied.
    if (pos > fed) this.#leader.feedStream(buf.subarray(fed, pos));
    reader.start = pos;
    return result;
  }
}

const GETACK = textEncoder.encode("getack");
const REPLCONF = textEncoder.encode("replconf");

function sameWord(arg: Uint8Array, lower: Uint8Array): boolean {
  if (arg.length !== lower.length) return false;
  for (let i = 0; i < arg.length; i++) if ((arg[i] | 0x20) !== lower[i]) return false;
  return true;
}

function isGetAck(argv: Uint8Array[]): boolean {
  return argv.length >= 2 && sameWord(argv[0], REPLCONF) && sameWord(argv[1], GETACK);
}
