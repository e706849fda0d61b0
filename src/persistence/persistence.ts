/**
 * A node's persistence: restoring the dataset on start, the append-only file the propagation
 * stream goes to, and rewriting that file (BGREWRITEAOF, and automatically when it has grown by
 * `auto-aof-rewrite-percentage` since the last rewrite and is over `auto-aof-rewrite-min-size`).
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
import { monotonicMs, now } from "../util/clock.ts";
import { logger } from "../util/logger.ts";
import { AppendOnlyFile } from "./aof.ts";
import { loadAof } from "./aof_loader.ts";
import { syncDirectory, writeSnapshotCommands } from "./aof_rewrite.ts";

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
  readonly #ctx: ServerContext;
  readonly #config: Config;
  #sink = (chunk: Uint8Array) => this.aof?.append(chunk);
  /** Size of the AOF after the last rewrite or load, the base of automatic rewrites. */
  #baseSize = 0;

  /** Persistence for the server `ctx`, configured by `config`. */
  constructor(ctx: ServerContext, config: Config) {
    this.#ctx = ctx;
    this.#config = config;
    config.onChange((names) => {
      if (names.includes("appendfsync") && this.aof !== null) {
        this.aof.policy = config.values.appendfsync;
      }
    });
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
  async open(): Promise<void> {
    const v = this.#config.values;
    if (!v.appendonly) return;
    const path = this.aofPath;
    const started = monotonicMs();
    const loaded = await loadAof(this.#ctx, path, v["aof-load-truncated"]);
    if (loaded === null) log.info("No append only file at {path}: starting empty", { path });
    else {
      log.info("DB loaded from append only file {path}: {commands} commands in {ms} ms", {
        path,
        commands: loaded.commands,
        ms: Math.round(monotonicMs() - started),
        keys: this.#ctx.keyspace.totalKeys,
      });
    }
    this.aof = await AppendOnlyFile.open(path, v.appendfsync);
    this.#baseSize = this.aof.size;
    this.#ctx.propagator.addSink(this.#sink);
  }

  /** Hands the writes of a batch to the AOF; see `ConnectionHost.commitWrites`. */
  commitWrites(): Promise<boolean> | null {
    const propagator = this.#ctx.propagator;
    if (propagator.pendingBytes === 0) return null;
    propagator.flush();
    return this.aof !== null && this.aof.policy === "always" ? this.aof.durable() : null;
  }

  /**
   * Starts a rewrite in the background (BGREWRITEAOF); returns Redis's error text when one is
   * already running or the AOF is off, or null when it started.
   */
  startRewrite(): string | null {
    if (this.rewriting) return "Background append only file rewriting already in progress";
    if (this.aof === null) return "Append only file is off (appendonly no): nothing to rewrite";
    void this.rewrite();
    return null;
  }

  /** Starts a rewrite when the AOF has grown past the configured threshold (from the cron). */
  checkAutoRewrite(): void {
    const v = this.#config.values;
    const percentage = v["auto-aof-rewrite-percentage"];
    if (this.aof === null || this.rewriting || percentage === 0) return;
    const size = this.aof.size;
    const base = Math.max(1, this.#baseSize);
    if (size < v["auto-aof-rewrite-min-size"] || ((size - base) * 100) / base < percentage) return;
    log.info("Starting automatic rewriting of AOF on {growth}% growth", {
      growth: Math.round(((size - base) * 100) / base),
    });
    void this.rewrite();
  }

  /** Rewrites the AOF; resolves when done (failures are logged and reported in INFO). */
  async rewrite(): Promise<void> {
    const aof = this.aof;
    if (this.rewriting || aof === null) return;
    this.rewriting = true;
    const started = monotonicMs();
    const path = this.aofPath;
    const temp = `${this.#config.values.dir}/temp-rewriteaof-${Deno.pid}.aof`;
    const buffered: Uint8Array[] = [];
    const buffer = (chunk: Uint8Array) => buffered.push(chunk);
    const propagator = this.#ctx.propagator;
    // Writes from now on are also kept for the new file; the snapshot covers everything before.
    propagator.flush();
    propagator.addSink(buffer);
    const snapshot = new Snapshot(this.#ctx.keyspace, now());
    log.info("Background append only file rewriting started");
    try {
      const file = await Deno.open(temp, { write: true, create: true, truncate: true });
      try {
        const counts = await writeSnapshotCommands(snapshot, file);
        // Catch up with the writes made meanwhile until a pass finds nothing new.
        propagator.flush();
        while (buffered.length > 0) {
          for (const chunk of buffered.splice(0)) {
            for (let at = 0; at < chunk.length;) at += await file.write(chunk.subarray(at));
          }
          propagator.flush();
        }
        await file.syncData();
        log.info("Rewrite wrote {commands} commands ({bytes} bytes) for the dataset", {
          ...counts,
        });
      } finally {
        file.close();
      }
      await Deno.rename(temp, path);
      await syncDirectory(this.#config.values.dir);
      const next = await AppendOnlyFile.open(path, this.#config.values.appendfsync);
      // No await from here to the swap: every chunk is either in `buffered` or goes to `next`.
      propagator.flush();
      for (const chunk of buffered.splice(0)) next.append(chunk);
      propagator.removeSink(buffer);
      this.aof = next;
      this.#baseSize = next.size;
      await aof.close();
      this.rewrites++;
      this.lastRewriteOk = true;
      log.info("Background AOF rewrite finished successfully: {size} bytes", { size: next.size });
    } catch (e) {
      propagator.removeSink(buffer);
      snapshot.close();
      this.lastRewriteOk = false;
      await Deno.remove(temp).catch(() => {});
      log.error("Background AOF rewrite failed: {error}", { error: String(e) });
    } finally {
      this.rewriting = false;
      this.lastRewriteSeconds = Math.round((monotonicMs() - started) / 1000);
    }
  }

  /** Writes what is pending and closes the AOF (shutdown). */
  async close(): Promise<void> {
    while (this.rewriting) await new Promise((resolve) => setTimeout(resolve, 10));
    this.#ctx.propagator.flush();
    await this.aof?.close();
  }
}
