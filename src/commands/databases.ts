/** Database commands: SELECT, SWAPDB, DBSIZE, FLUSHDB, FLUSHALL. */
import { signalSwappedKeys } from "../server/blocked_keys.ts";
import { OK, type Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { asciiLower } from "../util/bytes.ts";
import { parseInt64Bytes } from "../util/int64.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import type { CommandDef } from "./registry.ts";

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/**
 * Reads a database index as Redis's getIntFromObjectOrReply does: not an integer is
 * `notInteger`, past a C int `outOfInt` (Redis's range message when the caller gives none).
 */
function intArg(arg: Uint8Array, notInteger: string, outOfInt = notInteger): number {
  const index = parseInt64Bytes(arg);
  if (index === null) throw new CommandError(notInteger);
  if (index < INT_MIN || index > INT_MAX) throw new CommandError(outOfInt);
  return Number(index);
}

/** Reads a database index argument, with Redis's errors for bad and out-of-range values. */
export function dbIndex(ctx: ServerContext, arg: Uint8Array, notInteger: string): number {
  const index = intArg(arg, notInteger);
  if (index < 0 || index >= ctx.keyspace.count) {
    throw new CommandError("ERR DB index is out of range");
  }
  return index;
}

function select(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const db = intArg(
    argv[1],
    "ERR value is not an integer or out of range",
    `ERR value is out of range, value must between ${INT_MIN} and ${INT_MAX}`,
  );
  // As Redis: in cluster mode any index but 0 is refused before its range is checked.
  if (ctx.cluster !== null && db !== 0) {
    throw new CommandError("ERR SELECT is not allowed in cluster mode");
  }
  if (db < 0 || db >= ctx.keyspace.count) throw new CommandError("ERR DB index is out of range");
  client.db = db;
  return OK;
}

function swapdb(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  if (ctx.cluster !== null) throw new CommandError("ERR SWAPDB is not allowed in cluster mode");
  const a = dbIndex(ctx, argv[1], "ERR invalid first DB index");
  const b = dbIndex(ctx, argv[2], "ERR invalid second DB index");
  ctx.keyspace.swap(a, b);
  signalSwappedKeys(ctx);
  return OK;
}

/** Checks FLUSHDB/FLUSHALL's optional ASYNC|SYNC word (both free memory at once here). */
function flushMode(argv: Uint8Array[]): void {
  if (argv.length > 2) throw new CommandError("ERR syntax error");
  if (argv.length === 2) {
    const mode = asciiLower(argv[1]);
    if (mode !== "async" && mode !== "sync") throw new CommandError("ERR syntax error");
  }
}

/** Database command declarations. */
export const databaseCommands: readonly CommandDef[] = [
  {
    name: "select",
    arity: 2,
    flags: ["loading", "stale", "fast"],
    group: "connection",
    summary: "Changes the selected database.",
    since: "1.0.0",
    complexity: "O(1)",
    handler: select,
  },
  {
    name: "swapdb",
    arity: 3,
    flags: ["write", "fast"],
    group: "server",
    acl: ["@keyspace", "@dangerous"],
    summary: "Swaps two Redis databases.",
    since: "4.0.0",
    complexity:
      "O(N) where N is the count of clients watching or blocking on keys from both databases.",
    handler: swapdb,
  },
  {
    name: "dbsize",
    arity: 1,
    flags: ["readonly", "fast"],
    group: "server",
    acl: ["@keyspace"],
    summary: "Returns the number of keys in the database.",
    since: "1.0.0",
    complexity: "O(1)",
    handler: (ctx, client) => ctx.keyspace.db(client.db).size,
  },
  {
    name: "flushdb",
    arity: -1,
    flags: ["write"],
    group: "server",
    acl: ["@keyspace", "@dangerous"],
    summary: "Remove all keys from the current database.",
    since: "1.0.0",
    complexity: "O(N) where N is the number of keys in the selected database",
    handler: (ctx, client, argv) => {
      flushMode(argv);
      ctx.keyspace.db(client.db).clear();
      return OK;
    },
  },
  {
    name: "flushall",
    arity: -1,
    flags: ["write"],
    group: "server",
    acl: ["@keyspace", "@dangerous"],
    summary: "Removes all keys from all databases.",
    since: "1.0.0",
    complexity: "O(N) where N is the total number of keys in all databases",
    handler: (ctx, _client, argv) => {
      flushMode(argv);
      ctx.keyspace.flushAll();
      return OK;
    },
  },
];
