/**
 * A TLS server socket from `node:tls`, seen as a `Deno.Conn` so that {@link Connection} (and
 * the cluster bus) serve it exactly as a TCP connection.
 *
 * Why `node:tls` and not `Deno.listenTls`: Deno's own TLS server cannot ask a client for a
 * certificate nor limit protocol versions, and Redis's `tls-auth-clients yes` (its default)
 * and `tls-protocols` need both. Deno's `node:tls` runs the same rustls underneath with
 * `requestCert`, `ca`, `minVersion` and `maxVersion`. Its sockets are event-driven; this class
 * turns them back into `read`/`write` promises: received chunks wait in a queue (reading pauses
 * past {@link HIGH_WATER_BYTES}, as a TCP receive window would), and a write resolves once the
 * socket has taken the bytes, so the caller may reuse its buffer as after `Deno.Conn.write`.
 */
import type { TLSSocket } from "node:tls";

/** Queued received bytes past which the socket stops reading until they are consumed. */
const HIGH_WATER_BYTES = 256 * 1024;

/** A `node:tls` socket with the part of `Deno.Conn` that gocache's connections use. */
export class TlsSocketConn implements Deno.Conn {
  readonly #socket: TLSSocket;
  #chunks: Uint8Array[] = [];
  #queued = 0;
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  /** The peer's address, as Deno reports a TCP peer. */
  readonly remoteAddr: Deno.NetAddr;
  /** The local address the peer connected to. */
  readonly localAddr: Deno.NetAddr;

  /** Wraps a socket whose handshake has completed. */
  constructor(socket: TLSSocket) {
    this.#socket = socket;
    this.remoteAddr = netAddr(socket.remoteAddress, socket.remotePort);
    this.localAddr = netAddr(socket.localAddress, socket.localPort);
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#queued += chunk.length;
      if (this.#queued > HIGH_WATER_BYTES) socket.pause();
      this.#wakeReader();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#wakeReader();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#wakeReader();
    });
    socket.on("error", (e: Error) => {
      this.#error = e;
      this.#wakeReader();
    });
  }

  /** Reads what has arrived into `p`; null at the end of the stream. */
  async read(p: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#error !== null) throw new Deno.errors.ConnectionReset(this.#error.message);
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    let n = 0;
    while (n < p.length && this.#chunks.length > 0) {
      const chunk = this.#chunks[0];
      const take = Math.min(chunk.length, p.length - n);
      p.set(take === chunk.length ? chunk : chunk.subarray(0, take), n);
      n += take;
      if (take === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(take);
    }
    this.#queued -= n;
    if (this.#queued <= HIGH_WATER_BYTES && this.#socket.isPaused()) this.#socket.resume();
    return n;
  }

  /** Writes all of `p`; resolves with its length once the socket has taken it. */
  write(p: Uint8Array): Promise<number> {
    if (this.#socket.destroyed) return Promise.reject(new Deno.errors.BrokenPipe("closed"));
    return new Promise((resolve, reject) => {
      this.#socket.write(p, (e?: Error | null) => {
        if (e) reject(new Deno.errors.BrokenPipe(e.message));
        else resolve(p.length);
      });
    });
  }

  /** Closes the connection at once; a pending read ends with null. */
  close(): void {
    this.#ended = true;
    this.#socket.destroy();
    this.#wakeReader();
  }

  /** Sends the TLS close notification and stops writing. */
  closeWrite(): Promise<void> {
    this.#socket.end();
    return Promise.resolve();
  }

  /** Turns Nagle's algorithm off (replies are written whole). */
  setNoDelay(noDelay = true): void {
    this.#socket.setNoDelay(noDelay);
  }

  /** Keeps the TCP connection alive with probes. */
  setKeepAlive(keepAlive = true): void {
    this.#socket.setKeepAlive(keepAlive);
  }

  /** Node's sockets have no resource id; Deno APIs that take one are not used with this. */
  get rid(): number {
    return -1;
  }

  /** Event-loop references are left as they are. */
  ref(): void {}

  /** Event-loop references are left as they are. */
  unref(): void {}

  /** Not used: connections read with {@link read}. */
  get readable(): ReadableStream<Uint8Array<ArrayBuffer>> {
    throw new Error("TlsSocketConn has no readable stream");
  }

  /** Not used: connections write with {@link write}. */
  get writable(): WritableStream<Uint8Array<ArrayBufferLike>> {
    throw new Error("TlsSocketConn has no writable stream");
  }

  /** Closes the connection. */
  [Symbol.dispose](): void {
    this.close();
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

/** A Deno-style TCP address from node's address and port (IPv4-mapped IPv6 shown as IPv4). */
function netAddr(address: string | undefined, port: number | undefined): Deno.NetAddr {
  const hostname = (address ?? "").startsWith("::ffff:") && (address ?? "").includes(".")
    ? (address ?? "").slice(7)
    : address ?? "";
  return { transport: "tcp", hostname, port: port ?? 0 };
}
