/**
 * What the sorted set commands share: scores read as Redis reads them (C `strtod`, strictly for
 * scores and weights, leniently for range bounds), score and lex ranges turned into ranks, and
 * scores written as Redis 7.0 writes them (`%.17g`).
 */
import { DoubleReply, type Reply } from "../resp/reply.ts";
import { formatDouble17g } from "../resp/double_format.ts";
import type { ClientState } from "../server/client.ts";
import type { Database } from "../store/database.ts";
import type { ScoredMember, SortedSetValue } from "../store/sorted_set_value.ts";
import { toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import { CommandError } from "./errors.ts";
import { readCollection, writableCollection } from "./_values.ts";

/** Redis's reply to a score (or increment) that is not a number. */
export const NOT_A_FLOAT = "ERR value is not a valid float";
/** Redis's reply to a score range bound that is not a number. */
export const RANGE_NOT_FLOAT = "ERR min or max is not a float";
/** Redis's reply to a lex range bound without `[`, `(`, `-` or `+`. */
export const RANGE_NOT_LEX = "ERR min or max not valid string range item";

/** C's `isspace` in the C locale. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** Whether `text` holds `word` (lower case) at `at`, in any case. */
function wordAt(text: string, at: number, word: string): boolean {
  if (at + word.length > text.length) return false;
  for (let i = 0; i < word.length; i++) {
    if ((text.charCodeAt(at + i) | 0x20) !== word.charCodeAt(i)) return false;
  }
  return true;
}

/** What {@link strtod} read: the value, where it stopped, and whether it went out of range. */
export interface Parsed {
  /** The value (0 when nothing was read). */
  value: number;
  /** Index after the last character read (the start when nothing was read). */
  end: number;
  /** Whether C would set ERANGE: a finite text overflowing to infinity or underflowing to 0. */
  outOfRange: boolean;
}

/**
 * C's `strtod` (glibc, C locale) over a binary string from `start`: leading white space, a sign,
 * then a decimal or hexadecimal (`0x`, `p` exponent) number, `inf`/`infinity` or `nan`/`nan(...)`,
 * in any case.
 */
export function strtod(text: string, start = 0): Parsed {
  let i = start;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  let sign = 1;
  const c = text.charCodeAt(i);
  if (c === 43 || c === 45) {
    if (c === 45) sign = -1;
    i++;
  }
  if (wordAt(text, i, "inf")) {
    const end = wordAt(text, i, "infinity") ? i + 8 : i + 3;
    return { value: sign * Infinity, end, outOfRange: false };
  }
  if (wordAt(text, i, "nan")) return { value: NaN, end: nanEnd(text, i + 3), outOfRange: false };
  if (text.charCodeAt(i) === 48 && (text.charCodeAt(i + 1) | 0x20) === 120) {
    const hex = hexFloat(text, i + 2, sign);
    if (hex !== null) return hex;
  }
  return decimal(text, i, sign, start);
}

/** The end of `nan(n-char-sequence)`, or of `nan` when no well-formed parenthesis follows. */
function nanEnd(text: string, at: number): number {
  if (text.charCodeAt(at) !== 40) return at;
  let j = at + 1;
  while (j < text.length && /[0-9A-Za-z_]/.test(text[j])) j++;
  return text.charCodeAt(j) === 41 ? j + 1 : at;
}

function decimal(text: string, at: number, sign: number, start: number): Parsed {
  let i = at;
  let digits = 0;
  let nonZero = false;
  while (isDigit(text.charCodeAt(i))) {
    if (text.charCodeAt(i) !== 48) nonZero = true;
    i++;
    digits++;
  }
  if (text.charCodeAt(i) === 46) {
    i++;
    while (isDigit(text.charCodeAt(i))) {
      if (text.charCodeAt(i) !== 48) nonZero = true;
      i++;
      digits++;
    }
  }
  if (digits === 0) return { value: 0, end: start, outOfRange: false };
  if ((text.charCodeAt(i) | 0x20) === 101) {
    let j = i + 1;
    const s = text.charCodeAt(j);
    if (s === 43 || s === 45) j++;
    if (isDigit(text.charCodeAt(j))) {
      while (isDigit(text.charCodeAt(j))) j++;
      i = j;
    }
  }
  const value = sign * Number(text.slice(at, i));
  const outOfRange = !Number.isFinite(value) || (value === 0 && nonZero);
  return { value, end: i, outOfRange };
}

/** A hexadecimal float after `0x`, or null when no hex digit follows (C then reads the "0"). */
function hexFloat(text: string, at: number, sign: number): Parsed | null {
  let i = at;
  let mantissa = 0n;
  let digits = 0;
  let fractionDigits = 0;
  for (let v = hexValue(text.charCodeAt(i)); v >= 0; v = hexValue(text.charCodeAt(++i))) {
    mantissa = mantissa * 16n + BigInt(v);
    digits++;
  }
  if (text.charCodeAt(i) === 46) {
    for (let v = hexValue(text.charCodeAt(++i)); v >= 0; v = hexValue(text.charCodeAt(++i))) {
      mantissa = mantissa * 16n + BigInt(v);
      digits++;
      fractionDigits++;
    }
  }
  if (digits === 0) return null;
  let exponent = 0;
  if ((text.charCodeAt(i) | 0x20) === 112) {
    let j = i + 1;
    let expSign = 1;
    const s = text.charCodeAt(j);
    if (s === 43 || s === 45) {
      if (s === 45) expSign = -1;
      j++;
    }
    if (isDigit(text.charCodeAt(j))) {
      let e = 0;
      while (isDigit(text.charCodeAt(j))) e = Math.min(e * 10 + text.charCodeAt(j++) - 48, 1e6);
      exponent = expSign * e;
      i = j;
    }
  }
  const value = sign * scaleByPowerOfTwo(Number(mantissa), exponent - 4 * fractionDigits);
  const outOfRange = !Number.isFinite(value) || (value === 0 && mantissa !== 0n);
  return { value, end: i, outOfRange };
}

/** `value * 2^power`, in steps that stay exact while the result is representable. */
function scaleByPowerOfTwo(value: number, power: number): number {
  let result = value;
  let p = power;
  while (p > 1000) {
    result *= 2 ** 1000;
    p -= 1000;
  }
  while (p < -1000) {
    result *= 2 ** -1000;
    p += 1000;
  }
  return result * 2 ** p;
}

/**
 * A score, increment or weight as Redis's `string2d` reads it: the whole argument must be a
 * number, not empty, not starting with white space, not NaN and not out of range. Returns null
 * otherwise.
 */
export function parseScore(arg: Uint8Array): number | null {
  if (arg.length === 0 || isSpace(arg[0])) return null;
  const text = toBinaryString(arg);
  const parsed = strtod(text);
  if (parsed.end !== text.length || parsed.outOfRange || Number.isNaN(parsed.value)) return null;
  return parsed.value;
}

/** {@link parseScore}, or the error `message`. */
export function scoreArg(arg: Uint8Array, message = NOT_A_FLOAT): number {
  const score = parseScore(arg);
  if (score === null) throw new CommandError(message);
  return score;
}

/** A score range (ZRANGEBYSCORE's min and max), each end open or closed. */
export interface ScoreRange {
  /** Lower bound. */
  min: number;
  /** Whether the lower bound is excluded (`(`). */
  minEx: boolean;
  /** Upper bound. */
  max: number;
  /** Whether the upper bound is excluded. */
  maxEx: boolean;
}

/** One bound as Redis's zslParseRange reads it: `(` excludes, then strtod up to a NUL. */
function scoreBound(arg: Uint8Array): [number, boolean] {
  const text = toBinaryString(arg);
  const exclusive = text.charCodeAt(0) === 40;
  const parsed = strtod(text, exclusive ? 1 : 0);
  const stop = parsed.end < text.length ? text.charCodeAt(parsed.end) : 0;
  if (stop !== 0 || Number.isNaN(parsed.value)) throw new CommandError(RANGE_NOT_FLOAT);
  return [parsed.value, exclusive];
}

/** Parses a score range, or throws "min or max is not a float". */
export function parseScoreRange(minArg: Uint8Array, maxArg: Uint8Array): ScoreRange {
  const [min, minEx] = scoreBound(minArg);
  const [max, maxEx] = scoreBound(maxArg);
  return { min, minEx, max, maxEx };
}

/** A lex range bound: a member with its openness, or the `-` / `+` infinities. */
export type LexBound = { member: string; exclusive: boolean } | "-" | "+";

/** A lex range (ZRANGEBYLEX's min and max). */
export interface LexRange {
  /** Lower bound. */
  min: LexBound;
  /** Upper bound. */
  max: LexBound;
}

function lexBound(arg: Uint8Array): LexBound {
  const first = arg.length === 0 ? 0 : arg[0];
  const alone = arg.length === 1 || arg[1] === 0;
  if (first === 43 && alone) return "+";
  if (first === 45 && alone) return "-";
  if (first === 40 || first === 91) {
    return { member: toBinaryString(arg, 1), exclusive: first === 40 };
  }
  throw new CommandError(RANGE_NOT_LEX);
}

/** Parses a lex range, or throws "min or max not valid string range item". */
export function parseLexRange(minArg: Uint8Array, maxArg: Uint8Array): LexRange {
  return { min: lexBound(minArg), max: lexBound(maxArg) };
}

/** The ranks [start, end] of the members within a score range (start > end when none). */
export function scoreRanks(zset: SortedSetValue, range: ScoreRange): [number, number] {
  const start = zset.rankByScore(range.min, range.minEx);
  const end = zset.rankByScore(range.max, !range.maxEx) - 1;
  return [start, end];
}

/** The ranks [start, end] of the members within a lex range (start > end when none). */
export function lexRanks(zset: SortedSetValue, range: LexRange): [number, number] {
  const { min, max } = range;
  const start = min === "-"
    ? 0
    : min === "+"
    ? zset.size
    : zset.rankByLex(min.member, min.exclusive);
  const end = max === "+"
    ? zset.size - 1
    : max === "-"
    ? -1
    : zset.rankByLex(max.member, !max.exclusive) - 1;
  return [start, end];
}

/**
 * A score reply as Redis's addReplyDouble sends it: a `%.17g` bulk string under RESP2, a RESP3
 * double otherwise. (The RESP3 double's text comes from the shared encoder's formatDouble.)
 */
export function scoreReply(client: ClientState, score: number): Reply {
  return client.proto === 2 ? formatScore(score) : new DoubleReply(score);
}

/** A score as Redis 7.0 writes it (`%.17g`, see resp/double_format.ts). */
export const formatScore: (value: number) => string = formatDouble17g;

/** The sorted set stored under `key`, undefined when missing, WRONGTYPE for other types. */
export function zsetAt(
  db: Database,
  key: string,
  client: ClientState,
  forWrite = false,
): SortedSetValue | undefined {
  const t = now();
  return forWrite
    ? writableCollection(db, key, t, "zset")
    : readCollection(db, client, key, t, "zset");
}

/**
 * Members with their scores as Redis replies them: members alone, or with scores a flat array
 * under RESP2 and an array of [member, score] pairs under RESP3.
 */
export function scoredReply(
  client: ClientState,
  items: Iterable<ScoredMember>,
  withScores: boolean,
): Reply[] {
  const out: Reply[] = [];
  for (const [member, score] of items) {
    if (!withScores) out.push(member);
    else if (client.proto === 2) out.push(member, formatScore(score));
    else out.push([member, new DoubleReply(score)]);
  }
  return out;
}
