/**
 * Side-by-side throughput of gocache and redis-server, measured in one run on this machine.
 *
 *   deno task bench:compare [--quick] [--tls] [--tests ping,set,get,incr,mset]
 *                           [--redis-args "..."] [--gocache "CMD with {port}"]
 *                           [--requests N] [--rounds N] [--size 32]
 *
 * Starts redis-server and gocache on free loopback ports, runs redis-benchmark against each in
 * alternation (pipelined -P 16, then unpipelined with a quarter of the requests; 50 clients,
 * random keys out of 100000, values of `--size` bytes, 32 by default), repeats, and prints the
 * median requests per second of each and the ratio gocache/redis for every test: a summary
 * table as it goes, then one line "RATIO <test> <mode> <gocache_rps> <redis_rps> <ratio>" per
 * test and mode.
 *
 * - `--quick`: 100000 requests, 1 round (default: 400000 requests, 3 rounds, median);
 * - `--tls`: both servers also listen with TLS (a test certificate made with openssl) and are
 *   measured there, redis-benchmark with `--tls`;
 *   `--requests` and `--rounds` set either explicitly.
 * - `--redis-args`: extra server flags for both, e.g. `--appendonly yes --appendfsync everysec`.
 *   redis-server always gets `--save '' --appendonly no` before them.
 * - `--gocache`: the command line that starts gocache, `{port}` replaced by its port, run by
 *   `sh` in the current directory, e.g. `"deno run -A main.ts serve --port {port} --dir /tmp/g"`;
 *   it gets no extra flags (put the same words as `--redis-args` in it). By default this
 *   checkout's `main.ts serve` with the `--redis-args` and data in a scratch directory.
 */
import { parseArgs } from "node:util";
import {
  attachValues,
  csvRps,
  freePort,
  median,
  redisBenchmark,
  requirePrograms,
  say,
  startPair,
} from "./_support.ts";
import { makeCertificates } from "./_tls.ts";

const USAGE = "usage: deno task bench:compare [--quick] [--tls] [--tests ping,set,get,incr,mset] " +
  '[--redis-args "..."] [--gocache "CMD with {port}"] [--requests N] [--rounds N] [--size N]';

function usageError(message: string): never {
  Deno.stderr.writeSync(new TextEncoder().encode(`bench/compare.ts: ${message}\n${USAGE}\n`));
  Deno.exit(2);
}

function parseCommandLine() {
  try {
    return parseArgs({
      args: attachValues(Deno.args, ["redis-args", "gocache"]),
      options: {
        quick: { type: "boolean", default: false },
        tls: { type: "boolean", default: false },
        tests: { type: "string", default: "ping,set,get,incr,mset" },
        "redis-args": { type: "string", default: "" },
        gocache: { type: "string" },
        requests: { type: "string" },
        rounds: { type: "string" },
        size: { type: "string" },
      },
    }).values;
  } catch (e) {
    usageError((e as Error).message);
  }
}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) usageError(`--${name} wants a positive integer: ${text}`);
  return n;
}

const values = parseCommandLine();
const REQUESTS = positive("requests", values.requests, values.quick ? 100_000 : 400_000);
const ROUNDS = positive("rounds", values.rounds, values.quick ? 1 : 3);
const SIZE = positive("size", values.size, 32);
const TESTS = values.tests.split(",").map((t) => t.trim()).filter((t) => t !== "");
if (TESTS.length === 0) usageError("--tests names no test");
requirePrograms("bench/compare.ts", ["redis-server", "redis-cli", "redis-benchmark"]);

/**
 * Requests per second of the test redis-benchmark reports under the test's name, else of the
 * first it reports (`-t ping` runs PING_INLINE, then PING_MBULK: the first is kept), 0 when it
 * reports none.
 */
async function rps(port: number, test: string, pipeline: number, n: number): Promise<number> {
  const out = await redisBenchmark(port, pipeline, n, [
    ...tlsClientArgs,
    "-t",
    test,
    "-d",
    String(SIZE),
  ]);
  const value = csvRps(out, test);
  if (!Number.isFinite(value)) {
    Deno.stderr.writeSync(
      new TextEncoder().encode(`redis-benchmark -t ${test} on port ${port} reported:\n${out}\n`),
    );
    return 0;
  }
  return value;
}

function row(cells: [string, string, string, string, string]): string {
  const [test, mode, g, r, ratio] = cells;
  return `${test.padEnd(8)} ${mode.padEnd(6)} ${g.padStart(14)} ${r.padStart(14)} ` +
    ratio.padStart(7);
}

// With --tls both servers get a TLS port with the same test certificate, and redis-benchmark
// runs against those ports (`--tls --cacert`).
const tlsDir = values.tls ? Deno.makeTempDirSync({ prefix: "bench-compare-tls-" }) : null;
const certs = tlsDir === null ? null : makeCertificates(tlsDir, "bench");
const tlsPorts = { redis: freePort(), gocache: freePort() };
const tlsClientArgs = certs === null ? [] : ["--tls", "--cacert", certs.ca];
const tlsServerArgs = (port: number) =>
  certs === null
    ? ""
    : `--tls-port ${port} --tls-cert-file ${certs.cert} --tls-key-file ${certs.key} ` +
      "--tls-auth-clients no";
const pair = await startPair("bench-compare", values["redis-args"], values.gocache, {
  redis: tlsServerArgs(tlsPorts.redis),
  gocache: tlsServerArgs(tlsPorts.gocache),
}).catch((e) => {
  Deno.stderr.writeSync(new TextEncoder().encode(`bench/compare.ts: ${(e as Error).message}\n`));
  Deno.exit(1);
});
const ratios: string[] = [];
try {
  say(row(["test", "mode", "gocache_rps", "redis_rps", "ratio"]));
  for (const test of TESTS) {
    for (const pipeline of [16, 1]) {
      const n = pipeline === 1 ? Math.max(1, Math.floor(REQUESTS / 4)) : REQUESTS;
      const g: number[] = [];
      const r: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        r.push(await rps(certs ? tlsPorts.redis : pair.redis.port, test, pipeline, n));
        g.push(await rps(certs ? tlsPorts.gocache : pair.gocache.port, test, pipeline, n));
      }
      const gm = median(g).toFixed(2);
      const rm = median(r).toFixed(2);
      const ratio = median(r) > 0 ? (median(g) / median(r)).toFixed(2) : "nan";
      const mode = `P${pipeline}`;
      say(row([test, mode, gm, rm, ratio]));
      ratios.push(`RATIO ${test} ${mode} ${gm} ${rm} ${ratio}`);
    }
  }
} finally {
  await pair.stop();
  if (tlsDir !== null) Deno.removeSync(tlsDir, { recursive: true });
}
for (const line of ratios) say(line);
