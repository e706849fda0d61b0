/**
 * Running one script for a client (Redis's script.c: scriptPrepareForRun, scriptCall and the
 * busy-script handling of its Lua hook): the checks a script's flags impose before it starts,
 * the checks every `redis.call` passes before its command runs, the propagation of its writes
 * as one MULTI ... EXEC block, and what happens when it runs longer than
 * `busy-reply-threshold`.
 *
 * A script runs synchronously, alone, up to the threshold. Past it, the engine yields and the
 * run goes on in slices from later turns of the event loop, so that other clients can be
 * answered meanwhile: dispatch refuses their commands with -BUSY (all but the `allow_busy`
 * ones: SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE), the calling client waits for its reply,
 * and the housekeeping that could change the dataset (active expiry) waits too. SCRIPT KILL
 * stops a script that has not written; one that has can only be waited for or ended with
 * SHUTDOWN NOSAVE (-UNKILLABLE), as in Redis.
 */
import { DeferredReply, ErrorReply, type Reply } from "../resp/reply.ts";
import { ClientState } from "../server/client.ts";
import type { ServerContext } from "../commands/context.ts";
import { execute, resolveCommand } from "../commands/dispatch.ts";
import { oomRefusal } from "../commands/errors.ts";
import { recordDenial, scriptRefusalText } from "../acl/refusal.ts";
import type { Command } from "../commands/registry.ts";
import { serveReadyKeys } from "../server/blocked_keys.ts";
import { clusterRefusal, commandSlot, CROSS_SLOT, NO_KEYS } from "../cluster/redirect.ts";
import type { Cluster } from "../cluster/cluster.ts";
import { logger } from "../util/logger.ts";
import { toBinaryString } from "../util/bytes.ts";
import { inExec } from "../commands/transactions.ts";
import type { ScriptFlags } from "./script_flags.ts";
import type { ScriptHandle, ScriptHost, ScriptRun } from "./lua_engine.ts";
import type { Scripting } from "./scripting.ts";

const log = logger("scripting");

/** Milliseconds a busy script runs between two turns of the event loop. */
const BUSY_SLICE_MS = 10;

/** What is run: an EVAL script or a function, with its flags. */
export interface ScriptTarget {
  /** The engine's handle of the compiled script or function. */
  readonly handle: ScriptHandle;
  /** Its declared flags. */
  readonly flags: ScriptFlags;
  /** EVAL/EVALSHA (`eval`) or FCALL (`function`): the texts of BUSY and KILL differ. */
  readonly kind: "eval" | "function";
  /** What logs name it: the script's SHA1 or the function's name. */
  readonly name: string;
}

/** The script running now; see {@link Scripting.running}. */
export class RunningScript {
  /** The client that called it. */
  readonly caller: ClientState;
  /** What runs. */
  readonly target: ScriptTarget;
  /** Whether it may only read (EVAL_RO, FCALL_RO, a `no-writes` script). */
  readonly readOnly: boolean;
  /** The client its commands run as (Redis's Lua client): the caller's database and flags. */
  readonly client: ClientState;
  /** When it started (performance.now()). */
  readonly startedAt = performance.now();
  /** Set by its first write command: it can no longer be killed (Redis's SCRIPT_WRITE_DIRTY). */
  wrote = false;
  /** The slot of the first key it touched, for the cross-slot check; -1 before. */
  slot = -1;
  /** Set by SCRIPT KILL or FUNCTION KILL: the next slice ends it. */
  killRequested = false;
  /** The command that started it, once it is busy (FUNCTION STATS `command`). */
  command: string[] = [];
  /**
   * Whether the script opened the propagation block its writes go into; false when it runs
   * inside one already (EVAL queued in MULTI: EXEC's block holds them all).
   */
  ownsBlock = false;

  /** A run of `target` for `caller`, its commands run as a new script client. */
  constructor(caller: ClientState, target: ScriptTarget, readOnly: boolean) {
    this.caller = caller;
    this.target = target;
    this.readOnly = readOnly;
    this.client = scriptClient(caller);
  }
}

/** A client for a script's commands, as Redis's Lua client takes over the caller's context. */
function scriptClient(caller: ClientState): ClientState {
  const client = new ClientState(0, "lua", "", true);
  client.db = caller.db;
  client.inScript = true;
  client.user = caller.user;
  client.link = caller.link;
  client.replaying = caller.replaying;
  client.clusterReadonly = caller.clusterReadonly;
  client.asking = caller.asking;
  return client;
}

const SCRIPT_ERRORS = {
  unknown: "ERR Unknown Redis command called from script",
  arity: "ERR Wrong number of args calling Redis command from script",
  noscript: "ERR This Redis command is not allowed from script",
  readOnly: "ERR Write commands are not allowed from read-only scripts.",
  masterDown: "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
  nonLocal: "ERR Script attempted to access a non local key in a cluster node",
  crossSlot: "ERR Script attempted to access keys that do not hash to the same slot",
  clusterDown: "ERR Script attempted to execute a command while the cluster is down",
  clusterDownReadOnly:
    "ERR Script attempted to execute a write command while the cluster is down and readonly",
} as const;

/** Whether this node is a follower whose link is down and that must not serve stale data. */
function servingStale(ctx: ServerContext): boolean {
  const follower = ctx.replication.follower;
  return follower !== null && follower.state !== "connected" &&
    !ctx.config.values["replica-serve-stale-data"];
}

/**
 * Why a script may not start at all, given its flags (Redis's scriptPrepareForRun and the
 * command flags evalGetCommandFlags derives from a shebang), or null.
 */
export function startRefusal(
  ctx: ServerContext,
  caller: ClientState,
  flags: ScriptFlags,
  readOnlyCommand: boolean,
): ErrorReply | null {
  const values = ctx.config.values;
  const stale = servingStale(ctx);
  if (flags.compat) {
    return stale && !caller.obeyed ? new ErrorReply(SCRIPT_ERRORS.masterDown) : null;
  }
  if (flags.noCluster && ctx.cluster !== null) {
    return new ErrorReply("ERR Can not run script on cluster, 'no-cluster' flag is set.");
  }
  if (stale && !flags.allowStale && !caller.obeyed) {
    return new ErrorReply(
      "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and " +
        "'allow-stale' flag is not set on the script.",
    );
  }
  if (!flags.noWrites && !caller.obeyed) {
    if (ctx.replication.follower !== null && values["replica-read-only"]) {
      return new ErrorReply("READONLY You can't write against a read only replica.");
    }
    if (readOnlyCommand) {
      return new ErrorReply("ERR Can not execute a script with write flag using *_ro command.");
    }
  }
  // A shebang script that may write is a denyoom command for Redis's processCommand, whose
  // refusal text comes first.
  if (!flags.noWrites && !flags.allowOom && !caller.obeyed && ctx.keyspace.limited) {
    const over = ctx.keyspace.overLimit;
    if (over !== null) return oomRefusal(over);
  }
  return null;
}

/** Redis's scriptCall checks for one `redis.call` of `run`; null when the command may run. */
function callRefusal(
  ctx: ServerContext,
  run: RunningScript,
  cmd: Command,
  args: Uint8Array[],
): string | null {
  if (cmd.noScript) return SCRIPT_ERRORS.noscript;
  const caller = run.caller;
  const flags = run.target.flags;
  const replication = ctx.replication;
  if (
    servingStale(ctx) && !caller.obeyed && !(flags.allowStale && !flags.compat) &&
    !cmd.def.flags.includes("stale")
  ) return SCRIPT_ERRORS.masterDown;
  if (!run.client.user.unrestricted) {
    const denial = ctx.acl.check(run.client.user, cmd, args);
    if (denial !== null) {
      recordDenial(ctx.acl, denial, cmd, args, run.client, caller, "lua");
      return scriptRefusalText(denial);
    }
  }
  const replicates = cmd.write || cmd.name === "publish" || cmd.name === "spublish";
  if (run.readOnly && replicates) return SCRIPT_ERRORS.readOnly;
  if (cmd.write && !run.wrote && !caller.obeyed) {
    if (replication.guarded) {
      const refusal = replication.refusal(run.client, cmd, true);
      if (refusal !== null) return refusal.message;
    }
    const aofError = ctx.persistence.aof?.writeError ?? null;
    if (aofError !== null) return `MISCONF Errors writing to the AOF file: ${aofError}`;
  }
  const allowOom = flags.allowOom && !flags.compat;
  if (
    !allowOom && !run.wrote && cmd.denyOom && !caller.obeyed && ctx.keyspace.limited &&
    ctx.keyspace.overLimit !== null
  ) return oomRefusal(ctx.keyspace.overLimit).message;
  if (cmd.write) run.wrote = true;
  if (ctx.cluster !== null && !caller.obeyed) {
    return clusterCallRefusal(ctx.cluster, run, cmd, args);
  }
  return null;
}

/** Redis's scriptVerifyClusterState: the keys must be this node's, in one slot unless allowed. */
function clusterCallRefusal(
  cluster: Cluster,
  run: RunningScript,
  cmd: Command,
  args: Uint8Array[],
): string | null {
  const refusal = clusterRefusal(cluster, run.client, cmd, args);
  if (refusal !== null) {
    if (refusal.message.startsWith("CLUSTERDOWN The cluster is down and only")) {
      return SCRIPT_ERRORS.clusterDownReadOnly;
    }
    if (refusal.message.startsWith("CLUSTERDOWN The cluster is down")) {
      return SCRIPT_ERRORS.clusterDown;
    }
    return SCRIPT_ERRORS.nonLocal;
  }
  const flags = run.target.flags;
  if (flags.compat || flags.allowCrossSlot) return null;
  const slot = commandSlot(cmd, args);
  if (slot === NO_KEYS || slot === CROSS_SLOT) return null;
  if (run.slot === -1) run.slot = slot;
  else if (run.slot !== slot) return SCRIPT_ERRORS.crossSlot;
  return null;
}

/** The {@link ScriptHost} of one run: its commands, logs and replication choice. */
function hostOf(ctx: ServerContext, run: RunningScript): ScriptHost {
  return {
    call(args: Uint8Array[], resp: 2 | 3): Reply {
      // Handlers shape some replies by protocol (ZRANGE WITHSCORES, ZSCORE): the script's.
      run.client.proto = resp;
      const cmd = resolveCommand(ctx, args);
      let refusal: string | null;
      if (cmd instanceof ErrorReply) refusal = SCRIPT_ERRORS.unknown;
      else if (!cmd.arityAllows(args.length)) refusal = SCRIPT_ERRORS.arity;
      else refusal = callRefusal(ctx, run, cmd, args);
      if (refusal !== null) {
        if (!(cmd instanceof ErrorReply)) cmd.rejectedCalls++;
        const reply = new ErrorReply(refusal);
        ctx.stats.countError(reply);
        return reply;
      }
      const reply = execute(ctx, run.client, cmd as Command, args);
      // A script's commands never wait (see ClientState.inScript); a command that would
      // answers as inside EXEC.
      return reply instanceof DeferredReply ? reply.immediate : reply;
    },
    log(level: number, message: string): void {
      const fields = { script: run.target.name, message };
      if (level <= 0) log.debug("{message}", fields);
      else if (level === 1) log.info("{message}", fields);
      else if (level === 2) log.info("{message}", fields);
      else log.warn("{message}", fields);
    },
    setReplication(_flags: number): void {
      // Redis 7 replicates effects only; REPL_NONE/AOF/REPLICA choices are accepted and the
      // effects still go to both (see README: scripting).
    },
  };
}

/**
 * What EVAL and FCALL share once the script is found: the refusals its flags impose
 * ({@link startRefusal}), then the run of `target` for `caller` with the `numkeys` words after
 * `argv[2]` as its keys and the rest as its arguments; `readOnly` for EVAL_RO, FCALL_RO and
 * `no-writes` scripts. Returns the reply, or a DeferredReply when the script outlives
 * `busy-reply-threshold` (see the module comment).
 */
export function callScript(
  ctx: ServerContext,
  scripting: Scripting,
  caller: ClientState,
  target: ScriptTarget,
  argv: Uint8Array[],
  numkeys: number,
  readOnly: boolean,
): Reply {
  const refusal = startRefusal(ctx, caller, target.flags, readOnly);
  if (refusal !== null) return refusal;
  const keys = argv.slice(3, 3 + numkeys);
  const args = argv.slice(3 + numkeys);
  const run = new RunningScript(caller, target, readOnly || target.flags.noWrites);
  const propagator = ctx.propagator;
  run.ownsBlock = !propagator.inBlock;
  if (run.ownsBlock) propagator.beginBlock();
  scripting.running = run;
  let outcome: ScriptRun;
  try {
    const threshold = ctx.config.values["busy-reply-threshold"];
    // A script that cannot wait (inside EXEC, replayed from the AOF, from a leader) runs to
    // its end in one go.
    const mayPause = !caller.obeyed && !caller.inScript && !inExec();
    const engine = scripting.engine;
    outcome = (target.kind === "eval" ? engine.run : engine.runFunction).call(
      engine,
      target.handle,
      keys,
      args,
      hostOf(ctx, run),
      caller.proto,
      mayPause && threshold > 0 ? threshold : Infinity,
    );
  } catch (e) {
    finish(ctx, scripting);
    throw e;
  }
  if (outcome.done) {
    finish(ctx, scripting);
    return outcome.reply;
  }
  log.warn(
    "Slow script detected: still in execution after {ms} milliseconds. You can try killing " +
      "the script using the {kill} command. Script name is: {name}.",
    {
      ms: Math.round(performance.now() - run.startedAt),
      kill: target.kind === "eval" ? "SCRIPT KILL" : "FUNCTION KILL",
      name: target.name,
    },
  );
  scripting.busy = true;
  // What FUNCTION STATS shows while it runs; the arguments are views of the read buffer.
  run.command = argv.map((arg) => toBinaryString(arg));
  const promise = new Promise<Reply>((resolve) => {
    let current: ScriptRun = outcome;
    const step = () => {
      if (current.done) return;
      if (run.killRequested) {
        const reply = current.kill();
        finish(ctx, scripting);
        resolve(reply);
        return;
      }
      try {
        current = current.resume(BUSY_SLICE_MS);
      } catch (e) {
        finish(ctx, scripting);
        resolve(new ErrorReply(`ERR ${(e as Error).message}`));
        return;
      }
      if (current.done) {
        finish(ctx, scripting);
        resolve(current.reply);
        return;
      }
      setTimeout(step, 0);
    };
    setTimeout(step, 0);
  });
  return new DeferredReply(promise, new ErrorReply("ERR script did not finish"));
}

/**
 * Ends the running script: its writes enter the propagation stream as one block, or none of
 * them when a shutdown cut it short (they are not to be persisted half done: the shutdown does
 * not save either), and the clients it readied are served.
 */
function finish(ctx: ServerContext, scripting: Scripting): void {
  const run = scripting.running;
  const wasBusy = scripting.busy;
  scripting.running = null;
  scripting.busy = false;
  if (run !== null && run.ownsBlock) {
    if (run.killRequested && run.wrote) ctx.propagator.discardBlock();
    else ctx.propagator.endBlock();
  }
  // The caller's WAIT waits for what the script propagated (as execute() does for a command).
  if (wasBusy && run !== null && ctx.propagator.active) {
    run.caller.replOffset = ctx.replication.leader.pendingOffset;
  }
  // Clients blocked on keys the script pushed to; dispatch does this after a script that ended
  // in its own call.
  if (wasBusy) serveReadyKeys(ctx);
}

/** The -BUSY refusal other clients get while a script runs past the threshold. */
export function busyRefusal(kind: ScriptTarget["kind"]): ErrorReply {
  return kind === "eval" ? BUSY_EVAL : BUSY_FUNCTION;
}

const BUSY_EVAL = new ErrorReply(
  "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
);
const BUSY_FUNCTION = new ErrorReply(
  "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.",
);
