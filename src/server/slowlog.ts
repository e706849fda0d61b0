/**
 * The slow log (Redis's slowlog.c): the most recent commands that ran for at least
 * `slowlog-log-slower-than` microseconds, newest first, at most `slowlog-max-len` of them. An
 * entry keeps a copy of the arguments cut as Redis cuts them (32 arguments, 128 bytes each), so
 * a huge command does not stay in memory through the log.
 */
import { concatBytes } from "../util/bytes.ts";

/** Arguments kept per entry; the last one kept says how many more there were. */
export const SLOWLOG_MAX_ARGC = 32;
/** Bytes kept per argument; the rest is replaced by a note of how many more there were. */
export const SLOWLOG_MAX_STRING = 128;

/** One logged command. */
export interface SlowLogEntry {
  /** Increasing id, unique since the server started (not reset by SLOWLOG RESET). */
  readonly id: number;
  /** When it was logged, in seconds since the epoch. */
  readonly time: number;
  /** How long it ran, in microseconds. */
  readonly micros: number;
  /** Its arguments, cut as described in the module comment. */
  readonly argv: readonly Uint8Array[];
  /** The client's `ip:port`. */
  readonly addr: string;
  /** The client's name, or "". */
  readonly name: string;
}

const encoder = new TextEncoder();

/** Copies `argv` cut to Redis's slow log limits (`slowlogCreateEntry`). */
export function cutArguments(argv: readonly Uint8Array[]): Uint8Array[] {
  const argc = Math.min(argv.length, SLOWLOG_MAX_ARGC);
  const out: Uint8Array[] = [];
  for (let j = 0; j < argc; j++) {
    if (argc !== argv.length && j === argc - 1) {
      out.push(encoder.encode(`... (${argv.length - argc + 1} more arguments)`));
    } else if (argv[j].length > SLOWLOG_MAX_STRING) {
      const more = encoder.encode(`... (${argv[j].length - SLOWLOG_MAX_STRING} more bytes)`);
      out.push(concatBytes([argv[j].subarray(0, SLOWLOG_MAX_STRING), more]));
    } else out.push(argv[j].slice());
  }
  return out;
}

/** The log; see the module comment. */
export class SlowLog {
  /** Entries, oldest first (replies list them newest first). */
  readonly #entries: SlowLogEntry[] = [];
  #nextId = 0;
  /** Entries kept at most (`slowlog-max-len`). */
  maxLength: number;

  /** An empty log keeping at most `maxLength` entries. */
  constructor(maxLength: number) {
    this.maxLength = maxLength;
  }

  /** Entries in the log. */
  get length(): number {
    return Math.min(this.#entries.length, this.maxLength);
  }

  /** Adds an entry, dropping the oldest ones beyond `slowlog-max-len`. */
  push(entry: Omit<SlowLogEntry, "id">): void {
    this.#entries.push({ id: this.#nextId++, ...entry });
    this.trim();
  }

  /** Drops the oldest entries beyond `slowlog-max-len` (also after it was lowered). */
  trim(): void {
    const excess = this.#entries.length - this.maxLength;
    if (excess > 0) this.#entries.splice(0, excess);
  }

  /** The newest `count` entries (all of them when negative), newest first. */
  newest(count: number): SlowLogEntry[] {
    const n = count < 0 ? this.length : Math.min(count, this.length);
    const out: SlowLogEntry[] = [];
    for (let i = this.#entries.length - 1; out.length < n; i--) out.push(this.#entries[i]);
    return out;
  }

  /** Empties the log (SLOWLOG RESET); ids keep increasing. */
  reset(): void {
    this.#entries.length = 0;
  }
}
