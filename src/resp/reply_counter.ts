/**
 * Counts complete RESP2/RESP3 replies in a byte stream without decoding them, for the load
 * generator: it only needs to know how many replies arrived and how many were errors, and
 * building strings, arrays and objects for each reply would cost more CPU than the request.
 * Like redis-benchmark's reply reader it walks the bytes once: a line is scanned for its CR, a
 * bulk payload is skipped by its length, and aggregates are a stack of element counts. The state
 * survives between calls, so a reply may be split across socket reads anywhere.
 *
 * The framing is checked as strictly as {@link ReplyDecoder} checks it (type bytes, CRLF after
 * lines and payloads, lengths, the 512 MiB bulk limit, 64 levels of nesting); the contents of
 * scalar lines (integers, doubles, booleans) are not looked at. Malformed framing stops the
 * counter for good ({@link ReplyCounter.failure}); it never throws.
 *
 * Top-level replies are counted; RESP3 pushes (`>`) and attributes (`|`) are not, as the client
 * drops them. A top-level `-` or `!` reply counts as an error, and the first one's text is kept.
 *
 * @module
 */

const CR = 13;
const LF = 10;
const MINUS = 45;

/** Per type byte: how its line is read (0: not a type byte). */
const KINDS = new Uint8Array(256);
/** A line whose content is skipped: `+ - : _ # , (`. */
const TEXT = 1;
/** A length line followed by a payload: `$ ! =`. */
const BLOB = 2;
/** A length line followed by elements: `* % ~ > |`. */
const AGGREGATE = 3;
for (const c of "+-:_#,(") KINDS[c.charCodeAt(0)] = TEXT;
for (const c of "$!=") KINDS[c.charCodeAt(0)] = BLOB;
for (const c of "*%~>|") KINDS[c.charCodeAt(0)] = AGGREGATE;

const ERROR = 45; // '-'
const BLOB_ERROR = 33; // '!'
const BULK = 36; // '$'
const ARRAY = 42; // '*'
const MAP = 37; // '%'
const PUSH = 62; // '>'
const ATTRIBUTE = 124; // '|'

/** Where the counter is within the current frame. */
const AT_TYPE = 0;
const IN_TEXT = 1;
const IN_LENGTH = 2;
const LINE_LF = 3;
const IN_PAYLOAD = 4;
const PAYLOAD_CR = 5;
const PAYLOAD_LF = 6;
const FAILED = 7;
/** Not a state: a length line that was a whole element (a null, an empty aggregate). */
const ELEMENT_DONE = 8;

const MAX_BULK_LENGTH = 512 * 1024 * 1024;
const MAX_DEPTH = 64;
/** Bytes of the first error's text that are kept. */
const MAX_ERROR_TEXT = 1024;

const utf8 = new TextDecoder();

/** Counts replies in chunks of a RESP stream; see the module comment. */
export class ReplyCounter {
  /** Error replies counted so far (top-level `-` and `!`). */
  errors = 0;
  /** The first error reply's text, once it is complete. */
  firstError: string | null = null;
  /** Why the stream is malformed, or null; once set, nothing more is counted. */
  failure: string | null = null;

  #state = AT_TYPE;
  /** Type byte of the line being read. */
  #type = 0;
  /** Type byte of the current top-level frame. */
  #topType = 0;
  /** Length being parsed, its digit count and whether it started with '-'. */
  #number = 0;
  #digits = 0;
  #negative = false;
  /** Payload bytes still to skip. */
  #skip = 0;
  /** Per nesting level: elements still expected; and whether the level is an attribute. */
  readonly #remaining = new Float64Array(MAX_DEPTH);
  readonly #attribute = new Uint8Array(MAX_DEPTH);
  #depth = 0;
  /** Bytes of the first error's text while it is being read (null when not capturing). */
  #errorText: number[] | null = null;
  /** Stream offset of `buf[0]` of the current call (bytes before `start` not counted). */
  #base = 0;

  /**
   * Scans `buf[start, end)`, the next bytes of the stream, and returns how many replies they
   * completed. The bytes are not kept: the caller may reuse the buffer.
   */
  scan(buf: Uint8Array, start = 0, end = buf.length): number {
    this.#base -= start;
    let replies = 0;
    let state = this.#state;
    let i = start;
    while (i < end) {
      switch (state) {
        case AT_TYPE: {
          const type = buf[i++];
          const kind = KINDS[type];
          this.#type = type;
          if (this.#depth === 0) {
            this.#topType = type;
            if (type === ERROR && this.firstError === null) this.#errorText = [];
          }
          if (kind === TEXT) {
            state = IN_TEXT;
          } else if (kind !== 0) {
            state = IN_LENGTH;
            this.#number = this.#digits = 0;
            this.#negative = false;
          } else {
            state = this.#fail(`Unknown reply type byte 0x${type.toString(16)}`, i - 1);
          }
          break;
        }
        case IN_TEXT: {
          const from = i;
          while (i < end && buf[i] !== CR) i++;
          if (this.#errorText !== null) this.#keepText(buf, from, i);
          if (i < end) {
            i++;
            state = LINE_LF;
          }
          break;
        }
        case IN_LENGTH: {
          let n = this.#number;
          let digits = this.#digits;
          while (i < end) {
            const c = buf[i];
            if (c === CR) break;
            const digit = c - 48;
            if (digit >= 0 && digit <= 9) {
              n = n * 10 + digit;
              digits++;
            } else if (
              c !== MINUS || digits > 0 || this.#negative ||
              (this.#type !== BULK && this.#type !== ARRAY)
            ) {
              break;
            } else {
              this.#negative = true;
            }
            i++;
          }
          this.#number = n;
          this.#digits = digits;
          if (i === end) break;
          if (buf[i] !== CR) {
            state = this.#fail("Length is not a non-negative integer", i);
          } else if (n > Number.MAX_SAFE_INTEGER) {
            state = this.#fail("Length is too large", i);
          } else {
            i++;
            state = LINE_LF;
          }
          break;
        }
        case LINE_LF: {
          if (buf[i] !== LF) {
            state = this.#fail("Expected LF after CR", i);
            break;
          }
          i++;
          let next = KINDS[this.#type] === TEXT ? ELEMENT_DONE : this.#endLength(i);
          if (next === ELEMENT_DONE) {
            replies += this.#complete();
            next = AT_TYPE;
          }
          state = next;
          break;
        }
        case IN_PAYLOAD: {
          const take = Math.min(this.#skip, end - i);
          if (this.#errorText !== null) this.#keepText(buf, i, i + take);
          this.#skip -= take;
          i += take;
          if (this.#skip === 0) state = PAYLOAD_CR;
          break;
        }
        case PAYLOAD_CR:
          state = buf[i] === CR ? PAYLOAD_LF : this.#fail("Expected CRLF after bulk payload", i);
          i++;
          break;
        case PAYLOAD_LF:
          if (buf[i] !== LF) {
            state = this.#fail("Expected CRLF after bulk payload", i);
            break;
          }
          i++;
          state = AT_TYPE;
          replies += this.#complete();
          break;
        default: // FAILED
          i = end;
      }
    }
    this.#state = state;
    this.#base += end;
    return replies;
  }

  /**
   * Acts on a complete length line: a null or an empty aggregate is an element by itself, a
   * payload is skipped next, a non-empty aggregate opens a level. Returns the next state, or
   * ELEMENT_DONE.
   */
  #endLength(at: number): number {
    const type = this.#type;
    const n = this.#number;
    if (this.#negative || this.#digits === 0) {
      if (!this.#negative || this.#digits !== 1 || n !== 1) {
        return this.#fail("Length is not a non-negative integer", at);
      }
      return ELEMENT_DONE;
    }
    if (KINDS[type] === BLOB) {
      if (n > MAX_BULK_LENGTH) {
        return this.#fail(`Bulk length ${n} exceeds the limit of ${MAX_BULK_LENGTH}`, at);
      }
      if (type === BLOB_ERROR && this.#depth === 0 && this.firstError === null) {
        this.#errorText = [];
      }
      this.#skip = n;
      return n === 0 ? PAYLOAD_CR : IN_PAYLOAD;
    }
    if (this.#depth >= MAX_DEPTH) {
      return this.#fail(`Aggregate nesting exceeds the limit of ${MAX_DEPTH}`, at);
    }
    if (n === 0) {
      // An empty attribute is nothing at all; any other empty aggregate is one element.
      return type === ATTRIBUTE ? AT_TYPE : ELEMENT_DONE;
    }
    this.#remaining[this.#depth] = type === MAP || type === ATTRIBUTE ? 2 * n : n;
    this.#attribute[this.#depth] = type === ATTRIBUTE ? 1 : 0;
    this.#depth++;
    return AT_TYPE;
  }

  /**
   * One element is complete: fills the enclosing aggregates; returns 1 when a top-level reply
   * is complete (not a push), else 0.
   */
  #complete(): number {
    for (;;) {
      const depth = this.#depth;
      if (depth === 0) {
        const top = this.#topType;
        if (top === PUSH) return 0;
        if (top === ERROR || top === BLOB_ERROR) this.#countError();
        return 1;
      }
      if (--this.#remaining[depth - 1] > 0) return 0;
      this.#depth = depth - 1;
      // A finished attribute is not an element of its parent, nor a reply.
      if (this.#attribute[depth - 1] === 1) return 0;
    }
  }

  #countError(): void {
    this.errors++;
    if (this.#errorText !== null) {
      this.firstError = utf8.decode(Uint8Array.from(this.#errorText));
      this.#errorText = null;
    }
  }

  #keepText(buf: Uint8Array, from: number, to: number): void {
    const text = this.#errorText as number[];
    const stop = Math.min(to, from + MAX_ERROR_TEXT - text.length);
    for (let i = from; i < stop; i++) text.push(buf[i]);
  }

  /** Records a framing error at `at` (an index into the current chunk); returns FAILED. */
  #fail(what: string, at: number): number {
    this.failure ??= `${what} at byte offset ${this.#base + at}`;
    this.#errorText = null;
    return FAILED;
  }
}
