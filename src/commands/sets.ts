/**
 * The sets family (Redis 7.0's `t_set.c`): SADD, SREM, SMOVE, SISMEMBER, SMISMEMBER, SCARD and
 * SSCAN here; SMEMBERS and the set algebra (SINTER, SINTERCARD, SUNION, SDIFF and their STORE
 * forms) in sets_algebra.ts; SPOP and SRANDMEMBER in sets_random.ts. Replies, error texts,
 * keyspace notifications and dirty counts follow Redis's, call for call. Members are binary
 * strings held by {@link SetValue}.
 */
import type { Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { SetValue } from "../store/set_value.ts";
import { toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import { NOTIFY_GENERIC, NOTIFY_SET, notifyKeyspaceEvent } from "../pubsub/keyspace_events.ts";
import type { ServerContext } from "./context.ts";
import type { CommandDef } from "./registry.ts";
import { collectionValue, database } from "./_values.ts";
import {
  binaryGlobMatch,
  parseCursor,
  parseScanOptions,
  tableCursor,
  walkBuckets,
} from "./_scan.ts";
import { addDirty, ONE_KEY, readSet, writeSet } from "./sets_shared.ts";
import { setAlgebraCommands } from "./sets_algebra.ts";
import { setRandomCommands } from "./sets_random.ts";

function sadd(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const db = database(ctx, client);
  const key = toBinaryString(argv[1]);
  const t = now();
  const set = writeSet(db, key, t);
  let added = 0;
  if (set === undefined) {
    const created = new SetValue();
    for (let i = 2; i < argv.length; i++) if (created.add(toBinaryString(argv[i]))) added++;
    db.set(key, created, false, t);
    addDirty(ctx, added - 1);
  } else {
    let before = -1;
    for (let i = 2; i < argv.length; i++) {
      const member = toBinaryString(argv[i]);
      if (set.has(member)) continue;
      if (before < 0) before = db.beginUpdate(key);
      set.add(member);
      added++;
    }
    if (added > 0) db.endUpdate(key, before, added, t);
  }
  if (added > 0) notifyKeyspaceEvent(ctx, NOTIFY_SET, "sadd", key, client.db);
  return added;
}

function srem(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const db = database(ctx, client);
  const key = toBinaryString(argv[1]);
  const t = now();
  const set = writeSet(db, key, t);
  if (set === undefined) return 0;
  let before = -1;
  let deleted = 0;
  for (let i = 2; i < argv.length && set.size > 0; i++) {
    const member = toBinaryString(argv[i]);
    if (!set.has(member)) continue;
    if (before < 0) before = db.beginUpdate(key);
    set.delete(member);
    deleted++;
  }
  if (deleted === 0) return 0;
  const removed = db.endUpdate(key, before, deleted, t);
  notifyKeyspaceEvent(ctx, NOTIFY_SET, "srem", key, client.db);
  if (removed) notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "del", key, client.db);
  return deleted;
}

/** SMOVE source destination member, with Redis's checks in Redis's order. */
function smove(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const db = database(ctx, client);
  const srcKey = toBinaryString(argv[1]);
  const dstKey = toBinaryString(argv[2]);
  const member = toBinaryString(argv[3]);
  const t = now();
  const src = writeSet(db, srcKey, t);
  // Redis looks the destination up (expiring it if due) before it checks the source.
  const dstValue = db.get(dstKey, t);
  if (src === undefined) return 0;
  const dst = collectionValue(dstValue, "set");
  if (srcKey === dstKey) return src.has(member) ? 1 : 0;
  if (!src.has(member)) return 0;
  const before = db.beginUpdate(srcKey);
  src.delete(member);
  notifyKeyspaceEvent(ctx, NOTIFY_SET, "srem", srcKey, client.db);
  if (db.endUpdate(srcKey, before, 1, t)) {
    notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "del", srcKey, client.db);
  }
  if (dst === undefined) {
    db.set(dstKey, SetValue.of([member]), false, t);
  } else if (!dst.has(member)) {
    const dstBefore = db.beginUpdate(dstKey);
    dst.add(member);
    db.endUpdate(dstKey, dstBefore, 1, t);
  } else return 1;
  notifyKeyspaceEvent(ctx, NOTIFY_SET, "sadd", dstKey, client.db);
  return 1;
}

function sismember(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const set = readSet(database(ctx, client), client, toBinaryString(argv[1]), now());
  return set !== undefined && set.has(toBinaryString(argv[2])) ? 1 : 0;
}

function smismember(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const set = readSet(database(ctx, client), client, toBinaryString(argv[1]), now());
  const out: number[] = [];
  for (let i = 2; i < argv.length; i++) {
    out.push(set !== undefined && set.has(toBinaryString(argv[i])) ? 1 : 0);
  }
  return out;
}

function scard(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  return readSet(database(ctx, client), client, toBinaryString(argv[1]), now())?.size ?? 0;
}

/**
 * SSCAN key cursor [MATCH pattern] [COUNT count]: an intset answers all its members with
 * cursor 0; a hash table visits buckets until COUNT members were collected or COUNT * 10
 * buckets were looked at, as Redis's dictScan loop does; MATCH filters what was collected.
 */
function sscan(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const cursor = tableCursor(parseCursor(argv[2]));
  const set = readSet(database(ctx, client), client, toBinaryString(argv[1]), now());
  if (set === undefined) return ["0", []];
  const { count, pattern } = parseScanOptions(argv, 3);
  const step = (at: number, visit: (member: string) => void) => set.scanStep(at, visit);
  const { next, found } = walkBuckets(step, cursor, count);
  return [
    String(next),
    pattern === null ? found : found.filter((m) => binaryGlobMatch(pattern, m)),
  ];
}

/** Declarations of the sets family (arity, flags and key positions as Redis 7.0 declares). */
export const setsCommands: readonly CommandDef[] = [
  {
    name: "sadd",
    arity: -3,
    flags: ["write", "denyoom", "fast"],
    keys: ONE_KEY,
    group: "set",
    summary: "Add one or more members to a set",
    since: "1.0.0",
    complexity: "O(1) for each element added, so O(N) to add N elements when the command is " +
      "called with multiple arguments.",
    handler: sadd,
  },
  {
    name: "srem",
    arity: -3,
    flags: ["write", "fast"],
    keys: ONE_KEY,
    group: "set",
    summary: "Remove one or more members from a set",
    since: "1.0.0",
    complexity: "O(N) where N is the number of members to be removed.",
    handler: srem,
  },
  {
    name: "smove",
    arity: 4,
    flags: ["write", "fast"],
    keys: { first: 1, last: 2, step: 1 },
    group: "set",
    summary: "Move a member from one set to another",
    since: "1.0.0",
    complexity: "O(1)",
    handler: smove,
  },
  {
    name: "sismember",
    arity: 3,
    flags: ["readonly", "fast"],
    keys: ONE_KEY,
    group: "set",
    summary: "Determine if a given value is a member of a set",
    since: "1.0.0",
    complexity: "O(1)",
    handler: sismember,
  },
  {
    name: "smismember",
    arity: -3,
    flags: ["readonly", "fast"],
    keys: ONE_KEY,
    group: "set",
    summary: "Returns the membership associated with the given elements for a set",
    since: "6.2.0",
    complexity: "O(N) where N is the number of elements being checked for membership",
    handler: smismember,
  },
  {
    name: "scard",
    arity: 2,
    flags: ["readonly", "fast"],
    keys: ONE_KEY,
    group: "set",
    summary: "Get the number of members in a set",
    since: "1.0.0",
    complexity: "O(1)",
    handler: scard,
  },
  {
    name: "sscan",
    arity: -3,
    flags: ["readonly"],
    keys: ONE_KEY,
    group: "set",
    summary: "Incrementally iterate Set elements",
    since: "2.8.0",
    complexity: "O(1) for every call. O(N) for a complete iteration, including enough command " +
      "calls for the cursor to return back to 0. N is the number of elements inside the " +
      "collection.",
    handler: sscan,
  },
  ...setAlgebraCommands,
  ...setRandomCommands,
];
