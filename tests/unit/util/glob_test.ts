import assert from "node:assert/strict";
import fc from "fast-check";
import { globMatch, globMatchString, globPrefix } from "../../../src/util/glob.ts";
import { fromBinaryString, toBinaryString } from "../../../src/util/bytes.ts";

/** Pattern and subject are written as binary strings: each char code is one byte. */
function matches(pattern: string, subject: string, nocase = false): boolean {
  return globMatch(fromBinaryString(pattern), fromBinaryString(subject), nocase);
}

/** Backslash-escapes every byte that is special outside brackets, making `bytes` literal. */
function escapeGlob(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (const b of bytes) {
    if (b === 0x2a || b === 0x3f || b === 0x5b || b === 0x5c) out.push(0x5c);
    out.push(b);
  }
  return Uint8Array.from(out);
}

/**
 * Textbook exponential glob matcher for `*`, `?`, `\` and literals, used as an oracle on short
 * inputs. Redis agrees with it for every non-empty subject.
 */
function naiveMatch(p: Uint8Array, pi: number, s: Uint8Array, si: number): boolean {
  if (pi === p.length) return si === s.length;
  const c = p[pi];
  if (c === 0x2a) {
    return naiveMatch(p, pi + 1, s, si) || (si < s.length && naiveMatch(p, pi, s, si + 1));
  }
  if (si === s.length) return false;
  if (c === 0x3f) return naiveMatch(p, pi + 1, s, si + 1);
  const lit = c === 0x5c && pi + 1 < p.length ? p[++pi] : c;
  return lit === s[si] && naiveMatch(p, pi + 1, s, si + 1);
}

/**
 * (pattern, subject, expected) as binary strings. The expectations were taken from
 * redis-server 7.0.15 (x86-64) by storing each subject as a key and running KEYS <pattern>.
 */
const REDIS_KEYS_CASES: ReadonlyArray<readonly [string, string, boolean]> = [
  ["h?llo", "hello", true],
  ["h?llo", "hllo", false],
  ["h?llo", "heello", false],
  ["h*llo", "hllo", true],
  ["h*llo", "heeeello", true],
  ["h*llo", "hello world", false],
  ["h[ae]llo", "hello", true],
  ["h[ae]llo", "hallo", true],
  ["h[ae]llo", "hillo", false],
  ["h[^e]llo", "hallo", true],
  ["h[^e]llo", "hello", false],
  ["h[^e]llo", "hllo", false],
  ["h[a-b]llo", "hbllo", true],
  ["h[a-b]llo", "hcllo", false],
  ["h[b-a]llo", "hallo", true],
  ["[z-a]", "m", true],
  ["[a-c-e]", "-", true],
  ["[a-c-e]", "e", true],
  ["[a-c-e]", "d", false],
  ["[-a]", "-", true],
  ["[a-]", "-", false],
  ["[a-]", "a", true],
  ["[a-]", "]", true],
  ["[a-]]", "]", true],
  ["[a-]]", "]]", false],
  ["[]", "]", false],
  ["[]", "", false],
  ["[]a]", "a", false],
  ["[]a]", "]", false],
  ["[]a]", "a]", false],
  ["[^]", "x", true],
  ["[^]", "]", true],
  ["[", "[", false],
  ["[", "a", false],
  ["x[", "x", false],
  ["x[", "x[", false],
  ["x[^", "xq", true],
  ["x[^", "x^", true],
  ["x[^", "x", false],
  ["x[ab", "xa", true],
  ["x[ab", "xb", true],
  ["x[ab", "xab", false],
  ["x[a-", "x-", true],
  ["x[a-", "xa", true],
  ["[\\]]", "]", true],
  ["[\\]]", "\\", false],
  ["[\\-]", "-", true],
  ["[a\\-c]", "b", false],
  ["[a\\-c]", "-", true],
  ["[\\", "\\", true],
  ["x[\\", "x\\", true],
  ["[\\\\-a]", "_", false],
  ["[\\^]a", "^a", true],
  ["[^^]", "^", false],
  ["[^^]", "a", true],
  ["[*]", "*", true],
  ["[*]", "a", false],
  ["[?]", "?", true],
  ["[?]", "a", false],
  ["[[]", "[", true],
  ["\\", "\\", true],
  ["\\", "", false],
  ["x\\", "x\\", true],
  ["x\\", "x", false],
  ["\\*", "*", true],
  ["\\*", "a", false],
  ["\\?", "a", false],
  ["\\[", "[", true],
  ["\\\\", "\\", true],
  ["\\a", "a", true],
  ["h\\*llo", "h*llo", true],
  ["h\\*llo", "hello", false],
  ["*", "a", true],
  ["**", "", false],
  ["", "", true],
  ["", "a", false],
  ["a**", "a", true],
  ["**a**", "bab", true],
  ["*?", "a", true],
  ["*?", "", false],
  ["?*", "ab", true],
  ["*??*", "a", false],
  ["*a*b*", "xaxbx", true],
  ["*a*b*", "xbxax", false],
];

/** Byte-level cases (NUL, CRLF, UTF-8, high bytes), verified like {@link REDIS_KEYS_CASES}. */
const REDIS_BINARY_CASES: ReadonlyArray<readonly [string, string, boolean]> = [
  ["*b", "abab", true],
  ["a*a", "a", false],
  ["a\x00b", "a\x00b", true],
  ["a?b", "a\x00b", true],
  ["a*b", "a\x0d\x0ab", true],
  ["a??b", "a\x0d\x0ab", true],
  ["\x00", "\x00", true],
  ["?", "\xc3\xa9", false],
  ["??", "\xc3\xa9", true],
  ["caf?", "caf\xc3\xa9", false],
  ["caf??", "caf\xc3\xa9", true],
  ["caf*", "caf\xc3\xa9", true],
  ["?\xa9", "\xc3\xa9", true],
  ["\xff", "\xff", true],
  ["\xff", "\xfe", false],
  ["[\x80-\xff]", "\xc3", true],
  ["[\x80-\xff]", "a", false],
  ["[\x00-\x7f]", "\x80", false],
  ["[^\x00-\x7f]", "\x80", true],
  ["[^\x00-\x7f]", "a", false],
  ["[a-\xff]", "\xff", true],
  ["[a-\xff]", "\x80", false],
  ["[a-\xff]", "\x00", true],
  ["[a-\xff]", "a", true],
  ["[a-\xff]", "b", false],
  ["[\xff-a]", "_", true],
  ["[A-z]", "_", true],
  ["[Z-a]", "_", true],
  ["[^A-Z]", "a", true],
];

/**
 * Case-insensitive cases (pattern, config name, expected). The expectations were taken from
 * redis-server 7.0.15, whose CONFIG GET matches parameter names with nocase enabled.
 */
const REDIS_NOCASE_CASES: ReadonlyArray<readonly [string, string, boolean]> = [
  ["MAXMEMORY*", "maxmemory", true],
  ["*MEMORY-POLICY", "maxmemory-policy", true],
  ["M?XMEMORY*", "maxmemory", true],
  ["[M]axmemory", "maxmemory", true],
  ["[\\M]axmemory", "maxmemory", false],
  ["[\\m]axmemory", "maxmemory", true],
  ["[^\\M]axmemory", "maxmemory", true],
  ["[^M]axmemory*", "maxmemory", false],
  ["\\Maxmemory*", "maxmemory", true],
  ["[L-N]axmemory", "maxmemory", true],
  ["[N-L]AXMEMORY", "maxmemory", true],
  ["m[Z-A]xmemory", "maxmemory", true],
  ["m[Z-a]xmemory", "maxmemory", false],
  ["m[a-Z]xmemory", "maxmemory", false],
  ["maxmemory[A-z]policy", "maxmemory-policy", false],
  ["maxmemory[,-Z]policy", "maxmemory-policy", true],
  ["*Time?ut*", "timeout", true],
  ["*-[P]OLICY", "maxmemory-policy", true],
];

Deno.test("every KEYS case verified against redis-server 7.0.15 gives the same answer", () => {
  for (const [pattern, subject, expected] of REDIS_KEYS_CASES) {
    assert.equal(
      matches(pattern, subject),
      expected,
      `${JSON.stringify(pattern)} vs ${JSON.stringify(subject)}`,
    );
  }
});

Deno.test("every binary case verified against redis-server 7.0.15 gives the same answer", () => {
  for (const [pattern, subject, expected] of REDIS_BINARY_CASES) {
    assert.equal(
      matches(pattern, subject),
      expected,
      `${JSON.stringify(pattern)} vs ${JSON.stringify(subject)}`,
    );
  }
});

Deno.test("every nocase case verified against redis-server 7.0.15 gives the same answer", () => {
  for (const [pattern, subject, expected] of REDIS_NOCASE_CASES) {
    assert.equal(globMatchString(pattern, subject, true), expected, `${pattern} vs ${subject}`);
  }
});

Deno.test("a star matches any run of bytes including none", () => {
  assert.equal(matches("a*b", "ab"), true);
  assert.equal(matches("a*b", "axxxb"), true);
  assert.equal(matches("a*b", "a*b"), true);
  assert.equal(matches("a*b", "axxxbc"), false);
  assert.equal(matches("*", "anything at all"), true);
});

Deno.test("consecutive stars behave like a single star", () => {
  assert.equal(matches("a***b", "ab"), true);
  assert.equal(matches("a***b", "a-b"), true);
  assert.equal(matches("***", "x"), true);
});

Deno.test("a question mark matches exactly one byte", () => {
  assert.equal(matches("?", "a"), true);
  assert.equal(matches("?", ""), false);
  assert.equal(matches("?", "ab"), false);
  assert.equal(matches("a?c", "abc"), true);
});

Deno.test("a bracket set matches one byte from the set and a caret negates it", () => {
  assert.equal(matches("[abc]", "b"), true);
  assert.equal(matches("[abc]", "d"), false);
  assert.equal(matches("[^abc]", "d"), true);
  assert.equal(matches("[^abc]", "a"), false);
  assert.equal(matches("[a-c]x", "bx"), true);
  assert.equal(matches("[a-c]x", "dx"), false);
});

Deno.test("a reversed range matches the same bytes as the forward range", () => {
  for (const c of "abcdefghijklmnopqrstuvwxyz_-") {
    assert.equal(matches("[m-d]", c), matches("[d-m]", c), c);
  }
});

Deno.test("a backslash makes the next byte literal outside and inside brackets", () => {
  assert.equal(matches("\\*", "*"), true);
  assert.equal(matches("\\*", "x"), false);
  assert.equal(matches("\\?", "?"), true);
  assert.equal(matches("\\?", "x"), false);
  assert.equal(matches("[\\]]", "]"), true);
  assert.equal(matches("[a\\-z]", "-"), true);
  assert.equal(matches("[a\\-z]", "m"), false);
});

Deno.test("an unterminated bracket takes the rest of the pattern as its set", () => {
  assert.equal(matches("x[ab", "xa"), true);
  assert.equal(matches("x[ab", "xab"), false);
  assert.equal(matches("x[", "x"), false);
  assert.equal(matches("x[^", "xz"), true);
  assert.equal(matches("[a-]", "-"), false, "a ']' ending a range does not close the set");
});

Deno.test("a trailing backslash matches a literal backslash", () => {
  assert.equal(matches("a\\", "a\\"), true);
  assert.equal(matches("a\\", "a"), false);
  assert.equal(matches("[\\", "\\"), true);
});

Deno.test("an empty subject matches only the empty pattern, even against a lone star", () => {
  assert.equal(matches("", ""), true);
  assert.equal(matches("*", ""), false);
  assert.equal(matches("**", ""), false);
  assert.equal(matches("", "a"), false);
});

Deno.test("range bounds are compared as signed chars like Redis on x86-64", () => {
  // [a-\xff] is the signed range -1..97: 0x00-0x61 and 0xFF, but not 0x62-0xFE.
  assert.equal(matches("[a-\xff]", "\x00"), true);
  assert.equal(matches("[a-\xff]", "a"), true);
  assert.equal(matches("[a-\xff]", "\xff"), true);
  assert.equal(matches("[a-\xff]", "b"), false);
  assert.equal(matches("[a-\xff]", "\x80"), false);
  assert.equal(matches("[\x80-\xff]", "\xc3"), true);
});

Deno.test("binary subjects treat NUL, CR, LF and high bytes as ordinary bytes", () => {
  const subject = Uint8Array.of(0x00, 0x0d, 0x0a, 0x80, 0xff, 0x2a);
  assert.equal(globMatch(Uint8Array.of(0x2a), subject), true);
  assert.equal(globMatch(Uint8Array.of(0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f), subject), true);
  assert.equal(globMatch(Uint8Array.of(0x3f, 0x3f, 0x3f, 0x3f, 0x3f), subject), false);
  assert.equal(globMatch(Uint8Array.of(0x00, 0x2a, 0xff, 0x3f), subject), true);
  assert.equal(globMatch(Uint8Array.of(0x2a, 0x0d, 0x0a, 0x2a), subject), true);
  assert.equal(globMatch(Uint8Array.of(0x2a, 0x0a, 0x0d, 0x2a), subject), false);
  assert.equal(globMatch(Uint8Array.of(0x5b, 0x00, 0x5d, 0x2a), subject), true);
});

Deno.test("nocase folds ASCII letters only", () => {
  assert.equal(matches("HeLLo", "hello", true), true);
  assert.equal(matches("HeLLo", "hello"), false);
  assert.equal(matches("h[A-F]llo", "hello", true), true);
  assert.equal(matches("\xc9", "\xe9", true), false, "Latin-1 letters are not folded");
  assert.equal(matches("[\\E]", "e", true), false, "an escaped byte in brackets is exact");
  assert.equal(matches("[A-z]", "_", true), false, "bounds are lower-cased after ordering");
  assert.equal(matches("[A-z]", "_"), true);
});

Deno.test("globMatchString matches text by its UTF-8 bytes", () => {
  assert.equal(globMatchString("caf?", "café"), false);
  assert.equal(globMatchString("caf??", "café"), true);
  assert.equal(globMatchString("max*", "maxmemory"), true);
  assert.equal(globMatchString("MAX*", "maxmemory", true), true);
  assert.equal(globMatchString("MAX*", "maxmemory"), false);
});

Deno.test("a pattern with no special characters matches only itself", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 12 }), fc.uint8Array({ maxLength: 12 }), (s, t) => {
      const p = escapeGlob(s);
      assert.equal(globMatch(p, s), true);
      assert.equal(globMatch(p, t), toBinaryString(s) === toBinaryString(t));
    }),
  );
});

Deno.test("star, s, star matches exactly the non-empty subjects containing s", () => {
  const bytes = fc.uint8Array({ maxLength: 8 });
  fc.assert(
    fc.property(bytes, bytes, bytes, (needle, before, after) => {
      const p = Uint8Array.of(0x2a, ...escapeGlob(needle), 0x2a);
      const subject = Uint8Array.of(...before, ...needle, ...after);
      assert.equal(globMatch(p, subject), subject.length > 0);
      const other = Uint8Array.of(...before, ...after);
      const contains = toBinaryString(other).includes(toBinaryString(needle));
      assert.equal(globMatch(p, other), other.length > 0 && contains);
    }),
  );
});

Deno.test("star, question mark and escape patterns agree with a textbook matcher", () => {
  const patternByte = fc.constantFrom(0x2a, 0x3f, 0x5c, 0x61, 0x62, 0x00, 0xff);
  const subjectByte = fc.constantFrom(0x2a, 0x3f, 0x5c, 0x61, 0x62, 0x00, 0xff);
  fc.assert(
    fc.property(
      fc.array(patternByte, { maxLength: 8 }).map((a) => Uint8Array.from(a)),
      fc.array(subjectByte, { maxLength: 8 }).map((a) => Uint8Array.from(a)),
      fc.boolean(),
      (p, s, nocase) => {
        const expected = s.length === 0 ? p.length === 0 : naiveMatch(p, 0, s, 0);
        assert.equal(globMatch(p, s, nocase), expected);
      },
    ),
    { numRuns: 2000 },
  );
});

// These finish here in well under a millisecond each; `deno task bench:parsers` times them on
// subjects up to 40 times longer, so that a slower matcher shows there.
Deno.test("pathological star patterns finish without exponential backtracking", () => {
  const as = "a".repeat(10_000);
  assert.equal(matches("a*a*a*a*a*a*a*a*b", as), false);
  assert.equal(matches("a*a*a*a*a*a*a*a*a", as), true);
  assert.equal(matches("*[a]*[a]*[a]*[a]*[a]*[a]*[a]*[a]*[b]", as), false);
  assert.equal(matches("*?*?*?*?*?*?*?*?*b", as), false);
  assert.equal(matches("*a".repeat(500) + "b", as), false);
});

Deno.test("a pattern whose 1001st star is followed by anything never matches, as in Redis", () => {
  const subject = "a".repeat(1001);
  assert.equal(matches("*a".repeat(1000), subject), true);
  assert.equal(matches("*a".repeat(1001), subject), false);
  assert.equal(matches("*a".repeat(1000) + "*", subject), true);
  assert.equal(matches("*a".repeat(1001) + "*", subject), false);
});

Deno.test("globPrefix: a `prefix*` pattern matches exactly the non-empty subjects starting with the prefix", () => {
  assert.equal(toBinaryString(globPrefix(fromBinaryString("key:*"))!), "key:");
  assert.equal(toBinaryString(globPrefix(fromBinaryString("*"))!), "");
  for (const other of ["key:", "k*y*", "k?y*", "k[a]*", "k\\**", ""]) {
    assert.equal(globPrefix(fromBinaryString(other)), null, other);
  }
  const text = fc.string({ unit: fc.constantFrom("a", "b", "*", "?", "[", "]", "\\", "^", "-") });
  fc.assert(
    fc.property(text, text, (pattern, subject) => {
      const prefix = globPrefix(fromBinaryString(pattern));
      if (prefix === null) return;
      const p = toBinaryString(prefix);
      const expected = subject.length > 0 && subject.startsWith(p);
      assert.equal(matches(pattern, subject), expected, `${pattern} ~ ${subject}`);
    }),
    { numRuns: 5000 },
  );
});
