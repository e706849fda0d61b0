import assert from "node:assert/strict";
import fc from "fast-check";
import {
  canonicalInt,
  memberBytes,
  SET_OVERHEAD,
  SetValue,
  TABLE_ENTRY_BYTES,
} from "../../src/store/set_value.ts";
import { encodingLimits } from "../../src/store/collection.ts";

/** Every member of a full scan from cursor 0. */
function scanAll(set: SetValue): string[] {
  const out: string[] = [];
  let cursor = 0;
  do cursor = set.scanStep(cursor, (m) => out.push(m)); while (cursor !== 0);
  return out;
}

Deno.test("canonicalInt accepts exactly Redis's string2ll integers", () => {
  assert.equal(canonicalInt("0"), 0);
  assert.equal(canonicalInt("-17"), -17);
  assert.equal(canonicalInt("9223372036854775807"), 9223372036854775807n);
  assert.equal(canonicalInt("-9223372036854775808"), -9223372036854775808n);
  for (const bad of ["", "-", "-0", "01", "+1", " 1", "1 ", "1.0", "9223372036854775808", "a"]) {
    assert.equal(canonicalInt(bad), null, bad);
  }
});

Deno.test("an intset keeps members sorted and widens to hold larger integers", () => {
  const set = SetValue.of(["5", "-3", "100000", "9223372036854775807", "-9223372036854775808"]);
  assert.equal(set.encoding(), "intset");
  assert.deepEqual([...set.members()], [
    "-9223372036854775808",
    "-3",
    "5",
    "100000",
    "9223372036854775807",
  ]);
  assert.ok(set.has("9223372036854775807"));
  assert.ok(!set.has("05"));
  assert.ok(set.delete("-3"));
  assert.ok(!set.delete("-3"));
  assert.equal(set.size, 4);
  assert.equal(set.bytes, SET_OVERHEAD + 8 + 4 * 8);
});

Deno.test("an intset counts its width per member, as Redis's intset blob", () => {
  const small = SetValue.of(["1", "2", "3"]);
  assert.equal(small.bytes, SET_OVERHEAD + 8 + 3 * 2);
  small.add("70000");
  assert.equal(small.bytes, SET_OVERHEAD + 8 + 4 * 4);
});

Deno.test("a non-integer member or too many members convert to a hash table for good", () => {
  const set = SetValue.of(["1", "2"]);
  set.add("x");
  assert.equal(set.encoding(), "hashtable");
  set.delete("x");
  assert.equal(set.encoding(), "hashtable");
  const limit = encodingLimits.setMaxIntsetEntries;
  encodingLimits.setMaxIntsetEntries = 3;
  try {
    const grown = SetValue.of(["1", "2", "3"]);
    assert.equal(grown.encoding(), "intset");
    grown.add("4");
    assert.equal(grown.encoding(), "hashtable");
    assert.deepEqual(new Set(grown.members()), new Set(["1", "2", "3", "4"]));
  } finally {
    encodingLimits.setMaxIntsetEntries = limit;
  }
});

Deno.test("a hash table counts buckets, entries and member strings", () => {
  const set = SetValue.of(["a", "bb", "ccc"]);
  const strings = memberBytes("a") + memberBytes("bb") + memberBytes("ccc");
  assert.equal(set.bytes, SET_OVERHEAD + 4 * 4 + 3 * TABLE_ENTRY_BYTES + strings);
});

Deno.test("a clone is independent of its original", () => {
  for (const members of [["1", "2"], ["a", "b"]]) {
    const set = SetValue.of(members);
    const copy = set.clone();
    copy.add("zz");
    set.delete(members[0]);
    assert.deepEqual(new Set(copy.members()), new Set([...members, "zz"]));
    assert.equal(set.size, 1);
    assert.equal(copy.bytes > set.bytes, true);
  }
});

Deno.test("randomMember returns members, and every one of a small set in time", () => {
  for (const members of [["1", "2", "3"], ["a", "b", "c"]]) {
    const set = SetValue.of(members);
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) seen.add(set.randomMember());
    assert.deepEqual(seen, new Set(members));
  }
  assert.throws(() => new SetValue().randomMember());
});

Deno.test("a scan returns an intset at once and every hash table member across resizes", () => {
  const ints = SetValue.of(["3", "1", "2"]);
  const got: string[] = [];
  assert.equal(ints.scanStep(12345, (m) => got.push(m)), 0);
  assert.deepEqual(got, ["1", "2", "3"]);
  const table = SetValue.of(Array.from({ length: 100 }, (_, i) => `m${i}`));
  assert.deepEqual(new Set(scanAll(table)), new Set(table.members()));
  // Members present for the whole scan are returned even when the table grows midway.
  const seen = new Set<string>();
  let cursor = 0;
  let step = 0;
  do {
    cursor = table.scanStep(cursor, (m) => seen.add(m));
    if (step++ === 10) { for (let i = 0; i < 500; i++) table.add(`n${i}`); }
  } while (cursor !== 0);
  for (let i = 0; i < 100; i++) assert.ok(seen.has(`m${i}`), `m${i}`);
});

type Op = { kind: "add" | "delete" | "has"; member: string };

const memberArb = fc.oneof(
  fc.integer({ min: -40, max: 40 }).map(String),
  fc.constantFrom("9223372036854775807", "-9223372036854775808", "70000", "x", "01", ""),
  fc.string({ maxLength: 3 }),
);

Deno.test("SetValue behaves like a JS Set (seeded model test)", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({ kind: fc.constantFrom("add", "delete", "has"), member: memberArb }),
        { maxLength: 300 },
      ),
      (ops: Op[]) => {
        const set = new SetValue();
        const model = new Set<string>();
        for (const { kind, member } of ops) {
          if (kind === "add") {
            assert.equal(set.add(member), !model.has(member));
            model.add(member);
          } else if (kind === "delete") {
            assert.equal(set.delete(member), model.delete(member));
          } else assert.equal(set.has(member), model.has(member));
          assert.equal(set.size, model.size);
        }
        assert.deepEqual(new Set(set.members()), model);
        assert.deepEqual(new Set(scanAll(set)), model);
        const allInts = [...model].every((m) => canonicalInt(m) !== null);
        if (set.encoding() === "intset") {
          assert.ok(allInts);
          const values = [...set.members()].map(BigInt);
          for (let i = 1; i < values.length; i++) assert.ok(values[i - 1] < values[i]);
        }
        const copy = set.clone();
        assert.equal(copy.bytes, set.bytes);
        assert.deepEqual(new Set(copy.members()), model);
        // The incremental count matches what the members imply (widths and buckets aside).
        if (set.encoding() === "hashtable") {
          let strings = 0;
          for (const m of model) strings += memberBytes(m);
          const buckets = (set.bytes - SET_OVERHEAD - strings - model.size * TABLE_ENTRY_BYTES) / 4;
          assert.ok(buckets >= 4 && (buckets & (buckets - 1)) === 0, `buckets ${buckets}`);
        }
      },
    ),
    { seed: 20240607, numRuns: 300 },
  );
});
