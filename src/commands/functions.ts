/**
 * FUNCTION and FCALL (Redis 7.0's functions.c): libraries of Lua functions loaded by FUNCTION
 * LOAD (src/scripting/function_libraries.ts), called by name with FCALL and FCALL_RO, and run
 * like EVAL scripts (src/scripting/script_run.ts).
 */
import { MapReply, OK, type Reply, SetReply, SimpleString } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { toBinaryString } from "../util/bytes.ts";
import { globMatchString } from "../util/glob.ts";
import type { ServerContext } from "./context.ts";
import { CommandError, subcommandArityError } from "./errors.ts";
import { type CommandDef, subcommandMaker } from "./registry.ts";
import { isWord } from "./_values.ts";
import {
  killScript,
  numKeysArg,
  scriptCommandFlags,
  scriptingOf,
  scriptKeys,
} from "./scripting.ts";
import { callScript } from "../scripting/script_run.ts";
import { flagNames } from "../scripting/script_flags.ts";
import {
  dumpFunctionLibraries,
  DumpPayloadError,
  restoreFunctionLibraries,
} from "../persistence/rdb/dump.ts";

/** FCALL and FCALL_RO (Redis's fcallCommandGeneric). */
function fcallGeneric(readOnly: boolean) {
  return (ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply => {
    const scripting = scriptingOf(ctx);
    const fn = scripting.functions.find(toBinaryString(argv[1]));
    if (fn === undefined) throw new CommandError("ERR Function not found");
    const numkeys = numKeysArg(argv, "ERR Bad number of keys provided");
    return callScript(ctx, scripting, client, fn.target, argv, numkeys, readOnly);
  };
}

function functionLoad(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  let replace = false;
  let at = 2;
  if (argv.length > 3) {
    if (!isWord(argv[2], "replace")) {
      throw new CommandError(`ERR Unknown option given: ${toBinaryString(argv[2])}`);
    }
    replace = true;
    at = 3;
  }
  if (at !== argv.length - 1) {
    throw new CommandError("ERR Function LOAD command requires a code argument");
  }
  const name = scriptingOf(ctx).functions.load(argv[at], replace);
  // A change to propagate to followers and the AOF, as Redis counts it.
  ctx.keyspace.counters.dirty++;
  return name;
}

function functionDelete(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  if (!scriptingOf(ctx).functions.delete(toBinaryString(argv[2]))) {
    throw new CommandError("ERR Library not found");
  }
  ctx.keyspace.counters.dirty++;
  return OK;
}

function functionFlush(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  if (
    argv.length > 3 ||
    (argv.length === 3 && !isWord(argv[2], "sync") && !isWord(argv[2], "async"))
  ) {
    throw new CommandError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
  }
  scriptingOf(ctx).functions.flush();
  ctx.keyspace.counters.dirty++;
  return OK;
}

const LIBRARY_FIELDS = {
  name: "library_name",
  engine: "engine",
  functions: "functions",
  code: "library_code",
};

function functionList(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  let withCode = false;
  let pattern: string | null = null;
  for (let i = 2; i < argv.length; i++) {
    if (!withCode && isWord(argv[i], "withcode")) {
      withCode = true;
      continue;
    }
    if (pattern === null && isWord(argv[i], "libraryname")) {
      if (i >= argv.length - 1) throw new CommandError("ERR library name argument was not given");
      pattern = toBinaryString(argv[++i]);
      continue;
    }
    throw new CommandError(`ERR Unknown argument ${toBinaryString(argv[i])}`);
  }
  const out: Reply[] = [];
  for (const library of scriptingOf(ctx).functions.libraries.values()) {
    if (pattern !== null && !globMatchString(pattern, library.name, true)) continue;
    const functions = [...library.functions.values()].map((fn) =>
      new MapReply([
        "name",
        fn.name,
        "description",
        fn.description,
        "flags",
        new SetReply(flagNames(fn.target.flags).map((flag) => new SimpleString(flag))),
      ])
    );
    const fields: Reply[] = [
      LIBRARY_FIELDS.name,
      library.name,
      LIBRARY_FIELDS.engine,
      "LUA",
      LIBRARY_FIELDS.functions,
      functions,
    ];
    if (withCode) fields.push(LIBRARY_FIELDS.code, library.code);
    out.push(new MapReply(fields));
  }
  return out;
}

function functionStats(ctx: ServerContext): Reply {
  const scripting = scriptingOf(ctx);
  const running = scripting.running;
  const current = running !== null && running.target.kind === "function"
    ? new MapReply([
      "name",
      running.target.name,
      "command",
      running.command,
      "duration_ms",
      Math.floor(performance.now() - running.startedAt),
    ])
    : null;
  const libraries = scripting.functions;
  return new MapReply([
    "running_script",
    current,
    "engines",
    new MapReply([
      "LUA",
      new MapReply([
        "libraries_count",
        libraries.libraries.size,
        "functions_count",
        libraries.functionCount,
      ]),
    ]),
  ]);
}

function functionDump(ctx: ServerContext): Reply {
  const codes = scriptingOf(ctx).functions.codes();
  return dumpFunctionLibraries(codes, ctx.config.values.rdbcompression);
}

function functionRestore(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  let policy: "flush" | "append" | "replace" = "append";
  if (argv.length > 4) throw new CommandError(subcommandArityError(argv[1], "function").message);
  if (argv.length === 4) {
    const word = toBinaryString(argv[3]).toLowerCase();
    if (word !== "flush" && word !== "append" && word !== "replace") {
      throw new CommandError(
        "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
      );
    }
    policy = word;
  }
  let codes: Uint8Array[];
  try {
    codes = restoreFunctionLibraries(argv[2], ctx.config.values["proto-max-bulk-len"]);
  } catch (e) {
    if (!(e instanceof DumpPayloadError)) throw e;
    throw new CommandError(
      e.kind === "footer"
        ? "ERR DUMP payload version or checksum are wrong"
        : "ERR given type is not a function",
    );
  }
  scriptingOf(ctx).functions.restore(codes, policy);
  ctx.keyspace.counters.dirty++;
  return OK;
}

const FUNCTION_HELP = [
  "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "LOAD [REPLACE] <FUNCTION CODE>",
  "    Create a new library with the given library name and code.",
  "DELETE <LIBRARY NAME>",
  "    Delete the given library.",
  "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
  "    Return general information on all the libraries:",
  "    * Library name",
  "    * The engine used to run the Library",
  "    * Library description",
  "    * Functions list",
  "    * Library code (if WITHCODE is given)",
  "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
  "STATS",
  "    Return information about the current function running:",
  "    * Function name",
  "    * Command used to run the function",
  "    * Duration in MS that the function is running",
  "    If no function is running, return nil",
  "    In addition, returns a list of available engines.",
  "KILL",
  "    Kill the current running function.",
  "FLUSH [ASYNC|SYNC]",
  "    Delete all the libraries.",
  "    When called without the optional mode argument, the behavior is determined by the",
  "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
  "    * ASYNC: Asynchronously flush the libraries.",
  "    * SYNC: Synchronously flush the libraries.",
  "DUMP",
  "    Return a serialized payload representing the current libraries, can be restored using " +
  "FUNCTION RESTORE command",
  "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
  "    Restore the libraries represented by the given payload, it is possible to give a " +
  "restore policy to",
  "    control how to handle existing libraries (default APPEND):",
  "    * FLUSH: delete all existing libraries.",
  "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
  "    * REPLACE: appends the restored libraries to the existing libraries, On collision, " +
  "replace the old",
  "      libraries with the new libraries (notice that even on this option there is a chance " +
  "of failure",
  "      in case of functions name collision with another library).",
  "HELP",
  "    Prints this help.",
].map((line) => new SimpleString(line));

const functionSub = subcommandMaker({ group: "scripting", since: "7.0.0" });

/** Declarations with Redis 7.0's arity, flags and docs. */
export const functionCommands: readonly CommandDef[] = [
  {
    name: "fcall",
    arity: -3,
    flags: scriptCommandFlags(false),
    keys: { first: 0, last: 0, step: 0 },
    keysOf: scriptKeys,
    group: "scripting",
    summary: "Invoke a function",
    since: "7.0.0",
    complexity: "Depends on the function that is executed.",
    handler: fcallGeneric(false),
  },
  {
    name: "fcall_ro",
    arity: -3,
    flags: scriptCommandFlags(true),
    keys: { first: 0, last: 0, step: 0 },
    keysOf: scriptKeys,
    group: "scripting",
    summary: "Invoke a read-only function",
    since: "7.0.0",
    complexity: "Depends on the function that is executed.",
    handler: fcallGeneric(true),
  },
  {
    name: "function",
    arity: -2,
    flags: [],
    group: "scripting",
    acl: ["@slow"],
    summary: "A container for function commands",
    since: "7.0.0",
    subcommands: [
      functionSub("delete", 3, ["write", "noscript"], "Delete a function by name", functionDelete),
      functionSub(
        "dump",
        2,
        ["noscript"],
        "Dump all functions into a serialized binary payload",
        functionDump,
      ),
      functionSub("flush", -2, ["write", "noscript"], "Deleting all functions", functionFlush),
      functionSub(
        "help",
        2,
        ["loading", "stale"],
        "Show helpful text about the different subcommands",
        () => FUNCTION_HELP,
      ),
      functionSub(
        "kill",
        2,
        ["noscript", "allow_busy"],
        "Kill the function currently in execution.",
        (ctx) => killScript(ctx, "function"),
      ),
      functionSub(
        "list",
        -2,
        ["noscript"],
        "List information about all the functions",
        functionList,
      ),
      functionSub(
        "load",
        -3,
        ["write", "denyoom", "noscript"],
        "Create a function with the given arguments (name, code, description)",
        functionLoad,
      ),
      functionSub(
        "restore",
        -3,
        ["write", "denyoom", "noscript"],
        "Restore all the functions on the given payload",
        functionRestore,
      ),
      functionSub(
        "stats",
        2,
        ["noscript", "allow_busy"],
        "Return information about the function currently running (name, description, duration)",
        functionStats,
      ),
    ],
  },
];
