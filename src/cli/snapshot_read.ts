/**
 * Pieces shared by the offline `gocache snapshot` actions (inspect, verify, export): reading an
 * RDB file from disk with the project's streaming reader, the one rule for "already expired",
 * printing binary keys safely, and the error type for failures reported on one line (exit 1).
 *
 * @module
 */
import { RdbError, type RdbHandler, type RdbSummary, readRdb } from "../persistence/rdb/mod.ts";

/**
 * A run-time failure of a snapshot action (bad file, refused connection, timeout). The CLI prints
 * its message as one line on stderr and exits 1; usage mistakes are `UsageError` instead.
 */
export class SnapshotError extends Error {
  /** Creates the error with a one-line message naming what failed (`cause`: the original). */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SnapshotError";
  }
}

/**
 * Database indexes accepted in a file. An offline tool describes whatever the file holds, so it
 * does not refuse a SELECTDB past the 16 databases a default node has.
 */
const ANY_DATABASE = 2 ** 32;

/**
 * Streams the RDB file at `path` through `handler`, verifying the checksum trailer. A damaged
 * file rejects with a SnapshotError "PATH: <the reader's message, ending 'at offset N'>" whose
 * `cause` is the `RdbError`; a file that cannot be opened (missing, a directory, no permission)
 * with a SnapshotError "cannot read PATH: ...". The file is streamed, so its size does not
 * matter, and a pipe works as well as a file.
 */
export async function readSnapshotFile(path: string, handler: RdbHandler): Promise<RdbSummary> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
    if ((await file.stat()).isDirectory) {
      file.close();
      throw new Deno.errors.IsADirectory("Is a directory");
    }
  } catch (e) {
    if (isIoError(e)) throw new SnapshotError(`cannot read ${path}: ${e.message}`, { cause: e });
    throw e;
  }
  try {
    // The readable stream closes the file when it ends or is cancelled (readRdb cancels on error).
    // Function libraries (Redis 7.0 dumps hold them) are passed over unless the action reads them.
    const reading: RdbHandler = { functionLibrary() {}, ...handler };
    return await readRdb(file.readable, reading, { databases: ANY_DATABASE });
  } catch (e) {
    if (e instanceof RdbError) throw new SnapshotError(`${path}: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * Whether a key with expire time `expireAtMs` (-1: none) is already expired at `nowMs`. A key
 * whose time has come is expired (`<=`), as PEXPIREAT with that time would delete it at once.
 */
export function isExpired(expireAtMs: number, nowMs: number): boolean {
  return expireAtMs !== -1 && expireAtMs <= nowMs;
}

/**
 * Renders bytes for a terminal or a JSON string without losing information: printable ASCII
 * (0x20-0x7E) as is, except a backslash, which is doubled (`\\`) so that the output stays
 * unambiguous; every other byte as `\xNN` (two lowercase hex digits).
 */
export function escapeBytes(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x5c) out += "\\\\";
    else if (b >= 0x20 && b <= 0x7e) out += String.fromCharCode(b);
    else out += "\\x" + b.toString(16).padStart(2, "0");
  }
  return out;
}

/** Whether `e` is one of Deno's I/O errors (not found, permission denied, broken pipe, ...). */
export function isIoError(e: unknown): e is Error {
  return Object.values(Deno.errors).some((type) => e instanceof type);
}
