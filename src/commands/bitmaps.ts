/**
 * Bitmap commands on string values: SETBIT, GETBIT, BITCOUNT, BITPOS and BITOP, with Redis
 * 7.0's replies, error texts and order of checks (BITCOUNT and BITPOS look the key up before
 * reading their range, so a missing key answers 0 or -1 whatever follows). Bits are numbered
 * from the most significant bit of the first byte. SETBIT inside the value changes one byte in
 * place; only growing the value copies it.
 */
import type { Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import type { Database } from "../store/database.ts";
import { now } from "../util/clock.ts";
import { NOTIFY_GENERIC, NOTIFY_STRING, notifyKeyspaceEvent } from "../pubsub/keyspace_events.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import type { CommandDef } from "./registry.ts";
import { database, intArg, isWord, parseInt64Bytes, WRONGTYPE } from "./_values.ts";

const BAD_OFFSET = "ERR bit offset is not an integer or out of range";
const SYNTAX = "ERR syntax error";
/** Longest value V8 can turn into a string (see substrings.ts): SETBIT grows no further. */
const MAX_VALUE_BYTES = (1 << 29) - 24;

/** Redis's `getBitOffsetFromArgument`: a bit offset within `proto-max-bulk-len` bytes. */
function bitOffset(ctx: ServerContext, arg: Uint8Array): number {
  const n = parseInt64Bytes(arg);
  const limit = ctx.config.values["proto-max-bulk-len"];
  if (n === null || n < 0 || typeof n === "bigint" || Math.floor(n / 8) >= limit) {
    throw new CommandError(BAD_OFFSET);
  }
  return n;
}

/** The value bytes of a live key as a view of the store (valid until the next write), or null. */
function valueBytes(db: Database, id: number): Uint8Array | null {
  if (id < 0) return null;
  const table = db.table;
  if (table.objectOf(id) !== undefined) throw new CommandError(WRONGTYPE);
  const start = table.valueStart(id);
  return table.arena.subarray(start, start + table.valueLength(id));
}

function setbit(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const offset = bitOffset(ctx, argv[2]);
  const on = parseInt64Bytes(argv[3]);
  if (on !== 0 && on !== 1) throw new CommandError("ERR bit is not an integer or out of range");
  const db = database(ctx, client);
  const key = argv[1];
  const t = now();
  const id = db.find(key, 0, key.length, t);
  const value = valueBytes(db, id);
  const index = Math.floor(offset / 8);
  const mask = 0x80 >> (offset & 7);
  if (value !== null && index < value.length) {
    const old = value[index];
    const byte = on ? old | mask : old & ~mask;
    // As in Redis 7.0, a bit set to what it was is no write: nothing touched or propagated.
    if (byte !== old) {
      db.setValueByte(id, index, byte, t);
      notifyKeyspaceEvent(ctx, NOTIFY_STRING, "setbit", key, client.db);
    }
    return (old & mask) !== 0 ? 1 : 0;
  }
  // Past the end (or no key): the value grows with zero bytes, as Redis pads it, up to the
  // longest value gocache can read back as a string.
  if (index >= MAX_VALUE_BYTES) {
    throw new CommandError("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
  }
  const grown = new Uint8Array(index + 1);
  if (value !== null) grown.set(value);
  if (on) grown[index] = mask;
  if (id >= 0) db.setValueAt(id, grown, 0, grown.length, true, t);
  else db.setBytes(key, 0, key.length, grown, 0, grown.length, false, t);
  notifyKeyspaceEvent(ctx, NOTIFY_STRING, "setbit", key, client.db);
  return 0;
}

function getbit(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const offset = bitOffset(ctx, argv[2]);
  const db = database(ctx, client);
  const key = argv[1];
  const value = valueBytes(db, db.readId(key, 0, key.length, now(), client.noTouch));
  const index = Math.floor(offset / 8);
  if (value === null || index >= value.length) return 0;
  return (value[index] & (0x80 >> (offset & 7))) !== 0 ? 1 : 0;
}

/** Whether a BITCOUNT / BITPOS unit argument (absent: BYTE) says BIT, else Redis's syntax error. */
function inBits(unit: Uint8Array | undefined): boolean {
  if (unit === undefined || isWord(unit, "byte")) return false;
  if (isWord(unit, "bit")) return true;
  throw new CommandError(SYNTAX);
}

/**
 * A BITCOUNT / BITPOS range as Redis normalizes it, in bits: negative ends count from the end
 * (`end` null: the last byte), both are clamped into the value; `first > last` is empty.
 */
function bitRange(
  length: number,
  start: number,
  end: number | null,
  isBit: boolean,
): { first: number; last: number } {
  if (end === null) end = length - 1;
  const total = isBit ? length * 8 : length;
  if (start < 0) start += total;
  if (end < 0) end += total;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= total) end = total - 1;
  return isBit ? { first: start, last: end } : { first: start * 8, last: end * 8 + 7 };
}

/** Set bits in `value` between bit positions `first` and `last`, inclusive. */
function countBits(value: Uint8Array, first: number, last: number): number {
  let count = 0;
  for (let bit = first; bit <= last && (bit & 7) !== 0; bit++) {
    if (value[bit >> 3] & (0x80 >> (bit & 7))) count++;
    first = bit + 1;
  }
  let byte = first >> 3;
  const lastFull = (last + 1) >> 3;
  for (; byte < lastFull; byte++) count += POPCOUNT[value[byte]];
  for (let bit = Math.max(first, lastFull * 8); bit <= last; bit++) {
    if (value[bit >> 3] & (0x80 >> (bit & 7))) count++;
  }
  return count;
}

/** Set bits of every byte value. */
const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let v = b; v !== 0; v &= v - 1) n++;
  return n;
});

function bitcount(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const db = database(ctx, client);
  const key = argv[1];
  const value = valueBytes(db, db.readId(key, 0, key.length, now(), client.noTouch));
  if (value === null) return 0;
  let first = 0;
  let last = value.length * 8 - 1;
  if (argv.length === 4 || argv.length === 5) {
    // Redis answers 0 for two negative ends in the wrong order before reading the unit.
    const start = Number(intArg(argv[2]));
    const end = Number(intArg(argv[3]));
    if (start < 0 && end < 0 && start > end) return 0;
    ({ first, last } = bitRange(value.length, start, end, inBits(argv[4])));
  } else if (argv.length !== 2) throw new CommandError(SYNTAX);
  return first > last ? 0 : countBits(value, first, last);
}

function bitpos(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const bit = intArg(argv[2]);
  if (bit !== 0 && bit !== 1) throw new CommandError("ERR The bit argument must be 1 or 0.");
  const db = database(ctx, client);
  const key = argv[1];
  const value = valueBytes(db, db.readId(key, 0, key.length, now(), client.noTouch));
  // A missing key is an endless run of zeros.
  if (value === null) return bit ? -1 : 0;
  if (argv.length > 6) throw new CommandError(SYNTAX);
  let first = 0;
  let last = value.length * 8 - 1;
  const endGiven = argv.length >= 5;
  if (argv.length >= 4) {
    // Redis's order: the start, the unit, then the end.
    const start = Number(intArg(argv[3]));
    const isBit = inBits(argv[5]);
    const end = endGiven ? Number(intArg(argv[4])) : null;
    ({ first, last } = bitRange(value.length, start, end, isBit));
  }
  if (first > last) return -1;
  const skip = bit ? 0x00 : 0xff;
  for (let b = first; b <= last;) {
    // Whole bytes without the bit sought are passed over at once.
    if ((b & 7) === 0 && b + 7 <= last && value[b >> 3] === skip) {
      b += 8;
      continue;
    }
    if (((value[b >> 3] >> (7 - (b & 7))) & 1) === bit) return b;
    b++;
  }
  // No clear bit in range: without an explicit end the string counts as padded with zeros.
  return bit === 0 && !endGiven ? last + 1 : -1;
}

/** BITOP's operations, by the index bitop() works with. */
const BITOPS = ["and", "or", "xor", "not"];

function bitop(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const kind = BITOPS.findIndex((name) => isWord(argv[1], name));
  if (kind < 0) throw new CommandError(SYNTAX);
  if (kind === 3 && argv.length !== 4) {
    throw new CommandError("ERR BITOP NOT must be called with a single source key.");
  }
  const db = database(ctx, client);
  const t = now();
  const sources: (Uint8Array | null)[] = [];
  let longest = 0;
  for (let i = 3; i < argv.length; i++) {
    const value = valueBytes(db, db.readId(argv[i], 0, argv[i].length, t, client.noTouch));
    // Copied: the views would not survive the write below.
    sources.push(value === null ? null : value.slice());
    if (value !== null && value.length > longest) longest = value.length;
  }
  const dest = argv[2];
  if (longest === 0) {
    const id = db.find(dest, 0, dest.length, t);
    if (id >= 0) {
      db.deleteId(id);
      notifyKeyspaceEvent(ctx, NOTIFY_GENERIC, "del", dest, client.db);
    }
    return 0;
  }
  // The first source, then each other one folded in (a missing or shorter one as zeros).
  const result = new Uint8Array(longest);
  if (sources[0] !== null) result.set(sources[0]);
  if (kind === 3) {
    for (let i = 0; i < longest; i++) result[i] = ~result[i];
  }
  for (let s = 1; s < sources.length; s++) {
    const other = sources[s] ?? EMPTY;
    const n = other.length;
    if (kind === 0) {
      for (let i = 0; i < n; i++) result[i] &= other[i];
      result.fill(0, n);
    } else if (kind === 1) {
      for (let i = 0; i < n; i++) result[i] |= other[i];
    } else {
      for (let i = 0; i < n; i++) result[i] ^= other[i];
    }
  }
  db.setBytes(dest, 0, dest.length, result, 0, result.length, false, t);
  notifyKeyspaceEvent(ctx, NOTIFY_STRING, "set", dest, client.db);
  return longest;
}

const EMPTY = new Uint8Array(0);
const ONE_KEY = { first: 1, last: 1, step: 1 };

/** Bitmap command declarations (arity, flags and key positions as Redis 7.0 declares them). */
export const bitmapCommands: readonly CommandDef[] = [
  {
    name: "setbit",
    arity: 4,
    flags: ["write", "denyoom"],
    keys: ONE_KEY,
    group: "bitmap",
    summary: "Sets or clears the bit at offset in the string value stored at key",
    since: "2.2.0",
    complexity: "O(1)",
    handler: setbit,
  },
  {
    name: "getbit",
    arity: 3,
    flags: ["readonly", "fast"],
    keys: ONE_KEY,
    group: "bitmap",
    summary: "Returns the bit value at offset in the string value stored at key",
    since: "2.2.0",
    complexity: "O(1)",
    handler: getbit,
  },
  {
    name: "bitcount",
    arity: -2,
    flags: ["readonly"],
    keys: ONE_KEY,
    group: "bitmap",
    summary: "Count set bits in a string",
    since: "2.6.0",
    complexity: "O(N)",
    handler: bitcount,
  },
  {
    name: "bitpos",
    arity: -3,
    flags: ["readonly"],
    keys: ONE_KEY,
    group: "bitmap",
    summary: "Find first bit set or clear in a string",
    since: "2.8.7",
    complexity: "O(N)",
    handler: bitpos,
  },
  {
    name: "bitop",
    arity: -4,
    flags: ["write", "denyoom"],
    keys: { first: 2, last: -1, step: 1 },
    group: "bitmap",
    summary: "Perform bitwise operations between strings",
    since: "2.6.0",
    complexity: "O(N)",
    handler: bitop,
  },
];
