/**
 * Shows the memory model (src/store/memory.ts) against measured growth: fills a keyspace,
 * forces full garbage collections, and compares with the dataset figure two measurements, for
 * fresh fills and after eviction churn (the state of a server at maxmemory):
 * - resident: growth of the process's RSS, i.e. memory actually touched;
 * - reserved: growth of the V8 heap plus the array buffers outside it, counted at their full
 *   capacity (the arena and tables double, and untouched pages of a new buffer cost nothing
 *   until used, so this over-counts by up to the last doubling).
 * The model leaves out on purpose what the gap between them and the estimate is made of:
 * capacity not used yet and freed arena blocks waiting for reuse. Each case runs in its own
 * process so that memory freed by one does not hide the growth of the next.
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

/** Resident and reserved bytes after full collections. */
function measure(): { resident: number; reserved: number } {
  gc!();
  gc!();
  const usage = Deno.memoryUsage();
  return { resident: usage.rss, reserved: usage.heapUsed + usage.external };
}

function report(
  label: string,
  keys: number,
  estimate: number,
  before: { resident: number; reserved: number },
): string {
  const after = measure();
  const mb = (n: number) => (n / 1e6).toFixed(1).padStart(6);
  const resident = after.resident - before.resident;
  const reserved = after.reserved - before.reserved;
  return `${label.padEnd(50)} keys=${String(keys).padStart(7)}  estimate=${mb(estimate)} MB` +
    `  resident=${mb(resident)} MB (${(resident / estimate).toFixed(2)})` +
    `  reserved=${mb(reserved)} MB (${(reserved / estimate).toFixed(2)})`;
}

/**
 * Fills a fresh keyspace and measures it; its data is unreachable once this returns. `cluster`
 * keeps the index of keys by hash slot, as database 0 of a cluster node does.
 */
function freshFill(
  keyLen: number,
  valueLen: number,
  { ttl = false, cluster = false }: { ttl?: boolean; cluster?: boolean } = {},
): string {
  const before = measure();
  const ks = new Keyspace(1);
  const db = ks.db(0);
  if (cluster) db.indexSlots();
  const n = valueLen >= 1000 ? 100_000 : 500_000;
  for (let i = 0; i < n; i++) {
    const key = `key:${String(i).padStart(keyLen - 4, "0")}`;
    db.set(key, value(valueLen, i));
    if (ttl) db.setExpireAt(key, Date.now() + 3_600_000);
  }
  const label = `fresh fill, ${keyLen}-byte keys, ${valueLen}-byte values` +
    `${ttl ? ", TTL" : ""}${cluster ? ", cluster" : ""}`;
  return report(label, db.size, ks.datasetBytes, before);
}

/** Replays eviction churn (what a server at maxmemory sees) and measures what stays. */
function churn(): string {
  const before = measure();
  const ks = new Keyspace(1);
  ks.configureEviction({ maxmemory: 0, maxkeys: 250_000, policy: "allkeys-lru", samples: 5 });
  const db = ks.db(0);
  const now = Date.now();
  for (let i = 0; i < 1_000_000; i++) {
    db.set(`key:${String(i).padStart(12, "0")}`, value(100, i), false, now);
    ks.enforceLimits(now);
  }
  return report(
    "churn: 1M sets of 100 B, allkeys-lru, 250k kept",
    db.size,
    ks.datasetBytes,
    before,
  );
}

const CASES: (() => string)[] = [
  () => freshFill(16, 32),
  () => freshFill(16, 32, { ttl: true }),
  () => freshFill(16, 32, { cluster: true }),
  () => freshFill(16, 100),
  () => freshFill(16, 1000),
  churn,
];

const which = Deno.args.indexOf("--case");
if (which >= 0) {
  Deno.stdout.writeSync(new TextEncoder().encode(CASES[Number(Deno.args[which + 1])]() + "\n"));
} else {
  for (let i = 0; i < CASES.length; i++) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--v8-flags=--expose-gc",
        new URL(import.meta.url).pathname,
        "--case",
        String(i),
      ],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (!out.success) Deno.exit(out.code);
  }
}
