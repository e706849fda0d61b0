/**
 * Redis-compatible glob matching, as used by KEYS, SCAN MATCH, CONFIG GET and PSUBSCRIBE.
 *
 * The semantics follow `stringmatchlen()` in Redis's util.c byte for byte, quirks included,
 * because clients observe them through those commands. Unlike Redis's recursive matcher this one
 * is iterative and only ever backtracks to the most recent `*`, so every call runs in
 * O(pattern length x subject length) time: abusive patterns cannot blow up exponentially.
 */

import { utf8 } from "./bytes.ts";

const STAR = 0x2a; // *
const QUESTION = 0x3f; // ?
const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const CARET = 0x5e; // ^
const DASH = 0x2d; // -
const BACKSLASH = 0x5c; // \

/**
 * Redis gives up (reports "no match") once its recursion passes this many `*` groups; the guard
 * was added for CVE-2022-36021. We reproduce the observable effect without recursing.
 */
const MAX_STAR_NESTING = 1000;

/** `tolower()` in the C locale: folds ASCII A-Z only, leaves every other value alone. */
function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

/** The value of a byte read through a (signed, on x86-64) C `char`, as Redis's ranges see it. */
function signedChar(b: number): number {
  return b >= 0x80 ? b - 0x100 : b;
}

/**
 * Matches `subject` against the glob `pattern`, both taken as raw bytes, exactly like Redis's
 * `stringmatchlen()`, so that key and channel filtering agrees with a real Redis server.
 *
 * Syntax: `*` matches any run of bytes (consecutive stars collapse), `?` exactly one byte,
 * `[abc]` / `[^abc]` one byte in / not in a set, `[a-z]` a range (reversed bounds are swapped),
 * and `\x` the byte `x` literally, both outside and inside brackets. NUL, CR, LF and bytes
 * 0x80-0xFF are ordinary bytes. With `nocase`, ASCII letters compare case-insensitively.
 *
 * Redis quirks reproduced on purpose:
 * - An empty subject matches only the empty pattern: even `*` does not match it (KEYS and SCAN
 *   special-case the lone pattern `*` themselves, before calling the matcher).
 * - An unterminated `[` takes the rest of the pattern as its set; `x[` never matches and `x[^`
 *   matches `x` plus any one byte. A `]` that ends a range (as in `[a-]`) does not close the set.
 * - A trailing `\` matches a literal backslash, also inside an unterminated set.
 * - Range bounds and the subject byte are compared as signed C chars (x86-64), so `[a-\xff]`
 *   means the signed range -1..97: bytes 0x00-0x61 and 0xFF.
 * - With `nocase`, range bounds are lower-cased after being ordered, so `[A-z]` drops `[\]^_\``
 *   and `[Z-a]` matches nothing; an escaped byte inside brackets is still compared exactly.
 * - A pattern whose 1001st `*` group is followed by anything never matches (Redis's nesting
 *   limit), while one ending in its 1001st `*` group still can.
 *
 * Runs in O(pattern x subject) time and allocates nothing.
 */
export function globMatch(pattern: Uint8Array, subject: Uint8Array, nocase = false): boolean {
  const plen = pattern.length;
  const slen = subject.length;
  // Redis's main loop needs both sides non-empty, so an empty subject only matches "".
  if (slen === 0) return plen === 0;

  let pi = 0;
  let si = 0;
  // Backtracking state: where the pattern resumes after the last `*`, and the subject index at
  // which that star's run currently ends. -1 means no star seen yet.
  let starP = -1;
  let starS = 0;
  let starGroups = 0;

  while (si < slen) {
    let matched = false;
    if (pi < plen) {
      const pc = pattern[pi];
      if (pc === STAR) {
        while (pi < plen && pattern[pi] === STAR) pi++;
        if (pi === plen) return true; // a trailing star swallows the (non-empty) rest
        if (++starGroups > MAX_STAR_NESTING) return false;
        starP = pi;
        starS = si;
        continue;
      }
      const sc = subject[si];
      if (pc === QUESTION) {
        matched = true;
        pi++;
      } else if (pc === OPEN) {
        let j = pi + 1;
        const negate = j < plen && pattern[j] === CARET;
        if (negate) j++;
        let hit = false;
        for (;;) {
          const rem = plen - j;
          if (rem >= 2 && pattern[j] === BACKSLASH) {
            j++;
            if (pattern[j] === sc) hit = true; // escaped bytes ignore nocase, as in Redis
          } else if (rem > 0 && pattern[j] === CLOSE) {
            j++;
            break;
          } else if (rem === 0) {
            break; // unterminated: the set ran to the end of the pattern
          } else if (rem >= 3 && pattern[j + 1] === DASH) {
            let start = signedChar(pattern[j]);
            let end = signedChar(pattern[j + 2]);
            let c = signedChar(sc);
            if (start > end) {
              const t = start;
              start = end;
              end = t;
            }
            if (nocase) {
              start = lower(start);
              end = lower(end);
              c = lower(c);
            }
            j += 2;
            if (c >= start && c <= end) hit = true;
          } else if (nocase ? lower(pattern[j]) === lower(sc) : pattern[j] === sc) {
            hit = true;
          }
          j++;
        }
        matched = hit !== negate;
        pi = j;
      } else {
        // A backslash escapes the next byte; a trailing one stands for itself.
        if (pc === BACKSLASH && pi + 1 < plen) pi++;
        const lit = pattern[pi];
        matched = nocase ? lower(lit) === lower(sc) : lit === sc;
        pi++;
      }
    }
    if (matched) {
      si++;
    } else {
      // Mismatch or pattern exhausted: let the last star swallow one more byte and retry.
      if (starP < 0) return false;
      si = ++starS;
      pi = starP;
    }
  }
  // Subject consumed: only trailing stars may remain.
  while (pi < plen && pattern[pi] === STAR) pi++;
  return pi === plen;
}

/**
 * {@link globMatch} for text such as configuration parameter names: both strings are encoded as
 * UTF-8 first, so `?` matches one byte, not one character, exactly as in Redis.
 */
export function globMatchString(pattern: string, subject: string, nocase = false): boolean {
  return globMatch(utf8(pattern), utf8(subject), nocase);
}

/**
 * The literal part of a pattern of the form `prefix*` (no other `*`, `?`, `[` or `\\`), or null
 * for any other pattern: such a pattern matches exactly the non-empty subjects that start with
 * it (Redis's stringmatchlen matches nothing against an empty subject, not even `*`), which
 * callers on hot paths (ACL key patterns) test without the general matcher.
 */
export function globPrefix(pattern: Uint8Array): Uint8Array | null {
  const last = pattern.length - 1;
  if (last < 0 || pattern[last] !== 42) return null;
  for (let i = 0; i < last; i++) {
    const c = pattern[i];
    if (c === 42 || c === 63 || c === 91 || c === 92) return null;
  }
  return pattern.subarray(0, last);
}
