/**
 * MIGRATE (Redis 7.0's): `MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
 * [AUTH password] [AUTH2 username password] [KEYS key [key ...]]` moves keys to another
 * instance (gocache or redis-server) with DUMP's payload and RESTORE, then deletes them here.
 * This module parses the arguments with Redis's errors in Redis's order, finds the keys (the
 * KEYS option makes them `movablekeys`), checks their slot in cluster mode, and queues the
 * transfer (_migrate_job.ts) on the server's one MIGRATE queue: the calling client waits for
 * its reply, other clients go on.
 *
 * @module
 */
import { DeferredReply, ErrorReply, type Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { clusterRefusal } from "../cluster/redirect.ts";
import { keySlot } from "../cluster/key_slot.ts";
import { fromUtf8, toBinaryString } from "../util/bytes.ts";
import type { ServerContext } from "./context.ts";
import { CommandError, SYNTAX_ERROR } from "./errors.ts";
import { Command, type CommandDef } from "./registry.ts";
import { intArg, isWord } from "./_values.ts";
import { inExec } from "./transactions.ts";
import { MigrateLinks } from "./_migrate_link.ts";
import { type MigrateRequest, runMigrate } from "./_migrate_job.ts";

/** Per server: its cached target connections, and the tail of its MIGRATE queue. */
interface MigrateState {
  links: MigrateLinks;
  tail: Promise<unknown>;
}

const states = new WeakMap<ServerContext, MigrateState>();

function stateOf(ctx: ServerContext): MigrateState {
  let state = states.get(ctx);
  if (state === undefined) {
    states.set(ctx, state = { links: new MigrateLinks(), tail: Promise.resolve() });
  }
  return state;
}

/** Options that take arguments, and how many, as Redis's migrateGetKeys skips them. */
const SKIPPED: readonly { word: string; skip: number }[] = [
  { word: "copy", skip: 0 },
  { word: "replace", skip: 0 },
  { word: "auth", skip: 1 },
  { word: "auth2", skip: 2 },
];

/**
 * The key positions Redis routes a MIGRATE by (its `migrateGetKeys`): argument 3, or those after
 * the first KEYS option word (none when argument 3 is not empty then).
 */
function migrateKeyPositions(argv: readonly Uint8Array[]): number[] {
  let first = 3;
  let count = 1;
  for (let i = 6; i < argv.length; i++) {
    if (isWord(argv[i], "keys")) {
      if (argv[3].length > 0) count = 0;
      else {
        first = i + 1;
        count = argv.length - first;
      }
      break;
    }
    i += SKIPPED.find(({ word }) => isWord(argv[i], word))?.skip ?? 0;
  }
  return Array.from({ length: count }, (_, n) => first + n);
}

/**
 * The keys COMMAND GETKEYS reports (Redis's key specs, then migrateGetKeys when the KEYS spec,
 * marked incomplete, matches): argument 3 unless a KEYS word appears before the last argument.
 */
function getKeysPositions(argv: readonly Uint8Array[]): number[] {
  for (let i = argv.length - 2; i >= 1; i--) {
    if (isWord(argv[i], "keys")) return migrateKeyPositions(argv);
  }
  return [3];
}

/** MIGRATE's keys as the cluster slot check sees them: one write command over those keys. */
const PROBE = new Command({
  name: "migrate",
  arity: -2,
  flags: ["write"],
  keys: { first: 1, last: -1, step: 1 },
  group: "generic",
  summary: "MIGRATE's keys",
  since: "2.6.0",
});

const OPEN_SLOT_REFUSALS = new Set(["ASK", "MOVED", "TRYAGAIN"]);

/**
 * Cluster mode's refusal of this MIGRATE (MOVED, CROSSSLOT, CLUSTERDOWN), or null. Dispatch
 * skips MIGRATE (`routesOwnKeys`), so the check is made here, before the arguments are parsed, as
 * Redis makes it before running the command; and as in Redis, a MIGRATE of keys in a slot being
 * migrated or imported always runs here.
 */
function misrouted(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): ErrorReply | null {
  const cluster = ctx.cluster;
  if (cluster === null || client.obeyed) return null;
  const positions = migrateKeyPositions(argv);
  if (positions.length === 0) return null;
  const keys = positions.map((i) => argv[i]);
  const refusal = clusterRefusal(cluster, client, PROBE, [argv[0], ...keys]);
  if (refusal === null || !OPEN_SLOT_REFUSALS.has(refusal.code)) return refusal;
  const state = cluster.state;
  const slot = keySlot(keys[0]);
  const migrating = state.owners[slot] === state.myself && state.migratingTo[slot] !== null;
  return migrating || state.importingFrom[slot] !== null ? null : refusal;
}

/** C's `atoi`: leading blanks, a sign, then digits up to the first other byte; 0 for none. */
function atoi(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 32 || (bytes[i] >= 9 && bytes[i] <= 13))) i++;
  const negative = bytes[i] === 45;
  if (negative || bytes[i] === 43) i++;
  let n = 0;
  for (; i < bytes.length && bytes[i] >= 48 && bytes[i] <= 57 && n < 2 ** 31; i++) {
    n = n * 10 + bytes[i] - 48;
  }
  return negative ? -n : n;
}

/** The text before a NUL byte, as C reads a string argument. */
function cText(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return fromUtf8(nul < 0 ? bytes : bytes.subarray(0, nul));
}

/** Parses MIGRATE's arguments with Redis's errors, in the order Redis checks them. */
function parse(ctx: ServerContext, argv: Uint8Array[]): MigrateRequest {
  let copy = false;
  let replace = false;
  let username: Uint8Array | null = null;
  let password: Uint8Array | null = null;
  let keys = [argv[3]];
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (isWord(argv[j], "copy")) copy = true;
    else if (isWord(argv[j], "replace")) replace = true;
    else if (isWord(argv[j], "auth")) {
      if (more < 1) throw new CommandError(SYNTAX_ERROR.message);
      password = argv[++j];
    } else if (isWord(argv[j], "auth2")) {
      if (more < 2) throw new CommandError(SYNTAX_ERROR.message);
      username = argv[++j];
      password = argv[++j];
    } else if (isWord(argv[j], "keys")) {
      if (argv[3].length !== 0) {
        throw new CommandError(
          "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
        );
      }
      keys = argv.slice(j + 1);
      break;
    } else throw new CommandError(SYNTAX_ERROR.message);
  }
  let timeoutMs = Number(intArg(argv[5]));
  const db = BigInt(intArg(argv[4]));
  if (timeoutMs <= 0) timeoutMs = 1000;
  const port = atoi(argv[2]);
  return {
    host: cText(argv[1]),
    // Redis hands the port to getaddrinfo as text: it refuses a negative one and keeps the low
    // 16 bits of a larger one.
    port: port < 0 ? -1 : port & 0xffff,
    name: `${toBinaryString(argv[1])}:${toBinaryString(argv[2])}`,
    db,
    timeoutMs: Math.min(timeoutMs, 2 ** 31 - 1),
    copy,
    replace,
    username: username?.slice() ?? null,
    password: password?.slice() ?? null,
    keys: keys.map((key) => key.slice()),
    asking: ctx.cluster !== null,
  };
}

const IN_EXEC = new ErrorReply(
  "ERR MIGRATE cannot run inside MULTI/EXEC here: it waits for the target without blocking",
);

function migrate(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const refusal = misrouted(ctx, client, argv);
  if (refusal !== null) return refusal;
  const request = parse(ctx, argv);
  if (inExec()) return IN_EXEC;
  // Nothing is written now: the DEL of the keys moved is propagated once the target answered.
  ctx.propagator.rewrite();
  const state = stateOf(ctx);
  const index = client.db;
  const reply = state.tail.then(() => runMigrate(ctx, client, state.links, request, index));
  state.tail = reply.catch(() => {});
  const counted = reply.then((r) => {
    if (r instanceof ErrorReply) {
      ctx.stats.countError(r);
      const cmd = ctx.commands.get("migrate");
      if (cmd !== undefined) cmd.failedCalls++;
    }
    return r;
  });
  return new DeferredReply(counted, IN_EXEC);
}

/** MIGRATE's declaration (arity, flags, key positions and docs as Redis 7.0 declares them). */
export const migrateCommands: readonly CommandDef[] = [
  {
    name: "migrate",
    arity: -6,
    flags: ["write", "movablekeys"],
    keys: { first: 3, last: 3, step: 1 },
    keysOf: getKeysPositions,
    routesOwnKeys: true,
    group: "generic",
    acl: ["@keyspace", "@dangerous"],
    summary: "Atomically transfer a key from a Redis instance to another one.",
    since: "2.6.0",
    complexity: "This command actually executes a DUMP+DEL in the source instance, and a " +
      "RESTORE in the target instance. See the pages of these commands for time complexity. " +
      "Also an O(N) data transfer between the two instances is performed.",
    handler: migrate,
  },
];
