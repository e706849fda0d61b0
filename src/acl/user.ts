/**
 * An ACL user (Redis 7.0's `user`): its flags, password hashes and selectors, and
 * {@link User.apply}, which applies one rule of ACL SETUSER's syntax. The root selector holds
 * the rules written outside parentheses; `(...)` adds another selector, and a command is allowed
 * when any selector allows it (see check.ts).
 */
import { createHash } from "node:crypto";
import { AclCommands } from "./categories.ts";
import { CommandTable } from "../commands/registry.ts";
import { describeSelector } from "./describe.ts";
import { type RuleError, Selector } from "./selector.ts";
import { fromBinaryString } from "../util/bytes.ts";

/** `on`: the user may authenticate. */
export const FLAG_ENABLED = 1;
/** `off`: the user may not authenticate (connections already authenticated keep working). */
export const FLAG_DISABLED = 2;
/** `nopass`: any password is accepted. */
export const FLAG_NOPASS = 4;
/** `skip-sanitize-payload`: RESTORE payloads are not deeply checked. */
export const FLAG_SKIP_SANITIZE = 8;
/** `sanitize-payload`. */
export const FLAG_SANITIZE = 16;

/** The flags in the order ACL LIST and ACL GETUSER show them. */
export const FLAG_NAMES: readonly [number, string][] = [
  [FLAG_ENABLED, "on"],
  [FLAG_DISABLED, "off"],
  [FLAG_NOPASS, "nopass"],
  [FLAG_SKIP_SANITIZE, "skip-sanitize-payload"],
  [FLAG_SANITIZE, "sanitize-payload"],
];

/** The SHA-256 of a password (bytes of a binary string), in lower-case hex, as Redis stores it. */
export function hashPassword(password: string): string {
  return createHash("sha256").update(fromBinaryString(password)).digest("hex");
}

/** Whether `hash` is 64 lower-case hexadecimal characters. */
function validHash(hash: string): boolean {
  return /^[0-9a-f]{64}$/.test(hash);
}

/** See the module comment. */
export class User {
  /** The name, as a binary string. */
  readonly name: string;
  /** Bits of FLAG_*. */
  flags = FLAG_DISABLED;
  /** SHA-256 hex of each accepted password, in the order added. */
  passwords: string[] = [];
  /** The root selector first, then those added with `(...)`. */
  selectors: Selector[];
  /**
   * Whether the user may run every command on every key and channel (its root selector has
   * `+@all ~* &*`): dispatch then skips the ACL check with this one test.
   */
  unrestricted = false;
  readonly #table: AclCommands;

  /** A new user as ACL SETUSER creates it: `off`, no password, no permissions. */
  constructor(name: string, table: AclCommands) {
    this.name = name;
    this.#table = table;
    this.selectors = [new Selector(table.size)];
  }

  /**
   * The user of internal clients (a leader's link, the AOF replay, clients built in tests):
   * Redis's NULL user, allowed everything. It is in no user table.
   */
  static superuser(): User {
    const user = new User("(superuser)", new AclCommands(new CommandTable([])));
    user.root.allCommands = user.root.allKeys = user.root.allChannels = true;
    user.flags = FLAG_ENABLED;
    user.refresh();
    return user;
  }

  /** The selector holding the rules written outside parentheses. */
  get root(): Selector {
    return this.selectors[0];
  }

  /** Whether authenticating as this user is possible without a password check. */
  get nopass(): boolean {
    return (this.flags & FLAG_NOPASS) !== 0;
  }

  /** Whether the user may authenticate (`on`). */
  get enabled(): boolean {
    return (this.flags & FLAG_DISABLED) === 0;
  }

  /** A copy under another name (ACL SETUSER stages its rules on one). */
  clone(name = this.name): User {
    const copy = new User(name, this.#table);
    copy.copyFrom(this);
    return copy;
  }

  /** Takes every setting of `other` (the name stays). */
  copyFrom(other: User): void {
    this.flags = other.flags;
    this.passwords = [...other.passwords];
    this.selectors = other.selectors.map((s) => s.clone());
    this.refresh();
  }

  /** Recomputes {@link unrestricted} after a change. */
  refresh(): void {
    const root = this.root;
    this.unrestricted = root.allCommands && root.allKeys && root.allChannels;
  }

  /** Whether `password` (a binary string) is accepted, as Redis's ACLCheckUserCredentials. */
  accepts(password: string): boolean {
    if (!this.enabled) return false;
    if (this.nopass) return true;
    const hashed = hashPassword(password);
    let ok = false;
    for (const stored of this.passwords) ok = stored === hashed || ok;
    return ok;
  }

  /** Applies one rule (Redis's ACLSetUser); returns why it is refused, or null. */
  apply(op: string): RuleError | null {
    const error = this.#apply(op);
    this.refresh();
    return error;
  }

  #apply(op: string): RuleError | null {
    if (op === "") return null;
    const lower = op.toLowerCase();
    if (lower === "on") {
      this.flags = (this.flags | FLAG_ENABLED) & ~FLAG_DISABLED;
    } else if (lower === "off") {
      this.flags = (this.flags | FLAG_DISABLED) & ~FLAG_ENABLED;
    } else if (lower === "skip-sanitize-payload") {
      this.flags = (this.flags | FLAG_SKIP_SANITIZE) & ~FLAG_SANITIZE;
    } else if (lower === "sanitize-payload") {
      this.flags = (this.flags | FLAG_SANITIZE) & ~FLAG_SKIP_SANITIZE;
    } else if (lower === "nopass") {
      this.flags |= FLAG_NOPASS;
      this.passwords = [];
    } else if (lower === "resetpass") {
      this.flags &= ~FLAG_NOPASS;
      this.passwords = [];
    } else if (op[0] === ">" || op[0] === "#") {
      const hash = op[0] === ">" ? hashPassword(op.slice(1)) : op.slice(1);
      if (op[0] === "#" && !validHash(hash)) return "EBADMSG";
      if (!this.passwords.includes(hash)) this.passwords.push(hash);
      this.flags &= ~FLAG_NOPASS;
    } else if (op[0] === "<" || op[0] === "!") {
      const hash = op[0] === "<" ? hashPassword(op.slice(1)) : op.slice(1);
      if (op[0] === "!" && !validHash(hash)) return "EBADMSG";
      const at = this.passwords.indexOf(hash);
      if (at < 0) return "ENODEV";
      this.passwords.splice(at, 1);
    } else if (op[0] === "(" && op[op.length - 1] === ")") {
      const selector = new Selector(this.#table.size);
      for (const rule of splitArgs(op.slice(1, -1)) ?? []) {
        const error = selector.apply(rule, this.#table);
        if (error !== null) return error;
      }
      this.selectors.push(selector);
    } else if (lower === "clearselectors") {
      this.selectors = [this.root];
    } else if (lower === "reset") {
      for (const rule of ["resetpass", "resetkeys", "resetchannels", "off", "sanitize-payload"]) {
        this.#apply(rule);
      }
      this.selectors = [this.root];
      this.root.setAll(false);
    } else {
      return this.root.apply(op, this.#table);
    }
    return null;
  }

  /** The user as ACL LIST shows it after `user <name> `: flags, passwords, selectors. */
  describe(): string {
    let out = "";
    for (const [flag, name] of FLAG_NAMES) if (this.flags & flag) out += `${name} `;
    for (const hash of this.passwords) out += `#${hash} `;
    out += describeSelector(this.root, this.#table);
    for (const selector of this.selectors.slice(1)) {
      out += ` (${describeSelector(selector, this.#table)})`;
    }
    return out;
  }
}

/** The user of internal clients (see {@link User.superuser}). */
export const SUPERUSER: User = User.superuser();

/**
 * Redis's sdssplitargs: words separated by spaces, with "double" (escapes included) and
 * 'single' quotes; null when the quotes are unbalanced.
 */
export function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  const space = (c: string | undefined) => c !== undefined && /[ \t\n\v\f\r]/.test(c);
  for (;;) {
    while (space(line[i])) i++;
    if (i >= n) return out;
    let current = "";
    let inDouble = false;
    let inSingle = false;
    for (;;) {
      const c = line[i];
      if (inDouble) {
        if (c === undefined) return null;
        if (
          c === "\\" && line[i + 1] === "x" && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))
        ) {
          current += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === "\\" && i + 1 < n) {
          i++;
          const e = line[i];
          current += e === "n"
            ? "\n"
            : e === "r"
            ? "\r"
            : e === "t"
            ? "\t"
            : e === "b"
            ? "\b"
            : e === "a"
            ? "\x07"
            : e;
        } else if (c === '"') {
          if (i + 1 < n && !space(line[i + 1])) return null;
          inDouble = false;
          i++;
          break;
        } else current += c;
      } else if (inSingle) {
        if (c === undefined) return null;
        if (c === "\\" && line[i + 1] === "'") {
          i++;
          current += "'";
        } else if (c === "'") {
          if (i + 1 < n && !space(line[i + 1])) return null;
          inSingle = false;
          i++;
          break;
        } else current += c;
      } else {
        if (c === undefined || space(c)) break;
        if (c === '"') inDouble = true;
        else if (c === "'") inSingle = true;
        else current += c;
      }
      i++;
    }
    out.push(current);
  }
}
