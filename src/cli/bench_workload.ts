/**
 * What `gocache bench` sends: each test is a set of pre-encoded command templates, as
 * redis-benchmark builds them. Keys are `key:__rand_int__` (`counter:__rand_int__` for INCR);
 * with a key space (`-r N`) the 12 placeholder bytes are overwritten in place with a zero-padded
 * random number below N for each request, uniform or Zipf-distributed, so building a request is
 * a copy and a few digit writes, never an encoding.
 *
 * @module
 */
import { encodeCommand } from "../resp/command_writer.ts";
import type { ByteBuffer } from "../util/bytes.ts";
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

/** Builds request batches for one connection. */
export class RequestBuilder {
  readonly #templates: Template[];
  readonly #keyspace: number;
  readonly #getShare: number;
  readonly #zipf: ZipfSampler | null;
  readonly #mixed: boolean;

  /** Prepares the templates of `workload`. */
  constructor(workload: Workload) {
    this.#templates = templatesOf(workload);
    this.#keyspace = workload.keyspace;
    this.#getShare = workload.getShare;
    this.#mixed = workload.test === "mixed";
    this.#zipf = workload.zipf > 0 && workload.keyspace > 0
      ? new ZipfSampler(workload.keyspace, workload.zipf)
      : null;
  }

  /** Appends `count` requests to `out`. */
  append(out: ByteBuffer, count: number): void {
    for (let n = 0; n < count; n++) {
      const t = this.#mixed && Math.random() >= this.#getShare
        ? this.#templates[1]
        : this.#templates[0];
      const at = out.length;
      out.pushBytes(t.bytes);
      if (this.#keyspace > 0) {
        for (const slot of t.slots) this.#writeKey(out.bytes, at + slot);
      }
    }
  }

  /** Overwrites the 12 placeholder bytes at `at` with a zero-padded key number. */
  #writeKey(bytes: Uint8Array, at: number): void {
    let n = this.#zipf === null
      ? Math.floor(Math.random() * this.#keyspace)
      : this.#zipf.next() - 1;
    for (let i = at + 11; i >= at; i--) {
      bytes[i] = 48 + (n % 10);
      n = Math.floor(n / 10);
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
