/**
 * Redis's error texts, in one place, because clients branch on them. Handlers throw
 * {@link CommandError} (or return an {@link ErrorReply}); dispatch turns the throw into the reply.
 */
import { ErrorReply } from "../resp/reply.ts";
import { toBinaryString } from "../util/bytes.ts";

/** A command failure carrying the exact Redis error text, thrown from argument parsing. */
export class CommandError extends Error {
  /** The reply to send. */
  readonly reply: ErrorReply;
  /** Creates the error from a Redis error text, code first (`ERR syntax error`). */
  constructor(message: string) {
    super(message);
    this.name = "CommandError";
    this.reply = new ErrorReply(message);
  }
}

/** `-ERR syntax error`. */
export const SYNTAX_ERROR: ErrorReply = new ErrorReply("ERR syntax error");
/** `-ERR value is not an integer or out of range`. */
export const NOT_INTEGER: ErrorReply = new ErrorReply(
  "ERR value is not an integer or out of range",
);
/** `-NOAUTH Authentication required.` */
export const NOAUTH: ErrorReply = new ErrorReply("NOAUTH Authentication required.");
/** `-WRONGPASS ...` after a failed AUTH. */
export const WRONGPASS: ErrorReply = new ErrorReply(
  "WRONGPASS invalid username-password pair or user is disabled.",
);

/**
 * What Redis's `%.*s` prints of an argument: at most `max` bytes, and nothing from the first NUL
 * byte on, since Redis formats the argument as a C string.
 */
function cString(bytes: Uint8Array, max: number): Uint8Array {
  const end = Math.min(bytes.length, max);
  const nul = bytes.subarray(0, end).indexOf(0);
  return bytes.subarray(0, nul < 0 ? end : nul);
}

/** An argument quoted in an error text, byte for byte (error messages are binary strings). */
function quoted(bytes: Uint8Array, max: number): string {
  return toBinaryString(cString(bytes, max));
}

/**
 * `unknown command 'foo', with args beginning with: 'a' 'b' ` exactly as Redis builds it: the
 * name cut at 128 bytes, then arguments while the list is under 128 bytes, each cut to what is
 * left of those 128 bytes (lengths count bytes, as Redis's do).
 */
export function unknownCommand(argv: readonly Uint8Array[]): ErrorReply {
  let args = "";
  let argsBytes = 0;
  for (let i = 1; i < argv.length && argsBytes < 128; i++) {
    const arg = cString(argv[i], 128 - argsBytes);
    args += `'${toBinaryString(arg)}' `;
    argsBytes += arg.length + 3;
  }
  return new ErrorReply(
    `ERR unknown command '${quoted(argv[0], 128)}', with args beginning with: ${args}`,
  );
}

/** `wrong number of arguments for 'get' command` (subcommands as `client|id`). */
export function wrongArity(fullName: string): ErrorReply {
  return new ErrorReply(`ERR wrong number of arguments for '${fullName}' command`);
}

/**
 * Redis's addReplySubcommandSyntaxError: a known subcommand given a count of arguments it does
 * not take (`unknown subcommand or wrong number of arguments for 'get'. Try SLOWLOG HELP.`).
 */
export function subcommandArityError(sub: Uint8Array, container: string): ErrorReply {
  return new ErrorReply(
    `ERR unknown subcommand or wrong number of arguments for '${
      quoted(sub, 128)
    }'. Try ${container.toUpperCase()} HELP.`,
  );
}

/** `unknown subcommand 'foo'. Try CLIENT HELP.` */
export function unknownSubcommand(sub: Uint8Array, container: string): ErrorReply {
  return new ErrorReply(
    `ERR unknown subcommand '${quoted(sub, 128)}'. Try ${container.toUpperCase()} HELP.`,
  );
}

/** Redis 7.0's refusal of DEBUG where `enable-debug-command` does not allow it. */
export const DEBUG_NOT_ALLOWED = new ErrorReply(
  'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you ' +
    "can run it from a local connection, otherwise you need to set this option in the " +
    "configuration file, and then restart the server.",
);

const OOM_MEMORY = new ErrorReply("OOM command not allowed when used memory > 'maxmemory'.");
const OOM_KEYS = new ErrorReply("OOM command not allowed when the number of keys > 'maxkeys'.");

/** Redis's refusal of a denyoom command while a limit is exceeded (dispatch, scripts). */
export function oomRefusal(exceeded: "maxmemory" | "maxkeys"): ErrorReply {
  return exceeded === "maxmemory" ? OOM_MEMORY : OOM_KEYS;
}
