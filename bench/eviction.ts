/**
 * Eviction quality benchmark: a Zipf(0.99) trace of 1M requests over 100k keys, replayed as a
 * cache-aside workload (GET, and SET on a miss) against the keyspace with room for 10% of the keys
 * (`maxkeys`), for each eviction policy, next to a reference exact-LRU cache. Prints hit ratios.
 *
 *   deno task bench:eviction [--requests 1000000] [--keys 100000] [--room 0.1] [--seed 42]
 */
import { parseArgs } from "node:util";
import { Keyspace } from "../src/store/keyspace.ts";
import { mulberry32 } from "../src/util/prng.ts";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "1000000" },
    keys: { type: "string", default: "100000" },
    room: { type: "string", default: "0.1" },
    seed: { type: "string", default: "42" },
  },
});
const REQUESTS = Number(values.requests);
const KEYS = Number(values.keys);
const ROOM = Math.floor(KEYS * Number(values.room));

/** A seeded PRNG, so every policy sees the same trace. */
const prng = mulberry32;

function zipfTrace(n: number, keys: number, s: number, random: () => number): Int32Array {
  const cdf = new Float64Array(keys);
  let sum = 0;
  for (let i = 0; i < keys; i++) cdf[i] = sum += 1 / Math.pow(i + 1, s);
  for (let i = 0; i < keys; i++) cdf[i] /= sum;
  const trace = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const u = random();
    let lo = 0;
    let hi = keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    trace[r] = lo;
  }
  return trace;
}

const trace = zipfTrace(REQUESTS, KEYS, 0.99, prng(Number(values.seed)));
const names = Array.from({ length: KEYS }, (_, i) => `key:${i}`);

function exactLru(): number {
  const cache = new Map<number, true>();
  let hits = 0;
  for (const k of trace) {
    if (cache.delete(k)) hits++;
    else if (cache.size >= ROOM) cache.delete(cache.keys().next().value as number);
    cache.set(k, true);
  }
  return hits / trace.length;
}

function policy(name: string): number {
  const ks = new Keyspace(1);
  ks.configureEviction({ maxmemory: 0, maxkeys: ROOM, policy: name, samples: 5 });
  const db = ks.db(0);
  const now = Date.now();
  let hits = 0;
  for (const k of trace) {
    ks.enforceLimits(now);
    if (db.read(names[k], now) !== undefined) hits++;
    else db.set(names[k], "v", false, now);
  }
  return hits / trace.length;
}

const reference = exactLru();
const rows: [string, number][] = [["exact LRU (reference)", reference]];
for (const name of ["allkeys-lru", "allkeys-lfu", "allkeys-random"]) {
  rows.push([name, policy(name)]);
}
const out = [
  `Zipf(0.99): ${REQUESTS} requests over ${KEYS} keys, room for ${ROOM} (maxkeys)`,
  ...rows.map(([name, ratio]) =>
    `${name.padEnd(24)} hit ratio ${(ratio * 100).toFixed(2)}%` +
    (name.startsWith("exact")
      ? ""
      : `  (${((ratio - reference) * 100).toFixed(2)} pp vs exact LRU)`)
  ),
];
Deno.stdout.writeSync(new TextEncoder().encode(out.join("\n") + "\n"));
