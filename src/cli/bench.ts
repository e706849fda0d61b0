/**
 * `gocache bench`: a load generator for any RESP server (gocache, redis-server, ...), with
 * redis-benchmark's core flags (`-h -p -c -n -P -t -d -r`) plus a duration, a GET/SET mix, Zipf
 * key skew, Worker threads, latency percentiles from an HDR histogram, JSON/CSV output, a
 * side-by-side `--compare` with a second server, and a self-contained HTML report.
 *
 * The work is split: bench_workload (what is sent), bench_runner (one thread's connections),
 * bench_pool (threads, sampling), bench_report (text/JSON/CSV), bench_html (the report).
 *
 * @module
 */
import type { ConnectTls } from "../util/connect.ts";
import { parseArgs } from "node:util";
import { ClientError } from "../client/errors.ts";
import { renderHtml } from "./bench_html.ts";
import { BenchFailure, BenchPool, type Load, type Target, type TestOutcome } from "./bench_pool.ts";
import {
  type Comparison,
  formatComparison,
  formatCsv,
  formatJson,
  formatText,
  medianOf,
  summarize,
  type Summary,
} from "./bench_report.ts";
import { parseRatio, type TestName, TESTS, type Workload } from "./bench_workload.ts";
import { printOut, writeOut } from "./output.ts";
import type { Subcommand } from "./subcommand.ts";
import { DEFAULT_NODE_PORT, describeParseError, failuresAsExit, UsageError } from "./usage.ts";

function usage(): string {
  return [
    "Usage: gocache bench [options]",
    "",
    "Load generator for any RESP server; reports throughput and latency percentiles.",
    "",
    "Options:",
    "  -h, --host HOST        Server host (default 127.0.0.1)",
    `  -p, --port PORT        Server port (default ${DEFAULT_NODE_PORT}, where gocache serve listens)`,
    "  -a, --password PW      AUTH password",
    "      --db N             Database to SELECT (default 0)",
    "  -c, --clients N        Parallel connections (default 50)",
    "  -n, --requests N       Requests per test (default 100000)",
    "      --duration S       Run each test for S seconds instead of -n requests",
    "  -P, --pipeline N       Requests in flight per connection (default 1)",
    `  -t, --tests LIST       Comma-separated: ${TESTS.join(",")} (default ping,set,get,incr,mset)`,
    "  -d, --data-size N      Value size in bytes for SET, MSET, mixed (default 3)",
    "  -r, --keyspace N       Random keys below N (key:000000000042); default: one key",
    "      --ratio GET:SET    GET:SET mix of the mixed test (default 1:1)",
    "      --zipf S           Zipf-distributed keys with exponent S (needs -r)",
    "      --threads N        Worker threads generating load (default 1)",
    "      --rounds N         Run each test N times and report the median (default 1)",
    "      --compare H:P      Also run every test against H:P, alternating; print ratios",
    "      --tls              Connect over TLS (both servers with --compare)",
    "      --cacert FILE      CA certificate(s) to verify the server with (default: system roots)",
    "      --cert FILE        Client certificate to present (PEM), with --key",
    "      --key FILE         The client certificate's private key (PEM)",
    "      --json             Print the results as JSON",
    "      --csv              Print the results as CSV",
    "      --html FILE        Write a self-contained HTML report with charts to FILE",
    "  -q, --quiet            No progress bar",
    "      --help             Show this help",
    "",
    "Exit codes: 0 done, 1 a server could not be reached or failed, 2 usage error.",
  ].join("\n");
}

/** Everything the command line asked for. */
interface BenchOptions {
  target: Target;
  compare: Target | null;
  load: Load;
  tests: TestName[];
  workload: Omit<Workload, "test">;
  threads: number;
  rounds: number;
  output: "text" | "json" | "csv";
  html: string | null;
  quiet: boolean;
}

function integer(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`gocache bench: ${name} must be an integer >= ${min}, got '${text}'`);
  }
  return n;
}

function parseTarget(text: string): Target {
  const colon = text.lastIndexOf(":");
  const port = Number(text.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`gocache bench: --compare needs HOST:PORT, got '${text}'`);
  }
  return { host: text.slice(0, colon), port };
}

function parse(argv: string[]): BenchOptions | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        host: { type: "string", short: "h" },
        port: { type: "string", short: "p" },
        password: { type: "string", short: "a" },
        db: { type: "string" },
        clients: { type: "string", short: "c" },
        requests: { type: "string", short: "n" },
        duration: { type: "string" },
        pipeline: { type: "string", short: "P" },
        tests: { type: "string", short: "t" },
        "data-size": { type: "string", short: "d" },
        keyspace: { type: "string", short: "r" },
        ratio: { type: "string" },
        zipf: { type: "string" },
        threads: { type: "string" },
        rounds: { type: "string" },
        compare: { type: "string" },
        tls: { type: "boolean" },
        cacert: { type: "string" },
        cert: { type: "string" },
        key: { type: "string" },
        json: { type: "boolean" },
        csv: { type: "boolean" },
        html: { type: "string" },
        quiet: { type: "boolean", short: "q" },
        help: { type: "boolean" },
      },
    });
  } catch (e) {
    throw new UsageError(`gocache bench: ${describeParseError(e)}`);
  }
  const v = parsed.values;
  if (v.help) return null;
  const tests = (v.tests ?? "ping,set,get,incr,mset").split(",").map((t) => t.trim().toLowerCase());
  for (const t of tests) {
    if (!(TESTS as readonly string[]).includes(t)) {
      throw new UsageError(`gocache bench: unknown test '${t}' (tests: ${TESTS.join(", ")})`);
    }
  }
  const getShare = parseRatio(v.ratio ?? "1:1");
  if (getShare === null) throw new UsageError(`gocache bench: --ratio needs GET:SET, e.g. 9:1`);
  const zipf = v.zipf === undefined ? 0 : Number(v.zipf);
  if (!(zipf >= 0) || !Number.isFinite(zipf)) {
    throw new UsageError(`gocache bench: --zipf must be a positive number, got '${v.zipf}'`);
  }
  const keyspace = integer("-r", v.keyspace, 0, 0);
  if (zipf > 0 && keyspace === 0) throw new UsageError("gocache bench: --zipf needs -r N");
  const duration = v.duration === undefined ? 0 : Number(v.duration);
  if (!(duration >= 0) || !Number.isFinite(duration)) {
    throw new UsageError(`gocache bench: --duration must be seconds, got '${v.duration}'`);
  }
  if (v.json && v.csv) throw new UsageError("gocache bench: choose one of --json and --csv");
  const db = integer("--db", v.db, 0, 0);
  const tls = tlsOptions(v);
  return {
    target: {
      host: v.host ?? "127.0.0.1",
      port: integer("-p", v.port, DEFAULT_NODE_PORT, 1),
      password: v.password,
      db,
      tls,
    },
    compare: v.compare === undefined
      ? null
      : { ...parseTarget(v.compare), password: v.password, db, tls },
    load: {
      clients: integer("-c", v.clients, 50, 1),
      requests: duration > 0 ? 0 : integer("-n", v.requests, 100_000, 1),
      durationMs: duration * 1000,
      pipeline: integer("-P", v.pipeline, 1, 1),
    },
    tests: tests as TestName[],
    workload: { dataSize: integer("-d", v["data-size"], 3, 0), keyspace, zipf, getShare },
    threads: integer("--threads", v.threads, 1, 1),
    rounds: integer("--rounds", v.rounds, 1, 1),
    output: v.json ? "json" : v.csv ? "csv" : "text",
    html: v.html ?? null,
    quiet: v.quiet ?? false,
  };
}

/** The TLS options of `--tls`, `--cacert`, `--cert` and `--key` (files read now), or undefined. */
function tlsOptions(
  v: { tls?: boolean; cacert?: string; cert?: string; key?: string },
): ConnectTls | undefined {
  if (!v.tls) {
    if (v.cacert !== undefined || v.cert !== undefined || v.key !== undefined) {
      throw new UsageError("gocache bench: --cacert, --cert and --key need --tls");
    }
    return undefined;
  }
  if ((v.cert === undefined) !== (v.key === undefined)) {
    throw new UsageError("gocache bench: --cert and --key go together");
  }
  const read = (flag: string, file: string | undefined) => {
    if (file === undefined) return undefined;
    try {
      return Deno.readTextFileSync(file);
    } catch (e) {
      throw new UsageError(`gocache bench: cannot read ${flag} ${file}: ${(e as Error).message}`);
    }
  };
  const ca = read("--cacert", v.cacert);
  return {
    caCerts: ca === undefined ? undefined : [ca],
    cert: read("--cert", v.cert),
    key: read("--key", v.key),
  };
}

/** A one-line description of the run, for the text header and the HTML report. */
function describe(o: BenchOptions): string {
  const amount = o.load.requests > 0
    ? `${o.load.requests} requests`
    : `${o.load.durationMs / 1000} s`;
  const keys = o.workload.keyspace > 0
    ? `key space ${o.workload.keyspace}${o.workload.zipf > 0 ? ` (zipf ${o.workload.zipf})` : ""}`
    : "one key";
  const servers = o.compare === null
    ? `${o.target.host}:${o.target.port}`
    : `${o.target.host}:${o.target.port} vs ${o.compare.host}:${o.compare.port}`;
  return `${servers}: ${o.load.clients} clients, ${amount} per test, pipeline ` +
    `${o.load.pipeline}, ${o.workload.dataSize}-byte values, ${keys}, ${o.threads} ` +
    `thread${o.threads === 1 ? "" : "s"}${o.rounds > 1 ? `, median of ${o.rounds} rounds` : ""}`;
}

/** Redraws the progress line (only on a terminal). */
function progressLine(o: BenchOptions, label: string, done: number, elapsedMs: number): string {
  const fraction = o.load.requests > 0
    ? done / o.load.requests
    : elapsedMs / Math.max(1, o.load.durationMs);
  const width = 30;
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  const rps = elapsedMs > 0 ? Math.round((done * 1000) / elapsedMs) : 0;
  return `\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${label} ${done} ` +
    `requests, ${rps} req/s`;
}

async function runAll(o: BenchOptions): Promise<number> {
  const showProgress = !o.quiet && o.output === "text" && Deno.stdout.isTerminal();
  if (o.output === "text") printOut(`gocache bench ${describe(o)}`);
  const outcomes: TestOutcome[] = [];
  const comparisons: Comparison[] = [];
  const summaries: Summary[] = [];
  using pool = new BenchPool(o.threads);
  const runOne = async (target: Target, test: TestName) => {
    const label = `${test.toUpperCase()} ${target.host}:${target.port}`;
    const outcome = await pool.run(target, o.load, { ...o.workload, test }, (done, elapsed) => {
      if (showProgress) writeOut(progressLine(o, label, done, elapsed));
    });
    if (showProgress) writeOut("\r\x1b[2K");
    return outcome;
  };
  for (const test of o.tests) {
    const runsA: TestOutcome[] = [];
    const runsB: TestOutcome[] = [];
    for (let round = 0; round < o.rounds; round++) {
      if (o.compare === null) {
        runsA.push(await runOne(o.target, test));
      } else if (round % 2 === 0) {
        runsA.push(await runOne(o.target, test));
        runsB.push(await runOne(o.compare, test));
      } else {
        runsB.push(await runOne(o.compare, test));
        runsA.push(await runOne(o.target, test));
      }
    }
    const a = medianOf(runsA);
    outcomes.push(a);
    const summaryA = summarize(a);
    summaries.push(summaryA);
    if (runsB.length > 0) {
      const b = medianOf(runsB);
      outcomes.push(b);
      const summaryB = summarize(b);
      summaries.push(summaryB);
      comparisons.push({ test, a: summaryA, b: summaryB, ratio: a.rps > 0 ? b.rps / a.rps : 0 });
    }
  }
  // The report file first: a reader that closes standard output early (`| head`) must not cost it.
  if (o.html !== null) {
    const html = renderHtml("gocache bench", describe(o), outcomes, summaries, comparisons);
    await Deno.writeTextFile(o.html, html);
  }
  if (o.output === "json") {
    printOut(formatJson({ ...o, description: describe(o) }, summaries, comparisons));
  } else if (o.output === "csv") {
    printOut(formatCsv(summaries, comparisons));
  } else {
    printOut(formatText(summaries));
    if (comparisons.length > 0) printOut(`\n${formatComparison(comparisons)}`);
  }
  if (o.html !== null && o.output === "text") printOut(`HTML report: ${o.html}`);
  return 0;
}

/** The `bench` subcommand. */
export const benchCommand: Subcommand = {
  name: "bench",
  summary: "Load-test a RESP server (throughput, latency percentiles, reports)",
  usage,
  async run(argv: string[]): Promise<number> {
    const options = parse(argv);
    if (options === null) {
      printOut(usage());
      return 0;
    }
    return await failuresAsExit(
      "gocache bench",
      (e) => e instanceof ClientError || e instanceof BenchFailure,
      () => runAll(options),
    );
  },
};
