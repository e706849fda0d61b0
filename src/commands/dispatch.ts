/**
 * The one path every command takes (Redis's `processCommand`): look the name up, resolve a
 * subcommand, check arity and authentication, run the handler, count the call. Every generic
 * refusal lives here so handlers only do their own work.
 */
import { ErrorReply, type Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import type { ServerContext } from "./context.ts";
import { CommandError, NOAUTH, unknownCommand, unknownSubcommand, wrongArity } from "./errors.ts";
import type { Command } from "./registry.ts";
import { now } from "../util/clock.ts";

const OOM_MEMORY = new ErrorReply("OOM command not allowed when used memory > 'maxmemory'.");
const OOM_KEYS = new ErrorReply("OOM command not allowed when the number of keys > 'maxkeys'.");

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
  const rewritten = ctx.propagator.takeRewrite();
  if (rewritten !== null) {
    for (const command of rewritten) ctx.propagator.command(client.db, command);
  } else if (ctx.keyspace.counters.dirty !== dirtyBefore) {
    ctx.propagator.commandBytes(client.db, argv);
  }
}

/** Runs one command for `client` and returns its reply. `argv` is never empty. */
export function dispatch(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const cmd = resolveCommand(ctx, argv);
  if (cmd instanceof ErrorReply) {
    ctx.stats.errorReplies++;
    return cmd;
  }
  if (!cmd.arityAllows(argv.length)) {
    cmd.rejectedCalls++;
    ctx.stats.errorReplies++;
    return wrongArity(cmd.fullName);
  }
  if (!client.authenticated && !cmd.noAuth) {
    cmd.rejectedCalls++;
    ctx.stats.errorReplies++;
    return NOAUTH;
  }
  if (ctx.keyspace.limited) {
    const exceeded = ctx.keyspace.enforceLimits(now());
    if (exceeded !== null && cmd.denyOom) {
      cmd.rejectedCalls++;
      ctx.stats.errorReplies++;
      return exceeded === "maxmemory" ? OOM_MEMORY : OOM_KEYS;
    }
  }
  const aofError = ctx.persistence.aof?.writeError ?? null;
  if (cmd.write && aofError !== null) {
    cmd.rejectedCalls++;
    ctx.stats.errorReplies++;
    return new ErrorReply(`MISCONF Errors writing to the AOF file: ${aofError}`);
  }
  client.lastCommand = cmd.fullName;
  client.commandsProcessed++;
  ctx.stats.commandsProcessed++;
  const dirtyBefore = ctx.keyspace.counters.dirty;
  let reply: Reply;
  try {
    reply = (cmd.handler as NonNullable<Command["handler"]>)(ctx, client, argv);
  } catch (e) {
    if (!(e instanceof CommandError)) throw e;
    reply = e.reply;
  }
  if (cmd.write && ctx.propagator.active) propagate(ctx, client, argv, dirtyBefore);
  cmd.calls++;
  if (reply instanceof ErrorReply) {
    cmd.failedCalls++;
    ctx.stats.errorReplies++;
  }
  return reply;
}
