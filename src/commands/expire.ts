/**
 * TTL commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX, XX, GT, LT), TTL, PTTL,
 * EXPIRETIME, PEXPIRETIME and PERSIST, with Redis 7.0's replies and error texts.
 */
import type { Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { asciiLower, toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import { NOTIFY_GENERIC, notifyKeyspaceEvent } from "../pubsub/keyspace_events.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import { cText, int64, keyCmd, ONE } from "./keys.ts";
import type { CommandDef, Handler } from "./registry.ts";
import { database, INT64_MAX, INT64_MIN, NOT_INTEGER } from "./_values.ts";

/**
 * EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT (Redis 7's `expireGenericCommand`): options first, then
 * the time with its overflow checks, then NX/XX/GT/LT against the current TTL (no TTL counts as
 * infinite). A time already past deletes the key and answers 1.
 */
function expireHandler(name: string, unitMs: 1 | 1000, absolute: boolean): Handler {
  const invalid = `ERR invalid expire time in '${name}' command`;
  return (ctx, client, argv) => {
    const t = now();
    let nx = false, xx = false, gt = false, lt = false;
    for (let i = 3; i < argv.length; i++) {
      const option = asciiLower(argv[i]);
      if (option === "nx") nx = true;
      else if (option === "xx") xx = true;
      else if (option === "gt") gt = true;
      else if (option === "lt") lt = true;
      else throw new CommandError(`ERR Unsupported option ${cText(argv[i])}`);
    }
    if (nx && (xx || gt || lt)) {
      throw new CommandError("ERR NX and XX, GT or LT options at the same time are not compatible");
    }
    if (gt && lt) {
      throw new CommandError("ERR GT and LT options at the same time are not compatible");
    }
    let when = int64(argv[2]);
    if (when === null) throw new CommandError(NOT_INTEGER);
    if (unitMs === 1000) {
      if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) throw new CommandError(invalid);
      when *= 1000n;
    }
    const base = absolute ? 0n : BigInt(t);
    if (when > INT64_MAX - base) throw new CommandError(invalid);
    const at = Number(when + base);
    const db = database(ctx, client);
    const key = toBinaryString(argv[1]);
    if (db.get(key, t) === undefined) return 0;
    const current = db.expireAt(key);
    if (nx && current !== undefined) return 0;
    if (xx && current === undefined) return 0;
    if (gt && (current === undefined || at <= current)) return 0;
    if (lt && current !== undefined && at >= current) return 0;
    if (at <= t) {
      db.delete(key);
      notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "del", key, client.db);
      ctx.propagator.rewrite(["DEL", argv[1]]);
    } else {
      db.setExpireAt(key, at);
      notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "expire", key, client.db);
      // As Redis: PEXPIREAT with the absolute time, the options kept.
      ctx.propagator.rewrite(["PEXPIREAT", argv[1], at, ...argv.slice(3)]);
    }
    return 1;
  };
}

/**
 * TTL, PTTL, EXPIRETIME and PEXPIRETIME: -2 for a missing key, -1 without a TTL. Seconds are
 * rounded to the nearest, as Redis does. Times past 2^53 ms lose precision (a JS number holds
 * them), which only the far-future times EXPIREAT accepts can reach.
 */
function ttlHandler(ms: boolean, absolute: boolean): Handler {
  return (ctx, client, argv) => {
    const t = now();
    const db = database(ctx, client);
    const key = toBinaryString(argv[1]);
    if (db.read(key, t, true) === undefined) return -2;
    const at = db.expireAt(key);
    if (at === undefined) return -1;
    const value = absolute ? at : Math.max(0, at - t);
    return ms ? value : Math.floor((value + 500) / 1000);
  };
}

function persist(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const db = database(ctx, client);
  const key = toBinaryString(argv[1]);
  if (db.get(key, now()) === undefined) return 0;
  if (!db.persist(key)) return 0;
  notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "persist", key, client.db);
  return 1;
}

/** TTL command declarations, with Redis 7.0's arity, flags, key positions and docs. */
export const expireCommands: readonly CommandDef[] = [
  keyCmd(
    "expire",
    -3,
    ["write", "fast"],
    ONE,
    "Set a key's time to live in seconds",
    "1.0.0",
    expireHandler("expire", 1000, false),
  ),
  keyCmd(
    "pexpire",
    -3,
    ["write", "fast"],
    ONE,
    "Set a key's time to live in milliseconds",
    "2.6.0",
    expireHandler("pexpire", 1, false),
  ),
  keyCmd(
    "expireat",
    -3,
    ["write", "fast"],
    ONE,
    "Set the expiration for a key as a UNIX timestamp",
    "1.2.0",
    expireHandler("expireat", 1000, true),
  ),
  keyCmd(
    "pexpireat",
    -3,
    ["write", "fast"],
    ONE,
    "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
    "2.6.0",
    expireHandler("pexpireat", 1, true),
  ),
  keyCmd(
    "ttl",
    2,
    ["readonly", "fast"],
    ONE,
    "Get the time to live for a key in seconds",
    "1.0.0",
    ttlHandler(false, false),
  ),
  keyCmd(
    "pttl",
    2,
    ["readonly", "fast"],
    ONE,
    "Get the time to live for a key in milliseconds",
    "2.6.0",
    ttlHandler(true, false),
  ),
  keyCmd(
    "expiretime",
    2,
    ["readonly", "fast"],
    ONE,
    "Get the expiration Unix timestamp for a key",
    "7.0.0",
    ttlHandler(false, true),
  ),
  keyCmd(
    "pexpiretime",
    2,
    ["readonly", "fast"],
    ONE,
    "Get the expiration Unix timestamp for a key in milliseconds",
    "7.0.0",
    ttlHandler(true, true),
  ),
  keyCmd(
    "persist",
    2,
    ["write", "fast"],
    ONE,
    "Remove the expiration from a key",
    "2.2.0",
    persist,
  ),
];
