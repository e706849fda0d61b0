/**
 * The sorted set commands that add, change and remove members: ZADD (NX XX GT LT CH INCR),
 * ZINCRBY, ZREM and ZREMRANGEBYRANK/SCORE/LEX, with Redis 7.0's order of checks, error texts,
 * keyspace events and change counts (t_zset.c's zaddGenericCommand, zremCommand,
 * zremrangeGenericCommand).
 */
import type { Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { SortedSetValue } from "../store/sorted_set_value.ts";
import { toBinaryString } from "../util/bytes.ts";
import { NOTIFY_GENERIC, NOTIFY_ZSET, notifyKeyspaceEvent } from "../pubsub/keyspace_events.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import { database, intArg, isWord } from "./_values.ts";
import {
  lexRanks,
  parseLexRange,
  parseScoreRange,
  scoreArg,
  scoreRanks,
  scoreReply,
  zsetAt,
} from "./sorted_sets_args.ts";

const NAN_RESULT = "ERR resulting score is not a number (NaN)";

/** ZADD's flags. */
interface AddFlags {
  nx: boolean;
  xx: boolean;
  gt: boolean;
  lt: boolean;
  ch: boolean;
  incr: boolean;
}

/** What adding one member did (Redis's zsetAdd out flags). */
type AddOutcome = "added" | "updated" | "unchanged" | "skipped" | "nan";

/**
 * Redis's zsetAdd: applies one (score, member) under the flags; `result.score` receives the
 * member's score afterwards (for INCR).
 */
function addOne(
  zset: SortedSetValue,
  member: string,
  score: number,
  flags: AddFlags,
  result: { score: number },
  changing: () => void,
): AddOutcome {
  const current = zset.score(member);
  if (current === undefined) {
    if (flags.xx) return "skipped";
    changing();
    zset.add(member, score);
    result.score = score;
    return "added";
  }
  if (flags.nx) return "skipped";
  let next = score;
  if (flags.incr) {
    next += current;
    if (Number.isNaN(next)) return "nan";
  }
  if ((flags.lt && next >= current) || (flags.gt && next <= current)) return "skipped";
  result.score = next;
  if (next === current) return "unchanged";
  changing();
  zset.add(member, next);
  return "updated";
}

/** Parses ZADD's leading options; returns the flags and the index of the first score. */
function parseAddFlags(argv: Uint8Array[], incr: boolean): [AddFlags, number] {
  const flags: AddFlags = { nx: false, xx: false, gt: false, lt: false, ch: false, incr };
  let i = 2;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (isWord(a, "nx")) flags.nx = true;
    else if (isWord(a, "xx")) flags.xx = true;
    else if (isWord(a, "gt")) flags.gt = true;
    else if (isWord(a, "lt")) flags.lt = true;
    else if (isWord(a, "ch")) flags.ch = true;
    else if (isWord(a, "incr")) flags.incr = true;
    else break;
  }
  return [flags, i];
}

function checkAddFlags(flags: AddFlags, pairs: number): void {
  if (flags.nx && flags.xx) {
    throw new CommandError("ERR XX and NX options at the same time are not compatible");
  }
  if ((flags.gt && flags.nx) || (flags.lt && flags.nx) || (flags.gt && flags.lt)) {
    throw new CommandError("ERR GT, LT, and/or NX options at the same time are not compatible");
  }
  if (flags.incr && pairs > 1) {
    throw new CommandError("ERR INCR option supports a single increment-element pair");
  }
}

/** ZADD and ZINCRBY (Redis's zaddGenericCommand). */
function zaddGeneric(
  ctx: ServerContext,
  client: ClientState,
  argv: Uint8Array[],
  incr: boolean,
): Reply {
  const [flags, first] = parseAddFlags(argv, incr);
  const elements = argv.length - first;
  if (elements === 0 || elements % 2 !== 0) throw new CommandError("ERR syntax error");
  checkAddFlags(flags, elements / 2);
  const scores: number[] = [];
  for (let i = first; i < argv.length; i += 2) scores.push(scoreArg(argv[i]));
  const db = database(ctx, client);
  const key = toBinaryString(argv[1]);
  const existing = zsetAt(db, key, client, true);
  if (existing === undefined && flags.xx) return flags.incr ? null : 0;
  const zset = existing ?? new SortedSetValue();
  // The update starts at the first real change, so that a ZADD that changes nothing neither
  // touches WATCHers nor counts as a write.
  let before = -1;
  const changing = () => {
    if (before < 0) before = existing === undefined ? 0 : db.beginUpdate(key);
  };
  const result = { score: 0 };
  let added = 0;
  let updated = 0;
  let processed = 0;
  let failed = false;
  for (let i = first, n = 0; i < argv.length; i += 2, n++) {
    const outcome = addOne(zset, toBinaryString(argv[i + 1]), scores[n], flags, result, changing);
    if (outcome === "nan") {
      failed = true;
      break;
    }
    if (outcome === "added") added++;
    else if (outcome === "updated") updated++;
    if (outcome !== "skipped") processed++;
  }
  finishAdd(ctx, client, key, zset, existing === undefined, before, added + updated, incr);
  if (failed) throw new CommandError(NAN_RESULT);
  if (flags.incr) return processed > 0 ? scoreReply(client, result.score) : null;
  return flags.ch ? added + updated : added;
}

/** Stores or finishes the update of ZADD's set, and notifies when it changed. */
function finishAdd(
  ctx: ServerContext,
  client: ClientState,
  key: string,
  zset: SortedSetValue,
  created: boolean,
  before: number,
  changes: number,
  incr: boolean,
): void {
  const db = database(ctx, client);
  if (before < 0) return;
  if (created) db.set(key, zset);
  else db.endUpdate(key, before, changes);
  if (changes > 0) notifyKeyspaceEvent(ctx, NOTIFY_ZSET, incr ? "zincr" : "zadd", key, client.db);
}

/** ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]. */
export function zadd(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  return zaddGeneric(ctx, client, argv, false);
}

/** ZINCRBY key increment member. */
export function zincrby(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  return zaddGeneric(ctx, client, argv, true);
}

/** ZREM key member [member ...]. */
export function zrem(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const db = database(ctx, client);
  const key = toBinaryString(argv[1]);
  const zset = zsetAt(db, key, client, true);
  if (zset === undefined) return 0;
  const members: string[] = [];
  for (let i = 2; i < argv.length; i++) {
    const member = toBinaryString(argv[i]);
    if (zset.score(member) !== undefined) members.push(member);
  }
  if (members.length === 0) return 0;
  const before = db.beginUpdate(key);
  let deleted = 0;
  for (const member of members) if (zset.delete(member)) deleted++;
  const removed = db.endUpdate(key, before, deleted);
  notifyKeyspaceEvent(ctx, NOTIFY_ZSET, "zrem", key, client.db);
  if (removed) notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "del", key, client.db);
  return deleted;
}

/** Which ranks a ZREMRANGEBY* command removes, computed once the set is known. */
type RankRange = (zset: SortedSetValue) => [number, number];

/** The rank range of ZREMRANGEBYRANK start stop, as Redis clamps it. */
function byRank(startArg: Uint8Array, endArg: Uint8Array): RankRange {
  const start = Number(intArg(startArg));
  const end = Number(intArg(endArg));
  return (zset) => {
    const size = zset.size;
    let from = start < 0 ? size + start : start;
    let to = end < 0 ? size + end : end;
    if (from < 0) from = 0;
    if (from > to || from >= size) return [0, -1];
    if (to >= size) to = size - 1;
    return [from, to];
  };
}

/** Redis's zremrangeGenericCommand: parse the range, then remove it. */
function zremrange(
  ctx: ServerContext,
  client: ClientState,
  argv: Uint8Array[],
  ranks: RankRange,
  event: string,
): Reply {
  const db = database(ctx, client);
  const key = toBinaryString(argv[1]);
  const zset = zsetAt(db, key, client, true);
  if (zset === undefined) return 0;
  const [start, end] = ranks(zset);
  if (start > end) return 0;
  const before = db.beginUpdate(key);
  const deleted = zset.deleteRange(start, end);
  const removed = db.endUpdate(key, before, deleted);
  notifyKeyspaceEvent(ctx, NOTIFY_ZSET, event, key, client.db);
  if (removed) notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "del", key, client.db);
  return deleted;
}

/** ZREMRANGEBYRANK key start stop. */
export function zremrangebyrank(
  ctx: ServerContext,
  client: ClientState,
  argv: Uint8Array[],
): Reply {
  return zremrange(ctx, client, argv, byRank(argv[2], argv[3]), "zremrangebyrank");
}

/** ZREMRANGEBYSCORE key min max. */
export function zremrangebyscore(
  ctx: ServerContext,
  client: ClientState,
  argv: Uint8Array[],
): Reply {
  const range = parseScoreRange(argv[2], argv[3]);
  return zremrange(ctx, client, argv, (z) => scoreRanks(z, range), "zremrangebyscore");
}

/** ZREMRANGEBYLEX key min max. */
export function zremrangebylex(
  ctx: ServerContext,
  client: ClientState,
  argv: Uint8Array[],
): Reply {
  const range = parseLexRange(argv[2], argv[3]);
  return zremrange(ctx, client, argv, (z) => lexRanks(z, range), "zremrangebylex");
}
