/**
 * One ACL selector (Redis 7.0's aclSelector): the commands, key patterns and channel patterns
 * it allows, and {@link Selector.apply}, which applies one rule of ACL SETUSER's syntax to it.
 * A user has a root selector and any number of extra ones, written `(...)`.
 */
import { globPrefix } from "../util/glob.ts";
import type { AclCommands } from "./categories.ts";
import { categoryBit } from "./categories.ts";
import type { Command } from "../commands/registry.ts";
import { fromBinaryString } from "../util/bytes.ts";

/** Read access to keys (`%R~`). */
export const PERM_READ = 1;
/** Write access to keys (`%W~`). */
export const PERM_WRITE = 2;
/** Both (`~`). */
export const PERM_ALL = 3;

/**
 * Why a rule was refused, named after the errno Redis sets (ACLSetUserStringError turns it into
 * the message).
 */
export type RuleError =
  | "ENOENT"
  | "EINVAL"
  | "EEXIST"
  | "EISDIR"
  | "ENODEV"
  | "EBADMSG"
  | "ECHILD";

/** A key pattern and the access it grants ({@link PERM_READ}, {@link PERM_WRITE}). */
export interface KeyPattern {
  /** The glob pattern, as a binary string. */
  readonly pattern: string;
  /** Its bytes, for matching. */
  readonly bytes: Uint8Array;
  /** Its literal prefix when it is `prefix*` (checked with a byte comparison), else null. */
  readonly prefix: Uint8Array | null;
  /** Access granted (bits). */
  flags: number;
}

/** A channel pattern. */
export interface ChannelPattern {
  /** The glob pattern, as a binary string. */
  readonly pattern: string;
  /** Its bytes, for matching. */
  readonly bytes: Uint8Array;
}

/** Whether `text` has a space (C's isspace) or a NUL, which Redis refuses in names and patterns. */
export function hasSpaces(text: string): boolean {
  return /[ \t\n\v\f\r\0]/.test(text);
}

/** See the module comment. */
export class Selector {
  /** `allkeys` / `~*`. */
  allKeys = false;
  /** `allchannels` / `&*`. */
  allChannels = false;
  /** `allcommands` / `+@all`, until a command is taken away. */
  allCommands = false;
  /** Redis's reserved bit: set by `+@all` only, so the rules start with `+@all` when shown. */
  future = false;
  /** One byte per command id: 1 when allowed. */
  allowed: Uint8Array;
  /** First arguments allowed for commands otherwise denied (`+select|0`), by command id. */
  firstArgs: Map<number, string[]> | null = null;
  /** Key patterns in the order added. */
  keys: KeyPattern[] = [];
  /** Channel patterns in the order added. */
  channels: ChannelPattern[] = [];

  /** An empty selector (no command, key or channel) for a table of `size` command ids. */
  constructor(size: number) {
    this.allowed = new Uint8Array(size);
  }

  /** An independent copy. */
  clone(): Selector {
    const copy = new Selector(0);
    copy.allKeys = this.allKeys;
    copy.allChannels = this.allChannels;
    copy.allCommands = this.allCommands;
    copy.future = this.future;
    copy.allowed = this.allowed.slice();
    copy.firstArgs = this.firstArgs === null
      ? null
      : new Map([...this.firstArgs].map(([id, args]) => [id, [...args]]));
    copy.keys = this.keys.map((k) => ({ ...k }));
    copy.channels = [...this.channels];
    return copy;
  }

  /** Sets one command's bit (Redis's ACLSetSelectorCommandBit). */
  setBit(id: number, allow: boolean): void {
    this.allowed[id] = allow ? 1 : 0;
    if (!allow) this.allCommands = false;
  }

  /**
   * Allows or denies a command and, for a container, all its subcommands; forgets its allowed
   * first arguments (Redis's ACLChangeSelectorPerm).
   */
  changePerm(cmd: Command, allow: boolean): void {
    this.setBit(cmd.id, allow);
    this.firstArgs?.delete(cmd.id);
    for (const sub of cmd.subcommands ?? []) this.setBit(sub.id, allow);
  }

  /** Allows or denies every command of a category (subcommands included). */
  changeCategory(table: AclCommands, bit: number, allow: boolean): void {
    for (const cmd of table.topLevel) {
      if (table.masks[cmd.id] & bit) this.changePerm(cmd, allow);
      for (const sub of cmd.subcommands ?? []) {
        if (table.masks[sub.id] & bit) this.changePerm(sub, allow);
      }
    }
  }

  /** `+@all` (allow) or `-@all`. */
  setAll(allow: boolean): void {
    this.allowed.fill(allow ? 1 : 0);
    this.allCommands = allow;
    this.future = allow;
    this.firstArgs = null;
  }

  /**
   * Applies one selector rule (Redis's ACLSetSelector); returns why it is refused, or null.
   * `op` is a binary string (one character per byte).
   */
  apply(op: string, table: AclCommands): RuleError | null {
    const lower = op.toLowerCase();
    if (lower === "allkeys" || op === "~*") {
      this.allKeys = true;
      this.keys = [];
    } else if (lower === "resetkeys") {
      this.allKeys = false;
      this.keys = [];
    } else if (lower === "allchannels" || op === "&*") {
      this.allChannels = true;
      this.channels = [];
    } else if (lower === "resetchannels") {
      this.allChannels = false;
      this.channels = [];
    } else if (lower === "allcommands" || lower === "+@all") {
      this.setAll(true);
    } else if (lower === "nocommands" || lower === "-@all") {
      this.setAll(false);
    } else if (op[0] === "~" || op[0] === "%") {
      return this.#addKeyPattern(op);
    } else if (op[0] === "&") {
      if (this.allChannels) return "EISDIR";
      const pattern = op.slice(1);
      if (hasSpaces(pattern)) return "EINVAL";
      if (!this.channels.some((c) => c.pattern === pattern)) {
        this.channels.push({ pattern, bytes: fromBinaryString(pattern) });
      }
      this.allChannels = false;
    } else if (op[0] === "+" && op[1] !== "@") {
      return this.#allowCommand(op.slice(1), table);
    } else if (op[0] === "-" && op[1] !== "@") {
      const cmd = table.lookup(op.slice(1));
      if (cmd === undefined) return "ENOENT";
      this.changePerm(cmd, false);
    } else if ((op[0] === "+" || op[0] === "-") && op[1] === "@") {
      const bit = categoryBit(op.slice(2));
      if (bit === 0) return "ENOENT";
      this.changeCategory(table, bit, op[0] === "+");
    } else {
      return "EINVAL";
    }
    return null;
  }

  #addKeyPattern(op: string): RuleError | null {
    if (this.allKeys) return "EEXIST";
    let flags = 0;
    let offset = 1;
    if (op[0] === "%") {
      for (; offset < op.length; offset++) {
        const c = op[offset].toUpperCase();
        if (c === "R" && !(flags & PERM_READ)) flags |= PERM_READ;
        else if (c === "W" && !(flags & PERM_WRITE)) flags |= PERM_WRITE;
        else if (op[offset] === "~" && flags) {
          offset++;
          break;
        } else return "EINVAL";
      }
    } else flags = PERM_ALL;
    const pattern = op.slice(offset);
    if (hasSpaces(pattern)) return "EINVAL";
    const existing = this.keys.find((k) => k.pattern === pattern);
    if (existing === undefined) {
      const bytes = fromBinaryString(pattern);
      this.keys.push({ pattern, bytes, prefix: globPrefix(bytes), flags });
    } else existing.flags |= flags;
    this.allKeys = false;
    return null;
  }

  #allowCommand(name: string, table: AclCommands): RuleError | null {
    const bar = name.lastIndexOf("|");
    if (bar < 0) {
      const cmd = table.lookup(name);
      if (cmd === undefined) return "ENOENT";
      this.changePerm(cmd, true);
      return null;
    }
    const cmd = table.lookup(name.slice(0, bar));
    if (cmd === undefined) return "ENOENT";
    // Allowing a first argument of a subcommand is not supported.
    if (table.parents[cmd.id] !== null) return "ECHILD";
    const sub = name.slice(bar + 1);
    if (sub === "") return "EINVAL";
    if (cmd.subcommands !== null) {
      const target = table.lookup(name);
      if (target === undefined) return "ENOENT";
      this.changePerm(target, true);
      return null;
    }
    // Redis's deprecated first-argument rule (`+select|0`): the command with that first
    // argument only.
    this.firstArgs ??= new Map();
    const args = this.firstArgs.get(cmd.id) ?? [];
    if (!args.some((a) => a.toLowerCase() === sub.toLowerCase())) args.push(sub);
    this.firstArgs.set(cmd.id, args);
    return null;
  }
}
