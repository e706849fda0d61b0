/**
 * Scripting side by side: EVALSHA throughput of gocache and redis-server in one run, and the
 * memory a cached script costs.
 *
 *   deno task bench:scripting [--requests 200000] [--rounds 3] [--scripts 10000]
 *                             [--gocache "CMD with {port}"]
 *
 * Throughput: both servers SCRIPT LOAD the same script of three `redis.call`s (SET of a random
 * key, GET of it, INCR of a counter); redis-benchmark then runs `EVALSHA <sha> 1
 * key:__rand_int__ <32-byte value>` against each in alternation, pipelined (`-P 16`) and not
 * (`-P 1`, a quarter of the requests), 50 clients, keys out of 100000. Median of the rounds,
 * one line "SCRIPTING <mode> <gocache_rps> <redis_rps> <ratio>" per mode.
 *
 * Memory: `--scripts` distinct scripts are SCRIPT LOADed into each server; the growth of its
 * resident memory divided by their number is printed as "SCRIPTMEM gocache_bytes=X
 * redis_bytes=Y" per cached script (bodies of about 60 bytes). Lookup by SHA1 is one Map
 * access, whatever the number of scripts: the EVALSHA rate is measured with them loaded.
 */
import {
  benchOptions,
  cli,
  csvRps,
  descendants,
  failWith,
  median,
  redisBenchmark,
  requirePrograms,
  rssMb,
  say,
  sendPipelined,
  sleep,
  startPair,
} from "./_support.ts";

const USAGE = "usage: deno task bench:scripting [--requests 200000] [--rounds 3] " +
  '[--scripts 10000] [--gocache "CMD with {port}"]';

function fail(code: number, message: string): never {
  return failWith("bench/scripting.ts", code, message);
}

const options = benchOptions("bench/scripting.ts", USAGE, {
  requests: 200000,
  rounds: 3,
  scripts: 10000,
});
const REQUESTS = options.numbers.requests;
const ROUNDS = options.numbers.rounds;
const SCRIPTS = options.numbers.scripts;
requirePrograms("bench/scripting.ts", ["redis-server", "redis-cli", "redis-benchmark"]);

const SCRIPT = "redis.call('SET', KEYS[1], ARGV[1]) " +
  "local v = redis.call('GET', KEYS[1]) " +
  "return redis.call('INCR', 'bench:counter')";
const VALUE = "v".repeat(32);

/** redis-benchmark's requests per second for EVALSHA `sha` on `port`. */
async function evalshaRps(port: number, sha: string, pipeline: number, n: number) {
  const out = await redisBenchmark(port, pipeline, n, [
    "EVALSHA",
    sha,
    "1",
    "key:__rand_int__",
    VALUE,
  ]);
  const value = csvRps(out);
  if (!Number.isFinite(value)) fail(1, `redis-benchmark on port ${port} reported:\n${out}`);
  return value;
}

/** Resident memory of a server process (and its children), MB. */
function serverRss(pid: number): number {
  return Math.max(rssMb(pid), ...descendants(pid).map(rssMb));
}

/** `count` SCRIPT LOAD commands of distinct scripts of about 60 bytes. */
function* scriptLoads(count: number): Generator<string[]> {
  for (let i = 0; i < count; i++) {
    yield ["SCRIPT", "LOAD", `return redis.call('GET', KEYS[1]) .. '${i}' -- cached`];
  }
}

/** SCRIPT LOADs `count` distinct scripts into `port`; returns the RSS growth per script, bytes. */
async function scriptMemory(port: number, pid: number, count: number): Promise<number> {
  const before = serverRss(pid);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await sendPipelined(conn, scriptLoads(count), 500);
  } finally {
    conn.close();
  }
  await sleep(1000);
  return (serverRss(pid) - before) * 1024 * 1024 / count;
}

const pair = await startPair("bench-scripting", "", options.gocache).catch((e) =>
  fail(1, (e as Error).message)
);
try {
  const shas = await Promise.all(
    [pair.redis.port, pair.gocache.port].map(async (port) =>
      (await cli(port, "SCRIPT", "LOAD", SCRIPT)).trim()
    ),
  );
  if (shas[0] !== shas[1] || !/^[0-9a-f]{40}$/.test(shas[0])) {
    fail(1, `SCRIPT LOAD answered ${shas[0]} and ${shas[1]}`);
  }
  const sha = shas[0];
  const perScriptGocache = await scriptMemory(pair.gocache.port, pair.gocache.child.pid, SCRIPTS);
  const perScriptRedis = await scriptMemory(pair.redis.port, pair.redis.child.pid, SCRIPTS);
  const lines: string[] = [];
  for (const pipeline of [16, 1]) {
    const n = pipeline === 1 ? Math.max(1, Math.floor(REQUESTS / 4)) : REQUESTS;
    const g: number[] = [];
    const r: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      r.push(await evalshaRps(pair.redis.port, sha, pipeline, n));
      g.push(await evalshaRps(pair.gocache.port, sha, pipeline, n));
    }
    const line = `SCRIPTING P${pipeline} ${median(g).toFixed(0)} ${median(r).toFixed(0)} ` +
      (median(g) / median(r)).toFixed(2);
    say(line);
    lines.push(line);
  }
  say(
    `SCRIPTMEM scripts=${SCRIPTS} gocache_bytes=${perScriptGocache.toFixed(0)} ` +
      `redis_bytes=${perScriptRedis.toFixed(0)}`,
  );
} catch (e) {
  await pair.stop();
  fail(1, (e as Error).message);
}
await pair.stop();
