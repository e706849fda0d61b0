/**
 * `gocache bench` output: a text table (latencies in milliseconds), JSON, CSV, and for
 * `--compare` one line per test with both throughputs and their ratio. All formats are built
 * from the same summaries, so they agree.
 *
 * @module
 */
import type { TestOutcome } from "./bench_pool.ts";

/** The percentiles every report shows. */
export const PERCENTILES = [50, 95, 99, 99.9] as const;

/** One test's numbers as plain data (latencies in ms). */
export interface Summary {
  /** `host:port`. */
  server: string;
  /** Test name. */
  test: string;
  /** Replies received. */
  requests: number;
  /** Error replies. */
  errors: number;
  /** First error text, if any. */
  firstError: string | null;
  /** Wall time. */
  seconds: number;
  /** Throughput. */
  rps: number;
  /** Latency in ms: avg, p50, p95, p99, p99.9, max. */
  latencyMs: { avg: number; p50: number; p95: number; p99: number; p999: number; max: number };
  /** Throughput over time. */
  timeline: { t: number; rps: number }[];
  /** The generator's CPU time (user + system) per request, in microseconds. */
  cpuMicrosPerRequest: number;
}

/** A test run against both servers of `--compare`. */
export interface Comparison {
  /** Test name. */
  test: string;
  /** The main server's result. */
  a: Summary;
  /** The `--compare` server's result. */
  b: Summary;
  /** b.rps / a.rps. */
  ratio: number;
}

const ms = (micros: number) => Math.round(micros) / 1000;

/** Summarises an outcome (latencies from microseconds to milliseconds). */
export function summarize(outcome: TestOutcome): Summary {
  const h = outcome.histogram;
  return {
    server: outcome.server,
    test: outcome.test,
    requests: outcome.requests,
    errors: outcome.errors,
    firstError: outcome.firstError,
    seconds: Math.round(outcome.seconds * 1000) / 1000,
    rps: Math.round(outcome.rps * 100) / 100,
    latencyMs: {
      avg: ms(h.mean()),
      p50: ms(h.percentile(50)),
      p95: ms(h.percentile(95)),
      p99: ms(h.percentile(99)),
      p999: ms(h.percentile(99.9)),
      max: ms(h.max),
    },
    timeline: outcome.timeline.map((p) => ({
      t: Math.round(p.t * 1000) / 1000,
      rps: Math.round(p.rps),
    })),
    cpuMicrosPerRequest: outcome.requests > 0
      ? Math.round((outcome.cpuSeconds * 1e6 / outcome.requests) * 1000) / 1000
      : 0,
  };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd())
    .join("\n");
}

const fixed = (n: number, digits: number) => n.toFixed(digits);

/** The text table of results, one row per test (and server, when there are two). */
export function formatText(summaries: Summary[]): string {
  const servers = new Set(summaries.map((s) => s.server)).size > 1;
  const rows = [[
    ...(servers ? ["server"] : []),
    "test",
    "requests",
    "errors",
    "seconds",
    "req/s",
    "avg ms",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "p99.9 ms",
    "max ms",
  ]];
  for (const s of summaries) {
    const l = s.latencyMs;
    rows.push([
      ...(servers ? [s.server] : []),
      s.test.toUpperCase(),
      String(s.requests),
      String(s.errors),
      fixed(s.seconds, 2),
      fixed(s.rps, 2),
      ...[l.avg, l.p50, l.p95, l.p99, l.p999, l.max].map((v) => fixed(v, 3)),
    ]);
  }
  const errors = summaries.filter((s) => s.firstError !== null)
    .map((s) => `${s.test.toUpperCase()}: first error reply: ${s.firstError}`);
  return [table(rows), ...errors].join("\n");
}

/** The `--compare` table: both throughputs, their ratio, and both p99s. */
export function formatComparison(comparisons: Comparison[]): string {
  if (comparisons.length === 0) return "";
  const a = comparisons[0].a.server;
  const b = comparisons[0].b.server;
  const rows = [["test", `${a} req/s`, `${b} req/s`, "ratio", `${a} p99 ms`, `${b} p99 ms`]];
  for (const c of comparisons) {
    rows.push([
      c.test.toUpperCase(),
      fixed(c.a.rps, 2),
      fixed(c.b.rps, 2),
      fixed(c.ratio, 3),
      fixed(c.a.latencyMs.p99, 3),
      fixed(c.b.latencyMs.p99, 3),
    ]);
  }
  return `${table(rows)}\n(ratio = ${b} / ${a} throughput)`;
}

/** CSV: one row per test and server; `ratio` is filled on `--compare` rows of the second one. */
export function formatCsv(summaries: Summary[], comparisons: Comparison[]): string {
  const lines = [
    "server,test,requests,errors,seconds,rps,avg_ms,p50_ms,p95_ms,p99_ms,p99_9_ms,max_ms,ratio",
  ];
  for (const s of summaries) {
    const c = comparisons.find((c) => c.b === s);
    const l = s.latencyMs;
    lines.push(
      [
        s.server,
        s.test,
        s.requests,
        s.errors,
        s.seconds,
        s.rps,
        l.avg,
        l.p50,
        l.p95,
        l.p99,
        l.p999,
        l.max,
        c === undefined ? "" : fixed(c.ratio, 4),
      ].join(","),
    );
  }
  return lines.join("\n");
}

/** The JSON document: parameters, every result, and the comparisons. */
export function formatJson(
  parameters: Record<string, unknown>,
  summaries: Summary[],
  comparisons: Comparison[],
): string {
  return JSON.stringify({ parameters, results: summaries, comparisons }, null, 2);
}

/** The median run of several (by throughput), for `--rounds`. */
export function medianOf(outcomes: TestOutcome[]): TestOutcome {
  const sorted = [...outcomes].sort((x, y) => x.rps - y.rps);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}
