/**
 * A cursor over a command's arguments for handlers with options (`SET k v EX 10 NX`): it reads
 * typed values with Redis's error texts and rejects leftovers, so each handler does not re-invent
 * argument parsing.
 */
import { asciiLower, fromUtf8 } from "../util/bytes.ts";
import { CommandError } from "./errors.ts";
import { parseStrictInteger } from "../resp/request_parser.ts";

/** Reads arguments left to right; see the module comment. */
export class Args {
  readonly #argv: readonly Uint8Array[];
  #pos: number;

  /** Starts reading `argv` at index `start` (after the command name by default). */
  constructor(argv: readonly Uint8Array[], start = 1) {
    this.#argv = argv;
    this.#pos = start;
  }

  /** Arguments not read yet. */
  get remaining(): number {
    return this.#argv.length - this.#pos;
  }

  /** Whether any argument is left. */
  get hasMore(): boolean {
    return this.#pos < this.#argv.length;
  }

  /** The next argument as bytes; a syntax error when there is none. */
  bytes(): Uint8Array {
    if (this.#pos >= this.#argv.length) throw new CommandError("ERR syntax error");
    return this.#argv[this.#pos++];
  }

  /** The next argument as UTF-8 text. */
  text(): string {
    return fromUtf8(this.bytes());
  }

  /** The next argument lower-cased, for matching option keywords. */
  keyword(): string {
    return asciiLower(this.bytes());
  }

  /** The next argument lower-cased, without consuming it; undefined at the end. */
  peekKeyword(): string | undefined {
    return this.#pos < this.#argv.length ? asciiLower(this.#argv[this.#pos]) : undefined;
  }

  /** The next argument as a 64-bit integer in the safe range, or Redis's not-an-integer error. */
  integer(message = "ERR value is not an integer or out of range"): number {
    const b = this.bytes();
    const value = parseStrictInteger(b, 0, b.length);
    if (value === null || !Number.isSafeInteger(value)) throw new CommandError(message);
    return value;
  }

  /** Throws Redis's syntax error when arguments are left over. */
  end(): void {
    if (this.#pos < this.#argv.length) throw new CommandError("ERR syntax error");
  }
}
