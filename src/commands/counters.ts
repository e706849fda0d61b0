/**
 * The counters: INCR, DECR, INCRBY, DECRBY (exact over the signed 64-bit range, parsed and
 * written in place in the store's bytes) and INCRBYFLOAT (Redis's long double arithmetic).
 * Each keeps the key's TTL, as Redis does.
 */
import type { Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { ByteBuffer, toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import { addLongDouble, formatLongDouble, LD_ZERO, parseLongDouble } from "../util/long_double.ts";
import { NOTIFY_STRING, notifyKeyspaceEvent } from "../pubsub/keyspace_events.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import type { CommandDef } from "./registry.ts";
import {
  database,
  INT64_MAX,
  INT64_MIN,
  intArg,
  NOT_INTEGER,
  parseInt64Bytes,
  stringValue,
  WRONGTYPE,
} from "./_values.ts";

const NOT_FLOAT = "ERR value is not a valid float";
const ONE_KEY = { first: 1, last: 1, step: 1 };

/**
 * Redis's `incrDecrCommand`: adds `incr` to the integer stored at the key (0 when missing),
 * exactly over the signed 64-bit range, keeping the key's TTL.
 */
function incrDecr(
  ctx: ServerContext,
  client: ClientState,
  keyArg: Uint8Array,
  incr: number | bigint,
): Reply {
  const db = database(ctx, client);
  const t = now();
  const id = db.find(keyArg, 0, keyArg.length, t);
  let value: number | bigint | null = 0;
  if (id >= 0) {
    if (db.table.objectOf(id) !== undefined) throw new CommandError(WRONGTYPE);
    const start = db.table.valueStart(id);
    value = parseInt64Bytes(db.table.arena, start, start + db.table.valueLength(id));
  }
  if (value === null) throw new CommandError(NOT_INTEGER);
  let result: number | bigint;
  if (typeof value === "number" && typeof incr === "number") {
    result = value + incr;
    if (!Number.isSafeInteger(result)) result = checkedAdd(BigInt(value), BigInt(incr));
  } else result = checkedAdd(BigInt(value), BigInt(incr));
  const digits = counterDigits;
  digits.reset();
  if (typeof result === "number") digits.pushInt(result);
  else digits.pushAscii(String(result));
  if (id >= 0) db.setValueAt(id, digits.bytes, 0, digits.length, true, t);
  else db.setBytes(keyArg, 0, keyArg.length, digits.bytes, 0, digits.length, true, t);
  notifyKeyspaceEvent(ctx, NOTIFY_STRING, "incrby", keyArg, client.db);
  return result;
}

/** Reused buffer for the decimal digits a counter command stores. */
const counterDigits = new ByteBuffer(32);

/** `a + b` over int64, or Redis's overflow error; a number again when it fits one exactly. */
function checkedAdd(a: bigint, b: bigint): number | bigint {
  const sum = a + b;
  if (sum > INT64_MAX || sum < INT64_MIN) {
    throw new CommandError("ERR increment or decrement would overflow");
  }
  const n = Number(sum);
  return Number.isSafeInteger(n) ? n : sum;
}

function incrby(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  return incrDecr(ctx, client, argv[1], intArg(argv[2]));
}

function decrby(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const incr = intArg(argv[2]);
  if (incr === INT64_MIN) throw new CommandError("ERR decrement would overflow");
  return incrDecr(ctx, client, argv[1], -incr);
}

function incrbyfloat(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const db = database(ctx, client);
  const key = toBinaryString(argv[1]);
  const t = now();
  const current = stringValue(db.get(key, t));
  const value = current === undefined ? LD_ZERO : parseLongDouble(current);
  const incr = value === null ? null : parseLongDouble(toBinaryString(argv[2]));
  if (value === null || incr === null) throw new CommandError(NOT_FLOAT);
  const sum = value === "infinite" || incr === "infinite" ? null : addLongDouble(value, incr);
  if (sum === null || sum === "infinite") {
    throw new CommandError("ERR increment would produce NaN or Infinity");
  }
  const text = formatLongDouble(sum);
  db.set(key, text, true, t);
  notifyKeyspaceEvent(ctx, NOTIFY_STRING, "incrbyfloat", key, client.db);
  // Replaying the addition could round differently: propagate the result.
  ctx.propagator.rewrite(["SET", argv[1], text, "KEEPTTL"]);
  return text;
}

/** Counter command declarations (arity, flags and key positions as Redis 7.0 declares them). */
export const counterCommands: readonly CommandDef[] = [
  {
    name: "incr",
    arity: 2,
    flags: ["write", "denyoom", "fast"],
    keys: ONE_KEY,
    group: "string",
    summary: "Increment the integer value of a key by one",
    since: "1.0.0",
    complexity: "O(1)",
    handler: (ctx, client, argv) => incrDecr(ctx, client, argv[1], 1),
  },
  {
    name: "decr",
    arity: 2,
    flags: ["write", "denyoom", "fast"],
    keys: ONE_KEY,
    group: "string",
    summary: "Decrement the integer value of a key by one",
    since: "1.0.0",
    complexity: "O(1)",
    handler: (ctx, client, argv) => incrDecr(ctx, client, argv[1], -1),
  },
  {
    name: "incrby",
    arity: 3,
    flags: ["write", "denyoom", "fast"],
    keys: ONE_KEY,
    group: "string",
    summary: "Increment the integer value of a key by the given amount",
    since: "1.0.0",
    complexity: "O(1)",
    handler: incrby,
  },
  {
    name: "decrby",
    arity: 3,
    flags: ["write", "denyoom", "fast"],
    keys: ONE_KEY,
    group: "string",
    summary: "Decrement the integer value of a key by the given number",
    since: "1.0.0",
    complexity: "O(1)",
    handler: decrby,
  },
  {
    name: "incrbyfloat",
    arity: 3,
    flags: ["write", "denyoom", "fast"],
    keys: ONE_KEY,
    group: "string",
    summary: "Increment the float value of a key by the given amount",
    since: "2.6.0",
    complexity: "O(1)",
    handler: incrbyfloat,
  },
];
