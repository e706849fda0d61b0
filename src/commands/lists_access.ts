/**
 * What the list commands share (lists.ts, lists_move.ts, lists_blocking.ts and the serving of
 * blocked clients): typed lookups of a list, argument parsing with Redis's error texts, and the
 * pop and push steps with the change counts and keyspace events Redis's t_list.c gives them.
 */
import { NULL_ARRAY, type Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { NOTIFY_GENERIC, NOTIFY_LIST, notifyKeyspaceEvent } from "../pubsub/keyspace_events.ts";
import type { Database } from "../store/database.ts";
import { ListValue } from "../store/list_value.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import { isWord, parseInt64Bytes, readCollection, writableCollection } from "./_values.ts";

/** Which end of a list: Redis's LIST_HEAD ("left") or LIST_TAIL ("right"). */
export type End = "left" | "right";

/** Redis's reply to an argument that is not a 64-bit integer. */
const NOT_INTEGER = "ERR value is not an integer or out of range";

/** The list under `key` for a read (counts a hit or miss), undefined when missing. */
export function readList(
  db: Database,
  client: ClientState,
  key: string,
  now: number,
): ListValue | undefined {
  return readCollection(db, client, key, now, "list");
}

/** The list under `key` for a write (no hit/miss stats, as Redis's lookupKeyWrite). */
export function writableList(db: Database, key: string, now: number): ListValue | undefined {
  return writableCollection(db, key, now, "list");
}

/** A 64-bit integer argument, rounded to a double (indexes and counts are only compared). */
export function longArg(arg: Uint8Array): number {
  const value = parseInt64Bytes(arg);
  if (value === null) throw new CommandError(NOT_INTEGER);
  return Number(value);
}

/**
 * An integer argument of at least `min`, as Redis's getRangeLongFromObjectOrReply: a value that
 * is not an integer, or is below `min`, is the error "ERR <message>".
 */
export function atLeastArg(arg: Uint8Array, min: number, message: string): number {
  const value = parseInt64Bytes(arg);
  if (value === null || value < min) throw new CommandError(`ERR ${message}`);
  return Number(value);
}

/** LEFT or RIGHT in any case, or Redis's syntax error. */
export function endArg(arg: Uint8Array): End {
  if (isWord(arg, "right")) return "right";
  if (isWord(arg, "left")) return "left";
  throw new CommandError("ERR syntax error");
}

/** The word Redis propagates for an end ("LEFT" or "RIGHT"). */
export function endWord(end: End): string {
  return end === "left" ? "LEFT" : "RIGHT";
}

/**
 * Pushes `items` at `end` of the list under `key`, creating it when missing (`list` undefined),
 * counting one change per item and notifying `lpush`/`rpush`. Returns the new length.
 */
export function pushItems(
  ctx: ServerContext,
  db: Database,
  key: string,
  list: ListValue | undefined,
  items: readonly string[],
  end: End,
): number {
  if (list === undefined) {
    const created = new ListValue();
    for (const item of items) pushOne(created, item, end);
    db.set(key, created);
    // db.set counted one change; Redis counts one per item pushed.
    ctx.keyspace.counters.dirty += items.length - 1;
    list = created;
  } else {
    const before = db.beginUpdate(key);
    for (const item of items) pushOne(list, item, end);
    db.endUpdate(key, before, items.length);
  }
  notifyKeyspaceEvent(ctx, NOTIFY_LIST, end === "left" ? "lpush" : "rpush", key, db.index);
  return list.size;
}

function pushOne(list: ListValue, item: string, end: End): void {
  if (end === "left") list.pushLeft(item);
  else list.pushRight(item);
}

/**
 * Pops up to `count` items from `end` of the existing list under `key` (in popping order, as
 * Redis replies them), counting one change per item, notifying `lpop`/`rpop`, and deleting the
 * emptied key with its `del` event (Redis's listElementsRemoved). The items are for a reply
 * only: they may be views of the list's packed strings (see ListValue.popLeft).
 */
export function popItems(
  ctx: ServerContext,
  db: Database,
  key: string,
  list: ListValue,
  end: End,
  count: number,
): string[] {
  const n = Math.min(count, list.size);
  const items: string[] = new Array(n);
  const before = db.beginUpdate(key);
  for (let i = 0; i < n; i++) {
    // The items only go into the reply: they may be views of the list's packed strings.
    items[i] = (end === "left" ? list.popLeft(true) : list.popRight(true)) as string;
  }
  notifyKeyspaceEvent(ctx, NOTIFY_LIST, end === "left" ? "lpop" : "rpop", key, db.index);
  if (db.endUpdate(key, before, n)) notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "del", key, db.index);
  return items;
}

/**
 * LMPOP's (and BLMPOP's) work on the first non-empty list of `keys`: pops up to `count` items
 * from `end`, and answers `[key, [items]]`; null when every key is missing. Propagated as
 * `LPOP key n` / `RPOP key n`, as Redis 7.0 does; `propagate` receives that command.
 */
export function popFromFirst(
  ctx: ServerContext,
  db: Database,
  keys: readonly string[],
  end: End,
  count: number,
  now: number,
  propagate: (argv: (string | number)[]) => void,
): Reply | null {
  for (const key of keys) {
    const list = writableList(db, key, now);
    if (list === undefined) continue;
    const n = Math.min(count, list.size);
    const items = popItems(ctx, db, key, list, end, count);
    propagate([end === "left" ? "LPOP" : "RPOP", key, n]);
    return [key, items];
  }
  return null;
}

/** The null array of a pop that found nothing (`*-1` in RESP2, `_` in RESP3). */
export const NOTHING_POPPED = NULL_ARRAY;
