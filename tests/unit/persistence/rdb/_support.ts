/** Helpers for the RDB tests: write datasets to bytes, read files back into plain lists. */

import assert from "node:assert/strict";
import { RdbError } from "../../../../src/persistence/rdb/errors.ts";
import {
  type RdbSource,
  type RdbSummary,
  readRdb,
  type ReadRdbOptions,
} from "../../../../src/persistence/rdb/reader.ts";
import {
  type RdbHeaderFields,
  RdbWriter,
  type RdbWriterOptions,
} from "../../../../src/persistence/rdb/writer.ts";

/** One key as the reader reports it. */
export interface Entry {
  db: number;
  key: Uint8Array;
  value: Uint8Array;
  expireAtMs: number;
}

/** Everything a read reported. */
export interface ReadResult {
  aux: [string, string][];
  dbs: number[];
  resizes: [number, number][];
  entries: Entry[];
  summary: RdbSummary;
}

/** UTF-8 bytes of `s`. */
export function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** Joins chunks into one array. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Writes `entries` (grouped by database in order of first appearance) to one byte array. */
export async function writeEntries(
  entries: readonly Entry[],
  options: RdbWriterOptions = {},
  header: RdbHeaderFields = { ctimeSec: 1_700_000_000 },
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const writer = new RdbWriter((chunk) => {
    chunks.push(chunk);
  }, options);
  writer.header(header);
  const byDb = new Map<number, Entry[]>();
  for (const e of entries) byDb.set(e.db, [...byDb.get(e.db) ?? [], e]);
  for (const [db, list] of byDb) {
    writer.selectDb(db, list.length, list.filter((e) => e.expireAtMs !== -1).length);
    for (const e of list) writer.entry(e.key, e.value, e.expireAtMs);
  }
  await writer.end();
  return concat(chunks);
}

/** Reads a whole file into plain lists (keys and values copied unless `copy: false`). */
export async function readAll(source: RdbSource, options?: ReadRdbOptions): Promise<ReadResult> {
  const result: Omit<ReadResult, "summary"> = { aux: [], dbs: [], resizes: [], entries: [] };
  const summary = await readRdb(source, {
    aux: (key, value) => void result.aux.push([key, value]),
    selectDb: (index) => void result.dbs.push(index),
    resizeDb: (size, expires) => void result.resizes.push([size, expires]),
    entry: (db, key, value, expireAtMs) => {
      // With views, copying here is the handler's job.
      const copy = options?.copy === false;
      result.entries.push({
        db,
        key: copy ? key.slice() : key,
        value: copy ? value.slice() : value,
        expireAtMs,
      });
    },
  }, { copy: true, ...options });
  return { ...result, summary };
}

/** Hands `data` over in pieces of the given sizes (cycled), across event-loop turns. */
export async function* inPieces(
  data: Uint8Array,
  sizes: readonly number[],
): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = Math.max(1, sizes.length ? sizes[i % sizes.length] : data.length);
    await Promise.resolve();
    yield data.slice(at, at + n);
    at += n;
  }
}

/** Asserts that reading `source` fails with an RdbError whose message matches `pattern`. */
export async function assertRdbError(
  source: RdbSource,
  pattern: RegExp,
  options?: ReadRdbOptions,
): Promise<RdbError> {
  try {
    await readAll(source, options);
  } catch (e) {
    assert.ok(e instanceof RdbError, `expected an RdbError, got ${e}`);
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail(`expected an RdbError matching ${pattern}, but the file was read`);
}
