/**
 * The command table as data: every command's name, arity, flags, key positions and docs, plus its
 * handler. Dispatch, COMMAND INFO/DOCS/COUNT/LIST/GETKEYS and the table's own consistency tests
 * all read this one table, so adding a command is adding one entry.
 */
import type { CommandRename } from "../config/schema.ts";
import type { Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import type { ServerContext } from "./context.ts";
import { NameIndex } from "./name_index.ts";
import type { CommandNames } from "../resp/request_parser.ts";

/**
 * Runs one command: reads its arguments, works on server state, returns the reply. The argument
 * arrays are views into the connection's read buffer, valid only during the call (and while the
 * reply is encoded): a handler that keeps bytes beyond that (the keyspace, a queued MULTI
 * command) must copy them with `slice()`.
 */
export type Handler = (ctx: ServerContext, client: ClientState, argv: Uint8Array[]) => Reply;

/** Redis's command flags that gocache uses (COMMAND INFO prints them). */
export type CommandFlag =
  | "write"
  | "readonly"
  | "blocking"
  | "denyoom"
  | "admin"
  | "pubsub"
  | "noscript"
  | "loading"
  | "stale"
  | "fast"
  | "no_auth"
  | "no_multi"
  | "allow_busy"
  | "sentinel"
  | "no_async_loading"
  | "skip_slowlog"
  | "asking"
  | "skip_monitor"
  | "may_replicate"
  | "no_mandatory_keys"
  | "movablekeys"
  | "protected";

/** Redis's command groups (COMMAND DOCS `group`). */
export type CommandGroup =
  | "connection"
  | "server"
  | "string"
  | "bitmap"
  | "hash"
  | "list"
  | "set"
  | "sorted-set"
  | "generic"
  | "keyspace"
  | "transactions"
  | "pubsub"
  | "cluster"
  | "scripting"
  | "sentinel";

/** How a command is declared in a family's table. */
export interface CommandDef {
  /** Lower-case name (subcommands: the word after the container). */
  name: string;
  /** Redis arity: N means exactly N words including the name; -N means at least N. */
  arity: number;
  /** Flags. */
  flags: readonly CommandFlag[];
  /** Key positions, as in COMMAND INFO (first, last, step); omitted for keyless commands. */
  keys?: KeyRange;
  /**
   * For a command flagged `movablekeys`, whose keys' positions depend on its arguments (MIGRATE
   * and its KEYS option): the positions in `argv` (the name at 0) that COMMAND GETKEYS reports.
   * `keys` then only holds the legacy first/last/step COMMAND INFO prints, and dispatch's
   * cluster slot check skips the command: its handler checks its own keys.
   */
  keysOf?: (argv: readonly Uint8Array[]) => number[];
  /**
   * Whether the handler checks its keys' cluster slots itself (MIGRATE, whose keys may sit in a
   * slot being moved): dispatch's slot check then skips it. Other `movablekeys` commands are
   * checked by dispatch through {@link keysOf}.
   */
  routesOwnKeys?: boolean;
  /** Group for COMMAND DOCS. */
  group: CommandGroup;
  /**
   * ACL categories besides those the flags imply (`@admin`, `@fast`, ...), as Redis's command
   * table declares them (`@connection`, `@dangerous`). Defaults to the group's category; a
   * container such as CLIENT declares none.
   */
  acl?: readonly string[];
  /** One-line summary for COMMAND DOCS. */
  summary: string;
  /** Redis version that introduced it. */
  since: string;
  /** Time complexity text. */
  complexity?: string;
  /** The handler; containers have subcommands instead, and a handler only for the bare name. */
  handler?: Handler;
  /** Subcommands of a container command (CLIENT, CONFIG, COMMAND). */
  subcommands?: readonly CommandDef[];
}

/**
 * Key positions as a command declares them: the first, the last (negative counts from the end of
 * the arguments) and the step.
 */
export interface KeyRange {
  /** Index of the first key. */
  readonly first: number;
  /** Index of the last key; -1 is the last argument. */
  readonly last: number;
  /** Distance between keys. */
  readonly step: number;
}

/**
 * The index of the last key `range` gives in `argc` arguments, never past them: the bound every
 * walk of key positions (the cluster's slot check, the ACL's key check, COMMAND GETKEYS) uses.
 */
export function lastKeyIndex(range: KeyRange, argc: number): number {
  return Math.min(range.last < 0 ? argc + range.last : range.last, argc - 1);
}

/**
 * A maker of a container's subcommand declarations that share its group, version and ACL
 * categories: `make(name, arity, flags, summary, handler)`.
 */
export function subcommandMaker(
  shared: { group: CommandGroup; since: string; acl?: readonly string[] },
): (
  name: string,
  arity: number,
  flags: CommandDef["flags"],
  summary: string,
  handler: CommandDef["handler"],
) => CommandDef {
  return (name, arity, flags, summary, handler) => ({
    name,
    arity,
    flags,
    summary,
    handler,
    ...shared,
  });
}

function sameBytes(buf: Uint8Array, start: number, end: number, bytes: Uint8Array): boolean {
  if (end - start !== bytes.length) return false;
  for (let i = start; i < end; i++) if (buf[i] !== bytes[i - start]) return false;
  return true;
}

/** FNV-1a of `buf[start, end)` as it is (case matters here). */
function hashExact(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  return h >>> 0;
}

/** One exact spelling of a command's name, chained by hash in the table's spelling index. */
interface Spelling {
  bytes: Uint8Array;
  hash: number;
  command: Command;
  next: Spelling | null;
}

/** Commands without Redis's `fast` flag whose cost is bounded in gocache (see boundedCost). */
const BOUNDED_STRING_WRITES: ReadonlySet<string> = new Set([
  "set",
  "setex",
  "psetex",
  "mset",
  "msetnx",
  "del",
]);

/** Commands that run at once inside MULTI instead of being queued (Redis's list). */
const RUN_IN_MULTI: ReadonlySet<string> = new Set([
  "exec",
  "discard",
  "multi",
  "watch",
  "quit",
  "reset",
]);

/** A command in the table, with precomputed facts for the hot path and call counters. */
export class Command {
  /** Lower-case name. */
  readonly name: string;
  /** `name` or `container|name`, as Redis names it in errors and COMMAND output. */
  readonly fullName: string;
  /** The declaration. */
  readonly def: CommandDef;
  /** Arity (see {@link CommandDef.arity}). */
  readonly arity: number;
  /** Whether the command runs before authentication (AUTH, HELLO, QUIT, ...). */
  readonly noAuth: boolean;
  /** Whether the command may grow memory, so it is refused at a limit (`denyoom`). */
  readonly denyOom: boolean;
  /** Handler, or null for containers. */
  readonly handler: Handler | null;
  /**
   * Key positions (the declaration's `keys`), or null for keyless commands and for `movablekeys`
   * ones, whose handlers check their keys' slots themselves: read per command by the cluster
   * slot check, from this one class so the access stays monomorphic.
   */
  readonly keys: KeyRange | null;
  /**
   * For a `movablekeys` command that dispatch's slot check covers: its key positions in `argv`
   * (the declaration's `keysOf`); null otherwise.
   */
  readonly movableKeys: ((argv: readonly Uint8Array[]) => number[]) | null;
  /** Subcommands in declaration order, or null for a plain command. */
  readonly subcommands: readonly Command[] | null;
  /** Subcommands by name (looked up from request bytes), or null. */
  readonly subcommandIndex: NameIndex<Command> | null;
  /** Whether MULTI refuses to queue it (its `no_multi` flag). */
  readonly noMulti: boolean;
  /** Whether it runs while a script is busy (its `allow_busy` flag: SCRIPT KILL, ...). */
  readonly allowBusy: boolean;
  /** Whether scripts may not call it (its `noscript` flag), checked at every `redis.call`. */
  readonly noScript: boolean;
  /**
   * Whether it is protected (Redis 7.0's `protected` flag, DEBUG's): dispatch runs it only
   * where `enable-debug-command` allows.
   */
  readonly isProtected: boolean;
  /** Whether it runs at once inside MULTI instead of being queued (EXEC, DISCARD, ...). */
  readonly runsInMulti: boolean;
  /** Whether it is EXEC, which runs a queued transaction (its cost is that of the queue). */
  readonly runsQueue: boolean;
  /** Whether the command may change the dataset (its `write` flag): it is propagated if it did. */
  readonly write: boolean;
  /**
   * Whether a call takes a time bounded by its request's size, never by the dataset's: Redis's
   * `fast` commands, plus the string writes that Redis leaves unflagged only because replacing
   * a large aggregate value may be slow, which in gocache it is not: a collection replaced or
   * deleted is dropped as one reference, its memory left to the garbage collector. The
   * observer times these in chunks instead of one by one (see server/observer.ts).
   */
  readonly boundedCost: boolean;
  /** Whether MONITOR and SLOWLOG leave it out (`admin` commands and `skip_slowlog`). */
  readonly hidden: { monitor: boolean; slowlog: boolean };
  /**
   * Dense index of this command (subcommands included) in its table, numbered by the table:
   * the per-command metrics live in typed arrays at this index.
   */
  id = -1;
  /** Calls run (including those that replied with an error). */
  calls = 0;
  /** Calls that replied with an error. */
  failedCalls = 0;
  /** Calls refused before running (arity, auth). */
  rejectedCalls = 0;

  /** Builds the table entry for a declaration (and its subcommands). */
  constructor(def: CommandDef, parent?: string) {
    this.def = def;
    this.name = def.name;
    this.fullName = parent ? `${parent}|${def.name}` : def.name;
    this.arity = def.arity;
    this.noAuth = def.flags.includes("no_auth");
    this.denyOom = def.flags.includes("denyoom");
    this.write = def.flags.includes("write");
    this.noMulti = def.flags.includes("no_multi");
    this.allowBusy = def.flags.includes("allow_busy");
    this.noScript = def.flags.includes("noscript");
    this.isProtected = def.flags.includes("protected");
    this.runsInMulti = parent === undefined && RUN_IN_MULTI.has(def.name);
    this.runsQueue = parent === undefined && def.name === "exec";
    this.boundedCost = def.flags.includes("fast") || BOUNDED_STRING_WRITES.has(this.fullName);
    this.hidden = {
      monitor: def.flags.includes("admin"),
      slowlog: def.flags.includes("skip_slowlog"),
    };
    this.handler = def.handler ?? null;
    this.keys = def.flags.includes("movablekeys") ? null : def.keys ?? null;
    this.movableKeys = def.flags.includes("movablekeys") && !def.routesOwnKeys
      ? def.keysOf ?? null
      : null;
    this.subcommands = def.subcommands?.map((s) => new Command(s, def.name)) ?? null;
    if (this.subcommands) {
      const index = new NameIndex<Command>();
      for (const sub of this.subcommands) index.set(sub.name, sub);
      this.subcommandIndex = index;
    } else this.subcommandIndex = null;
  }

  /** Whether `argc` words (name included) satisfy the arity. */
  arityAllows(argc: number): boolean {
    return this.arity > 0 ? argc === this.arity : argc >= -this.arity;
  }
}

/** The registry of all commands. */
export class CommandTable implements CommandNames {
  #byName = new Map<string, Command>();
  #index = new NameIndex<Command>();
  #byId: Command[] = [];
  /**
   * Every command's name in lower and in upper case, by exact bytes: a request that spells its
   * name one of these ways gets the shared array as its first argument instead of a view.
   */
  #spellings: (Spelling | null)[] = [];
  #spellingMask = 0;
  /** The spelling {@link intern} returned last, and its command. */
  #interned: Uint8Array | null = null;
  #internedCommand: Command | null = null;

  /**
   * Builds the table from the families' declarations (a name declared twice is an error), with
   * `renames` applied to what clients may call (Redis's rename-command): a renamed command is
   * found only under its new name, a command renamed to "" not at all. Internal lookups
   * ({@link get}, the ACL's rules) keep the commands' own names, as Redis's orig_commands.
   * Throws Redis's errors for a name that does not exist or a new name already taken.
   */
  constructor(defs: readonly CommandDef[], renames: readonly CommandRename[] = []) {
    for (const def of defs) {
      if (this.#byName.has(def.name)) throw new Error(`Command '${def.name}' is declared twice`);
      const cmd = new Command(def);
      this.#byName.set(def.name, cmd);
      for (const c of [cmd, ...(cmd.subcommands ?? [])]) {
        c.id = this.#byId.length;
        this.#byId.push(c);
      }
    }
    const callable = new Map(this.#byName);
    for (const { from, to } of renames) {
      const cmd = callable.get(from);
      if (cmd === undefined) throw new Error(`No such command in rename-command: '${from}'`);
      callable.delete(from);
      if (to === "") continue;
      if (callable.has(to)) throw new Error(`Target command name already exists: '${to}'`);
      callable.set(to, cmd);
    }
    for (const [name, cmd] of callable) this.#index.set(name, cmd);
    this.#indexSpellings(callable);
  }

  /** Every command and subcommand, by id (see {@link Command.id}). */
  get byId(): readonly Command[] {
    return this.#byId;
  }

  /** The command with this name, in any case. */
  get(name: string): Command | undefined {
    return this.#byName.get(name.toLowerCase());
  }

  /** The command named by request bytes (any case); no string is built. */
  lookup(name: Uint8Array): Command | undefined {
    // The parser interns a request's name just before dispatch looks it up.
    if (name === this.#interned) return this.#internedCommand as Command;
    return this.#index.get(name);
  }

  /** See {@link CommandNames.intern}. */
  intern(buf: Uint8Array, start: number, end: number): Uint8Array | null {
    const hash = hashExact(buf, start, end);
    for (let s = this.#spellings[hash & this.#spellingMask]; s !== null; s = s.next) {
      if (s.hash === hash && sameBytes(buf, start, end, s.bytes)) {
        this.#interned = s.bytes;
        this.#internedCommand = s.command;
        return s.bytes;
      }
    }
    return null;
  }

  #indexSpellings(callable: ReadonlyMap<string, Command>): void {
    let size = 16;
    while (size < callable.size * 4) size *= 2;
    this.#spellings = new Array(size).fill(null);
    this.#spellingMask = size - 1;
    for (const [name, command] of callable) {
      for (const text of [name, name.toUpperCase()]) {
        const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
        const hash = hashExact(bytes, 0, bytes.length);
        const at = hash & this.#spellingMask;
        this.#spellings[at] = { bytes, hash, command, next: this.#spellings[at] };
      }
    }
  }

  /** Every top-level command. */
  all(): IterableIterator<Command> {
    return this.#byName.values();
  }

  /** Number of top-level commands (COMMAND COUNT). */
  get size(): number {
    return this.#byName.size;
  }
}
