/**
 * ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD (Redis's
 * zunionInterDiffGenericCommand): inputs may be sorted sets or plain sets (members scored 1),
 * with WEIGHTS, AGGREGATE SUM|MIN|MAX, WITHSCORES and LIMIT as each command allows; a NaN
 * from a weighted score or a sum counts as 0, as in Redis.
 */
import type { Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import type { SetValue } from "../store/set_value.ts";
import { SortedSetValue } from "../store/sorted_set_value.ts";
import { toBinaryString } from "../util/bytes.ts";
import { NOTIFY_GENERIC, NOTIFY_ZSET, notifyKeyspaceEvent } from "../pubsub/keyspace_events.ts";
import { now } from "../util/clock.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import { database, intArg, isWord, parseInt64Bytes, WRONGTYPE } from "./_values.ts";
import { scoreArg, scoredReply } from "./sorted_sets_args.ts";

type Operation = "union" | "inter" | "diff";
type Aggregate = "sum" | "min" | "max";

/** One input: a sorted set, a set, or nothing (missing key), with its weight. */
interface Source {
  value: SortedSetValue | SetValue | null;
  weight: number;
}

/** How the command was called. */
interface Call {
  op: Operation;
  /** The destination key of a STORE form, or null. */
  dst: string | null;
  /** ZINTERCARD. */
  cardinalityOnly: boolean;
  /** The command's name for the "at least 1 input key" error. */
  name: string;
}

function sizeOf(source: Source): number {
  return source.value === null ? 0 : source.value.size;
}

/** Every member of a source with its unweighted score (1 for a plain set's members). */
function* membersOf(source: Source): Generator<[string, number]> {
  const value = source.value;
  if (value === null) return;
  if (value instanceof SortedSetValue) yield* value.entries();
  else for (const member of value.members()) yield [member, 1];
}

function scoreIn(source: Source, member: string): number | undefined {
  const value = source.value;
  if (value === null) return undefined;
  if (value instanceof SortedSetValue) return value.score(member);
  return value.has(member) ? 1 : undefined;
}

function aggregate(target: number, value: number, how: Aggregate): number {
  if (how === "sum") {
    const sum = target + value;
    return Number.isNaN(sum) ? 0 : sum;
  }
  if (how === "min") return value < target ? value : target;
  return value > target ? value : target;
}

function weighted(score: number, weight: number): number {
  const value = weight * score;
  return Number.isNaN(value) ? 0 : value;
}

/** Reads the input keys: WRONGTYPE for any value other than a set or sorted set. */
function readSources(
  ctx: ServerContext,
  client: ClientState,
  keys: readonly Uint8Array[],
  forWrite: boolean,
): Source[] {
  const db = database(ctx, client);
  const t = now();
  return keys.map((keyArg) => {
    const key = toBinaryString(keyArg);
    const value = forWrite ? db.get(key, t) : db.read(key, t, client.noTouch);
    if (value === undefined) return { value: null, weight: 1 };
    if (typeof value === "string" || (value.type !== "zset" && value.type !== "set")) {
      throw new CommandError(WRONGTYPE);
    }
    return { value: value as SortedSetValue | SetValue, weight: 1 };
  });
}

/** The options after the keys; returns aggregate, WITHSCORES and LIMIT. */
function parseOptions(argv: Uint8Array[], from: number, sources: Source[], call: Call) {
  let how: Aggregate = "sum";
  let withScores = false;
  let limit = 0;
  const full = call.op !== "diff" && !call.cardinalityOnly;
  for (let j = from; j < argv.length;) {
    const remaining = argv.length - j;
    if (full && remaining >= sources.length + 1 && isWord(argv[j], "weights")) {
      j++;
      for (const source of sources) {
        source.weight = scoreArg(argv[j++], "ERR weight value is not a float");
      }
    } else if (full && remaining >= 2 && isWord(argv[j], "aggregate")) {
      const a = argv[j + 1];
      if (isWord(a, "sum")) how = "sum";
      else if (isWord(a, "min")) how = "min";
      else if (isWord(a, "max")) how = "max";
      else throw new CommandError("ERR syntax error");
      j += 2;
    } else if (call.dst === null && !call.cardinalityOnly && isWord(argv[j], "withscores")) {
      withScores = true;
      j++;
    } else if (call.cardinalityOnly && remaining >= 2 && isWord(argv[j], "limit")) {
      const n = parseInt64Bytes(argv[j + 1]);
      if (n === null || n < 0) throw new CommandError("ERR LIMIT can't be negative");
      limit = Number(n);
      j += 2;
    } else throw new CommandError("ERR syntax error");
  }
  return { how, withScores, limit };
}

/** Inputs smallest first (Redis sorts them so for union and intersection). */
function bySize(sources: Source[]): Source[] {
  return [...sources].sort((a, b) => sizeOf(a) - sizeOf(b));
}

function intersect(sources: Source[], how: Aggregate, limit: number, countOnly: boolean) {
  const result = new Map<string, number>();
  let count = 0;
  const [first, ...rest] = bySize(sources);
  for (const [member, score] of membersOf(first)) {
    let total = weighted(score, first.weight);
    let everywhere = true;
    for (const other of rest) {
      const value = other.value === first.value ? score : scoreIn(other, member);
      if (value === undefined) {
        everywhere = false;
        break;
      }
      total = aggregate(total, weighted(value, other.weight), how);
    }
    if (!everywhere) continue;
    count++;
    if (countOnly) {
      if (limit > 0 && count >= limit) break;
    } else result.set(member, total);
  }
  return { result, count };
}

function unite(sources: Source[], how: Aggregate): Map<string, number> {
  const result = new Map<string, number>();
  for (const source of bySize(sources)) {
    for (const [member, score] of membersOf(source)) {
      const value = weighted(score, source.weight);
      const current = result.get(member);
      result.set(member, current === undefined ? value : aggregate(current, value, how));
    }
  }
  return result;
}

function difference(sources: Source[]): Map<string, number> {
  const result = new Map<string, number>();
  const [first, ...rest] = sources;
  for (const [member, score] of membersOf(first)) {
    if (rest.some((other) => other.value === first.value || scoreIn(other, member) !== undefined)) {
      continue;
    }
    result.set(member, score);
  }
  return result;
}

/** The shared body; `numkeysAt` is the index of numkeys. */
function algebra(
  ctx: ServerContext,
  client: ClientState,
  argv: Uint8Array[],
  numkeysAt: number,
  call: Call,
): Reply {
  const numkeys = Number(intArg(argv[numkeysAt]));
  if (numkeys < 1) {
    throw new CommandError(`ERR at least 1 input key is needed for '${call.name}' command`);
  }
  if (numkeys > argv.length - (numkeysAt + 1)) throw new CommandError("ERR syntax error");
  const keys = argv.slice(numkeysAt + 1, numkeysAt + 1 + numkeys);
  const sources = readSources(ctx, client, keys, call.dst !== null);
  const { how, withScores, limit } = parseOptions(argv, numkeysAt + 1 + numkeys, sources, call);
  if (call.op === "inter") {
    const { result, count } = intersect(sources, how, limit, call.cardinalityOnly);
    if (call.cardinalityOnly) return count;
    return finish(ctx, client, call, result, withScores);
  }
  const result = call.op === "union" ? unite(sources, how) : difference(sources);
  return finish(ctx, client, call, result, withScores);
}

/** Replies with the result, or stores it (deleting the destination when it is empty). */
function finish(
  ctx: ServerContext,
  client: ClientState,
  call: Call,
  result: Map<string, number>,
  withScores: boolean,
): Reply {
  const zset = new SortedSetValue();
  for (const [member, score] of result) zset.add(member, score);
  if (call.dst === null) return scoredReply(client, zset.entries(), withScores);
  const db = database(ctx, client);
  if (zset.size > 0) {
    db.set(call.dst, zset);
    notifyKeyspaceEvent(ctx, NOTIFY_ZSET, `z${call.op}store`, call.dst, client.db);
    return zset.size;
  }
  if (db.delete(call.dst)) notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "del", call.dst, client.db);
  return 0;
}

/** The key positions of a command whose numkeys is at `numkeysAt` (COMMAND GETKEYS). */
export function numkeysKeys(
  argv: readonly Uint8Array[],
  numkeysAt: number,
  dst: boolean,
): number[] {
  const keys: number[] = dst ? [1] : [];
  const n = parseInt64Bytes(argv[numkeysAt] ?? new Uint8Array());
  if (n === null || n < 1) return keys;
  for (let i = 0; i < Number(n) && numkeysAt + 1 + i < argv.length; i++) {
    keys.push(numkeysAt + 1 + i);
  }
  return keys;
}

function handlerFor(op: Operation, store: boolean, name: string, cardinalityOnly = false) {
  return (ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply =>
    algebra(ctx, client, argv, store ? 2 : 1, {
      op,
      dst: store ? toBinaryString(argv[1]) : null,
      cardinalityOnly,
      name,
    });
}

/** ZUNION numkeys key... [WEIGHTS w...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]. */
export const zunion = handlerFor("union", false, "zunion");
/** ZINTER numkeys key... [WEIGHTS w...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]. */
export const zinter = handlerFor("inter", false, "zinter");
/** ZDIFF numkeys key... [WITHSCORES]. */
export const zdiff = handlerFor("diff", false, "zdiff");
/** ZUNIONSTORE dst numkeys key... [WEIGHTS w...] [AGGREGATE SUM|MIN|MAX]. */
export const zunionstore = handlerFor("union", true, "zunionstore");
/** ZINTERSTORE dst numkeys key... [WEIGHTS w...] [AGGREGATE SUM|MIN|MAX]. */
export const zinterstore = handlerFor("inter", true, "zinterstore");
/** ZDIFFSTORE dst numkeys key.... */
export const zdiffstore = handlerFor("diff", true, "zdiffstore");
/** ZINTERCARD numkeys key... [LIMIT limit]. */
export const zintercard = handlerFor("inter", false, "zintercard", true);
