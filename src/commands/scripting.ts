/**
 * EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (Redis 7.0's eval.c): scripts cached by SHA1,
 * run by src/scripting/script_run.ts with Redis's argument rules, errors and replies.
 */
import { OK, type Reply, SimpleString } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { toBinaryString } from "../util/bytes.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import { type CommandDef, subcommandMaker } from "./registry.ts";
import { intArg, isWord } from "./_values.ts";
import type { Scripting } from "../scripting/scripting.ts";
import { busyRefusal, callScript } from "../scripting/script_run.ts";

const NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL.";

/** The server's scripting state, or Redis-style refusal while the Lua VM is not loaded. */
export function scriptingOf(ctx: ServerContext): Scripting {
  if (ctx.scripting === null) throw new CommandError("ERR scripting is not available");
  return ctx.scripting;
}

/**
 * The number of keys of EVAL or FCALL (`argv[2]`) with Redis's checks: an integer (else
 * `notInteger`, FCALL's own text), no more than the words after it, not negative.
 */
export function numKeysArg(argv: Uint8Array[], notInteger?: string): number {
  let numkeys: number | bigint;
  try {
    numkeys = intArg(argv[2]);
  } catch (e) {
    if (notInteger === undefined) throw e;
    throw new CommandError(notInteger);
  }
  if (numkeys > argv.length - 3) {
    throw new CommandError("ERR Number of keys can't be greater than number of args");
  }
  if (numkeys < 0) throw new CommandError("ERR Number of keys can't be negative");
  return Number(numkeys);
}

/**
 * The key positions of EVAL and FCALL (COMMAND GETKEYS, cluster slot checks): `numkeys` words
 * after it, none when it is not a count that fits.
 */
export function scriptKeys(argv: readonly Uint8Array[]): number[] {
  const numkeys = Number(toBinaryString(argv[2] ?? new Uint8Array()));
  if (!Number.isInteger(numkeys) || numkeys < 1 || 3 + numkeys > argv.length) return [];
  return Array.from({ length: numkeys }, (_, i) => 3 + i);
}

/** EVAL and its variants (Redis's evalGenericCommand). */
function evalGeneric(bySha: boolean, readOnly: boolean) {
  return (ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply => {
    const scripting = scriptingOf(ctx);
    if (bySha && argv[1].length !== 40) throw new CommandError(NOSCRIPT);
    const numkeys = numKeysArg(argv);
    const script = bySha ? scripting.find(toBinaryString(argv[1])) : scripting.load(argv[1]);
    if (script === undefined) throw new CommandError(NOSCRIPT);
    return callScript(ctx, scripting, client, script.target, argv, numkeys, readOnly);
  };
}

function scriptLoad(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  return scriptingOf(ctx).load(argv[2]).sha;
}

function scriptExists(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  const scripting = scriptingOf(ctx);
  return argv.slice(2).map((sha) => scripting.find(toBinaryString(sha)) !== undefined ? 1 : 0);
}

function scriptFlush(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  if (
    argv.length > 3 || (argv.length === 3 && !isWord(argv[2], "sync") && !isWord(argv[2], "async"))
  ) {
    throw new CommandError("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
  }
  scriptingOf(ctx).flushScripts();
  return OK;
}

/**
 * SCRIPT KILL and FUNCTION KILL (Redis's scriptKill): stops the busy script of their kind unless
 * it wrote or came from a leader.
 */
export function killScript(ctx: ServerContext, kind: "eval" | "function"): Reply {
  const running = scriptingOf(ctx).running;
  if (running === null) throw new CommandError("NOTBUSY No scripts in execution right now.");
  if (running.caller.obeyed) {
    throw new CommandError(
      "UNKILLABLE The busy script was sent by a master instance in master-replica replication " +
        "link. This script can't be killed.",
    );
  }
  if (running.wrote) {
    throw new CommandError(
      "UNKILLABLE Sorry the script already executed write commands against the dataset. You " +
        "can either wait the script termination or kill the server in a hard way using the " +
        "SHUTDOWN NOSAVE command.",
    );
  }
  if (running.target.kind !== kind) {
    throw new CommandError(busyRefusal(running.target.kind).message);
  }
  running.killRequested = true;
  return OK;
}

function scriptDebug(_ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  if (isWord(argv[2], "no")) return OK;
  if (isWord(argv[2], "yes") || isWord(argv[2], "sync")) {
    throw new CommandError("ERR SCRIPT DEBUG is not supported: gocache has no Lua debugger");
  }
  throw new CommandError("ERR Use SCRIPT DEBUG YES/SYNC/NO");
}

const SCRIPT_HELP = [
  "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "DEBUG (YES|SYNC|NO)",
  "    Set the debug mode for subsequent scripts executed.",
  "EXISTS <sha1> [<sha1> ...]",
  "    Return information about the existence of the scripts in the script cache.",
  "FLUSH [ASYNC|SYNC]",
  "    Flush the Lua scripts cache. Very dangerous on replicas.",
  "    When called without the optional mode argument, the behavior is determined by the",
  "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
  "    * ASYNC: Asynchronously flush the scripts cache.",
  "    * SYNC: Synchronously flush the scripts cache.",
  "KILL",
  "    Kill the currently executing Lua script.",
  "LOAD <script>",
  "    Load a script into the scripts cache without executing it.",
  "HELP",
  "    Prints this help.",
].map((line) => new SimpleString(line));

/** The flags and key declaration EVAL, EVALSHA, FCALL and their _RO forms share. */
export function scriptCommandFlags(readOnly: boolean): CommandDef["flags"] {
  return [
    ...(readOnly ? ["readonly" as const] : []),
    "noscript",
    "stale",
    "skip_monitor",
    ...(readOnly ? [] : ["may_replicate" as const]),
    "no_mandatory_keys",
    "movablekeys",
  ];
}

function evalDef(name: string, summary: string, since: string, handler: CommandDef["handler"]) {
  const readOnly = name.endsWith("_ro");
  return {
    name,
    arity: -3,
    flags: scriptCommandFlags(readOnly),
    keys: { first: 0, last: 0, step: 0 },
    keysOf: scriptKeys,
    group: "scripting",
    summary,
    since,
    complexity: "Depends on the script that is executed.",
    handler,
  } satisfies CommandDef;
}

const scriptSub = subcommandMaker({ group: "scripting", since: "2.6.0" });

/** Declarations with Redis 7.0's arity, flags and docs. */
export const scriptingCommands: readonly CommandDef[] = [
  evalDef("eval", "Execute a Lua script server side", "2.6.0", evalGeneric(false, false)),
  evalDef("evalsha", "Execute a Lua script server side", "2.6.0", evalGeneric(true, false)),
  evalDef(
    "eval_ro",
    "Execute a read-only Lua script server side",
    "7.0.0",
    evalGeneric(false, true),
  ),
  evalDef(
    "evalsha_ro",
    "Execute a read-only Lua script server side",
    "7.0.0",
    evalGeneric(true, true),
  ),
  {
    name: "script",
    arity: -2,
    flags: [],
    group: "scripting",
    acl: ["@slow"],
    summary: "A container for Lua scripts management commands",
    since: "2.6.0",
    subcommands: [
      scriptSub("debug", 3, ["noscript"], "Set the debug mode for executed scripts.", scriptDebug),
      scriptSub(
        "exists",
        -3,
        ["noscript"],
        "Check existence of scripts in the script cache.",
        scriptExists,
      ),
      scriptSub(
        "flush",
        -2,
        ["noscript"],
        "Remove all the scripts from the script cache.",
        scriptFlush,
      ),
      scriptSub(
        "help",
        2,
        ["loading", "stale"],
        "Show helpful text about the different subcommands",
        () => SCRIPT_HELP,
      ),
      scriptSub(
        "kill",
        2,
        ["noscript", "allow_busy"],
        "Kill the script currently in execution.",
        (ctx) => killScript(ctx, "eval"),
      ),
      scriptSub(
        "load",
        3,
        ["noscript", "stale"],
        "Load the specified Lua script into the script cache.",
        scriptLoad,
      ),
    ],
  },
];
