/**
 * SORT and SORT_RO (Redis's sort.c): the elements of a list, set or sorted set, sorted
 * numerically or (ALPHA) as bytes, by themselves or by the values of other keys (`BY pattern`,
 * `*` replaced by the element, `->field` reading a hash field), limited, with other keys'
 * values fetched per element (`GET pattern`, `#` for the element itself), or stored as a list
 * (STORE). The order of equal elements, the LIMIT clamping, the "no sort" cases (a BY pattern
 * without `*`) and the errors are Redis 7.0's.
 */
import type { Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import type { Database } from "../store/database.ts";
import type { SetValue } from "../store/set_value.ts";
import type { SortedSetValue } from "../store/sorted_set_value.ts";
import type { HashValue } from "../store/hash_value.ts";
import { ListValue } from "../store/list_value.ts";
import { toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import type { ServerContext } from "./context.ts";
import { CommandError, SYNTAX_ERROR } from "./errors.ts";
import type { CommandDef } from "./registry.ts";
import { database, intArg, isWord, WRONGTYPE } from "./_values.ts";
import { NOTIFY_GENERIC, NOTIFY_LIST, notifyKeyspaceEvent } from "../pubsub/keyspace_events.ts";

/** What the options of one SORT call ask for. */
interface SortRequest {
  desc: boolean;
  alpha: boolean;
  limitStart: number;
  limitCount: number;
  by: string | null;
  /** BY names a pattern without `*`: keep the elements' own order. */
  dontSort: boolean;
  gets: string[];
  store: string | null;
}

/** One element with what it is sorted by. */
interface SortItem {
  element: string;
  score: number;
  /** ALPHA with BY: the value found, or null when there was none. */
  by: string | null;
}

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** A LIMIT argument as Redis's getLongFromObjectOrReply reads it (clamped to a JS number). */
function limitArg(arg: Uint8Array): number {
  const n = intArg(arg);
  if (typeof n === "bigint" && (n < LONG_MIN || n > LONG_MAX)) {
    throw new CommandError("ERR value is not an integer or out of range");
  }
  return Number(n);
}

function parseRequest(ctx: ServerContext, argv: Uint8Array[], readonly: boolean): SortRequest {
  const request: SortRequest = {
    desc: false,
    alpha: false,
    limitStart: 0,
    limitCount: -1,
    by: null,
    dontSort: false,
    gets: [],
    store: null,
  };
  const cluster = ctx.cluster !== null;
  for (let j = 2; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const arg = argv[j];
    if (isWord(arg, "asc")) request.desc = false;
    else if (isWord(arg, "desc")) request.desc = true;
    else if (isWord(arg, "alpha")) request.alpha = true;
    else if (isWord(arg, "limit") && left >= 2) {
      request.limitStart = limitArg(argv[j + 1]);
      request.limitCount = limitArg(argv[j + 2]);
      j += 2;
    } else if (!readonly && isWord(arg, "store") && left >= 1) {
      request.store = toBinaryString(argv[++j]);
    } else if (isWord(arg, "by") && left >= 1) {
      const pattern = toBinaryString(argv[++j]);
      request.by = pattern;
      if (!cString(pattern).includes("*")) request.dontSort = true;
      else if (cluster) throw new CommandError("ERR BY option of SORT denied in Cluster mode.");
    } else if (isWord(arg, "get") && left >= 1) {
      if (cluster) throw new CommandError("ERR GET option of SORT denied in Cluster mode.");
      request.gets.push(toBinaryString(argv[++j]));
    } else throw new CommandError(SYNTAX_ERROR.message);
  }
  return request;
}

/** A binary string as C sees it: up to its first NUL (Redis reads patterns with strchr). */
function cString(text: string): string {
  const nul = text.indexOf("\0");
  return nul < 0 ? text : text.slice(0, nul);
}

/**
 * Redis's lookupKeyByPattern: `#` is the element itself; otherwise the first `*` is replaced by
 * the element, and a `->field` after it reads that field of a hash; null when the key is
 * missing or of the wrong type, or the pattern has no `*`.
 */
function lookupByPattern(db: Database, pattern: string, element: string, t: number) {
  if (pattern === "#") return element;
  const text = cString(pattern);
  const star = text.indexOf("*");
  if (star < 0) return null;
  const arrow = text.indexOf("->", star + 1);
  const hasField = arrow >= 0 && arrow + 2 < text.length;
  const field = hasField ? pattern.slice(arrow + 2) : null;
  const keyEnd = hasField ? arrow : pattern.length;
  const key = pattern.slice(0, star) + element + pattern.slice(star + 1, keyEnd);
  const value = db.read(key, t);
  if (value === undefined) return null;
  if (field === null) return typeof value === "string" ? value : null;
  if (typeof value === "string" || value.type !== "hash") return null;
  return (value as HashValue).get(field) ?? null;
}

/**
 * A weight as C's strtod reads it for SORT: leading spaces allowed, nothing after the number,
 * no NaN, no overflow or underflow (ERANGE); the empty string is 0 (where Redis 7.0 may also
 * refuse it, when a previous conversion left errno at ERANGE). Null when invalid.
 */
function parseWeight(text: string): number | null {
  if (text === "") return 0;
  const s = text.replace(/^[ \t\n\v\f\r]+/, "");
  if (s === "") return null;
  if (/^[+-]?inf(inity)?$/i.test(s)) return s.startsWith("-") ? -Infinity : Infinity;
  if (/^[+-]?0x[0-9a-f]+$/i.test(s)) {
    const magnitude = parseInt(s.replace(/^[+-]?0x/i, ""), 16);
    return s.startsWith("-") ? -magnitude : magnitude;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return null;
  const n = Number(s);
  if (!Number.isFinite(n)) return null;
  if (n === 0 && /[1-9]/.test(s.replace(/[eE].*$/, ""))) return null;
  return n;
}

/** Byte order of binary strings (memcmp, then length). */
function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The elements of the value to sort, in its own order (ranges taken directly when unsorted). */
function loadElements(
  value: ListValue | SetValue | SortedSetValue | null,
  request: SortRequest,
  start: number,
  end: number,
): string[] {
  if (value === null) return [];
  if (value.type === "set") return [...(value as SetValue).members()];
  const all = value.type === "list"
    ? [...(value as ListValue).items()]
    : [...(value as SortedSetValue).entries()].map(([member]) => member);
  if (!request.dontSort) return all;
  if (end < start) return [];
  if (request.desc) all.reverse();
  return all.slice(start, end + 1);
}

function sortGeneric(
  ctx: ServerContext,
  client: ClientState,
  argv: Uint8Array[],
  readonly: boolean,
): Reply {
  const request = parseRequest(ctx, argv, readonly);
  const db = database(ctx, client);
  const t = now();
  const found = db.read(toBinaryString(argv[1]), t, client.noTouch);
  if (found !== undefined && (typeof found === "string" || found.type === "hash")) {
    throw new CommandError(WRONGTYPE);
  }
  const value = (found ?? null) as ListValue | SetValue | SortedSetValue | null;
  // As Redis, SORT leaves a sorted set it read in the skiplist encoding.
  if (value?.type === "zset") {
    const before = value.bytes;
    (value as SortedSetValue).toSkiplist();
    db.collectionResized(before, value.bytes);
  }
  // A set has no order of its own: sorted as ALPHA when the result is stored, so that the
  // AOF and replicas that replay the command get the same list.
  if (request.dontSort && value?.type === "set" && request.store !== null) {
    request.dontSort = false;
    request.alpha = true;
    request.by = null;
  }
  const length = value?.size ?? 0;
  let start = Math.min(Math.max(request.limitStart, 0), length);
  const count = Math.min(Math.max(request.limitCount, -1), length);
  let end = count < 0 ? length - 1 : start + count - 1;
  if (start >= length) {
    start = length - 1;
    end = length - 2;
  }
  if (end >= length) end = length - 1;
  const direct = request.dontSort && value !== null && value.type !== "set";
  const elements = loadElements(value, request, start, end);
  if (direct) {
    end -= start;
    start = 0;
  }
  const items = elements.map((element): SortItem => ({ element, score: 0, by: null }));
  if (!request.dontSort) sortItems(db, items, request, t);
  const selected = end >= start ? items.slice(start, end + 1) : [];
  const output: (string | null)[] = [];
  for (const item of selected) {
    if (request.gets.length === 0) output.push(item.element);
    for (const pattern of request.gets) output.push(lookupByPattern(db, pattern, item.element, t));
  }
  if (request.store === null) return output;
  return store(ctx, client, db, request.store, output);
}

/** Weighs the items (their own value or the BY pattern's) and sorts them as Redis does. */
function sortItems(db: Database, items: SortItem[], request: SortRequest, t: number): void {
  const by = request.by;
  for (const item of items) {
    const weight = by === null ? item.element : lookupByPattern(db, by, item.element, t);
    if (weight === null) continue;
    if (request.alpha) {
      if (by !== null) item.by = weight;
    } else {
      const score = parseWeight(weight);
      if (score === null) {
        throw new CommandError("ERR One or more scores can't be converted into double");
      }
      item.score = score;
    }
  }
  const sign = request.desc ? -1 : 1;
  const compare = (a: SortItem, b: SortItem): number => {
    if (!request.alpha) {
      if (a.score !== b.score) return a.score > b.score ? sign : -sign;
      return sign * compareBytes(a.element, b.element);
    }
    if (by !== null) {
      if (a.by === null || b.by === null) {
        return a.by === b.by ? 0 : sign * (a.by === null ? -1 : 1);
      }
      return sign * compareBytes(a.by, b.by);
    }
    return sign * compareBytes(a.element, b.element);
  };
  items.sort(compare);
}

/** SORT ... STORE: the output as a list at `key` (missing GET values as ""), or no key at all. */
function store(
  ctx: ServerContext,
  client: ClientState,
  db: Database,
  key: string,
  output: (string | null)[],
): Reply {
  const t = now();
  if (output.length === 0) {
    if (db.delete(key)) notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "del", key, client.db);
    return 0;
  }
  const list = new ListValue();
  for (const element of output) list.pushRight(element ?? "");
  db.set(key, list, false, t);
  notifyKeyspaceEvent(ctx, NOTIFY_LIST, "sortstore", key, client.db);
  return output.length;
}

/** SORT's keys: the sorted key and, with STORE, the destination (Redis's sortGetKeys). */
function sortKeys(argv: readonly Uint8Array[]): number[] {
  const keys = [1];
  const skip: Record<string, number> = { limit: 2, get: 1, by: 1 };
  for (let i = 2; i < argv.length; i++) {
    const word = toBinaryString(argv[i]).toLowerCase();
    if (word === "store" && i + 1 < argv.length) {
      // Redis keeps the last STORE it sees, as the command does.
      if (keys.length === 2) keys.pop();
      keys.push(i + 1);
      i++;
    } else if (word in skip) i += skip[word];
  }
  return keys;
}

const COMPLEXITY = "O(N+M*log(M)) where N is the number of elements in the list or set to sort, " +
  "and M the number of returned elements. When the elements are not sorted, complexity is O(N).";

/** SORT and SORT_RO, declared as Redis 7.0 declares them. */
export const sortCommands: readonly CommandDef[] = [
  {
    name: "sort",
    arity: -2,
    flags: ["write", "denyoom", "movablekeys"],
    keys: { first: 1, last: 1, step: 1 },
    keysOf: sortKeys,
    group: "generic",
    acl: ["@write", "@set", "@sortedset", "@list", "@slow", "@dangerous"],
    summary:
      "Sort the elements in a list, set or sorted set, optionally storing the result in a key.",
    since: "1.0.0",
    complexity: COMPLEXITY,
    handler: (ctx, client, argv) => sortGeneric(ctx, client, argv, false),
  },
  {
    name: "sort_ro",
    arity: -2,
    flags: ["readonly", "movablekeys"],
    keys: { first: 1, last: 1, step: 1 },
    keysOf: () => [1],
    group: "generic",
    acl: ["@read", "@set", "@sortedset", "@list", "@slow", "@dangerous"],
    summary: "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
    since: "7.0.0",
    complexity: COMPLEXITY,
    handler: (ctx, client, argv) => sortGeneric(ctx, client, argv, true),
  },
];
