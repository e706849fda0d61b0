/**
 * Runs a benchmark test across `--threads` (Workers; with one thread, in the main thread),
 * splitting the connections and requests between them, starting them together once every
 * connection is open, sampling their progress every 100 ms (shared memory, so sampling costs
 * the generators nothing) for the progress bar and the throughput-over-time chart, and merging
 * their histograms.
 *
 * @module
 */
import type { Endpoint } from "./bench_connection.ts";
import process from "node:process";
import { monotonicMs } from "../util/clock.ts";
import { Histogram } from "../util/histogram.ts";
import { BenchRun, type RunResult, type RunSpec } from "./bench_runner.ts";
import type { ToWorker } from "./bench_worker.ts";
import type { TestName, Workload } from "./bench_workload.ts";

/** The server to load and how to reach it (everything but the workload). */
export type Target = Endpoint;

/** How much load: connections, requests or duration, pipeline depth. */
export interface Load {
  /** Connections in all (`-c`). */
  clients: number;
  /** Requests in all (`-n`); 0 runs for `durationMs`. */
  requests: number;
  /** Duration in ms (`--duration`) when `requests` is 0. */
  durationMs: number;
  /** Pipeline depth (`-P`). */
  pipeline: number;
}

/** One point of the throughput-over-time series. */
export interface TimelinePoint {
  /** Seconds since the test started (end of the interval). */
  t: number;
  /** Requests per second in the interval ending at `t`. */
  rps: number;
}

/** The measurements of one test against one server. */
export interface TestOutcome {
  /** Which test. */
  test: TestName;
  /** `host:port` of the server. */
  server: string;
  /** Replies received. */
  requests: number;
  /** Error replies among them. */
  errors: number;
  /** The first error's text. */
  firstError: string | null;
  /** Wall time from start to the last reply. */
  seconds: number;
  /** requests / seconds. */
  rps: number;
  /** Latencies in microseconds. */
  histogram: Histogram;
  /** Throughput over time. */
  timeline: TimelinePoint[];
  /**
   * CPU time (user + system, all threads) this process used while the test ran: the
   * generator's own cost, which takes from the server on a small machine.
   */
  cpuSeconds: number;
}

const SAMPLE_MS = 100;

/** A benchmark thread failed (its message says why, e.g. a refused connection). */
export class BenchFailure extends Error {
  override name = "BenchFailure";
}

type FromWorker =
  | { type: "ready" }
  | { type: "done"; result: RunResult }
  | { type: "error"; message: string };

/** A Worker with a request/response helper (each worker handles one message at a time). */
class WorkerLink {
  readonly #worker = new Worker(new URL("./bench_worker.ts", import.meta.url).href, {
    type: "module",
  });
  #waiting: ((message: FromWorker) => void) | null = null;

  constructor() {
    this.#worker.onmessage = (event: MessageEvent<FromWorker>) => this.#waiting?.(event.data);
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#waiting?.({ type: "error", message: event.message });
    };
  }

  request(message: ToWorker): Promise<FromWorker> {
    return new Promise((resolve) => {
      this.#waiting = resolve;
      this.#worker.postMessage(message);
    });
  }

  terminate(): void {
    this.#worker.terminate();
  }
}

function expect<T extends FromWorker["type"]>(
  message: FromWorker,
  type: T,
): Extract<FromWorker, { type: T }> {
  if (message.type === "error") throw new BenchFailure(message.message);
  if (message.type !== type) throw new BenchFailure(`Benchmark worker sent ${message.type}`);
  return message as Extract<FromWorker, { type: T }>;
}

/** Splits `total` into `parts` near-equal integers (earlier parts take the remainder). */
export function split(total: number, parts: number): number[] {
  return Array.from(
    { length: parts },
    (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0),
  );
}

/** Runs tests on a fixed set of threads; close it when done. */
export class BenchPool {
  readonly #workers: WorkerLink[];
  readonly threads: number;

  /** Starts `threads` workers when `threads` > 1; with one thread, tests run in this one. */
  constructor(threads: number) {
    this.threads = threads;
    this.#workers = threads > 1 ? Array.from({ length: threads }, () => new WorkerLink()) : [];
  }

  /**
   * Runs `workload` against `target`; `onProgress(done, elapsedMs)` is called every sample.
   * Rejects with the first error of any thread (e.g. a refused connection).
   */
  async run(
    target: Target,
    load: Load,
    workload: Workload,
    onProgress?: (done: number, elapsedMs: number) => void,
  ): Promise<TestOutcome> {
    const threads = Math.max(1, Math.min(this.threads, load.clients));
    const clients = split(load.clients, threads);
    const requests = clients.map((c) => Math.round((load.requests * c) / load.clients));
    requests[threads - 1] += load.requests - requests.reduce((a, b) => a + b, 0);
    const progress = new Int32Array(new SharedArrayBuffer(4 * threads));
    const specs: RunSpec[] = clients.map((c, i) => ({
      ...target,
      ...workload,
      clients: c,
      requests: requests[i],
      durationMs: load.durationMs,
      pipeline: load.pipeline,
    }));
    let go: () => Promise<RunResult[]>;
    if (this.#workers.length === 0) {
      const run = await BenchRun.prepare(specs[0], progress, 0);
      go = async () => [await run.go()];
    } else {
      const links = this.#workers.slice(0, threads);
      const ready = await Promise.all(
        links.map((link, slot) =>
          link.request({ type: "prepare", spec: specs[slot], progress: progress.buffer, slot })
        ),
      );
      ready.forEach((message) => expect(message, "ready"));
      go = async () => {
        const done = await Promise.all(links.map((link) => link.request({ type: "go" })));
        return done.map((message) => expect(message, "done").result);
      };
    }
    const cpuBefore = process.cpuUsage();
    const started = monotonicMs();
    const samples: { t: number; done: number }[] = [{ t: 0, done: 0 }];
    const sample = () => {
      let done = 0;
      for (let i = 0; i < threads; i++) done += Atomics.load(progress, i);
      const elapsed = monotonicMs() - started;
      samples.push({ t: elapsed / 1000, done });
      onProgress?.(done, elapsed);
    };
    const timer = setInterval(sample, SAMPLE_MS);
    let results: RunResult[];
    try {
      results = await go();
    } finally {
      clearInterval(timer);
    }
    const seconds = (monotonicMs() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    sample();
    const histogram = new Histogram();
    for (const result of results) histogram.merge(Histogram.from(result.histogram));
    const total = results.reduce((n, r) => n + r.requests, 0);
    return {
      test: workload.test,
      server: `${target.host}:${target.port}`,
      requests: total,
      errors: results.reduce((n, r) => n + r.errors, 0),
      firstError: results.find((r) => r.firstError !== null)?.firstError ?? null,
      seconds,
      rps: seconds > 0 ? total / seconds : 0,
      histogram,
      timeline: toTimeline(samples),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
  }

  /** Stops the workers. */
  close(): void {
    for (const worker of this.#workers) worker.terminate();
  }

  /** For `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** Cumulative samples to requests per second per interval. */
function toTimeline(samples: { t: number; done: number }[]): TimelinePoint[] {
  const points: TimelinePoint[] = [];
  for (let i = 1; i < samples.length; i++) {
    const dt = samples[i].t - samples[i - 1].t;
    if (dt <= 0.001) continue;
    points.push({ t: samples[i].t, rps: (samples[i].done - samples[i - 1].done) / dt });
  }
  return points;
}
