/**
 * Helpers the command files share: the client's database, the type checks that answer
 * WRONGTYPE (strings, and the collections with their read and write lookups), and integer and
 * keyword arguments.
 */
import type { ClientState } from "../server/client.ts";
import type { Database, StoredValue } from "../store/database.ts";
import type { CollectionType } from "../store/collection.ts";
import type { HashValue } from "../store/hash_value.ts";
import type { ListValue } from "../store/list_value.ts";
import type { SetValue } from "../store/set_value.ts";
import type { SortedSetValue } from "../store/sorted_set_value.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import { inExec } from "./transactions.ts";
import { fromBinaryString } from "../util/bytes.ts";
import { INT64_MAX, INT64_MIN, parseInt64Bytes } from "../util/int64.ts";

export { INT64_MAX, INT64_MIN, parseInt64Bytes };

/** Redis's reply to a command applied to a key of another type. */
export const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";

/** The class of each collection type, so that a lookup by type name returns that class. */
export interface CollectionClasses {
  /** Hashes. */
  hash: HashValue;
  /** Lists. */
  list: ListValue;
  /** Sets. */
  set: SetValue;
  /** Sorted sets. */
  zset: SortedSetValue;
}

/**
 * The value as a collection of `type` ("hash", "list", "set", "zset"), typed as that type's
 * class, undefined for a missing key, or the WRONGTYPE error for a value of another type.
 */
export function collectionValue<T extends CollectionType>(
  value: StoredValue | undefined,
  type: T,
): CollectionClasses[T] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string" || value.type !== type) throw new CommandError(WRONGTYPE);
  return value as CollectionClasses[T];
}

/**
 * The collection of `type` under `key` for a read command (Redis's `lookupKeyRead`: counts a
 * keyspace hit or miss, records the access unless the client is NO-TOUCH), undefined when
 * missing, or WRONGTYPE. One lookup for every family, so they all count alike.
 */
export function readCollection<T extends CollectionType>(
  db: Database,
  client: ClientState,
  key: string,
  now: number,
  type: T,
): CollectionClasses[T] | undefined {
  return collectionValue(db.read(key, now, client.noTouch), type);
}

/**
 * The collection of `type` under `key` for a write command (Redis's `lookupKeyWrite`: lazy
 * expiry only, no hit/miss counted), undefined when missing, or WRONGTYPE.
 */
export function writableCollection<T extends CollectionType>(
  db: Database,
  key: string,
  now: number,
  type: T,
): CollectionClasses[T] | undefined {
  return collectionValue(db.get(key, now), type);
}

/** The value as a string, or the WRONGTYPE error for other types. */
export function stringValue(value: StoredValue | undefined): string | undefined {
  if (value === undefined || typeof value === "string") return value;
  throw new CommandError(WRONGTYPE);
}

/**
 * Whether the reply of `client`'s command is encoded before any other command runs: not inside
 * EXEC or a script, whose replies wait for the commands after them. Only then may a handler
 * reply with a view of the store's bytes (BytesRangeReply).
 */
export function repliesAtOnce(client: ClientState): boolean {
  return !client.inScript && !inExec();
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

/** The count argument of HRANDFIELD or ZRANDMEMBER, and whether its option followed. */
export interface RandomCount {
  /** How many to pick: negative allows repeats. */
  count: bigint;
  /** Whether WITHVALUES / WITHSCORES was given. */
  withValues: boolean;
}

/** The largest count the WITHVALUES / WITHSCORES form accepts (C's LONG_MAX / 2). */
const WITH_VALUES_MAX = INT64_MAX / 2n;

/**
 * Reads `key count [option]` of HRANDFIELD (`option` "withvalues") or ZRANDMEMBER
 * ("withscores") as Redis's `hrandfieldWithCountCommand` / `zrandmemberWithCountCommand` check
 * it, before the key is looked up: the count must be an integer in [-LONG_MAX, LONG_MAX], only
 * `option` may follow it, and with it |count| <= LONG_MAX / 2. One copy, so both commands
 * answer the same errors in the same order.
 */
export function randomCountArgs(argv: Uint8Array[], option: string): RandomCount {
  const count = BigInt(intArg(argv[2]));
  if (count < -INT64_MAX) {
    throw new CommandError(
      `ERR value is out of range, value must between ${-INT64_MAX} and ${INT64_MAX}`,
    );
  }
  if (argv.length > 4 || (argv.length === 4 && !isWord(argv[3], option))) {
    throw new CommandError("ERR syntax error");
  }
  const withValues = argv.length === 4;
  if (withValues && (count < -WITH_VALUES_MAX || count > WITH_VALUES_MAX)) {
    throw new CommandError("ERR value is out of range");
  }
  return { count, withValues };
}

/**
 * The most elements a negative count (repeats allowed) may ask of SRANDMEMBER, HRANDFIELD or
 * ZRANDMEMBER. Redis streams any number (until the client's output limit closes it); gocache
 * builds the reply first, so it refuses a count whose reply could exhaust the heap rather than
 * crash.
 */
export const MAX_REPEATED_SAMPLE = 1 << 24;

/** `-count` for a negative random-sample count, or Redis's out-of-range error past the cap. */
export function repeatedSampleCount(count: bigint | number): number {
  const wanted = -Number(count);
  if (wanted > MAX_REPEATED_SAMPLE) throw new CommandError("ERR value is out of range");
  return wanted;
}

/** Whether `arg` is the ASCII `word` (given in lower case) in any case. */
export function isWord(arg: Uint8Array, word: string): boolean {
  if (arg.length !== word.length) return false;
  for (let i = 0; i < arg.length; i++) {
    if ((arg[i] | 0x20) !== word.charCodeAt(i)) return false;
  }
  return true;
}
