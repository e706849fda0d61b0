/**
 * The client's core: one TCP connection that writes encoded commands and hands decoded replies,
 * in order, to whoever is waiting for them. Everything else (typed helpers, pipelines,
 * transactions, subscriptions, the benchmark, later replication links) is built on it.
 *
 * - Commands are appended to an output buffer and written with one socket write per flush; a
 *   flush is scheduled for the end of the current job (a microtask), so commands issued together
 *   share one write without the caller asking (automatic pipelining). While a write is in flight
 *   the next commands collect in a second buffer.
 * - Replies are matched to waiters ({@link ReplySink}) in order, from a queue. A sink may take
 *   several replies (a pipeline, a benchmark batch), so a batch costs one queue entry and one
 *   promise, not one per command.
 * - The socket is read into one reused buffer and pushed to the growable {@link ReplyDecoder}.
 * - A timeout bounds each wait; a sink that timed out stays queued to absorb its late reply, so
 *   later replies still meet their own commands.
 *
 * @module
 */
import { ConnectTimeout, type ConnectTls, connectWithin } from "../util/connect.ts";
import { appendCommand, type CommandArg } from "../resp/command_writer.ts";
import { ReplyDecoder, RespDecodeError, RespPush, type RespValue } from "../resp/reply_decoder.ts";
import { ByteBuffer } from "../util/bytes.ts";
import { monotonicMs } from "../util/clock.ts";
import { ConnectionError, messageOf, TimeoutError } from "./errors.ts";

/** A waiter for one or more replies, in the order the commands were written. */
export abstract class ReplySink {
  /** `monotonicMs()` after which the wait fails with TimeoutError (Infinity: never). */
  deadline = Infinity;
  /** Set once the sink has failed; it then only absorbs its remaining replies. */
  failed = false;

  /** Takes the next reply; returns true when the sink expects no more. */
  abstract reply(value: RespValue): boolean;

  /** The replies will not (all) come: the connection broke or the wait timed out. */
  abstract fail(error: Error): void;
}

/** A sink for one reply, as a promise. */
class OneReply extends ReplySink {
  resolve!: (value: RespValue) => void;
  reject!: (error: Error) => void;
  readonly promise: Promise<RespValue>;

  constructor() {
    super();
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  reply(value: RespValue): boolean {
    this.resolve(value);
    return true;
  }

  fail(error: Error): void {
    this.reject(error);
  }
}

/** Options of {@link RespConnection.open}. */
export interface ConnectionOptions {
  /** Host name or address (default `127.0.0.1`). */
  host?: string;
  /** TCP port (default 6379). */
  port?: number;
  /** Bounds connecting and each wait for a reply, in ms (default 10 000; 0 waits forever). */
  timeoutMs?: number;
  /**
   * Connect over TLS: `true` verifies the server against the system's roots; an object gives
   * the CA certificates to trust and a client certificate and key to present (PEM text).
   */
  tls?: true | ConnectTls;
  /**
   * Sees every frame before reply matching; returning true consumes it. Used for pub/sub, where
   * messages arrive unasked. Without it, RESP3 push frames are dropped.
   */
  onFrame?: (frame: RespValue) => boolean;
  /** Called once when the connection ends, with the reason (null after `close()`). */
  onClose?: (error: ConnectionError | null) => void;
}

const READ_SIZE = 64 * 1024;
const DEFAULT_TIMEOUT_MS = 10_000;

/** One RESP connection with ordered reply matching; see the module comment. */
export class RespConnection {
  /** The `host:port` it is connected to, for messages. */
  readonly address: string;
  readonly #conn: Deno.Conn;
  readonly #decoder = new ReplyDecoder();
  readonly #timeoutMs: number;
  readonly #onFrame: ((frame: RespValue) => boolean) | undefined;
  readonly #onClose: ((error: ConnectionError | null) => void) | undefined;
  #out = new ByteBuffer(16 * 1024);
  #spare = new ByteBuffer(16 * 1024);
  #writing = false;
  #flushQueued = false;
  /** Waiting sinks: `#queue[#head]` gets the next reply. */
  #queue: ReplySink[] = [];
  #head = 0;
  /** First queue index not yet failed by a timeout. */
  #timeoutScan = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closeError: ConnectionError | null = null;
  #reads = 0;
  #flushes = 0;
  readonly #readLoop: Promise<void>;
  #writeLoop: Promise<void> = Promise.resolve();

  private constructor(conn: Deno.Conn, address: string, options: ConnectionOptions) {
    this.#conn = conn;
    this.address = address;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#onFrame = options.onFrame;
    this.#onClose = options.onClose;
    this.#readLoop = this.#read();
  }

  /**
   * Connects; fails with ConnectionError (refused, unreachable) or TimeoutError. A connection
   * that completes after the timeout is closed rather than leaked.
   */
  static async open(options: ConnectionOptions = {}): Promise<RespConnection> {
    const hostname = options.host ?? "127.0.0.1";
    const port = options.port ?? 6379;
    const address = `${hostname}:${port}`;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    try {
      const tls = options.tls === true ? {} : options.tls;
      const conn = await connectWithin(hostname, port, timeoutMs, tls);
      return new RespConnection(conn, address, options);
    } catch (e) {
      if (e instanceof ConnectTimeout) throw new TimeoutError(e.message);
      throw new ConnectionError(`Cannot connect to ${address}: ${messageOf(e)}`, { cause: e });
    }
  }

  /** How many socket reads have delivered bytes; tells callers when a new chunk began. */
  get reads(): number {
    return this.#reads;
  }

  /** How many buffers have been written (each with one write call unless the socket is full). */
  get flushes(): number {
    return this.#flushes;
  }

  /** Replies still awaited (queued sinks, failed ones included). */
  get pending(): number {
    return this.#queue.length - this.#head;
  }

  /** Whether the connection has ended (closed by either side or broken). */
  get closed(): boolean {
    return this.#closeError !== null;
  }

  /** Sends one command and resolves with its reply (error replies too, as RespError values). */
  call(args: readonly CommandArg[]): Promise<RespValue> {
    const sink = new OneReply();
    this.command(args, sink);
    return sink.promise;
  }

  /** Queues one command whose reply goes to `sink`; with a null sink no reply is expected. */
  command(args: readonly CommandArg[], sink: ReplySink | null): void {
    if (this.#closeError !== null) {
      sink?.fail(this.#closeError);
      return;
    }
    appendCommand(this.#out, args);
    if (sink !== null) this.#enqueue(sink);
    this.#scheduleFlush();
  }

  /**
   * Queues several commands whose replies all go to one `sink` (a pipeline): one queue entry,
   * and the commands are contiguous in the stream, so nothing else interleaves with them.
   */
  batch(commands: readonly (readonly CommandArg[])[], sink: ReplySink): void {
    if (this.#closeError !== null) {
      sink.fail(this.#closeError);
      return;
    }
    for (const args of commands) appendCommand(this.#out, args);
    this.#enqueue(sink);
    this.#scheduleFlush();
  }

  /**
   * Queues bytes already encoded as `count` commands, all of whose replies go to `sink` (the
   * benchmark's pre-encoded batches). With `count` 0 no reply is expected.
   */
  writeEncoded(bytes: Uint8Array, sink: ReplySink | null): void {
    if (this.#closeError !== null) {
      sink?.fail(this.#closeError);
      return;
    }
    this.#out.pushBytes(bytes);
    if (sink !== null) this.#enqueue(sink);
    this.#scheduleFlush();
  }

  /** Adds a sink to the reply queue and arms the timeout for it. */
  #enqueue(sink: ReplySink): void {
    if (this.#timeoutMs > 0) {
      sink.deadline = monotonicMs() + this.#timeoutMs;
      this.#timer ??= setTimeout(() => this.#checkTimeouts(), this.#timeoutMs);
    }
    this.#queue.push(sink);
  }

  #scheduleFlush(): void {
    if (this.#writing || this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      if (!this.#writing && this.#closeError === null) this.#writeLoop = this.#write();
    });
  }

  /** Writes the output buffer, then whatever collected meanwhile, until nothing is left. */
  async #write(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#out.length > 0 && this.#closeError === null) {
        const buffer = this.#out;
        this.#out = this.#spare;
        this.#spare = buffer;
        const bytes = buffer.view();
        this.#flushes++;
        for (let at = 0; at < bytes.length;) at += await this.#conn.write(bytes.subarray(at));
        buffer.reset();
      }
    } catch (e) {
      this.#end(new ConnectionError(`Writing to ${this.address} failed: ${messageOf(e)}`));
    } finally {
      this.#writing = false;
    }
  }

  async #read(): Promise<void> {
    const buffer = new Uint8Array(READ_SIZE);
    const decoder = this.#decoder;
    try {
      for (;;) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        this.#reads++;
        decoder.push(buffer.subarray(0, n));
        for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) {
          this.#dispatch(frame);
        }
      }
      this.#end(new ConnectionError(`Connection to ${this.address} closed by the server`));
    } catch (e) {
      if (this.#closeError !== null) return;
      const what = e instanceof RespDecodeError ? "Protocol error from" : "Reading from";
      this.#end(new ConnectionError(`${what} ${this.address}: ${messageOf(e)}`, { cause: e }));
    }
  }

  #dispatch(frame: RespValue): void {
    if (this.#onFrame !== undefined && this.#onFrame(frame)) return;
    if (frame instanceof RespPush) return;
    const sink = this.#queue[this.#head];
    if (sink === undefined) {
      this.#end(new ConnectionError(`Unexpected reply from ${this.address}`));
      return;
    }
    if (sink.reply(frame)) this.#shift();
  }

  #shift(): void {
    const queue = this.#queue;
    queue[this.#head++] = undefined as unknown as ReplySink;
    if (this.#head === queue.length) {
      queue.length = 0;
      this.#head = this.#timeoutScan = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= queue.length) {
      queue.splice(0, this.#head);
      this.#timeoutScan = Math.max(0, this.#timeoutScan - this.#head);
      this.#head = 0;
    }
  }

  /** Fails every sink whose deadline has passed; re-arms for the next one. */
  #checkTimeouts(): void {
    this.#timer = undefined;
    const now = monotonicMs();
    const queue = this.#queue;
    let i = Math.max(this.#timeoutScan, this.#head);
    for (; i < queue.length; i++) {
      const sink = queue[i];
      if (sink.deadline > now) break;
      if (!sink.failed) {
        sink.failed = true;
        sink.fail(
          new TimeoutError(`No reply from ${this.address} within ${this.#timeoutMs} ms`),
        );
      }
    }
    this.#timeoutScan = i;
    if (i < queue.length && this.#closeError === null) {
      this.#timer = setTimeout(() => this.#checkTimeouts(), Math.max(1, queue[i].deadline - now));
    }
  }

  /** Ends the connection once, failing every waiting sink with `error`. */
  #end(error: ConnectionError, byUser = false): void {
    if (this.#closeError !== null) return;
    this.#closeError = error;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    const queue = this.#queue;
    for (let i = this.#head; i < queue.length; i++) {
      if (!queue[i].failed) {
        queue[i].failed = true;
        queue[i].fail(error);
      }
    }
    this.#queue = [];
    this.#head = this.#timeoutScan = 0;
    this.#onClose?.(byUser ? null : error);
  }

  /**
   * Closes the socket at once; replies still awaited fail with ConnectionError. Resolves when
   * the reader and writer have stopped.
   */
  async close(): Promise<void> {
    this.#end(new ConnectionError(`Connection to ${this.address} was closed`), true);
    await Promise.all([this.#readLoop, this.#writeLoop]);
  }

  /** For `await using`: {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
