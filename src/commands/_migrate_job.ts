/**
 * One MIGRATE's transfer, as Redis 7.0's `migrateCommand` runs it, made asynchronous: look the
 * keys up and serialize them (DUMP's payload), send on the target's cached connection an AUTH
 * when asked, a SELECT when the connection's database differs, and one RESTORE per key
 * (RESTORE-ASKING in cluster mode) with the remaining TTL in ms, all in one write; read every
 * reply line; delete the keys the target acknowledged (unless COPY) and propagate that as one
 * DEL; reply +OK, +NOKEY, the target's first error, or an IOERR. A failure other than a timeout
 * before the first RESTORE reply is retried once on a fresh connection, as in Redis.
 *
 * Redis blocks its whole event loop meanwhile; gocache blocks only the calling client's, and
 * other clients' writes: a MIGRATE that moves keys (no COPY) pauses client writes (purpose
 * `migrate`, server/write_pause.ts) from its lookup until the acknowledged keys are deleted, so
 * a write to a key in flight runs after the move and finds the key gone (in cluster mode: -ASK to
 * the target). Without it, a key written meanwhile stayed here and its older copy on the target:
 * one key in two places, and redis-cli's next MIGRATE of it failed with BUSYKEY (found by
 * bench:reshard under its writing client). Reads go on. MIGRATEs of one server still run one at
 * a time (the caller queues them), so no two interleave on a connection or move one key twice.
 * The keys are also watched (as WATCH does) from their lookup on: one changed meanwhile anyway
 * (expired, flushed, or written while another purpose's pause ended first) is not deleted.
 *
 * @module
 */
import { clusterPeerTls } from "../server/tls.ts";
import { ErrorReply, OK, type Reply, SimpleString } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import type { Database, KeyWatcher } from "../store/database.ts";
import { dumpValue } from "../persistence/rdb/dump.ts";
import { appendCommand, type CommandArg } from "../resp/command_writer.ts";
import { ByteBuffer, toBinaryString } from "../util/bytes.ts";
import { now, withBatchTime } from "../util/clock.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import { MigrateIoError, type MigrateLink, type MigrateLinks } from "./_migrate_link.ts";

/** What MIGRATE was asked to do, its arguments parsed. */
export interface MigrateRequest {
  /** Target host, as given. */
  host: string;
  /** Target port, as Redis's `atoi` reads the argument. */
  port: number;
  /** The connection cache's name for the target: `host:port` as given. */
  name: string;
  /** Target database. */
  db: bigint;
  /** Timeout of each I/O step, in ms. */
  timeoutMs: number;
  /** COPY: keep the local keys. */
  copy: boolean;
  /** REPLACE: overwrite existing keys on the target. */
  replace: boolean;
  /** AUTH2's user name, or null. */
  username: Uint8Array | null;
  /** AUTH/AUTH2's password, or null for no AUTH. */
  password: Uint8Array | null;
  /** The keys to move, in order (copies of the request's bytes). */
  keys: Uint8Array[];
  /** Send RESTORE-ASKING (cluster mode) instead of RESTORE. */
  asking: boolean;
}

const NOKEY = new SimpleString("NOKEY");
const CONNECT_ERROR = new ErrorReply("IOERR error or timeout connecting to the client");
const WRITE_ERROR = new ErrorReply("IOERR error or timeout writing to target instance");
const READ_ERROR = new ErrorReply("IOERR error or timeout reading to target instance");

/** A key found here: its name, serialized value and absolute expiry (0 for none). */
interface Found {
  key: Uint8Array;
  payload: Uint8Array;
  expireAt: number;
}

/** The keys found, and a watcher on each from its lookup on. */
interface Lookup {
  db: Database;
  found: Found[];
  watchers: Map<string, KeyWatcher>;
}

/** An attempt that failed before any key was acknowledged: retried unless it timed out. */
class AttemptFailed {
  /** The failure, and whether it was the write (Redis's reply names writing or reading). */
  constructor(readonly error: MigrateIoError, readonly writing: boolean) {}
}

/** What the target answered to one attempt's RESTOREs. */
interface Answered {
  /** Keys it restored, to delete here (none under COPY). */
  acked: Uint8Array[];
  /** Its first error (AUTH's, SELECT's or a RESTORE's), without the `-`, or null. */
  targetError: string | null;
  /** The read that failed after some replies, or null. */
  socketError: MigrateIoError | null;
}

/** Looks the keys up and serializes the live ones, at one point in time; watches each. */
function lookUp(ctx: ServerContext, client: ClientState, request: MigrateRequest, index: number) {
  return withBatchTime((): Lookup => {
    const db = ctx.keyspace.db(index);
    const t = now();
    const compression = ctx.config.values.rdbcompression;
    const found: Found[] = [];
    const watchers = new Map<string, KeyWatcher>();
    for (const key of request.keys) {
      const name = toBinaryString(key);
      const value = db.read(name, t, client.noTouch);
      if (value === undefined) continue;
      const payload = dumpValue(value, compression);
      found.push({ key, payload, expireAt: db.expireAt(name) ?? 0 });
      if (watchers.has(name)) continue;
      const watcher = { watchTouched: false };
      db.watch(name, watcher, t);
      watchers.set(name, watcher);
    }
    return { db, found, watchers };
  });
}

/** The bytes of one attempt, whether they SELECT, and the keys still live they carry. */
function encodeRequest(request: MigrateRequest, link: MigrateLink, found: readonly Found[]) {
  const out = new ByteBuffer(4096);
  const { password, username } = request;
  if (password !== null) {
    appendCommand(out, username !== null ? ["AUTH", username, password] : ["AUTH", password]);
  }
  const select = link.lastDb !== request.db;
  if (select) appendCommand(out, ["SELECT", String(request.db)]);
  const sent: Uint8Array[] = [];
  const t = now();
  for (const { key, payload, expireAt } of found) {
    let ttl = 0;
    if (expireAt !== 0) {
      ttl = expireAt - t;
      // Expired since the lookup: left out, as Redis leaves it out.
      if (ttl < 0) continue;
      if (ttl < 1) ttl = 1;
    }
    sent.push(key);
    const restore: CommandArg[] = [
      request.asking ? "RESTORE-ASKING" : "RESTORE",
      key,
      ttl,
      payload,
    ];
    if (request.replace) restore.push("REPLACE");
    appendCommand(out, restore);
  }
  return { bytes: out.bytes.subarray(0, out.length), select, sent };
}

/** Sends one attempt's commands on `link` and reads every reply. */
async function exchange(
  link: MigrateLink,
  request: MigrateRequest,
  found: readonly Found[],
): Promise<Answered | AttemptFailed> {
  const { bytes, select, sent } = encodeRequest(request, link, found);
  const timeout = request.timeoutMs;
  try {
    await link.write(bytes, timeout);
  } catch (e) {
    if (e instanceof MigrateIoError) return new AttemptFailed(e, true);
    throw e;
  }
  let authReply = "";
  let selectReply = "";
  try {
    if (request.password !== null) authReply = await link.readLine(timeout);
    if (select) selectReply = await link.readLine(timeout);
  } catch (e) {
    if (e instanceof MigrateIoError) return new AttemptFailed(e, false);
    throw e;
  }
  const answered: Answered = { acked: [], targetError: null, socketError: null };
  let j = 0;
  for (; j < sent.length; j++) {
    let line: string;
    try {
      line = await link.readLine(timeout);
    } catch (e) {
      if (!(e instanceof MigrateIoError)) throw e;
      answered.socketError = e;
      break;
    }
    const failed = authReply[0] === "-" ? authReply : selectReply[0] === "-" ? selectReply : line;
    if (failed[0] === "-") {
      if (answered.targetError === null) {
        link.lastDb = -1n;
        answered.targetError = failed.slice(1);
      }
    } else if (!request.copy) answered.acked.push(sent[j]);
  }
  // Nothing answered at all: as good as a failed attempt (retried on a fresh connection).
  const socketError = answered.socketError;
  if (socketError !== null && j === 0 && answered.targetError === null) {
    return new AttemptFailed(socketError, false);
  }
  return answered;
}

/**
 * Deletes the keys the target restored, unless they changed here meanwhile, and propagates the
 * deletion as one DEL (Redis rewrites MIGRATE as DEL of those keys). During a write pause this
 * waits for its end; a node that became a follower meanwhile keeps its keys (its leader decides).
 */
async function deleteAcked(
  ctx: ServerContext,
  client: ClientState,
  index: number,
  acked: readonly Uint8Array[],
  watchers: ReadonlyMap<string, KeyWatcher>,
): Promise<void> {
  // This MIGRATE's own pause ends here; the writes it held rerun after the deletion below (they
  // are woken as microtasks), unless another purpose's pause makes this wait too.
  ctx.writePause.end("migrate");
  if (acked.length === 0) return;
  if (ctx.writePause.active) await ctx.writePause.whenEnded();
  // The write runs after an await: the role and the write lease are asked again, as dispatch
  // would; a node that may no longer write (a follower now, or fenced) keeps its keys.
  if (ctx.replication.follower !== null) return;
  const migrate = ctx.commands.get("migrate");
  if (migrate !== undefined && ctx.replication.refusal(client, migrate, true) !== null) return;
  const db = ctx.keyspace.db(index);
  const deleted: Uint8Array[] = [];
  for (const key of acked) {
    const name = toBinaryString(key);
    if (watchers.get(name)?.watchTouched) continue;
    if (db.delete(name)) deleted.push(key);
  }
  if (deleted.length === 0) return;
  const propagator = ctx.propagator;
  if (!propagator.active) return;
  propagator.command(index, ["DEL", ...deleted]);
  // The client's WAIT waits for this DEL, as for a write it ran.
  client.replOffset = ctx.replication.leader.pendingOffset;
}

/** Connects (or reuses the cached link), sends and reads; retries once as Redis does. */
async function transfer(
  ctx: ServerContext,
  client: ClientState,
  links: MigrateLinks,
  request: MigrateRequest,
  index: number,
  lookup: Lookup,
): Promise<Reply> {
  for (let mayRetry = true;; mayRetry = false) {
    let link: MigrateLink;
    try {
      link = await links.open(
        request.name,
        request.host,
        request.port,
        request.timeoutMs,
        clusterPeerTls(ctx.config.values),
      );
    } catch (e) {
      if (!(e instanceof MigrateIoError)) throw e;
      if (e.stage === "connect") return CONNECT_ERROR;
      // Refused or unreachable: Redis sees it when it first writes, and retries.
      if (!e.timedOut && mayRetry) continue;
      return WRITE_ERROR;
    }
    let outcome: Answered | AttemptFailed;
    try {
      outcome = await exchange(link, request, lookup.found);
    } catch (e) {
      link.close();
      throw e;
    }
    if (outcome instanceof AttemptFailed) {
      link.close();
      if (!outcome.error.timedOut && mayRetry) continue;
      return outcome.writing ? WRITE_ERROR : READ_ERROR;
    }
    if (outcome.socketError !== null) link.close();
    await deleteAcked(ctx, client, index, outcome.acked, lookup.watchers);
    link.release();
    if (outcome.targetError !== null) {
      return new ErrorReply(`ERR Target instance replied with error: ${outcome.targetError}`);
    }
    if (outcome.socketError !== null) return READ_ERROR;
    link.lastDb = request.db;
    return OK;
  }
}

/**
 * Runs one MIGRATE for `client` from its database `index` and resolves with its reply; see the
 * module comment. The caller runs one at a time per server (migrate.ts queues them).
 */
export async function runMigrate(
  ctx: ServerContext,
  client: ClientState,
  links: MigrateLinks,
  request: MigrateRequest,
  index: number,
): Promise<Reply> {
  let lookup: Lookup;
  try {
    lookup = lookUp(ctx, client, request, index);
  } catch (e) {
    if (e instanceof CommandError) return e.reply;
    throw e;
  }
  if (lookup.found.length === 0) return NOKEY;
  if (!request.copy) {
    // At most two attempts of connect, write and read, and the deletion.
    ctx.writePause.pause("migrate", Date.now() + 6 * request.timeoutMs + 1000);
  }
  try {
    return await transfer(ctx, client, links, request, index, lookup);
  } finally {
    ctx.writePause.end("migrate");
    for (const [name, watcher] of lookup.watchers) lookup.db.unwatch(name, watcher);
  }
}
