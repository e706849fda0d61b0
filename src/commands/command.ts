/** COMMAND and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS): the command table, introspected. */
import { MapReply, type Reply, SetReply, SimpleString } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { globMatchString } from "../util/glob.ts";
import { Args } from "./args.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import { type Command, type CommandDef, type CommandFlag, lastKeyIndex } from "./registry.ts";

const status = (text: string): SimpleString => new SimpleString(text);

/** Redis's ACL categories in the order COMMAND INFO lists them (its category table). */
const CATEGORY_ORDER = [
  "@keyspace",
  "@read",
  "@write",
  "@set",
  "@sortedset",
  "@list",
  "@hash",
  "@string",
  "@bitmap",
  "@hyperloglog",
  "@geo",
  "@stream",
  "@pubsub",
  "@admin",
  "@fast",
  "@slow",
  "@blocking",
  "@dangerous",
  "@connection",
  "@transaction",
  "@scripting",
];

function groupCategories(cmd: Command): readonly string[] {
  const group = cmd.def.group;
  if (group === "connection") return ["@connection"];
  if (group === "string") return ["@string"];
  if (group === "bitmap") return ["@bitmap"];
  if (group === "hash") return ["@hash"];
  if (group === "list") return ["@list"];
  if (group === "set") return ["@set"];
  if (group === "sorted-set") return ["@sortedset"];
  if (group === "generic" || group === "keyspace") return ["@keyspace"];
  if (group === "scripting") return ["@scripting"];
  return [];
}

/**
 * ACL categories Redis gives a command: those its flags imply, plus its declared ones (or its
 * group's), in Redis's order.
 */
export function aclCategories(cmd: Command): string[] {
  const f = cmd.def.flags;
  const cats = new Set<string>(cmd.def.acl ?? groupCategories(cmd));
  if (f.includes("write")) cats.add("@write");
  // Redis's setImplicitACLCategories: read-only scripting commands are not @read.
  if (f.includes("readonly") && !cats.has("@scripting")) cats.add("@read");
  if (f.includes("admin")) cats.add("@admin").add("@dangerous");
  if (f.includes("pubsub")) cats.add("@pubsub");
  if (f.includes("blocking")) cats.add("@blocking");
  cats.add(f.includes("fast") ? "@fast" : "@slow");
  const rank = (c: string) => {
    const i = CATEGORY_ORDER.indexOf(c);
    return i < 0 ? CATEGORY_ORDER.length : i;
  };
  return [...cats].sort((a, b) => rank(a) - rank(b));
}

/**
 * The flags COMMAND INFO prints, in the order Redis prints them (its `addReplyCommandFlags`
 * table). Flags missing here, such as `sentinel`, are kept hidden by Redis too.
 */
const SHOWN_FLAGS: readonly CommandFlag[] = [
  "write",
  "readonly",
  "denyoom",
  "admin",
  "pubsub",
  "noscript",
  "blocking",
  "loading",
  "stale",
  "skip_monitor",
  "skip_slowlog",
  "asking",
  "fast",
  "no_auth",
  "no_mandatory_keys",
  "no_async_loading",
  "no_multi",
  "movablekeys",
  "allow_busy",
];

function shownFlags(cmd: Command): SimpleString[] {
  return SHOWN_FLAGS.filter((f) => cmd.def.flags.includes(f)).map(status);
}

/** Key specs; a set, as Redis 7.0 replies them (an array in RESP2). */
function keySpecs(cmd: Command): SetReply {
  const keys = cmd.def.keys;
  if (!keys) return new SetReply([]);
  const lastKey = keys.last < 0 ? keys.last : keys.last - keys.first;
  return new SetReply([
    new MapReply([
      "flags",
      new SetReply([]),
      "begin_search",
      new MapReply(["type", "index", "spec", new MapReply(["index", keys.first])]),
      "find_keys",
      new MapReply([
        "type",
        "range",
        "spec",
        new MapReply(["lastkey", lastKey, "keystep", keys.step, "limit", 0]),
      ]),
    ]),
  ]);
}

/** The COMMAND INFO entry of one command, in Redis 7's ten-element layout. */
export function commandInfo(cmd: Command): Reply {
  const keys = cmd.def.keys ?? { first: 0, last: 0, step: 0 };
  return [
    cmd.fullName,
    cmd.arity,
    new SetReply(shownFlags(cmd)),
    keys.first,
    keys.last,
    keys.step,
    new SetReply(aclCategories(cmd).map(status)),
    new SetReply([]),
    keySpecs(cmd),
    // Redis replies "no subcommands" as an empty set, and subcommands as an array.
    cmd.subcommands ? cmd.subcommands.map(commandInfo) : new SetReply([]),
  ];
}

function commandDocs(cmd: Command): Reply {
  const d = cmd.def;
  const fields: Reply[] = ["summary", d.summary, "since", d.since, "group", d.group];
  if (d.complexity) fields.push("complexity", d.complexity);
  if (cmd.subcommands) {
    const subs: Reply[] = [];
    for (const sub of cmd.subcommands) subs.push(sub.fullName, commandDocs(sub));
    fields.push("subcommands", new MapReply(subs));
  }
  return new MapReply(fields);
}

/**
 * The command a COMMAND INFO/DOCS argument names: `ping`, or `client|id` for a subcommand, in
 * any case (Redis's `lookupCommandBySds`).
 */
function lookupFullName(ctx: ServerContext, name: Uint8Array): Command | undefined {
  const bar = name.indexOf(124);
  if (bar < 0) return ctx.commands.lookup(name);
  const rest = name.subarray(bar + 1);
  if (rest.indexOf(124) >= 0) return undefined;
  return ctx.commands.lookup(name.subarray(0, bar))?.subcommandIndex?.get(rest);
}

function everyCommand(ctx: ServerContext): Command[] {
  const out: Command[] = [];
  for (const cmd of ctx.commands.all()) {
    out.push(cmd);
    if (cmd.subcommands) out.push(...cmd.subcommands);
  }
  return out;
}

function list(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  const args = new Args(argv, 2);
  let filter: (c: Command) => boolean = () => true;
  if (args.hasMore) {
    if (args.keyword() !== "filterby" || args.remaining !== 2) {
      throw new CommandError("ERR syntax error");
    }
    const kind = args.keyword();
    const value = args.text();
    if (kind === "module") filter = () => false;
    else if (kind === "aclcat") filter = (c) => aclCategories(c).includes(`@${value}`);
    else if (kind === "pattern") filter = (c) => globMatchString(value, c.fullName, true);
    else throw new CommandError("ERR syntax error");
  }
  return everyCommand(ctx).filter(filter).map((c) => c.fullName);
}

function getkeys(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  const target = argv.slice(2);
  let cmd = ctx.commands.lookup(target[0]);
  if (cmd?.subcommandIndex && target.length > 1) cmd = cmd.subcommandIndex.get(target[1]);
  if (!cmd) throw new CommandError("ERR Invalid command specified");
  // Redis's order of checks: a keyless command is refused before its arity is looked at.
  const keys = cmd.def.keys;
  if (!keys) throw new CommandError("ERR The command has no key arguments");
  if (!cmd.arityAllows(target.length)) {
    throw new CommandError("ERR Invalid number of arguments specified for command");
  }
  if (cmd.def.keysOf !== undefined) {
    const positions = cmd.def.keysOf(target);
    if (positions.length === 0) {
      throw new CommandError("ERR Invalid arguments specified for command");
    }
    return positions.map((i) => target[i]);
  }
  const last = lastKeyIndex(keys, target.length);
  const out: Uint8Array[] = [];
  for (let i = keys.first; i <= last; i += keys.step) out.push(target[i]);
  return out;
}

const HELP = [
  "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "(no subcommand)",
  "    Return details about all Redis commands.",
  "COUNT",
  "    Return the total number of commands in this Redis server.",
  "LIST",
  "    Return a list of all commands in this Redis server.",
  "INFO [<command-name> ...]",
  "    Return details about multiple Redis commands.",
  "DOCS [<command-name> ...]",
  "    Return documentation details about multiple Redis commands.",
  "GETKEYS <full-command>",
  "    Return the keys from a full Redis command.",
  "HELP",
  "    Print this help.",
].map(status);

function sub(
  name: string,
  arity: number,
  summary: string,
  handler: CommandDef["handler"],
): CommandDef {
  return {
    name,
    arity,
    flags: ["loading", "stale"],
    group: "server",
    acl: ["@connection"],
    summary,
    since: "7.0.0",
    handler,
  };
}

/** The reply to bare `COMMAND`: every command's info. */
function allCommandInfo(ctx: ServerContext): Reply {
  return [...ctx.commands.all()].map(commandInfo);
}

/** COMMAND declaration; bare COMMAND (no subcommand) is answered by the container's handler. */
export const commandCommands: readonly CommandDef[] = [
  {
    name: "command",
    arity: -1,
    flags: ["loading", "stale"],
    group: "server",
    acl: ["@connection"],
    summary: "Returns detailed information about all commands.",
    since: "2.8.13",
    complexity: "O(N) where N is the total number of Redis commands",
    handler: allCommandInfo,
    subcommands: [
      sub("count", 2, "Returns a count of commands.", (ctx) => ctx.commands.size),
      sub(
        "info",
        -2,
        "Returns information about one, multiple or all commands.",
        (ctx, _c, argv) => {
          if (argv.length === 2) return allCommandInfo(ctx);
          return argv.slice(2).map((name) => {
            const cmd = lookupFullName(ctx, name);
            return cmd ? commandInfo(cmd) : null;
          });
        },
      ),
      sub(
        "docs",
        -2,
        "Returns documentary information about one, multiple or all commands.",
        (ctx, _c, argv) => {
          const commands = argv.length === 2
            ? [...ctx.commands.all()]
            : argv.slice(2).map((n) => lookupFullName(ctx, n));
          const out: Reply[] = [];
          for (const cmd of commands) {
            if (cmd) out.push(cmd.fullName, commandDocs(cmd));
          }
          return new MapReply(out);
        },
      ),
      sub("list", -2, "Returns a list of command names.", list),
      sub("getkeys", -4, "Extracts the key names from an arbitrary command.", getkeys),
      sub("help", 2, "Returns helpful text about the different subcommands.", () => HELP),
    ],
  },
];
