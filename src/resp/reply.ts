import { prefixSize, readLength } from "../util/packed_entries.ts";

/**
 * Reply values returned by command handlers. Handlers return data, never bytes on a socket, so
 * that EXEC, AOF replay and replication can run them too; the encoder turns a value into RESP2 or
 * RESP3 depending on the connection. Common values are plain JS values so that returning them
 * allocates nothing:
 * - `Uint8Array` is a bulk string; so is `string`, read as a binary string (one byte per
 *   character, see `toBinaryString`), which is how the keyspace holds keys and values. Text that
 *   may hold non-ASCII characters (paths, passwords) goes through `binaryFromText` first,
 * - `number` (an integer) and `bigint` are integers, `boolean` is RESP3 boolean (RESP2 `:1`/`:0`),
 * - `null` is the null bulk string (RESP3 null),
 * - an array is an array reply.
 * Everything else is one of the classes below.
 */
export type Reply =
  | Uint8Array
  | string
  | number
  | bigint
  | boolean
  | null
  | readonly Reply[]
  | SimpleString
  | ErrorReply
  | MapReply
  | SetReply
  | DoubleReply
  | VerbatimReply
  | PushReply
  | ReplySequence
  | NullArray
  | NoReply
  | RawReply
  | BulkSlicesReply
  | BytesRangeReply
  | BigNumberReply
  | DeferredReply;

/** A `+` status reply; constructed once per distinct text and reused. */
export class SimpleString {
  /** The text without the `+` and CRLF. */
  readonly text: string;
  /** Pre-encoded wire form, identical in RESP2 and RESP3. */
  readonly wire: Uint8Array;
  /** Creates a status reply; the text must not contain CR or LF. */
  constructor(text: string) {
    this.text = text;
    this.wire = new TextEncoder().encode(`+${text}\r\n`);
  }
}

/**
 * An error reply. The message starts with its code (`ERR`, `WRONGTYPE`, `MOVED`, ...) as Redis
 * sends it, because clients branch on that first word. The message is a binary string (one
 * character per byte, see `toBinaryString`) so that argument bytes quoted in an error reach the
 * client exactly as Redis would send them; ASCII text needs no conversion.
 */
export class ErrorReply {
  /** The full error text, code first, without the `-` and CRLF. */
  readonly message: string;
  /** Creates an error reply from a Redis error text such as `ERR syntax error`. */
  constructor(message: string) {
    this.message = message;
  }
  #code: string | null = null;
  /**
   * The error code: the first word of the message. Computed once, so counting a reused error
   * reply by code (INFO errorstats, metrics) allocates nothing.
   */
  get code(): string {
    if (this.#code === null) {
      const space = this.message.indexOf(" ");
      this.#code = space < 0 ? this.message : this.message.slice(0, space);
    }
    return this.#code;
  }
}

/** A RESP3 map (`%`), sent as a flat array of alternating keys and values under RESP2. */
export class MapReply {
  /** Alternating keys and values. */
  readonly flat: readonly Reply[];
  /** Creates a map from alternating keys and values. */
  constructor(flat: readonly Reply[]) {
    this.flat = flat;
  }
}

/** A RESP3 set (`~`), sent as an array under RESP2. */
export class SetReply {
  /** The members. */
  readonly items: readonly Reply[];
  /** Creates a set reply. */
  constructor(items: readonly Reply[]) {
    this.items = items;
  }
}

/** A RESP3 double (`,`), sent as a bulk string under RESP2 as Redis does. */
export class DoubleReply {
  /** The value. */
  readonly value: number;
  /** Creates a double reply. */
  constructor(value: number) {
    this.value = value;
  }
}

/** A RESP3 verbatim string (`=txt:`), sent as a bulk string under RESP2 (INFO, CLIENT LIST). */
export class VerbatimReply {
  /** The text. */
  readonly text: string;
  /** Creates a verbatim text reply. */
  constructor(text: string) {
    this.text = text;
  }
}

/** A RESP3 push frame (`>`), an array under RESP2; used for out-of-band messages. */
export class PushReply {
  /** The elements. */
  readonly items: readonly Reply[];
  /** Creates a push reply. */
  constructor(items: readonly Reply[]) {
    this.items = items;
  }
}

/**
 * Several replies to one command, sent one after the other (SUBSCRIBE a b confirms each
 * channel with its own frame); inside EXEC each becomes an element of EXEC's array.
 */
export class ReplySequence {
  /** The replies, in order. */
  readonly items: readonly Reply[];
  /** Creates a sequence of replies. */
  constructor(items: readonly Reply[]) {
    this.items = items;
  }
}

/** The null array (`*-1` in RESP2, `_` in RESP3), e.g. EXEC after a WATCH conflict. */
export class NullArray {
  /** Makes the type nominal: without a member any object (a Promise too) would match it. */
  readonly #brand = "null-array";
  private constructor() {}
  /** The only instance. */
  static readonly instance: NullArray = new NullArray();
}

/** Marks a command that sends nothing back (SHUTDOWN on success). */
export class NoReply {
  /** Makes the type nominal: without a member any object (a Promise too) would match it. */
  readonly #brand = "no-reply";
  private constructor() {}
  /** The only instance. */
  static readonly instance: NoReply = new NoReply();
}

/**
 * Bytes already in wire form, sent as they are: the replication handshake's answer to PSYNC
 * followed by the stream a follower missed.
 */
export class RawReply {
  /** The bytes. */
  readonly bytes: Uint8Array;
  /** Wraps wire bytes. */
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
}

/**
 * A RESP3 big number (`(digits`), a bulk string of its text under RESP2: what a Lua script's
 * `{big_number = "..."}` returns, as Redis's addReplyBigNum.
 */
export class BigNumberReply {
  /** The number's text, as the script gave it. */
  readonly text: string;
  /** Wraps the text. */
  constructor(text: string) {
    this.text = text;
  }
}

/**
 * An array of bulk strings read in place out of longer binary strings, in runs. Run `r` reads
 * its items from `texts[r]`: when `spanStarts[r]` is -1, the items given one by one
 * ({@link item}), item `i` being `slice(starts[i], starts[i] + lengths[i])` of the run's string
 * (for `i` up to `runEnds[r]`); when it is -2, the whole strings `runStrings[r]` (an open list
 * node's items); otherwise `spanCounts[r]` packed entries (the layout of
 * util/packed_entries.ts) from `spanStarts[r]` to `spanEnds[r]`, which the encoder walks
 * itself. LRANGE replies this way so that items are written from a list's packed nodes straight
 * into the output buffer, with no string copied per item (measured: copying each item out took
 * a third of LRANGE_600's time), and a packed node's run costs the handler no bookkeeping per
 * item. The strings are immutable, so the reply stays right if the list changes before it is
 * encoded (inside EXEC).
 */
export class BulkSlicesReply {
  /** The string of each run ("" for a run of whole strings). */
  readonly texts: string[] = [];
  /** The items of a run of whole strings ({@link strings}), or null. */
  readonly runStrings: (string[] | null)[] = [];
  /** Index (in {@link starts}) just past the last item given one by one of each run. */
  readonly runEnds: number[] = [];
  /**
   * Offset of a run's first packed entry, or -1 for a run of items given one by one, or -2 for
   * a run of whole strings.
   */
  readonly spanStarts: number[] = [];
  /** Offset just past a run's last packed entry (0 for the other kinds of run). */
  readonly spanEnds: number[] = [];
  /** Number of packed entries or whole strings of a run (0 for items given one by one). */
  readonly spanCounts: number[] = [];
  /** Offset of each item given one by one in its run's string. */
  readonly starts: number[] = [];
  /** Length of each item given one by one. */
  readonly lengths: number[] = [];
  #count = 0;

  /** Starts a run of items read from `text`, given one by one. */
  run(text: string): void {
    this.#addRun(text, null, -1, 0, 0);
  }

  /** Appends the item at `start` of the current run's string, `length` characters long. */
  item(start: number, length: number): void {
    this.starts.push(start);
    this.lengths.push(length);
    this.runEnds[this.runEnds.length - 1]++;
    this.#count++;
  }

  /** Appends a run of the `count` packed entries of `text` from `start` to `end`. */
  entries(text: string, start: number, end: number, count: number): void {
    this.#addRun(text, null, start, end, count);
    this.#count += count;
  }

  /** Appends a run of whole strings (an array the reply keeps: not to be changed after). */
  strings(items: string[]): void {
    this.#addRun("", items, -2, 0, items.length);
    this.#count += items.length;
  }

  #addRun(text: string, items: string[] | null, start: number, end: number, count: number) {
    this.texts.push(text);
    this.runStrings.push(items);
    this.runEnds.push(this.starts.length);
    this.spanStarts.push(start);
    this.spanEnds.push(end);
    this.spanCounts.push(count);
  }

  /** Number of items. */
  get length(): number {
    return this.#count;
  }

  /** The items as binary strings (for a caller that needs values rather than wire bytes). */
  items(): string[] {
    const out: string[] = [];
    let i = 0;
    for (let r = 0; r < this.texts.length; r++) {
      const text = this.texts[r];
      let at = this.spanStarts[r];
      if (at === -2) {
        out.push(...(this.runStrings[r] as string[]));
        continue;
      }
      if (at < 0) {
        for (; i < this.runEnds[r]; i++) {
          out.push(text.slice(this.starts[i], this.starts[i] + this.lengths[i]));
        }
        continue;
      }
      for (let n = 0; n < this.spanCounts[r]; n++) {
        const length = readLength(text, at);
        const width = prefixSize(length);
        out.push(text.slice(at + width, at + width + length));
        at += length + 2 * width;
      }
    }
    return out;
  }
}

/**
 * A bulk string of `bytes[start, end)`, copied when the reply is encoded: GET and MGET answer
 * with a value's place in the key table's arena (HGET and HMGET in a hash's value blocks)
 * rather than with a string built from it that the encoder turns back into bytes (server CPU per GET of a 1000-byte value: see
 * commands/strings.ts). The bytes stay right only until the next write, so a handler returns
 * this only where the reply is encoded before any other command runs: not inside EXEC or a
 * script, whose replies wait for later commands (see `repliesAtOnce` in commands/_values.ts).
 */
export class BytesRangeReply {
  /** Wraps the range; see the class comment. */
  constructor(readonly bytes: Uint8Array, readonly start: number, readonly end: number) {}
}

/**
 * A reply that is not known yet (WAIT): the connection holds the client's later commands
 * until `promise` settles, as Redis blocks a client. Where a command cannot block (inside
 * EXEC), `immediate` is the answer instead.
 */
export class DeferredReply {
  /** The eventual reply. */
  readonly promise: Promise<Reply>;
  /** The reply when the command cannot wait. */
  readonly immediate: Reply;
  /** Wraps the eventual reply and its non-blocking stand-in. */
  constructor(promise: Promise<Reply>, immediate: Reply) {
    this.promise = promise;
    this.immediate = immediate;
  }
}

/** `+OK`. */
export const OK: SimpleString = new SimpleString("OK");
/** `+PONG`. */
export const PONG: SimpleString = new SimpleString("PONG");
/** `+QUEUED`. */
export const QUEUED: SimpleString = new SimpleString("QUEUED");
/** The null array. */
export const NULL_ARRAY: NullArray = NullArray.instance;
/** No reply at all. */
export const NO_REPLY: NoReply = NoReply.instance;
