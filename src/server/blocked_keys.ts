/**
 * Clients blocked on keys (Redis's blocked.c for BLPOP, BLMOVE, BLMPOP, BZPOPMIN, BZMPOP...):
 * a command that finds nothing to pop calls {@link blockOnKeys} and answers with the
 * {@link DeferredReply} it returns; the client then waits until one of its keys holds a value
 * of the type it waits for, its timeout passes, CLIENT UNBLOCK releases it, or it is killed.
 *
 * Waiters exist only while their keys are missing (Redis never keeps an empty collection), so
 * a key becomes "ready" when a list or sorted set is stored under it: the database reports each
 * collection it stores (`KeyspaceEvents.collectionStored`, set here), a key that has waiters is
 * queued once, and after each top-level command dispatch calls {@link serveReadyKeys}, as Redis
 * calls handleClientsBlockedOnKeys after call(). Clients blocked on a key are served first come
 * first served while it holds items; serving one may ready another key (BLMOVE's destination),
 * served in the next round. SWAPDB readies every waited key the swap brought.
 *
 * Each waiter's `serve` does the command's work (pop, notify, propagate the effect through
 * `ctx.propagator.command`) and returns the reply, which the blocked connection then sends.
 */
import type { ServerContext } from "../commands/context.ts";
import { CommandError } from "../commands/errors.ts";
import { inExec } from "../commands/transactions.ts";
import { DeferredReply, ErrorReply, NO_REPLY, type Reply } from "../resp/reply.ts";
import type { CollectionType } from "../store/collection.ts";
import type { Database } from "../store/database.ts";
import { toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import { type LongDouble, parseLongDouble } from "../util/long_double.ts";
import type { ClientState } from "./client.ts";

/** What a blocking command asks for when it must wait. */
export interface BlockRequest {
  /** The keys waited on (binary strings), in the command's order. */
  keys: readonly string[];
  /** The type of value that serves the waiter: "list" or "zset". */
  type: CollectionType;
  /** Milliseconds to wait at most; 0 waits forever (see {@link parseTimeout}). */
  timeoutMs: number;
  /** The reply when the timeout passes or CLIENT UNBLOCK ... TIMEOUT releases the client. */
  timeoutReply: Reply;
  /**
   * Serves the waiter from `key` of `db`, which holds a non-empty value of `type`: does the
   * command's work (keyspace events, propagation of the effect through
   * `ctx.propagator.command`) and returns the client's reply. A {@link CommandError} thrown
   * becomes the reply (BLMOVE to a destination of another type).
   */
  serve: (key: string, db: Database) => Reply;
}

/** One blocked client. */
interface Waiter {
  client: ClientState;
  db: number;
  ids: string[];
  request: BlockRequest;
  resolve: (reply: Reply) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** A key readied by a store, waiting to be served. */
interface ReadyKey {
  db: number;
  key: string;
  id: string;
}

/** Longest delay a timer takes (2^31 - 1 ms); longer timeouts re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How often killed waiters are looked for (Redis notices a closed client in its event loop). */
const KILLED_SWEEP_MS = 100;
const UNBLOCKED_ERROR = new ErrorReply("UNBLOCKED client unblocked via CLIENT UNBLOCK");

/** Ready keys queued in all servers of this process: the one test dispatch pays per command. */
let pendingReady = 0;

/** The waiters of one server; see the module comment. */
class BlockedKeys {
  readonly #ctx: ServerContext;
  /** Waiters by `db` and key, each set in blocking order (FIFO). */
  readonly #byKey = new Map<string, Set<Waiter>>();
  readonly #byClient = new Map<ClientState, Waiter>();
  #ready: ReadyKey[] = [];
  readonly #readyIds = new Set<string>();
  #sweep: ReturnType<typeof setInterval> | undefined;

  constructor(ctx: ServerContext) {
    this.#ctx = ctx;
    ctx.keyspace.events.collectionStored = (db, key) => this.signal(db, key);
  }

  get count(): number {
    return this.#byClient.size;
  }

  block(client: ClientState, request: BlockRequest): Promise<Reply> {
    return new Promise((resolve) => {
      const db = client.db;
      const ids = [...new Set(request.keys)].map((key) => keyId(db, key));
      const waiter: Waiter = { client, db, ids, request, resolve, timer: undefined };
      for (const id of ids) {
        let waiting = this.#byKey.get(id);
        if (waiting === undefined) this.#byKey.set(id, waiting = new Set());
        waiting.add(waiter);
      }
      this.#byClient.set(client, waiter);
      if (request.timeoutMs > 0) this.#arm(waiter, now() + request.timeoutMs);
      this.#sweep ??= setInterval(() => this.#releaseKilled(), KILLED_SWEEP_MS);
    });
  }

  /** A collection was stored under `key` of database `db`: queue the key if it has waiters. */
  signal(db: number, key: string): void {
    const id = keyId(db, key);
    if (!this.#byKey.has(id) || this.#readyIds.has(id)) return;
    this.#readyIds.add(id);
    this.#ready.push({ db, key, id });
    pendingReady++;
  }

  /** Queues every waited key that holds a value (SWAPDB, as Redis's scanDatabaseForReadyKeys). */
  signalAll(): void {
    for (const waiter of [...this.#byClient.values()]) {
      const db = this.#ctx.keyspace.db(waiter.db);
      for (const key of waiter.request.keys) {
        if (db.get(key, now()) !== undefined) this.signal(waiter.db, key);
      }
    }
  }

  serveReady(): void {
    while (this.#ready.length > 0) {
      const round = this.#ready;
      this.#ready = [];
      pendingReady -= round.length;
      for (const ready of round) {
        this.#readyIds.delete(ready.id);
        this.#serveKey(ready);
      }
    }
  }

  #serveKey({ db: index, key, id }: ReadyKey): void {
    const waiting = this.#byKey.get(id);
    if (waiting === undefined) return;
    const db = this.#ctx.keyspace.db(index);
    for (const waiter of [...waiting]) {
      const value = db.get(key, now());
      if (value === undefined || typeof value === "string") return;
      if (value.type !== waiter.request.type) continue;
      this.#forget(waiter);
      waiter.resolve(this.#serveOne(waiter, key, db));
    }
  }

  #serveOne(waiter: Waiter, key: string, db: Database): Reply {
    const ctx = this.#ctx;
    const streamBefore = ctx.propagator.pendingBytes;
    let reply: Reply;
    try {
      reply = waiter.request.serve(key, db);
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      reply = e.reply;
      ctx.stats.countError(e.reply);
    }
    // The client's WAIT waits for the effect propagated on its behalf, as Redis's `woff`.
    if (ctx.propagator.active && ctx.propagator.pendingBytes !== streamBefore) {
      waiter.client.replOffset = ctx.replication.leader.pendingOffset;
    }
    return reply;
  }

  /** Releases `client` if blocked, with its timeout reply or the UNBLOCKED error. */
  unblock(client: ClientState, error: boolean): boolean {
    const waiter = this.#byClient.get(client);
    if (waiter === undefined) return false;
    this.#forget(waiter);
    if (error) this.#ctx.stats.countError(UNBLOCKED_ERROR);
    waiter.resolve(error ? UNBLOCKED_ERROR : waiter.request.timeoutReply);
    return true;
  }

  /** Releases every waiter without a reply (shutdown). */
  releaseAll(): void {
    for (const waiter of [...this.#byClient.values()]) {
      this.#forget(waiter);
      waiter.resolve(NO_REPLY);
    }
  }

  #arm(waiter: Waiter, deadline: number): void {
    const delay = Math.max(0, deadline - now());
    waiter.timer = setTimeout(() => {
      if (delay > MAX_TIMER_MS) return this.#arm(waiter, deadline);
      this.#forget(waiter);
      waiter.resolve(waiter.request.timeoutReply);
    }, Math.min(delay, MAX_TIMER_MS));
  }

  #releaseKilled(): void {
    for (const waiter of [...this.#byClient.values()]) {
      if (!waiter.client.killed) continue;
      this.#forget(waiter);
      waiter.resolve(NO_REPLY);
    }
  }

  /** Removes a waiter from every index and stops its timer. */
  #forget(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    this.#byClient.delete(waiter.client);
    for (const id of waiter.ids) {
      const waiting = this.#byKey.get(id);
      waiting?.delete(waiter);
      if (waiting?.size === 0) this.#byKey.delete(id);
    }
    if (this.#byClient.size === 0 && this.#sweep !== undefined) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    }
  }
}

/** The key of the waiter index for `key` of database `db` (a database number has no space). */
function keyId(db: number, key: string): string {
  return `${db} ${key}`;
}

const registries = new WeakMap<ServerContext, BlockedKeys>();

function registry(ctx: ServerContext): BlockedKeys {
  let blocked = registries.get(ctx);
  if (blocked === undefined) registries.set(ctx, blocked = new BlockedKeys(ctx));
  return blocked;
}

/**
 * Whether `client` may block now: not inside EXEC (Redis's CLIENT_DENY_BLOCKING), and not the
 * link from a leader or the AOF being replayed, whose commands must never wait.
 */
export function mayBlock(client: ClientState): boolean {
  return !inExec() && !client.obeyed && !client.inScript;
}

/**
 * Blocks `client` on `request.keys` (see the module comment) and returns the reply for the
 * handler to answer; `immediate` when the client may not block ({@link mayBlock}): inside EXEC
 * Redis answers at once as if the timeout had passed.
 */
export function blockOnKeys(
  ctx: ServerContext,
  client: ClientState,
  request: BlockRequest,
  immediate: Reply = request.timeoutReply,
): Reply {
  if (!mayBlock(client)) return immediate;
  return new DeferredReply(registry(ctx).block(client, request), immediate);
}

/**
 * Serves the clients blocked on keys that became ready (dispatch calls it after each top-level
 * command). Costs one comparison when no key is ready.
 */
export function serveReadyKeys(ctx: ServerContext): void {
  if (pendingReady === 0) return;
  registries.get(ctx)?.serveReady();
}

/**
 * After SWAPDB: queues every waited key the swap brought (Redis's scanDatabaseForReadyKeys),
 * served by the next {@link serveReadyKeys}.
 */
export function signalSwappedKeys(ctx: ServerContext): void {
  const blocked = registries.get(ctx);
  if (blocked !== undefined && blocked.count > 0) blocked.signalAll();
}

/**
 * CLIENT UNBLOCK: releases the client `id` if it is blocked on keys, with its timeout reply or,
 * when `error`, `-UNBLOCKED client unblocked via CLIENT UNBLOCK`. False when it is not blocked.
 */
export function unblockClient(ctx: ServerContext, id: number, error: boolean): boolean {
  const target = ctx.clients.get(id);
  if (target === undefined) return false;
  return registries.get(ctx)?.unblock(target.state, error) ?? false;
}

/** Number of clients blocked on keys (INFO `blocked_clients`). */
export function blockedClientCount(ctx: ServerContext): number {
  return registries.get(ctx)?.count ?? 0;
}

/** Releases every blocked client without a reply, so their connections can close (shutdown). */
export function releaseBlockedClients(ctx: ServerContext): void {
  registries.get(ctx)?.releaseAll();
}

/**
 * A blocking command's timeout argument in seconds, as Redis 7.0's getTimeoutFromObjectOrReply
 * reads it: a long double (strtold: decimal, exponent, hexadecimal, "inf"), multiplied by 1000
 * in long double arithmetic and rounded up to whole milliseconds; returns the milliseconds to
 * wait, 0 for forever. Errors: "ERR timeout is not a float or out of range", "ERR timeout is
 * negative" (also what an infinite or huge value becomes once converted to a 64-bit integer,
 * as in Redis). The exact arithmetic matters at the edges: -0.001 s is 0 (forever) in Redis.
 */
export function parseTimeout(arg: Uint8Array): number {
  const seconds = parseLongDouble(toBinaryString(arg));
  if (seconds === null) throw new CommandError("ERR timeout is not a float or out of range");
  const ms = seconds === "infinite" ? null : ceilMilliseconds(seconds);
  if (ms === null || ms < 0n) throw new CommandError("ERR timeout is negative");
  return Number(ms);
}

/** Bits in a long double's mantissa. */
const MANTISSA_BITS = 64;

/**
 * `ceil(value * 1000)` as the x87 FPU computes it (the product rounded to a 64-bit mantissa,
 * ties to even), or null when it does not fit a 64-bit integer (C's conversion then yields
 * LLONG_MIN).
 */
function ceilMilliseconds(value: LongDouble): bigint | null {
  let mantissa = value.mantissa * 1000n;
  let exponent = value.exponent;
  const bits = mantissa.toString(2).length;
  if (mantissa !== 0n && bits > MANTISSA_BITS) {
    const drop = BigInt(bits - MANTISSA_BITS);
    const rest = mantissa & ((1n << drop) - 1n);
    const half = 1n << (drop - 1n);
    mantissa >>= drop;
    if (rest > half || (rest === half && (mantissa & 1n) === 1n)) mantissa++;
    exponent += Number(drop);
  }
  let whole: bigint;
  if (exponent >= 0) whole = exponent > 64 ? 1n << 64n : mantissa << BigInt(exponent);
  else {
    const shift = BigInt(-exponent);
    const truncated = shift > 80n ? 0n : mantissa >> shift;
    const fraction = shift > 80n ? mantissa !== 0n : (mantissa & ((1n << shift) - 1n)) !== 0n;
    // Ceiling: up for a positive value with a fraction; truncation already is for a negative.
    whole = truncated + (fraction && !value.negative ? 1n : 0n);
  }
  if (value.negative) whole = -whole;
  return whole >= 2n ** 63n || whole < -(2n ** 63n) ? null : whole;
}
