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
import { Skiplist } from "../../src/store/skiplist.ts";
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

Deno.test("the skiplist keeps spans right through inserts and deletes", () => {
  const list = new Skiplist();
  const members: ScoredMember[] = [];
  for (let i = 0; i < 500; i++) {
    const entry: ScoredMember = [`m${i}`, (i * 7919) % 101];
    list.insert(entry[0], entry[1]);
    members.push(entry);
  }
  members.sort(compare);
  for (let i = 0; i < members.length; i += 37) {
    assert.equal(list.rank(members[i][0], members[i][1]), i);
    assert.equal(list.at(i).member, members[i][0]);
  }
  list.deleteRanks(10, 109, () => {});
  members.splice(10, 100);
  assert.equal(list.length, 400);
  for (let i = 0; i < members.length; i += 13) assert.equal(list.at(i).member, members[i][0]);
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
    fc.constantFrom("a", "b", "c", "", "\xff", "\x00"),
    fc.string({ maxLength: 4 }),
  );
  const scoreArb = fc.oneof(
    fc.integer({ min: -3, max: 3 }),
    fc.constantFrom(Infinity, -Infinity, 0.5, -0),
  );
  const opArb = fc.record({
    kind: fc.constantFrom("add", "add", "delete", "rank", "range", "deleteRange", "byScore"),
    member: memberArb,
    score: scoreArb,
    a: fc.nat({ max: 20 }),
    b: fc.nat({ max: 20 }),
  });
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 80 }), fc.nat({ max: 6 }), (ops, limit) => {
      withLimits(limit, 3, () => {
        const z = new SortedSetValue();
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
