/**
 * MIGRATE's connections to target instances, kept as Redis's `migrateGetSocket` keeps them: one
 * per `host:port` (the two arguments as given), reused by the next MIGRATE to the same target,
 * closed once unused for 10 s, on any I/O error, or to make room when 64 are cached. Replies are
 * read as lines (Redis's `syncReadLine`: at most 1023 bytes, the CR dropped), and each connect,
 * 64 KiB write and socket read waits at most MIGRATE's timeout; a timed-out operation closes the
 * connection, as Redis closes its socket.
 *
 * @module
 */
import { connectSocket, type ConnectTls } from "../util/connect.ts";
import { toBinaryString } from "../util/bytes.ts";

const CACHE_ITEMS = 64;
const CACHE_TTL_MS = 10_000;
const WRITE_CHUNK = 64 * 1024;
const LINE_MAX = 1023;
const LF = 10;
const CR = 13;

/**
 * An I/O failure on a target connection: where it happened and whether it was a timeout (MIGRATE
 * retries once on a fresh connection after other failures, never after a timeout, as Redis does).
 */
export class MigrateIoError extends Error {
  /** `connect` only when the address could not be resolved; Redis reports refusals on write. */
  readonly stage: "connect" | "write" | "read";
  /** Whether the operation ran out of time (Redis's ETIMEDOUT). */
  readonly timedOut: boolean;

  /** Creates the error for a failure at `stage`. */
  constructor(stage: "connect" | "write" | "read", timedOut: boolean, message: string) {
    super(message);
    this.name = "MigrateIoError";
    this.stage = stage;
    this.timedOut = timedOut;
  }
}

const TIMED_OUT = Symbol("timed out");

/** `op`, or TIMED_OUT once `timeoutMs` passed first (`op` may still settle; it is then ignored). */
async function within<T>(op: Promise<T>, timeoutMs: number): Promise<T | typeof TIMED_OUT> {
  op.catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  try {
    return await Promise.race([op, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether a failed connect is one Redis only notices when it first writes (refused, reset,
 * unreachable: its connect just starts the connection); name resolution and address errors fail
 * its connect itself.
 */
function failsOnWrite(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionRefused || e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.TimedOut || e instanceof Deno.errors.NetworkUnreachable ||
    (e instanceof Error && /\(os error \d+\)/.test(e.message));
}

/** One cached connection to a target; see the module comment. */
export class MigrateLink {
  /** The database the connection has selected on the target, or -1 when unknown. */
  lastDb = -1n;
  readonly #conn: Deno.Conn;
  readonly #forget: (link: MigrateLink) => void;
  #buf = new Uint8Array(4096);
  #start = 0;
  #end = 0;
  #closed = false;
  #idle: ReturnType<typeof setTimeout> | undefined;

  /** Wraps a connected socket; `forget` drops the link from its cache when it closes. */
  constructor(conn: Deno.Conn, forget: (link: MigrateLink) => void) {
    this.#conn = conn;
    this.#forget = forget;
  }

  /** Whether the link was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Marks the link in use: it is not closed for idleness meanwhile. */
  acquire(): void {
    clearTimeout(this.#idle);
    this.#idle = undefined;
  }

  /** Marks the link unused: it closes if no MIGRATE takes it within 10 s. */
  release(): void {
    if (this.#closed) return;
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => this.close(), CACHE_TTL_MS);
    // An idle cached link must not keep a stopping process alive.
    Deno.unrefTimer(this.#idle);
  }

  /** Writes all of `bytes`, each 64 KiB chunk within `timeoutMs`. */
  async write(bytes: Uint8Array, timeoutMs: number): Promise<void> {
    for (let at = 0; at < bytes.length;) {
      const chunk = bytes.subarray(at, Math.min(bytes.length, at + WRITE_CHUNK));
      for (let done = 0; done < chunk.length;) {
        const n = await this.#timed("write", this.#conn.write(chunk.subarray(done)), timeoutMs);
        done += n;
      }
      at += chunk.length;
    }
  }

  /**
   * Reads one reply line (without its CR LF) as a binary string; each socket read waits at most
   * `timeoutMs`. A line of nothing but LF counts as a failed read, as in Redis.
   */
  async readLine(timeoutMs: number): Promise<string> {
    for (;;) {
      const buf = this.#buf;
      const limit = Math.min(this.#end, this.#start + LINE_MAX);
      for (let i = this.#start; i < limit; i++) {
        if (buf[i] !== LF) continue;
        const end = i > this.#start && buf[i - 1] === CR ? i - 1 : i;
        const length = i - this.#start;
        const line = toBinaryString(buf, this.#start, end);
        this.#start = i + 1;
        if (length === 0) throw new MigrateIoError("read", false, "Empty line from the target");
        return line;
      }
      if (limit - this.#start === LINE_MAX) {
        // Redis hands over a line cut at 1023 bytes; the rest is read as the next line.
        const line = toBinaryString(buf, this.#start, limit);
        this.#start = limit;
        return line;
      }
      await this.#fill(timeoutMs);
    }
  }

  async #fill(timeoutMs: number): Promise<void> {
    if (this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    const n = await this.#timed("read", this.#conn.read(this.#buf.subarray(this.#end)), timeoutMs);
    if (n === null) {
      this.close();
      throw new MigrateIoError("read", false, "Connection closed by the target");
    }
    this.#end += n;
  }

  /** Runs one socket operation within `timeoutMs`; any failure closes the link. */
  async #timed<T>(stage: "write" | "read", op: Promise<T>, timeoutMs: number): Promise<T> {
    let result: T | typeof TIMED_OUT;
    try {
      result = await within(op, timeoutMs);
    } catch (e) {
      this.close();
      throw new MigrateIoError(stage, false, e instanceof Error ? e.message : String(e));
    }
    if (result === TIMED_OUT) {
      this.close();
      throw new MigrateIoError(stage, true, `No ${stage} progress within ${timeoutMs} ms`);
    }
    return result;
  }

  /** Closes the socket and drops the link from its cache (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#idle);
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    this.#forget(this);
  }
}

/** The cached links of one server, by `host:port` as MIGRATE's arguments spell them. */
export class MigrateLinks {
  readonly #links = new Map<string, MigrateLink>();

  /**
   * The cached link named `name`, or a new connection to `host`:`port` made within `timeoutMs`
   * (MigrateIoError when it fails), over TLS with `tls`. The link is acquired: release it when
   * done.
   */
  async open(
    name: string,
    host: string,
    port: number,
    timeoutMs: number,
    tls?: ConnectTls,
  ): Promise<MigrateLink> {
    const cached = this.#links.get(name);
    if (cached !== undefined) {
      cached.acquire();
      return cached;
    }
    if (this.#links.size >= CACHE_ITEMS) {
      // Too many targets: drop one at random, as Redis does.
      const names = [...this.#links.keys()];
      this.#links.get(names[Math.floor(Math.random() * names.length)])?.close();
    }
    const conn = await MigrateLinks.#connect(host, port, timeoutMs, tls);
    const link = new MigrateLink(conn, (gone) => {
      if (this.#links.get(name) === gone) this.#links.delete(name);
    });
    link.acquire();
    this.#links.set(name, link);
    return link;
  }

  static async #connect(
    host: string,
    port: number,
    timeoutMs: number,
    tls: ConnectTls | undefined,
  ): Promise<Deno.Conn> {
    // Redis cannot resolve a negative port; its connect to port 0 is refused, seen on write.
    if (port < 0) throw new MigrateIoError("connect", false, `Invalid port ${port}`);
    if (port === 0) throw new MigrateIoError("write", false, "Connection refused (port 0)");
    let connecting: Promise<Deno.Conn>;
    try {
      connecting = connectSocket(host, port, tls).then(async (conn) => {
        if (tls === undefined) (conn as Deno.TcpConn).setNoDelay(true);
        else await (conn as Deno.TlsConn).handshake();
        return conn;
      });
    } catch (e) {
      throw new MigrateIoError("connect", false, e instanceof Error ? e.message : String(e));
    }
    let result: Deno.Conn | typeof TIMED_OUT;
    try {
      result = await within(connecting, timeoutMs);
    } catch (e) {
      const stage = failsOnWrite(e) ? "write" : "connect";
      throw new MigrateIoError(stage, false, e instanceof Error ? e.message : String(e));
    }
    if (result === TIMED_OUT) {
      connecting.then((late) => late.close(), () => {});
      throw new MigrateIoError("write", true, `Connecting took more than ${timeoutMs} ms`);
    }
    return result;
  }
}
