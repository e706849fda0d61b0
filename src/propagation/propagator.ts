/**
 * The single point where writes leave the command path (Redis's `propagate`): every command
 * that changed the dataset, rewritten into a form that replays the same way later (absolute
 * expiry times, DEL for keys that expired or were evicted), encoded as RESP commands with a
 * SELECT whenever the database changes. The AOF, and later replication, consume this stream;
 * when nothing consumes it, propagation costs one branch per write.
 *
 * The dispatcher propagates a write command's own arguments after it ran, unless the handler
 * replaced them ({@link Propagator.rewrite}); keys removed by expiry or eviction are propagated
 * as DEL where they happen, so they precede the command that noticed them.
 */
import { encodeCommandInto } from "../resp/encoder.ts";
import { ByteBuffer } from "../util/bytes.ts";

/** One argument of a propagated command: bytes, a binary string, or an integer. */
export type PropagatedArg = Uint8Array | string | number;

/**
 * Receives the encoded stream, one chunk per {@link Propagator.flush}. The chunk is a view of
 * the propagator's buffer, valid only during the call: a sink that keeps it copies it.
 */
export type PropagationSink = (chunk: Uint8Array) => void;

/** The propagation stream; see the module comment. */
export class Propagator {
  #out = new ByteBuffer(64 * 1024);
  #db = -1;
  #sinks: PropagationSink[] = [];
  #rewritten: PropagatedArg[][] | null = null;
  #suppressed = 0;
  /** MULTI/EXEC wrapping: 0 none, 1 asked for (MULTI not written yet), 2 MULTI written. */
  #block = 0;

  /** Whether anything consumes the stream (commands skip rewriting work when not). */
  get active(): boolean {
    return this.#sinks.length > 0 && this.#suppressed === 0;
  }

  /** Bytes encoded and not yet flushed. */
  get pendingBytes(): number {
    return this.#out.length;
  }

  /** Adds a consumer; the next command is preceded by a SELECT so it starts from a known db. */
  addSink(sink: PropagationSink): void {
    this.#sinks.push(sink);
    this.#db = -1;
  }

  /** Removes a consumer. */
  removeSink(sink: PropagationSink): void {
    this.#sinks = this.#sinks.filter((s) => s !== sink);
  }

  /**
   * Runs `body` with propagation off: for replaying the AOF, whose commands are already in the
   * file they come from.
   */
  suppressed<T>(body: () => T): T {
    this.#suppressed++;
    try {
      return body();
    } finally {
      this.#suppressed--;
    }
  }

  /**
   * Replaces what the running command propagates: the handler calls this with the commands
   * that reproduce its effect (none, one, or several, e.g. DEL then SET).
   */
  rewrite(...commands: PropagatedArg[][]): void {
    if (this.active) this.#rewritten = commands;
  }

  /** The rewrite the last command asked for, cleared (for the dispatcher). */
  takeRewrite(): PropagatedArg[][] | null {
    const rewritten = this.#rewritten;
    this.#rewritten = null;
    return rewritten;
  }

  /**
   * Appends a command given as its request arguments, as sent: the hot path (every verbatim
   * write), encoded with one capacity check and no per-argument calls.
   */
  commandBytes(db: number, argv: readonly Uint8Array[]): void {
    if (!this.active) return;
    if (this.#block === 1) this.#openBlock();
    if (db !== this.#db) this.#select(db);
    const out = this.#out;
    let size = 16;
    for (let i = 0; i < argv.length; i++) size += argv[i].length + 16;
    out.reserve(size);
    const b = out.bytes;
    let p = out.length;
    b[p++] = 42;
    p = writeDecimal(b, p, argv.length);
    b[p++] = 13;
    b[p++] = 10;
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i];
      const n = arg.length;
      b[p++] = 36;
      p = writeDecimal(b, p, n);
      b[p++] = 13;
      b[p++] = 10;
      if (n <= 64) { for (let j = 0; j < n; j++) b[p++] = arg[j]; }
      else {
        b.set(arg, p);
        p += n;
      }
      b[p++] = 13;
      b[p++] = 10;
    }
    out.length = p;
  }

  #select(db: number): void {
    encodeCommandInto(this.#out, ["SELECT", db]);
    this.#db = db;
  }

  /**
   * Starts a transaction block (EXEC): the commands propagated until {@link endBlock} are
   * wrapped in MULTI ... EXEC, so that the AOF and replicas apply them atomically. Nothing is
   * written for a block that propagates nothing.
   */
  beginBlock(): void {
    this.#block = 1;
  }

  /** Ends the block begun by {@link beginBlock}. */
  endBlock(): void {
    if (this.#block === 2 && this.active) encodeCommandInto(this.#out, ["EXEC"]);
    this.#block = 0;
  }

  #openBlock(): void {
    encodeCommandInto(this.#out, ["MULTI"]);
    this.#block = 2;
  }

  /** Appends one command run against database `db` to the stream. */
  command(db: number, args: readonly PropagatedArg[]): void {
    if (!this.active) return;
    if (this.#block === 1) this.#openBlock();
    if (db !== this.#db) this.#select(db);
    encodeCommandInto(this.#out, args);
  }

  /** Hands everything encoded since the last flush to the consumers. */
  flush(): void {
    if (this.#out.length === 0) return;
    const chunk = this.#out.view();
    for (const sink of this.#sinks) sink(chunk);
    this.#out.reset();
  }
}

/** Writes the decimal digits of a non-negative integer at `p`; returns the position after. */
function writeDecimal(b: Uint8Array, p: number, n: number): number {
  if (n < 10) {
    b[p] = 48 + n;
    return p + 1;
  }
  if (n < 100) {
    b[p] = 48 + Math.floor(n / 10);
    b[p + 1] = 48 + (n % 10);
    return p + 2;
  }
  const text = String(n);
  for (let i = 0; i < text.length; i++) b[p + i] = text.charCodeAt(i);
  return p + text.length;
}
