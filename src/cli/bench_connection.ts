/**
 * One `gocache bench` connection: a raw TCP socket driven the way redis-benchmark drives its
 * clients, because at `-P 16` on a small machine the generator's CPU per request decides how
 * much of the machine is left for the server. Per batch of `-P` requests it does one socket
 * write of bytes from a RequestBuilder (bench_workload.ts), socket reads into one reused buffer
 * until the {@link ReplyCounter} has counted that many replies, two clock reads and one
 * histogram record: no reply decoding, no promise or closure per request.
 *
 * @module
 */
import { ConnectTimeout, type ConnectTls, connectWithin } from "../util/connect.ts";
import { encodeCommand } from "../resp/command_writer.ts";
import { ReplyCounter } from "../resp/reply_counter.ts";
import { ConnectionError, messageOf, ReplyError, TimeoutError } from "../client/errors.ts";
import { monotonicMs } from "../util/clock.ts";

/** Where to connect and how to log in. */
export interface Endpoint {
  /** Server host. */
  host: string;
  /** Server port. */
  port: number;
  /** AUTH password, if any. */
  password?: string;
  /** Database to SELECT, if not 0. */
  db?: number;
  /** TLS (`--tls`): the CA certificates to trust and a client certificate, as PEM text. */
  tls?: ConnectTls;
}

/** What a connection asks of the run it belongs to, once per batch. */
export interface BatchSource {
  /** How many requests the next batch may take (0: stop); `now` is `monotonicMs()`. */
  claim(now: number): number;
  /** A batch of `count` requests completed; its first reply arrived after `micros` µs. */
  completed(count: number, micros: number): void;
}

/** The bytes of a batch of `count` requests; see {@link RequestBuilder.next}. */
export interface BatchBytes {
  /** The next `count` requests, encoded (valid until the next call). */
  next(count: number): Uint8Array;
}

const READ_SIZE = 64 * 1024;

/** A connected, authenticated benchmark socket; see the module comment. */
export class BenchConnection {
  /** `host:port`, for messages. */
  readonly address: string;
  /** Counts this connection's replies (a fresh one after AUTH and SELECT). */
  counter = new ReplyCounter();
  readonly #conn: Deno.Conn;
  readonly #buffer = new Uint8Array(READ_SIZE);
  #closed = false;

  private constructor(conn: Deno.Conn, address: string) {
    this.#conn = conn;
    this.address = address;
  }

  /**
   * Connects, sends AUTH and SELECT when asked, and checks their replies. Fails with
   * ConnectionError (refused, closed), TimeoutError or ReplyError (e.g. a wrong password).
   */
  static async open(endpoint: Endpoint, timeoutMs: number): Promise<BenchConnection> {
    const address = `${endpoint.host}:${endpoint.port}`;
    let conn: Deno.Conn;
    try {
      conn = await connectWithin(endpoint.host, endpoint.port, timeoutMs, endpoint.tls);
    } catch (e) {
      if (e instanceof ConnectTimeout) throw new TimeoutError(e.message);
      throw new ConnectionError(`Cannot connect to ${address}: ${messageOf(e)}`, { cause: e });
    }
    const connection = new BenchConnection(conn, address);
    try {
      await connection.#handshake(endpoint);
    } catch (e) {
      connection.close();
      throw e;
    }
    return connection;
  }

  /** AUTH and SELECT, each answered before the next; an error reply fails the connection. */
  async #handshake(endpoint: Endpoint): Promise<void> {
    const commands: (string | number)[][] = [];
    if (endpoint.password !== undefined) commands.push(["AUTH", endpoint.password]);
    if (endpoint.db !== undefined && endpoint.db !== 0) commands.push(["SELECT", endpoint.db]);
    for (const command of commands) {
      const bytes = encodeCommand(command);
      let left = 1;
      const once: BatchSource = { claim: () => left-- > 0 ? 1 : 0, completed() {} };
      await this.drive(once, { next: () => bytes });
      if (this.counter.firstError !== null) throw new ReplyError(this.counter.firstError);
    }
    this.counter = new ReplyCounter();
  }

  /**
   * Sends batches from `requests` as long as `source` hands out requests, one batch in flight:
   * one write, then reads until the batch's replies are counted. Latency is measured as
   * redis-benchmark does: from just before the write to the first read that brings back bytes,
   * and every request of the batch is recorded with it.
   */
  async drive(source: BatchSource, requests: BatchBytes): Promise<void> {
    const conn = this.#conn;
    const buffer = this.#buffer;
    const counter = this.counter;
    try {
      for (;;) {
        const start = monotonicMs();
        const count = source.claim(start);
        if (count === 0) return;
        const bytes = requests.next(count);
        let written = await conn.write(bytes);
        while (written < bytes.length) written += await conn.write(bytes.subarray(written));
        let latency = -1;
        for (let pending = count; pending > 0;) {
          const n = await conn.read(buffer);
          if (n === null) {
            throw new ConnectionError(`Connection to ${this.address} closed by the server`);
          }
          if (latency < 0) latency = monotonicMs() - start;
          pending -= counter.scan(buffer, 0, n);
          if (counter.failure !== null) {
            throw new ConnectionError(`Protocol error from ${this.address}: ${counter.failure}`);
          }
          if (pending < 0) throw new ConnectionError(`Unexpected reply from ${this.address}`);
        }
        source.completed(count, latency * 1000);
      }
    } catch (e) {
      if (e instanceof ConnectionError) throw e;
      throw new ConnectionError(`Connection to ${this.address} failed: ${messageOf(e)}`, {
        cause: e,
      });
    }
  }

  /** Closes the socket (again is a no-op); a pending read or write then fails. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime.
    }
  }
}
