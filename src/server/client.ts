/**
 * The state of one connected client that commands may read and change (name, protocol,
 * authentication, flags); the socket itself stays in the connection, out of handlers' reach.
 */
import type { Protocol } from "../resp/encoder.ts";
import { now } from "../util/clock.ts";
import type { Command } from "../commands/registry.ts";
import { SUPERUSER, type User } from "../acl/user.ts";

/**
 * What MULTI has queued so far. One record per client, reused by each of its transactions.
 */
export interface QueuedTransaction {
  /**
   * How many commands are queued: the first `length` slots of {@link commands} and
   * {@link args}. The arrays keep their slots between transactions, so queueing does not grow
   * them again each time.
   */
  length: number;
  /** The queued commands, in order. */
  readonly commands: Command[];
  /**
   * The arguments of each queued command. Queueing keeps the request's own views into the read
   * buffer: an EXEC in the same batch (a pipelined transaction) runs them without a copy. Before
   * that buffer changes, the connection copies the views still in it ({@link detached}, see
   * transactions.ts keepQueuedArguments).
   */
  readonly args: Uint8Array[][];
  /** How many of {@link args} (from the first) own their bytes. */
  detached: number;
  /** Whether a command was refused while queueing (EXEC then answers EXECABORT). */
  failed: boolean;
  /**
   * Whether a queued command's cost is not bounded by its request ({@link Command.boundedCost}):
   * otherwise EXEC's is, and the observer times it with its chunk.
   */
  unbounded: boolean;
}

/** CLIENT REPLY OFF: no reply is sent to this client. */
export const REPLY_OFF = 1;
/** CLIENT REPLY SKIP, in force: the reply of the current command is not sent. */
export const REPLY_SKIP = 2;
/** CLIENT REPLY SKIP, just run: the next command's reply is to be skipped. */
export const REPLY_SKIP_NEXT = 4;

/**
 * The CLIENT REPLY flags after a command ran (Redis's `resetClient`): a skip in force ends, and
 * a skip asked for by this command applies to the next one.
 */
export function afterReply(flags: number): number {
  flags &= ~REPLY_SKIP;
  return flags & REPLY_SKIP_NEXT ? (flags & ~REPLY_SKIP_NEXT) | REPLY_SKIP : flags;
}

/** Per-client state; one instance per connection, owned by the client table. */
export class ClientState {
  /** Unique, increasing client id (CLIENT ID). */
  readonly id: number;
  /** Peer address `ip:port`. */
  readonly addr: string;
  /** Local address `ip:port`. */
  readonly laddr: string;
  /** When the connection was accepted (ms since epoch). */
  readonly createdAt: number;
  /** Last time a command arrived (ms since epoch), for `idle` and `timeout`. */
  lastInteraction: number;
  /**
   * Since when (ms since epoch) the client has been sending a command it has not finished, 0
   * when it has none half-sent: `client-query-timeout` closes it once that lasts too long.
   */
  partialSince = 0;
  /** Name set with CLIENT SETNAME / HELLO SETNAME; "" when none. */
  name = "";
  /** Library name and version from CLIENT SETINFO. */
  libName = "";
  /** Library version from CLIENT SETINFO. */
  libVersion = "";
  /** Protocol spoken (HELLO switches it). */
  proto: Protocol = 2;
  /** Selected database. */
  db = 0;
  /** Whether the client may run commands (it authenticated, or its user needs no password). */
  authenticated: boolean;
  /**
   * The ACL user the client runs as: the default user for a new connection, the one AUTH or
   * HELLO authenticated; internal clients keep {@link SUPERUSER}, allowed everything.
   */
  user: User = SUPERUSER;
  /** CLIENT NO-EVICT. */
  noEvict = false;
  /** CLIENT NO-TOUCH. */
  noTouch = false;
  /** Whether the client receives the MONITOR feed. */
  monitor = false;
  /**
   * MONITOR lines about this client's own command, held until its reply is written (Redis
   * feeds monitors after the reply is buffered); the connection sends them after the reply.
   */
  ownMonitorLines: Uint8Array[] | null = null;
  /** Full name of the last command run (`client|list`), for CLIENT LIST. */
  lastCommand = "NULL";
  /**
   * CLIENT REPLY state, Redis's flags: {@link REPLY_OFF} silences every reply, {@link REPLY_SKIP}
   * the current command's, and {@link REPLY_SKIP_NEXT} turns into REPLY_SKIP for the next
   * command (see {@link afterReply}). 0 for normal replies.
   */
  replyFlags = 0;
  /** Set when the connection must close once pending replies are written (QUIT, kill self). */
  closeAfterReply = false;
  /** Set when the connection must close now, replies or not (CLIENT KILL, timeouts). */
  killed = false;
  /** Bytes waiting in the input buffer (CLIENT LIST `qbuf`); updated by the connection. */
  queryBufferBytes = 0;
  /** Bytes of replies not yet written (CLIENT LIST `omem`); updated by the connection. */
  outputBufferBytes = 0;
  /** Since when replies waiting for this client exceed the soft output limit (0 = not over). */
  outputSoftLimitSince = 0;
  /** Commands run by this client. */
  commandsProcessed = 0;
  /**
   * The replication offset just after this client's last propagated write (Redis's `woff`):
   * what its WAIT waits for, so that other clients' writes do not make it wait longer.
   */
  replOffset = 0;
  /** The transaction being queued after MULTI, or null outside one. */
  multi: QueuedTransaction | null = null;
  /** The record reused by this client's transactions (see {@link QueuedTransaction}). */
  transaction: QueuedTransaction | null = null;
  /** Keys this client WATCHes, per database index (binary-string keys). */
  watching: Map<number, Set<string>> | null = null;
  /** Set when a watched key was touched: EXEC then fails (Redis's CLIENT_DIRTY_CAS). */
  watchTouched = false;
  /**
   * What replication made of this connection: `replica` once a follower of ours sent PSYNC on
   * it, `leader` for a follower's link to its leader; `none` for every other client.
   */
  link: "none" | "replica" | "leader" = "none";
  /**
   * Whether the client replays the append-only file: like a leader's link, its commands are
   * obeyed without cluster slot checks (Redis's mustObeyClient).
   */
  replaying = false;
  /**
   * Whether this is the client a script's commands run as (Redis's Lua client): its commands
   * never block (BLPOP answers at once, as inside EXEC).
   */
  inScript = false;

  /**
   * Whether this client's commands are obeyed as they come, never refused as misrouted: the
   * link from a leader, or the AOF being replayed (Redis's mustObeyClient).
   */
  get obeyed(): boolean {
    return this.link === "leader" || this.replaying;
  }
  /** Cluster mode: READONLY was sent, so a replica serves this client's reads of its shard. */
  clusterReadonly = false;
  /** Cluster mode: ASKING was sent, so the next command may use a slot being imported. */
  asking = false;
  /**
   * Cluster mode: the slots an atomic slot migration's source streams into this node on this
   * connection (1 per slot), which its commands may use although this node does not serve them
   * yet (cluster/slot_import.ts); null on every other connection.
   */
  importSlots: Uint8Array | null = null;
  /**
   * Whether the client connected to the TLS port. With `tls-cluster`, cluster replies and
   * redirections give a client on the plain port the nodes' plain ports (Redis 7.0).
   */
  tls = false;

  /** Creates the state for a newly accepted connection. */
  constructor(id: number, addr: string, laddr: string, authenticated: boolean) {
    this.id = id;
    this.addr = addr;
    this.laddr = laddr;
    this.createdAt = now();
    this.lastInteraction = this.createdAt;
    this.authenticated = authenticated;
  }

  /** One CLIENT LIST / CLIENT INFO line with Redis's field names, without a line break. */
  describe(at: number = now()): string {
    // Redis's getClientFlagsString order: O (monitor), S (replica), M (master), P (subscriber),
    // x (MULTI), d (watched key touched), e (no-evict), T (no-touch); N when none.
    const subscriber = this.subscribedChannels + this.subscribedPatterns +
        this.subscribedShardChannels > 0;
    const link = this.link === "replica" ? "S" : this.link === "leader" ? "M" : "";
    const flags = (this.monitor ? "O" : "") + link + (subscriber ? "P" : "") +
        (this.multi !== null ? "x" : "") +
        (this.watchTouched ? "d" : "") + (this.noEvict ? "e" : "") + (this.noTouch ? "T" : "") ||
      "N";
    const multi = this.multi === null ? -1 : this.multi.length;
    return `id=${this.id} addr=${this.addr} laddr=${this.laddr} fd=-1 name=${this.name}` +
      ` age=${Math.floor((at - this.createdAt) / 1000)}` +
      ` idle=${Math.floor((at - this.lastInteraction) / 1000)} flags=${flags} db=${this.db}` +
      ` sub=${this.subscribedChannels} psub=${this.subscribedPatterns}` +
      ` ssub=${this.subscribedShardChannels} multi=${multi}` +
      ` qbuf=${this.queryBufferBytes} qbuf-free=0 argv-mem=0` +
      ` multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=${this.outputBufferBytes}` +
      ` tot-mem=${this.queryBufferBytes + this.outputBufferBytes} events=r` +
      ` cmd=${this.lastCommand} user=${this.user.name} redir=-1 resp=${this.proto}` +
      ` lib-name=${this.libName} lib-ver=${this.libVersion}`;
  }

  // Pub/Sub subscription counts. Written only by src/pubsub/hub.ts; read by dispatch (subscriber
  // mode, see src/pubsub/subscriber_mode.ts) and the connection (output buffer limit class).
  /** Channels subscribed with SUBSCRIBE (CLIENT LIST `sub`). */
  subscribedChannels = 0;
  /** Patterns subscribed with PSUBSCRIBE (CLIENT LIST `psub`). */
  subscribedPatterns = 0;
  /** Shard channels subscribed with SSUBSCRIBE (CLIENT LIST `ssub`). */
  subscribedShardChannels = 0;
}
