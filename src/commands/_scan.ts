/**
 * What the SCAN family shares (SCAN in keys.ts, HSCAN, SSCAN and ZSCAN): the cursor and the
 * MATCH / COUNT / TYPE options read as Redis's `parseScanCursorOrReply` and `scanGenericCommand`
 * read them, with Redis's error texts; the bucket walk of a hash-table cursor; and glob matching
 * of binary strings (keys, fields, members) with util/glob.ts's byte matcher. One copy, so the
 * commands cannot drift apart.
 */
import { asciiLower, toBinaryString } from "../util/bytes.ts";
import { globMatch } from "../util/glob.ts";
import { CommandError } from "./errors.ts";
import { isWord, NOT_INTEGER, parseInt64Bytes } from "./_values.ts";

const ULONG_MAX = 18446744073709551615n;
const SYNTAX_ERROR = "ERR syntax error";
/**
 * COUNT's ceiling: no collection holds this many items, so it changes no reply, and it keeps
 * the bucket budget (COUNT * 10) a small integer.
 */
const MAX_COUNT = 1_000_000_000;

/**
 * A scan cursor as Redis's `parseScanCursorOrReply` (C's `strtoul`) reads it: an optional sign
 * and decimal digits, nothing else; a negative number wraps around; the empty text is 0.
 * Anything else, or more than 64 bits, is Redis's "invalid cursor" error.
 */
export function parseCursor(arg: Uint8Array): bigint {
  const text = toBinaryString(arg);
  if (text === "") return 0n;
  const magnitude = /^[+-]?[0-9]+$/.test(text) ? BigInt(text.replace(/^[+-]/, "")) : null;
  if (magnitude === null || magnitude > ULONG_MAX) throw new CommandError("ERR invalid cursor");
  return text[0] === "-" && magnitude !== 0n ? ULONG_MAX + 1n - magnitude : magnitude;
}

/**
 * The part of a cursor a hash table's reverse-binary walk uses: its low 32 bits (higher bits of
 * a client's cursor are ignored, as the tables never have more than 2^32 buckets).
 */
export function tableCursor(cursor: bigint): number {
  return Number(cursor & 0xffffffffn);
}

/** The options of a scan command. */
export interface ScanOptions {
  /** COUNT: how many items to aim for per call (10 by default). */
  count: number;
  /** The MATCH pattern, or null for none (a lone `*` is none too, as in Redis). */
  pattern: Uint8Array | null;
  /** SCAN's TYPE, lower-cased, or null for none. */
  type: string | null;
}

/** Whether a pattern is the lone `*`, which matches everything, the empty string included. */
function matchesAll(pattern: Uint8Array): boolean {
  return pattern.length === 1 && pattern[0] === 0x2a;
}

/** COUNT's value: a 64-bit integer (else Redis's not-an-integer error) of at least 1. */
function countOption(arg: Uint8Array): number {
  const n = parseInt64Bytes(arg);
  if (n === null) throw new CommandError(NOT_INTEGER);
  if (n < 1) throw new CommandError(SYNTAX_ERROR);
  return n > MAX_COUNT ? MAX_COUNT : Number(n);
}

/**
 * Parses the option pairs from `argv[from]` on as Redis's `scanGenericCommand` does, left to
 * right, the first bad one answering its error: COUNT, MATCH and, when `withType` (SCAN only),
 * TYPE; an unknown option or one without a value is a syntax error.
 */
export function parseScanOptions(argv: Uint8Array[], from: number, withType = false): ScanOptions {
  const options: ScanOptions = { count: 10, pattern: null, type: null };
  for (let i = from; i < argv.length; i += 2) {
    if (i + 1 >= argv.length) throw new CommandError(SYNTAX_ERROR);
    const value = argv[i + 1];
    if (isWord(argv[i], "count")) options.count = countOption(value);
    else if (isWord(argv[i], "match")) options.pattern = matchesAll(value) ? null : value;
    else if (withType && isWord(argv[i], "type")) options.type = asciiLower(value);
    else throw new CommandError(SYNTAX_ERROR);
  }
  return options;
}

/**
 * Walks a hash table from `cursor` as Redis's scan loop does: one bucket per `step`, until
 * `count` items were collected, `count * 10` further buckets were looked at, or the walk ended.
 * Returns the next cursor (0 when complete) and the items collected.
 */
export function walkBuckets(
  step: (cursor: number, visit: (item: string) => void) => number,
  cursor: number,
  count: number,
): { next: number; found: string[] } {
  const found: string[] = [];
  const collect = (item: string) => found.push(item);
  let next = cursor;
  let budget = count * 10;
  do next = step(next, collect); while (next !== 0 && budget-- > 0 && found.length < count);
  return { next, found };
}

/**
 * Scratch bytes for matching binary strings against a glob without allocating per string. The
 * commands run one at a time on one thread, so one buffer is enough.
 */
let scratch = new Uint8Array(256);

/**
 * Whether a binary string (a key, field or member) matches a glob pattern byte for byte, as
 * Redis's `stringmatchlen`; a lone `*` matches every string, even the empty one (KEYS).
 */
export function binaryGlobMatch(pattern: Uint8Array, subject: string): boolean {
  if (matchesAll(pattern)) return true;
  if (subject.length > scratch.length) scratch = new Uint8Array(subject.length * 2);
  for (let i = 0; i < subject.length; i++) scratch[i] = subject.charCodeAt(i);
  return globMatch(pattern, scratch.subarray(0, subject.length));
}
