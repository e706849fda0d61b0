/**
 * Helpers the string command files share: the client's database, the string type check that
 * answers WRONGTYPE once other value types exist, and integer and keyword arguments.
 */
import type { ClientState } from "../server/client.ts";
import type { Database, StoredValue } from "../store/database.ts";
import type { CollectionType, CollectionValue } from "../store/collection.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import { fromBinaryString } from "../util/bytes.ts";
import { INT64_MAX, INT64_MIN, parseInt64Bytes } from "../util/int64.ts";

export { INT64_MAX, INT64_MIN, parseInt64Bytes };

/** Redis's reply to a command applied to a key of another type. */
export const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";

/**
 * The value as a collection of `type` ("hash", "list", "set", "zset"), undefined for a missing
 * key, or the WRONGTYPE error for a value of another type. Each family narrows the result to its
 * own class (`as HashValue`).
 */
export function collectionValue(
  value: StoredValue | undefined,
  type: CollectionType,
): CollectionValue | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string" || value.type !== type) throw new CommandError(WRONGTYPE);
  return value;
}

/** The value as a string, or the WRONGTYPE error for other types. */
export function stringValue(value: StoredValue | undefined): string | undefined {
  if (value === undefined || typeof value === "string") return value;
  throw new CommandError(WRONGTYPE);
}

/** The database the client has selected. */
export function database(ctx: ServerContext, client: ClientState): Database {
  return ctx.keyspace.db(client.db);
}

/** Redis's reply to an argument or value that is not a 64-bit integer. */
export const NOT_INTEGER = "ERR value is not an integer or out of range";

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
