/**
 * What the metrics endpoint costs a server under load: three gocache servers side by side, with
 * timing off (`slowlog-log-slower-than -1`, no endpoint), the defaults (slow log on, no
 * endpoint) and the metrics endpoint on (`metrics-port`), each loaded in turn by the same
 * redis-benchmark run (-c 50 -P 16 -r 100000 -d 32 by default). For every test it prints the
 * median throughput and the server's CPU time per request (from /proc, steadier than throughput
 * on a noisy machine), and the ratios of metrics on against the defaults. Issue 7's goal: the
 * metrics endpoint costs at most 3% of throughput.
 *
 *   deno task bench:metrics-overhead [-t set,get,incr] [-n 400000] [-P 16] [--rounds 5]
 */
import { parseArgs } from "node:util";
import { cpuSeconds, freePort, median, run, spawnServer, waitForPing } from "./_support.ts";

const { values } = parseArgs({
  options: {
    tests: { type: "string", short: "t", default: "set,get,incr" },
    requests: { type: "string", short: "n", default: "400000" },
    pipeline: { type: "string", short: "P", default: "16" },
    rounds: { type: "string", default: "5" },
  },
});
const ROUNDS = Number(values.rounds);

/** One server under test. */
interface Variant {
  readonly name: string;
  readonly port: number;
  readonly process: Deno.ChildProcess;
  /** Per test: throughput and CPU µs per request of each round. */
  readonly results: Map<string, { rps: number[]; cpu: number[] }>;
}

/** Requests per second redis-benchmark reports for `test` against `port`. */
async function load(port: number, test: string): Promise<number> {
  const csv = await run("redis-benchmark", [
    "-p",
    String(port),
    "-t",
    test,
    "-P",
    values.pipeline,
    "-c",
    "50",
    "-n",
    values.requests,
    "-r",
    "100000",
    "-d",
    "32",
    "--csv",
  ]);
  const line = csv.trim().split("\n")[1];
  return Number(line.split('","')[1]);
}

const dir = Deno.makeTempDirSync({ prefix: "bench-metrics-" });
const variants: Variant[] = [
  ["timing off", ["--slowlog-log-slower-than", "-1"]],
  ["defaults", []],
  ["metrics on", ["--metrics-port", String(freePort())]],
].map(([name, flags]) => {
  const port = freePort();
  return {
    name: name as string,
    port,
    process: spawnServer("gocache", port, dir, flags as string[]),
    results: new Map(),
  };
});
try {
  for (const v of variants) await waitForPing(v.port);
  const tests = values.tests.split(",");
  // An uncounted round warms every server's JIT and fills its key space.
  for (const test of tests) for (const v of variants) await load(v.port, test);
  for (let round = 0; round < ROUNDS; round++) {
    for (const test of tests) {
      // Rotate which server goes first, so a noisy moment does not always hit the same one.
      for (let k = 0; k < variants.length; k++) {
        const v = variants[(round + k) % variants.length];
        const cpu0 = cpuSeconds(v.process.pid);
        const rps = await load(v.port, test);
        const cpu = (cpuSeconds(v.process.pid) - cpu0) * 1e6 / Number(values.requests);
        const r = v.results.get(test) ?? { rps: [], cpu: [] };
        r.rps.push(rps);
        r.cpu.push(cpu);
        v.results.set(test, r);
      }
    }
  }
  const lines = [
    `redis-benchmark -c 50 -P ${values.pipeline} -n ${values.requests}, medians of ${ROUNDS} rounds`,
    "test  " + variants.map((v) => `${v.name} rps / CPU µs per request`.padEnd(38)).join(""),
  ];
  const [, defaults, metrics] = variants;
  for (const test of tests) {
    const cells = variants.map((v) => {
      const r = v.results.get(test) as { rps: number[]; cpu: number[] };
      return `${median(r.rps).toFixed(0)} / ${median(r.cpu).toFixed(3)}`.padEnd(38);
    });
    const d = defaults.results.get(test) as { rps: number[]; cpu: number[] };
    const m = metrics.results.get(test) as { rps: number[]; cpu: number[] };
    lines.push(`${test.padEnd(6)}${cells.join("")}`);
    lines.push(
      `      metrics on / defaults: throughput ${(median(m.rps) / median(d.rps)).toFixed(3)}, ` +
        `CPU per request ${(median(m.cpu) / median(d.cpu)).toFixed(3)}`,
    );
  }
  Deno.stdout.writeSync(new TextEncoder().encode(lines.join("\n") + "\n"));
} finally {
  for (const v of variants) {
    v.process.kill("SIGTERM");
    await v.process.status;
  }
  Deno.removeSync(dir, { recursive: true });
}
