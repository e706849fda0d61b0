/**
 * What recording one command in the metrics costs: a labelled Counter.inc plus Histogram.observe
 * in prom-client (the library the issue suggested), the same through prom-client's pre-bound
 * label children, and gocache's typed arrays (src/metrics/latency.ts plus a call counter). The
 * result is why src/metrics/exposition.ts renders the exposition itself instead of using
 * prom-client (see its module comment).
 *
 *   deno task bench:metrics
 */
import client from "prom-client";
import { LATENCY_BOUNDS_US, LatencyHistograms } from "../src/metrics/latency.ts";

const N = 2_000_000;
const NAMES = ["get", "set", "incr", "ping", "mget", "del"];
const registry = new client.Registry();
const counter = new client.Counter({
  name: "commands_total",
  help: "Commands.",
  labelNames: ["command"],
  registers: [registry],
});
const histogram = new client.Histogram({
  name: "command_duration_seconds",
  help: "Durations.",
  labelNames: ["command"],
  buckets: LATENCY_BOUNDS_US.map((us) => us / 1e6),
  registers: [registry],
});
const boundCounters = NAMES.map((n) => counter.labels(n));
const boundHistograms = NAMES.map((n) => histogram.labels(n));
const histograms = new LatencyHistograms(NAMES.length);
const calls = new Float64Array(NAMES.length);

function best(run: () => void): number {
  let best = Infinity;
  for (let pass = 0; pass < 5; pass++) {
    const start = performance.now();
    run();
    best = Math.min(best, performance.now() - start);
  }
  return (best * 1e6) / N;
}

const results: [string, number][] = [
  [
    "prom-client, labels per call",
    best(() => {
      for (let i = 0; i < N; i++) {
        const command = NAMES[i % NAMES.length];
        counter.inc({ command });
        histogram.observe({ command }, 0.000003);
      }
    }),
  ],
  [
    "prom-client, bound children",
    best(() => {
      for (let i = 0; i < N; i++) {
        boundCounters[i % NAMES.length].inc();
        boundHistograms[i % NAMES.length].observe(0.000003);
      }
    }),
  ],
  [
    "typed arrays by command id",
    best(() => {
      for (let i = 0; i < N; i++) {
        calls[i % NAMES.length]++;
        histograms.record(i % NAMES.length, 3);
      }
    }),
  ],
];
const lines = results.map(([name, ns]) =>
  `${name.padEnd(30)} ${ns.toFixed(1).padStart(7)} ns/command`
);
Deno.stdout.writeSync(new TextEncoder().encode(lines.join("\n") + "\n"));
