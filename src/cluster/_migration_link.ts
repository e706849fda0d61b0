/**
 * An atomic slot migration's connection from the source to the target's client port: a
 * full-duplex pipe of RESP commands, written as they are queued (one socket write for all that
 * was queued in one event loop turn) and read by a loop that hands every reply, in order, to
 * its owner. MIGRATE's cached links (commands/_migrate_link.ts) do not fit: they read one
 * reply line at a time after a request, where a migration keeps tens of thousands of commands
 * in flight and must read bulk and array replies of forwarded writes too.
 *
 * @module
 */
import { type ConnectTls, connectWithin } from "../util/connect.ts";
import { ReplyDecoder, type RespValue } from "../resp/reply_decoder.ts";
import { encodeCommandInto } from "../resp/encoder.ts";
import { ByteBuffer } from "../util/bytes.ts";

/** One argument of a queued command (a string is a binary string, as in propagation). */
export type LinkArg = Uint8Array | string | number;

/** What the link tells its owner. */
export interface LinkEvents {
  /** A reply, in the order the commands were queued. */
  reply(value: RespValue): void;
  /** The connection closed or failed (not called after {@link MigrationLink.close}). */
  closed(error: string): void;
}

/** The connection; see the module comment. */
export class MigrationLink {
  readonly #conn: Deno.Conn;
  readonly #events: LinkEvents;
  #out = new ByteBuffer(256 * 1024);
  #spare = new ByteBuffer(256 * 1024);
  #writing = false;
  #closed = false;
  /** Bytes queued and not yet handed to the socket. */
  #unwritten = 0;
  /** Bytes queued since the link opened. */
  bytesQueued = 0;

  private constructor(conn: Deno.Conn, events: LinkEvents) {
    this.#conn = conn;
    this.#events = events;
  }

  /** Connects to `host`:`port` within `timeoutMs` (over TLS with `tls`) and starts reading. */
  static async open(
    host: string,
    port: number,
    timeoutMs: number,
    events: LinkEvents,
    tls?: ConnectTls,
  ): Promise<MigrationLink> {
    const conn = await connectWithin(host, port, timeoutMs, tls);
    const link = new MigrationLink(conn, events);
    void link.#readLoop();
    return link;
  }

  /** Whether the link was closed (by either side). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes queued but not yet written to the socket (back pressure). */
  get unwrittenBytes(): number {
    return this.#unwritten;
  }

  /** Queues one command; returns its encoded size. */
  send(args: readonly LinkArg[]): number {
    if (this.#closed) return 0;
    const before = this.#out.length;
    encodeCommandInto(this.#out, args);
    const size = this.#out.length - before;
    this.#unwritten += size;
    this.bytesQueued += size;
    if (!this.#writing) {
      this.#writing = true;
      // Everything queued in this turn goes out in one write.
      queueMicrotask(() => void this.#writeLoop());
    }
    return size;
  }

  async #writeLoop(): Promise<void> {
    try {
      while (!this.#closed && this.#out.length > 0) {
        const chunk = this.#out;
        this.#out = this.#spare;
        this.#spare = chunk;
        const bytes = chunk.view();
        for (let done = 0; done < bytes.length;) {
          done += await this.#conn.write(bytes.subarray(done));
        }
        this.#unwritten -= bytes.length;
        chunk.reset(4 * 1024 * 1024);
      }
    } catch (e) {
      this.#fail(`write failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.#writing = false;
    }
  }

  async #readLoop(): Promise<void> {
    const decoder = new ReplyDecoder();
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) {
          this.#fail("connection closed by the target");
          return;
        }
        decoder.push(buf.subarray(0, n));
        for (let value = decoder.next(); value !== undefined; value = decoder.next()) {
          if (this.#closed) return;
          this.#events.reply(value);
        }
      }
    } catch (e) {
      this.#fail(`read failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  #fail(error: string): void {
    if (this.#closed) return;
    this.close();
    this.#events.closed(error);
  }

  /** Closes the socket; queued commands are dropped. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }
}
