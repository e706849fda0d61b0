/**
 * ZRANGE in all its forms (by rank, BYSCORE, BYLEX, REV, LIMIT, WITHSCORES), the older
 * ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX and ZREVRANGEBYLEX, and ZRANGESTORE:
 * one path, as Redis's zrangeGenericCommand, with its option parsing, order of checks and
 * error texts. Ranges become ranks (sorted_sets_args.ts), so each call is O(log n + m).
 */
import type { Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { type ScoredMember, SortedSetValue } from "../store/sorted_set_value.ts";
import { toBinaryString } from "../util/bytes.ts";
import { NOTIFY_GENERIC, NOTIFY_ZSET, notifyKeyspaceEvent } from "../pubsub/keyspace_events.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import { database, intArg, isWord } from "./_values.ts";
import {
  lexRanks,
  parseLexRange,
  parseScoreRange,
  scoredReply,
  scoreRanks,
  zsetAt,
} from "./sorted_sets_args.ts";

type RangeType = "auto" | "rank" | "score" | "lex";
type Direction = "auto" | "forward" | "reverse";

/** What a range command asked for. */
interface RangeRequest {
  type: RangeType;
  direction: Direction;
  withScores: boolean;
  offset: number;
  limit: number;
}

/** Parses the options after `<key> <min> <max>` (from `start`), as zrangeGenericCommand. */
function parseOptions(
  argv: Uint8Array[],
  start: number,
  store: boolean,
  request: RangeRequest,
): void {
  for (let j = start; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const a = argv[j];
    if (!store && isWord(a, "withscores")) request.withScores = true;
    else if (isWord(a, "limit") && left >= 2) {
      request.offset = Number(intArg(argv[j + 1]));
      request.limit = Number(intArg(argv[j + 2]));
      j += 2;
    } else if (request.direction === "auto" && isWord(a, "rev")) request.direction = "reverse";
    else if (request.type === "auto" && isWord(a, "bylex")) request.type = "lex";
    else if (request.type === "auto" && isWord(a, "byscore")) request.type = "score";
    else throw new CommandError("ERR syntax error");
  }
  if (request.direction === "auto") request.direction = "forward";
  if (request.type === "auto") request.type = "rank";
  if (request.limit !== -1 && request.type === "rank") {
    throw new CommandError(
      "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
    );
  }
  if (request.withScores && request.type === "lex") {
    throw new CommandError(
      "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
    );
  }
}

/** Ranks [first, last] a parsed range selects in a set, before OFFSET/LIMIT. */
type Selector = (zset: SortedSetValue) => [number, number];

/** Parses `<min> <max>` for the request's range type (given as max, min when reversed). */
function selector(argv: Uint8Array[], at: number, request: RangeRequest): Selector {
  const reverse = request.direction === "reverse";
  if (request.type === "rank") {
    const start = Number(intArg(argv[at]));
    const end = Number(intArg(argv[at + 1]));
    return (zset) => rankRange(zset.size, start, end, reverse);
  }
  const [minArg, maxArg] = reverse ? [argv[at + 1], argv[at]] : [argv[at], argv[at + 1]];
  if (request.type === "score") {
    const range = parseScoreRange(minArg, maxArg);
    return (zset) => scoreRanks(zset, range);
  }
  const range = parseLexRange(minArg, maxArg);
  return (zset) => lexRanks(zset, range);
}

/** Ascending ranks for ZRANGE start stop (reversed: counted from the end), clamped as Redis. */
function rankRange(size: number, start: number, end: number, reverse: boolean): [number, number] {
  let from = start < 0 ? size + start : start;
  let to = end < 0 ? size + end : end;
  if (from < 0) from = 0;
  if (from > to || from >= size) return [0, -1];
  if (to >= size) to = size - 1;
  return reverse ? [size - 1 - to, size - 1 - from] : [from, to];
}

/** The members selected, in the request's direction, after OFFSET and LIMIT. */
function select(zset: SortedSetValue, ranks: [number, number], request: RangeRequest) {
  let [first, last] = ranks;
  const reverse = request.direction === "reverse";
  if (request.type !== "rank") {
    // Redis skips `offset` members (a negative offset runs off the end) and stops after
    // `limit` (a negative limit never stops it).
    if (request.offset < 0 || (request.offset > 0 && request.offset >= zset.size)) return [];
    if (reverse) last -= request.offset;
    else first += request.offset;
    if (request.limit >= 0) {
      if (reverse) first = Math.max(first, last - request.limit + 1);
      else last = Math.min(last, first + request.limit - 1);
    }
  }
  if (first > last) return [];
  return zset.range(first, last, reverse);
}

/**
 * The shared body of the range commands: `keyAt` is the source key's index; `fixed` holds
 * what the command's name already decides (type, direction).
 */
function rangeGeneric(
  ctx: ServerContext,
  client: ClientState,
  argv: Uint8Array[],
  keyAt: number,
  fixed: Partial<RangeRequest>,
  store: boolean,
): Reply {
  const request: RangeRequest = {
    type: "auto",
    direction: "auto",
    withScores: false,
    offset: 0,
    limit: -1,
    ...fixed,
  };
  parseOptions(argv, keyAt + 3, store, request);
  const ranks = selector(argv, keyAt + 1, request);
  const db = database(ctx, client);
  const zset = zsetAt(db, toBinaryString(argv[keyAt]), client);
  const items: Iterable<ScoredMember> = zset === undefined
    ? []
    : select(zset, ranks(zset), request);
  if (store) return storeRange(ctx, client, toBinaryString(argv[1]), items);
  return scoredReply(client, items, request.withScores);
}

/** ZRANGESTORE's result: stored (replacing the key) when not empty, else the key deleted. */
function storeRange(
  ctx: ServerContext,
  client: ClientState,
  dst: string,
  items: Iterable<ScoredMember>,
): Reply {
  const db = database(ctx, client);
  const result = new SortedSetValue();
  for (const [member, score] of items) result.add(member, score);
  if (result.size > 0) {
    db.set(dst, result);
    notifyKeyspaceEvent(ctx, NOTIFY_ZSET, "zrangestore", dst, client.db);
    return result.size;
  }
  if (db.delete(dst)) notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "del", dst, client.db);
  return 0;
}

/** ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]. */
export function zrange(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  return rangeGeneric(ctx, client, argv, 1, {}, false);
}

/** ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]. */
export function zrangestore(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  return rangeGeneric(ctx, client, argv, 2, {}, true);
}

/** ZREVRANGE key start stop [WITHSCORES]. */
export function zrevrange(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  return rangeGeneric(ctx, client, argv, 1, { type: "rank", direction: "reverse" }, false);
}

/** ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]. */
export function zrangebyscore(
  ctx: ServerContext,
  client: ClientState,
  argv: Uint8Array[],
): Reply {
  return rangeGeneric(ctx, client, argv, 1, { type: "score", direction: "forward" }, false);
}

/** ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]. */
export function zrevrangebyscore(
  ctx: ServerContext,
  client: ClientState,
  argv: Uint8Array[],
): Reply {
  return rangeGeneric(ctx, client, argv, 1, { type: "score", direction: "reverse" }, false);
}

/** ZRANGEBYLEX key min max [LIMIT offset count]. */
export function zrangebylex(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  return rangeGeneric(ctx, client, argv, 1, { type: "lex", direction: "forward" }, false);
}

/** ZREVRANGEBYLEX key max min [LIMIT offset count]. */
export function zrevrangebylex(
  ctx: ServerContext,
  client: ClientState,
  argv: Uint8Array[],
): Reply {
  return rangeGeneric(ctx, client, argv, 1, { type: "lex", direction: "reverse" }, false);
}
