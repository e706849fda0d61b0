/**
 * ACL and its subcommands (Redis 7.0's aclCommand): SETUSER, GETUSER, DELUSER, LIST, USERS,
 * WHOAMI, CAT, GENPASS, LOG, DRYRUN, LOAD, SAVE, HELP. The users and checks live in src/acl/;
 * this module parses arguments, shapes replies and disconnects the clients of users deleted or
 * replaced, as Redis does.
 */
import { Args } from "./args.ts";
import type { ServerContext } from "./context.ts";
import { CommandError, subcommandArityError } from "./errors.ts";
import { type Command, type CommandDef, subcommandMaker } from "./registry.ts";
import { MapReply, OK, type Reply, SetReply, SimpleString } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { fromBinaryString, toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import { CATEGORIES, categoryBit } from "../acl/categories.ts";
import { describeCommandRules, keyPatternText } from "../acl/describe.ts";
import { hasSpaces, type Selector } from "../acl/selector.ts";
import { FLAG_NAMES, type User } from "../acl/user.ts";
import { dryrunText } from "../acl/refusal.ts";
import { channelAllowed } from "../acl/check.ts";
import { pubsubHub } from "../pubsub/hub.ts";

const NO_ACL_FILE = "ERR This Redis instance is not configured to use an ACL file. You may " +
  "want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE " +
  "(assuming you have a Redis configuration file set) in order to store users in the Redis " +
  "configuration.";
const GENPASS_MAX_BITS = 4096;

/**
 * Disconnects every client authenticated as one of `users` (Redis's
 * ACLFreeUserAndKillClients): it becomes the default user, unauthenticated, and is closed; the
 * client running the command gets its reply first.
 */
function disconnectClientsOf(ctx: ServerContext, users: ReadonlySet<User>, by: ClientState): void {
  for (const handle of [...ctx.clients.all()]) {
    const state = handle.state;
    if (!users.has(state.user)) continue;
    state.user = ctx.acl.default;
    state.authenticated = false;
    ctx.clients.kill(handle, by);
  }
}

function setuser(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const name = toBinaryString(argv[2]);
  if (hasSpaces(name)) {
    throw new CommandError("ERR Usernames can't contain spaces or null characters");
  }
  const result = ctx.acl.setUser(name, argv.slice(3).map((a) => toBinaryString(a)));
  if ("error" in result) throw new CommandError(`ERR ${result.error}`);
  disconnectRefusedSubscribers(ctx, result.user, client);
  return OK;
}

/**
 * Closes the clients of `user` that are subscribed to a channel or pattern its rules no longer
 * allow (Redis's ACLKillPubsubClientsIfNeeded): they would keep receiving messages the user
 * may not read.
 */
function disconnectRefusedSubscribers(ctx: ServerContext, user: User, by: ClientState): void {
  const hub = pubsubHub(ctx);
  for (const handle of [...ctx.clients.all()]) {
    if (handle.state.user !== user) continue;
    const refused = hub.subscriptionsOf(handle.state).some(({ kind, name }) =>
      !user.selectors.some((selector) =>
        channelAllowed(selector, fromBinaryString(name), kind === "pattern")
      )
    );
    if (refused) ctx.clients.kill(handle, by);
  }
}

function deluser(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const names = argv.slice(2).map((a) => toBinaryString(a));
  if (names.includes("default")) throw new CommandError("ERR The 'default' user cannot be removed");
  const deleted = new Set<User>();
  for (const name of names) {
    const user = ctx.acl.deleteUser(name);
    if (user !== undefined) deleted.add(user);
  }
  disconnectClientsOf(ctx, deleted, client);
  return deleted.size;
}

/** The commands, keys and channels fields of one selector (ACL GETUSER). */
function selectorFields(ctx: ServerContext, selector: Selector): Reply[] {
  const keys = selector.allKeys
    ? "~*"
    : selector.keys.map((k) => keyPatternText(k.pattern, k.flags)).join(" ");
  const channels = selector.allChannels
    ? "&*"
    : selector.channels.map((c) => `&${c.pattern}`).join(" ");
  return [
    "commands",
    describeCommandRules(selector, ctx.acl.table),
    "keys",
    keys,
    "channels",
    channels,
  ];
}

function getuser(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  const user = ctx.acl.user(toBinaryString(argv[2]));
  if (user === undefined) return null;
  const flags = FLAG_NAMES.filter(([flag]) => user.flags & flag).map(([, name]) => name);
  return new MapReply([
    "flags",
    new SetReply(flags),
    "passwords",
    [...user.passwords],
    ...selectorFields(ctx, user.root),
    "selectors",
    user.selectors.slice(1).map((s) => new MapReply(selectorFields(ctx, s))),
  ]);
}

function list(ctx: ServerContext): Reply {
  return ctx.acl.users().map((u) => `user ${u.name} ${u.describe()}`);
}

function users(ctx: ServerContext): Reply {
  return ctx.acl.users().map((u) => u.name);
}

function load(ctx: ServerContext, client: ClientState): Reply {
  if (ctx.config.values.aclfile === "") throw new CommandError(NO_ACL_FILE);
  const before = new Set(ctx.acl.users().filter((u) => u !== ctx.acl.default));
  const errors = ctx.acl.loadFile();
  if (errors !== null) throw new CommandError(`ERR ${errors}`);
  // Redis frees every user of the old set but the default one, with their clients.
  disconnectClientsOf(ctx, before, client);
  return OK;
}

function save(ctx: ServerContext): Reply {
  if (ctx.config.values.aclfile === "") throw new CommandError(NO_ACL_FILE);
  if (ctx.acl.saveFile()) return OK;
  throw new CommandError(
    "ERR There was an error trying to save the ACLs. Please check the server logs for more " +
      "information",
  );
}

function cat(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  if (argv.length > 3) return subcommandArityError(argv[1], "acl");
  if (argv.length === 2) return [...CATEGORIES];
  const name = toBinaryString(argv[2]);
  const bit = categoryBit(name);
  if (bit === 0) throw new CommandError(`ERR Unknown category '${name.slice(0, 128)}'`);
  return ctx.acl.table.inCategory(bit);
}

function genpass(_ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  if (argv.length > 3) return subcommandArityError(argv[1], "acl");
  const bits = argv.length === 3 ? new Args(argv, 2).integer() : 256;
  if (bits <= 0 || bits > GENPASS_MAX_BITS) {
    throw new CommandError(
      "ERR ACL GENPASS argument must be the number of bits for the output password, a " +
        `positive number up to ${GENPASS_MAX_BITS}`,
    );
  }
  const chars = Math.floor((bits + 3) / 4);
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(chars / 2)));
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return hex.slice(0, chars);
}

function log(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  if (argv.length > 3) return subcommandArityError(argv[1], "acl");
  let count = 10;
  if (argv.length === 3) {
    if (toBinaryString(argv[2]).toLowerCase() === "reset") {
      ctx.acl.log.reset();
      return OK;
    }
    count = Math.max(0, new Args(argv, 2).integer());
  }
  return ctx.acl.log.reply(count, now());
}

/** The command ACL DRYRUN names (Redis's lookupCommand), or undefined. */
function lookupTarget(ctx: ServerContext, target: Uint8Array[]): Command | undefined {
  const base = ctx.commands.lookup(target[0]);
  if (base === undefined || target.length === 1 || base.subcommandIndex === null) return base;
  return base.subcommandIndex.get(target[1]);
}

function dryrun(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  const name = toBinaryString(argv[2]);
  const user = ctx.acl.user(name);
  if (user === undefined) throw new CommandError(`ERR User '${name}' not found`);
  const target = argv.slice(3);
  const cmd = lookupTarget(ctx, target);
  if (cmd === undefined) {
    throw new CommandError(`ERR Command '${toBinaryString(target[0])}' not found`);
  }
  if (!cmd.arityAllows(target.length)) {
    throw new CommandError(`ERR wrong number of arguments for '${cmd.fullName}' command`);
  }
  const denial = ctx.acl.check(user, cmd, target);
  return denial === null ? OK : dryrunText(denial, cmd, target);
}

const HELP = [
  "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CAT [<category>]",
  "    List all commands that belong to <category>, or all command categories",
  "    when no category is specified.",
  "DELUSER <username> [<username> ...]",
  "    Delete a list of users.",
  "DRYRUN <username> <command> [<arg> ...]",
  "    Returns whether the user can execute the given command without executing the command.",
  "GETUSER <username>",
  "    Get the user's details.",
  "GENPASS [<bits>]",
  "    Generate a secure 256-bit user password. The optional `bits` argument can",
  "    be used to specify a different size.",
  "LIST",
  "    Show users details in config file format.",
  "LOAD",
  "    Reload users from the ACL file.",
  "LOG [<count> | RESET]",
  "    Show the ACL log entries.",
  "SAVE",
  "    Save the current config to the ACL file.",
  "SETUSER <username> <attribute> [<attribute> ...]",
  "    Create or modify a user with the specified attributes.",
  "USERS",
  "    List all the registered usernames.",
  "WHOAMI",
  "    Return the current connection username.",
  "HELP",
  "    Prints this help.",
].map((line) => new SimpleString(line));

const ADMIN: CommandDef["flags"] = ["admin", "noscript", "loading", "stale", "sentinel"];
const PLAIN: CommandDef["flags"] = ["noscript", "loading", "stale", "sentinel"];

const sub = subcommandMaker({ group: "server", acl: [], since: "6.0.0" });

/** ACL declaration. */
export const aclCommands: readonly CommandDef[] = [
  {
    name: "acl",
    arity: -2,
    flags: ["sentinel"],
    group: "server",
    acl: [],
    summary: "A container for Access List Control commands.",
    since: "6.0.0",
    subcommands: [
      sub("cat", -2, PLAIN, "Lists the ACL categories, or the commands inside a category.", cat),
      sub("deluser", -3, ADMIN, "Deletes ACL users, and terminates their connections.", deluser),
      sub("dryrun", -4, ADMIN, "Simulates the execution of a command by a user.", dryrun),
      sub(
        "genpass",
        -2,
        PLAIN,
        "Generates a pseudorandom, secure password for ACL users.",
        genpass,
      ),
      sub("getuser", 3, ADMIN, "Lists the ACL rules of a user.", getuser),
      sub("help", 2, ["loading", "stale", "sentinel"], "Returns helpful text.", () => HELP),
      sub("list", 2, ADMIN, "Dumps the effective rules in ACL file format.", list),
      sub("load", 2, ADMIN, "Reloads the rules from the configured ACL file.", load),
      sub("log", -2, ADMIN, "Lists recent security events generated by ACL rules.", log),
      sub("save", 2, ADMIN, "Saves the effective ACL rules in the configured ACL file.", save),
      sub("setuser", -3, ADMIN, "Creates and modifies an ACL user and its rules.", setuser),
      sub("users", 2, ADMIN, "Lists all ACL users.", users),
      sub("whoami", 2, PLAIN, "Returns the authenticated username of the current connection.", (
        _ctx,
        client,
      ) => client.user.name),
    ],
  },
];
