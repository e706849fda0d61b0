/**
 * Whether a user may run a command with its arguments (Redis 7.0's ACLCheckAllUserCommandPerm):
 * the command (or subcommand, or its allowed first argument), the keys at the command's key
 * positions and the Pub/Sub channels it names. A command is allowed when one selector allows
 * all of it; otherwise the reason reported is Redis's pick (a key or channel over the command,
 * the last argument position among selectors).
 *
 * Keys: Redis 7.0 decides read or write access per key from the key specs' flags. gocache's
 * table has the command's `write` flag instead: a write command needs write access to its keys
 * (and read access too when it also returns what it read, {@link READ_WRITE}), any other command
 * read access.
 */
import { type Command, lastKeyIndex } from "../commands/registry.ts";
import { globMatch } from "../util/glob.ts";
import { PERM_READ, PERM_WRITE, type Selector } from "./selector.ts";
import type { User } from "./user.ts";
import { toBinaryString } from "../util/bytes.ts";

/** Why the ACL refused a command (Redis's ACL_DENIED_*, in the order it ranks them). */
export const DENIED_CMD = 1;
/** A key is out of the user's patterns. */
export const DENIED_KEY = 2;
/** A failed authentication (only logged). */
export const DENIED_AUTH = 3;
/** A channel is out of the user's patterns. */
export const DENIED_CHANNEL = 4;

/** A refusal: its reason and the argument at fault (0 for the command itself). */
export interface Denial {
  /** DENIED_CMD, DENIED_KEY or DENIED_CHANNEL. */
  readonly reason: number;
  /** Position in `argv` of the key or channel refused; 0 for the command. */
  readonly index: number;
}

/**
 * Write commands whose key specs also carry Redis's ACCESS flag (they return stored data), so
 * Redis asks for read and write access to their keys.
 */
const READ_WRITE: ReadonlySet<string> = new Set([
  "getset",
  "getdel",
  "getex",
  "incr",
  "incrby",
  "decr",
  "decrby",
  "incrbyfloat",
  "hincrby",
  "hincrbyfloat",
  "zincrby",
  "lpop",
  "rpop",
  "spop",
  "zpopmin",
  "zpopmax",
  "blpop",
  "brpop",
  "bzpopmin",
  "bzpopmax",
  "lmpop",
  "blmpop",
  "zmpop",
  "bzmpop",
  "rpoplpush",
  "brpoplpush",
  "lmove",
  "blmove",
  "smove",
  "bitfield",
]);

/** How a Pub/Sub command names channels: published to, subscribed to, or patterns. */
type ChannelUse = "publish" | "subscribe" | "pattern";

/** The channel arguments of Pub/Sub commands (Redis's CMD_CHANNEL_PUBLISH/SUBSCRIBE). */
const CHANNEL_COMMANDS: ReadonlyMap<string, ChannelUse> = new Map([
  ["publish", "publish"],
  ["spublish", "publish"],
  ["subscribe", "subscribe"],
  ["ssubscribe", "subscribe"],
  ["psubscribe", "pattern"],
]);

/** Shard channel commands: their key positions name channels, which are not keys. */
const NOT_KEYS: ReadonlySet<string> = new Set(["spublish", "ssubscribe", "sunsubscribe"]);

/**
 * Per command id: the key access it needs, and how it uses channels (0 for none; else 1
 * publish, 2 subscribe, 3 pattern), worked out once from its name: a check then does no string
 * lookups (measured with bench:acl: SET -P 16 as a restricted user 0.82 of the default user's
 * rate before).
 */
const accessById: number[] = [];
const channelUseById: number[] = [];
const CHANNEL_USE_CODES: Record<ChannelUse, number> = { publish: 1, subscribe: 2, pattern: 3 };

function keyAccess(cmd: Command): number {
  let access = accessById[cmd.id];
  if (access === undefined) {
    access = !cmd.write
      ? PERM_READ
      : READ_WRITE.has(cmd.fullName)
      ? PERM_READ | PERM_WRITE
      : PERM_WRITE;
    accessById[cmd.id] = access;
  }
  return access;
}

function channelUse(cmd: Command): number {
  let use = channelUseById[cmd.id];
  if (use === undefined) {
    const named = CHANNEL_COMMANDS.get(cmd.fullName);
    use = named === undefined ? 0 : CHANNEL_USE_CODES[named];
    channelUseById[cmd.id] = use;
  }
  return use;
}

/** Whether a selector allows `key` for `access`. */
function keyAllowed(selector: Selector, key: Uint8Array, access: number): boolean {
  if (selector.allKeys) return true;
  for (const pattern of selector.keys) {
    if ((pattern.flags & access) !== access) continue;
    const prefix = pattern.prefix;
    if (prefix === null ? globMatch(pattern.bytes, key) : startsWith(key, prefix)) return true;
  }
  return false;
}

/** Whether `key` matches the pattern `prefix*` (see globPrefix: an empty key never does). */
function startsWith(key: Uint8Array, prefix: Uint8Array): boolean {
  const n = prefix.length;
  if (key.length < n || key.length === 0) return false;
  for (let i = 0; i < n; i++) if (key[i] !== prefix[i]) return false;
  return true;
}

/**
 * The first key of `argv` a selector refuses, as a denial, or null. Keys at fixed positions
 * are walked in place (no array per check); movable ones come from the command's `keysOf`.
 */
function checkKeys(
  selector: Selector,
  cmd: Command,
  argv: readonly Uint8Array[],
): Denial | null {
  const def = cmd.def;
  if (def.keysOf !== undefined) {
    const access = keyAccess(cmd);
    for (const at of def.keysOf(argv)) {
      if (!keyAllowed(selector, argv[at], access)) return { reason: DENIED_KEY, index: at };
    }
    return null;
  }
  const spec = def.keys;
  if (spec === undefined || NOT_KEYS.has(cmd.fullName)) return null;
  const access = keyAccess(cmd);
  const last = lastKeyIndex(spec, argv.length);
  for (let at = spec.first; at <= last; at += spec.step) {
    if (!keyAllowed(selector, argv[at], access)) return { reason: DENIED_KEY, index: at };
  }
  return null;
}

/**
 * Whether a selector allows a channel; a PSUBSCRIBE pattern must equal one of the selector's
 * patterns, a channel must match one.
 */
export function channelAllowed(
  selector: Selector,
  channel: Uint8Array,
  isPattern: boolean,
): boolean {
  if (selector.allChannels) return true;
  if (isPattern) {
    const text = toBinaryString(channel);
    return selector.channels.some((c) => c.pattern === text);
  }
  return selector.channels.some((c) => globMatch(c.bytes, channel));
}

/** Whether `selector` allows the command itself, by its bit or an allowed first argument. */
function commandAllowed(
  selector: Selector,
  cmd: Command,
  parent: Command | null,
  argv: readonly Uint8Array[],
): boolean {
  if (selector.allCommands || cmd.noAuth || selector.allowed[cmd.id] === 1) return true;
  const firstArgs = selector.firstArgs?.get(cmd.id);
  if (firstArgs === undefined || argv.length < 2) return false;
  const at = parent !== null ? 2 : 1;
  if (at >= argv.length) return false;
  const arg = toBinaryString(argv[at]).toLowerCase();
  return firstArgs.some((a) => a.toLowerCase() === arg);
}

/** One selector's verdict (Redis's ACLSelectorCheckCmd). */
function checkSelector(
  selector: Selector,
  cmd: Command,
  parent: Command | null,
  argv: readonly Uint8Array[],
): Denial | null {
  if (!commandAllowed(selector, cmd, parent, argv)) return { reason: DENIED_CMD, index: 0 };
  if (!selector.allKeys) {
    const denied = checkKeys(selector, cmd, argv);
    if (denied !== null) return denied;
  }
  const use = channelUse(cmd);
  if (use !== 0 && !selector.allChannels) {
    const last = use === 1 ? Math.min(1, argv.length - 1) : argv.length - 1;
    for (let at = 1; at <= last; at++) {
      if (!channelAllowed(selector, argv[at], use === 3)) {
        return { reason: DENIED_CHANNEL, index: at };
      }
    }
  }
  return null;
}

/**
 * Checks `cmd` (`parent` is its container for a subcommand) with `argv` against every selector
 * of `user`; null when one allows it.
 */
export function checkCommand(
  user: User,
  cmd: Command,
  parent: Command | null,
  argv: readonly Uint8Array[],
): Denial | null {
  let worst: Denial = { reason: DENIED_CMD, index: 0 };
  for (const selector of user.selectors) {
    const denial = checkSelector(selector, cmd, parent, argv);
    if (denial === null) return null;
    if (
      denial.reason > worst.reason ||
      (denial.reason === worst.reason && denial.index > worst.index)
    ) worst = denial;
  }
  return worst;
}
