/**
 * A raw RESP connection for tests: send commands or arbitrary bytes, read decoded replies, see
 * when the server closes the socket. Built on the same reply decoder as the client library.
 */
import {
  encodeCommand,
  ReplyDecoder,
  RespError,
  RespSimple,
  type RespValue,
} from "../../src/resp/reply_decoder.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A test connection; close it with `await using` or {@link close}. */
export class RespConn {
  readonly #conn: Deno.TcpConn;
  readonly #decoder = new ReplyDecoder();
  readonly #buf = new Uint8Array(64 * 1024);
  #eof = false;
  #closed = false;
  /** A socket read still in flight from an earlier call that timed out; reused, never lost. */
  #pendingRead: Promise<number | null> | null = null;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects to 127.0.0.1:`port`. */
  static async connect(port: number, hostname = "127.0.0.1"): Promise<RespConn> {
    return new RespConn(await Deno.connect({ hostname, port }));
  }

  /** Sends raw bytes (or text) exactly as given. */
  async sendRaw(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    let written = 0;
    while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
  }

  /** Sends one command as a RESP multibulk. */
  send(...args: (string | Uint8Array | number)[]): Promise<void> {
    return this.sendRaw(encodeCommand(args));
  }

  /** Reads the next reply; rejects if the server closes the connection first. */
  async read(timeoutMs = 10_000): Promise<RespValue> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const value = this.#decoder.next();
      if (value !== undefined) return value;
      if (this.#eof) throw new Error("Connection closed by the server");
      if (Date.now() > deadline) throw new Error("Timed out waiting for a reply");
      await this.#fill(deadline - Date.now());
    }
  }

  /** Sends a command and reads its reply. */
  async call(...args: (string | Uint8Array | number)[]): Promise<RespValue> {
    await this.send(...args);
    return await this.read();
  }

  /** Resolves true once the server has closed the connection (false if still open at timeout). */
  async closedByServer(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#eof && Date.now() < deadline) {
      while (this.#decoder.next() !== undefined) { /* drain replies */ }
      await this.#fill(deadline - Date.now());
    }
    return this.#eof;
  }

  async #fill(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), Math.max(1, timeoutMs));
    });
    this.#pendingRead ??= this.#conn.read(this.#buf);
    try {
      const n = await Promise.race([this.#pendingRead, timeout]);
      if (n === "timeout") return;
      this.#pendingRead = null;
      if (n === null) this.#eof = true;
      else this.#decoder.push(this.#buf.subarray(0, n));
    } catch {
      this.#pendingRead = null;
      this.#eof = true;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the socket (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  /** For `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/** Renders a reply as plain JS data for assertions: bulk strings as text, errors as `-TEXT`. */
export function plain(value: RespValue): unknown {
  if (value instanceof Uint8Array) return decoder.decode(value);
  if (value instanceof RespSimple) return value.value;
  if (value instanceof RespError) return `-${value.message}`;
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    if ("entries" in value) return value.entries.map(([k, v]) => [plain(k), plain(v)]);
    if ("items" in value) return value.items.map(plain);
    if ("text" in value) return decoder.decode(value.text);
    if ("value" in value) return value.value;
  }
  return value;
}
