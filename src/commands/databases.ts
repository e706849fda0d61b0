/** Database commands: SELECT, SWAPDB, DBSIZE, FLUSHDB, FLUSHALL. */
import { OK, type Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { asciiLower } from "../util/bytes.ts";
import { Args } from "./args.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import type { CommandDef } from "./registry.ts";

/** Reads a database index argument, with Redis's errors for bad and out-of-range values. */
export function dbIndex(ctx: ServerContext, arg: Uint8Array, notInteger: string): number {
  const index = new Args([arg], 0).integer(notInteger);
  if (index < 0 || index >= ctx.keyspace.count) {
    throw new CommandError("ERR DB index is out of range");
  }
  return index;
}

function select(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const db = dbIndex(ctx, argv[1], "ERR value is not an integer or out of range");
  if (ctx.cluster !== null && db !== 0) {
    throw new CommandError("ERR SELECT is not allowed in cluster mode");
  }
  client.db = db;
  return OK;
}

function swapdb(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  if (ctx.cluster !== null) throw new CommandError("ERR SWAPDB is not allowed in cluster mode");
  const a = dbIndex(ctx, argv[1], "ERR invalid first DB index");
  const b = dbIndex(ctx, argv[2], "ERR invalid second DB index");
  ctx.keyspace.swap(a, b);
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
