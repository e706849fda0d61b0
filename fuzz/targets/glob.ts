/**
 * Target `glob`: the glob matcher of KEYS, SCAN MATCH, PSUBSCRIBE and CONFIG GET
 * (src/util/glob.ts). An input is a flags byte (bit 0: nocase), a pattern length byte, the
 * pattern, then the subject.
 *
 * Crash: any exception, or a broken invariant: a result that differs from Redis's own
 * recursive `stringmatchlen()` (util.c, ported below as the oracle, for patterns of at most 64
 * bytes and 16 `*`; its nesting limit is then never reached), or a subject that does not match
 * itself with every byte escaped.
 *
 * @module
 */
import { globMatch } from "../../src/util/glob.ts";
import { check, concat, type FuzzTarget, latin1, utf8 } from "../target.ts";

const STAR = 0x2a;

/** C's `tolower` on a value read as a signed char (ASCII letters only). */
function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

function signed(b: number): number {
  return b >= 0x80 ? b - 0x100 : b;
}

/**
 * Redis 7.0's `stringmatchlen_impl`, statement for statement; the pattern is a C string (a NUL
 * past its end, which is what the original reads there).
 */
function redisMatch(
  p: Uint8Array,
  pi: number,
  plen: number,
  s: Uint8Array,
  si: number,
  slen: number,
  nocase: boolean,
  skip: { longer: boolean },
): boolean {
  const at = (i: number) => (i < p.length ? p[i] : 0);
  while (plen > 0 && slen > 0) {
    switch (at(pi)) {
      case STAR: {
        while (plen > 0 && at(pi + 1) === STAR) {
          pi++;
          plen--;
        }
        if (plen === 1) return true;
        while (slen > 0) {
          if (redisMatch(p, pi + 1, plen - 1, s, si, slen, nocase, skip)) return true;
          if (skip.longer) return false;
          si++;
          slen--;
        }
        skip.longer = true;
        return false;
      }
      case 0x3f: // ?
        si++;
        slen--;
        break;
      case 0x5b: { // [
        pi++;
        plen--;
        const not = at(pi) === 0x5e;
        if (not) {
          pi++;
          plen--;
        }
        let match = false;
        for (;;) {
          if (at(pi) === 0x5c && plen >= 2) {
            pi++;
            plen--;
            if (at(pi) === s[si]) match = true;
          } else if (at(pi) === 0x5d) {
            break;
          } else if (plen === 0) {
            pi--;
            plen++;
            break;
          } else if (plen >= 3 && at(pi + 1) === 0x2d) {
            let start = signed(at(pi));
            let end = signed(at(pi + 2));
            let c = signed(s[si]);
            if (start > end) [start, end] = [end, start];
            if (nocase) {
              start = lower(start);
              end = lower(end);
              c = lower(c);
            }
            pi += 2;
            plen -= 2;
            if (c >= start && c <= end) match = true;
          } else if (nocase ? lower(at(pi)) === lower(s[si]) : at(pi) === s[si]) {
            match = true;
          }
          pi++;
          plen--;
        }
        if (not) match = !match;
        if (!match) return false;
        si++;
        slen--;
        break;
      }
      default: {
        if (at(pi) === 0x5c && plen >= 2) {
          pi++;
          plen--;
        }
        if (nocase ? lower(at(pi)) !== lower(s[si]) : at(pi) !== s[si]) return false;
        si++;
        slen--;
        break;
      }
    }
    pi++;
    plen--;
    if (slen === 0) {
      while (at(pi) === STAR) {
        pi++;
        plen--;
      }
      break;
    }
  }
  return plen === 0 && slen === 0;
}

function stars(pattern: Uint8Array): number {
  let n = 0;
  for (const b of pattern) if (b === STAR) n++;
  return n;
}

/** The input holding a pattern and a subject. */
function encodeCase(pattern: string, subject: string, nocase = false): Uint8Array {
  const p = latin1(pattern);
  return concat([Uint8Array.of(nocase ? 1 : 0, p.length), p, latin1(subject)]);
}

function escapeAll(subject: Uint8Array): Uint8Array {
  const out = new Uint8Array(subject.length * 2);
  for (let i = 0; i < subject.length; i++) {
    out[2 * i] = 0x5c;
    out[2 * i + 1] = subject[i];
  }
  return out;
}

/** The glob target. */
export const globTarget: FuzzTarget = {
  name: "glob",
  description: "globMatch: never throws, agrees with Redis's stringmatchlen",
  maxLength: 1024,
  corpus: () => [
    encodeCase("*", "anything"),
    encodeCase("h?llo", "hello"),
    encodeCase("h[ae]llo", "hallo"),
    encodeCase("h[^e]llo", "hbllo"),
    encodeCase("h[a-b]llo", "hbllo"),
    encodeCase("user:*:name", "user:1000:name"),
    encodeCase("*a*b*c*", "xxaxxbxxcxx"),
    encodeCase("a\\*b", "a*b"),
    encodeCase("x[", "x"),
    encodeCase("x[^", "xy"),
    encodeCase("[a-]z", "-z"),
    encodeCase("[\\]]", "]"),
    encodeCase("[A-z]", "_", true),
    encodeCase("HeLLo*", "hello world", true),
    encodeCase("[\x80-\xff]", "\x90"),
    encodeCase("a*a*a*a*a*a*b", "a".repeat(60)),
    encodeCase("\\", "\\"),
  ],
  dictionary: ["*", "?", "[", "]", "^", "-", "\\", "[^", "a-z", "**"].map(utf8),
  run(input: Uint8Array): void {
    if (input.length < 2) return;
    const nocase = (input[0] & 1) === 1;
    const split = Math.min(input.length, 2 + input[1]);
    const pattern = input.subarray(2, split);
    const subject = input.subarray(split);
    const result = globMatch(pattern, subject, nocase);
    if (pattern.length <= 64 && subject.length <= 256 && stars(pattern) <= 16) {
      const expected = redisMatch(
        pattern,
        0,
        pattern.length,
        subject,
        0,
        subject.length,
        nocase,
        { longer: false },
      );
      check(
        result === expected,
        () => `globMatch says ${result}, Redis's stringmatchlen says ${expected}`,
      );
    }
    if (subject.length > 0) {
      check(globMatch(escapeAll(subject), subject, nocase), "a subject does not match itself");
    }
  },
};
