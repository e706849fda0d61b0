/**
 * Shows the memory model (src/store/memory.ts) against measured growth: fills a keyspace
 * in-process, forces full garbage collections, and compares the growth of the V8 heap plus the
 * array buffers outside it (where the store's tables and arena live) with the dataset figure,
 * for fresh fills and after eviction churn (the state of a server at maxmemory). The gap is
 * what the model leaves out on purpose: unused capacity of tables that grow by doubling, and
 * freed arena blocks waiting for reuse.
 *
 *   deno task bench:memory-model
 */
import { Keyspace } from "../src/store/keyspace.ts";

const gc = (globalThis as unknown as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc (deno task bench:memory-model)");

function value(length: number, seed: number): string {
  const codes = new Array<number>(length);
  for (let i = 0; i < length; i++) codes[i] = 97 + ((seed + i * 7) % 26);
  return String.fromCharCode(...codes);
}

function heap(): number {
  gc!();
  gc!();
  const usage = Deno.memoryUsage();
  return usage.heapUsed + usage.external;
}

function report(label: string, keys: number, estimate: number, grown: number): string {
  return `${label.padEnd(46)} keys=${String(keys).padStart(7)}` +
    `  estimate=${(estimate / 1e6).toFixed(1).padStart(6)} MB` +
    `  measured growth=${(grown / 1e6).toFixed(1).padStart(6)} MB` +
    `  measured/estimate=${(grown / estimate).toFixed(2)}`;
}

/** Fills a fresh keyspace and measures it; its data is unreachable once this returns. */
function freshFill(keyLen: number, valueLen: number, ttl: boolean): string {
  const before = heap();
  const ks = new Keyspace(1);
  const db = ks.db(0);
  const n = valueLen >= 1000 ? 100_000 : 500_000;
  for (let i = 0; i < n; i++) {
    const key = `key:${String(i).padStart(keyLen - 4, "0")}`;
    db.set(key, value(valueLen, i));
    if (ttl) db.setExpireAt(key, Date.now() + 3_600_000);
  }
  const grown = heap() - before;
  const label = `fresh fill, ${keyLen}-byte keys, ${valueLen}-byte values${ttl ? ", TTL" : ""}`;
  return report(label, db.size, ks.datasetBytes, grown);
}

/** Replays eviction churn (what a server at maxmemory sees) and measures what stays. */
function churn(): string {
  const before = heap();
  const ks = new Keyspace(1);
  ks.configureEviction({ maxmemory: 0, maxkeys: 250_000, policy: "allkeys-lru", samples: 5 });
  const db = ks.db(0);
  const now = Date.now();
  for (let i = 0; i < 1_000_000; i++) {
    db.set(`key:${String(i).padStart(12, "0")}`, value(100, i), false, now);
    ks.enforceLimits(now);
  }
  const grown = heap() - before;
  return report("churn: 1M sets of 100 B, allkeys-lru, 250k kept", db.size, ks.datasetBytes, grown);
}

const rows = [
  freshFill(16, 32, false),
  freshFill(16, 32, true),
  freshFill(16, 100, false),
  freshFill(16, 1000, false),
  churn(),
];
Deno.stdout.writeSync(new TextEncoder().encode(rows.join("\n") + "\n"));
