import assert from "node:assert/strict";
import fc from "fast-check";
import {
  LISTPACK_BASE,
  LISTPACK_ENTRY,
  type ScoredMember,
  SKIPLIST_BASE,
  SKIPLIST_ENTRY,
  SortedSetValue,
} from "../../src/store/sorted_set_value.ts";
import { ScoreTree } from "../../src/store/score_tree.ts";
import { encodingLimits } from "../../src/store/collection.ts";
import { formatScore, parseScore, strtod } from "../../src/commands/sorted_sets_args.ts";

/** Runs `body` with temporary encoding limits. */
function withLimits(entries: number, value: number, body: () => void): void {
  const saved = { ...encodingLimits };
  encodingLimits.zsetMaxListpackEntries = entries;
  encodingLimits.zsetMaxListpackValue = value;
  try {
    body();
  } finally {
    Object.assign(encodingLimits, saved);
  }
}

/** The reference order: score, then member bytes. */
function compare(a: ScoredMember, b: ScoredMember): number {
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

function expectedBytes(zset: SortedSetValue): number {
  const skip = zset.encoding() === "skiplist";
  let bytes = skip ? SKIPLIST_BASE : LISTPACK_BASE;
  for (const [member] of zset.entries()) {
    bytes += member.length + (skip ? SKIPLIST_ENTRY : LISTPACK_ENTRY);
  }
  return bytes;
}

Deno.test("a sorted set orders members by score, then by member bytes", () => {
  const z = new SortedSetValue();
  assert.equal(z.add("b", 1), true);
  assert.equal(z.add("a", 1), true);
  assert.equal(z.add("\xff", 0), true);
  assert.equal(z.add("c", -1), true);
  assert.equal(z.add("a", 1), false);
  assert.deepEqual([...z.entries()], [["c", -1], ["\xff", 0], ["a", 1], ["b", 1]]);
  assert.equal(z.rank("a"), 2);
  assert.equal(z.rank("zz"), undefined);
  assert.equal(z.score("\xff"), 0);
  assert.equal(z.size, 4);
  assert.equal(z.type, "zset");
});

Deno.test("an update moves a member to its new position", () => {
  const z = new SortedSetValue();
  for (const [m, s] of [["a", 1], ["b", 2], ["c", 3]] as const) z.add(m, s);
  assert.equal(z.add("a", 10), false);
  assert.deepEqual([...z.entries()].map(([m]) => m), ["b", "c", "a"]);
  assert.equal(z.delete("c"), true);
  assert.equal(z.delete("c"), false);
  assert.deepEqual([...z.entries()], [["b", 2], ["a", 10]]);
});

Deno.test("a sorted set converts to a skiplist past its listpack limits and never back", () => {
  withLimits(3, 4, () => {
    const z = new SortedSetValue();
    z.add("a", 1);
    z.add("b", 2);
    z.add("c", 3);
    assert.equal(z.encoding(), "listpack");
    assert.equal(z.bytes, expectedBytes(z));
    z.add("d", 4);
    assert.equal(z.encoding(), "skiplist");
    assert.equal(z.bytes, expectedBytes(z));
    z.delete("d");
    z.delete("c");
    assert.equal(z.encoding(), "skiplist");
    const long = new SortedSetValue();
    long.add("abcde", 1);
    assert.equal(long.encoding(), "skiplist");
  });
});

/** Every read of `z` and of `reference` (same members) agrees, walked in every way. */
function assertSameReads(z: SortedSetValue, reference: SortedSetValue): void {
  const want = [...reference.entries()];
  assert.deepEqual([...z.entries()], want);
  assert.equal(z.size, want.length);
  want.forEach(([member, score], rank) => {
    assert.equal(z.score(member), score);
    assert.equal(z.rank(member), rank);
    assert.deepEqual(z.at(rank), [member, score]);
    assert.equal(z.rankByScore(score, false), reference.rankByScore(score, false));
    assert.equal(z.rankByScore(score, true), reference.rankByScore(score, true));
  });
  if (want.length > 0) {
    assert.deepEqual([...z.range(0, want.length - 1, true)], want.slice().reverse());
  }
}

Deno.test("the packed listpack keeps members of any length and byte, and any score", () => {
  withLimits(128, 300, () => {
    const members = ["", "\x00", "\x7f", "\x80", "\xff", "\xff\x00", "a".repeat(127)];
    members.push("b".repeat(128), "c".repeat(300), "\x80".repeat(200), "member:1", "member:10");
    const scores = [-Infinity, -Number.MAX_VALUE, -1.5, -5e-324, 0, 5e-324, 1, 1.5, 1e300];
    scores.push(Number.MAX_VALUE, Infinity);
    const z = new SortedSetValue();
    const reference = new SortedSetValue();
    reference.toSkiplist();
    members.forEach((member, i) => {
      const score = scores[(i * 5) % scores.length];
      z.add(member, score);
      reference.add(member, score);
    });
    assert.equal(z.encoding(), "listpack");
    assert.equal(z.bytes, expectedBytes(z));
    assertSameReads(z, reference);
    for (const score of [-1, 0, 2, -Infinity, Infinity]) {
      assert.equal(z.rankByScore(score, false), reference.rankByScore(score, false));
      assert.equal(z.rankByScore(score, true), reference.rankByScore(score, true));
    }
    z.add("c".repeat(300), -2);
    reference.add("c".repeat(300), -2);
    z.delete("\x80");
    reference.delete("\x80");
    assert.equal(z.deleteRange(2, 4), reference.deleteRange(2, 4));
    assert.equal(z.bytes, expectedBytes(z));
    assertSameReads(z, reference);
    const copy = z.clone();
    z.toSkiplist();
    assert.equal(z.encoding(), "skiplist");
    assert.equal(z.bytes, expectedBytes(z));
    assertSameReads(z, reference);
    assert.equal(copy.encoding(), "listpack");
    assertSameReads(copy, reference);
  });
});

Deno.test("the packed listpack orders equal scores by member bytes, prefixes first", () => {
  const z = new SortedSetValue();
  for (const member of ["ab", "a", "b", "", "a\x00", "\xff", "aa"]) z.add(member, 1);
  z.add("z", -0);
  assert.deepEqual([...z.entries()].map(([m]) => m), [
    "z",
    "",
    "a",
    "a\x00",
    "aa",
    "ab",
    "b",
    "\xff",
  ]);
  assert.equal(z.rankByLex("a", false), 2);
  assert.equal(z.rankByLex("a", true), 3);
  assert.equal(z.rankByLex("\xff", true), 8);
  assert.equal(z.rankByScore(-0, false), 0);
  assert.equal(z.rankByScore(-0, true), 1);
  assert.equal(z.add("z", 0), false);
  assert.equal(z.add("a", 1), false);
  assert.equal(z.add("a", 2), false);
  assert.deepEqual(z.at(7), ["a", 2]);
  assert.equal(z.rank("a\x00"), 2);
  assert.equal(z.bytes, expectedBytes(z));
});

Deno.test("a listpack zero has no sign, a skiplist keeps -0", () => {
  const packed = new SortedSetValue();
  packed.add("a", -0);
  assert.equal(Object.is(packed.score("a"), 0), true);
  withLimits(0, 64, () => {
    const big = new SortedSetValue();
    big.add("a", -0);
    assert.equal(Object.is(big.score("a"), -0), true);
  });
});

Deno.test("clone is deep and keeps the encoding", () => {
  withLimits(2, 64, () => {
    const z = new SortedSetValue();
    z.add("a", 1);
    z.add("b", 2);
    z.add("c", 3);
    const copy = z.clone();
    copy.add("d", 4);
    assert.equal(z.size, 3);
    assert.equal(copy.encoding(), "skiplist");
    assert.equal(copy.bytes, expectedBytes(copy));
  });
});

Deno.test("ranks by score and by lex bound ranges", () => {
  for (const limit of [128, 0]) {
    withLimits(limit, 64, () => {
      const z = new SortedSetValue();
      for (const [m, s] of [["a", 1], ["b", 2], ["c", 2], ["d", 3]] as const) z.add(m, s);
      assert.equal(z.rankByScore(2, false), 1);
      assert.equal(z.rankByScore(2, true), 3);
      assert.equal(z.rankByScore(-Infinity, false), 0);
      assert.equal(z.rankByScore(Infinity, true), 4);
      assert.equal(z.rankByLex("b", false), 1);
      assert.equal(z.rankByLex("b", true), 2);
      assert.deepEqual([...z.range(1, 2, true)], [["c", 2], ["b", 2]]);
      assert.deepEqual(z.at(3), ["d", 3]);
      assert.equal(z.deleteRange(1, 2), 2);
      assert.deepEqual([...z.entries()], [["a", 1], ["d", 3]]);
      assert.equal(z.bytes, expectedBytes(z));
    });
  }
});

Deno.test("the score tree keeps ranks right through inserts and deletes", () => {
  const list = new ScoreTree();
  const members: ScoredMember[] = [];
  for (let i = 0; i < 500; i++) {
    const entry: ScoredMember = [`m${i}`, (i * 7919) % 101];
    list.insert(entry[0], entry[1]);
    members.push(entry);
  }
  members.sort(compare);
  for (let i = 0; i < members.length; i += 37) {
    assert.equal(list.rank(members[i][0], members[i][1]), i);
    assert.equal(list.member(list.at(i)), members[i][0]);
  }
  list.deleteRanks(10, 109, () => {});
  members.splice(10, 100);
  assert.equal(list.length, 400);
  for (let i = 0; i < members.length; i += 13) assert.equal(list.member(list.at(i)), members[i][0]);
  assert.equal(list.delete("nope", 1), false);
});

Deno.test("formatScore writes doubles as C's %.17g", () => {
  const cases: [number, string][] = [
    [1.1, "1.1000000000000001"],
    [0, "0"],
    [-0, "-0"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
    [1e17, "1e+17"],
    [1e16, "10000000000000000"],
    [1e-5, "1.0000000000000001e-05"],
    [0.0001, "0.0001"],
    [5e-324, "4.9406564584124654e-324"],
    [69803740975664.0625, "69803740975664.062"],
    [-2.5, "-2.5"],
    [1e300, "1.0000000000000001e+300"],
  ];
  for (const [value, text] of cases) assert.equal(formatScore(value), text, String(value));
});

Deno.test("scores parse as Redis's string2d and ranges as strtod", () => {
  const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  assert.equal(parseScore(bytes("1.5")), 1.5);
  assert.equal(parseScore(bytes("-inf")), -Infinity);
  assert.equal(parseScore(bytes("+Infinity")), Infinity);
  assert.equal(parseScore(bytes("0x10")), 16);
  assert.equal(parseScore(bytes("0x1.8p1")), 3);
  assert.equal(parseScore(bytes("1e-310")), 1e-310);
  for (const bad of ["", " 1", "nan", "1e400", "1e-400", "1x", "inf1", "\x001"]) {
    assert.equal(parseScore(bytes(bad)), null, JSON.stringify(bad));
  }
  assert.deepEqual(strtod("  12abc"), { value: 12, end: 4, outOfRange: false });
  assert.deepEqual(strtod("abc"), { value: 0, end: 0, outOfRange: false });
  assert.equal(strtod("nan(123)").end, 8);
  assert.equal(strtod("1e").end, 1);
});

Deno.test("a sorted set behaves like a sorted reference model (seeded)", () => {
  const memberArb = fc.oneof(
    fc.constantFrom("a", "b", "c", "", "\xff", "\x00", "\x80"),
    fc.string({ maxLength: 4 }),
    // Any bytes, and members long enough for a two-byte length prefix in the packed listpack.
    fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 4 })
      .map((codes) => String.fromCharCode(...codes)),
    fc.integer({ min: 126, max: 130 }).map((n) => "m".repeat(n)),
  );
  const scoreArb = fc.oneof(
    fc.integer({ min: -3, max: 3 }),
    fc.constantFrom(Infinity, -Infinity, 0.5, -0, 5e-324, -Number.MAX_VALUE),
    fc.double({ noNaN: true }),
  );
  const opArb = fc.record({
    kind: fc.constantFrom(
      "add",
      "add",
      "delete",
      "rank",
      "range",
      "deleteRange",
      "byScore",
      "score",
      "at",
      "byLex",
      "clone",
      "toSkiplist",
    ),
    member: memberArb,
    score: scoreArb,
    a: fc.nat({ max: 20 }),
    b: fc.nat({ max: 20 }),
  });
  const limitsArb = fc.tuple(
    fc.oneof(fc.nat({ max: 6 }), fc.constant(128)),
    fc.constantFrom(3, 64, 200),
  );
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 80 }), limitsArb, (ops, [limit, valueLimit]) => {
      withLimits(limit, valueLimit, () => {
        let z = new SortedSetValue();
        const model = new Map<string, number>();
        const sorted = () => [...model].sort(compare);
        for (const op of ops) {
          if (op.kind === "add") {
            assert.equal(z.add(op.member, op.score), !model.has(op.member));
            model.set(op.member, op.score === 0 ? 0 : op.score);
          } else if (op.kind === "delete") {
            assert.equal(z.delete(op.member), model.delete(op.member));
          } else if (op.kind === "rank") {
            const i = sorted().findIndex(([m]) => m === op.member);
            assert.equal(z.rank(op.member), i < 0 ? undefined : i);
          } else if (op.kind === "range" && model.size > 0) {
            const lo = Math.min(op.a, op.b) % model.size;
            const hi = Math.max(lo, Math.max(op.a, op.b) % model.size);
            const want = sorted().slice(lo, hi + 1);
            assert.deepEqual([...z.range(lo, hi, false)].map(([m]) => m), want.map(([m]) => m));
            assert.deepEqual(
              [...z.range(lo, hi, true)].map(([m]) => m),
              want.reverse().map(([m]) => m),
            );
          } else if (op.kind === "deleteRange" && model.size > 0) {
            const lo = Math.min(op.a, op.b) % model.size;
            const hi = Math.max(lo, Math.max(op.a, op.b) % model.size);
            for (const [m] of sorted().slice(lo, hi + 1)) model.delete(m);
            assert.equal(z.deleteRange(lo, hi), hi - lo + 1);
          } else if (op.kind === "score") {
            const score = z.score(op.member);
            assert.equal(score === 0 ? 0 : score, model.get(op.member));
          } else if (op.kind === "at" && model.size > 0) {
            const [member, score] = z.at(op.a % model.size);
            assert.deepEqual([member, score === 0 ? 0 : score], sorted()[op.a % model.size]);
          } else if (op.kind === "byLex" && new Set(model.values()).size <= 1) {
            // Lex ranks are defined when all scores are equal, as ZRANGEBYLEX requires.
            const m = op.member;
            assert.equal(z.rankByLex(m, false), sorted().filter(([v]) => v < m).length);
            assert.equal(z.rankByLex(m, true), sorted().filter(([v]) => v <= m).length);
          } else if (op.kind === "clone") {
            const copy = z.clone();
            assert.equal(copy.encoding(), z.encoding());
            z.add(op.member, op.score);
            z = copy;
          } else if (op.kind === "toSkiplist") {
            z.toSkiplist();
            assert.equal(z.encoding(), "skiplist");
          } else if (op.kind === "byScore") {
            const s = op.score;
            assert.equal(z.rankByScore(s, false), sorted().filter(([, v]) => v < s).length);
            assert.equal(z.rankByScore(s, true), sorted().filter(([, v]) => v <= s).length);
          }
          assert.equal(z.size, model.size);
          assert.equal(z.bytes, expectedBytes(z));
        }
        assert.deepEqual([...z.entries()].map(([m, s]) => [m, s === 0 ? 0 : s]), sorted());
      });
    }),
    { seed: 20261207, numRuns: 300 },
  );
});
