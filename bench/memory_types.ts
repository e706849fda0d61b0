/**
 * Memory of the collection types side by side: fills gocache and redis-server with the same
 * hashes, sets, sorted sets and lists and compares their resident memory (RSS).
 *
 *   deno task bench:memory-types [--scale 1] [--gocache "CMD with {port}"] [--settle 3]
 *
 * The dataset (at `--scale 1`): 200k hashes of 10 fields, 200k sets of 10 members, 100k
 * sorted sets of 10 members and 100 lists of 10k items, fields and members of 6 to 9 bytes,
 * values of 8; every server gets exactly the same commands, pipelined. After `--settle`
 * seconds it prints one line per server and
 * "MEMTYPES gocache_rss_mb=X redis_rss_mb=Y ratio=Z" (ratio = gocache/redis). Both run without
 * snapshots or an append-only file. `--gocache` as in bench/memory.ts.
 */
import { parseArgs } from "node:util";
import {
  attachValues,
  descendants,
  failWith,
  requirePrograms,
  rssMb,
  say,
  sendPipelined,
  sleep,
  startPair,
} from "./_support.ts";

const USAGE = 'usage: deno task bench:memory-types [--scale 1] [--gocache "CMD with {port}"] ' +
  "[--settle 3]";

function fail(code: number, message: string): never {
  return failWith("bench/memory_types.ts", code, message);
}

const values = (() => {
  try {
    return parseArgs({
      args: attachValues(Deno.args, ["gocache"]),
      options: {
        scale: { type: "string", default: "1" },
        gocache: { type: "string" },
        settle: { type: "string", default: "3" },
      },
    }).values;
  } catch (e) {
    fail(2, `${(e as Error).message}\n${USAGE}`);
  }
})();
const SCALE = Number(values.scale);
if (!(SCALE > 0)) fail(2, `--scale wants a positive number: ${values.scale}\n${USAGE}`);
const SETTLE_S = Number(values.settle);
if (!(SETTLE_S >= 0)) fail(2, `--settle wants seconds: ${values.settle}\n${USAGE}`);
requirePrograms("bench/memory_types.ts", ["redis-server", "redis-cli"]);

/** The dataset's commands, generated lazily in a fixed order. */
function* dataset(): Generator<(string | number)[]> {
  const hashes = Math.round(200_000 * SCALE);
  const sets = Math.round(200_000 * SCALE);
  const zsets = Math.round(100_000 * SCALE);
  const lists = Math.max(1, Math.round(100 * SCALE));
  for (let k = 0; k < hashes; k++) {
    const cmd: (string | number)[] = ["HSET", `hash:${k}`];
    for (let f = 0; f < 10; f++) cmd.push(`field:${f}`, `v${String(k * 10 + f).padStart(7, "0")}`);
    yield cmd;
  }
  for (let k = 0; k < sets; k++) {
    const cmd: (string | number)[] = ["SADD", `set:${k}`];
    for (let m = 0; m < 10; m++) cmd.push(`member:${m}`);
    yield cmd;
  }
  for (let k = 0; k < zsets; k++) {
    const cmd: (string | number)[] = ["ZADD", `zset:${k}`];
    for (let m = 0; m < 10; m++) cmd.push(m * 1.5, `member:${m}`);
    yield cmd;
  }
  for (let k = 0; k < lists; k++) {
    for (let batch = 0; batch < 10; batch++) {
      const cmd: (string | number)[] = ["RPUSH", `list:${k}`];
      for (let i = 0; i < 1000; i++) cmd.push(`item:${batch * 1000 + i}`);
      yield cmd;
    }
  }
}

/** Sends the dataset pipelined, 1000 commands at a time, reading every reply. */
async function fill(port: number): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    return await sendPipelined(conn, dataset(), 1000);
  } finally {
    conn.close();
  }
}

const pair = await startPair("bench-memory-types", "", values.gocache).catch((e) =>
  fail(1, (e as Error).message)
);
try {
  const commands = await fill(pair.redis.port);
  await fill(pair.gocache.port);
  await sleep(SETTLE_S * 1000);
  const r = rssMb(pair.redis.child.pid);
  const g = Math.max(
    rssMb(pair.gocache.child.pid),
    ...descendants(pair.gocache.child.pid).map(rssMb),
  );
  say(`commands=${commands} (the same on both servers)`);
  say(
    `MEMTYPES gocache_rss_mb=${g.toFixed(1)} redis_rss_mb=${r.toFixed(1)} ` +
      `ratio=${(g / r).toFixed(2)}`,
  );
} catch (e) {
  await pair.stop();
  fail(1, (e as Error).message);
}
await pair.stop();
