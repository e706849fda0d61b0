/**
 * The ACL (Redis 7.0's acl.c state): the users, the `default` user new connections start as,
 * the ACL LOG, and the users file. One instance per server, created with it (see
 * server/server.ts); commands reach it as `ctx.acl`. `requirepass` is the default user's
 * password, as in Redis: setting it resets that user's passwords.
 */
import type { Config } from "../config/config.ts";
import type { Command, CommandTable } from "../commands/registry.ts";
import { writeAtomicallySync } from "../persistence/atomic_file.ts";
import { AclCommands } from "./categories.ts";
import { checkCommand, type Denial } from "./check.ts";
import { AclLog } from "./log.ts";
import { hasSpaces, type RuleError } from "./selector.ts";
import { User } from "./user.ts";
import { fromBinaryString, toBinaryString } from "../util/bytes.ts";

/** Redis's ACLSetUserStringError texts. */
const RULE_ERRORS: Record<RuleError, string> = {
  ENOENT: "Unknown command or category name in ACL",
  EINVAL: "Syntax error",
  EEXIST: "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does " +
    "not have any effect. Try 'resetkeys' to start with an empty list of patterns",
  EISDIR: "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and " +
    "does not have any effect. Try 'resetchannels' to start with an empty list of channels",
  ENODEV: "The password you are trying to remove from the user does not exist",
  EBADMSG: "The password hash must be exactly 64 characters and contain only lowercase " +
    "hexadecimal characters",
  ECHILD: "Allowing first-arg of a subcommand is not supported",
};

/** The message of a refused rule. */
export function ruleErrorText(error: RuleError): string {
  return RULE_ERRORS[error];
}

/**
 * Redis's ACLMergeSelectorArguments: a selector spread over several arguments (`(~x` `+get)`)
 * becomes one; returns the index of an unclosed `(` instead when there is one.
 */
export function mergeSelectorArgs(args: readonly string[]): string[] | { unmatched: number } {
  const out: string[] = [];
  let open = -1;
  let selector = "";
  for (let j = 0; j < args.length; j++) {
    const op = args[j];
    if (open === -1 && op[0] === "(" && op[op.length - 1] !== ")") {
      selector = op;
      open = j;
      continue;
    }
    if (open !== -1) {
      selector += ` ${op}`;
      if (op[op.length - 1] === ")") {
        open = -1;
        out.push(selector);
      }
      continue;
    }
    out.push(op);
  }
  return open === -1 ? out : { unmatched: open };
}

/** A default user as Redis creates it: `on nopass ~* &* +@all`. */
function createDefaultUser(table: AclCommands): User {
  const user = new User("default", table);
  for (const rule of ["+@all", "~*", "&*", "on", "nopass"]) user.apply(rule);
  return user;
}

/** See the module comment. */
export class Acl {
  /** The command table as the ACL sees it. */
  readonly table: AclCommands;
  /** The user every connection starts as (never replaced, only changed). */
  readonly default: User;
  /** The ACL LOG. */
  readonly log: AclLog = new AclLog();
  #users = new Map<string, User>();
  readonly #config: Config;

  /**
   * Creates the users from the configuration: the default user (with `requirepass`), then the
   * `users` rules, then the `aclfile`. Throws an Error naming the problem when they are invalid
   * or both `users` and `aclfile` are set, which stops the start as it stops Redis.
   */
  constructor(commands: CommandTable, config: Config) {
    this.table = new AclCommands(commands);
    this.#config = config;
    this.default = createDefaultUser(this.table);
    this.#users.set("default", this.default);
    this.#applyRequirepass();
    config.onChange((names) => {
      if (names.includes("requirepass")) this.#applyRequirepass();
    });
    const values = config.values;
    if (values.aclfile !== "" && values.users.length > 0) {
      throw new Error(
        "Configuring users in 'users' and an ACL file in 'aclfile' at the same time is invalid: " +
          "define users in one of them",
      );
    }
    for (const line of values.users) {
      const error = this.#loadConfiguredUser(line);
      if (error !== null) throw new Error(`Error in 'users' entry '${line}': ${error}`);
    }
    if (values.aclfile !== "") {
      const error = this.loadFile();
      if (error !== null) throw new Error(`Aborting startup because of ACL errors: ${error}`);
    }
  }

  /** `requirepass` as the default user's only password (empty: `nopass`). */
  #applyRequirepass(): void {
    const password = this.#config.values.requirepass;
    this.default.apply("resetpass");
    this.default.apply(password === "" ? "nopass" : `>${password}`);
  }

  /** One `users` entry, `<name> <rule> ...`; the default user is reset first, as in Redis. */
  #loadConfiguredUser(line: string): string | null {
    const words = line.split(" ").filter((w) => w !== "");
    if (words.length === 0) return "a user name is required";
    const name = words[0];
    const merged = mergeSelectorArgs(words.slice(1));
    if (!Array.isArray(merged)) return "Unmatched parenthesis in selector definition";
    let user = this.#users.get(name);
    if (user !== undefined && name !== "default") return `Duplicate user '${name}'`;
    user ??= new User(name, this.table);
    if (name === "default") user.apply("reset");
    for (const rule of merged) {
      const error = user.apply(rule);
      if (error !== null) return `Error in rule '${rule}': ${ruleErrorText(error)}`;
    }
    this.#users.set(name, user);
    return null;
  }

  /** The user named `name` (a binary string), if any. */
  user(name: string): User | undefined {
    return this.#users.get(name);
  }

  /** Every user, by name in byte order (as Redis's radix tree lists them). */
  users(): User[] {
    return [...this.#users.values()].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }

  /**
   * ACL SETUSER: applies `rules` to a copy of the user (a new user when there is none), and
   * stores it only when every rule is valid. Returns Redis's error text (without `ERR `), or
   * the user object that now holds the rules.
   */
  setUser(name: string, rules: readonly string[]): { error: string } | { user: User } {
    const merged = mergeSelectorArgs(rules);
    if (!Array.isArray(merged)) {
      return {
        error: `Unmatched parenthesis in acl selector starting at '${rules[merged.unmatched]}'.`,
      };
    }
    const existing = this.#users.get(name);
    const staged = existing?.clone() ?? new User(name, this.table);
    for (const rule of merged) {
      const error = staged.apply(rule);
      if (error !== null) {
        return { error: `Error in ACL SETUSER modifier '${rule}': ${ruleErrorText(error)}` };
      }
    }
    if (existing === undefined) {
      this.#users.set(name, staged);
      return { user: staged };
    }
    existing.copyFrom(staged);
    return { user: existing };
  }

  /** ACL DELUSER of one user (never `default`): the removed user, if it existed. */
  deleteUser(name: string): User | undefined {
    const user = this.#users.get(name);
    if (user === undefined || user === this.default) return undefined;
    this.#users.delete(name);
    return user;
  }

  /** AUTH: the user `name` when it exists, is on and accepts `password`; null otherwise. */
  authenticate(name: string, password: string): User | null {
    const user = this.#users.get(name);
    return user !== undefined && user.accepts(password) ? user : null;
  }

  /** Whether a new connection is authenticated at once (the default user is on and nopass). */
  get defaultAuthenticates(): boolean {
    return this.default.nopass && this.default.enabled;
  }

  /** Checks a resolved command against `user` (see check.ts); null when allowed. */
  check(user: User, cmd: Command, argv: readonly Uint8Array[]): Denial | null {
    return checkCommand(user, cmd, this.table.parents[cmd.id], argv);
  }

  /** The ACL file's path: `aclfile`, relative to `dir` (Redis runs in `dir`); "" when unset. */
  get filePath(): string {
    const file = this.#config.values.aclfile;
    if (file === "" || file.startsWith("/")) return file;
    return `${this.#config.values.dir}/${file}`;
  }

  /**
   * ACL LOAD (Redis's ACLLoadFromFile): replaces every user with the file's, or changes nothing
   * and returns the errors found. The default user object stays (its rules are replaced; a file
   * without it restores Redis's default). Returns null, or Redis's error text.
   */
  loadFile(): string | null {
    const name = this.#config.values.aclfile;
    let text: string;
    try {
      text = toBinaryString(Deno.readFileSync(this.filePath));
    } catch (e) {
      const reason = e instanceof Deno.errors.NotFound
        ? "No such file or directory"
        : e instanceof Error
        ? e.message
        : String(e);
      return `Error loading ACLs, opening file '${name}': ${reason}`;
    }
    let errors = "";
    const loaded = new Map<string, User>();
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
      if (line === "") continue;
      const lineNo = i + 1;
      const argv = line.split(" ");
      if (argv[0] !== "user" || argv.length < 2) {
        errors += `${name}:${lineNo} should start with user keyword followed by the username. `;
        continue;
      }
      const userName = argv[1];
      if (hasSpaces(userName)) {
        errors += `'${name}:${lineNo}: username '${userName}' contains invalid characters. `;
        continue;
      }
      if (loaded.has(userName)) {
        errors += `WARNING: Duplicate user '${userName}' found on line ${lineNo}. `;
        continue;
      }
      const user = new User(userName, this.table);
      loaded.set(userName, user);
      const merged = mergeSelectorArgs(argv.slice(2));
      if (!Array.isArray(merged)) {
        errors += `${name}:${lineNo}: Unmatched parenthesis in selector definition.`;
        continue;
      }
      for (const rule of merged) {
        const error = user.apply(rule.replace(/^[\t\r\n]+|[\t\r\n]+$/g, ""));
        if (error !== null) {
          errors += `${name}:${lineNo}: ${ruleErrorText(error)}. `;
          break;
        }
      }
    }
    if (errors !== "") {
      return errors +
        "WARNING: ACL errors detected, no change to the previously active ACL rules was performed";
    }
    const fileDefault = loaded.get("default") ?? createDefaultUser(this.table);
    this.default.copyFrom(fileDefault);
    loaded.set("default", this.default);
    this.#users = loaded;
    return null;
  }

  /** ACL SAVE: writes every user as `user <name> <rules>` lines; false when it failed. */
  saveFile(): boolean {
    const text = this.users().map((u) => `user ${u.name} ${u.describe()}\n`).join("");
    try {
      writeAtomicallySync(this.filePath, fromBinaryString(text));
      return true;
    } catch {
      return false;
    }
  }

  /** The maximum number of ACL LOG entries (`acllog-max-len`). */
  get logMaxLen(): number {
    return this.#config.values["acllog-max-len"];
  }
}
