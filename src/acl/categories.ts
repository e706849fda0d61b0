/**
 * Redis's ACL command categories and the ACL's view of the command table: every command and
 * subcommand by id with the categories it belongs to, and Redis's `name` / `name|sub` lookup.
 * The categories themselves come from the command table (see aclCategories in
 * commands/command.ts), so a command added to the table is covered by ACL rules at once.
 */
import { aclCategories } from "../commands/command.ts";
import type { Command, CommandTable } from "../commands/registry.ts";

/** Redis's categories in its table order (ACL CAT, and the order ACL LIST tries them in). */
export const CATEGORIES: readonly string[] = [
  "keyspace",
  "read",
  "write",
  "set",
  "sortedset",
  "list",
  "hash",
  "string",
  "bitmap",
  "hyperloglog",
  "geo",
  "stream",
  "pubsub",
  "admin",
  "fast",
  "slow",
  "blocking",
  "dangerous",
  "connection",
  "transaction",
  "scripting",
];

/** The bit of a category (case-insensitive, as Redis's strcasecmp), or 0 when there is none. */
export function categoryBit(name: string): number {
  const at = CATEGORIES.indexOf(name.toLowerCase());
  return at < 0 ? 0 : 1 << at;
}

/**
 * The command table as the ACL sees it: commands by dense id (the index of permission bitmaps),
 * each one's category mask, and its container for subcommands. Built once per server.
 */
export class AclCommands {
  /** Every command and subcommand, by {@link Command.id}. */
  readonly byId: readonly Command[];
  /** Top-level commands in table order (the order ACL LIST emits single commands in). */
  readonly topLevel: readonly Command[];
  /** Category mask of each command, by id. */
  readonly masks: Int32Array;
  /** Container of each subcommand by id, or null for top-level commands. */
  readonly parents: readonly (Command | null)[];
  readonly #table: CommandTable;

  /** Indexes `table`. */
  constructor(table: CommandTable) {
    this.#table = table;
    this.byId = table.byId;
    this.topLevel = [...table.all()];
    this.masks = new Int32Array(this.byId.length);
    const parents: (Command | null)[] = new Array(this.byId.length).fill(null);
    for (const cmd of this.byId) {
      let mask = 0;
      for (const cat of aclCategories(cmd)) mask |= categoryBit(cat.slice(1));
      this.masks[cmd.id] = mask;
    }
    for (const cmd of this.topLevel) {
      for (const sub of cmd.subcommands ?? []) parents[sub.id] = cmd;
    }
    this.parents = parents;
  }

  /** Number of command ids (the size of a permission bitmap). */
  get size(): number {
    return this.byId.length;
  }

  /**
   * Redis's ACLLookupCommand: `name` or `container|sub`, any case; undefined for an unknown
   * name, a `|` after a command without subcommands, or more than one `|`.
   */
  lookup(name: string): Command | undefined {
    const parts = name.split("|");
    if (parts.length > 2) return undefined;
    const base = this.#table.get(parts[0]);
    if (base === undefined || parts.length === 1) return base;
    if (base.subcommands === null) return undefined;
    const sub = parts[1].toLowerCase();
    return base.subcommands.find((s) => s.name === sub);
  }

  /** Names of every command and subcommand in `category` (ACL CAT), in table order. */
  inCategory(bit: number): string[] {
    const out: string[] = [];
    for (const cmd of this.topLevel) {
      if (this.masks[cmd.id] & bit) out.push(cmd.fullName);
      for (const sub of cmd.subcommands ?? []) {
        if (this.masks[sub.id] & bit) out.push(sub.fullName);
      }
    }
    return out;
  }
}
