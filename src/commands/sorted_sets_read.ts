/**
 * The sorted set commands that read one set: ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK, ZCOUNT,
 * ZLEXCOUNT, ZSCAN and ZRANDMEMBER, with Redis 7.0's replies for missing keys and members.
 */
import type { Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import type { ScoredMember, SortedSetValue } from "../store/sorted_set_value.ts";
import { toBinaryString } from "../util/bytes.ts";
import type { ServerContext } from "./context.ts";
import { database, randomCountArgs, repeatedSampleCount } from "./_values.ts";
import { binaryGlobMatch, parseCursor, parseScanOptions } from "./_scan.ts";
import {
  formatScore,
  lexRanks,
  parseLexRange,
  parseScoreRange,
  scoredReply,
  scoreRanks,
  scoreReply,
  zsetAt,
} from "./sorted_sets_args.ts";

function readZset(ctx: ServerContext, client: ClientState, keyArg: Uint8Array) {
  return zsetAt(database(ctx, client), toBinaryString(keyArg), client);
}

/** ZCARD key. */
export function zcard(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  return readZset(ctx, client, argv[1])?.size ?? 0;
}

/** ZSCORE key member. */
export function zscore(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const score = readZset(ctx, client, argv[1])?.score(toBinaryString(argv[2]));
  return score === undefined ? null : scoreReply(client, score);
}

/** ZMSCORE key member [member ...]. */
export function zmscore(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const zset = readZset(ctx, client, argv[1]);
  const out: Reply[] = [];
  for (let i = 2; i < argv.length; i++) {
    const score = zset?.score(toBinaryString(argv[i]));
    out.push(score === undefined ? null : scoreReply(client, score));
  }
  return out;
}

function rankOf(ctx: ServerContext, client: ClientState, argv: Uint8Array[], reverse: boolean) {
  const zset = readZset(ctx, client, argv[1]);
  const rank = zset?.rank(toBinaryString(argv[2]));
  if (zset === undefined || rank === undefined) return null;
  return reverse ? zset.size - 1 - rank : rank;
}

/** ZRANK key member. */
export function zrank(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  return rankOf(ctx, client, argv, false);
}

/** ZREVRANK key member. */
export function zrevrank(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  return rankOf(ctx, client, argv, true);
}

/** ZCOUNT key min max: the range is parsed before the key is read, as in Redis. */
export function zcount(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const range = parseScoreRange(argv[2], argv[3]);
  const zset = readZset(ctx, client, argv[1]);
  if (zset === undefined) return 0;
  const [start, end] = scoreRanks(zset, range);
  return Math.max(0, end - start + 1);
}

/** ZLEXCOUNT key min max. */
export function zlexcount(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const range = parseLexRange(argv[2], argv[3]);
  const zset = readZset(ctx, client, argv[1]);
  if (zset === undefined) return 0;
  const [start, end] = lexRanks(zset, range);
  return Math.max(0, end - start + 1);
}

/**
 * ZSCAN key cursor [MATCH pattern] [COUNT count]. A listpack set is returned whole with cursor
 * 0, as Redis does; a skiplist set is walked in rank order, the cursor being the next rank
 * (Redis walks its hash table instead, so cursors differ; see the report of this family).
 */
export function zscan(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const cursor = parseCursor(argv[2]);
  const zset = readZset(ctx, client, argv[1]);
  if (zset === undefined) return ["0", []];
  const { count, pattern } = parseScanOptions(argv, 3);
  const whole = zset.encoding() === "listpack";
  const start = whole ? 0 : Number(cursor > BigInt(zset.size) ? BigInt(zset.size) : cursor);
  const end = whole ? zset.size - 1 : Math.min(zset.size - 1, start + count - 1);
  const items: string[] = [];
  if (start <= end) {
    for (const [member, score] of zset.range(start, end, false)) {
      if (pattern !== null && !binaryGlobMatch(pattern, member)) continue;
      items.push(member, formatScore(score));
    }
  }
  const next = end + 1 >= zset.size ? 0 : end + 1;
  return [String(next), items];
}

function randomRank(size: number): number {
  return Math.floor(Math.random() * size);
}

/** `count` distinct random members (count < size), as a reservoir of ranks. */
function distinctRandom(zset: SortedSetValue, count: number): ScoredMember[] {
  const picked = new Set<number>();
  const size = zset.size;
  // Few picks: draw until distinct; many: drop random ranks from the whole set instead.
  if (count * 3 <= size) {
    while (picked.size < count) picked.add(randomRank(size));
    return [...picked].map((rank) => zset.at(rank));
  }
  const dropped = new Set<number>();
  while (dropped.size < size - count) dropped.add(randomRank(size));
  const out: ScoredMember[] = [];
  let rank = 0;
  for (const entry of zset.entries()) if (!dropped.has(rank++)) out.push(entry);
  return out;
}

/** ZRANDMEMBER key [count [WITHSCORES]]. */
export function zrandmember(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  if (argv.length === 2) {
    const zset = readZset(ctx, client, argv[1]);
    return zset === undefined ? null : zset.at(randomRank(zset.size))[0];
  }
  const { count, withValues: withScores } = randomCountArgs(argv, "withscores");
  const zset = readZset(ctx, client, argv[1]);
  if (zset === undefined || count === 0n) return [];
  const size = zset.size;
  let picks: ScoredMember[];
  if (count < 0n || count === 1n) {
    const n = count < 0n ? repeatedSampleCount(count) : 1;
    picks = [];
    for (let i = 0; i < n; i++) picks.push(zset.at(randomRank(size)));
  } else if (count >= BigInt(size)) picks = [...zset.entries()];
  else picks = distinctRandom(zset, Number(count));
  return scoredReply(client, picks, withScores);
}
