/**
 * List commands with Redis 7.0's replies, error texts, order of checks, change counts and
 * keyspace events (its t_list.c): pushes, pops, LLEN, LRANGE, LINDEX, LSET, LINSERT, LREM,
 * LTRIM and LPOS here; LMOVE, RPOPLPUSH and LMPOP in lists_move.ts; the blocking commands in
 * lists_blocking.ts. Items are binary strings; the value class is store/list_value.ts.
 */
import { BulkSlicesReply, OK, type Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { NOTIFY_GENERIC, NOTIFY_LIST, notifyKeyspaceEvent } from "../pubsub/keyspace_events.ts";
import { toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import type { ServerContext } from "./context.ts";
import { CommandError, wrongArity } from "./errors.ts";
import type { CommandDef, Handler } from "./registry.ts";
import { database, isWord } from "./_values.ts";
import {
  atLeastArg,
  type End,
  longArg,
  NOTHING_POPPED,
  popItems,
  pushItems,
  readList,
  writableList,
} from "./lists_access.ts";
import { listsMoveCommands } from "./lists_move.ts";
import { listsBlockingCommands } from "./lists_blocking.ts";

const ONE_KEY = { first: 1, last: 1, step: 1 };

/** LPUSH and RPUSH (Redis's pushGenericCommand); with `onlyExisting`, LPUSHX and RPUSHX. */
function push(end: End, onlyExisting: boolean): Handler {
  return (ctx, client, argv) => {
    const db = database(ctx, client);
    const key = toBinaryString(argv[1]);
    const list = writableList(db, key, now());
    if (list === undefined && onlyExisting) return 0;
    const items: string[] = new Array(argv.length - 2);
    for (let i = 2; i < argv.length; i++) items[i - 2] = toBinaryString(argv[i]);
    return pushItems(ctx, db, key, list, items, end);
  };
}

/**
 * LPOP and RPOP (Redis's popGenericCommand): one item as a bulk string, or with a count an
 * array of up to that many (a null array for a missing key, an empty one for a count of 0).
 */
function pop(end: End): Handler {
  return (ctx, client, argv) => {
    if (argv.length > 3) {
      throw new CommandError(wrongArity(end === "left" ? "lpop" : "rpop").message);
    }
    const hasCount = argv.length === 3;
    const count = hasCount ? atLeastArg(argv[2], 0, "value is out of range, must be positive") : 1;
    const db = database(ctx, client);
    const key = toBinaryString(argv[1]);
    const list = writableList(db, key, now());
    if (list === undefined) return hasCount ? NOTHING_POPPED : null;
    if (count === 0) return [];
    const items = popItems(ctx, db, key, list, end, count);
    return hasCount ? items : items[0];
  };
}

function llen(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const db = database(ctx, client);
  return readList(db, client, toBinaryString(argv[1]), now())?.size ?? 0;
}

/**
 * Resolves LRANGE's and LTRIM's `start`/`end` against a length, as Redis: negative counts from
 * the end, then clamps; null when the range is empty.
 */
function clampRange(start: number, end: number, length: number): [number, number] | null {
  if (start < 0) start += length;
  if (end < 0) end += length;
  if (start < 0) start = 0;
  if (start > end || start >= length) return null;
  return [start, Math.min(end, length - 1)];
}

function lrange(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const start = longArg(argv[2]);
  const end = longArg(argv[3]);
  const list = readList(database(ctx, client), client, toBinaryString(argv[1]), now());
  if (list === undefined) return [];
  const range = clampRange(start, end, list.size);
  if (range === null) return [];
  const reply = new BulkSlicesReply();
  list.rangeSlices(range[0], range[1], reply);
  return reply;
}

function lindex(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const list = readList(database(ctx, client), client, toBinaryString(argv[1]), now());
  if (list === undefined) return null;
  let index = longArg(argv[2]);
  if (index < 0) index += list.size;
  return list.at(index) ?? null;
}

function lset(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const db = database(ctx, client);
  const key = toBinaryString(argv[1]);
  const list = writableList(db, key, now());
  if (list === undefined) throw new CommandError("ERR no such key");
  let index = longArg(argv[2]);
  if (index < 0) index += list.size;
  if (index < 0 || index >= list.size) throw new CommandError("ERR index out of range");
  const before = db.beginUpdate(key);
  list.set(index, toBinaryString(argv[3]));
  db.endUpdate(key, before, 1);
  notifyKeyspaceEvent(ctx, NOTIFY_LIST, "lset", key, client.db);
  return OK;
}

function linsert(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const after = isWord(argv[2], "after");
  if (!after && !isWord(argv[2], "before")) throw new CommandError("ERR syntax error");
  const db = database(ctx, client);
  const key = toBinaryString(argv[1]);
  const list = writableList(db, key, now());
  if (list === undefined) return 0;
  const pivot = list.indexOf(toBinaryString(argv[3]));
  if (pivot < 0) return -1;
  const before = db.beginUpdate(key);
  list.insertAt(after ? pivot + 1 : pivot, toBinaryString(argv[4]));
  db.endUpdate(key, before, 1);
  notifyKeyspaceEvent(ctx, NOTIFY_LIST, "linsert", key, client.db);
  return list.size;
}

function lrem(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const toRemove = longArg(argv[2]);
  const db = database(ctx, client);
  const key = toBinaryString(argv[1]);
  const list = writableList(db, key, now());
  if (list === undefined) return 0;
  const item = toBinaryString(argv[3]);
  // Counting from the tail: -LONG_MIN overflows in Redis and then removes every match.
  const limit = toRemove <= -(2 ** 63) ? 0 : Math.abs(toRemove);
  if (list.indexOf(item) < 0) return 0;
  const before = db.beginUpdate(key);
  const removed = list.removeMatching(item, limit, toRemove < 0);
  notifyKeyspaceEvent(ctx, NOTIFY_LIST, "lrem", key, client.db);
  if (db.endUpdate(key, before, removed)) {
    notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "del", key, client.db);
  }
  return removed;
}

function ltrim(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const start = longArg(argv[2]);
  const end = longArg(argv[3]);
  const db = database(ctx, client);
  const key = toBinaryString(argv[1]);
  const list = writableList(db, key, now());
  if (list === undefined) return OK;
  const length = list.size;
  const range = clampRange(start, end, length);
  const left = range === null ? length : range[0];
  const right = range === null ? 0 : length - range[1] - 1;
  // Redis signals the key as modified even when nothing is trimmed (no change is counted).
  const before = db.beginUpdate(key);
  list.trim(left, right);
  notifyKeyspaceEvent(ctx, NOTIFY_LIST, "ltrim", key, client.db);
  if (db.endUpdate(key, before, left + right)) {
    notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "del", key, client.db);
  }
  return OK;
}

/** LPOS's options (Redis's defaults: rank 1, no count, no length limit). */
interface LposOptions {
  rank: number;
  count: number;
  maxlen: number;
}

const RANK_ZERO = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the " +
  "second ... or use negative to start from the end of the list";

function lposOptions(argv: Uint8Array[]): LposOptions {
  const options: LposOptions = { rank: 1, count: -1, maxlen: 0 };
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j];
    const hasValue = j < argv.length - 1;
    if (hasValue && isWord(opt, "rank")) {
      options.rank = longArg(argv[++j]);
      if (options.rank === 0) throw new CommandError(RANK_ZERO);
    } else if (hasValue && isWord(opt, "count")) {
      options.count = atLeastArg(argv[++j], 0, "COUNT can't be negative");
    } else if (hasValue && isWord(opt, "maxlen")) {
      options.maxlen = atLeastArg(argv[++j], 0, "MAXLEN can't be negative");
    } else throw new CommandError("ERR syntax error");
  }
  return options;
}

function lpos(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const { rank, count, maxlen } = lposOptions(argv);
  const list = readList(database(ctx, client), client, toBinaryString(argv[1]), now());
  if (list === undefined) return count === -1 ? null : [];
  const item = toBinaryString(argv[2]);
  // RANK LONG_MIN stays negative once negated in Redis, and so takes the first match.
  const skip = rank <= -(2 ** 63) ? 0 : Math.abs(rank) - 1;
  const fromTail = rank < 0;
  if (count === -1) {
    const at = skip >= list.size ? -1 : list.indexOf(item, fromTail, skip, maxlen);
    return at < 0 ? null : at;
  }
  // With RANK LONG_MIN, Redis's test of the count overflows too: every match is returned.
  const limit = rank <= -(2 ** 63) ? 0 : count;
  return skip >= list.size ? [] : list.positions(item, fromTail, skip, limit, maxlen);
}

/** One list command's declaration with the family's defaults. */
function command(
  name: string,
  arity: number,
  flags: CommandDef["flags"],
  summary: string,
  since: string,
  complexity: string,
  handler: Handler,
): CommandDef {
  return { name, arity, flags, keys: ONE_KEY, group: "list", summary, since, complexity, handler };
}

const PUSH_COMPLEXITY = "O(1) for each element added, so O(N) to add N elements when the " +
  "command is called with multiple arguments.";
const POP_COMPLEXITY = "O(N) where N is the number of elements returned";

/** The family's declarations (Redis 7.0's arity, flags, key positions and docs). */
export const listsCommands: readonly CommandDef[] = [
  command(
    "lpush",
    -3,
    ["write", "denyoom", "fast"],
    "Prepend one or multiple elements to a list",
    "1.0.0",
    PUSH_COMPLEXITY,
    push("left", false),
  ),
  command(
    "rpush",
    -3,
    ["write", "denyoom", "fast"],
    "Append one or multiple elements to a list",
    "1.0.0",
    PUSH_COMPLEXITY,
    push("right", false),
  ),
  command(
    "lpushx",
    -3,
    ["write", "denyoom", "fast"],
    "Prepend an element to a list, only if the list exists",
    "2.2.0",
    PUSH_COMPLEXITY,
    push("left", true),
  ),
  command(
    "rpushx",
    -3,
    ["write", "denyoom", "fast"],
    "Append an element to a list, only if the list exists",
    "2.2.0",
    PUSH_COMPLEXITY,
    push("right", true),
  ),
  command(
    "lpop",
    -2,
    ["write", "fast"],
    "Remove and get the first elements in a list",
    "1.0.0",
    POP_COMPLEXITY,
    pop("left"),
  ),
  command(
    "rpop",
    -2,
    ["write", "fast"],
    "Remove and get the last elements in a list",
    "1.0.0",
    POP_COMPLEXITY,
    pop("right"),
  ),
  command("llen", 2, ["readonly", "fast"], "Get the length of a list", "1.0.0", "O(1)", llen),
  command(
    "lrange",
    4,
    ["readonly"],
    "Get a range of elements from a list",
    "1.0.0",
    "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest " +
      "end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
    lrange,
  ),
  command(
    "lindex",
    3,
    ["readonly"],
    "Get an element from a list by its index",
    "1.0.0",
    "O(N) where N is the number of elements to traverse to get to the element at index. This " +
      "makes asking for the first or the last element of the list O(1).",
    lindex,
  ),
  command(
    "lset",
    4,
    ["write", "denyoom"],
    "Set the value of an element in a list by its index",
    "1.0.0",
    "O(N) where N is the length of the list. Setting either the first or the last element of " +
      "the list is O(1).",
    lset,
  ),
  command(
    "linsert",
    5,
    ["write", "denyoom"],
    "Insert an element before or after another element in a list",
    "2.2.0",
    "O(N) where N is the number of elements to traverse before seeing the value pivot. This " +
      "means that inserting somewhere on the left end on the list (head) can be considered " +
      "O(1) and inserting somewhere on the right end (tail) is O(N).",
    linsert,
  ),
  command(
    "lrem",
    4,
    ["write"],
    "Remove elements from a list",
    "1.0.0",
    "O(N+M) where N is the length of the list and M is the number of elements removed.",
    lrem,
  ),
  command(
    "ltrim",
    4,
    ["write"],
    "Trim a list to the specified range",
    "1.0.0",
    "O(N) where N is the number of elements to be removed by the operation.",
    ltrim,
  ),
  command(
    "lpos",
    -3,
    ["readonly"],
    "Return the index of matching elements on a list",
    "6.0.6",
    "O(N) where N is the number of elements in the list, for the average case. When searching " +
      "for elements near the head or the tail of the list, or when the MAXLEN option is " +
      "provided, the command may run in constant time.",
    lpos,
  ),
  ...listsMoveCommands,
  ...listsBlockingCommands,
];
