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
 *
 * A tap ({@link Propagator.addTap}) sees each propagated command as arguments, before it is
 * encoded: an atomic slot migration forwards the writes to its slots' keys from there.
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

/**
 * Sees one propagated command, as arguments, when it enters the stream (MULTI, EXEC and SELECT
 * are not shown). The arguments may be views of a request buffer: a tap that keeps them copies.
 */
export type PropagationTap = (db: number, args: readonly PropagatedArg[]) => void;

/** The propagation stream; see the module comment. */
export class Propagator {
  #out = new ByteBuffer(64 * 1024);
  #db = -1;
  #sinks: PropagationSink[] = [];
  #taps: PropagationTap[] = [];
  #rewritten: PropagatedArg[][] | null = null;
  #suppressed = 0;
  /** 1 while a MULTI/EXEC block is open (see {@link beginBlock}), else 0. */
  #block = 0;
  /**
   * The open block's commands (with their SELECTs), held until {@link endBlock}: a block that
   * propagates one command sends it bare, as Redis 7.0 does (one command is atomic already),
   * and no part of a block reaches a flush before its end, so that a script running past the
   * busy threshold, whose block spans event-loop turns, leaves nothing half-written in the AOF
   * or on followers, and a block that ends in a shutdown can be dropped.
   */
  #held = new ByteBuffer(256);
  /** The commands in {@link #held}. */
  #heldCommands = 0;
  /** The stream's database when the open block began (restored when it is dropped). */
  #dbAtBlock = -1;
  /** Whether anything consumes the stream (commands skip rewriting work when not). */
  get active(): boolean {
    return (this.#sinks.length > 0 || this.#taps.length > 0) && this.#suppressed === 0;
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

  /**
   * Makes the next command start with a SELECT: a follower that just copied the dataset
   * must learn the database from the stream.
   */
  forceSelect(): void {
    this.#db = -1;
  }

  /** Removes a consumer. */
  removeSink(sink: PropagationSink): void {
    this.#sinks = this.#sinks.filter((s) => s !== sink);
  }

  /** Adds a tap (see {@link PropagationTap}). */
  addTap(tap: PropagationTap): void {
    this.#taps.push(tap);
  }

  /** Removes a tap. */
  removeTap(tap: PropagationTap): void {
    this.#taps = this.#taps.filter((t) => t !== tap);
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

  #select(db: number): void {
    encodeCommandInto(this.#out, ["SELECT", db]);
    this.#db = db;
  }

  /**
   * Starts a transaction block (EXEC, a script): the commands propagated until {@link endBlock}
   * are wrapped in MULTI ... EXEC, so that the AOF and replicas apply them atomically. Nothing is
   * written for a block that propagates nothing, and a block that propagates one command sends
   * it alone, as Redis 7.0 does.
   */
  beginBlock(): void {
    this.#block = 1;
    this.#dbAtBlock = this.#db;
  }

  /** Whether a transaction block is open ({@link beginBlock} without {@link endBlock} yet). */
  get inBlock(): boolean {
    return this.#block !== 0;
  }

  /** Ends the block begun by {@link beginBlock}: its commands enter the stream. */
  endBlock(): void {
    if (this.#heldCommands > 1) encodeCommandInto(this.#out, ["MULTI"]);
    if (this.#heldCommands > 0) this.#out.pushBytes(this.#held.view());
    if (this.#heldCommands > 1) encodeCommandInto(this.#out, ["EXEC"]);
    this.#closeBlock();
  }

  /**
   * Drops the open block: none of its commands enter the stream (a busy script that wrote, cut
   * short by a shutdown: its writes are not to be persisted or replicated half done).
   */
  discardBlock(): void {
    if (this.#heldCommands > 0) this.#db = this.#dbAtBlock;
    this.#closeBlock();
  }

  #closeBlock(): void {
    this.#held.reset();
    this.#heldCommands = 0;
    this.#block = 0;
  }

  /** Appends one command run against database `db` to the stream. */
  command(db: number, args: readonly PropagatedArg[]): void {
    if (!this.active) return;
    for (const tap of this.#taps) tap(db, args);
    // Only taps listen (a slot migration on a node without followers or AOF): nothing to encode.
    if (this.#sinks.length === 0) return;
    if (this.#block !== 0) {
      if (db !== this.#db) {
        encodeCommandInto(this.#held, ["SELECT", db]);
        this.#db = db;
      }
      encodeCommandInto(this.#held, args);
      this.#heldCommands++;
      return;
    }
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
