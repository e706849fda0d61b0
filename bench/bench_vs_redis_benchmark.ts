/**
 * Is `gocache bench` a fair load generator? It runs redis-benchmark and `gocache bench` with the
 * same -c/-n/-P/-t against the same server (redis-server, gocache, or both), one test at a time
 * with both tools back to back (alternating which goes first), and prints both throughputs per test (medians over the rounds)
 * and their ratio (gocache bench / redis-benchmark). The goal is a ratio within 0.85-1.15.
 *
 *   deno task bench:client [--servers redis,gocache] [-c 50] [-n 100000] [-P 1]
 *                          [-t ping,set,get,incr,mset] [--rounds 3] [--threads 1]
 *
 * redis-benchmark's `ping` is its PING_MBULK line (our PING is a multibulk command too).
 */
import { parseArgs } from "node:util";
import { freePort, run, spawnServer, waitForPing } from "./_support.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

const { values } = parseArgs({
  options: {
    servers: { type: "string", default: "redis,gocache" },
    clients: { type: "string", short: "c", default: "50" },
    requests: { type: "string", short: "n", default: "100000" },
    pipeline: { type: "string", short: "P", default: "1" },
    tests: { type: "string", short: "t", default: "ping,set,get,incr,mset" },
    rounds: { type: "string", default: "3" },
    threads: { type: "string", default: "1" },
  },
});
const TESTS = values.tests.split(",");
const ROUNDS = Number(values.rounds);
const COMMON = ["-c", values.clients, "-n", values.requests, "-P", values.pipeline];

/** redis-benchmark's names for our tests. */
const REDIS_NAMES: Record<string, string> = {
  ping: "PING_MBULK",
  set: "SET",
  get: "GET",
  incr: "INCR",
  mset: "MSET (10 keys)",
};

/** Throughput of one test from redis-benchmark --csv. */
async function redisBenchmark(port: number, test: string): Promise<Map<string, number>> {
  const out = await run("redis-benchmark", [
    "-p",
    String(port),
    ...COMMON,
    "-t",
    test,
    "--csv",
  ]);
  const rates = new Map<string, number>();
  for (const line of out.split("\n")) {
    const cells = line.split('","').map((cell) => cell.replace(/^"|"$/g, ""));
    if (cells[0] === REDIS_NAMES[test]) rates.set(test, Number(cells[1]));
  }
  return rates;
}

/** Throughput of one test from gocache bench --json. */
async function gocacheBench(port: number, test: string): Promise<Map<string, number>> {
  const out = await run(Deno.execPath(), [
    "run",
    "-A",
    MAIN,
    "bench",
    "-p",
    String(port),
    ...COMMON,
    "-t",
    test,
    "--threads",
    values.threads,
    "--json",
  ]);
  const report = JSON.parse(out) as { results: { test: string; rps: number }[] };
  return new Map(report.results.map((r) => [r.test, r.rps]));
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function measure(kind: "redis" | "gocache"): Promise<string[][]> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "gocache-bench-client-" });
  const child = spawnServer(kind, port, dir);
  const samples = new Map<string, { tool: number[]; ours: number[] }>();
  for (const t of TESTS) samples.set(t, { tool: [], ours: [] });
  try {
    await waitForPing(port);
    // Both tools measure a test back to back (who goes first alternates), so load from
    // elsewhere on the machine drifts as little as possible between the two numbers.
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, t] of TESTS.entries()) {
        const order = (round + i) % 2 === 0 ? ["tool", "ours"] as const : ["ours", "tool"] as const;
        for (const who of order) {
          const rates = who === "tool"
            ? await redisBenchmark(port, t)
            : await gocacheBench(port, t);
          samples.get(t)?.[who].push(rates.get(t) ?? NaN);
        }
      }
    }
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  return TESTS.map((t) => {
    const s = samples.get(t) ?? { tool: [], ours: [] };
    const tool = median(s.tool);
    const ours = median(s.ours);
    return [kind, t.toUpperCase(), tool.toFixed(0), ours.toFixed(0), (ours / tool).toFixed(3)];
  });
}

const rows = [["server", "test", "redis-benchmark req/s", "gocache bench req/s", "ratio"]];
for (const kind of values.servers.split(",")) {
  if (kind !== "redis" && kind !== "gocache") throw new Error(`unknown server '${kind}'`);
  rows.push(...await measure(kind));
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
const lines = [
  `-c ${values.clients} -n ${values.requests} -P ${values.pipeline}, medians of ${ROUNDS} rounds, ` +
  `gocache bench --threads ${values.threads}`,
  ...rows.map((row) => row.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()),
];
Deno.stdout.writeSync(new TextEncoder().encode(lines.join("\n") + "\n"));
