/**
 * Key (generic) commands: DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, RANDOMKEY, RENAME, RENAMENX,
 * COPY, MOVE and TOUCH (TTLs are in expire.ts; OBJECT and MEMORY in key_introspection.ts). They work on any
 * value type, so every question about a value's type goes through {@link typeName},
 * {@link encodingOf}, {@link keyUsage} and `cloneValue`: new types plug in there.
 *
 * Key lookups follow Redis's accounting: commands that Redis runs through `lookupKeyRead`
 * (EXISTS, TYPE, TTL, TOUCH, OBJECT, COPY's source, SCAN's TYPE filter) count keyspace hits and
 * misses with `Database.read`; write lookups (DEL, EXPIRE, RENAME, MOVE) use `Database.get`,
 * which only applies lazy expiry. Only TOUCH and COPY record an access for the eviction policy:
 * the others are Redis's LOOKUP_NOTOUCH lookups.
 */
import { OK, type Reply, SimpleString } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import type { Database, StoredValue } from "../store/database.ts";
import { asciiLower, toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import { NOTIFY_GENERIC, notifyKeyspaceEvent } from "../pubsub/keyspace_events.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import type { CommandDef, Handler } from "./registry.ts";
import { database, NOT_INTEGER, parseInt64, parseInt64Bytes } from "./_values.ts";
import {
  binaryGlobMatch,
  parseCursor,
  parseScanOptions,
  tableCursor,
  walkBuckets,
} from "./_scan.ts";

const SAME_OBJECT = "ERR source and destination objects are the same";
const INT32_MAX = 2147483647;
/** Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT. */
const EMBSTR_LIMIT = 44;

/**
 * Redis's type name of a value (TYPE, SCAN TYPE): "none" for a missing key. The one place the
 * value types are told apart, so hashes, lists and sets plug in here.
 */
export function typeName(value: StoredValue | undefined): string {
  if (value === undefined) return "none";
  return typeof value === "string" ? "string" : value.type;
}

/**
 * What OBJECT ENCODING answers for a value. A string is "int" when Redis's `string2ll` accepts it
 * (no sign but '-', no leading zero, at most 20 characters, within 64 bits), "embstr" up to 44
 * bytes, else "raw". Redis decides this when a value is stored (SET, APPEND on a new key) and
 * APPEND/SETRANGE on an existing key make it "raw"; gocache keeps no such history and derives the
 * encoding from the bytes, as a value freshly written by SET would have it.
 */
export function encodingOf(value: StoredValue): string {
  if (typeof value !== "string") return value.encoding();
  if (isInt64(value)) return "int";
  return value.length <= EMBSTR_LIMIT ? "embstr" : "raw";
}

/** Whether a binary string is a canonical 64-bit integer, as Redis's `string2ll` decides. */
function isInt64(value: string): boolean {
  return parseInt64(value) !== null;
}

/** A 64-bit integer argument, exactly (Redis's `getLongLongFromObject`), or null. */
export function int64(arg: Uint8Array): bigint | null {
  const n = parseInt64Bytes(arg);
  return n === null ? null : BigInt(n);
}

/**
 * A database argument of COPY and MOVE: Redis reads it as a 64-bit integer, then as a C `int`
 * (its own range error beyond 32 bits), then checks the database range.
 */
function dbArg(ctx: ServerContext, arg: Uint8Array): Database {
  const n = int64(arg);
  if (n === null) throw new CommandError(NOT_INTEGER);
  if (n > BigInt(INT32_MAX) || n < -BigInt(INT32_MAX) - 1n) {
    throw new CommandError(
      "ERR value is out of range, value must between -2147483648 and 2147483647",
    );
  }
  const index = Number(n);
  if (index < 0 || index >= ctx.keyspace.count) {
    throw new CommandError("ERR DB index is out of range");
  }
  return ctx.keyspace.db(index);
}

/** An argument as Redis's `%s` prints it: up to the first NUL byte. */
export function cText(arg: Uint8Array): string {
  const nul = arg.indexOf(0);
  return toBinaryString(nul < 0 ? arg : arg.subarray(0, nul));
}

/** DEL and UNLINK: both free memory at once here (the garbage collector does the rest). */
function del(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const db = database(ctx, client);
  const t = now();
  let deleted = 0;
  for (let i = 1; i < argv.length; i++) {
    const key = toBinaryString(argv[i]);
    if (db.get(key, t) !== undefined && db.delete(key)) {
      notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "del", key, client.db);
      deleted++;
    }
  }
  return deleted;
}

/**
 * EXISTS and TOUCH: how many of the keys (duplicates included) exist. Only TOUCH records the
 * access, even for a CLIENT NO-TOUCH client (Redis exempts TOUCH from it).
 */
function countExisting(touch: boolean): Handler {
  return (ctx, client, argv) => {
    const db = database(ctx, client);
    const t = now();
    let found = 0;
    for (let i = 1; i < argv.length; i++) {
      if (db.read(toBinaryString(argv[i]), t, !touch) !== undefined) found++;
    }
    return found;
  };
}

/** TYPE's status replies, built once per type name. */
const typeReplies = new Map<string, SimpleString>();

function type(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const name = typeName(database(ctx, client).read(toBinaryString(argv[1]), now(), true));
  let reply = typeReplies.get(name);
  if (reply === undefined) typeReplies.set(name, reply = new SimpleString(name));
  return reply;
}

function keys(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const db = database(ctx, client);
  const t = now();
  const pattern = argv[1];
  const out: string[] = [];
  for (const key of db.keys()) {
    if (binaryGlobMatch(pattern, key) && db.get(key, t) !== undefined) out.push(key);
  }
  return out;
}

/**
 * SCAN cursor [MATCH pattern] [COUNT count] [TYPE type], as Redis's `scanGenericCommand`: the
 * cursor designates a bucket of the database's table, visited in reverse binary order (see
 * `KeyTable.scanStep`), so it is stateless, a key present for the whole scan is returned at
 * least once across resizes, and a scan always ends. Each call visits buckets until COUNT keys
 * were collected (or COUNT * 10 buckets were looked at); MATCH, TYPE and expiry filter those.
 * Cursors are 32-bit: higher bits of a client's cursor are ignored.
 */
function scan(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const cursor = parseCursor(argv[1]);
  const { count, pattern, type: wanted } = parseScanOptions(argv, 2, true);
  const db = database(ctx, client);
  const t = now();
  const step = (at: number, visit: (key: string) => void) => db.scanStep(at, visit);
  const { next, found } = walkBuckets(step, tableCursor(cursor), count);
  const out: string[] = [];
  for (const key of found) {
    if (pattern !== null && !binaryGlobMatch(pattern, key)) continue;
    // With TYPE, Redis 7.0 looks each matching key up as a read, counting a hit or a miss,
    // without touching it.
    const value = wanted === null ? db.get(key, t) : db.read(key, t, true);
    if (value === undefined) continue;
    if (wanted !== null && typeName(value) !== wanted) continue;
    out.push(key);
  }
  return [String(next), out];
}

function randomkey(ctx: ServerContext, client: ClientState): Reply {
  return database(ctx, client).randomKey(now()) ?? null;
}

/** RENAME and RENAMENX (Redis's `renameGenericCommand`): the TTL moves with the value. */
function renameHandler(nx: boolean): Handler {
  return (ctx, client, argv) => {
    const db = database(ctx, client);
    const t = now();
    const src = toBinaryString(argv[1]);
    const dst = toBinaryString(argv[2]);
    const value = db.get(src, t);
    if (value === undefined) throw new CommandError("ERR no such key");
    if (src === dst) return nx ? 0 : OK;
    const at = db.expireAt(src);
    if (db.get(dst, t) !== undefined) {
      if (nx) return 0;
      db.delete(dst);
    }
    db.set(dst, value, false, t);
    if (at !== undefined) db.setExpireAt(dst, at);
    db.delete(src);
    notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "rename_from", src, client.db);
    notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "rename_to", dst, client.db);
    return nx ? 1 : OK;
  };
}

/**
 * A copy of a value for COPY. Strings are immutable in JS, so they are shared; collections are
 * copied deeply.
 */
function cloneValue(value: StoredValue): StoredValue {
  return typeof value === "string" ? value : value.clone();
}

/** COPY source destination [DB index] [REPLACE]: the TTL is copied too. */
function copy(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const src = database(ctx, client);
  let dst = src;
  let replace = false;
  for (let i = 3; i < argv.length; i++) {
    const option = asciiLower(argv[i]);
    if (option === "replace") replace = true;
    else if (option === "db" && i + 1 < argv.length) dst = dbArg(ctx, argv[++i]);
    else throw new CommandError("ERR syntax error");
  }
  if (ctx.cluster !== null && src !== dst) {
    throw new CommandError("ERR Copying to another database is not allowed in cluster mode");
  }
  const key = toBinaryString(argv[1]);
  const newKey = toBinaryString(argv[2]);
  if (src === dst && key === newKey) throw new CommandError(SAME_OBJECT);
  const t = now();
  const value = src.read(key, t, client.noTouch);
  if (value === undefined) return 0;
  const at = src.expireAt(key);
  if (dst.get(newKey, t) !== undefined) {
    if (!replace) return 0;
    dst.delete(newKey);
  }
  dst.set(newKey, cloneValue(value), false, t);
  if (at !== undefined) dst.setExpireAt(newKey, at);
  notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "copy_to", newKey, dst.index);
  return 1;
}

/** MOVE key db: the TTL moves with the value; 0 when the key is missing or taken in `db`. */
function move(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  if (ctx.cluster !== null) throw new CommandError("ERR MOVE is not allowed in cluster mode");
  const src = database(ctx, client);
  const dst = dbArg(ctx, argv[2]);
  if (src === dst) throw new CommandError(SAME_OBJECT);
  const t = now();
  const key = toBinaryString(argv[1]);
  const value = src.get(key, t);
  if (value === undefined) return 0;
  const at = src.expireAt(key);
  if (dst.get(key, t) !== undefined) return 0;
  dst.set(key, value, false, t);
  if (at !== undefined) dst.setExpireAt(key, at);
  src.delete(key);
  notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "move_from", key, src.index);
  notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "move_to", key, dst.index);
  return 1;
}

const O1 = "O(1)";

/** A generic-group command declaration (O(1) unless said otherwise). */
export function keyCmd(
  name: string,
  arity: number,
  flags: CommandDef["flags"],
  keys: CommandDef["keys"],
  summary: string,
  since: string,
  handler: Handler,
  complexity = O1,
): CommandDef {
  return { name, arity, flags, keys, group: "generic", summary, since, complexity, handler };
}

/** Key position of commands taking one key, first argument. */
export const ONE = { first: 1, last: 1, step: 1 };
const ALL = { first: 1, last: -1, step: 1 };
const TWO = { first: 1, last: 2, step: 1 };

/** Key command declarations, with Redis 7.0's arity, flags, key positions and docs. */
export const keyCommands: readonly CommandDef[] = [
  keyCmd(
    "del",
    -2,
    ["write"],
    ALL,
    "Delete a key",
    "1.0.0",
    del,
    "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
  ),
  keyCmd(
    "unlink",
    -2,
    ["write", "fast"],
    ALL,
    "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
    "4.0.0",
    del,
    "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
  ),
  keyCmd(
    "exists",
    -2,
    ["readonly", "fast"],
    ALL,
    "Determine if a key exists",
    "1.0.0",
    countExisting(false),
    "O(N) where N is the number of keys to check.",
  ),
  keyCmd("type", 2, ["readonly", "fast"], ONE, "Determine the type stored at key", "1.0.0", type),
  {
    ...keyCmd(
      "keys",
      2,
      ["readonly"],
      undefined,
      "Find all keys matching the given pattern",
      "1.0.0",
      keys,
      "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
    ),
    acl: ["@keyspace", "@dangerous"],
  },
  keyCmd(
    "scan",
    -2,
    ["readonly"],
    undefined,
    "Incrementally iterate the keys space",
    "2.8.0",
    scan,
    "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
  ),
  keyCmd(
    "randomkey",
    1,
    ["readonly"],
    undefined,
    "Return a random key from the keyspace",
    "1.0.0",
    randomkey,
  ),
  keyCmd("rename", 3, ["write"], TWO, "Rename a key", "1.0.0", renameHandler(false)),
  keyCmd(
    "renamenx",
    3,
    ["write", "fast"],
    TWO,
    "Rename a key, only if the new key does not exist",
    "1.0.0",
    renameHandler(true),
  ),
  keyCmd(
    "copy",
    -3,
    ["write", "denyoom"],
    TWO,
    "Copy a key",
    "6.2.0",
    copy,
    "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
  ),
  keyCmd("move", 3, ["write", "fast"], ONE, "Move a key to another database", "1.0.0", move),
  keyCmd(
    "touch",
    -2,
    ["readonly", "fast"],
    ALL,
    "Alters the last access time of a key(s). Returns the number of existing keys specified.",
    "3.2.1",
    countExisting(true),
    "O(N) where N is the number of keys that will be touched.",
  ),
];
