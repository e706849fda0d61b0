/**
 * A streaming RDB reader for what gocache can hold: string values in numbered databases with
 * expire times. It reads versions 1 to 10 (redis-server up to 7.0), verifies the CRC-64 trailer,
 * skips LRU/LFU hints, and refuses anything else (lists, hashes, modules, functions, newer
 * versions) with an `RdbError` naming what and where, rather than dropping data.
 *
 * Bad input of any kind ends in an `RdbError` (./errors.ts) carrying the byte offset: never
 * another error type, never a hang, and never an allocation the input does not justify (a
 * length field claiming gigabytes in a short file fails at the end of the file, and a string
 * longer than `maxStringBytes` fails at once). Records are parsed synchronously from buffered
 * chunks (./_parser.ts), so a large file costs a promise per chunk, not per key.
 */

import type { CollectionValue } from "../../store/collection.ts";
import { RdbParser, STEP_NEED_MORE, STEP_RECORD } from "./_parser.ts";
import { rdbErrorAt } from "./errors.ts";

/** Where the file's bytes come from: all at once, or chunk by chunk (e.g. `file.readable`). */
export type RdbSource = Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * Receives the file's contents in order. A returned promise is awaited before reading on.
 * Keys and values are views into the reader's buffers, valid until the call returns (or its
 * promise settles): copy them to keep them, or read with `copy: true`. Views spare an
 * allocation per string, the largest cost of loading small keys.
 */
export interface RdbHandler {
  /** An auxiliary field (`redis-ver`, `ctime`, ...), decoded as UTF-8. */
  aux?(key: string, value: string): void | Promise<void>;
  /** The following entries belong to database `index`. */
  selectDb?(index: number): void | Promise<void>;
  /** Size hints for the current database: key count and how many keys expire. */
  resizeDb?(size: number, expires: number): void | Promise<void>;
  /** One string key; `expireAtMs` is milliseconds since the epoch, or -1 for none. */
  entry(db: number, key: Uint8Array, value: Uint8Array, expireAtMs: number): void | Promise<void>;
  /**
   * One key holding a hash, list, set or sorted set (the value is the handler's to keep); a
   * reader without it refuses files that hold one.
   */
  collection?(
    db: number,
    key: Uint8Array,
    value: CollectionValue,
    expireAtMs: number,
  ): void | Promise<void>;
  /**
   * One function library's code (Redis 7.0's RDB_OPCODE_FUNCTION2, the FUNCTION LOAD text, a
   * copy the handler may keep); a reader without it refuses files that hold one.
   */
  functionLibrary?(code: Uint8Array): void | Promise<void>;
}

/** Options of {@link readRdb}. */
export interface ReadRdbOptions {
  /** Databases the loader has; a SELECTDB beyond them is refused (default 16). */
  databases?: number;
  /** Longest string accepted (default 512 MiB, Redis's `proto-max-bulk-len`). */
  maxStringBytes?: number;
  /** Verify a nonzero checksum trailer (default true). */
  verifyChecksum?: boolean;
  /** Hand the handler fresh copies of keys and values instead of views (default false). */
  copy?: boolean;
}

/** What {@link readRdb} found. */
export interface RdbSummary {
  /** The file's RDB version. */
  version: number;
  /** String keys read. */
  keys: number;
  /** The file's length in bytes. */
  bytes: number;
  /**
   * `verified`: the trailer matched; `not-computed`: the trailer is 0; `absent`: versions before
   * 5 have none; `skipped`: verification was turned off.
   */
  checksum: "verified" | "not-computed" | "absent" | "skipped";
}

/**
 * Reads an RDB file from `source`, calling `handler` for its contents, and resolves with a
 * summary once the checksum trailer has been checked. Rejects with `RdbError` for a
 * malformed, truncated or unsupported file (errors thrown by the handler pass through as-is).
 */
export async function readRdb(
  source: RdbSource,
  handler: RdbHandler,
  options: ReadRdbOptions = {},
): Promise<RdbSummary> {
  const parser = new RdbParser(handler, options);
  const chunks = chunksOf(source);
  let exhausted = false;
  const pull = async (): Promise<boolean> => {
    while (!exhausted) {
      const next = await chunks.next();
      if (next.done) {
        exhausted = true;
      } else if (next.value.length > 0) {
        parser.input.push(next.value);
        return true;
      }
    }
    return false;
  };
  try {
    while (true) {
      const step = parser.step();
      if (step === STEP_RECORD) {
        if (parser.pending) {
          const pending = parser.pending;
          parser.pending = null;
          await pending;
        }
      } else if (step === STEP_NEED_MORE) {
        const input = parser.input;
        const target = Math.max(input.wanted, input.preferred);
        input.preferred = 0;
        while (input.received < target) {
          if (await pull()) continue;
          if (input.received >= input.wanted) break;
          throw rdbErrorAt("Unexpected end of file", input.received);
        }
      } else {
        break;
      }
    }
    const input = parser.input;
    if (input.end > input.pos || await pull()) {
      throw rdbErrorAt("Unexpected data after the checksum", input.offset);
    }
    return parser.summary(input.offset);
  } finally {
    if (!exhausted) await chunks.return?.();
  }
}

/** The source as an iterator of chunks, awaited the same way whatever its kind. */
function chunksOf(
  source: RdbSource,
): AsyncIterator<Uint8Array> | Iterator<Uint8Array> {
  if (source instanceof Uint8Array) return [source][Symbol.iterator]();
  if (Symbol.asyncIterator in source) return source[Symbol.asyncIterator]();
  return source[Symbol.iterator]();
}
