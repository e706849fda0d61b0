/**
 * Runs one benchmark test on a group of connections in the current thread (the main thread, or
 * one Worker of `--threads`). Each {@link BenchConnection} keeps one batch of `-P` requests in
 * flight and asks the run for the next batch, so `-n` is shared between the connections as they
 * finish; `--duration` stops handing out batches at the deadline. Every batch is recorded once
 * in the HDR histogram, and progress is published in shared memory for the sampler. A run that
 * stops making progress for 30 s fails, as the client's reply timeout did.
 *
 * @module
 */
import { TimeoutError } from "../client/errors.ts";
import { monotonicMs } from "../util/clock.ts";
import { type BatchSource, BenchConnection, type Endpoint } from "./bench_connection.ts";
import { Histogram, type HistogramData } from "../util/histogram.ts";
import { RequestBuilder, type Workload } from "./bench_workload.ts";

/** Where to connect and how much to send: one thread's share of a test. */
export interface RunSpec extends Workload, Endpoint {
  /** Connections in this thread. */
  clients: number;
  /** Requests to send in all (0: run for `durationMs` instead). */
  requests: number;
  /** Run time in ms when `requests` is 0. */
  durationMs: number;
  /** Requests in flight per connection (`-P`). */
  pipeline: number;
}

/** What one thread measured. */
export interface RunResult {
  /** Replies received. */
  requests: number;
  /** Error replies among them. */
  errors: number;
  /** The first error reply's text, to show the user why. */
  firstError: string | null;
  /** Latencies in microseconds. */
  histogram: HistogramData;
}

/** A run that makes no progress for this long fails, as a client's reply timeout would. */
const STALL_MS = 30_000;

/** One thread's connections for one test; see the module comment. */
export class BenchRun implements BatchSource {
  readonly #spec: RunSpec;
  readonly #connections: BenchConnection[];
  readonly #progress: Int32Array;
  readonly #slot: number;
  readonly histogram = new Histogram();
  #remaining: number;
  #deadline = Infinity;
  #completed = 0;
  #failure: Error | null = null;

  private constructor(
    spec: RunSpec,
    connections: BenchConnection[],
    progress: Int32Array,
    slot: number,
  ) {
    this.#spec = spec;
    this.#connections = connections;
    this.#progress = progress;
    this.#slot = slot;
    this.#remaining = spec.requests;
  }

  /**
   * Opens the connections (authenticated, database selected) so that connecting is not timed.
   * Progress (replies so far) is published in `progress[slot]`.
   */
  static async prepare(spec: RunSpec, progress: Int32Array, slot: number): Promise<BenchRun> {
    const connections: BenchConnection[] = [];
    let stalled = false;
    const guard = setTimeout(() => {
      stalled = true;
      for (const connection of connections) connection.close();
    }, STALL_MS);
    try {
      for (let i = 0; i < spec.clients; i++) {
        connections.push(await BenchConnection.open(spec, STALL_MS));
      }
    } catch (e) {
      for (const connection of connections) connection.close();
      if (!stalled) throw e;
      throw new TimeoutError(`No reply from ${spec.host}:${spec.port} within ${STALL_MS} ms`);
    } finally {
      clearTimeout(guard);
    }
    return new BenchRun(spec, connections, progress, slot);
  }

  /** How many requests the next batch may take (0: done). */
  claim(now: number): number {
    if (this.#failure !== null) return 0;
    if (this.#spec.requests === 0) return now < this.#deadline ? this.#spec.pipeline : 0;
    const n = Math.min(this.#spec.pipeline, this.#remaining);
    this.#remaining -= n;
    return n;
  }

  /** Records a batch: every request with the batch's latency, as redis-benchmark does. */
  completed(count: number, micros: number): void {
    this.histogram.record(micros, count);
    this.#completed += count;
    Atomics.store(this.#progress, this.#slot, this.#completed);
  }

  /** Stops the run with `error` (the first one wins) by closing every connection. */
  #abort(error: unknown): void {
    if (this.#failure !== null) return;
    this.#failure = error instanceof Error ? error : new Error(String(error));
    for (const connection of this.#connections) connection.close();
  }

  /** Runs the test to the end and closes the connections. */
  async go(): Promise<RunResult> {
    if (this.#spec.requests === 0) this.#deadline = monotonicMs() + this.#spec.durationMs;
    let seen = -1;
    let since = monotonicMs();
    const watchdog = setInterval(() => {
      if (this.#completed !== seen) {
        seen = this.#completed;
        since = monotonicMs();
      } else if (monotonicMs() - since > STALL_MS) {
        const where = this.#connections[0]?.address ?? "the server";
        this.#abort(new TimeoutError(`No reply from ${where} within ${STALL_MS} ms`));
      }
    }, 1000);
    try {
      await Promise.all(
        this.#connections.map((connection) =>
          connection.drive(this, new RequestBuilder(this.#spec, this.#spec.pipeline))
            .catch((e) => this.#abort(e))
        ),
      );
    } finally {
      clearInterval(watchdog);
      for (const connection of this.#connections) connection.close();
    }
    if (this.#failure !== null) throw this.#failure;
    let errors = 0;
    let firstError: string | null = null;
    for (const { counter } of this.#connections) {
      errors += counter.errors;
      firstError ??= counter.firstError;
    }
    return { requests: this.#completed, errors, firstError, histogram: this.histogram.toJSON() };
  }
}
