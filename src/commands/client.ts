/**
 * CLIENT and its subcommands: ID, SETNAME, GETNAME, INFO, LIST, KILL, SETINFO, NO-EVICT,
 * NO-TOUCH, REPLY, UNBLOCK.
 */
import { Args } from "./args.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import type { CommandDef } from "./registry.ts";
import {
  ErrorReply,
  NO_REPLY,
  OK,
  type Reply,
  SimpleString,
  VerbatimReply,
} from "../resp/reply.ts";
import { type ClientState, REPLY_OFF, REPLY_SKIP, REPLY_SKIP_NEXT } from "../server/client.ts";
import type { ClientHandle } from "../server/client_table.ts";
import { isSubscriber } from "../pubsub/subscriber_mode.ts";
import { asciiLower, fromUtf8, toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import { unblockClient } from "../server/blocked_keys.ts";

/**
 * Returns the name as text if Redis would accept it as a client name (printable ASCII without
 * spaces), else throws Redis's error.
 */
export function validateClientName(bytes: Uint8Array): string {
  for (const b of bytes) {
    if (b < 33 || b > 126) {
      throw new CommandError(
        "ERR Client names cannot contain spaces, newlines or special characters.",
      );
    }
  }
  return fromUtf8(bytes);
}

const HELP = [
  "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "GETNAME",
  "    Return the name of the current connection.",
  "ID",
  "    Return the ID of the current connection.",
  "INFO",
  "    Return information about the current client connection.",
  "KILL <ip:port>",
  "    Kill connection made from <ip:port>.",
  "KILL <option> <value> [<option> <value> [...]]",
  "    Kill connections. Options are: ID, TYPE (normal|master|replica|pubsub), USER, ADDR,",
  "    LADDR, SKIPME (yes|no), MAXAGE.",
  "LIST [TYPE (normal|master|replica|pubsub)] [ID <client-id> ...]",
  "    Return information about client connections.",
  "NO-EVICT (ON|OFF)",
  "    Protect current client connection from eviction.",
  "NO-TOUCH (ON|OFF)",
  "    Will not touch LRU/LFU stats when this mode is on.",
  "REPLY (ON|OFF|SKIP)",
  "    Control the replies sent to the current connection.",
  "SETINFO <option> <value>",
  "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
  "SETNAME <name>",
  "    Assign the name <name> to the current connection.",
  "UNBLOCK <clientid> [TIMEOUT|ERROR]",
  "    Unblock the specified blocked client.",
  "HELP",
  "    Print this help.",
].map((line) => new SimpleString(line));

const CLIENT_TYPES = ["normal", "master", "replica", "slave", "pubsub"];

function typeFilter(args: Args): string {
  const raw = args.bytes();
  const type = asciiLower(raw);
  if (!CLIENT_TYPES.includes(type)) {
    throw new CommandError(`ERR Unknown client type '${toBinaryString(raw)}'`);
  }
  return type === "slave" ? "replica" : type;
}

/** The class Redis gives a client (`getClientType`): a follower of ours, a subscriber, or normal. */
function clientType(state: ClientState): string {
  if (state.link === "replica") return "replica";
  return isSubscriber(state) ? "pubsub" : "normal";
}

function list(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  const args = new Args(argv, 2);
  let ids: Set<number> | null = null;
  let type: string | null = null;
  while (args.hasMore) {
    const option = args.keyword();
    if (option === "type" && args.hasMore) type = typeFilter(args);
    else if (option === "id" && args.hasMore) {
      // Any integer is accepted, as in Redis: ids that no client has (0, negative) match nothing.
      ids = new Set();
      while (args.hasMore) ids.add(args.integer("ERR Invalid client ID"));
    } else throw new CommandError("ERR syntax error");
  }
  const at = now();
  let text = "";
  for (const handle of ctx.clients.all()) {
    if (ids !== null && !ids.has(handle.state.id)) continue;
    if (type !== null && clientType(handle.state) !== type) continue;
    text += handle.state.describe(at) + "\n";
  }
  return new VerbatimReply(text);
}

function kill(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  if (argv.length === 3) {
    const addr = fromUtf8(argv[2]);
    for (const handle of ctx.clients.all()) {
      if (handle.state.addr === addr) {
        ctx.clients.kill(handle, client);
        return OK;
      }
    }
    return new ErrorReply("ERR No such client");
  }
  const args = new Args(argv, 2);
  const filters: ((h: ClientHandle) => boolean)[] = [];
  let skipMe = true;
  // The link to our leader is not in the client table: TYPE master drops it (it reconnects).
  let killLeaderLink = false;
  if (args.remaining % 2 !== 0) throw new CommandError("ERR syntax error");
  while (args.hasMore) {
    const option = args.keyword();
    if (option === "id") {
      const id = args.integer("ERR client-id should be greater than 0");
      if (id <= 0) throw new CommandError("ERR client-id should be greater than 0");
      filters.push((h) => h.state.id === id);
    } else if (option === "type") {
      const type = typeFilter(args);
      if (type === "master") killLeaderLink = true;
      filters.push((h) => clientType(h.state) === type);
    } else if (option === "addr") {
      const addr = args.text();
      filters.push((h) => h.state.addr === addr);
    } else if (option === "laddr") {
      const laddr = args.text();
      filters.push((h) => h.state.laddr === laddr);
    } else if (option === "user") {
      // Redis refuses a user that does not exist.
      const name = toBinaryString(args.bytes());
      const user = ctx.acl.user(name);
      if (user === undefined) throw new CommandError(`ERR No such user '${name}'`);
      filters.push((h) => h.state.user === user);
    } else if (option === "skipme") {
      const value = args.keyword();
      if (value !== "yes" && value !== "no") throw new CommandError("ERR syntax error");
      skipMe = value === "yes";
    } else if (option === "maxage") {
      const maxAge = args.integer();
      const at = now();
      filters.push((h) => (at - h.state.createdAt) / 1000 >= maxAge);
    } else throw new CommandError("ERR syntax error");
  }
  const victims = [...ctx.clients.all()].filter((h) =>
    !(skipMe && h.state === client) && filters.every((f) => f(h))
  );
  for (const victim of victims) ctx.clients.kill(victim, client);
  const follower = ctx.replication.follower;
  if (killLeaderLink && follower !== null && follower.state !== "connect") {
    follower.disconnect();
    return victims.length + 1;
  }
  return victims.length;
}

function setinfo(_ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  // Redis 7.2 checks the option name first, then the value.
  const option = fromUtf8(argv[2]);
  const name = option.toLowerCase();
  if (name !== "lib-name" && name !== "lib-ver") {
    throw new CommandError(`ERR Unrecognized option '${option}'`);
  }
  const value = argv[3];
  for (const b of value) {
    if (b < 33 || b > 126) {
      throw new CommandError(
        `ERR ${option} cannot contain spaces, newlines or special characters.`,
      );
    }
  }
  if (name === "lib-name") client.libName = fromUtf8(value);
  else client.libVersion = fromUtf8(value);
  return OK;
}

function onOff(argv: Uint8Array[]): boolean {
  const value = fromUtf8(argv[2]).toLowerCase();
  if (value !== "on" && value !== "off") throw new CommandError("ERR syntax error");
  return value === "on";
}

/** CLIENT REPLY ON|OFF|SKIP: Redis's flags; only ON answers (see connection.ts). */
function reply(_ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const mode = asciiLower(argv[2]);
  if (mode === "on") {
    client.replyFlags &= ~(REPLY_OFF | REPLY_SKIP);
    return OK;
  }
  if (mode === "off") client.replyFlags |= REPLY_OFF;
  else if (mode === "skip") {
    if (!(client.replyFlags & REPLY_OFF)) client.replyFlags |= REPLY_SKIP_NEXT;
  } else throw new CommandError("ERR syntax error");
  return NO_REPLY;
}

/**
 * CLIENT UNBLOCK id [TIMEOUT|ERROR] (Redis's order of checks: the reason, then the id): 1 when
 * the client was blocked on keys and is now released, else 0.
 */
function unblock(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  if (argv.length > 4) throw new CommandError(unknownSubcommandArity("unblock"));
  let error = false;
  if (argv.length === 4) {
    const reason = asciiLower(argv[3]);
    if (reason === "error") error = true;
    else if (reason !== "timeout") {
      throw new CommandError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
    }
  }
  const id = new Args(argv, 2).integer();
  return unblockClient(ctx, id, error) ? 1 : 0;
}

/** Redis's reply to a CLIENT subcommand given a count of arguments it does not take. */
function unknownSubcommandArity(name: string): string {
  return `ERR unknown subcommand or wrong number of arguments for '${name}'. Try CLIENT HELP.`;
}

function sub(
  name: string,
  arity: number,
  summary: string,
  handler: CommandDef["handler"],
  flags: CommandDef["flags"] = ["noscript", "loading", "stale"],
): CommandDef {
  return { name, arity, flags, group: "connection", summary, since: "2.4.0", handler };
}

/** CLIENT declaration. */
export const clientCommands: readonly CommandDef[] = [
  {
    name: "client",
    arity: -2,
    flags: ["sentinel"],
    group: "connection",
    acl: [],
    summary: "A container for client connection commands.",
    since: "2.4.0",
    subcommands: [
      sub("id", 2, "Returns the unique client ID of the connection.", (_c, client) => client.id),
      sub("setname", 3, "Sets the connection name.", (_c, client, argv) => {
        client.name = validateClientName(argv[2]);
        return OK;
      }),
      sub(
        "getname",
        2,
        "Returns the name of the connection.",
        (_c, client) => client.name === "" ? null : client.name,
      ),
      sub(
        "info",
        2,
        "Returns information about the connection.",
        (_c, client) => new VerbatimReply(client.describe() + "\n"),
      ),
      sub("list", -2, "Lists open connections.", list, ["admin", "noscript", "loading", "stale"]),
      sub("kill", -3, "Terminates open connections.", kill, [
        "admin",
        "noscript",
        "loading",
        "stale",
      ]),
      sub("setinfo", 4, "Sets information specific to the client or connection.", setinfo),
      sub(
        "no-evict",
        3,
        "Sets the client eviction mode of the connection.",
        (_c, client, argv) => {
          client.noEvict = onOff(argv);
          return OK;
        },
        ["admin", "noscript", "loading", "stale"],
      ),
      sub(
        "no-touch",
        3,
        "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
        (_c, client, argv) => {
          client.noTouch = onOff(argv);
          return OK;
        },
      ),
      sub("reply", 3, "Instructs the server whether to reply to commands.", reply),
      sub(
        "unblock",
        -3,
        "Unblocks a client blocked by a blocking command from a different connection.",
        unblock,
        [
          "admin",
          "noscript",
          "loading",
          "stale",
        ],
      ),
      sub(
        "help",
        2,
        "Returns helpful text about the different subcommands.",
        () => HELP,
        ["loading", "stale"],
      ),
    ],
  },
];
