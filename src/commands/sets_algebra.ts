/**
 * Set algebra as Redis 7.0's `sinterGenericCommand` and `sunionDiffGenericCommand` do it:
 * SMEMBERS, SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE. Every key
 * is looked up and type-checked first (a missing key is an empty set); the intersection walks
 * the smallest set; SDIFF picks Redis's cheaper of its two algorithms. Results are built as a
 * {@link SetValue} the way Redis builds its result object, so their encoding, and therefore the
 * order of an intset result (ascending), are Redis's.
 */
import { type Reply, SetReply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import type { Database } from "../store/database.ts";
import { SetValue } from "../store/set_value.ts";
import { toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import { NOTIFY_GENERIC, NOTIFY_SET, notifyKeyspaceEvent } from "../pubsub/keyspace_events.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import type { CommandDef } from "./registry.ts";
import { database, isWord, parseInt64Bytes } from "./_values.ts";
import { ONE_KEY, readSet } from "./sets_shared.ts";

/** The sets under `argv[from, to)`, each looked up as a read; undefined for a missing key. */
function lookupAll(
  db: Database,
  client: ClientState,
  argv: Uint8Array[],
  from: number,
  to: number,
): (SetValue | undefined)[] {
  const t = now();
  const sets: (SetValue | undefined)[] = [];
  for (let i = from; i < to; i++) sets.push(readSet(db, client, toBinaryString(argv[i]), t));
  return sets;
}

/**
 * Calls `visit` with each member of the intersection of `sets` (none missing), walking the
 * smallest set; stops after `limit` members when it is above 0. Returns how many were visited.
 */
function intersect(sets: SetValue[], limit: number, visit: (member: string) => void): number {
  const sorted = sets.slice().sort((a, b) => a.size - b.size);
  const first = sorted[0];
  let found = 0;
  outer: for (const member of first.members()) {
    for (let j = 1; j < sorted.length; j++) {
      if (sorted[j] !== first && !sorted[j].has(member)) continue outer;
    }
    visit(member);
    found++;
    if (limit > 0 && found >= limit) break;
  }
  return found;
}

/** Whether every set is present. */
function allPresent(sets: (SetValue | undefined)[]): sets is SetValue[] {
  return sets.every((s) => s !== undefined);
}

/** SINTER key [key ...] and SMEMBERS key (Redis 7.0 serves both with `sinterCommand`). */
function sinter(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const sets = lookupAll(database(ctx, client), client, argv, 1, argv.length);
  if (!allPresent(sets)) return new SetReply([]);
  const out: string[] = [];
  intersect(sets, 0, (member) => out.push(member));
  return new SetReply(out);
}

/**
 * Stores `result` under `dstKey` (SINTERSTORE, SUNIONSTORE, SDIFFSTORE): replaces whatever was
 * there, or deletes the key when the result is empty; answers the result's size.
 */
function store(
  ctx: ServerContext,
  client: ClientState,
  dstKey: string,
  result: SetValue,
  event: string,
): Reply {
  const db = database(ctx, client);
  if (result.size > 0) {
    db.set(dstKey, result, false, now());
    notifyKeyspaceEvent(ctx, NOTIFY_SET, event, dstKey, client.db);
    return result.size;
  }
  if (db.delete(dstKey)) notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "del", dstKey, client.db);
  return 0;
}

function sinterstore(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const sets = lookupAll(database(ctx, client), client, argv, 2, argv.length);
  const result = new SetValue();
  if (allPresent(sets)) intersect(sets, 0, (member) => result.add(member));
  return store(ctx, client, toBinaryString(argv[1]), result, "sinterstore");
}

/** SINTERCARD's numkeys when valid (1 up to the arguments left), else null. */
function numkeysOf(argv: readonly Uint8Array[]): number | null {
  const n = parseInt64Bytes(argv[1]);
  if (n === null || n < 1 || n > argv.length - 2) return null;
  return Number(n);
}

/** The positions of SINTERCARD's keys (COMMAND GETKEYS, the cluster check). */
function sintercardKeys(argv: readonly Uint8Array[]): number[] {
  const n = numkeysOf(argv);
  return n === null ? [] : Array.from({ length: n }, (_, i) => i + 2);
}

/** SINTERCARD numkeys key [key ...] [LIMIT limit], with Redis's checks in Redis's order. */
function sintercard(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const numkeys = parseInt64Bytes(argv[1]);
  if (numkeys === null || numkeys < 1) {
    throw new CommandError("ERR numkeys should be greater than 0");
  }
  if (numkeys > argv.length - 2) {
    throw new CommandError("ERR Number of keys can't be greater than number of args");
  }
  const end = 2 + Number(numkeys);
  let limit = 0;
  for (let i = end; i < argv.length; i++) {
    if (!isWord(argv[i], "limit") || i + 1 >= argv.length) {
      throw new CommandError("ERR syntax error");
    }
    const value = parseInt64Bytes(argv[++i]);
    if (value === null || value < 0) throw new CommandError("ERR LIMIT can't be negative");
    limit = Number(value);
  }
  const sets = lookupAll(database(ctx, client), client, argv, 2, end);
  return allPresent(sets) ? intersect(sets, limit, () => {}) : 0;
}

/** The union of the present sets, added in key order as Redis adds them. */
function union(sets: (SetValue | undefined)[]): SetValue {
  const result = new SetValue();
  for (const set of sets) {
    if (set === undefined) continue;
    for (const member of set.members()) result.add(member);
  }
  return result;
}

/**
 * The first set minus the others, by Redis's choice of algorithm: test each member of the first
 * set against the others (1), or copy the first and remove the others' members (2), whichever
 * Redis estimates cheaper; the choice shows in the result's encoding.
 */
function difference(sets: (SetValue | undefined)[]): SetValue {
  const result = new SetValue();
  const first = sets[0];
  if (first === undefined) return result;
  const others = sets.slice(1).filter((s): s is SetValue => s !== undefined);
  if (others.includes(first)) return result;
  let oneWork = 0;
  let twoWork = 0;
  for (const set of [first, ...others]) {
    oneWork += first.size;
    twoWork += set.size;
  }
  if (Math.floor(oneWork / 2) <= twoWork) {
    others.sort((a, b) => b.size - a.size);
    for (const member of first.members()) {
      if (!others.some((set) => set.has(member))) result.add(member);
    }
    return result;
  }
  for (const member of first.members()) result.add(member);
  for (const set of others) {
    for (const member of set.members()) result.delete(member);
    if (result.size === 0) break;
  }
  return result;
}

function sunion(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const sets = lookupAll(database(ctx, client), client, argv, 1, argv.length);
  return new SetReply([...union(sets).members()]);
}

function sdiff(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const sets = lookupAll(database(ctx, client), client, argv, 1, argv.length);
  return new SetReply([...difference(sets).members()]);
}

function sunionstore(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const sets = lookupAll(database(ctx, client), client, argv, 2, argv.length);
  return store(ctx, client, toBinaryString(argv[1]), union(sets), "sunionstore");
}

function sdiffstore(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const sets = lookupAll(database(ctx, client), client, argv, 2, argv.length);
  return store(ctx, client, toBinaryString(argv[1]), difference(sets), "sdiffstore");
}

const ALL_KEYS = { first: 1, last: -1, step: 1 };
const STORE_KEYS = { first: 1, last: -1, step: 1 };
const READ_SLOW = ["readonly"] as const;
const STORE_FLAGS = ["write", "denyoom"] as const;

/** Declarations of the set algebra commands, as Redis 7.0 declares them. */
export const setAlgebraCommands: readonly CommandDef[] = [
  {
    name: "smembers",
    arity: 2,
    flags: READ_SLOW,
    keys: ONE_KEY,
    group: "set",
    summary: "Get all the members in a set",
    since: "1.0.0",
    complexity: "O(N) where N is the set cardinality.",
    handler: sinter,
  },
  {
    name: "sinter",
    arity: -2,
    flags: READ_SLOW,
    keys: ALL_KEYS,
    group: "set",
    summary: "Intersect multiple sets",
    since: "1.0.0",
    complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the " +
      "number of sets.",
    handler: sinter,
  },
  {
    name: "sintercard",
    arity: -3,
    flags: ["readonly", "movablekeys"],
    // Redis's legacy key triple for SINTERCARD is 0 0 0; keysOf finds the keys.
    keys: { first: 0, last: 0, step: 0 },
    keysOf: sintercardKeys,
    group: "set",
    summary: "Intersect multiple sets and return the cardinality of the result",
    since: "7.0.0",
    complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the " +
      "number of sets.",
    handler: sintercard,
  },
  {
    name: "sinterstore",
    arity: -3,
    flags: STORE_FLAGS,
    keys: STORE_KEYS,
    group: "set",
    summary: "Intersect multiple sets and store the resulting set in a key",
    since: "1.0.0",
    complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the " +
      "number of sets.",
    handler: sinterstore,
  },
  {
    name: "sunion",
    arity: -2,
    flags: READ_SLOW,
    keys: ALL_KEYS,
    group: "set",
    summary: "Add multiple sets",
    since: "1.0.0",
    complexity: "O(N) where N is the total number of elements in all given sets.",
    handler: sunion,
  },
  {
    name: "sunionstore",
    arity: -3,
    flags: STORE_FLAGS,
    keys: STORE_KEYS,
    group: "set",
    summary: "Add multiple sets and store the resulting set in a key",
    since: "1.0.0",
    complexity: "O(N) where N is the total number of elements in all given sets.",
    handler: sunionstore,
  },
  {
    name: "sdiff",
    arity: -2,
    flags: READ_SLOW,
    keys: ALL_KEYS,
    group: "set",
    summary: "Subtract multiple sets",
    since: "1.0.0",
    complexity: "O(N) where N is the total number of elements in all given sets.",
    handler: sdiff,
  },
  {
    name: "sdiffstore",
    arity: -3,
    flags: STORE_FLAGS,
    keys: STORE_KEYS,
    group: "set",
    summary: "Subtract multiple sets and store the resulting set in a key",
    since: "1.0.0",
    complexity: "O(N) where N is the total number of elements in all given sets.",
    handler: sdiffstore,
  },
];
