import assert from "node:assert/strict";
import fc from "fast-check";
import {
  canonicalInt,
  PACKED_MAX_ENTRIES,
  PACKED_MAX_MEMBER,
  PACKED_STRING_HEADER,
  SET_OVERHEAD,
  SetValue,
} from "../../src/store/set_value.ts";
import { memberBytes, TABLE_ENTRY_BYTES } from "../../src/store/member_table.ts";
import { encodingLimits } from "../../src/store/collection.ts";

/** Every member of a full scan from cursor 0. */
function scanAll(set: SetValue): string[] {
  const out: string[] = [];
  let cursor = 0;
  do cursor = set.scanStep(cursor, (m) => out.push(m)); while (cursor !== 0);
  return out;
}

/** The bytes of a packed set of `members` by the memory model (one-byte length prefixes). */
function packedBytes(members: Iterable<string>): number {
  let bytes = SET_OVERHEAD + PACKED_STRING_HEADER;
  for (const m of members) bytes += 1 + m.length;
  return bytes;
}

/** `n` distinct non-integer members. */
function names(n: number, prefix = "m"): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
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

Deno.test("a non-integer member or too many members leave the intset for good", () => {
  const set = SetValue.of(["1", "2"]);
  set.add("x");
  assert.equal(set.encoding(), "hashtable");
  assert.ok(set.isPacked);
  assert.deepEqual([...set.members()], ["1", "2", "x"]);
  set.delete("x");
  assert.equal(set.encoding(), "hashtable");
  const limit = encodingLimits.setMaxIntsetEntries;
  encodingLimits.setMaxIntsetEntries = 3;
  try {
    const grown = SetValue.of(["1", "2", "3"]);
    assert.equal(grown.encoding(), "intset");
    grown.add("4");
    assert.equal(grown.encoding(), "hashtable");
    assert.ok(grown.isPacked);
    assert.deepEqual(new Set(grown.members()), new Set(["1", "2", "3", "4"]));
  } finally {
    encodingLimits.setMaxIntsetEntries = limit;
  }
});

Deno.test("a hash table counts buckets, entries and member strings", () => {
  const long = "L".repeat(PACKED_MAX_MEMBER + 1);
  const set = SetValue.of(["a", "bb", "ccc", long]);
  assert.ok(!set.isPacked);
  const strings = memberBytes("a") + memberBytes("bb") + memberBytes("ccc") + memberBytes(long);
  assert.equal(set.bytes, SET_OVERHEAD + 4 * 4 + 4 * TABLE_ENTRY_BYTES + strings);
});

Deno.test("a small string set is packed, in insertion order, and counts its packed bytes", () => {
  const set = SetValue.of(["b", "", "a", "member:1", "b"]);
  assert.equal(set.encoding(), "hashtable");
  assert.ok(set.isPacked);
  assert.equal(set.size, 4);
  assert.deepEqual([...set.members()], ["b", "", "a", "member:1"]);
  assert.equal(set.bytes, packedBytes(["b", "", "a", "member:1"]));
  assert.ok(set.has("") && set.has("member:1") && !set.has("member:") && !set.has("c"));
  assert.ok(!set.add("a"));
  assert.ok(set.delete("b"));
  assert.ok(set.delete("member:1"));
  assert.ok(!set.delete("member:1"));
  assert.deepEqual([...set.members()], ["", "a"]);
  assert.equal(set.bytes, packedBytes(["", "a"]));
  assert.ok(set.delete(""));
  assert.ok(set.delete("a"));
  assert.equal(set.size, 0);
  assert.equal(set.bytes, SET_OVERHEAD + PACKED_STRING_HEADER);
  assert.ok(set.isPacked);
});

Deno.test("packed members are whole strings even when long, and deletes keep the rest", () => {
  const members = ["x".repeat(PACKED_MAX_MEMBER), "y".repeat(20), "z".repeat(13), "\x00\xff"];
  const set = SetValue.of(members);
  assert.ok(set.isPacked);
  assert.deepEqual([...set.members()], members);
  for (const [i, m] of members.entries()) {
    const copy = set.clone();
    assert.ok(copy.delete(m));
    assert.deepEqual([...copy.members()], members.filter((_, j) => j !== i));
    assert.equal(copy.bytes, packedBytes(members) - 1 - m.length);
  }
});

Deno.test("a packed set turns into a hash table past its limits, once and for good", () => {
  const full = SetValue.of(names(PACKED_MAX_ENTRIES));
  assert.ok(full.isPacked);
  assert.ok(!full.add("m0"));
  assert.ok(full.isPacked, "re-adding a member does not convert");
  assert.ok(full.add("one more"));
  assert.ok(!full.isPacked);
  assert.equal(full.encoding(), "hashtable");
  assert.deepEqual(new Set(full.members()), new Set([...names(PACKED_MAX_ENTRIES), "one more"]));
  for (const m of names(PACKED_MAX_ENTRIES)) assert.ok(full.delete(m));
  assert.ok(!full.isPacked, "no way back");
  const long = SetValue.of(["a"]);
  assert.ok(long.add("L".repeat(PACKED_MAX_MEMBER + 1)));
  assert.ok(!long.isPacked);
  assert.ok(long.has("a") && long.has("L".repeat(PACKED_MAX_MEMBER + 1)));
});

Deno.test("an intset leaves for the packed form only when the result fits", () => {
  const ints = (n: number) => Array.from({ length: n }, (_, i) => String(i));
  const small = SetValue.of(ints(PACKED_MAX_ENTRIES - 1));
  small.add("x");
  assert.ok(small.isPacked);
  assert.equal(small.size, PACKED_MAX_ENTRIES);
  assert.deepEqual([...small.members()], [...ints(PACKED_MAX_ENTRIES - 1), "x"]);
  const big = SetValue.of(ints(PACKED_MAX_ENTRIES));
  assert.equal(big.encoding(), "intset");
  big.add("x");
  assert.ok(!big.isPacked);
  assert.equal(big.size, PACKED_MAX_ENTRIES + 1);
  const longMember = SetValue.of(["1"]);
  longMember.add("L".repeat(PACKED_MAX_MEMBER + 1));
  assert.ok(!longMember.isPacked);
  const limit = encodingLimits.setMaxIntsetEntries;
  encodingLimits.setMaxIntsetEntries = PACKED_MAX_ENTRIES;
  try {
    const overflow = SetValue.of(ints(PACKED_MAX_ENTRIES + 1));
    assert.equal(overflow.encoding(), "hashtable");
    assert.ok(!overflow.isPacked);
  } finally {
    encodingLimits.setMaxIntsetEntries = limit;
  }
});

Deno.test("a clone is independent of its original", () => {
  for (const members of [["1", "2"], ["a", "b"], ["a", "L".repeat(PACKED_MAX_MEMBER + 1)]]) {
    const set = SetValue.of(members);
    const copy = set.clone();
    assert.equal(copy.isPacked, set.isPacked);
    copy.add("zz");
    set.delete(members[0]);
    assert.deepEqual(new Set(copy.members()), new Set([...members, "zz"]));
    assert.equal(set.size, 1);
    assert.equal(copy.bytes > set.bytes, true);
  }
});

Deno.test("randomMember returns members, and every one of a small set in time", () => {
  for (const members of [["1", "2", "3"], ["a", "b", "c"], names(30), names(200)]) {
    const set = SetValue.of(members);
    const seen = new Set<string>();
    for (let i = 0; i < 100 * members.length; i++) seen.add(set.randomMember());
    assert.deepEqual(seen, new Set(members));
  }
  assert.throws(() => new SetValue().randomMember());
});

Deno.test("a scan returns an intset or a packed set at once, a hash table across resizes", () => {
  for (const [members, order] of [[["3", "1", "2"], ["1", "2", "3"]], [["c", "a"], ["c", "a"]]]) {
    const got: string[] = [];
    assert.equal(SetValue.of(members).scanStep(12345, (m) => got.push(m)), 0);
    assert.deepEqual(got, order);
  }
  const table = SetValue.of(Array.from({ length: 200 }, (_, i) => `m${i}`));
  assert.ok(!table.isPacked);
  assert.deepEqual(new Set(scanAll(table)), new Set(table.members()));
  // Members present for the whole scan are returned even when the table grows midway.
  const seen = new Set<string>();
  let cursor = 0;
  let step = 0;
  do {
    cursor = table.scanStep(cursor, (m) => seen.add(m));
    if (step++ === 10) { for (let i = 0; i < 500; i++) table.add(`n${i}`); }
  } while (cursor !== 0);
  for (let i = 0; i < 200; i++) assert.ok(seen.has(`m${i}`), `m${i}`);
});

type Op = { kind: "add" | "delete" | "remove" | "has" | "fill"; member: string; index: number };

/** Members a "fill" op adds: enough for a few fills to outgrow the packed form. */
const FILL = 40;

const memberArb = fc.oneof(
  fc.integer({ min: -40, max: 40 }).map(String),
  fc.constantFrom("9223372036854775807", "-9223372036854775808", "70000", "x", "01", ""),
  fc.constantFrom("M".repeat(PACKED_MAX_MEMBER), "L".repeat(PACKED_MAX_MEMBER + 1)),
  fc.string({ maxLength: 3 }),
  fc.uint8Array({ maxLength: 20 }).map((bytes) => String.fromCharCode(...bytes)),
);

const opArb = fc.record({
  kind: fc.constantFrom("add", "add", "delete", "remove", "has", "fill"),
  member: memberArb,
  index: fc.nat(),
});

/** Short runs (mostly intsets and packed sets) and long ones (that reach the hash table). */
const opsArb = fc.oneof(
  fc.array(opArb, { maxLength: 300 }),
  fc.array(opArb, { maxLength: 300, size: "max" }),
);

/** 0 for an intset, 1 for the packed form, 2 for a hash table: it never goes down. */
function rank(set: SetValue): number {
  return set.encoding() === "intset" ? 0 : set.isPacked ? 1 : 2;
}

/** What the model test remembers of a run besides the members. */
type History = { nonInt: boolean; long: boolean; maxSize: number };

/** Applies `op` to the set and the model, checking every answer. */
function apply(set: SetValue, model: Set<string>, history: History, op: Op): void {
  const { kind, index } = op;
  // "remove" deletes a present member, which random members seldom are.
  const member = kind === "remove" && model.size > 0 ? [...model][index % model.size] : op.member;
  const added = kind === "fill" ? Array.from({ length: FILL }, (_, i) => `${member}#${i}`) : [];
  if (kind === "add") added.push(member);
  for (const m of added) {
    assert.equal(set.add(m), !model.has(m));
    model.add(m);
    history.nonInt ||= canonicalInt(m) === null;
    history.long ||= m.length > PACKED_MAX_MEMBER;
  }
  if (kind === "delete" || kind === "remove") {
    assert.equal(set.delete(member), model.delete(member));
  }
  if (kind === "has") assert.equal(set.has(member), model.has(member));
  assert.equal(set.size, model.size);
  history.maxSize = Math.max(history.maxSize, model.size);
}

/** Checks the representation the set ended in against the rules and the memory model. */
function checkRepresentation(set: SetValue, model: Set<string>, history: History): void {
  const members = [...set.members()];
  assert.deepEqual([...set.members()], members, "stable order");
  if (!history.nonInt) assert.equal(set.encoding(), "intset");
  if (set.encoding() === "intset") {
    assert.ok(members.every((m) => canonicalInt(m) !== null));
    const values = members.map(BigInt);
    for (let i = 1; i < values.length; i++) assert.ok(values[i - 1] < values[i]);
  }
  if (!history.long && history.maxSize <= PACKED_MAX_ENTRIES) assert.ok(rank(set) <= 1);
  if (set.isPacked) {
    assert.ok(members.every((m) => m.length <= PACKED_MAX_MEMBER));
    assert.equal(set.bytes, packedBytes(members));
  }
  if (rank(set) === 2) {
    // The incremental count matches what the members imply (buckets aside).
    let strings = 0;
    for (const m of model) strings += memberBytes(m);
    const buckets = (set.bytes - SET_OVERHEAD - strings - model.size * TABLE_ENTRY_BYTES) / 4;
    assert.ok(buckets >= 4 && (buckets & (buckets - 1)) === 0, `buckets ${buckets}`);
  } else {
    const scanned: string[] = [];
    assert.equal(set.scanStep(0, (m) => scanned.push(m)), 0);
    assert.deepEqual(scanned, members);
  }
}

Deno.test("SetValue behaves like a JS Set (seeded model test)", () => {
  fc.assert(
    fc.property(opsArb, (ops: Op[]) => {
      const set = new SetValue();
      const model = new Set<string>();
      const history: History = { nonInt: false, long: false, maxSize: 0 };
      for (const op of ops) {
        const before = rank(set);
        apply(set, model, history, op);
        assert.ok(rank(set) >= before, "conversions are one way");
      }
      const members = [...set.members()];
      assert.equal(members.length, model.size);
      assert.deepEqual(new Set(members), model);
      assert.deepEqual(new Set(scanAll(set)), model);
      if (model.size > 0) assert.ok(model.has(set.randomMember()));
      checkRepresentation(set, model, history);
      const copy = set.clone();
      assert.equal(copy.bytes, set.bytes);
      assert.equal(rank(copy), rank(set));
      assert.deepEqual([...copy.members()], members);
    }),
    { seed: 20240607, numRuns: 300 },
  );
});
