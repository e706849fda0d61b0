/**
 * Sorted set operations stay logarithmic: the time per ZADD, ZRANK and ZRANGEBYSCORE ... LIMIT
 * on one sorted set of 10k, 100k and 1M members, on gocache and redis-server side by side.
 *
 *   deno task bench:zset [--sizes 10000,100000,1000000] [--ops 20000] [--gocache "CMD"]
 *
 * For each size, each server gets a fresh sorted set of that many members (pipelined ZADDs of
 * 1000), then `--ops` of each operation, pipelined 100 at a time on one connection: ZADD of a new
 * member, ZRANK of a random member, ZRANGEBYSCORE from a random score with LIMIT 0 10. It prints
 * "ZSET <op> size=<n> gocache_us=<t> redis_us=<t>" per operation and size (microseconds per
 * operation), and per operation "ZSETGROWTH <op> gocache=<t(max)/t(min)> redis=<...>": the
 * factor by which the time per operation grows from the smallest to the largest set. Linear
 * growth from 10k to 1M would be 100x; logarithmic stays within a small factor.
 */
import { parseArgs } from "node:util";
import {
  attachValues,
  failWith,
  requirePrograms,
  say,
  sendPipelined,
  startPair,
} from "./_support.ts";

const USAGE = "usage: deno task bench:zset [--sizes 10000,100000,1000000] [--ops 20000] " +
  '[--gocache "CMD with {port}"]';

function fail(code: number, message: string): never {
  return failWith("bench/zset_scaling.ts", code, message);
}

const values = (() => {
  try {
    return parseArgs({
      args: attachValues(Deno.args, ["gocache"]),
      options: {
        sizes: { type: "string", default: "10000,100000,1000000" },
        ops: { type: "string", default: "20000" },
        gocache: { type: "string" },
      },
    }).values;
  } catch (e) {
    fail(2, `${(e as Error).message}\n${USAGE}`);
  }
})();
const SIZES = values.sizes.split(",").map(Number);
if (SIZES.some((n) => !Number.isInteger(n) || n < 1)) fail(2, `bad --sizes\n${USAGE}`);
const OPS = Number(values.ops);
if (!Number.isInteger(OPS) || OPS < 100) fail(2, `--ops wants an integer >= 100\n${USAGE}`);
requirePrograms("bench/zset_scaling.ts", ["redis-server", "redis-cli"]);

/** Sends `commands` pipelined `batch` at a time and waits for every reply; returns seconds. */
async function pipeline(
  conn: Deno.Conn,
  commands: (string | number)[][],
  batch: number,
): Promise<number> {
  const started = performance.now();
  await sendPipelined(conn, commands, batch);
  return (performance.now() - started) / 1000;
}

/** A deterministic pseudo-random integer below `n`. */
function randomBelow(seed: { s: number }, n: number): number {
  seed.s = (Math.imul(seed.s, 1103515245) + 12345) >>> 0;
  return seed.s % n;
}

/** Microseconds per ZADD, ZRANK and ZRANGEBYSCORE on a set of `size` members on `port`. */
async function measure(port: number, size: number): Promise<Record<string, number>> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await pipeline(conn, [["DEL", "z"]], 1);
    const fill: (string | number)[][] = [];
    for (let at = 0; at < size; at += 1000) {
      const cmd: (string | number)[] = ["ZADD", "z"];
      for (let i = at; i < Math.min(size, at + 1000); i++) cmd.push(i * 2, `member:${i}`);
      fill.push(cmd);
    }
    await pipeline(conn, fill, 50);
    const seed = { s: size };
    const ops: Record<string, (string | number)[][]> = { zadd: [], zrank: [], zrangebyscore: [] };
    for (let i = 0; i < OPS; i++) {
      ops.zadd.push(["ZADD", "z", randomBelow(seed, size * 2) + 1, `new:${i}`]);
      ops.zrank.push(["ZRANK", "z", `member:${randomBelow(seed, size)}`]);
      ops.zrangebyscore.push([
        "ZRANGEBYSCORE",
        "z",
        randomBelow(seed, size * 2),
        "+inf",
        "LIMIT",
        0,
        10,
      ]);
    }
    const out: Record<string, number> = {};
    for (const [name, commands] of Object.entries(ops)) {
      out[name] = (await pipeline(conn, commands, 100)) * 1e6 / OPS;
    }
    return out;
  } finally {
    conn.close();
  }
}

const pair = await startPair("bench-zset", "", values.gocache).catch((e) =>
  fail(1, (e as Error).message)
);
try {
  const results: {
    size: number;
    gocache: Record<string, number>;
    redis: Record<string, number>;
  }[] = [];
  for (const size of SIZES) {
    const redis = await measure(pair.redis.port, size);
    const gocache = await measure(pair.gocache.port, size);
    results.push({ size, gocache, redis });
    for (const op of Object.keys(redis)) {
      say(
        `ZSET ${op} size=${size} gocache_us=${gocache[op].toFixed(2)} ` +
          `redis_us=${redis[op].toFixed(2)}`,
      );
    }
  }
  const first = results[0];
  const last = results[results.length - 1];
  for (const op of Object.keys(first.redis)) {
    say(
      `ZSETGROWTH ${op} gocache=${(last.gocache[op] / first.gocache[op]).toFixed(2)} ` +
        `redis=${(last.redis[op] / first.redis[op]).toFixed(2)}`,
    );
  }
} catch (e) {
  await pair.stop();
  fail(1, (e as Error).message);
}
await pair.stop();
