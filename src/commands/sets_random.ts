/**
 * The random set commands, SPOP and SRANDMEMBER, with Redis 7.0's strategies (`t_set.c`): a
 * count at least the set's size takes the whole set; SPOP of most of a set picks the members
 * to keep instead; SRANDMEMBER with a negative count may repeat members. Replies cannot be
 * compared with Redis's member for member, but their types, sizes, errors, notifications,
 * dirty counts and propagation are Redis's: SPOP is propagated as SREM of what it popped
 * (several SREMs wrapped in MULTI/EXEC, as Redis's `alsoPropagate` does), or as DEL when it
 * emptied the set.
 */
import { type Reply, SetReply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { SetValue } from "../store/set_value.ts";
import { toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import type { PropagatedArg } from "../propagation/propagator.ts";
import { NOTIFY_GENERIC, NOTIFY_SET, notifyKeyspaceEvent } from "../pubsub/keyspace_events.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import type { CommandDef } from "./registry.ts";
import { database, NOT_INTEGER, parseInt64Bytes, repeatedSampleCount } from "./_values.ts";
import { addDirty, ONE_KEY, readSet, writeSet } from "./sets_shared.ts";

const SYNTAX_ERROR = "ERR syntax error";
const NOT_POSITIVE = "ERR value is out of range, must be positive";
const LONG_RANGE = "ERR value is out of range, value must between -9223372036854775807 and " +
  "9223372036854775807";
/** SPOP picks the members to keep when fewer than count / 5 remain (SPOP_MOVE_STRATEGY_MUL). */
const SPOP_MOVE_STRATEGY_MUL = 5;
/** SRANDMEMBER drops random members from a copy when count * 3 > size (SUB_STRATEGY_MUL). */
const SRANDMEMBER_SUB_STRATEGY_MUL = 3;

/** SPOP key [count]. */
function spop(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  if (argv.length === 3) return spopWithCount(ctx, client, argv);
  if (argv.length > 3) throw new CommandError(SYNTAX_ERROR);
  const db = database(ctx, client);
  const key = toBinaryString(argv[1]);
  const t = now();
  const set = writeSet(db, key, t);
  if (set === undefined) return null;
  const member = set.randomMember();
  const before = db.beginUpdate(key);
  set.delete(member);
  notifyKeyspaceEvent(ctx, NOTIFY_SET, "spop", key, client.db);
  ctx.propagator.rewrite(["SREM", key, member]);
  if (db.endUpdate(key, before, 1, t)) {
    notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "del", key, client.db);
  }
  return member;
}

/** SPOP key count (Redis's spopWithCountCommand). */
function spopWithCount(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const count = parseInt64Bytes(argv[2]);
  if (count === null || count < 0) throw new CommandError(NOT_POSITIVE);
  const db = database(ctx, client);
  const key = toBinaryString(argv[1]);
  const t = now();
  const set = writeSet(db, key, t);
  if (set === undefined || count === 0) return new SetReply([]);
  const size = set.size;
  notifyKeyspaceEvent(ctx, NOTIFY_SET, "spop", key, client.db);
  if (count >= size) {
    // Redis answers with its SUNION code, whose lookup counts a keyspace hit.
    db.read(key, t, true);
    const all = [...set.members()];
    // Redis adds count itself; a float past 2^53 would stop counting later changes.
    addDirty(ctx, Math.min(Number(count), size));
    db.delete(key);
    notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "del", key, client.db);
    ctx.propagator.rewrite(["DEL", key]);
    return new SetReply(all);
  }
  const n = Number(count);
  const popped = (size - n) * SPOP_MOVE_STRATEGY_MUL > n
    ? popRandom(db, key, set, n, t)
    : popAllButRandom(ctx, db, key, set, size - n, t);
  propagateSrem(ctx, key, popped);
  return new SetReply(popped);
}

/** Removes `n` random members in place (SPOP's case 2) and returns them. */
function popRandom(
  db: ReturnType<typeof database>,
  key: string,
  set: SetValue,
  n: number,
  t: number,
): string[] {
  const popped: string[] = [];
  const before = db.beginUpdate(key);
  for (let i = 0; i < n; i++) {
    const member = set.randomMember();
    set.delete(member);
    popped.push(member);
  }
  db.endUpdate(key, before, n + 1, t);
  return popped;
}

/**
 * SPOP's case 3: picks `keep` random members into a new set that replaces the old one (TTL
 * kept, as Redis's dbOverwrite) and returns the others, in the old set's order.
 */
function popAllButRandom(
  ctx: ServerContext,
  db: ReturnType<typeof database>,
  key: string,
  set: SetValue,
  keep: number,
  t: number,
): string[] {
  const kept = new Set<string>();
  while (kept.size < keep) kept.add(set.randomMember());
  // The new set is built as Redis builds it: from the kept members, in the order picked.
  const replacement = SetValue.of(kept);
  const popped: string[] = [];
  for (const member of set.members()) if (!kept.has(member)) popped.push(member);
  db.set(key, replacement, true, t);
  addDirty(ctx, popped.length);
  return popped;
}

/**
 * Propagates popped members as Redis does: one SREM each (dispatch wraps several in
 * MULTI/EXEC).
 */
function propagateSrem(ctx: ServerContext, key: string, members: string[]): void {
  const commands: PropagatedArg[][] = members.map((m) => ["SREM", key, m]);
  ctx.propagator.rewrite(...commands);
}

/** SRANDMEMBER key [count]. */
function srandmember(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  if (argv.length === 3) return srandmemberWithCount(ctx, client, argv);
  if (argv.length > 3) throw new CommandError(SYNTAX_ERROR);
  const set = readSet(database(ctx, client), client, toBinaryString(argv[1]), now());
  return set === undefined ? null : set.randomMember();
}

/** SRANDMEMBER key count (Redis's srandmemberWithCountCommand). */
function srandmemberWithCount(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const parsed = parseInt64Bytes(argv[2]);
  if (parsed === null) throw new CommandError(NOT_INTEGER);
  if (parsed === -9223372036854775808n) throw new CommandError(LONG_RANGE);
  const set = readSet(database(ctx, client), client, toBinaryString(argv[1]), now());
  if (set === undefined || parsed === 0) return [];
  if (parsed < 0) {
    const out: string[] = [];
    for (let n = repeatedSampleCount(parsed); n > 0; n--) out.push(set.randomMember());
    return out;
  }
  const count = Number(parsed);
  if (count >= set.size) return [...set.members()];
  if (count * SRANDMEMBER_SUB_STRATEGY_MUL > set.size) return dropRandom(set, count);
  const picked = new Set<string>();
  while (picked.size < count) picked.add(set.randomMember());
  return [...picked];
}

/** `count` distinct random members: all of them, less random ones (SRANDMEMBER's case 3). */
function dropRandom(set: SetValue, count: number): string[] {
  const members = [...set.members()];
  while (members.length > count) {
    const at = Math.floor(Math.random() * members.length);
    members[at] = members[members.length - 1];
    members.pop();
  }
  return members;
}

/** Declarations of SPOP and SRANDMEMBER, as Redis 7.0 declares them. */
export const setRandomCommands: readonly CommandDef[] = [
  {
    name: "spop",
    arity: -2,
    flags: ["write", "fast"],
    keys: ONE_KEY,
    group: "set",
    summary: "Remove and return one or multiple random members from a set",
    since: "1.0.0",
    complexity: "Without the count argument O(1), otherwise O(N) where N is the value of the " +
      "passed count.",
    handler: spop,
  },
  {
    name: "srandmember",
    arity: -2,
    flags: ["readonly"],
    keys: ONE_KEY,
    group: "set",
    summary: "Get one or multiple random members from a set",
    since: "1.0.0",
    complexity: "Without the count argument O(1), otherwise O(N) where N is the absolute value " +
      "of the passed count.",
    handler: srandmember,
  },
];
