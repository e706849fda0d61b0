/**
 * The JavaScript heap's own ceiling. Collections (lists, sets, sorted sets, hash fields) live in
 * V8's heap, which stops at a limit set when the process starts (`--max-old-space-size`; about
 * 4 GiB by default here). Past it V8 aborts the process ("Fatal JavaScript out of memory") and
 * every key is lost: measured, 4013 RPUSHes of 1 MB ended the server that way. This guard turns
 * that into Redis's answer to a full memory: commands that may grow memory (`denyoom`) get
 * `-OOM` while the heap in use is at {@link HEAP_REFUSE_AT} of the limit, until it is back under
 * {@link HEAP_RESUME_AT} (deletes and reads still run; a collection then frees the space).
 *
 * @module
 */
import v8 from "node:v8";
import { ErrorReply } from "../resp/reply.ts";
import { logger } from "../util/logger.ts";

const log = logger("server");

/** Fraction of the heap limit in use from which growing commands are refused. */
export const HEAP_REFUSE_AT = 0.85;
/** Fraction of the heap limit in use under which they run again. */
export const HEAP_RESUME_AT = 0.8;

/** The refusal, in Redis's OOM form. */
export const HEAP_OOM = new ErrorReply(
  "OOM command not allowed when used memory is near the JavaScript heap's limit",
);

/** Bytes of V8's heap in use and its limit. */
export interface HeapUse {
  /** Bytes in use (live objects and garbage not collected yet). */
  used: number;
  /** The most the heap may hold. */
  limit: number;
}

function v8HeapUse(): HeapUse {
  const stats = v8.getHeapStatistics();
  return { used: stats.used_heap_size, limit: stats.heap_size_limit };
}

/** Whether growing commands must be refused for the heap's sake; see the module comment. */
export class HeapGuard {
  #read: () => HeapUse;
  #checkedAt = Number.NaN;
  #refusing = false;

  /** A guard over `read` (the process's V8 heap unless a test passes its own). */
  constructor(read: () => HeapUse = v8HeapUse) {
    this.#read = read;
  }

  /** Whether the last check found the heap too full. */
  get refusing(): boolean {
    return this.#refusing;
  }

  /**
   * Whether a command that may grow memory must be refused at `now` (ms). The heap is read at
   * most once per distinct `now` (0.4 us a read; a pipelined batch shares one `now`).
   */
  refuses(now: number): boolean {
    if (now === this.#checkedAt) return this.#refusing;
    this.#checkedAt = now;
    const { used, limit } = this.#read();
    const share = used / limit;
    if (this.#refusing ? share < HEAP_RESUME_AT : share >= HEAP_REFUSE_AT) {
      this.#refusing = !this.#refusing;
      const mb = (n: number) => Math.round(n / 2 ** 20);
      if (this.#refusing) {
        log.warn("JavaScript heap at {used} of {limit} MB: refusing commands that grow memory", {
          used: mb(used),
          limit: mb(limit),
        });
      } else {
        log.info("JavaScript heap back to {used} of {limit} MB: accepting writes again", {
          used: mb(used),
          limit: mb(limit),
        });
      }
    }
    return this.#refusing;
  }
}
