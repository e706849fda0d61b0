/**
 * DUMP and RESTORE: a value serialized in Redis's format (../persistence/rdb/dump.ts), so that
 * keys move between gocache and redis-server in either direction (MIGRATE, copies between
 * instances). Replies and error texts are Redis 7.0's; RESTORE (and RESTORE-ASKING, the form
 * MIGRATE sends in cluster mode) is propagated as a SET with an absolute expiry, the
 * deterministic form the AOF and followers need.
 */
import { OK, type Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { DumpPayloadError, dumpValue, restoreValue } from "../persistence/rdb/dump.ts";
import type { CollectionValue } from "../store/collection.ts";
import { toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import { NOTIFY_GENERIC, notifyKeyspaceEvent } from "../pubsub/keyspace_events.ts";
import type { ServerContext } from "./context.ts";
import { CommandError, SYNTAX_ERROR } from "./errors.ts";
import type { CommandDef } from "./registry.ts";
import { ONE } from "./keys.ts";
import { database, INT64_MAX, intArg, isWord } from "./_values.ts";

const BUSYKEY = "BUSYKEY Target key name already exists.";

const RESTORE_COMPLEXITY = "O(1) to create the new key and additional O(N*M) to reconstruct " +
  "the serialized value, where N is the number of Redis objects composing the value and M their " +
  "average size. For small string values the time complexity is thus O(1)+O(1*M) where M is " +
  "small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) " +
  "because inserting values into sorted sets is O(log(N)).";

function dump(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const value = database(ctx, client).read(toBinaryString(argv[1]), now(), client.noTouch);
  if (value === undefined) return null;
  const compression = ctx.config.values.rdbcompression;
  return dumpValue(value, compression);
}

/** A non-negative integer option value, or Redis's error naming the option. */
function hint(arg: Uint8Array, max: number, error: string): number {
  const n = Number(intArg(arg));
  if (n < 0 || n > max) throw new CommandError(error);
  return n;
}

function restore(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  let replace = false;
  let absolute = false;
  let idleSeconds = -1;
  let frequency = -1;
  for (let i = 4; i < argv.length; i++) {
    const more = argv.length - i - 1;
    if (isWord(argv[i], "replace")) replace = true;
    else if (isWord(argv[i], "absttl")) absolute = true;
    else if (isWord(argv[i], "idletime") && more >= 1 && frequency === -1) {
      idleSeconds = hint(argv[++i], Infinity, "ERR Invalid IDLETIME value, must be >= 0");
    } else if (isWord(argv[i], "freq") && more >= 1 && idleSeconds === -1) {
      frequency = hint(argv[++i], 255, "ERR Invalid FREQ value, must be >= 0 and <= 255");
    } else throw new CommandError(SYNTAX_ERROR.message);
  }
  const db = database(ctx, client);
  const key = toBinaryString(argv[1]);
  const t = now();
  if (!replace && db.has(key, t)) throw new CommandError(BUSYKEY);
  const ttl = intArg(argv[2]);
  if (ttl < 0) throw new CommandError("ERR Invalid TTL value, must be >= 0");
  let value: Uint8Array | CollectionValue;
  try {
    value = restoreValue(argv[3], ctx.config.values["proto-max-bulk-len"]);
  } catch (e) {
    if (!(e instanceof DumpPayloadError)) throw e;
    throw new CommandError(
      e.kind === "footer"
        ? "ERR DUMP payload version or checksum are wrong"
        : "ERR Bad data format",
    );
  }
  const deleted = replace && db.delete(key);
  // Redis adds now to a relative TTL in 64 bits: a sum past the range wraps negative there and
  // counts as already expired. A follower keeps the key whatever its own clock says, as Redis's
  // replicas do: its leader decides when the key expires.
  // intArg gives a bigint only beyond 2^53, so a zero TTL is the number 0.
  const at = ttl === 0 ? 0n : absolute ? BigInt(ttl) : BigInt(ttl) + BigInt(t);
  const expired = at !== 0n && (at > INT64_MAX || at <= BigInt(t));
  if (expired && ctx.replication.follower === null) {
    ctx.propagator.rewrite(...(deleted ? [["DEL", argv[1]]] : []));
    return OK;
  }
  const expireAt = Number(at);
  if (value instanceof Uint8Array) {
    // A string goes into the store from the payload's bytes, with no string made of them.
    const id = db.setBytes(argv[1], 0, argv[1].length, value, 0, value.length, false, t);
    if (expireAt !== 0) db.setExpireAtId(id, expireAt);
  } else {
    db.set(key, value, false, t);
    if (expireAt !== 0) db.setExpireAt(key, expireAt);
  }
  db.setAccessHint(key, idleSeconds, frequency, t);
  notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "restore", key, client.db);
  // The eviction hints (IDLETIME, FREQ) stay on this node: followers and the AOF get the key
  // and its expiry only: a string as SET, a collection as this RESTORE with an absolute TTL
  // (Redis's own rewrite), replacing whatever the key held.
  if (value instanceof Uint8Array) {
    ctx.propagator.rewrite(["SET", argv[1], value, ...(expireAt !== 0 ? ["PXAT", expireAt] : [])]);
  } else {
    ctx.propagator.rewrite(["RESTORE", argv[1], String(expireAt), argv[3], "ABSTTL", "REPLACE"]);
  }
  return OK;
}

/**
 * DUMP, RESTORE and RESTORE-ASKING declarations (arity, flags and key positions as Redis 7.0
 * declares them).
 */
export const dumpCommands: readonly CommandDef[] = [
  {
    name: "dump",
    arity: 2,
    flags: ["readonly"],
    keys: ONE,
    group: "generic",
    summary: "Return a serialized version of the value stored at the specified key.",
    since: "2.6.0",
    complexity: "O(1) to access the key and additional O(N*M) to serialize it, where N is the " +
      "number of Redis objects composing the value and M their average size. For small string " +
      "values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
    handler: dump,
  },
  {
    name: "restore",
    arity: -4,
    flags: ["write", "denyoom"],
    keys: ONE,
    group: "generic",
    acl: ["@keyspace", "@dangerous"],
    summary: "Create a key using the provided serialized value, previously obtained using DUMP.",
    since: "2.6.0",
    complexity: RESTORE_COMPLEXITY,
    handler: restore,
  },
  {
    // RESTORE as MIGRATE sends it in cluster mode: its `asking` flag lets it into a slot this
    // node imports without a preceding ASKING (see cluster/redirect.ts).
    name: "restore-asking",
    arity: -4,
    flags: ["write", "denyoom", "asking"],
    keys: ONE,
    group: "server",
    acl: ["@keyspace", "@dangerous"],
    summary: "An internal command for migrating keys in a cluster",
    since: "3.0.0",
    complexity: RESTORE_COMPLEXITY,
    handler: restore,
  },
];
