/**
 * ZPOPMIN, ZPOPMAX and ZMPOP (Redis's genericZpopCommand and zmpopGenericCommand). The popping
 * itself is {@link popFrom}, and the ZMPOP argument parsing {@link parseMpop}, so that the
 * blocking BZPOPMIN, BZPOPMAX and BZMPOP can reuse them once a key is ready.
 */
import type { Reply } from "../resp/reply.ts";
import { NULL_ARRAY } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import type { ScoredMember, SortedSetValue } from "../store/sorted_set_value.ts";
import { toBinaryString } from "../util/bytes.ts";
import { NOTIFY_GENERIC, NOTIFY_ZSET, notifyKeyspaceEvent } from "../pubsub/keyspace_events.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import { database, isWord, parseInt64Bytes } from "./_values.ts";
import { scoreReply, zsetAt } from "./sorted_sets_args.ts";

/** Which end a pop takes from. */
export type PopEnd = "min" | "max";

/**
 * Removes up to `count` (>= 1) members from the `end` of the set under `key` (which must hold
 * a non-empty sorted set), notifying as Redis does ("zpopmin"/"zpopmax", then "del" when the
 * set is emptied), and returns them in pop order.
 */
export function popFrom(
  ctx: ServerContext,
  client: ClientState,
  key: string,
  zset: SortedSetValue,
  end: PopEnd,
  count: number,
): ScoredMember[] {
  const db = database(ctx, client);
  const size = zset.size;
  const n = Math.min(count, size);
  const [first, last] = end === "min" ? [0, n - 1] : [size - n, size - 1];
  const popped = [...zset.range(first, last, end === "max")];
  const before = db.beginUpdate(key);
  zset.deleteRange(first, last);
  const removed = db.endUpdate(key, before, n);
  notifyKeyspaceEvent(ctx, NOTIFY_ZSET, end === "min" ? "zpopmin" : "zpopmax", key, client.db);
  if (removed) notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "del", key, client.db);
  return popped;
}

/** The first of `keys` that holds a sorted set (WRONGTYPE stops the search), or undefined. */
export function firstNonEmpty(
  ctx: ServerContext,
  client: ClientState,
  keys: readonly Uint8Array[],
): { key: string; zset: SortedSetValue } | undefined {
  const db = database(ctx, client);
  for (const keyArg of keys) {
    const key = toBinaryString(keyArg);
    const zset = zsetAt(db, key, client, true);
    if (zset !== undefined) return { key, zset };
  }
  return undefined;
}

/** Popped members as [member, score] pairs (RESP3 or `nested`) or a flat list. */
export function poppedReply(client: ClientState, popped: ScoredMember[], nested: boolean): Reply[] {
  const out: Reply[] = [];
  for (const [member, score] of popped) {
    if (nested) out.push([member, scoreReply(client, score)]);
    else out.push(member, scoreReply(client, score));
  }
  return out;
}

function zpop(ctx: ServerContext, client: ClientState, argv: Uint8Array[], end: PopEnd): Reply {
  if (argv.length > 3) throw new CommandError("ERR syntax error");
  let count = -1;
  if (argv.length === 3) {
    const n = parseInt64Bytes(argv[2]);
    if (n === null || n < 0) throw new CommandError("ERR value is out of range, must be positive");
    count = Number(n);
  }
  const found = firstNonEmpty(ctx, client, [argv[1]]);
  if (found === undefined || count === 0) return [];
  const popped = popFrom(ctx, client, found.key, found.zset, end, count === -1 ? 1 : count);
  return poppedReply(client, popped, client.proto > 2 && count !== -1);
}

/** ZPOPMIN key [count]. */
export function zpopmin(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  return zpop(ctx, client, argv, "min");
}

/** ZPOPMAX key [count]. */
export function zpopmax(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  return zpop(ctx, client, argv, "max");
}

/** What ZMPOP (and BZMPOP) asked for. */
export interface MpopRequest {
  /** The keys, in order. */
  keys: Uint8Array[];
  /** Which end to pop from. */
  end: PopEnd;
  /** How many members at most. */
  count: number;
}

/** The key positions of ZMPOP (`numkeysAt` 1) or BZMPOP (2) for COMMAND GETKEYS. */
export function mpopKeys(argv: readonly Uint8Array[], numkeysAt: number): number[] {
  const n = parseInt64Bytes(argv[numkeysAt] ?? new Uint8Array());
  if (n === null || n < 1) return [];
  const keys: number[] = [];
  for (let i = 0; i < Number(n) && numkeysAt + 1 + i < argv.length; i++) {
    keys.push(numkeysAt + 1 + i);
  }
  return keys;
}

function positiveArg(arg: Uint8Array, message: string): number {
  const n = parseInt64Bytes(arg);
  if (n === null || n < 1) throw new CommandError(message);
  return Number(n);
}

/** Parses `numkeys key... MIN|MAX [COUNT count]` from `numkeysAt`, as zmpopGenericCommand. */
export function parseMpop(argv: Uint8Array[], numkeysAt: number): MpopRequest {
  const numkeys = positiveArg(argv[numkeysAt], "ERR numkeys should be greater than 0");
  const whereAt = numkeysAt + numkeys + 1;
  if (whereAt >= argv.length) throw new CommandError("ERR syntax error");
  let end: PopEnd;
  if (isWord(argv[whereAt], "min")) end = "min";
  else if (isWord(argv[whereAt], "max")) end = "max";
  else throw new CommandError("ERR syntax error");
  let count = -1;
  for (let j = whereAt + 1; j < argv.length; j++) {
    if (count === -1 && isWord(argv[j], "count") && j < argv.length - 1) {
      count = positiveArg(argv[++j], "ERR count should be greater than 0");
    } else throw new CommandError("ERR syntax error");
  }
  return { keys: argv.slice(numkeysAt + 1, whereAt), end, count: count === -1 ? 1 : count };
}

/**
 * Pops for ZMPOP (or a ready BZMPOP) and answers [key, [[member, score], ...]]; propagated as
 * ZPOPMIN/ZPOPMAX key count, as Redis rewrites it. Null array when no key holds a set.
 */
export function mpopReply(ctx: ServerContext, client: ClientState, request: MpopRequest): Reply {
  const found = firstNonEmpty(ctx, client, request.keys);
  if (found === undefined) return NULL_ARRAY;
  const popped = popFrom(ctx, client, found.key, found.zset, request.end, request.count);
  ctx.propagator.rewrite([
    request.end === "min" ? "ZPOPMIN" : "ZPOPMAX",
    found.key,
    String(request.count),
  ]);
  return [found.key, poppedReply(client, popped, true)];
}

/** ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]. */
export function zmpop(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  return mpopReply(ctx, client, parseMpop(argv, 1));
}
