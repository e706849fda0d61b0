/**
 * OBJECT (ENCODING, FREQ, IDLETIME, REFCOUNT, HELP) and MEMORY (USAGE, STATS, HELP): what the
 * keyspace holds and what it costs, per key and overall, by the model in src/store/memory.ts.
 */
import { MapReply, OK, type Reply, SimpleString, VerbatimReply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import type { Database, StoredValue } from "../store/database.ts";
import { ENTRY_OVERHEAD, entryBytes, TTL_OVERHEAD } from "../store/memory.ts";
import { asciiLower, toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import type { CommandDef, Handler } from "./registry.ts";
import { encodingOf, int64 } from "./keys.ts";
import { database, NOT_INTEGER } from "./_values.ts";

const O1 = "O(1)";
/** Redis's OBJ_SHARED_REFCOUNT: the refcount of shared integer objects (0..9999). */
const SHARED_REFCOUNT = 2147483647;
const SUB_KEY = { first: 2, last: 2, step: 1 };

function objectSub(name: string, summary: string, since: string, handler: Handler): CommandDef {
  return {
    name,
    arity: 3,
    flags: ["readonly"],
    keys: SUB_KEY,
    group: "generic",
    summary,
    since,
    complexity: O1,
    handler,
  };
}

/** OBJECT subcommands look the key up as Redis's `objectCommandLookup`: nil when missing. */
function objectValue(ctx: ServerContext, client: ClientState, argv: Uint8Array[]) {
  return database(ctx, client).read(toBinaryString(argv[2]), now(), true);
}

/** Whether the eviction policy tracks access frequency (allkeys-lfu, volatile-lfu). */
function lfuPolicy(ctx: ServerContext): boolean {
  return ctx.keyspace.eviction.policy.endsWith("-lfu");
}

const SWITCHING =
  "Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

/** OBJECT FREQ: the key's LFU counter, which exists only under an LFU policy. */
function objectFreq(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  if (objectValue(ctx, client, argv) === undefined) return null;
  if (!lfuPolicy(ctx)) {
    throw new CommandError(
      `ERR An LFU maxmemory policy is not selected, access frequency not tracked. ${SWITCHING}`,
    );
  }
  return database(ctx, client).frequency(toBinaryString(argv[2]), now()) ?? 0;
}

/**
 * OBJECT IDLETIME: whole seconds since the key was last read or written (a NO-TOUCH client's
 * reads and OBJECT itself do not count); under an LFU policy it is refused as in Redis.
 */
function objectIdletime(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  if (objectValue(ctx, client, argv) === undefined) return null;
  if (lfuPolicy(ctx)) {
    throw new CommandError(
      `ERR An LFU maxmemory policy is selected, idle time not tracked. ${SWITCHING}`,
    );
  }
  const idle = database(ctx, client).idleMs(toBinaryString(argv[2]), now()) ?? 0;
  return Math.floor(idle / 1000);
}

const status = (text: string): SimpleString => new SimpleString(text);

const OBJECT_HELP = [
  "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "ENCODING <key>",
  "    Return the kind of internal representation used in order to store the value",
  "    associated with a <key>.",
  "FREQ <key>",
  "    Return the access frequency index of the <key>. The returned integer is",
  "    proportional to the logarithm of the recent access frequency of the key.",
  "IDLETIME <key>",
  "    Return the idle time of the <key>, that is the approximated number of",
  "    seconds elapsed since the last access to the key.",
  "REFCOUNT <key>",
  "    Return the number of references of the value associated with the specified",
  "    <key>.",
  "HELP",
  "    Prints this help.",
].map(status);

const MEMORY_HELP = [
  "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "DOCTOR",
  "    Return memory problems reports.",
  "MALLOC-STATS",
  "    Return internal statistics report from the memory allocator.",
  "PURGE",
  "    Attempt to purge dirty pages for reclamation by the allocator.",
  "STATS",
  "    Return information about the memory usage of the server.",
  "USAGE <key> [SAMPLES <count>]",
  "    Return memory in bytes used by <key> and its value. Nested values are",
  "    sampled up to <count> times (default: 5, 0 means sample all).",
  "HELP",
  "    Prints this help.",
].map(status);

/** Below this dataset size Redis's memory doctor declines to diagnose anything. */
const DOCTOR_MIN_BYTES = 5 * 1024 * 1024;

/**
 * MEMORY DOCTOR with Redis's texts. Redis's detectors look at allocator fragmentation, peak
 * memory and client buffers; gocache's store has no allocator fragmentation of that kind and
 * limits client buffers itself, so beyond Redis's "too little data" answer it reports no issue.
 */
function memoryDoctor(ctx: ServerContext): Reply {
  if (ctx.keyspace.datasetBytes < DOCTOR_MIN_BYTES) {
    return new VerbatimReply(
      "Hi Sam, this instance is empty or is using very little memory, my issues detector can't " +
        "be used in these conditions. Please, leave for your mission on Earth and fill it with " +
        "some data. The new Sam and I will be back to our programming as soon as I finished " +
        "rebooting.\n",
    );
  }
  return new VerbatimReply(
    "Hi Sam, I can't find any memory issue in your instance. I can only account for what " +
      "occurs on this base.\n",
  );
}

/**
 * MEMORY USAGE's figure for one key: the store's own memory model (see `store/memory.ts`), i.e.
 * its arena block (key, value, header), its record and bucket slot, and its TTL slot if it has
 * one: the same figures `used_memory` and maxmemory add up. It describes gocache's layout, so it
 * is not comparable byte for byte with Redis's allocator figure. A collection adds the bytes it
 * accounts for itself (collection.ts).
 */
export function keyUsage(db: Database, key: string, value: StoredValue): number {
  const ttl = db.expireAt(key) === undefined ? 0 : TTL_OVERHEAD;
  if (typeof value === "string") return entryBytes(key, value) + ttl;
  return entryBytes(key, "") + value.bytes + ttl;
}

function memoryUsage(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  for (let i = 3; i < argv.length; i++) {
    if (asciiLower(argv[i]) === "samples" && i + 1 < argv.length) {
      const n = int64(argv[++i]);
      if (n === null) throw new CommandError(NOT_INTEGER);
      if (n < 0n) throw new CommandError("ERR syntax error");
    } else throw new CommandError("ERR syntax error");
  }
  const db = database(ctx, client);
  const key = toBinaryString(argv[2]);
  const value = db.get(key, now());
  return value === undefined ? null : keyUsage(db, key, value);
}

/**
 * MEMORY STATS, reduced to what gocache knows, under Redis's field names: `used_memory` as
 * total.allocated, the heap before any key as startup.allocated, the dataset estimate, per
 * database the cost of its records and bucket slots (keys and values excluded) and of its TTLs,
 * and the key count. Redis's allocator
 * figures (fragmentation, peak, rss ratios) have no equivalent here and are left out.
 */
function memoryStats(ctx: ServerContext): Reply {
  const ks = ctx.keyspace;
  const total = ks.usedMemory;
  const fields: Reply[] = ["total.allocated", total, "startup.allocated", ks.baselineBytes];
  for (const db of ks.all()) {
    if (db.size === 0) continue;
    fields.push(
      `db.${db.index}`,
      new MapReply([
        "overhead.hashtable.main",
        db.size * ENTRY_OVERHEAD,
        "overhead.hashtable.expires",
        db.volatileCount * TTL_OVERHEAD,
      ]),
    );
  }
  const keyCount = ks.totalKeys;
  fields.push(
    "keys.count",
    keyCount,
    "keys.bytes-per-key",
    keyCount === 0 ? 0 : Math.floor(ks.datasetBytes / keyCount),
    "dataset.bytes",
    ks.datasetBytes,
  );
  return new MapReply(fields);
}

/** OBJECT and MEMORY declarations, with Redis 7.0's arity, flags, key positions and docs. */
export const introspectionCommands: readonly CommandDef[] = [
  {
    name: "object",
    arity: -2,
    flags: [],
    group: "generic",
    acl: [],
    summary: "A container for object introspection commands",
    since: "2.2.3",
    complexity: "Depends on subcommand.",
    subcommands: [
      objectSub(
        "encoding",
        "Inspect the internal encoding of a Redis object",
        "2.2.3",
        (ctx, client, argv) => {
          const value = objectValue(ctx, client, argv);
          return value === undefined ? null : encodingOf(value);
        },
      ),
      objectSub(
        "freq",
        "Get the logarithmic access frequency counter of a Redis object",
        "4.0.0",
        objectFreq,
      ),
      objectSub(
        "idletime",
        "Get the time since a Redis object was last accessed",
        "2.2.3",
        objectIdletime,
      ),
      // Redis shares the integer objects 0..9999 (refcount INT_MAX) unless a maxmemory limit
      // with an LRU or LFU policy needs per-key access data.
      objectSub(
        "refcount",
        "Get the number of references to the value of the key",
        "2.2.3",
        (ctx, client, argv) => {
          const value = objectValue(ctx, client, argv);
          if (value === undefined) return null;
          const { maxmemory, policy } = ctx.keyspace.eviction;
          const shared = maxmemory === 0 || !/-l[rf]u$/.test(policy);
          const n = encodingOf(value) === "int" ? Number(value) : -1;
          return shared && n >= 0 && n < 10000 ? SHARED_REFCOUNT : 1;
        },
      ),
      {
        name: "help",
        arity: 2,
        flags: ["loading", "stale"],
        group: "generic",
        summary: "Show helpful text about the different subcommands",
        since: "6.2.0",
        complexity: O1,
        handler: () => OBJECT_HELP,
      },
    ],
  },
  {
    name: "memory",
    arity: -2,
    flags: [],
    group: "server",
    acl: [],
    summary: "A container for memory diagnostics commands",
    since: "4.0.0",
    complexity: "Depends on subcommand.",
    subcommands: [
      {
        name: "usage",
        arity: -3,
        flags: ["readonly"],
        keys: SUB_KEY,
        group: "server",
        acl: [],
        summary: "Estimate the memory usage of a key",
        since: "4.0.0",
        complexity: "O(N) where N is the number of samples.",
        handler: memoryUsage,
      },
      {
        name: "doctor",
        arity: 2,
        flags: [],
        group: "server",
        acl: [],
        summary: "Outputs a memory problems report",
        since: "4.0.0",
        complexity: O1,
        handler: memoryDoctor,
      },
      {
        name: "malloc-stats",
        arity: 2,
        flags: [],
        group: "server",
        acl: [],
        summary: "Show allocator internal stats",
        since: "4.0.0",
        complexity: "Depends on how much memory is allocated, could be slow",
        // Redis's answer when built without jemalloc: V8 and the store's arena are not one.
        handler: () => new VerbatimReply("Stats not supported for the current allocator"),
      },
      {
        name: "purge",
        arity: 2,
        flags: [],
        group: "server",
        acl: [],
        summary: "Ask the allocator to release memory",
        since: "4.0.0",
        complexity: "Depends on how much memory is allocated, could be slow",
        // Freed arena blocks are reused by the store, not returned; as Redis without jemalloc.
        handler: () => OK,
      },
      {
        name: "stats",
        arity: 2,
        flags: [],
        group: "server",
        acl: [],
        summary: "Show memory usage details",
        since: "4.0.0",
        complexity: O1,
        handler: memoryStats,
      },
      {
        name: "help",
        arity: 2,
        flags: ["loading", "stale"],
        group: "server",
        acl: [],
        summary: "Show helpful text about the different subcommands",
        since: "4.0.0",
        complexity: O1,
        handler: () => MEMORY_HELP,
      },
    ],
  },
];
