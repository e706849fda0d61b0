/**
 * Transactions: MULTI, EXEC, DISCARD, WATCH and UNWATCH, with Redis 7.0's replies and errors.
 * Dispatch queues commands while a client is inside MULTI (see dispatch.ts); EXEC runs them one
 * after the other with nothing in between, and propagates the writes among them as one
 * MULTI ... EXEC block. A key WATCHed by a client and touched by anyone before its EXEC
 * (another client, the client itself, expiry, eviction, FLUSHALL, SWAPDB) makes that EXEC
 * answer a null array and run nothing.
 */
import { ErrorReply, NullArray, OK, type Reply, ReplySequence } from "../resp/reply.ts";
import type { ClientState, QueuedTransaction } from "../server/client.ts";
import { toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import type { ServerContext } from "./context.ts";
import { execute } from "./dispatch.ts";
import { CommandError } from "./errors.ts";
import { execRefusal, recordDenial } from "../acl/refusal.ts";
import type { CommandDef } from "./registry.ts";

const EXECABORT = new ErrorReply("EXECABORT Transaction discarded because of previous errors.");

/** How many EXECs are running their queue (0 or 1: EXEC cannot be queued). */
let executing = 0;

/**
 * Whether a command runs from an EXEC's queue (Redis's `server.in_exec`): BGSAVE and
 * BGREWRITEAOF then schedule their job instead of starting it, as Redis does.
 */
export function inExec(): boolean {
  return executing > 0;
}

/** Stops every WATCH of `client` (EXEC, DISCARD, UNWATCH, RESET, disconnect). */
export function unwatchAll(ctx: ServerContext, client: ClientState): void {
  if (client.watching !== null) {
    for (const [index, keys] of client.watching) {
      const db = ctx.keyspace.db(index);
      for (const key of keys) db.unwatch(key, client);
    }
    client.watching = null;
  }
  client.watchTouched = false;
}

function multi(_ctx: ServerContext, client: ClientState): Reply {
  if (client.multi !== null) throw new CommandError("ERR MULTI calls can not be nested");
  const transaction = client.transaction ??= {
    length: 0,
    commands: [],
    args: [],
    detached: 0,
    failed: false,
    unbounded: false,
  };
  clearQueue(transaction);
  transaction.failed = false;
  transaction.unbounded = false;
  client.multi = transaction;
  return OK;
}

/** Whether a key the client watched while it was live has expired since (Redis's check). */
function watchedKeyExpired(ctx: ServerContext, client: ClientState): boolean {
  if (client.watching === null) return false;
  const t = now();
  for (const [index, keys] of client.watching) {
    const db = ctx.keyspace.db(index);
    for (const key of keys) if (db.watchedKeyExpired(key, client, t)) return true;
  }
  return false;
}

function exec(ctx: ServerContext, client: ClientState): Reply {
  const transaction = client.multi;
  if (transaction === null) throw new CommandError("ERR EXEC without MULTI");
  client.multi = null;
  const touched = client.watchTouched || watchedKeyExpired(ctx, client);
  unwatchAll(ctx, client);
  if (transaction.failed || touched) {
    clearQueue(transaction);
    return transaction.failed ? EXECABORT : NullArray.instance;
  }
  const propagator = ctx.propagator;
  propagator.beginBlock();
  executing++;
  try {
    const { commands, args, length } = transaction;
    const replies: Reply[] = new Array(length);
    let n = 0;
    for (let c = 0; c < length; c++) {
      // The ACL may have changed since the command was queued (Redis checks again here).
      const denied = client.user.unrestricted
        ? null
        : ctx.acl.check(client.user, commands[c], args[c]);
      if (denied !== null) {
        recordDenial(ctx.acl, denied, commands[c], args[c], client, client, "multi");
        replies[n++] = execRefusal(denied);
        continue;
      }
      const reply = execute(ctx, client, commands[c], args[c]);
      // A SUBSCRIBE-family command answers with its confirmations, one element each.
      if (reply instanceof ReplySequence) {
        for (const item of reply.items) replies[n++] = item;
      } else replies[n++] = reply;
    }
    replies.length = n;
    return replies;
  } finally {
    executing--;
    clearQueue(transaction);
    propagator.endBlock();
  }
}

/** What an emptied slot of a transaction record holds instead of a request's arguments. */
const NO_ARGUMENTS: Uint8Array[] = [];

/** Empties a transaction record, letting go of the arguments it held. */
function clearQueue(transaction: QueuedTransaction): void {
  const { args } = transaction;
  for (let c = 0; c < transaction.length; c++) args[c] = NO_ARGUMENTS;
  transaction.length = 0;
  transaction.detached = 0;
}

/**
 * Copies the queued arguments of `client`'s open transaction that are still views into the
 * buffer its requests were parsed from: callers run this once they are done with a buffer they
 * will reuse (a connection at the end of each batch, a follower after each read of its link).
 */
export function keepQueuedArguments(client: ClientState): void {
  const transaction = client.multi;
  if (transaction === null) return;
  const { args, length } = transaction;
  for (let c = transaction.detached; c < length; c++) {
    const argv = args[c];
    for (let i = 0; i < argv.length; i++) argv[i] = argv[i].slice();
  }
  transaction.detached = length;
}

function discard(ctx: ServerContext, client: ClientState): Reply {
  if (client.multi === null) throw new CommandError("ERR DISCARD without MULTI");
  clearQueue(client.multi);
  client.multi = null;
  unwatchAll(ctx, client);
  return OK;
}

function watch(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  if (client.multi !== null) throw new CommandError("ERR WATCH inside MULTI is not allowed");
  const db = ctx.keyspace.db(client.db);
  const t = now();
  client.watching ??= new Map();
  let keys = client.watching.get(client.db);
  if (keys === undefined) client.watching.set(client.db, keys = new Set());
  for (let i = 1; i < argv.length; i++) {
    const key = toBinaryString(argv[i]);
    if (keys.has(key)) continue;
    keys.add(key);
    db.watch(key, client, t);
  }
  return OK;
}

function unwatch(ctx: ServerContext, client: ClientState): Reply {
  unwatchAll(ctx, client);
  return OK;
}

const FLAGS_FAST: CommandDef["flags"] = ["noscript", "loading", "stale", "fast", "allow_busy"];

/** Transaction command declarations, with Redis 7.0's arity, flags and docs. */
export const transactionCommands: readonly CommandDef[] = [
  {
    name: "multi",
    arity: 1,
    flags: FLAGS_FAST,
    group: "transactions",
    acl: ["@transaction"],
    summary: "Mark the start of a transaction block",
    since: "1.2.0",
    complexity: "O(1)",
    handler: multi,
  },
  {
    name: "exec",
    arity: 1,
    flags: ["noscript", "loading", "stale", "skip_slowlog"],
    group: "transactions",
    acl: ["@transaction"],
    summary: "Execute all commands issued after MULTI",
    since: "1.2.0",
    complexity: "Depends on commands in the transaction",
    handler: exec,
  },
  {
    name: "discard",
    arity: 1,
    flags: FLAGS_FAST,
    group: "transactions",
    acl: ["@transaction"],
    summary: "Discard all commands issued after MULTI",
    since: "2.0.0",
    complexity: "O(N), when N is the number of queued commands",
    handler: discard,
  },
  {
    name: "watch",
    arity: -2,
    flags: FLAGS_FAST,
    keys: { first: 1, last: -1, step: 1 },
    group: "transactions",
    acl: ["@transaction"],
    summary: "Watch the given keys to determine execution of the MULTI/EXEC block",
    since: "2.2.0",
    complexity: "O(1) for every key.",
    handler: watch,
  },
  {
    name: "unwatch",
    arity: 1,
    flags: FLAGS_FAST,
    group: "transactions",
    acl: ["@transaction"],
    summary: "Forget about all watched keys",
    since: "2.2.0",
    complexity: "O(1)",
    handler: unwatch,
  },
];
