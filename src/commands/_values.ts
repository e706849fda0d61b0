/**
 * Helpers the string command files share: the client's database, the string type check that
 * answers WRONGTYPE once other value types exist, and integer and keyword arguments.
 */
import type { ClientState } from "../server/client.ts";
import type { Database, StoredValue } from "../store/database.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import { fromBinaryString, toBinaryString } from "../util/bytes.ts";

/** Redis's reply to a command applied to a key of another type. */
export const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";

/** The value as a string, or the WRONGTYPE error for other types (only strings exist today). */
export function stringValue(value: StoredValue | undefined): string | undefined {
  if (value === undefined || typeof value === "string") return value;
  throw new CommandError(WRONGTYPE);
}

/** The database the client has selected. */
export function database(ctx: ServerContext, client: ClientState): Database {
  return ctx.keyspace.db(client.db);
}

/** Top of the signed 64-bit range of Redis integers. */
export const INT64_MAX = 9223372036854775807n;
/** Bottom of the signed 64-bit range of Redis integers. */
export const INT64_MIN = -9223372036854775808n;

/** Redis's reply to an argument or value that is not a 64-bit integer. */
export const NOT_INTEGER = "ERR value is not an integer or out of range";

/**
 * Parses `buf[start, end)` as Redis's `string2ll` does: optional minus, no plus, no leading
 * zeros or spaces, at most 20 characters, within the signed 64-bit range. Returns a number when
 * the value is a safe integer, a bigint beyond that (so counters stay exact), or null when it is
 * no integer. Takes bytes so that counters are parsed where they are stored, without a string.
 */
export function parseInt64Bytes(
  buf: Uint8Array,
  start = 0,
  end = buf.length,
): number | bigint | null {
  const n = end - start;
  if (n === 0 || n > 20) return null;
  const negative = buf[start] === 45;
  let i = start;
  if (negative) {
    if (n === 1) return null;
    i++;
  }
  const first = buf[i];
  if (first === 48) return n === 1 ? 0 : null;
  if (first < 49 || first > 57) return null;
  let value = 0;
  for (; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return null;
    value = value * 10 + d;
  }
  if (value <= Number.MAX_SAFE_INTEGER) return negative ? -value : value;
  const exact = BigInt(toBinaryString(buf, start, end));
  return exact > INT64_MAX || exact < INT64_MIN ? null : exact;
}

/** {@link parseInt64Bytes} of a binary string. */
export function parseInt64(text: string): number | bigint | null {
  return parseInt64Bytes(fromBinaryString(text));
}

/** An argument as a 64-bit integer (number or bigint), or Redis's not-an-integer error. */
export function intArg(arg: Uint8Array): number | bigint {
  const value = parseInt64Bytes(arg);
  if (value === null) throw new CommandError(NOT_INTEGER);
  return value;
}

/** An argument as an integer, rounded beyond 2^53 (for offsets and ranges, compared only). */
export function roundedIntArg(arg: Uint8Array): number {
  return Number(intArg(arg));
}

/** Whether `arg` is the ASCII `word` (given in lower case) in any case. */
export function isWord(arg: Uint8Array, word: string): boolean {
  if (arg.length !== word.length) return false;
  for (let i = 0; i < arg.length; i++) {
    if ((arg[i] | 0x20) !== word.charCodeAt(i)) return false;
  }
  return true;
}
