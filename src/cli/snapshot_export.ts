/**
 * `gocache snapshot export`: an RDB file's dataset as another format, streamed (memory does not
 * grow with the file). Keys already expired when the file is read are skipped in both formats,
 * as a node loading the file would drop them.
 *
 * - `resp`: the commands an append-only file holds (`SELECT db` whenever the database changes,
 *   `SET key value`, then `PEXPIREAT key ms` for a key with an expire time), encoded by the same
 *   {@link CommandEncoder} as AOF rewriting, so the output passes `redis-check-aof` and loads as
 *   `dir/appendonly.aof` with `appendonly yes`.
 * - `jsonl`: one JSON object per key and line, fields in this order:
 *   `{"db":0,"key":"...","value":"...","expireAt":1767225600000}` with `expireAt` in milliseconds
 *   since the epoch, or `null` for a key without one. A key or value that is valid UTF-8 is a
 *   JSON string under `key` / `value` (decoding it as UTF-8 gives back the exact bytes; a leading
 *   U+FEFF is kept). One that is not valid UTF-8 is written instead as standard base64 (with
 *   padding) under `keyBase64` / `valueBase64`, and the plain field is then absent: each object
 *   has exactly one of `key`/`keyBase64` and one of `value`/`valueBase64`. A key holding a
 *   collection has `type` ("hash", "list", "set", "zset") and `elements` instead of a value:
 *   [field, value] pairs, items, members, or [member, score] pairs, each text as a JSON string
 *   or `{"base64": ...}`. In `resp`, collections are written as AOF rewriting writes them
 *   (RPUSH, SADD, ZADD, HMSET, 64 elements a command).
 *
 * Output goes to standard output, or with `-o OUT` to a temporary file next to OUT that is
 * synced and renamed over OUT only once the whole file has been read and its checksum verified,
 * so OUT is never left half-written. On standard output a damaged file is noticed only when the
 * reader reaches the damage, after the keys before it were written; a reader that closes the
 * pipe early (`| head -2`) stops the export with output.ts's `OutputClosed` (a quiet exit 0).
 *
 * @module
 */
import { CommandEncoder } from "../persistence/aof_rewrite.ts";
import { writeAtomically } from "../persistence/atomic_file.ts";
import type { RdbSummary } from "../persistence/rdb/mod.ts";
import { ByteBuffer, fromBinaryString, toBinaryString } from "../util/bytes.ts";
import { writeOutBytes } from "./output.ts";
import type { CollectionValue } from "../store/collection.ts";
import type { HashValue } from "../store/hash_value.ts";
import type { ListValue } from "../store/list_value.ts";
import type { SetValue } from "../store/set_value.ts";
import type { SortedSetValue } from "../store/sorted_set_value.ts";
import { isExpired, isIoError, readSnapshotFile, SnapshotError } from "./snapshot_read.ts";

/** The formats `export` writes. */
export const EXPORT_FORMATS = ["resp", "jsonl"] as const;

/** One of {@link EXPORT_FORMATS}. */
export type ExportFormat = typeof EXPORT_FORMATS[number];

/** What an export did. */
export interface ExportResult {
  /** The reader's summary of the input. */
  summary: RdbSummary;
  /** Keys written. */
  keys: number;
  /** Keys left out because they had already expired. */
  expired: number;
  /** Bytes written. */
  bytes: number;
}

/** Bytes gathered before a write. */
const WRITE_AT = 256 * 1024;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Writes bytes somewhere, all of them. */
type Sink = (data: Uint8Array) => Promise<void>;

/** The exact text for valid UTF-8, or null for any other bytes. */
function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/** A JSON line's first fields: the database and the key (as text, or as base64 when binary). */
function keyRecord(db: number, key: Uint8Array): Record<string, unknown> {
  const record: Record<string, unknown> = { db };
  const keyText = utf8OrNull(key);
  if (keyText !== null) record.key = keyText;
  else record.keyBase64 = btoa(toBinaryString(key));
  return record;
}

/** Appends one JSON line for a key to `out` (see the module comment for the shape). */
function jsonLine(
  out: ByteBuffer,
  db: number,
  key: Uint8Array,
  value: Uint8Array,
  expireAt: number,
): void {
  const valueText = utf8OrNull(value);
  const record = keyRecord(db, key);
  if (valueText !== null) record.value = valueText;
  else record.valueBase64 = btoa(toBinaryString(value));
  record.expireAt = expireAt === -1 ? null : expireAt;
  out.pushUtf8(JSON.stringify(record));
  out.pushByte(10);
}

/** A binary string as JSON: its UTF-8 text when it is valid UTF-8, else `{"base64": ...}`. */
function jsonText(text: string): string | { base64: string } {
  return utf8OrNull(fromBinaryString(text)) ?? { base64: btoa(text) };
}

/**
 * One JSON line for a key holding a collection: `type` ("hash", "list", "set", "zset") and
 * `elements`: fields and values as [field, value] pairs, list items and set members as they
 * are, sorted set members as [member, score]; each text as {@link jsonText} gives it.
 */
function jsonCollectionLine(
  out: ByteBuffer,
  db: number,
  key: Uint8Array,
  object: CollectionValue,
  expireAt: number,
): void {
  const record = keyRecord(db, key);
  record.type = object.type;
  const elements: unknown[] = [];
  if (object.type === "hash") {
    for (const [f, v] of (object as HashValue).entries()) elements.push([jsonText(f), jsonText(v)]);
  } else if (object.type === "list") {
    for (const item of (object as ListValue).items()) elements.push(jsonText(item));
  } else if (object.type === "set") {
    for (const member of (object as SetValue).members()) elements.push(jsonText(member));
  } else {
    for (const [member, score] of (object as SortedSetValue).entries()) {
      elements.push([jsonText(member), Number.isFinite(score) ? score : String(score)]);
    }
  }
  record.elements = elements;
  record.expireAt = expireAt === -1 ? null : expireAt;
  out.pushUtf8(JSON.stringify(record));
  out.pushByte(10);
}

/** Streams the dataset of the RDB file at `input` to `sink` in `format`. */
async function exportTo(input: string, format: ExportFormat, sink: Sink): Promise<ExportResult> {
  const now = Date.now();
  const encoder = new CommandEncoder();
  const out = encoder.out;
  let keys = 0;
  let expired = 0;
  let bytes = 0;
  const flush = async () => {
    const data = out.view().slice();
    out.reset();
    bytes += data.length;
    await sink(data);
  };
  const summary = await readSnapshotFile(input, {
    entry(db, key, value, expireAt) {
      if (isExpired(expireAt, now)) {
        expired++;
        return;
      }
      keys++;
      if (format === "resp") encoder.entry({ db, key, value, object: null, expireAt });
      else jsonLine(out, db, key, value, expireAt);
      return out.length >= WRITE_AT ? flush() : undefined;
    },
    collection(db, key, object, expireAt) {
      if (isExpired(expireAt, now)) {
        expired++;
        return;
      }
      keys++;
      if (format === "resp") {
        encoder.entry({ db, key, value: new Uint8Array(0), object, expireAt });
      } else jsonCollectionLine(out, db, key, object, expireAt);
      return out.length >= WRITE_AT ? flush() : undefined;
    },
  });
  if (out.length > 0) await flush();
  return { summary, keys, expired, bytes };
}

/** A sink writing to an open file. */
function fileSink(file: { write(p: Uint8Array): Promise<number> }): Sink {
  return async (data) => {
    for (let at = 0; at < data.length;) at += await file.write(data.subarray(at));
  };
}

/**
 * Exports the RDB file at `input` as `format` to `output`, or to standard output when `output`
 * is null (raw bytes, through output.ts's `writeOutBytes`).
 */
export async function exportSnapshot(
  input: string,
  format: ExportFormat,
  output: string | null,
): Promise<ExportResult> {
  if (output === null) return await exportTo(input, format, writeOutBytes);
  try {
    return await writeAtomically(output, (file) => exportTo(input, format, fileSink(file)));
  } catch (e) {
    if (isIoError(e)) throw new SnapshotError(`cannot write ${output}: ${e.message}`, { cause: e });
    throw e;
  }
}
