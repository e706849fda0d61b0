/**
 * A small cluster-aware client for the failover benchmark, as a client sees a failover: it keeps
 * a slot map read from `CLUSTER SLOTS`, follows `-MOVED`, and when a node cannot be reached (or
 * does not answer in time) drops the connection and re-reads the map from another node. Every
 * connect and every reply is bounded in time, so a dead or stopped node never hangs the caller.
 */
import {
  encodeCommand,
  ReplyDecoder,
  RespError,
  RespSimple,
  type RespValue,
} from "../src/resp/reply_decoder.ts";
import { keySlot } from "../src/cluster/key_slot.ts";
import { CLUSTER_SLOTS } from "../src/cluster/key_slot.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One connection whose calls fail after `timeoutMs` instead of waiting forever. */
export class TimedConn {
  readonly #conn: Deno.TcpConn;
  readonly #decoder = new ReplyDecoder();
  readonly #buf = new Uint8Array(64 * 1024);
  #closed = false;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects to 127.0.0.1:`port` within `timeoutMs`. */
  static async connect(port: number, timeoutMs: number): Promise<TimedConn> {
    const connecting = Deno.connect({ hostname: "127.0.0.1", port });
    const conn = await withTimeout(connecting, timeoutMs, `connect to ${port}`).catch((e) => {
      connecting.then((c) => c.close(), () => {});
      throw e;
    });
    return new TimedConn(conn);
  }

  /** Sends one command and reads its reply; on a timeout or error the connection is closed. */
  async call(args: readonly string[], timeoutMs: number): Promise<RespValue> {
    try {
      await this.#conn.write(encodeCommand(args));
      return await withTimeout(this.#read(), timeoutMs, `reply to ${args[0]}`);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  async #read(): Promise<RespValue> {
    for (;;) {
      const value = this.#decoder.next();
      if (value !== undefined) return value;
      const n = await this.#conn.read(this.#buf);
      if (n === null) throw new Error("connection closed by the server");
      this.#decoder.push(this.#buf.subarray(0, n));
    }
  }

  /** Whether the connection was closed (it is then useless). */
  get closed(): boolean {
    return this.#closed;
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
}

/** Resolves as `promise` does, or rejects after `ms` milliseconds. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A reply as text: an error as `-TEXT`, a status or bulk string as is. */
export function replyText(value: RespValue): string {
  if (value instanceof RespError) return `-${value.message}`;
  if (value instanceof RespSimple) return value.value;
  if (value instanceof Uint8Array) return decoder.decode(value);
  return String(value);
}

/** Options for {@link SlotMapClient}. */
export interface SlotMapClientOptions {
  /** Client ports of the cluster's nodes, where the slot map may be read. */
  seeds: readonly number[];
  /** Bound on a connect or a reply, ms (default 300). */
  timeoutMs?: number;
}

/**
 * Writes through the slot map: a write goes to the node the map names for its key's slot;
 * `-MOVED` corrects the map and is followed; an unreachable node makes the client re-read the
 * map from the other nodes.
 */
export class SlotMapClient {
  readonly #seeds: readonly number[];
  readonly #timeoutMs: number;
  readonly #owners = new Int32Array(CLUSTER_SLOTS).fill(-1);
  readonly #conns = new Map<number, TimedConn>();
  #nextSeed = 0;

  constructor(options: SlotMapClientOptions) {
    this.#seeds = options.seeds;
    this.#timeoutMs = options.timeoutMs ?? 300;
  }

  /** The port the slot map names for `key`'s slot (-1 when unknown). */
  ownerOf(key: string): number {
    return this.#owners[keySlot(encoder.encode(key))];
  }

  /**
   * Reads the slot map from the first seed (round-robin, skipping `avoid`) that answers
   * `CLUSTER SLOTS`; returns whether one did.
   */
  async refresh(avoid = -1): Promise<boolean> {
    for (let i = 0; i < this.#seeds.length; i++) {
      const port = this.#seeds[this.#nextSeed++ % this.#seeds.length];
      if (port === avoid) continue;
      try {
        const reply = await (await this.#conn(port)).call(["CLUSTER", "SLOTS"], this.#timeoutMs);
        if (!Array.isArray(reply)) continue;
        for (const range of reply) {
          if (!Array.isArray(range) || !Array.isArray(range[2])) continue;
          const [start, end, master] = range as [number, number, RespValue[]];
          this.#owners.fill(Number(master[1]), start, end + 1);
        }
        return true;
      } catch {
        this.#drop(port);
      }
    }
    return false;
  }

  /**
   * `SET key value` through the slot map, following up to 5 redirects. Returns the reply text
   * (`OK`, or `-ERROR ...`), or `-CONN ...` when the node could not be reached (the map is then
   * re-read from another node for the next try).
   */
  async set(key: string, value: string): Promise<{ reply: string; port: number }> {
    let port = this.ownerOf(key);
    for (let hop = 0; hop < 5; hop++) {
      if (port < 0) {
        await this.refresh();
        port = this.ownerOf(key);
        if (port < 0) return { reply: "-CONN no node known for the slot", port };
      }
      let reply: string;
      try {
        reply = replyText(
          await (await this.#conn(port)).call(["SET", key, value], this.#timeoutMs),
        );
      } catch (e) {
        this.#drop(port);
        await this.refresh(port);
        return { reply: `-CONN ${e instanceof Error ? e.message : e}`, port };
      }
      const moved = /^-MOVED (\d+) [^:]*:(\d+)$/.exec(reply);
      if (moved === null) return { reply, port };
      port = Number(moved[2]);
      this.#owners[Number(moved[1])] = port;
    }
    return { reply: "-ERR too many redirects", port };
  }

  async #conn(port: number): Promise<TimedConn> {
    const open = this.#conns.get(port);
    if (open !== undefined && !open.closed) return open;
    const conn = await TimedConn.connect(port, this.#timeoutMs);
    this.#conns.set(port, conn);
    return conn;
  }

  #drop(port: number): void {
    this.#conns.get(port)?.close();
    this.#conns.delete(port);
  }

  /** Closes every connection. */
  close(): void {
    for (const conn of this.#conns.values()) conn.close();
    this.#conns.clear();
  }
}
