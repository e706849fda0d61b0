/**
 * `gocache snapshot inspect`: what an RDB file holds, gathered in one streaming pass (memory is
 * bounded by the `--top N` largest keys, whatever the file's size) and rendered as text for a
 * person or as one JSON object for a script. Sizes are value lengths in bytes (as STRLEN reports
 * them); keys are shown with {@link escapeBytes}. "Expired on load" counts keys whose expire time
 * has already passed when the file is read, which a node loading it would drop.
 *
 * @module
 */
import type { RdbSummary } from "../persistence/rdb/mod.ts";
import { escapeBytes, isExpired, readSnapshotFile } from "./snapshot_read.ts";

/** Upper bounds (inclusive) of the value size buckets, with their labels; the last is open. */
const BUCKETS: readonly [number, string][] = [
  [16, "<=16"],
  [64, "<=64"],
  [256, "<=256"],
  [1024, "<=1K"],
  [4096, "<=4K"],
  [65536, "<=64K"],
  [Infinity, ">64K"],
];

/** One of the largest keys. */
export interface LargeKey {
  /** Its database. */
  db: number;
  /** The key, escaped with {@link escapeBytes}. */
  key: string;
  /** Length of its value in bytes. */
  bytes: number;
}

/** Everything `inspect` reports about a file. */
export interface Inspection {
  /** The path as given. */
  file: string;
  /** Reader's summary: version, key count, file length, checksum status. */
  summary: RdbSummary;
  /** AUX fields in file order (`redis-ver`, `redis-bits`, `ctime`, `used-mem`, ...). */
  aux: [string, string][];
  /** Keys per database, by ascending database index. */
  databases: [number, number][];
  /** Keys with an expire time. */
  withTtl: number;
  /** Keys whose expire time had passed at `checkedAt`. */
  expiredOnLoad: number;
  /** The reference time for `expiredOnLoad` (ms since the epoch). */
  checkedAt: number;
  /** Sum of all value lengths. */
  valueBytes: number;
  /** Count of values per size bucket, labelled `<=16` ... `>64K`. */
  sizes: [string, number][];
  /** The largest values, biggest first (ties: first in the file first). */
  largest: LargeKey[];
}

interface Candidate {
  size: number;
  seq: number;
  db: number;
  key: Uint8Array;
}

/** True when `a` should leave the top list before `b`: smaller, or as large but seen later. */
function weaker(a: Candidate, b: Candidate): boolean {
  return a.size < b.size || (a.size === b.size && a.seq > b.seq);
}

/** Keeps the `limit` largest candidates in a min-heap, copying a key only when it gets in. */
class TopKeys {
  readonly #heap: Candidate[] = [];
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  offer(size: number, seq: number, db: number, key: Uint8Array): void {
    const heap = this.#heap;
    if (this.#limit === 0) return;
    if (heap.length === this.#limit) {
      const root = heap[0];
      if (size < root.size || (size === root.size && seq > root.seq)) return;
      heap[0] = { size, seq, db, key: key.slice() };
      this.#down(0);
      return;
    }
    heap.push({ size, seq, db, key: key.slice() });
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!weaker(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  #down(i: number): void {
    const heap = this.#heap;
    for (;;) {
      const left = 2 * i + 1;
      let least = i;
      if (left < heap.length && weaker(heap[left], heap[least])) least = left;
      if (left + 1 < heap.length && weaker(heap[left + 1], heap[least])) least = left + 1;
      if (least === i) return;
      [heap[i], heap[least]] = [heap[least], heap[i]];
      i = least;
    }
  }

  sorted(): LargeKey[] {
    return [...this.#heap]
      .sort((a, b) => b.size - a.size || a.seq - b.seq)
      .map((c) => ({ db: c.db, key: escapeBytes(c.key), bytes: c.size }));
  }
}

/** Reads the file at `path` once and gathers an {@link Inspection} with the `top` largest keys. */
export async function inspectSnapshot(path: string, top: number): Promise<Inspection> {
  const checkedAt = Date.now();
  const aux: [string, string][] = [];
  const perDb = new Map<number, number>();
  const counts = new Array<number>(BUCKETS.length).fill(0);
  const largest = new TopKeys(top);
  let withTtl = 0;
  let expiredOnLoad = 0;
  let valueBytes = 0;
  let seq = 0;
  const record = (db: number, key: Uint8Array, size: number, expireAtMs: number) => {
    perDb.set(db, (perDb.get(db) ?? 0) + 1);
    if (expireAtMs !== -1) withTtl++;
    if (isExpired(expireAtMs, checkedAt)) expiredOnLoad++;
    valueBytes += size;
    let bucket = 0;
    while (size > BUCKETS[bucket][0]) bucket++;
    counts[bucket]++;
    largest.offer(size, seq++, db, key);
  };
  const summary = await readSnapshotFile(path, {
    aux: (key, value) => void aux.push([key, value]),
    entry(db, key, value, expireAtMs) {
      record(db, key, value.length, expireAtMs);
    },
    // A collection's size is the bytes the server's memory model counts for it.
    collection(db, key, value, expireAtMs) {
      record(db, key, value.bytes, expireAtMs);
    },
  });
  return {
    file: path,
    summary,
    aux,
    databases: [...perDb].sort((a, b) => a[0] - b[0]),
    withTtl,
    expiredOnLoad,
    checkedAt,
    valueBytes,
    sizes: BUCKETS.map(([, label], i) => [label, counts[i]]),
    largest: largest.sorted(),
  };
}

/** `ctime` (seconds since the epoch, as text) as an ISO time, or null when it is not a time. */
function ctimeIso(value: string | undefined): string | null {
  if (value === undefined || !/^\d+$/.test(value)) return null;
  const date = new Date(Number(value) * 1000);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A byte count with a binary unit, for reading at a glance (`1.5 MiB`). */
function humanBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** How the checksum status reads in the text report. */
const CHECKSUM_TEXT: Record<RdbSummary["checksum"], string> = {
  "verified": "verified (CRC64)",
  "not-computed": "not computed (the trailer is 0: saved with rdbchecksum no)",
  "absent": "absent (RDB versions before 5 have none)",
  "skipped": "skipped",
};

/** The human-readable report: aligned label/value lines, one section per kind of data. */
export function formatInspection(ins: Inspection): string {
  const row = (label: string, value: string | number) => `  ${label.padEnd(17)}${value}`;
  const { summary } = ins;
  const lines = [
    `File:              ${ins.file}`,
    `File size:         ${summary.bytes} bytes (${humanBytes(summary.bytes)})`,
    `RDB version:       ${summary.version}`,
    `Checksum:          ${CHECKSUM_TEXT[summary.checksum]}`,
    "AUX fields:",
  ];
  if (ins.aux.length === 0) lines.push("  (none)");
  for (const [key, value] of ins.aux) {
    const iso = key === "ctime" ? ctimeIso(value) : null;
    if (iso !== null) lines.push(row(key, `${iso} (${value})`));
    else if (key === "used-mem" && /^\d+$/.test(value)) {
      lines.push(row(key, `${value} (${humanBytes(Number(value))})`));
    } else lines.push(row(key, value));
  }
  lines.push("Keys:");
  for (const [db, count] of ins.databases) lines.push(row(`db ${db}`, count));
  lines.push(
    row("total", summary.keys),
    row("with TTL", ins.withTtl),
    row("expired-on-load", `${ins.expiredOnLoad} (as of ${new Date(ins.checkedAt).toISOString()})`),
    `Value sizes (bytes; ${ins.valueBytes} in all):`,
    ...ins.sizes.map(([label, count]) => row(label, count)),
  );
  if (ins.largest.length === 0) return lines.join("\n");
  lines.push(`Largest values (top ${ins.largest.length}):`);
  const width = Math.max(5, ...ins.largest.map((k) => String(k.bytes).length));
  const dbWidth = Math.max(2, ...ins.largest.map((k) => String(k.db).length));
  lines.push(`  ${"bytes".padStart(width)}  ${"db".padStart(dbWidth)}  key`);
  for (const k of ins.largest) {
    lines.push(`  ${String(k.bytes).padStart(width)}  ${String(k.db).padStart(dbWidth)}  ${k.key}`);
  }
  return lines.join("\n");
}

/**
 * The same data as one JSON object (keys escaped as in the text report). `aux` keeps the raw
 * field values; `createdAt` is `ctime` as an ISO time (null when absent or not a number).
 */
export function inspectionJson(ins: Inspection): string {
  const ctime = ins.aux.findLast(([key]) => key === "ctime")?.[1];
  return JSON.stringify({
    file: ins.file,
    bytes: ins.summary.bytes,
    version: ins.summary.version,
    checksum: ins.summary.checksum,
    aux: Object.fromEntries(ins.aux),
    createdAt: ctimeIso(ctime),
    keys: ins.summary.keys,
    databases: Object.fromEntries(ins.databases.map(([db, n]) => [String(db), n])),
    keysWithTtl: ins.withTtl,
    expiredOnLoad: ins.expiredOnLoad,
    checkedAt: new Date(ins.checkedAt).toISOString(),
    valueBytes: ins.valueBytes,
    valueSizes: Object.fromEntries(ins.sizes),
    largest: ins.largest,
  });
}
