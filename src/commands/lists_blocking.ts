/**
 * The blocking list commands, BLPOP, BRPOP, BLMOVE, BRPOPLPUSH and BLMPOP (Redis 7.0's
 * t_list.c): served at once like their non-blocking forms when a key has items (and propagated
 * as those forms: LPOP, LMOVE, RPOPLPUSH, `LPOP key count`), otherwise the client waits on its
 * keys through server/blocked_keys.ts and is served, with the same effect propagated, when a
 * list is stored under one of them. Inside MULTI/EXEC they answer at once as Redis does.
 */
import { NULL_ARRAY, type Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { blockOnKeys, parseTimeout } from "../server/blocked_keys.ts";
import type { Database } from "../store/database.ts";
import type { ListValue } from "../store/list_value.ts";
import { toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import type { ServerContext } from "./context.ts";
import type { CommandDef, Handler } from "./registry.ts";
import { database } from "./_values.ts";
import { type End, endArg, endWord, popFromFirst, popItems, writableList } from "./lists_access.ts";
import { moveItem, mpopKeys, parseMpop } from "./lists_move.ts";

/** The command that pops `end`: what a served or immediate BLPOP/BRPOP propagates. */
function popName(end: End): string {
  return end === "left" ? "LPOP" : "RPOP";
}

/** BLPOP and BRPOP (Redis's blockingPopGenericCommand without a count). */
function bpop(end: End): Handler {
  return (ctx, client, argv) => {
    const timeoutMs = parseTimeout(argv[argv.length - 1]);
    const db = database(ctx, client);
    const t = now();
    const keys: string[] = [];
    for (let i = 1; i < argv.length - 1; i++) keys.push(toBinaryString(argv[i]));
    for (const key of keys) {
      const list = writableList(db, key, t);
      if (list === undefined) continue;
      ctx.propagator.rewrite([popName(end), key]);
      return [key, popItems(ctx, db, key, list, end, 1)[0]];
    }
    const serve = (key: string, served: Database): Reply => {
      ctx.propagator.command(served.index, [popName(end), key]);
      return [key, popItems(ctx, served, key, served.get(key, now()) as ListValue, end, 1)[0]];
    };
    return blockOnKeys(ctx, client, {
      keys,
      type: "list",
      timeoutMs,
      timeoutReply: NULL_ARRAY,
      serve,
    });
  };
}

/**
 * BLMOVE's and BRPOPLPUSH's work once the ends and timeout are known: moves at once when the
 * source has items, else waits on it. Inside EXEC a missing source answers a null bulk string,
 * a timeout a null array, as in Redis.
 */
function blmoveGeneric(
  ctx: ServerContext,
  client: ClientState,
  argv: Uint8Array[],
  from: End,
  to: End,
  timeoutMs: number,
): Reply {
  const db = database(ctx, client);
  const t = now();
  const sourceKey = toBinaryString(argv[1]);
  const destinationKey = toBinaryString(argv[2]);
  const isLmove = argv.length === 6;
  const source = writableList(db, sourceKey, t);
  if (source !== undefined) {
    const item = moveItem(ctx, db, sourceKey, source, destinationKey, from, to, t);
    ctx.propagator.rewrite(
      isLmove ? ["LMOVE", argv[1], argv[2], argv[3], argv[4]] : ["RPOPLPUSH", argv[1], argv[2]],
    );
    return item;
  }
  const serve = (key: string, served: Database): Reply => {
    const list = served.get(key, now()) as ListValue;
    const item = moveItem(ctx, served, key, list, destinationKey, from, to, now());
    ctx.propagator.command(
      served.index,
      isLmove
        ? ["LMOVE", key, destinationKey, endWord(from), endWord(to)]
        : ["RPOPLPUSH", key, destinationKey],
    );
    return item;
  };
  const request = { keys: [sourceKey], type: "list" as const, timeoutMs, serve };
  return blockOnKeys(ctx, client, { ...request, timeoutReply: NULL_ARRAY }, null);
}

function blmove(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const from = endArg(argv[3]);
  const to = endArg(argv[4]);
  return blmoveGeneric(ctx, client, argv, from, to, parseTimeout(argv[5]));
}

function brpoplpush(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  return blmoveGeneric(ctx, client, argv, "right", "left", parseTimeout(argv[3]));
}

function blmpop(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const timeoutMs = parseTimeout(argv[1]);
  const { keys, end, count } = parseMpop(argv, 2);
  const db = database(ctx, client);
  const popped = popFromFirst(ctx, db, keys, end, count, now(), (command) => {
    ctx.propagator.rewrite(command);
  });
  if (popped !== null) return popped;
  const serve = (key: string, served: Database): Reply =>
    popFromFirst(ctx, served, [key], end, count, now(), (command) => {
      ctx.propagator.command(served.index, command);
    });
  return blockOnKeys(ctx, client, {
    keys,
    type: "list",
    timeoutMs,
    timeoutReply: NULL_ARRAY,
    serve,
  });
}

const BLOCKING_COMPLEXITY = "O(N) where N is the number of provided keys.";

/** The declarations (Redis 7.0's arity, flags, key positions and docs). */
export const listsBlockingCommands: readonly CommandDef[] = [
  {
    name: "blpop",
    arity: -3,
    flags: ["write", "noscript", "blocking"],
    keys: { first: 1, last: -2, step: 1 },
    group: "list",
    summary: "Remove and get the first element in a list, or block until one is available",
    since: "2.0.0",
    complexity: BLOCKING_COMPLEXITY,
    handler: bpop("left"),
  },
  {
    name: "brpop",
    arity: -3,
    flags: ["write", "noscript", "blocking"],
    keys: { first: 1, last: -2, step: 1 },
    group: "list",
    summary: "Remove and get the last element in a list, or block until one is available",
    since: "2.0.0",
    complexity: BLOCKING_COMPLEXITY,
    handler: bpop("right"),
  },
  {
    name: "blmove",
    arity: 6,
    flags: ["write", "denyoom", "noscript", "blocking"],
    keys: { first: 1, last: 2, step: 1 },
    group: "list",
    summary: "Pop an element from a list, push it to another list and return it; or block " +
      "until one is available",
    since: "6.2.0",
    complexity: "O(1)",
    handler: blmove,
  },
  {
    name: "brpoplpush",
    arity: 4,
    flags: ["write", "denyoom", "noscript", "blocking"],
    keys: { first: 1, last: 2, step: 1 },
    group: "list",
    summary: "Pop an element from a list, push it to another list and return it; or block " +
      "until one is available",
    since: "2.2.0",
    complexity: "O(1)",
    handler: brpoplpush,
  },
  {
    name: "blmpop",
    arity: -5,
    flags: ["write", "blocking", "movablekeys"],
    // What COMMAND INFO prints for a command whose keys follow a count (Redis: 0 0 0).
    keys: { first: 0, last: 0, step: 0 },
    keysOf: (argv) => mpopKeys(argv, 2),
    group: "list",
    summary: "Pop elements from a list, or block until one is available",
    since: "7.0.0",
    complexity: "O(N+M) where N is the number of provided keys and M is the number of " +
      "elements returned.",
    handler: blmpop,
  },
];
