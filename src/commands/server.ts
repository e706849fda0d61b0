/** Server commands: TIME, CONFIG (GET, SET, RESETSTAT, REWRITE), INFO, SHUTDOWN. */
import { allowProtectedAction } from "../server/bind.ts";
import { busyRefusal } from "../scripting/script_run.ts";
import { ConfigSetError } from "../config/config.ts";
import { rewriteConfigFile } from "../config/rewrite.ts";
import { ErrorReply, MapReply, NO_REPLY, OK, type Reply, SimpleString } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { asciiLower, binaryFromText, fromUtf8, toBinaryString } from "../util/bytes.ts";
import { nowMicros } from "../util/clock.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import { infoCommand } from "./info.ts";
import { inExec } from "./transactions.ts";
import type { CommandDef } from "./registry.ts";
import { logger } from "../util/logger.ts";

const log = logger("config");

function time(): Reply {
  const micros = nowMicros();
  return [String(Math.floor(micros / 1e6)), String(micros % 1e6)];
}

function configGet(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  const patterns = argv.slice(2).map((p) => fromUtf8(p));
  return new MapReply(ctx.config.configGet(patterns).flat().map(binaryFromText));
}

/**
 * Whether `client` may CONFIG SET protected parameters: `enable-protected-configs` yes, or
 * local and the client connected from 127.0.0.1 or ::1 (Redis's allowProtectedAction).
 */
function mayChangeProtected(ctx: ServerContext, client: ClientState): boolean {
  return allowProtectedAction(ctx.config.values["enable-protected-configs"], client.addr);
}

function configSet(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  // Redis 7.0 answers an odd number of words (a name without its value) with a syntax error.
  if (argv.length % 2 !== 0) throw new CommandError("ERR syntax error");
  const pairs: [string, string][] = [];
  for (let i = 2; i < argv.length; i += 2) {
    pairs.push([toBinaryString(argv[i]), fromUtf8(argv[i + 1])]);
  }
  try {
    ctx.config.set(pairs, mayChangeProtected(ctx, client));
  } catch (e) {
    if (!(e instanceof ConfigSetError)) throw e;
    if (e.message === "unknown") {
      return new ErrorReply(
        `ERR Unknown option or number of arguments for CONFIG SET - '${e.param}'`,
      );
    }
    return new ErrorReply(
      `ERR CONFIG SET failed (possibly related to argument '${e.param}') - ${e.message}`,
    );
  }
  return OK;
}

function shutdown(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  let save: boolean | undefined;
  let nosave = false;
  let otherFlags = false;
  let abort = false;
  for (let i = 1; i < argv.length; i++) {
    const option = asciiLower(argv[i]);
    if (option === "nosave") nosave = true;
    else if (option === "save") save = true;
    else if (option === "now" || option === "force") otherFlags = true;
    else if (option === "abort") abort = true;
    else throw new CommandError("ERR syntax error");
  }
  // Redis refuses ABORT with any other flag, and SAVE with NOSAVE, before doing anything.
  const anyFlag = nosave || save !== undefined || otherFlags;
  if ((abort && anyFlag) || (nosave && save)) throw new CommandError("ERR syntax error");
  if (abort) throw new CommandError("ERR No shutdown in progress.");
  // Past busy-reply-threshold a script may have written half of its work: only NOSAVE stops
  // the server then, so that no file keeps the half (Redis's shutdownCommand).
  const running = ctx.scripting?.busy ? ctx.scripting.running : null;
  if (running !== null && !nosave) throw new CommandError(busyRefusal(running.target.kind).message);
  ctx.requestShutdown({ save: nosave ? false : save });
  return NO_REPLY;
}

const CONFIG_HELP = [
  "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "GET <pattern>",
  "    Return parameters matching the glob-like <pattern> and their values.",
  "SET <directive> <value>",
  "    Set the configuration <directive> to <value>.",
  "RESETSTAT",
  "    Reset statistics reported by the INFO command.",
  "REWRITE",
  "    Rewrite the configuration file.",
  "HELP",
  "    Print this help.",
].map((line) => new SimpleString(line));

/**
 * CONFIG REWRITE: the running configuration into the YAML file (see config/rewrite.ts). Without
 * a file it fails as Redis does; Sentinel sends it after REPLICAOF inside MULTI and ignores the
 * reply, so it must exist for the transaction to be queued at all.
 */
function configRewrite(ctx: ServerContext): Reply {
  const error = rewriteConfigFile(ctx.config);
  if (error !== null) return new ErrorReply(error);
  log.info("CONFIG REWRITE executed with success");
  return OK;
}

/** BGREWRITEAOF: starts compacting the AOF in the background (see persistence.ts). */
function bgrewriteaof(ctx: ServerContext): Reply {
  const p = ctx.persistence;
  if (inExec() && !p.rewriting && p.aof !== null) {
    p.schedule("rewrite");
    return new SimpleString("Background append only file rewriting scheduled");
  }
  const refused = p.startRewrite();
  if (refused !== null) throw new CommandError(`ERR ${refused}`);
  return new SimpleString(
    p.rewriting
      ? "Background append only file rewriting started"
      : "Background append only file rewriting scheduled",
  );
}

/** SAVE: writes the RDB dump now, blocking every client until it is on disk. */
function saveNow(ctx: ServerContext): Reply {
  const error = ctx.persistence.save();
  return error === null ? OK : new ErrorReply(`ERR ${error}`);
}

/** BGSAVE [SCHEDULE]: starts a point-in-time snapshot in the background. */
function bgsave(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  if (argv.length > 2 || (argv.length === 2 && asciiLower(argv[1]) !== "schedule")) {
    throw new CommandError("ERR syntax error");
  }
  if (inExec() && !ctx.persistence.saving) {
    ctx.persistence.schedule("bgsave");
    return new SimpleString("Background saving scheduled");
  }
  const { ok, text } = ctx.persistence.startBgsave(argv.length === 2);
  if (!ok) throw new CommandError(`ERR ${text}`);
  return new SimpleString(text);
}

/** Server command declarations. */
export const serverCommands: readonly CommandDef[] = [
  {
    name: "time",
    arity: 1,
    flags: ["loading", "stale", "fast"],
    group: "server",
    summary: "Returns the server time.",
    since: "2.6.0",
    complexity: "O(1)",
    handler: time,
  },
  {
    name: "config",
    arity: -2,
    flags: [],
    group: "server",
    acl: [],
    summary: "A container for server configuration commands.",
    since: "2.0.0",
    subcommands: [
      {
        name: "get",
        arity: -3,
        flags: ["admin", "noscript", "loading", "stale"],
        group: "server",
        summary: "Returns the effective values of configuration parameters.",
        since: "2.0.0",
        complexity: "O(N) when N is the number of configuration parameters provided",
        handler: configGet,
      },
      {
        name: "set",
        arity: -4,
        flags: ["admin", "noscript", "loading", "stale"],
        group: "server",
        summary: "Sets configuration parameters in-flight.",
        since: "2.0.0",
        complexity: "O(N) when N is the number of configuration parameters provided",
        handler: configSet,
      },
      {
        name: "resetstat",
        arity: 2,
        flags: ["admin", "noscript", "loading", "stale"],
        group: "server",
        summary: "Resets the server's statistics.",
        since: "2.0.0",
        complexity: "O(1)",
        handler: (ctx) => {
          ctx.stats.reset();
          ctx.keyspace.resetCounters();
          ctx.observer.latency.reset();
          for (const c of ctx.commands.byId) c.calls = c.failedCalls = c.rejectedCalls = 0;
          return OK;
        },
      },
      {
        name: "rewrite",
        arity: 2,
        flags: ["admin", "noscript", "loading", "stale"],
        group: "server",
        summary: "Persists the effective configuration to file.",
        since: "2.8.0",
        complexity: "O(1)",
        handler: configRewrite,
      },
      {
        name: "help",
        arity: 2,
        flags: ["loading", "stale"],
        group: "server",
        summary: "Returns helpful text about the different subcommands.",
        since: "5.0.0",
        complexity: "O(1)",
        handler: () => CONFIG_HELP,
      },
    ],
  },
  infoCommand,
  {
    name: "shutdown",
    arity: -1,
    flags: ["admin", "noscript", "loading", "stale", "no_multi", "sentinel", "allow_busy"],
    group: "server",
    summary: "Synchronously saves the database(s) to disk and shuts down the server.",
    since: "1.0.0",
    complexity: "O(N) when saving, where N is the total number of keys in all databases",
    handler: shutdown,
  },
  {
    name: "bgrewriteaof",
    arity: 1,
    flags: ["admin", "noscript", "no_async_loading"],
    group: "server",
    summary: "Asynchronously rewrite the append-only file",
    since: "1.0.0",
    complexity: "O(1)",
    handler: bgrewriteaof,
  },
  {
    name: "save",
    arity: 1,
    flags: ["admin", "noscript", "no_async_loading", "no_multi"],
    group: "server",
    acl: ["@dangerous"],
    summary: "Synchronously save the dataset to disk",
    since: "1.0.0",
    complexity: "O(N) where N is the total number of keys in all databases",
    handler: saveNow,
  },
  {
    name: "bgsave",
    arity: -1,
    flags: ["admin", "noscript", "no_async_loading"],
    group: "server",
    acl: ["@dangerous"],
    summary: "Asynchronously save the dataset to disk",
    since: "1.0.0",
    complexity: "O(1)",
    handler: bgsave,
  },
  {
    name: "lastsave",
    arity: 1,
    flags: ["loading", "stale", "fast"],
    group: "server",
    acl: ["@admin", "@dangerous"],
    summary: "Get the UNIX time stamp of the last successful save to disk",
    since: "1.0.0",
    complexity: "O(1)",
    handler: (ctx) => Math.floor(ctx.persistence.lastSaveTime / 1000),
  },
];
