/**
 * AOF rewriting: the smallest command file that rebuilds a dataset. A point-in-time snapshot of
 * the keyspace is written as `SELECT`, `SET` and `PEXPIREAT` commands (the shape of Redis's own
 * rewrite), a slice at a time so that the server keeps serving between slices. The server-side
 * orchestration (buffering writes that arrive meanwhile, the atomic replace) is in
 * persistence.ts; the offline `gocache aof-rewrite` uses the same writer.
 */
import type { Snapshot, SnapshotEntry } from "../store/snapshot.ts";
import { ByteBuffer } from "../util/bytes.ts";

/** Keys written per slice before yielding to the event loop. */
const SLICE = 2000;
/** Bytes gathered before a write to the file. */
const WRITE_AT = 256 * 1024;

/** Totals of a rewrite. */
export interface RewriteCounts {
  /** Commands written. */
  commands: number;
  /** Bytes written. */
  bytes: number;
}

/** Encodes snapshot entries as commands, with a SELECT whenever the database changes. */
export class CommandEncoder {
  readonly out = new ByteBuffer(WRITE_AT * 2);
  commands = 0;
  #db = -1;

  /** Appends the commands that recreate one entry. */
  entry(e: SnapshotEntry): void {
    if (e.db !== this.#db) {
      this.command(["SELECT", String(e.db)]);
      this.#db = e.db;
    }
    this.command(["SET", e.key, e.value]);
    if (e.expireAt >= 0) this.command(["PEXPIREAT", e.key, String(e.expireAt)]);
  }

  /** Appends one command in RESP. */
  command(args: readonly (string | Uint8Array)[]): void {
    const out = this.out;
    out.pushByte(42);
    out.pushInt(args.length);
    out.pushAscii("\r\n");
    for (const arg of args) {
      out.pushByte(36);
      out.pushInt(arg.length);
      out.pushAscii("\r\n");
      if (typeof arg === "string") out.pushAscii(arg);
      else out.pushBytes(arg);
      out.pushAscii("\r\n");
    }
    this.commands++;
  }
}

/**
 * Writes `snapshot` to `file` as commands, yielding to the event loop between slices; calls
 * `progress` with the commands written so far after each slice. Throws if the snapshot was
 * aborted (a FLUSHALL or SWAPDB ran meanwhile).
 */
export async function writeSnapshotCommands(
  snapshot: Snapshot,
  file: { write(data: Uint8Array): Promise<number> },
  progress?: (commands: number) => void,
): Promise<RewriteCounts> {
  const encoder = new CommandEncoder();
  let bytes = 0;
  const flush = async () => {
    const data = encoder.out.view().slice();
    encoder.out.reset();
    for (let at = 0; at < data.length;) at += await file.write(data.subarray(at));
    bytes += data.length;
  };
  let more = true;
  while (more) {
    more = snapshot.step(SLICE, (e) => encoder.entry(e));
    if (snapshot.aborted) throw new Error("the dataset was flushed or swapped during the rewrite");
    if (encoder.out.length >= WRITE_AT || !more) await flush();
    progress?.(encoder.commands);
    if (more) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return { commands: encoder.commands, bytes };
}

/** Syncs a directory so that a rename inside it survives a crash (best effort). */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await Deno.open(dir, { read: true });
    try {
      await handle.sync();
    } finally {
      handle.close();
    }
  } catch {
    // Some file systems cannot sync a directory; the rename itself is still atomic.
  }
}
