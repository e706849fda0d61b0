/**
 * `gocache snapshot save`: asks a running node (gocache or redis-server) for a snapshot over
 * RESP and waits until it is on disk. It reads LASTSAVE and `rdb_saves` (INFO persistence),
 * sends BGSAVE, then polls both every 100 ms until no save is in progress
 * (`rdb_bgsave_in_progress:0`) and either LASTSAVE has moved or `rdb_saves` has grown. Both are
 * needed: LASTSAVE counts whole seconds, so a save that ends within the second of the previous
 * one leaves it unchanged. A background save that ends without either changing, while
 * `rdb_last_bgsave_status` reads `err`, is reported as failed.
 *
 * The connection is a few lines over the shared reply decoder (the CLI must not depend on the
 * test harness); one deadline bounds connecting, authenticating and waiting.
 *
 * @module
 */
import {
  encodeCommand,
  ReplyDecoder,
  RespError,
  RespSimple,
  type RespValue,
  RespVerbatim,
} from "../resp/reply_decoder.ts";
import { fromUtf8 } from "../util/bytes.ts";
import { SnapshotError } from "./snapshot_read.ts";

/** Options of {@link saveRemote}. */
export interface SaveOptions {
  /** Host name or address of the node. */
  host: string;
  /** Its client port. */
  port: number;
  /** Sent with AUTH first when given. */
  password?: string;
  /** Give up after this many milliseconds in all. */
  timeoutMs: number;
}

/** Milliseconds between polls. */
const POLL_MS = 100;

/** A request/reply connection whose every wait ends at one deadline. */
class Link {
  readonly #conn: Deno.TcpConn;
  readonly #decoder = new ReplyDecoder();
  readonly #buf = new Uint8Array(16 * 1024);
  readonly #deadline: Deadline;
  readonly #what: string;

  private constructor(conn: Deno.TcpConn, deadline: Deadline, what: string) {
    this.#conn = conn;
    this.#deadline = deadline;
    this.#what = what;
  }

  /** Connects to `host:port`, failing with a SnapshotError on refusal or at the deadline. */
  static async open(host: string, port: number, deadline: Deadline): Promise<Link> {
    const what = `${host}:${port}`;
    const connecting = Deno.connect({ hostname: host, port });
    try {
      const conn = await withDeadline(connecting, deadline, `connecting to ${what}`);
      return new Link(conn, deadline, what);
    } catch (e) {
      // A connection that arrives after the deadline is closed rather than leaked.
      connecting.then((conn) => conn.close(), () => {});
      if (e instanceof SnapshotError) throw e;
      throw new SnapshotError(`cannot connect to ${what}: ${message(e)}`);
    }
  }

  /** Sends a command and resolves with its reply (error replies included, as values). */
  async call(...args: string[]): Promise<RespValue> {
    const bytes = encodeCommand(args);
    try {
      for (let at = 0; at < bytes.length;) at += await this.#conn.write(bytes.subarray(at));
      for (;;) {
        const reply = this.#decoder.next();
        if (reply !== undefined) return reply;
        const n = await withDeadline(
          this.#conn.read(this.#buf),
          this.#deadline,
          `waiting for the reply to ${args[0]}`,
        );
        if (n === null) throw new SnapshotError(`${this.#what} closed the connection`);
        this.#decoder.push(this.#buf.subarray(0, n));
      }
    } catch (e) {
      if (e instanceof SnapshotError) throw e;
      throw new SnapshotError(`connection to ${this.#what} failed: ${message(e)}`);
    }
  }

  /** Closes the socket (a read still pending then fails, and is ignored). */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** When to give up (ms since the epoch), and the timeout it came from, for messages. */
interface Deadline {
  at: number;
  timeoutMs: number;
}

/** The SnapshotError for a deadline passed while `doing` something. */
function timedOut(deadline: Deadline, doing: string): SnapshotError {
  return new SnapshotError(`timed out after ${deadline.timeoutMs / 1000} s ${doing}`);
}

/** Resolves as `promise` does, or fails with "timed out ..." at the deadline. */
async function withDeadline<T>(promise: Promise<T>, deadline: Deadline, doing: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(timedOut(deadline, doing)),
      Math.max(0, deadline.at - Date.now()),
    );
  });
  promise.catch(() => {}); // Fails later, once the connection is closed.
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A reply as text (simple, bulk, verbatim), or null for anything else. */
function replyText(reply: RespValue): string | null {
  if (reply instanceof RespSimple) return reply.value;
  if (reply instanceof Uint8Array) return fromUtf8(reply);
  if (reply instanceof RespVerbatim) return fromUtf8(reply.text);
  return null;
}

/** Fails with the error reply to `command`, or returns the reply. */
function expectOk(command: string, reply: RespValue): RespValue {
  if (reply instanceof RespError) throw new SnapshotError(`${command} failed: ${reply.message}`);
  return reply;
}

/** LASTSAVE's answer in seconds. */
async function lastSave(link: Link): Promise<number> {
  const reply = expectOk("LASTSAVE", await link.call("LASTSAVE"));
  if (typeof reply !== "number") throw new SnapshotError("LASTSAVE did not reply an integer");
  return reply;
}

/** The `field:value` lines of INFO persistence. */
async function persistenceInfo(link: Link): Promise<Map<string, string>> {
  const text = replyText(expectOk("INFO", await link.call("INFO", "persistence"))) ?? "";
  const fields = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0 && !line.startsWith("#")) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** `rdb_saves` as a number, or null when the server does not report it. */
function savesOf(info: Map<string, string>): number | null {
  const saves = info.get("rdb_saves");
  return saves === undefined || !/^\d+$/.test(saves) ? null : Number(saves);
}

/**
 * Triggers BGSAVE on the node and waits for it to finish; resolves with the new LASTSAVE (ms
 * since the epoch). Fails with a SnapshotError on a connection error, an error reply (the
 * server's text), a failed save, or the deadline.
 */
export async function saveRemote(options: SaveOptions): Promise<number> {
  const deadline = { at: Date.now() + options.timeoutMs, timeoutMs: options.timeoutMs };
  const link = await Link.open(options.host, options.port, deadline);
  try {
    if (options.password !== undefined) {
      expectOk("AUTH", await link.call("AUTH", options.password));
    }
    const before = await lastSave(link);
    const savesBefore = savesOf(await persistenceInfo(link));
    expectOk("BGSAVE", await link.call("BGSAVE"));
    for (;;) {
      const info = await persistenceInfo(link);
      const last = await lastSave(link);
      if (info.get("rdb_bgsave_in_progress") !== "1") {
        const saves = savesOf(info);
        const grew = saves !== null && savesBefore !== null && saves > savesBefore;
        if (last !== before || grew) return last * 1000;
        if (info.get("rdb_last_bgsave_status") === "err") {
          throw new SnapshotError("the background save failed (rdb_last_bgsave_status:err)");
        }
      }
      if (Date.now() + POLL_MS > deadline.at) {
        throw timedOut(deadline, "waiting for the background save to finish");
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    link.close();
  }
}
