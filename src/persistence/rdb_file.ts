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
import { RdbWriter, readRdb } from "./rdb/mod.ts";
import { monotonicMs } from "../util/clock.ts";

/** Milliseconds of walking per event-loop turn in a background save. */
const SLICE_MS = 4;
/**
 * Milliseconds of loading between two event-loop turns: the load gives other work (the
 * metrics endpoint answering `/readyz` 503, signals) a turn this often.
 */
export const LOAD_SLICE_MS = 20;

/** A promise settling on a later event-loop turn (after pending I/O has been polled). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** How a dump is written. */
export interface RdbSaveOptions {
  /** LZF-compress long strings (`rdbcompression`). */
  compression: boolean;
  /** Append a CRC64 (`rdbchecksum`). */
  checksum: boolean;
  /** Value of the `aof-base` AUX field: whether the file is an AOF's base. */
  aofBase?: boolean;
}

/** What a save or load did. */
export interface RdbCounts {
  /** Keys written or loaded. */
  keys: number;
  /** Bytes of the file. */
  bytes: number;
}

/** An RDB file being written to a temporary path next to its destination. */
class DumpFile {
  readonly temp: string;
  readonly file: Deno.FsFile;
  readonly writer: RdbWriter;
  #db = -1;
  keys = 0;

  constructor(
    readonly keyspace: Keyspace,
    readonly path: string,
    now: number,
    options: RdbSaveOptions,
  ) {
    this.temp = `${path}.${Deno.pid}.tmp`;
    this.file = Deno.openSync(this.temp, { write: true, create: true, truncate: true });
    const file = this.file;
    // A synchronous sink: every byte is in the file when a writer call returns, and the writer
    // never holds views of the store's memory across a turn.
    this.writer = new RdbWriter((chunk) => {
      for (let at = 0; at < chunk.length;) at += file.writeSync(chunk.subarray(at));
    }, { compression: options.compression, checksum: options.checksum });
    void this.writer.header({
      redisVer: REDIS_COMPAT_VERSION,
      ctimeSec: Math.floor(now / 1000),
      usedMem: keyspace.usedMemory,
      aofBase: options.aofBase ?? false,
    });
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
      void this.writer.entry(e.key, e.value, e.expireAt);
      this.keys++;
    };
    const more = ms === Infinity ? snapshot.step(Infinity, emit) : snapshot.stepFor(ms, emit);
    if (snapshot.aborted) throw new Error("the dataset was flushed or swapped during the save");
    return more;
  }

  /** Ends the file (EOF, checksum), syncs it and renames it over the destination. */
  finishSync(): RdbCounts {
    // With a synchronous sink, end() has handed every byte over before it returns.
    void this.writer.end();
    this.file.syncDataSync();
    this.file.close();
    Deno.renameSync(this.temp, this.path);
    syncDirectorySync(directoryOf(this.path));
    return { keys: this.keys, bytes: this.writer.bytesWritten };
  }

  /** As {@link finishSync}, with the sync off the event loop (a background save's). */
  async finish(): Promise<RdbCounts> {
    await this.writer.end();
    await this.file.syncData();
    this.file.close();
    await Deno.rename(this.temp, this.path);
    await syncDirectory(directoryOf(this.path));
    return { keys: this.keys, bytes: this.writer.bytesWritten };
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
    dump.slice(new Snapshot(keyspace, now, false), Infinity);
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
    while (dump.slice(snapshot, SLICE_MS)) await new Promise((resolve) => setTimeout(resolve, 0));
    return await dump.finish();
  } catch (e) {
    snapshot.close();
    dump.discard();
    throw e;
  }
}

/** What a load found. */
export interface RdbLoadCounts extends RdbCounts {
  /** Keys in the file whose TTL had already passed, left out. */
  expired: number;
}

/**
 * Loads the dump at `path` into `keyspace` (meant for an empty one, at start); null when there
 * is no such file. Keys of databases beyond the configured count are refused.
 */
export async function loadRdb(
  keyspace: Keyspace,
  path: string,
  now: number,
): Promise<RdbLoadCounts | null> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  let keys = 0;
  let expired = 0;
  // The readable stream closes the file when it ends or fails.
  // RESIZEDB is only a hint: never trust it beyond what the file could hold (a key takes
  // at least 3 bytes).
  const fileSize = (await file.stat()).size;
  const maxKeys = Math.floor(fileSize / 3);
  let current = 0;
  let sliceStart = monotonicMs();
  const summary = await readRdb(file.readable, {
    selectDb(index) {
      current = index;
    },
    resizeDb(size) {
      if (current >= keyspace.count) return;
      const database = keyspace.db(current);
      const keys = Math.min(size, maxKeys);
      // Keys and values take about what they take in the file (more when it is compressed:
      // the arena then grows as usual).
      database.reserve(database.size + keys, Math.round(fileSize * (keys / Math.max(1, size))));
    },
    entry(db, key, value, expireAt): void | Promise<void> {
      if (expireAt >= 0 && expireAt <= now) {
        expired++;
        return;
      }
      const database = keyspace.db(db);
      const id = database.setBytes(key, 0, key.length, value, 0, value.length, false, now);
      if (expireAt >= 0) database.setExpireAtId(id, expireAt);
      keys++;
      if ((keys & 1023) === 0 && monotonicMs() - sliceStart > LOAD_SLICE_MS) {
        return nextTurn().then(() => {
          sliceStart = monotonicMs();
        });
      }
      return;
    },
  }, { databases: keyspace.count });
  return { keys, bytes: summary.bytes, expired };
}
