/**
 * One TCP connection of the cluster bus: frames arriving bytes into whole messages by their
 * declared length, hands each decoded message to its owner, and queues outgoing frames so
 * that writes never interleave. A frame that fails to decode closes the link (and is logged by
 * the owner); the node keeps serving.
 */
import { type BusMessage, BusProtocolError, decodeMessage, frameLength } from "./bus_codec.ts";
import type { ClusterNode, NodeLink } from "./node.ts";

/** What a link reports to its owner. */
export interface LinkEvents {
  /** A decoded message of `length` bytes arrived. */
  message(link: BusLink, message: BusMessage, length: number): void;
  /**
   * The link closed; `error` says why when it was not closed on purpose, and `cause` what kind
   * of failure it was: bad input from the peer, an I/O error, or an exception in this node's
   * own message handling (or a limit reached).
   */
  closed(link: BusLink, error: string | null, cause: CloseCause): void;
}

const INITIAL_BUFFER = 16 * 1024;

/** Why a link closed (see {@link LinkEvents.closed}). */
export type CloseCause = "closed" | "protocol" | "limit" | "io" | "internal";

/** An exception thrown by the owner's message handler, carried out of the read loop. */
class HandlerError extends Error {
  constructor(readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original));
  }
}

/** A bus connection; see the module comment. */
export class BusLink implements NodeLink {
  /** When it was created (ms). */
  readonly createdAt: number;
  /** Whether this node accepted it (the peer opened it). */
  readonly inbound: boolean;
  /** The node it belongs to: the target of an outbound link, the sender once identified. */
  node: ClusterNode | null;
  /** The peer's address as the socket sees it. */
  peerIp = "";
  /** This side's address as the socket sees it. */
  localIp = "";
  #conn: Deno.Conn | null = null;
  #events: LinkEvents;
  #maxFrame: number;
  #buffer = new Uint8Array(INITIAL_BUFFER);
  #filled = 0;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #writing = false;
  #closed = false;

  /** A link for `node` (null for an inbound link not yet identified). */
  constructor(
    options: { inbound: boolean; node: ClusterNode | null; now: number; maxFrame: number },
    events: LinkEvents,
  ) {
    this.inbound = options.inbound;
    this.node = options.node;
    this.createdAt = options.now;
    this.#maxFrame = options.maxFrame;
    this.#events = events;
  }

  /** Whether the TCP connection is up. */
  get connected(): boolean {
    return this.#conn !== null && !this.#closed;
  }

  /** Whether the link was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes waiting to be written. */
  get sendBufferBytes(): number {
    return this.#queued;
  }

  /** Runs the link over an established connection until it closes. */
  async run(conn: Deno.Conn): Promise<void> {
    if (this.#closed) {
      conn.close();
      return;
    }
    this.#conn = conn;
    const remote = conn.remoteAddr as Deno.NetAddr;
    const local = conn.localAddr as Deno.NetAddr;
    this.peerIp = remote.hostname;
    this.localIp = local.hostname;
    if (this.#queue.length > 0) void this.#flush();
    let error: string | null = null;
    let cause: CloseCause = "closed";
    try {
      while (!this.#closed) {
        if (this.#filled === this.#buffer.length) this.#grow(this.#buffer.length * 2);
        const n = await conn.read(this.#buffer.subarray(this.#filled));
        if (n === null) {
          error = "connection closed by peer";
          cause = "io";
          break;
        }
        this.#filled += n;
        this.#drain();
      }
    } catch (e) {
      if (!this.#closed) {
        error = e instanceof HandlerError
          ? (e.original instanceof Error ? e.original.stack ?? e.message : e.message)
          : e instanceof Error
          ? e.message
          : String(e);
        cause = e instanceof BusProtocolError
          ? "protocol"
          : e instanceof HandlerError
          ? "internal"
          : "io";
      }
    }
    this.close(error, cause);
  }

  #grow(size: number): void {
    const next = new Uint8Array(size);
    next.set(this.#buffer.subarray(0, this.#filled));
    this.#buffer = next;
  }

  #drain(): void {
    let at = 0;
    while (!this.#closed) {
      const view = this.#buffer.subarray(at, this.#filled);
      const length = frameLength(view, this.#maxFrame);
      // Not all there yet. The buffer grows as bytes arrive (run() doubles it when full), never
      // to the declared length ahead of them: a header declaring a gigabyte costs nothing until
      // the gigabyte comes, as in Redis's clusterReadHandler.
      if (length < 0 || view.length < length) break;
      const message = decodeMessage(view.subarray(0, length));
      at += length;
      try {
        this.#events.message(this, message, length);
      } catch (e) {
        throw new HandlerError(e);
      }
    }
    if (at > 0) {
      this.#buffer.copyWithin(0, at, this.#filled);
      this.#filled -= at;
    }
    if (this.#filled === 0 && this.#buffer.length > INITIAL_BUFFER) {
      this.#buffer = new Uint8Array(INITIAL_BUFFER);
    }
  }

  /** Queues a frame; it is written once the connection is up. */
  send(frame: Uint8Array): void {
    if (this.#closed) return;
    this.#queue.push(frame);
    this.#queued += frame.length;
    if (this.#conn !== null && !this.#writing) void this.#flush();
  }

  async #flush(): Promise<void> {
    const conn = this.#conn;
    if (conn === null || this.#writing) return;
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const frames = this.#queue;
        this.#queue = [];
        let total = 0;
        for (const f of frames) total += f.length;
        const out = frames.length === 1 ? frames[0] : new Uint8Array(total);
        if (frames.length > 1) {
          let at = 0;
          for (const f of frames) {
            out.set(f, at);
            at += f.length;
          }
        }
        let written = 0;
        while (written < out.length) written += await conn.write(out.subarray(written));
        this.#queued -= total;
      }
    } catch (e) {
      this.close(e instanceof Error ? e.message : String(e), "io");
    } finally {
      this.#writing = false;
    }
  }

  /** Closes the link (idempotent); `error` and `cause` are reported to the owner. */
  close(error: string | null = null, cause: CloseCause = error === null ? "closed" : "io"): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#queued = 0;
    try {
      this.#conn?.close();
    } catch {
      // Already closed.
    }
    this.#events.closed(this, error, cause);
  }
}

/** An address without the IPv4-mapped IPv6 prefix (`::ffff:10.0.0.1` is `10.0.0.1`). */
export function normalizeIp(ip: string): string {
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}

/** The address a peer's messages come from: its announced IP, or the socket's. */
export function peerIp(link: BusLink, announced: string): string {
  return announced !== "" ? announced : normalizeIp(link.peerIp);
}
