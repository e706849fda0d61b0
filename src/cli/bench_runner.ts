/**
 * Runs one benchmark test on a group of connections in the current thread (the main thread, or
 * one Worker of `--threads`). Each connection keeps one batch of `-P` requests in flight: it
 * copies the batch from the templates, writes it with one socket write, and waits for the batch's
 * replies through a single reply sink (one promise per batch, not per request). Latency is
 * measured as redis-benchmark does: from the batch's write to the socket read that delivered
 * each reply, the clock being read once per read, not per reply.
 *
 * @module
 */
import { type Client, connect } from "../client/client.ts";
import { ReplySink } from "../client/connection.ts";
import { RespError, type RespValue } from "../resp/reply_decoder.ts";
import { ByteBuffer } from "../util/bytes.ts";
import { monotonicMs } from "../util/clock.ts";
import { Histogram, type HistogramData } from "../util/histogram.ts";
import { RequestBuilder, type Workload } from "./bench_workload.ts";

/** Where to connect and how much to send: one thread's share of a test. */
export interface RunSpec extends Workload {
  /** Server host. */
  host: string;
  /** Server port. */
  port: number;
  /** AUTH password, if any. */
  password?: string;
  /** Database to SELECT, if not 0. */
  db?: number;
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

/** Collects one batch's replies and records their latencies. */
class BatchSink extends ReplySink {
  remaining: number;
  start = 0;
  #lastRead = -1;
  /** Latency (µs) of the replies of the current read, and how many there were so far. */
  #latency = 0;
  #sameRead = 0;
  resolve!: () => void;
  reject!: (e: Error) => void;
  readonly promise: Promise<void>;

  constructor(
    count: number,
    readonly run: BenchRun,
    readonly reads: () => number,
  ) {
    super();
    this.remaining = count;
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  reply(value: RespValue): boolean {
    const reads = this.reads();
    if (reads !== this.#lastRead) {
      // Replies delivered by one read share one latency: record them once, with their count.
      if (this.#sameRead > 0) this.run.record(this.#latency, this.#sameRead);
      this.#lastRead = reads;
      this.#latency = (monotonicMs() - this.start) * 1000;
      this.#sameRead = 0;
    }
    this.#sameRead++;
    if (value instanceof RespError) this.run.recordError(value);
    if (--this.remaining > 0) return false;
    this.run.record(this.#latency, this.#sameRead);
    this.resolve();
    return true;
  }

  fail(error: Error): void {
    this.reject(error);
  }
}

/** One thread's connections for one test; see the module comment. */
export class BenchRun {
  readonly #spec: RunSpec;
  readonly #clients: Client[];
  readonly #progress: Int32Array;
  readonly #slot: number;
  readonly histogram = new Histogram();
  #remaining: number;
  #deadline = Infinity;
  #completed = 0;
  #errors = 0;
  #firstError: string | null = null;

  private constructor(spec: RunSpec, clients: Client[], progress: Int32Array, slot: number) {
    this.#spec = spec;
    this.#clients = clients;
    this.#progress = progress;
    this.#slot = slot;
    this.#remaining = spec.requests;
  }

  /**
   * Opens the connections (authenticated, database selected) so that connecting is not timed.
   * Progress (replies so far) is published in `progress[slot]`.
   */
  static async prepare(spec: RunSpec, progress: Int32Array, slot: number): Promise<BenchRun> {
    const clients: Client[] = [];
    try {
      for (let i = 0; i < spec.clients; i++) {
        clients.push(
          await connect({
            host: spec.host,
            port: spec.port,
            password: spec.password,
            db: spec.db,
            timeoutMs: 30_000,
          }),
        );
      }
    } catch (e) {
      await Promise.all(clients.map((client) => client.close()));
      throw e;
    }
    return new BenchRun(spec, clients, progress, slot);
  }

  /** Records `count` replies that took `micros` microseconds. */
  record(micros: number, count: number): void {
    this.histogram.record(micros, count);
  }

  /** Counts an error reply, keeping the first one's text. */
  recordError(error: RespError): void {
    this.#errors++;
    this.#firstError ??= error.message;
  }

  /** How many requests the next batch may take (0: done). */
  #claim(): number {
    if (this.#spec.requests === 0) {
      return monotonicMs() < this.#deadline ? this.#spec.pipeline : 0;
    }
    const n = Math.min(this.#spec.pipeline, this.#remaining);
    this.#remaining -= n;
    return n;
  }

  async #drive(client: Client): Promise<void> {
    const conn = client.connection;
    const builder = new RequestBuilder(this.#spec);
    const out = new ByteBuffer(64 * 1024);
    const reads = () => conn.reads;
    for (let n = this.#claim(); n > 0; n = this.#claim()) {
      out.length = 0;
      builder.append(out, n);
      const sink = new BatchSink(n, this, reads);
      sink.start = monotonicMs();
      conn.writeEncoded(out.view(), sink);
      await sink.promise;
      this.#completed += n;
      Atomics.store(this.#progress, this.#slot, this.#completed);
    }
  }

  /** Runs the test to the end and closes the connections. */
  async go(): Promise<RunResult> {
    if (this.#spec.requests === 0) this.#deadline = monotonicMs() + this.#spec.durationMs;
    try {
      await Promise.all(this.#clients.map((client) => this.#drive(client)));
    } finally {
      await Promise.all(this.#clients.map((client) => client.close()));
    }
    return {
      requests: this.#completed,
      errors: this.#errors,
      firstError: this.#firstError,
      histogram: this.histogram.toJSON(),
    };
  }
}
