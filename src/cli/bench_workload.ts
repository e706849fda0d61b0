/**
 * What `gocache bench` sends: each test is a set of pre-encoded command templates, as
 * redis-benchmark builds them. Keys are `key:__rand_int__` (`counter:__rand_int__` for INCR);
 * with a key space (`-r N`) the 12 placeholder bytes are overwritten in place with a zero-padded
 * random number below N for each request, uniform or Zipf-distributed. A connection's pipeline
 * is encoded once; a batch only rewrites key digits, never encodes.
 *
 * @module
 */
import { encodeCommand } from "../resp/command_writer.ts";
import { ZipfSampler } from "../util/zipf.ts";

/** The tests `-t` accepts, in the order they run. */
export const TESTS = ["ping", "set", "get", "incr", "mset", "mixed"] as const;
/** One of {@link TESTS}. */
export type TestName = typeof TESTS[number];

/** The parameters of one test run, as sent to workers (plain data). */
export interface Workload {
  /** Which test. */
  test: TestName;
  /** Value size in bytes (`-d`). */
  dataSize: number;
  /** Key space size (`-r`); 0 keeps the literal `key:__rand_int__`. */
  keyspace: number;
  /** Zipf exponent for key choice (`--zipf`); 0 means uniform. */
  zipf: number;
  /** GET share of `mixed` (from `--ratio get:set`), 0..1. */
  getShare: number;
}

const PLACEHOLDER = "__rand_int__";
const PLACEHOLDER_BYTES = new TextEncoder().encode(PLACEHOLDER);
/** Keys per MSET, as redis-benchmark's MSET test. */
const MSET_KEYS = 10;

/** A pre-encoded command and where its key placeholders sit. */
interface Template {
  bytes: Uint8Array;
  slots: number[];
}

function template(args: string[]): Template {
  const bytes = encodeCommand(args);
  const slots: number[] = [];
  outer: for (let i = 0; i + PLACEHOLDER_BYTES.length <= bytes.length; i++) {
    for (let j = 0; j < PLACEHOLDER_BYTES.length; j++) {
      if (bytes[i + j] !== PLACEHOLDER_BYTES[j]) continue outer;
    }
    slots.push(i);
  }
  return { bytes, slots };
}

/** The command templates of a test; `mixed` has GET first, then SET. */
function templatesOf(workload: Workload): Template[] {
  const value = "x".repeat(workload.dataSize);
  const key = `key:${PLACEHOLDER}`;
  switch (workload.test) {
    case "ping":
      return [template(["PING"])];
    case "set":
      return [template(["SET", key, value])];
    case "get":
      return [template(["GET", key])];
    case "incr":
      return [template(["INCR", `counter:${PLACEHOLDER}`])];
    case "mset": {
      const args = ["MSET"];
      for (let i = 0; i < MSET_KEYS; i++) args.push(key, value);
      return [template(args)];
    }
    case "mixed":
      return [template(["GET", key]), template(["SET", key, value])];
  }
}

/** Digits of a key number (`__rand_int__` is 12 bytes). */
const KEY_DIGITS = PLACEHOLDER.length;

/**
 * Builds one connection's pipelines of requests. The `-P` requests of a pipeline are encoded
 * once into a reusable buffer; for each batch only the random key digits are rewritten in place
 * (redis-benchmark's `__rand_int__` trick), so a batch costs no encoding and no allocation. The
 * mixed test picks GET or SET per request, so its batches are copied from the two templates.
 */
export class RequestBuilder {
  readonly #templates: Template[];
  readonly #keyspace: number;
  readonly #getShare: number;
  readonly #zipf: ZipfSampler | null;
  readonly #mixed: boolean;
  /** The pipeline's bytes; for a fixed template, `-P` encoded copies of it. */
  readonly #buffer: Uint8Array;
  /** For a fixed template: every key position in `#buffer`, and how many per request. */
  readonly #slots: Int32Array;
  readonly #slotsPerRequest: number;
  /** Trailing key digits rewritten per key; the leading ones stay '0'. */
  readonly #digits: number;
  /** For a fixed template: the view of a whole pipeline, so a full batch allocates nothing. */
  readonly #full: Uint8Array;

  /** Prepares the templates of `workload` for pipelines of up to `pipeline` requests. */
  constructor(workload: Workload, pipeline: number) {
    this.#keyspace = workload.keyspace;
    this.#templates = templatesOf(workload);
    if (this.#keyspace > 0) {
      for (const t of this.#templates) {
        for (const slot of t.slots) t.bytes.fill(48, slot, slot + KEY_DIGITS);
      }
    }
    this.#digits = Math.min(KEY_DIGITS, String(Math.max(0, this.#keyspace - 1)).length);
    this.#getShare = workload.getShare;
    this.#mixed = workload.test === "mixed";
    this.#zipf = workload.zipf > 0 && workload.keyspace > 0
      ? new ZipfSampler(workload.keyspace, workload.zipf)
      : null;
    const longest = Math.max(...this.#templates.map((t) => t.bytes.length));
    this.#buffer = new Uint8Array(longest * pipeline);
    const first = this.#templates[0];
    this.#slotsPerRequest = first.slots.length;
    this.#slots = new Int32Array(this.#mixed ? 0 : pipeline * first.slots.length);
    this.#full = this.#buffer.subarray(0, this.#mixed ? 0 : pipeline * first.bytes.length);
    if (!this.#mixed) {
      for (let r = 0; r < pipeline; r++) {
        const at = r * first.bytes.length;
        this.#buffer.set(first.bytes, at);
        first.slots.forEach((slot, k) => this.#slots[r * first.slots.length + k] = at + slot);
      }
    }
  }

  /**
   * The bytes of the next `count` requests (at most the pipeline depth), with fresh random keys
   * under `-r`. The view is valid until the next call.
   */
  next(count: number): Uint8Array {
    if (this.#mixed) return this.#mixedBatch(count);
    if (this.#keyspace > 0) {
      const slots = this.#slots;
      const used = count * this.#slotsPerRequest;
      for (let k = 0; k < used; k++) this.#writeKey(slots[k]);
    }
    const length = count * this.#templates[0].bytes.length;
    return length === this.#full.length ? this.#full : this.#buffer.subarray(0, length);
  }

  #mixedBatch(count: number): Uint8Array {
    const buffer = this.#buffer;
    let at = 0;
    for (let n = 0; n < count; n++) {
      const t = Math.random() >= this.#getShare ? this.#templates[1] : this.#templates[0];
      buffer.set(t.bytes, at);
      if (this.#keyspace > 0) {
        for (const slot of t.slots) this.#writeKey(at + slot);
      }
      at += t.bytes.length;
    }
    return buffer.subarray(0, at);
  }

  /** Writes a random key number below the key space into the key placeholder at `at`. */
  #writeKey(at: number): void {
    let n = this.#zipf === null
      ? Math.floor(Math.random() * this.#keyspace)
      : this.#zipf.next() - 1;
    const bytes = this.#buffer;
    const stop = at + KEY_DIGITS - this.#digits;
    for (let i = at + KEY_DIGITS - 1; i >= stop; i--) {
      const q = Math.floor(n / 10);
      bytes[i] = 48 + n - q * 10;
      n = q;
    }
  }
}

/** Parses `--ratio get:set` (e.g. `9:1`) into the GET share. */
export function parseRatio(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(text);
  if (match === null) return null;
  const get = Number(match[1]);
  const set = Number(match[2]);
  return get + set > 0 ? get / (get + set) : null;
}
