/**
 * DEBUG: the subset of Redis 7.0's DEBUG that tests, benchmarks and tools use, with Redis's
 * replies. Like Redis it is a protected command: dispatch refuses it unless
 * `enable-debug-command` is `yes`, or `local` and the client is on 127.0.0.1/::1 (Redis's
 * default is `no`, and so is gocache's).
 *
 * - `SLEEP <seconds>` stops the whole server for that long, as Redis's does (tests use it to
 *   stand for a stuck node);
 * - `SET-ACTIVE-EXPIRE <0|1>` switches active expiry off and on;
 * - `POPULATE <count> [<prefix>] [<size>]` creates `prefix:N` string keys holding `value:N`
 *   (padded with zero bytes or cut to `size`), skipping those that exist; like Redis it is not
 *   propagated;
 * - `LOG <message>` writes the message to the log; `ERROR <message>` replies with it as an error
 *   (as is: no `ERR` code is added, a leading `-` of its own is kept).
 *
 * Redis's other subcommands (RELOAD, OBJECT, DIGEST, JMAP, ...) answer that gocache does not
 * have them.
 */
import { ErrorReply, OK, type Reply, SimpleString } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { fromUtf8, toBinaryString } from "../util/bytes.ts";
import { logger } from "../util/logger.ts";
import { now } from "../util/clock.ts";
import { parseInteger } from "../config/units.ts";
import type { ServerContext } from "./context.ts";
import { database } from "./_values.ts";
import { CommandError, subcommandArityError } from "./errors.ts";
import type { CommandDef } from "./registry.ts";

const log = logger("debug");

const HELP = [
  "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "ERROR <string>",
  "    Return a Redis protocol error with <string> as message. Useful for clients",
  "    unit tests to simulate Redis errors.",
  "LOG <message>",
  "    Write <message> to the server log.",
  "POPULATE <count> [<prefix>] [<size>]",
  "    Create <count> string keys named key:<num>. If <prefix> is specified then",
  "    it is used instead of the 'key' prefix. These are not propagated to",
  "    replicas. Cluster slots are not respected so keys not belonging to the",
  "    current node can be created in cluster mode.",
  "SET-ACTIVE-EXPIRE <0|1>",
  "    Setting it to 0 disables expiring keys in background when they are not",
  "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
  "    default.",
  "SLEEP <seconds>",
  "    Stop the server for <seconds>. Decimals allowed.",
  "HELP",
  "    Prints this help.",
].map((line) => new SimpleString(line));

/** Redis's DEBUG subcommands gocache does not have (answered as such, not as unknown). */
const NOT_IN_GOCACHE = new Set([
  "segfault",
  "panic",
  "restart",
  "crash-and-recover",
  "assert",
  "reload",
  "loadaof",
  "drop-cluster-packet-filter",
  "object",
  "sdslen",
  "ziplist",
  "listpack",
  "quicklist",
  "quicklist-packed-threshold",
  "protocol",
  "digest",
  "digest-value",
  "jmap",
  "change-repl-id",
  "stringmatch-len",
  "mallctl",
  "mallctl-str",
  "set-skip-checksum-validation",
  "replybuffer",
  "aof-flush-sleep",
  "set-disable-deny-scripts",
  "pause-cron",
  "dict-resizing",
  "client-eviction",
  "script",
  "htstats",
  "htstats-key",
]);

/** Stops the whole process for `ms` (a synchronous wait: nothing else runs meanwhile). */
function stopServerFor(ms: number): void {
  if (ms <= 0) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Redis's getPositiveLongFromObjectOrReply: one error for a non-number and a negative one. */
function positive(arg: Uint8Array): number {
  const n = parseInteger(toBinaryString(arg));
  if (n === null || n < 0) throw new CommandError("ERR value is out of range, must be positive");
  return n;
}

function populate(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const count = positive(argv[2]);
  const prefix = argv.length > 3 ? toBinaryString(argv[3]) : "key";
  const size = argv.length > 4 ? positive(argv[4]) : -1;
  const db = database(ctx, client);
  const at = now();
  for (let i = 0; i < count; i++) {
    const name = `${prefix}:${i}`;
    if (db.has(name, at)) continue;
    const key = Uint8Array.from(name, (c) => c.charCodeAt(0));
    const text = `value:${i}`;
    const value = new Uint8Array(size < 0 ? text.length : size);
    for (let j = 0; j < text.length && j < value.length; j++) value[j] = text.charCodeAt(j);
    db.setBytes(key, 0, key.length, value, 0, value.length, false, at);
  }
  return OK;
}

function debug(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const sub = fromUtf8(argv[1]).toLowerCase();
  const argc = argv.length;
  if (sub === "help" && argc === 2) return HELP;
  if (sub === "sleep" && argc === 3) {
    // Redis reads the seconds with strtod: what is not a number sleeps 0.
    const seconds = Number.parseFloat(fromUtf8(argv[2]));
    stopServerFor(Number.isFinite(seconds) ? seconds * 1000 : 0);
    return OK;
  }
  if (sub === "set-active-expire" && argc === 3) {
    ctx.keyspace.activeExpireEnabled = Number.parseInt(fromUtf8(argv[2]), 10) !== 0;
    return OK;
  }
  if (sub === "populate" && argc >= 3 && argc <= 5) return populate(ctx, client, argv);
  if (sub === "log" && argc === 3) {
    log.warn("DEBUG LOG: {message}", { message: fromUtf8(argv[2]) });
    return OK;
  }
  if (sub === "error" && argc === 3) {
    // Redis sends the text as given after the error's "-": no code added, a "-" of its own kept.
    return new ErrorReply(fromUtf8(argv[2]));
  }
  if (NOT_IN_GOCACHE.has(sub)) {
    throw new CommandError(`ERR DEBUG ${sub.toUpperCase()} is not supported by gocache`);
  }
  throw new CommandError(subcommandArityError(argv[1], "debug").message);
}

/** DEBUG (arity and flags as Redis 7.0 declares it, `protected` included). */
export const debugCommands: readonly CommandDef[] = [
  {
    name: "debug",
    arity: -2,
    flags: ["admin", "noscript", "loading", "stale", "protected"],
    group: "server",
    acl: [],
    summary: "A container for debugging commands",
    since: "1.0.0",
    complexity: "Depends on subcommand.",
    handler: debug,
  },
];
