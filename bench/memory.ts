/**
 * Memory side by side: fills gocache and redis-server with the same number of keys and compares
 * their resident memory (RSS).
 *
 *   deno task bench:memory [--keys 2000000] [--size 32] [--gocache "CMD with {port}"]
 *                          [--settle 3]
 *
 * Each server gets SETs of `--keys` distinct keys (`key:000000000000` ... through
 * redis-benchmark -r over a key space 100x larger, topped up until DBSIZE reaches `--keys`) with
 * `--size`-byte values, one server after the other; after `--settle` seconds (to let a collector
 * run) it prints
 * "MEM redis_keys=N gocache_keys=N value_bytes=S gocache_rss_mb=X redis_rss_mb=Y ratio=Z"
 * (ratio = gocache/redis). Both run without snapshots or an append-only file. `--gocache` is
 * the command line that starts gocache, `{port}` replaced (see bench/compare.ts); when it is a
 * wrapper (`npx`, `deno task`), the largest RSS among its processes counts.
 */
import { parseArgs } from "node:util";
import {
  attachValues,
  cli,
  descendants,
  failWith,
  fillKeys,
  requirePrograms,
  rssMb,
  say,
  sleep,
  startPair,
} from "./_support.ts";

const USAGE = "usage: deno task bench:memory [--keys 2000000] [--size 32] " +
  '[--gocache "CMD with {port}"] [--settle 3]';

function fail(code: number, message: string): never {
  return failWith("bench/memory.ts", code, message);
}

function parseCommandLine() {
  try {
    return parseArgs({
      args: attachValues(Deno.args, ["gocache"]),
      options: {
        keys: { type: "string", default: "2000000" },
        size: { type: "string", default: "32" },
        gocache: { type: "string" },
        settle: { type: "string", default: "3" },
      },
    }).values;
  } catch (e) {
    fail(2, `${(e as Error).message}\n${USAGE}`);
  }
}

function count(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    fail(2, `--${name} wants an integer of at least ${min}: ${text}\n${USAGE}`);
  }
  return n;
}

const values = parseCommandLine();
const KEYS = count("keys", values.keys, 1);
const SIZE = count("size", values.size, 1);
const SETTLE_S = Number(values.settle);
if (!(SETTLE_S >= 0)) fail(2, `--settle wants seconds: ${values.settle}\n${USAGE}`);
requirePrograms("bench/memory.ts", ["redis-server", "redis-cli", "redis-benchmark"]);

/** The largest RSS among `pid` and its descendants (a wrapper's server is one of them). */
function largestRss(pid: number): number {
  return Math.max(rssMb(pid), ...descendants(pid).map(rssMb));
}

const pair = await startPair("bench-memory", "", values.gocache).catch((e) =>
  fail(1, (e as Error).message)
);
try {
  await fillKeys(pair.redis.port, KEYS, SIZE);
  await fillKeys(pair.gocache.port, KEYS, SIZE);
  await sleep(SETTLE_S * 1000);
  const rk = await cli(pair.redis.port, "DBSIZE");
  const gk = await cli(pair.gocache.port, "DBSIZE");
  const r = rssMb(pair.redis.child.pid);
  const g = largestRss(pair.gocache.child.pid);
  say(
    `MEM redis_keys=${rk} gocache_keys=${gk} value_bytes=${SIZE} gocache_rss_mb=${g.toFixed(1)} ` +
      `redis_rss_mb=${r.toFixed(1)} ratio=${(g / r).toFixed(2)}`,
  );
} catch (e) {
  await pair.stop();
  fail(1, (e as Error).message);
}
await pair.stop();
