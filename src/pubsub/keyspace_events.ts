/**
 * Keyspace notifications (Redis's notify.c): when `notify-keyspace-events` enables an event's
 * class, a change to a key publishes `__keyspace@<db>__:<key>` with the event name and
 * `__keyevent@<db>__:<event>` with the key, to this node's subscribers only (as Redis 7.0 does,
 * also in cluster mode). Commands call {@link notifyKeyspaceEvent} at the points Redis's
 * `t_*.c` call `notifyKeyspaceEvent`, with the same class and event name.
 */
import type { ServerContext } from "../commands/context.ts";
import { pubsubHub } from "./hub.ts";
import { fromBinaryString, toBinaryString } from "../util/bytes.ts";

/** `K`: publish on `__keyspace@<db>__:<key>`. */
export const NOTIFY_KEYSPACE = 1 << 0;
/** `E`: publish on `__keyevent@<db>__:<event>`. */
export const NOTIFY_KEYEVENT = 1 << 1;
/** `g`: generic commands (DEL, EXPIRE, RENAME, ...). */
export const NOTIFY_GENERIC = 1 << 2;
/** `$`: string commands. */
export const NOTIFY_STRING = 1 << 3;
/** `l`: list commands. */
export const NOTIFY_LIST = 1 << 4;
/** `s`: set commands. */
export const NOTIFY_SET = 1 << 5;
/** `h`: hash commands. */
export const NOTIFY_HASH = 1 << 6;
/** `z`: sorted set commands. */
export const NOTIFY_ZSET = 1 << 7;
/** `x`: expired keys. */
export const NOTIFY_EXPIRED = 1 << 8;
/** `e`: evicted keys. */
export const NOTIFY_EVICTED = 1 << 9;
/** `t`: stream commands. */
export const NOTIFY_STREAM = 1 << 10;
/** `m`: key misses (not included in `A`). */
export const NOTIFY_KEY_MISS = 1 << 11;
/** `d`: module key types. */
export const NOTIFY_MODULE = 1 << 12;
/** `n`: new keys (not included in `A`). */
export const NOTIFY_NEW = 1 << 13;
/** `A`: alias for `g$lshzxetd`. */
export const NOTIFY_ALL = NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET |
  NOTIFY_HASH | NOTIFY_ZSET | NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE;

/** The class characters, in the order Redis prints them (`m` goes after `K` and `E`). */
const CLASS_CHARS: readonly [string, number][] = [
  ["g", NOTIFY_GENERIC],
  ["$", NOTIFY_STRING],
  ["l", NOTIFY_LIST],
  ["s", NOTIFY_SET],
  ["h", NOTIFY_HASH],
  ["z", NOTIFY_ZSET],
  ["x", NOTIFY_EXPIRED],
  ["e", NOTIFY_EVICTED],
  ["t", NOTIFY_STREAM],
  ["d", NOTIFY_MODULE],
  ["n", NOTIFY_NEW],
  ["m", NOTIFY_KEY_MISS],
];

/**
 * The flags a `notify-keyspace-events` text stands for (Redis's keyspaceEventsStringToFlags),
 * or null when it holds a character Redis rejects.
 */
export function parseKeyspaceEvents(text: string): number | null {
  let flags = 0;
  for (const c of text) {
    if (c === "A") flags |= NOTIFY_ALL;
    else if (c === "K") flags |= NOTIFY_KEYSPACE;
    else if (c === "E") flags |= NOTIFY_KEYEVENT;
    else {
      const entry = CLASS_CHARS.find(([ch]) => ch === c);
      if (entry === undefined) return null;
      flags |= entry[1];
    }
  }
  return flags;
}

/** The canonical text of `flags`, as CONFIG GET prints it (Redis's keyspaceEventsFlagsToString). */
export function formatKeyspaceEvents(flags: number): string {
  let out = "";
  if ((flags & NOTIFY_ALL) === NOTIFY_ALL) out += "A";
  else {
    for (const [c, bit] of CLASS_CHARS) {
      if (bit !== NOTIFY_KEY_MISS && (flags & bit) !== 0) out += c;
    }
  }
  if (flags & NOTIFY_KEYSPACE) out += "K";
  if (flags & NOTIFY_KEYEVENT) out += "E";
  if (flags & NOTIFY_KEY_MISS) out += "m";
  return out;
}

/**
 * Publishes the notification of `event` (of class `type`, one of the NOTIFY_* bits) on `key`
 * (a binary string, or bytes) in database `db`, if the configuration enables it. Costs one config read
 * when notifications are off.
 */
export function notifyKeyspaceEvent(
  ctx: ServerContext,
  type: number,
  event: string,
  key: string | Uint8Array,
  db: number,
): void {
  const flags = ctx.config.values["notify-keyspace-events"];
  if ((flags & type) === 0) return;
  const hub = pubsubHub(ctx);
  const eventBytes = fromBinaryString(event);
  const keyBytes = typeof key === "string" ? fromBinaryString(key) : key;
  const keyText = typeof key === "string" ? key : toBinaryString(key);
  if (flags & NOTIFY_KEYSPACE) {
    hub.publish("channel", fromBinaryString(`__keyspace@${db}__:${keyText}`), eventBytes);
  }
  if (flags & NOTIFY_KEYEVENT) {
    hub.publish("channel", fromBinaryString(`__keyevent@${db}__:${event}`), keyBytes);
  }
}
