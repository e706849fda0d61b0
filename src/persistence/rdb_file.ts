/**
 * The keyspace to and from an RDB file (`dir/dbfilename`). Saving writes a point-in-time
 * snapshot (see store/snapshot.ts) through the RDB writer to a temporary file, a slice at a
 * time for BGSAVE or all at once for SAVE, then syncs it and renames it over the old dump (and
 * syncs the directory), so the dump on disk is always a complete one. Loading reads a file
 * written by gocache or by redis-server; keys already expired are skipped, as a Redis master
 * does, and a damaged file fails with the reader's `RdbError` before anything is served.
 */
import type { Keyspace } from "../store/keyspace.ts";
import { Snapshot, type SnapshotEntry } from "../store/snapshot.ts";
import { REDIS_COMPAT_VERSION } from "../version.ts";
import { directoryOf, syncDirectory, syncDirectorySync } from "./atomic_file.ts";
import { type RdbSource, RdbWriter, readRdb } from "./rdb/mod.ts";
import { toBinaryString } from "../util/bytes.ts";
import { ByteBuffer } from "../util/bytes.ts";
import { nextTurn } from "../util/event_loop.ts";
import { monotonicMs } from "../util/clock.ts";

/** Milliseconds of walking per event-loop turn in a background save. */
const SLICE_MS = 4;
/**
 * Milliseconds of loading between two event-loop turns: the load gives other work (the
 * metrics endpoint answering `/readyz` 503, signals) a turn this often.
 */
export const LOAD_SLICE_MS = 20;

/** How a dump is written. */
export interface RdbSaveOptions {
  /** LZF-compress long strings (`rdbcompression`). */
  compression: boolean;
  /** Append a CRC64 (`rdbchecksum`). */
  checksum: boolean;
  /** Value of the `aof-base` AUX field: whether the file is an AOF's base. */
  aofBase?: boolean;
  /** More AUX fields (a follower's `repl-id`, `repl-offset`, `repl-stream-db`). */
  extra?: readonly [string, string][];
  /** The code of each function library, written after the header as Redis 7.0 does. */
  functions?: readonly Uint8Array[];
}

/** What a save or load did. */
export interface RdbCounts {
  /** Keys written or loaded. */
  keys: number;
  /** Bytes of the file. */
  bytes: number;
}

/** A snapshot being encoded as RDB into a synchronous sink, a slice at a time. */
class RdbDump {
  readonly writer: RdbWriter;
  #db = -1;
  keys = 0;

  constructor(
    readonly keyspace: Keyspace,
    now: number,
    options: RdbSaveOptions,
    sink: (chunk: Uint8Array) => void,
  ) {
    // A synchronous sink: every byte is out when a writer call returns, and the writer never
    // holds views of the store's memory across a turn.
    this.writer = new RdbWriter(sink, {
      compression: options.compression,
      checksum: options.checksum,
    });
    void this.writer.header({
      redisVer: REDIS_COMPAT_VERSION,
      ctimeSec: Math.floor(now / 1000),
      usedMem: keyspace.usedMemory,
      aofBase: options.aofBase ?? false,
      extra: options.extra,
    });
    for (const code of options.functions ?? []) void this.writer.functionLibrary(code);
  }

  /**
   * Writes snapshot entries for about `ms` milliseconds (all of them when Infinity); false once
   * the snapshot is exhausted.
   */
  slice(snapshot: Snapshot, ms: number): boolean {
    const emit = (e: SnapshotEntry) => {
      if (e.db !== this.#db) {
        this.#db = e.db;
        const database = this.keyspace.db(e.db);
        void this.writer.selectDb(e.db, database.size, database.volatileCount);
      }
      if (e.object === null) void this.writer.entry(e.key, e.value, e.expireAt);
      else void this.writer.collectionEntry(e.key, e.object, e.expireAt);
      this.keys++;
    };
    const more = ms === Infinity ? snapshot.step(Infinity, emit) : snapshot.stepFor(ms, emit);
    if (snapshot.aborted) throw new Error("the dataset was flushed or swapped during the save");
    return more;
  }
}

/** Writes the whole snapshot through `dump`, {@link SLICE_MS} per event-loop turn. */
async function writeInSlices(dump: RdbDump, snapshot: Snapshot): Promise<void> {
  while (dump.slice(snapshot, SLICE_MS)) await nextTurn();
}

/** An RDB file being written to a temporary path next to its destination. */
class DumpFile {
  readonly temp: string;
  readonly file: Deno.FsFile;
  readonly dump: RdbDump;

  constructor(keyspace: Keyspace, readonly path: string, now: number, options: RdbSaveOptions) {
    this.temp = `${path}.${Deno.pid}.tmp`;
    this.file = Deno.openSync(this.temp, { write: true, create: true, truncate: true });
    const file = this.file;
    this.dump = new RdbDump(keyspace, now, options, (chunk) => {
      for (let at = 0; at < chunk.length;) at += file.writeSync(chunk.subarray(at));
    });
  }

  /** Ends the file (EOF, checksum), syncs it and renames it over the destination. */
  finishSync(): RdbCounts {
    // With a synchronous sink, end() has handed every byte over before it returns.
    void this.dump.writer.end();
    this.file.syncDataSync();
    this.file.close();
    Deno.renameSync(this.temp, this.path);
    syncDirectorySync(directoryOf(this.path));
    return { keys: this.dump.keys, bytes: this.dump.writer.bytesWritten };
  }

  /** As {@link finishSync}, with the sync off the event loop (a background save's). */
  async finish(): Promise<RdbCounts> {
    await this.dump.writer.end();
    await this.file.syncData();
    this.file.close();
    await Deno.rename(this.temp, this.path);
    await syncDirectory(directoryOf(this.path));
    return { keys: this.dump.keys, bytes: this.dump.writer.bytesWritten };
  }

  /** Drops the temporary file after a failure. */
  discard(): void {
    try {
      this.file.close();
    } catch {
      // Already closed.
    }
    try {
      Deno.removeSync(this.temp);
    } catch {
      // Never created or already gone.
    }
  }
}

/**
 * SAVE: writes a snapshot of `keyspace` as of `now` to `path` atomically, in one go (nothing
 * else runs meanwhile). Throws on I/O errors; the old file is then untouched.
 */
export function saveRdbSync(
  keyspace: Keyspace,
  path: string,
  now: number,
  options: RdbSaveOptions,
): RdbCounts {
  const dump = new DumpFile(keyspace, path, now, options);
  try {
    dump.dump.slice(new Snapshot(keyspace, now, false), Infinity);
    return dump.finishSync();
  } catch (e) {
    dump.discard();
    throw e;
  }
}

/**
 * BGSAVE: writes a snapshot of `keyspace` as of `now` to `path` atomically, a slice at a time
 * while the server keeps serving. Throws if a FLUSHALL or SWAPDB aborted the snapshot, or on
 * I/O errors; the old file is then untouched.
 */
export async function saveRdb(
  keyspace: Keyspace,
  path: string,
  now: number,
  options: RdbSaveOptions,
): Promise<RdbCounts> {
  const dump = new DumpFile(keyspace, path, now, options);
  const snapshot = new Snapshot(keyspace, now, true);
  try {
    await writeInSlices(dump.dump, snapshot);
    return await dump.finish();
  } catch (e) {
    snapshot.close();
    dump.discard();
    throw e;
  }
}

/**
 * A point-in-time RDB image of `keyspace` as of `now`, built in memory a slice at a time while
 * the server keeps serving (a full resynchronisation's payload). Throws if a FLUSHALL or SWAPDB
 * aborted the snapshot.
 */
export async function snapshotRdb(
  keyspace: Keyspace,
  now: number,
  options: RdbSaveOptions,
): Promise<Uint8Array> {
  const out = new ByteBuffer(64 * 1024);
  const dump = new RdbDump(keyspace, now, options, (chunk) => out.pushBytes(chunk));
  const snapshot = new Snapshot(keyspace, now, true);
  try {
    await writeInSlices(dump, snapshot);
  } catch (e) {
    snapshot.close();
    throw e;
  }
  await dump.writer.end();
  return out.view().slice();
}

/** What a load found. */
export interface RdbLoadCounts extends RdbCounts {
  /** Keys in the file whose TTL had already passed, left out. */
  expired: number;
  /** The file's AUX fields (`redis-ver`, a follower's `repl-id`, ...). */
  aux: Map<string, string>;
}

/**
 * Loads the dump at `path` into `keyspace` (meant for an empty one, at start); null when there
 * is no such file. Keys of databases beyond the configured count are refused.
 */
export async function loadRdb(
  keyspace: Keyspace,
  path: string,
  now: number,
  functionLibrary?: (code: Uint8Array) => void,
): Promise<RdbLoadCounts | null> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  // The readable stream closes the file when it ends or fails.
  const fileSize = (await file.stat()).size;
  return loadRdbFrom(keyspace, file.readable, fileSize, now, false, functionLibrary);
}

/**
 * Loads an RDB image of `size` bytes from `source` into `keyspace`. Keys already expired are
 * left out unless `keepExpired` (a follower keeps them until its leader's DEL, as Redis's
 * replicas do). Function libraries go to `functionLibrary`; without it a file holding one is
 * refused.
 */
export async function loadRdbFrom(
  keyspace: Keyspace,
  source: RdbSource,
  size: number,
  now: number,
  keepExpired: boolean,
  functionLibrary?: (code: Uint8Array) => void,
): Promise<RdbLoadCounts> {
  let keys = 0;
  let expired = 0;
  // RESIZEDB is only a hint: never trust it beyond what the file could hold (a key takes
  // at least 3 bytes).
  const maxKeys = Math.floor(size / 3);
  let current = 0;
  const aux = new Map<string, string>();
  let sliceStart = monotonicMs();
  /** Counts a loaded key; every so often yields a turn so the server stays responsive. */
  const loaded = (): void | Promise<void> => {
    keys++;
    if ((keys & 1023) === 0 && monotonicMs() - sliceStart > LOAD_SLICE_MS) {
      return nextTurn().then(() => {
        sliceStart = monotonicMs();
      });
    }
  };
  const summary = await readRdb(source, {
    aux(key, value) {
      aux.set(key, value);
    },
    functionLibrary,
    selectDb(index) {
      current = index;
    },
    resizeDb(hint) {
      if (current >= keyspace.count) return;
      const database = keyspace.db(current);
      const keys = Math.min(hint, maxKeys);
      // Keys and values take about what they take in the file (more when it is compressed:
      // the arena then grows as usual).
      database.reserve(database.size + keys, Math.round(size * (keys / Math.max(1, hint))));
    },
    entry(db, key, value, expireAt): void | Promise<void> {
      if (!keepExpired && expireAt >= 0 && expireAt <= now) {
        expired++;
        return;
      }
      const database = keyspace.db(db);
      const id = database.setBytes(key, 0, key.length, value, 0, value.length, false, now);
      if (expireAt >= 0) database.setExpireAtId(id, expireAt);
      return loaded();
    },
    collection(db, key, value, expireAt): void | Promise<void> {
      if (!keepExpired && expireAt >= 0 && expireAt <= now) {
        expired++;
        return;
      }
      const database = keyspace.db(db);
      const name = toBinaryString(key);
      database.set(name, value, false, now);
      if (expireAt >= 0) database.setExpireAt(name, expireAt);
      return loaded();
    },
  }, { databases: keyspace.count });
  return { keys, bytes: summary.bytes, expired, aux };
}
