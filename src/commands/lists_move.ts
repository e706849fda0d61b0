/**
 * LMOVE, RPOPLPUSH and LMPOP (Redis 7.0's t_list.c), and the move step that BLMOVE and
 * BRPOPLPUSH share with them, when they are served at once or later as blocked clients.
 */
import type { Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { NOTIFY_GENERIC, NOTIFY_LIST, notifyKeyspaceEvent } from "../pubsub/keyspace_events.ts";
import type { Database } from "../store/database.ts";
import { ListValue } from "../store/list_value.ts";
import { toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import type { CommandDef } from "./registry.ts";
import { database, isWord } from "./_values.ts";
import {
  atLeastArg,
  type End,
  endArg,
  NOTHING_POPPED,
  popFromFirst,
  writableList,
} from "./lists_access.ts";

/**
 * Moves one item from `from` of the non-empty list `source` under `sourceKey` to `to` of the
 * list under `destinationKey` (created when missing), as Redis's lmoveGenericCommand: the
 * destination's type is checked first (WRONGTYPE, nothing moved), its `lpush`/`rpush` event
 * precedes the source's `lpop`/`rpop` (and `del` when emptied), and one change is counted.
 * Returns the item moved.
 */
export function moveItem(
  ctx: ServerContext,
  db: Database,
  sourceKey: string,
  source: ListValue,
  destinationKey: string,
  from: End,
  to: End,
  now: number,
): string {
  const destination = sourceKey === destinationKey ? source : writableList(db, destinationKey, now);
  const before = db.beginUpdate(sourceKey);
  const item = (from === "left" ? source.popLeft() : source.popRight()) as string;
  if (destination === undefined) {
    const created = new ListValue();
    created.pushLeft(item);
    db.set(destinationKey, created);
    // The change is counted once, below.
    ctx.keyspace.counters.dirty--;
  } else {
    const destinationBefore = destination === source ? 0 : db.beginUpdate(destinationKey);
    if (to === "left") destination.pushLeft(item);
    else destination.pushRight(item);
    if (destination !== source) db.endUpdate(destinationKey, destinationBefore, 0);
  }
  notifyKeyspaceEvent(
    ctx,
    NOTIFY_LIST,
    to === "left" ? "lpush" : "rpush",
    destinationKey,
    db.index,
  );
  notifyKeyspaceEvent(ctx, NOTIFY_LIST, from === "left" ? "lpop" : "rpop", sourceKey, db.index);
  if (db.endUpdate(sourceKey, before, 1)) {
    notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "del", sourceKey, db.index);
  }
  return item;
}

/**
 * LMOVE's and RPOPLPUSH's work once the ends are known: null when the source is missing,
 * WRONGTYPE for a source or destination of another type.
 */
export function lmoveGeneric(
  ctx: ServerContext,
  client: ClientState,
  argv: Uint8Array[],
  from: End,
  to: End,
): Reply {
  const db = database(ctx, client);
  const t = now();
  const sourceKey = toBinaryString(argv[1]);
  const source = writableList(db, sourceKey, t);
  if (source === undefined) return null;
  const destinationKey = toBinaryString(argv[2]);
  return moveItem(ctx, db, sourceKey, source, destinationKey, from, to, t);
}

function lmove(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const from = endArg(argv[3]);
  const to = endArg(argv[4]);
  return lmoveGeneric(ctx, client, argv, from, to);
}

function rpoplpush(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  return lmoveGeneric(ctx, client, argv, "right", "left");
}

/** What LMPOP and BLMPOP ask for, parsed from `numkeys` at `at` on. */
export interface MpopRequest {
  /** The keys, as binary strings. */
  keys: string[];
  /** Which end to pop from. */
  end: End;
  /** How many items at most (1 without COUNT). */
  count: number;
}

/** Parses `numkeys key... LEFT|RIGHT [COUNT n]` from `argv[at]` (Redis's lmpopGenericCommand). */
export function parseMpop(argv: Uint8Array[], at: number): MpopRequest {
  const numkeys = atLeastArg(argv[at], 1, "numkeys should be greater than 0");
  const whereAt = at + numkeys + 1;
  if (whereAt >= argv.length) throw new CommandError("ERR syntax error");
  const end = endArg(argv[whereAt]);
  let count = -1;
  for (let j = whereAt + 1; j < argv.length; j++) {
    if (count === -1 && isWord(argv[j], "count") && j < argv.length - 1) {
      count = atLeastArg(argv[++j], 1, "count should be greater than 0");
    } else throw new CommandError("ERR syntax error");
  }
  const keys: string[] = [];
  for (let i = at + 1; i < whereAt; i++) keys.push(toBinaryString(argv[i]));
  return { keys, end, count: count === -1 ? 1 : count };
}

function lmpop(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const { keys, end, count } = parseMpop(argv, 1);
  const db = database(ctx, client);
  const popped = popFromFirst(ctx, db, keys, end, count, now(), (command) => {
    ctx.propagator.rewrite(command);
  });
  return popped ?? NOTHING_POPPED;
}

/**
 * The keys of LMPOP (`at` 1) or BLMPOP (`at` 2): `numkeys` of them after it, or none when
 * `numkeys` is not a positive count that fits (COMMAND GETKEYS, movablekeys).
 */
export function mpopKeys(argv: readonly Uint8Array[], at: number): number[] {
  const numkeys = Number(toBinaryString(argv[at] ?? new Uint8Array()));
  if (!Number.isInteger(numkeys) || numkeys < 1 || at + numkeys >= argv.length) return [];
  return Array.from({ length: numkeys }, (_, i) => at + 1 + i);
}

/** The declarations (Redis 7.0's arity, flags, key positions and docs). */
export const listsMoveCommands: readonly CommandDef[] = [
  {
    name: "lmove",
    arity: 5,
    flags: ["write", "denyoom"],
    keys: { first: 1, last: 2, step: 1 },
    group: "list",
    summary: "Pop an element from a list, push it to another list and return it",
    since: "6.2.0",
    complexity: "O(1)",
    handler: lmove,
  },
  {
    name: "rpoplpush",
    arity: 3,
    flags: ["write", "denyoom"],
    keys: { first: 1, last: 2, step: 1 },
    group: "list",
    summary: "Remove the last element in a list, prepend it to another list and return it",
    since: "1.2.0",
    complexity: "O(1)",
    handler: rpoplpush,
  },
  {
    name: "lmpop",
    arity: -4,
    flags: ["write", "movablekeys"],
    // What COMMAND INFO prints for a command whose keys follow a count (Redis: 0 0 0).
    keys: { first: 0, last: 0, step: 0 },
    keysOf: (argv) => mpopKeys(argv, 1),
    group: "list",
    summary: "Pop elements from a list",
    since: "7.0.0",
    complexity: "O(N+M) where N is the number of provided keys and M is the number of " +
      "elements returned.",
    handler: lmpop,
  },
];
