/**
 * BZPOPMIN, BZPOPMAX and BZMPOP (Redis's blockingGenericZpopCommand and bzmpop): pop at once
 * when a key holds members, else wait on the keys (server/blocked_keys.ts) until one is
 * created, first come first served. What is propagated is the pop itself: ZPOPMIN/ZPOPMAX key
 * (key count for BZMPOP), as Redis 7.0 rewrites them.
 */
import { NULL_ARRAY, type Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { blockOnKeys, parseTimeout } from "../server/blocked_keys.ts";
import type { SortedSetValue } from "../store/sorted_set_value.ts";
import { toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import type { ServerContext } from "./context.ts";
import type { CommandDef, Handler } from "./registry.ts";
import { scoreReply } from "./sorted_sets_args.ts";
import {
  firstNonEmpty,
  mpopKeys,
  type MpopRequest,
  parseMpop,
  type PopEnd,
  popFrom,
  poppedReply,
} from "./sorted_sets_pop.ts";

/** The pop command a served BZPOPMIN/BZPOPMAX stands for. */
function popName(end: PopEnd): string {
  return end === "min" ? "ZPOPMIN" : "ZPOPMAX";
}

/** BZPOPMIN/BZPOPMAX's reply: [key, member, score]. */
function popOne(
  ctx: ServerContext,
  client: ClientState,
  key: string,
  zset: SortedSetValue,
  end: PopEnd,
): Reply {
  const [[member, score]] = popFrom(ctx, client, key, zset, end, 1);
  return [key, member, scoreReply(client, score)];
}

/** BZPOPMIN and BZPOPMAX key [key ...] timeout. */
function bzpop(end: PopEnd): Handler {
  return (ctx, client, argv) => {
    const timeoutMs = parseTimeout(argv[argv.length - 1]);
    const keyArgs = argv.slice(1, -1);
    const found = firstNonEmpty(ctx, client, keyArgs);
    if (found !== undefined) {
      ctx.propagator.rewrite([popName(end), found.key]);
      return popOne(ctx, client, found.key, found.zset, end);
    }
    return blockOnKeys(ctx, client, {
      keys: keyArgs.map((k) => toBinaryString(k)),
      type: "zset",
      timeoutMs,
      timeoutReply: NULL_ARRAY,
      serve: (key, db) => {
        ctx.propagator.command(db.index, [popName(end), key]);
        return popOne(ctx, client, key, db.get(key, now()) as SortedSetValue, end);
      },
    });
  };
}

/** What a ready BZMPOP answers: [key, [[member, score], ...]], propagated as a counted pop. */
function mpopServe(
  ctx: ServerContext,
  client: ClientState,
  request: MpopRequest,
  key: string,
  zset: SortedSetValue,
  propagate: (command: string[]) => void,
): Reply {
  const popped = popFrom(ctx, client, key, zset, request.end, request.count);
  propagate([popName(request.end), key, String(request.count)]);
  return [key, poppedReply(client, popped, true)];
}

/** BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]. */
function bzmpop(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const timeoutMs = parseTimeout(argv[1]);
  const request = parseMpop(argv, 2);
  const found = firstNonEmpty(ctx, client, request.keys);
  if (found !== undefined) {
    return mpopServe(ctx, client, request, found.key, found.zset, (command) => {
      ctx.propagator.rewrite(command);
    });
  }
  return blockOnKeys(ctx, client, {
    keys: request.keys.map((k) => toBinaryString(k)),
    type: "zset",
    timeoutMs,
    timeoutReply: NULL_ARRAY,
    serve: (key, db) =>
      mpopServe(ctx, client, request, key, db.get(key, now()) as SortedSetValue, (c) => {
        ctx.propagator.command(db.index, c);
      }),
  });
}

/** The declarations (Redis 7.0's arity, flags, key positions and docs). */
export const sortedSetsBlockingCommands: readonly CommandDef[] = [
  {
    name: "bzpopmin",
    arity: -3,
    flags: ["write", "noscript", "blocking", "fast"],
    keys: { first: 1, last: -2, step: 1 },
    group: "sorted-set",
    summary: "Remove and return the member with the lowest score from one or more sorted sets, " +
      "or block until one is available",
    since: "5.0.0",
    complexity: "O(log(N)) with N being the number of elements in the sorted set.",
    handler: bzpop("min"),
  },
  {
    name: "bzpopmax",
    arity: -3,
    flags: ["write", "noscript", "blocking", "fast"],
    keys: { first: 1, last: -2, step: 1 },
    group: "sorted-set",
    summary: "Remove and return the member with the highest score from one or more sorted " +
      "sets, or block until one is available",
    since: "5.0.0",
    complexity: "O(log(N)) with N being the number of elements in the sorted set.",
    handler: bzpop("max"),
  },
  {
    name: "bzmpop",
    arity: -5,
    flags: ["write", "blocking", "movablekeys"],
    keys: { first: 0, last: 0, step: 0 },
    keysOf: (argv) => mpopKeys(argv, 2),
    group: "sorted-set",
    summary: "Remove and return members with scores in a sorted set or block until one is " +
      "available",
    since: "7.0.0",
    complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number " +
      "of elements in the sorted set, and M being the number of elements popped.",
    handler: bzmpop,
  },
];
