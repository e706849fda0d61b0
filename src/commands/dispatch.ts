/**
 * The one path every command takes (Redis's `processCommand`): look the name up, resolve a
 * subcommand, check arity and authentication, run the handler, count the call. Every generic
 * refusal lives here so handlers only do their own work.
 */
import { DeferredReply, ErrorReply, NO_REPLY, type Reply, SimpleString } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import type { ServerContext } from "./context.ts";
import {
  CommandError,
  DEBUG_NOT_ALLOWED,
  NOAUTH,
  oomRefusal,
  unknownCommand,
  unknownSubcommand,
  wrongArity,
} from "./errors.ts";
import type { Command } from "./registry.ts";
import { now, withBatchTime } from "../util/clock.ts";
import { subscriberRefusal } from "../pubsub/subscriber_mode.ts";
import { clusterRefusal, needsSlotCheck } from "../cluster/redirect.ts";
import type { Cluster } from "../cluster/cluster.ts";
import { serveReadyKeys } from "../server/blocked_keys.ts";
import { busyRefusal } from "../scripting/script_run.ts";
import { nopermReply, recordDenial } from "../acl/refusal.ts";
import { ArenaFullError } from "../store/arena.ts";
import { HEAP_OOM } from "../server/heap_guard.ts";
import { allowProtectedAction } from "../server/bind.ts";

/** Finds the command `argv` names (resolving subcommands), or the error reply explaining why not. */
export function resolveCommand(ctx: ServerContext, argv: Uint8Array[]): Command | ErrorReply {
  const cmd = ctx.commands.lookup(argv[0]);
  if (cmd === undefined) return unknownCommand(argv);
  if (cmd.subcommands === null) return cmd;
  if (argv.length < 2) return cmd.handler !== null ? cmd : wrongArity(cmd.fullName);
  const sub = (cmd.subcommandIndex as NonNullable<Command["subcommandIndex"]>).get(argv[1]);
  return sub ?? unknownSubcommand(argv[1], cmd.name);
}

/**
 * Sends a write command that changed the dataset down the propagation stream: as the handler
 * rewrote it, or as it was sent.
 */
function propagate(
  ctx: ServerContext,
  client: ClientState,
  argv: Uint8Array[],
  dirtyBefore: number,
): void {
  const propagator = ctx.propagator;
  const rewritten = propagator.takeRewrite();
  if (rewritten !== null) {
    // Several commands standing for one go out as a transaction, as Redis 7.0 wraps them, so
    // that a replica or the AOF never applies half of them.
    const wrap = rewritten.length > 1 && !propagator.inBlock;
    if (wrap) propagator.beginBlock();
    for (const command of rewritten) propagator.command(client.db, command);
    if (wrap) propagator.endBlock();
  } else if (ctx.keyspace.counters.dirty !== dirtyBefore) {
    propagator.command(client.db, argv);
  }
}

/**
 * The -NOPERM reply when the client's user may not run `cmd` with `argv` (the refusal logged in
 * the ACL LOG), or null. Out of dispatch's body so the unrestricted path stays small.
 */
function aclRefusal(
  ctx: ServerContext,
  client: ClientState,
  cmd: Command,
  argv: Uint8Array[],
): ErrorReply | null {
  const denial = ctx.acl.check(client.user, cmd, argv);
  if (denial === null) return null;
  const context = client.multi !== null ? "multi" : "toplevel";
  recordDenial(ctx.acl, denial, cmd, argv, client, client, context);
  return nopermReply(denial, cmd);
}

const QUEUED = new SimpleString("QUEUED");
const NOT_IN_MULTI = new ErrorReply("ERR Command not allowed inside a transaction");

/**
 * Refuses a command: counted as Redis counts rejections; inside MULTI it dooms the EXEC, and a
 * refused EXEC itself (in MULTI or not) answers EXECABORT with the reason and leaves MULTI
 * (Redis's execCommandAbort).
 */
function refuse(ctx: ServerContext, client: ClientState, reply: ErrorReply, cmd?: Command): Reply {
  if (cmd !== undefined) cmd.rejectedCalls++;
  if (cmd?.runsQueue) {
    // Redis answers a refused EXEC this way even outside MULTI, so the client knows it is out.
    client.multi = null;
    const reason = reply.message.replace(/^ERR /, "");
    const abort = new ErrorReply(`EXECABORT Transaction discarded because of: ${reason}`);
    ctx.stats.countError(abort);
    return abort;
  }
  ctx.stats.countError(reply);
  if (client.multi !== null) client.multi.failed = true;
  return reply;
}

/**
 * Cluster mode's refusal of a command this node may not serve (MOVED, ASK, CROSSSLOT, ...),
 * counted as a rejection; null when it runs here. Kept out of dispatch's body so that the
 * standalone path stays as small as before.
 */
function clusterGate(
  ctx: ServerContext,
  client: ClientState,
  cmd: Command,
  argv: Uint8Array[],
): Reply | null {
  const misrouted = needsSlotCheck(cmd)
    ? clusterRefusal(ctx.cluster as Cluster, client, cmd, argv)
    : null;
  // ASKING covers the next command only (all of a MULTI block's, as in Redis).
  if (client.asking && client.multi === null && cmd.name !== "asking") client.asking = false;
  if (misrouted === null) return null;
  if (!cmd.runsQueue) return refuse(ctx, client, misrouted, cmd);
  // Redis discards the transaction and answers EXEC with the redirection itself.
  client.multi = null;
  cmd.rejectedCalls++;
  ctx.stats.countError(misrouted);
  return misrouted;
}

/** Whether `cmd` writes: a write command, or an EXEC with a write queued (as Redis counts it). */
function mayWrite(cmd: Command, client: ClientState): boolean {
  if (cmd.write) return true;
  const queued = client.multi;
  if (!cmd.runsQueue || queued === null) return false;
  for (let i = 0; i < queued.length; i++) if (queued.commands[i].write) return true;
  return false;
}

/**
 * Whether a write pause holds `cmd` (Redis's `is_may_replicate_command`): a write (an EXEC with
 * a write queued included), PUBLISH or SPUBLISH (they reach the followers).
 */
function pausedBy(cmd: Command, client: ClientState): boolean {
  return mayWrite(cmd, client) || cmd.name === "publish" || cmd.name === "spublish";
}

const POSTPONED = new ErrorReply("ERR command postponed by a write pause");

/**
 * Holds a command while client writes are paused (Redis's blockPostponeClient): the client
 * waits, and once the pause ends the command goes through dispatch again from the start, so
 * a node that became a replica meanwhile redirects it. The arguments are copied: the read
 * buffer they view may be reused by then.
 */
function postpone(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): DeferredReply {
  const held = argv.map((arg) => arg.slice());
  const rerun = (): Reply | Promise<Reply> => {
    if (client.killed) return NO_REPLY;
    const reply = withBatchTime(() => dispatch(ctx, client, held));
    return reply instanceof DeferredReply ? reply.promise : reply;
  };
  return new DeferredReply(ctx.writePause.whenEnded().then(rerun), POSTPONED);
}

/**
 * Runs one command for `client` and returns its reply (inside MULTI: queues it and answers
 * QUEUED). `argv` is never empty.
 */
export function dispatch(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const cmd = resolveCommand(ctx, argv);
  if (cmd instanceof ErrorReply) return refuse(ctx, client, cmd);
  if (!cmd.arityAllows(argv.length)) return refuse(ctx, client, wrongArity(cmd.fullName), cmd);
  // Redis's CMD_PROTECTED check, before authentication as in its processCommand.
  if (
    cmd.isProtected && !allowProtectedAction(ctx.config.values["enable-debug-command"], client.addr)
  ) return refuse(ctx, client, DEBUG_NOT_ALLOWED, cmd);
  if (!client.authenticated && !cmd.noAuth) return refuse(ctx, client, NOAUTH, cmd);
  // The ACL (Redis's ACLCheckAllPerm): one test while the user may run anything.
  if (!client.user.unrestricted) {
    const denied = aclRefusal(ctx, client, cmd, argv);
    if (denied !== null) return refuse(ctx, client, denied, cmd);
  }
  const scripting = ctx.scripting;
  if (scripting !== null && scripting.busy && !cmd.allowBusy) {
    // A script past busy-reply-threshold runs alone (Redis's slowscripterr/slowevalerr).
    return refuse(ctx, client, busyRefusal(scripting.running!.target.kind), cmd);
  }
  if (ctx.cluster !== null && !client.obeyed) {
    const misrouted = clusterGate(ctx, client, cmd, argv);
    if (misrouted !== null) return misrouted;
  }
  if (ctx.keyspace.limited) {
    const exceeded = ctx.keyspace.enforceLimits(now());
    if (exceeded !== null && cmd.denyOom) {
      return refuse(ctx, client, oomRefusal(exceeded), cmd);
    }
  }
  // A leader's stream and the AOF replay are applied whatever the heap, as Redis's replicas
  // ignore maxmemory.
  if (cmd.denyOom && !client.obeyed && ctx.heapGuard.refuses(now())) {
    return refuse(ctx, client, HEAP_OOM, cmd);
  }
  const aofError = ctx.persistence.aof?.writeError ?? null;
  if (cmd.write && aofError !== null) {
    return refuse(
      ctx,
      client,
      new ErrorReply(`MISCONF Errors writing to the AOF file: ${aofError}`),
      cmd,
    );
  }
  if (ctx.replication.guarded) {
    const refusal = ctx.replication.refusal(client, cmd, mayWrite(cmd, client));
    if (refusal !== null) return refuse(ctx, client, refusal, cmd);
  }
  const refusal = subscriberRefusal(client, cmd);
  if (refusal !== null) {
    cmd.rejectedCalls++;
    ctx.stats.countError(refusal);
    return refusal;
  }
  if (ctx.writePause.active && !client.obeyed && pausedBy(cmd, client)) {
    return postpone(ctx, client, argv);
  }
  if (client.multi !== null && !cmd.runsInMulti) {
    if (cmd.noMulti) return refuse(ctx, client, NOT_IN_MULTI, cmd);
    // The arguments are views of the read buffer, copied only if EXEC is not in the same batch
    // (see keepQueuedArguments).
    const transaction = client.multi;
    const at = transaction.length++;
    transaction.commands[at] = cmd;
    transaction.args[at] = argv;
    if (!cmd.boundedCost) transaction.unbounded = true;
    return QUEUED;
  }
  const reply = execute(ctx, client, cmd, argv);
  // Redis's handleClientsBlockedOnKeys after call(): clients blocked on keys this command (an
  // EXEC's whole queue) readied are served now, with their effects propagated after its own.
  serveReadyKeys(ctx);
  return reply;
}

/**
 * Runs a command that passed dispatch's checks (directly, or queued by MULTI and now run by
 * EXEC): the handler, the call counters and propagation.
 */
export function execute(
  ctx: ServerContext,
  client: ClientState,
  cmd: Command,
  argv: Uint8Array[],
): Reply {
  client.lastCommand = cmd.fullName;
  client.commandsProcessed++;
  ctx.stats.commandsProcessed++;
  const dirtyBefore = ctx.keyspace.counters.dirty;
  const propagator = ctx.propagator;
  const streamBefore = propagator.active ? propagator.pendingBytes : -1;
  const observer = ctx.observer;
  const started = observer.timing ? observer.start(cmd, client) : -1;
  let reply: Reply;
  try {
    reply = (cmd.handler as NonNullable<Command["handler"]>)(ctx, client, argv);
  } catch (e) {
    if (e instanceof ArenaFullError) reply = new ErrorReply(`OOM ${e.message}`);
    else if (e instanceof CommandError) reply = e.reply;
    else throw e;
  }
  if (cmd.write && propagator.active) propagate(ctx, client, argv, dirtyBefore);
  // Whatever the command sent down the stream (its write, a lazily expired key's DEL, EXEC's
  // block) is what its client's WAIT waits for, as Redis's `woff`.
  if (streamBefore >= 0 && propagator.pendingBytes !== streamBefore) {
    client.replOffset = ctx.replication.leader.pendingOffset;
  }
  cmd.calls++;
  if (reply instanceof ErrorReply) {
    cmd.failedCalls++;
    ctx.stats.countError(reply);
  }
  if (observer.active) observer.after(client, cmd, argv, started);
  return reply;
}
