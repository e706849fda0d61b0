/**
 * The append-only file as it is written: the propagation stream appended to `dir/appendfilename`,
 * with Redis's three fsync policies.
 *
 * - Chunks handed over during one event-loop turn are written with one write at the end of the
 *   turn (a microtask queued behind every connection's batch of that turn).
 * - `always`: the data is synced before any reply for it leaves the server. Connections wait on
 *   {@link AppendOnlyFile.durable}; one sync covers everything written before it (group commit).
 * - `everysec`: a timer syncs in the background once a second when something was written, never
 *   stalling command processing.
 * - `no`: the operating system decides.
 *
 * A failed write is kept and retried with the next one; until a write succeeds the status is
 * `err` and writes are refused with Redis's MISCONF error (see {@link AppendOnlyFile.writeError}).
 */
import { ByteBuffer } from "../util/bytes.ts";
import { logger } from "../util/logger.ts";

const log = logger("aof");

/** Redis's fsync policies. */
export type FsyncPolicy = "always" | "everysec" | "no";

/** The append-only file being written; see the module comment. */
export class AppendOnlyFile {
  /** Path of the file. */
  readonly path: string;
  /** The fsync policy in force (CONFIG SET appendfsync changes it live). */
  policy: FsyncPolicy;
  #file: Deno.FsFile;
  /** Bytes handed over and not yet written; swapped with `#writingBuffer` for each write. */
  #pending = new ByteBuffer(64 * 1024);
  #writingBuffer = new ByteBuffer(64 * 1024);
  #scheduled = false;
  #writing: Promise<void> | null = null;
  #unsynced = false;
  #syncing: Promise<void> | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #error: string | null = null;
  #waiters: ((durable: boolean) => void)[] = [];
  #closed = false;
  /** Bytes written to the file by this process (for INFO). */
  writtenBytes = 0;
  /** Size of the file when it was opened plus what was written since (`aof_current_size`). */
  size: number;
  /** Size of the file when it was opened (`aof_base_size`). */
  readonly baseSize: number;

  private constructor(path: string, file: Deno.FsFile, size: number, policy: FsyncPolicy) {
    this.path = path;
    this.#file = file;
    this.size = size;
    this.baseSize = size;
    this.policy = policy;
    this.#timer = setInterval(() => this.#backgroundSync(), 1000);
  }

  /** Opens (creating if needed) the file at `path` for appending. */
  static async open(path: string, policy: FsyncPolicy): Promise<AppendOnlyFile> {
    const file = await Deno.open(path, { append: true, create: true, write: true });
    const { size } = await file.stat();
    return new AppendOnlyFile(path, file, size, policy);
  }

  /**
   * The error of the last failed write, or null when writing works; while it is set, Redis's
   * `-MISCONF` refusal applies to writes.
   */
  get writeError(): string | null {
    return this.#error;
  }

  /** Whether bytes were handed over that are not yet written. */
  get hasPending(): boolean {
    return this.#pending.length > 0 || this.#writing !== null;
  }

  /** Bytes handed over and not yet written (`aof_buffer_length`). */
  get pendingBytes(): number {
    return this.#pending.length;
  }

  /** Copies a chunk of the propagation stream; it is written at the end of this turn. */
  append(chunk: Uint8Array): void {
    if (this.#closed) return;
    this.#pending.pushBytes(chunk);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        this.#startWriting();
      });
    }
  }

  /**
   * Resolves true once everything appended so far is written and, under `always`, synced: the
   * point after which replies for those writes may leave. Resolves false if the write failed:
   * those writes must not be acknowledged.
   */
  durable(): Promise<boolean> {
    if (!this.hasPending && !(this.policy === "always" && this.#unsynced)) {
      return Promise.resolve(this.#error === null);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #startWriting(): void {
    if (this.#writing === null && this.#pending.length > 0) {
      this.#writing = this.#writeLoop().finally(() => {
        this.#writing = null;
      });
    }
  }

  async #writeLoop(): Promise<void> {
    while (this.#pending.length > 0 && !this.#closed) {
      const batch = this.#pending;
      this.#pending = this.#writingBuffer;
      this.#writingBuffer = batch;
      const data = batch.view();
      let at = 0;
      try {
        while (at < data.length) at += await this.#file.write(data.subarray(at));
      } catch (e) {
        // Keep what was not written, ahead of what came since, for the next attempt; writes
        // are refused until it succeeds.
        const rest = data.slice(at);
        const since = this.#pending.view().slice();
        this.#pending.reset();
        this.#pending.pushBytes(rest);
        this.#pending.pushBytes(since);
        batch.reset();
        this.#failed("writing", e);
        break;
      }
      batch.reset();
      this.writtenBytes += data.length;
      this.size += data.length;
      this.#unsynced = true;
      if (this.#error !== null) log.info("AOF write error cleared: writing again");
      this.#error = null;
      if (this.policy !== "always") continue;
      try {
        await this.#sync();
      } catch (e) {
        // The bytes are in the file; only their durability is unknown, so nothing is rewritten.
        this.#failed("syncing", e);
        break;
      }
    }
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve(this.#error === null);
  }

  #failed(action: string, e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    if (this.#error === null) {
      log.error("Error {action} the AOF file: {error}", { action, error: message });
    }
    this.#error = message;
  }

  /** Syncs the file's data (one sync at a time; later callers share it or follow it). */
  async #sync(): Promise<void> {
    while (this.#syncing !== null) await this.#syncing;
    if (!this.#unsynced) return;
    this.#unsynced = false;
    this.#syncing = this.#file.syncData().finally(() => {
      this.#syncing = null;
    });
    await this.#syncing;
  }

  #backgroundSync(): void {
    // A failed write is retried once a second even when no new write arrives.
    if (this.#error !== null) this.#startWriting();
    if (this.policy !== "everysec" || !this.#unsynced || this.#syncing !== null) return;
    this.#sync().catch((e) => {
      log.error("Error syncing the AOF file: {error}", { error: String(e) });
    });
  }

  /** Writes what is pending, syncs and closes the file (shutdown). */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#timer);
    this.#startWriting();
    while (this.#writing !== null) await this.#writing;
    try {
      await this.#sync();
    } catch (e) {
      log.error("Error syncing the AOF file on close: {error}", { error: String(e) });
    }
    this.#closed = true;
    this.#file.close();
  }
}
