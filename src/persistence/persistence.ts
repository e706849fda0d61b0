/**
 * A node's persistence: restoring the dataset on start (the AOF when `appendonly yes` and it
 * exists, else the RDB dump, else nothing), the append-only file the propagation stream goes
 * to, rewriting that file (BGREWRITEAOF, and automatically when it has grown by
 * `auto-aof-rewrite-percentage` since the last rewrite and is over `auto-aof-rewrite-min-size`),
 * and RDB snapshots (SAVE, BGSAVE, the `save` rules, and a last one on shutdown when rules are
 * set). One background job (BGSAVE or rewrite) runs at a time; the other is scheduled.
 *
 * A rewrite writes a point-in-time snapshot of the dataset to a temporary file in slices while
 * the server keeps serving; writes arriving meanwhile still go to the current AOF and are also
 * buffered. The buffer follows the snapshot into the new file, which is synced and renamed over
 * the old one (then the directory synced), and from then on receives the stream. A crash at any
 * point leaves either the old complete file or the new complete one.
 */
import type { ServerContext } from "../commands/context.ts";
import type { Config } from "../config/config.ts";
import { Snapshot } from "../store/snapshot.ts";
import { ByteBuffer } from "../util/bytes.ts";
import { monotonicMs, now } from "../util/clock.ts";
import { logger } from "../util/logger.ts";
import { AppendOnlyFile } from "./aof.ts";
import { loadAof } from "./aof_loader.ts";
import { writeAtomically } from "./atomic_file.ts";
import { writeSnapshotCommands } from "./aof_rewrite.ts";
import { loadRdb, type RdbCounts, saveRdb, saveRdbSync } from "./rdb_file.ts";
import type { ReplicationOrigin } from "../commands/context.ts";

/** The replication history recorded in a dump's AUX fields, if complete. */
function replicationOrigin(aux: Map<string, string>): ReplicationOrigin | null {
  const replid = aux.get("repl-id");
  const offset = Number(aux.get("repl-offset"));
  const db = Number(aux.get("repl-stream-db") ?? 0);
  if (replid === undefined || !/^[0-9a-f]{40}$/.test(replid)) return null;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isInteger(db) || db < 0) return null;
  return { replid, offset, db };
}

const log = logger("persistence");

/** Persistence state of a node; see the module comment. */
export class Persistence {
  /** The append-only file being written, when `appendonly` is on. */
  aof: AppendOnlyFile | null = null;
  /** Whether a rewrite is running. */
  rewriting = false;
  /** Outcome of the last rewrite (`aof_last_bgrewrite_status`). */
  lastRewriteOk = true;
  /** Rewrites completed (`aof_rewrites`). */
  rewrites = 0;
  /** Seconds the last rewrite took, or -1 (`aof_last_rewrite_time_sec`). */
  lastRewriteSeconds = -1;
  /** Whether a BGSAVE is running. */
  saving = false;
  /** When the last successful save ended (ms; the start time until one happens). */
  lastSaveTime = 0;
  /** Outcome of the last background save (`rdb_last_bgsave_status`). */
  lastBgsaveOk = true;
  /** Saves completed (`rdb_saves`). */
  saves = 0;
  /** Seconds the last background save took, or -1 (`rdb_last_bgsave_time_sec`). */
  lastBgsaveSeconds = -1;
  /** Changes counted when the last save began (`rdb_changes_since_last_save` is relative to it). */
  dirtyAtLastSave = 0;
  #rewriteScheduled = false;
  #bgsaveScheduled = false;
  readonly #ctx: ServerContext;
  readonly #config: Config;
  /**
   * Whether the AOF received writes since the last {@link commitWrites}: those of the batch
   * being committed, and any flushed earlier in it (a full resynchronization flushes the stream
   * before it starts), must be durable before `always` lets the replies go.
   */
  #appendedSinceCommit = false;
  #sink = (chunk: Uint8Array) => {
    this.#appendedSinceCommit = true;
    this.aof?.append(chunk);
  };

  /** Persistence for the server `ctx`, configured by `config`. */
  constructor(ctx: ServerContext, config: Config) {
    this.#ctx = ctx;
    this.#config = config;
    config.onChange((names) => {
      if (names.includes("appendfsync") && this.aof !== null) {
        this.aof.policy = config.values.appendfsync;
      }
      if (names.includes("appendonly")) void this.#switchAppendOnly(config.values.appendonly);
    });
  }

  /**
   * CONFIG SET appendonly: turning it on writes the whole dataset to a fresh AOF (a rewrite
   * with no file to replace, once any running background job is done) and appends from then
   * on, as Redis does; turning it off closes the file.
   */
  async #switchAppendOnly(on: boolean): Promise<void> {
    while (this.rewriting || this.saving) await new Promise((r) => setTimeout(r, 10));
    if (on && this.aof === null) {
      log.info("AOF enabled at runtime: writing the dataset to {path}", { path: this.aofPath });
      await this.rewrite(true);
    } else if (!on && this.aof !== null) {
      const aof = this.aof;
      this.#ctx.propagator.flush();
      this.#ctx.propagator.removeSink(this.#sink);
      this.aof = null;
      await aof.close();
      log.info("AOF disabled at runtime");
    }
  }

  /** Path of the RDB dump. */
  get rdbPath(): string {
    const v = this.#config.values;
    return `${v.dir}/${v.dbfilename}`;
  }

  /** Changes since the last successful save. */
  get changesSinceSave(): number {
    return this.#ctx.keyspace.counters.dirty - this.dirtyAtLastSave;
  }

  /** Path of the append-only file. */
  get aofPath(): string {
    const v = this.#config.values;
    return `${v.dir}/${v.appendfilename}`;
  }

  /**
   * Restores the dataset and opens the AOF: with `appendonly yes`, replays the file when it
   * exists and appends to it from then on. Throws `AofLoadError` for a file that cannot be
   * replayed.
   */
  /**
   * The replication history the loaded dump recorded (its `repl-id`, `repl-offset` and
   * `repl-stream-db` AUX fields), so a restarted follower can ask its leader to continue.
   */
  loadedReplication: ReplicationOrigin | null = null;

  async open(): Promise<void> {
    const v = this.#config.values;
    const keyspace = this.#ctx.keyspace;
    this.lastSaveTime = now();
    const started = monotonicMs();
    const loaded = v.appendonly
      ? await loadAof(this.#ctx, this.aofPath, v["aof-load-truncated"] ? "cut" : "refuse")
      : null;
    let fromRdb = false;
    if (loaded !== null) {
      // Keys, as for the dump below (the keyspace was empty before the replay).
      log.info(
        "DB loaded from append only file {path}: {keys} keys in {ms} ms ({commands} commands)",
        {
          path: this.aofPath,
          keys: keyspace.totalKeys,
          ms: Math.round(monotonicMs() - started),
          commands: loaded.commands,
        },
      );
    } else {
      const rdb = await loadRdb(keyspace, this.rdbPath, now(), (code) => this.#loadLibrary(code));
      fromRdb = rdb !== null;
      this.loadedReplication = rdb === null ? null : replicationOrigin(rdb.aux);
      if (rdb === null) log.info("No data files in {dir}: starting empty", { dir: v.dir });
      else {
        log.info("DB loaded from disk {path}: {keys} keys in {ms} ms", {
          path: this.rdbPath,
          keys: rdb.keys,
          expired: rdb.expired,
          ms: Math.round(monotonicMs() - started),
        });
      }
    }
    // Loading is not a change to save again.
    this.dirtyAtLastSave = keyspace.counters.dirty;
    if (!v.appendonly) return;
    this.aof = await AppendOnlyFile.open(this.aofPath, v.appendfsync);
    this.#ctx.propagator.addSink(this.#sink);
    // The AOF must hold what came from the dump, or the next start would lose it.
    if (fromRdb && keyspace.totalKeys > 0) await this.rewrite();
  }

  /** Hands the writes of a batch to the AOF; see `ConnectionHost.commitWrites`. */
  commitWrites(): Promise<boolean> | null {
    const propagator = this.#ctx.propagator;
    const flushing = propagator.pendingBytes > 0;
    if (flushing) propagator.flush();
    if (!flushing && !this.#appendedSinceCommit) return null;
    this.#appendedSinceCommit = false;
    return this.aof !== null && this.aof.policy === "always" ? this.aof.durable() : null;
  }

  /**
   * Starts a rewrite in the background (BGREWRITEAOF); returns Redis's error text when one is
   * already running or the AOF is off, or null when it started.
   */
  startRewrite(): string | null {
    if (this.rewriting) return "Background append only file rewriting already in progress";
    if (this.aof === null) return "Append only file is off (appendonly no): nothing to rewrite";
    if (this.saving) {
      this.#rewriteScheduled = true;
      return null;
    }
    void this.rewrite();
    return null;
  }

  /** Whether BGREWRITEAOF was accepted but waits for a running BGSAVE. */
  get rewriteScheduled(): boolean {
    return this.#rewriteScheduled;
  }

  /**
   * SAVE: writes the dump now, blocking the server; Redis's error text when a background save
   * runs or the write fails, null on success.
   */
  save(): string | null {
    if (this.saving) return "Background save already in progress";
    try {
      this.#saved(this.#ctx.keyspace.counters.dirty, saveRdbSync(...this.#saveArgs()));
      return null;
    } catch (e) {
      log.error("Error saving the DB on disk: {error}", { error: String(e) });
      return `Error saving the DB on disk: ${e instanceof Error ? e.message : e}`;
    }
  }

  /**
   * BGSAVE [SCHEDULE]: starts (or with `schedule`, queues behind a running rewrite) a
   * background save; `ok` false with Redis's error text when it cannot.
   */
  startBgsave(schedule: boolean): { ok: boolean; text: string } {
    if (this.saving) return { ok: false, text: "Background save already in progress" };
    if (this.rewriting) {
      if (!schedule) {
        return {
          ok: false,
          text: "Another child process is active (AOF?): can't BGSAVE right now. " +
            "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
        };
      }
      this.#bgsaveScheduled = true;
      return { ok: true, text: "Background saving scheduled" };
    }
    void this.bgsave();
    return { ok: true, text: "Background saving started" };
  }

  /**
   * Queues a background job asked for inside EXEC: Redis never starts one from a transaction
   * (`server.in_exec`) but sets a flag its cron acts on, and so does this one's.
   */
  schedule(job: "bgsave" | "rewrite"): void {
    if (job === "bgsave") this.#bgsaveScheduled = true;
    else this.#rewriteScheduled = true;
  }

  /** Runs a background save to completion (failures are logged and reported in INFO). */
  async bgsave(): Promise<void> {
    if (this.saving || this.rewriting) return;
    this.saving = true;
    const started = monotonicMs();
    log.info("Background saving started");
    try {
      const dirty = this.#ctx.keyspace.counters.dirty;
      this.#saved(dirty, await saveRdb(...this.#saveArgs()));
      this.lastBgsaveOk = true;
      log.info("Background saving terminated with success");
    } catch (e) {
      this.lastBgsaveOk = false;
      log.error("Background saving error: {error}", { error: String(e) });
    } finally {
      this.saving = false;
      this.lastBgsaveSeconds = Math.round((monotonicMs() - started) / 1000);
      this.#startScheduled();
    }
  }

  /** Loads a function library found in a dump (the Lua VM is loaded before any dump). */
  #loadLibrary(code: Uint8Array): void {
    const scripting = this.#ctx.scripting;
    if (scripting === null) throw new Error("the dump holds function libraries: no Lua VM");
    scripting.functions.loadFromDump(code);
  }

  #saveArgs(): Parameters<typeof saveRdbSync> {
    const v = this.#config.values;
    return [this.#ctx.keyspace, this.rdbPath, now(), {
      compression: v.rdbcompression,
      checksum: v.rdbchecksum,
      extra: this.#ctx.replication.rdbAux(),
      functions: this.#ctx.scripting?.functions.codes(),
    }];
  }

  /** Records a successful save that began when the change counter read `dirty`. */
  #saved(dirty: number, counts: RdbCounts): void {
    this.dirtyAtLastSave = dirty;
    this.lastSaveTime = now();
    this.saves++;
    log.info("DB saved on disk: {keys} keys, {bytes} bytes", { ...counts });
  }

  /** Starts a job that waited for another one to finish. */
  #startScheduled(): void {
    if (this.saving || this.rewriting) return;
    if (this.#rewriteScheduled) {
      this.#rewriteScheduled = false;
      void this.rewrite();
    } else if (this.#bgsaveScheduled) {
      this.#bgsaveScheduled = false;
      void this.bgsave();
    }
  }

  /** From the cron: `save` rules, scheduled jobs and automatic rewrites. */
  cron(): void {
    this.#startScheduled();
    if (!this.saving && !this.rewriting) {
      const elapsed = (now() - this.lastSaveTime) / 1000;
      const changes = this.changesSinceSave;
      for (const rule of this.#config.values.save) {
        if (changes >= rule.changes && elapsed >= rule.seconds && changes > 0) {
          log.info("{changes} changes in {seconds} seconds. Saving...", { ...rule });
          void this.bgsave();
          break;
        }
      }
    }
    this.checkAutoRewrite();
  }

  /** Starts a rewrite when the AOF has grown past the configured threshold (from the cron). */
  checkAutoRewrite(): void {
    const v = this.#config.values;
    const percentage = v["auto-aof-rewrite-percentage"];
    if (this.aof === null || this.rewriting || this.saving || percentage === 0) return;
    const size = this.aof.size;
    const base = Math.max(1, this.aof.baseSize);
    if (size < v["auto-aof-rewrite-min-size"] || ((size - base) * 100) / base < percentage) return;
    log.info("Starting automatic rewriting of AOF on {growth}% growth", {
      growth: Math.round(((size - base) * 100) / base),
    });
    void this.rewrite();
  }

  /** Rewrites the AOF; resolves when done (failures are logged and reported in INFO). */
  async rewrite(enabling = false): Promise<void> {
    const aof = this.aof;
    if (this.rewriting || this.saving || (aof === null) !== enabling) return;
    this.rewriting = true;
    const started = monotonicMs();
    const path = this.aofPath;
    // Writes made during the rewrite, copied into one growing buffer (no allocation per chunk).
    const buffered = new ByteBuffer(1024 * 1024);
    const buffer = (chunk: Uint8Array) => buffered.pushBytes(chunk);
    const propagator = this.#ctx.propagator;
    // Writes from now on are also kept for the new file; the snapshot covers everything before.
    propagator.flush();
    propagator.addSink(buffer);
    const snapshot = new Snapshot(this.#ctx.keyspace, now());
    log.info("Background append only file rewriting started");
    try {
      const counts = await writeAtomically(path, async (file) => {
        const functions = this.#ctx.scripting?.functions.codes() ?? [];
        const counts = await writeSnapshotCommands(snapshot, file, undefined, functions);
        // Catch up with the writes made meanwhile, in one synchronous write: nothing can
        // arrive while it runs.
        propagator.flush();
        writeAllSync(file, buffered.view());
        buffered.reset();
        return counts;
      });
      log.info("Rewrite wrote {commands} commands ({bytes} bytes) for the dataset", {
        ...counts,
      });
      const next = await AppendOnlyFile.open(path, this.#config.values.appendfsync);
      // No await from here to the swap: every chunk is either in `buffered` or goes to `next`.
      propagator.flush();
      next.append(buffered.view());
      buffered.reset();
      propagator.removeSink(buffer);
      this.aof = next;
      if (aof === null) propagator.addSink(this.#sink);
      else await aof.close();
      this.rewrites++;
      this.lastRewriteOk = true;
      log.info("Background AOF rewrite finished successfully: {size} bytes", { size: next.size });
    } catch (e) {
      propagator.removeSink(buffer);
      snapshot.close();
      this.lastRewriteOk = false;
      log.error("Background AOF rewrite failed: {error}", { error: String(e) });
    } finally {
      this.rewriting = false;
      this.lastRewriteSeconds = Math.round((monotonicMs() - started) / 1000);
      this.#startScheduled();
    }
  }

  /**
   * Shutdown: waits for a running job, saves the dump when `save` is true or, when undefined,
   * when save rules are configured (SHUTDOWN SAVE / NOSAVE decide), then writes what is
   * pending and closes the AOF.
   */
  async close(save?: boolean): Promise<void> {
    while (this.rewriting || this.saving) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    this.#ctx.propagator.flush();
    if (save ?? this.#config.values.save.length > 0) {
      log.info("Saving the final RDB snapshot before exiting");
      const error = this.save();
      if (error !== null) log.error("Final save failed: {error}", { error });
    }
    await this.aof?.close();
  }
}

/** Writes all of `data` to `file` with synchronous writes. */
function writeAllSync(file: Deno.FsFile, data: Uint8Array): void {
  for (let at = 0; at < data.length;) at += file.writeSync(data.subarray(at));
}
