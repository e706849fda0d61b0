/**
 * SLOWLOG (GET, LEN, RESET, HELP) and MONITOR: Redis's views of what the server is running. The
 * slow log and the MONITOR feed themselves live in server/observer.ts; these handlers only read
 * and switch them.
 */
import { NO_REPLY, OK, type Reply, SimpleString } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { toBinaryString } from "../util/bytes.ts";
import { parseInteger } from "../config/units.ts";
import type { ServerContext } from "./context.ts";
import { CommandError, subcommandArityError } from "./errors.ts";
import type { CommandDef } from "./registry.ts";

const SLOWLOG_HELP = [
  "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "GET [<count>]",
  "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
  "    Entries are made of:",
  "    id, timestamp, time in microseconds, arguments array, client IP and port,",
  "    client name",
  "LEN",
  "    Return the length of the slowlog.",
  "RESET",
  "    Reset the slowlog.",
  "HELP",
  "    Prints this help.",
].map((line) => new SimpleString(line));

function slowlogGet(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  if (argv.length > 3) {
    throw new CommandError(subcommandArityError(argv[1], "slowlog").message);
  }
  let count = 10;
  if (argv.length === 3) {
    const parsed = parseInteger(toBinaryString(argv[2]));
    if (parsed === null || parsed < -1) {
      throw new CommandError("ERR count should be greater than or equal to -1");
    }
    count = parsed;
  }
  return ctx.observer.slowlog.newest(count).map((e) => [
    e.id,
    e.time,
    e.micros,
    e.argv,
    e.addr,
    e.name,
  ]);
}

/**
 * MONITOR: from now on the client receives every command run by any client, as Redis's
 * status lines. A client already monitoring gets no reply, as in Redis.
 */
function monitor(ctx: ServerContext, client: ClientState): Reply {
  if (client.monitor) return NO_REPLY;
  client.monitor = true;
  ctx.observer.addMonitor(client);
  return OK;
}

function slowlogSub(
  name: string,
  arity: number,
  summary: string,
  handler: CommandDef["handler"],
): CommandDef {
  return {
    name,
    arity,
    flags: name === "help" ? ["loading", "stale"] : ["admin", "loading", "stale"],
    group: "server",
    acl: [],
    summary,
    since: "2.2.12",
    handler,
  };
}

/** SLOWLOG and MONITOR declarations (arity and flags as Redis 7.0 declares them). */
export const diagnosticCommands: readonly CommandDef[] = [
  {
    name: "slowlog",
    arity: -2,
    flags: [],
    group: "server",
    acl: [],
    summary: "A container for slow log commands",
    since: "2.2.12",
    subcommands: [
      slowlogSub("get", -2, "Get the slow log's entries", slowlogGet),
      slowlogSub("len", 2, "Get the slow log's length", (ctx) => ctx.observer.slowlog.length),
      slowlogSub("reset", 2, "Clear all entries from the slow log", (ctx) => {
        ctx.observer.slowlog.reset();
        return OK;
      }),
      slowlogSub("help", 2, "Show helpful text about the different subcommands", () => {
        return SLOWLOG_HELP;
      }),
    ],
  },
  {
    name: "monitor",
    arity: 1,
    flags: ["admin", "noscript", "loading", "stale"],
    group: "server",
    summary: "Listen for all requests received by the server in real time",
    since: "1.0.0",
    handler: monitor,
  },
];
