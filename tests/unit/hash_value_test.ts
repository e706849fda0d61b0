import assert from "node:assert/strict";
import fc from "fast-check";
import {
  HASH_OBJECT_BYTES,
  type HashEntry,
  HASHTABLE_FIELD_OVERHEAD,
  HashValue,
  STRING_HEADER_BYTES,
} from "../../src/store/hash_value.ts";
import { DEFAULT_ENCODING_LIMITS, encodingLimits } from "../../src/store/collection.ts";
import { mulberry32 } from "../../src/util/prng.ts";

/** Runs `body` with some encoding limits changed, restoring the defaults after. */
function withLimits(limits: Partial<typeof encodingLimits>, body: () => void): void {
  Object.assign(encodingLimits, limits);
  try {
    body();
  } finally {
    Object.assign(encodingLimits, DEFAULT_ENCODING_LIMITS);
  }
}

/** The hash's bytes as the class comment defines them, recomputed from scratch. */
function expectedBytes(hash: HashValue): number {
  const entries = hash.toArray();
  if (hash.encoding() === "hashtable") {
    return entries.reduce(
      (n, [f, v]) => n + HASHTABLE_FIELD_OVERHEAD + f.length + v.length,
      HASH_OBJECT_BYTES,
    );
  }
  const prefix = (n: number) => n < 0x80 ? 1 : n < 0x4000 ? 2 : 3;
  return entries.reduce(
    (n, [f, v]) => n + prefix(f.length) + f.length + prefix(v.length) + v.length,
    HASH_OBJECT_BYTES + STRING_HEADER_BYTES,
  );
}

function hashOf(entries: readonly HashEntry[]): HashValue {
  const hash = new HashValue();
  for (const [f, v] of entries) hash.set(f, v);
  return hash;
}

Deno.test("a small hash is a listpack that keeps insertion order across updates", () => {
  const hash = hashOf([["b", "1"], ["a", "2"], ["c", "3"]]);
  assert.equal(hash.encoding(), "listpack");
  assert.equal(hash.set("a", "changed"), false);
  assert.equal(hash.set("d", "4"), true);
  assert.deepEqual(hash.toArray(), [["b", "1"], ["a", "changed"], ["c", "3"], ["d", "4"]]);
  assert.equal(hash.delete("b"), true);
  assert.equal(hash.delete("b"), false);
  assert.deepEqual(hash.toArray(), [["a", "changed"], ["c", "3"], ["d", "4"]]);
  assert.equal(hash.get("c"), "3");
  assert.equal(hash.get("missing"), undefined);
  assert.equal(hash.has("d"), true);
  assert.equal(hash.size, 3);
  assert.equal(hash.bytes, expectedBytes(hash));
});

Deno.test("binary fields and values, empty and long ones, round-trip in both encodings", () => {
  const long = "\x80\xff\x00".repeat(300);
  const hash = hashOf([["", ""], ["\x00\r\n", "\xff"], ["x".repeat(64), "y".repeat(64)]]);
  assert.equal(hash.encoding(), "listpack", "64 bytes is still within hash-max-listpack-value");
  assert.equal(hash.get(""), "");
  assert.equal(hash.get("\x00\r\n"), "\xff");
  hash.set("long", long);
  assert.equal(hash.encoding(), "hashtable", "a 900-byte value converts");
  assert.equal(hash.get("long"), long);
  assert.equal(hash.get(""), "");
  assert.equal(hash.bytes, expectedBytes(hash));
  const packed = hashOf([]);
  withLimits({ hashMaxListpackValue: 100_000 }, () => packed.set(long, long));
  assert.equal(packed.encoding(), "listpack", "multi-byte length prefixes");
  assert.equal(packed.get(long), long);
  assert.equal(packed.bytes, expectedBytes(packed));
});

Deno.test("a hash converts to hashtable past the entry limit, and never back", () => {
  withLimits({ hashMaxListpackEntries: 4 }, () => {
    const hash = hashOf([["a", "1"], ["b", "2"], ["c", "3"], ["d", "4"]]);
    assert.equal(hash.encoding(), "listpack");
    hash.set("a", "x");
    assert.equal(hash.encoding(), "listpack", "an update adds no entry");
    hash.set("e", "5");
    assert.equal(hash.encoding(), "hashtable");
    assert.deepEqual(hash.toArray().map(([f]) => f), ["a", "b", "c", "d", "e"], "order kept");
    for (const f of ["a", "b", "c", "d"]) hash.delete(f);
    assert.equal(hash.encoding(), "hashtable");
    assert.equal(hash.bytes, expectedBytes(hash));
  });
  withLimits({ hashMaxListpackEntries: 0 }, () => {
    assert.equal(hashOf([["a", "1"]]).encoding(), "hashtable", "entries 0: never a listpack");
  });
});

Deno.test("clone is deep and keeps the encoding", () => {
  for (const size of [3, 600]) {
    const hash = hashOf(Array.from({ length: size }, (_, i) => [`f${i}`, `v${i}`]));
    const copy = hash.clone();
    assert.equal(copy.encoding(), hash.encoding());
    copy.set("f0", "changed");
    copy.delete("f1");
    assert.equal(hash.get("f0"), "v0");
    assert.equal(hash.get("f1"), "v1");
    assert.equal(copy.size, size - 1);
    assert.equal(copy.bytes, expectedBytes(copy));
    assert.equal(hash.bytes, expectedBytes(hash));
  }
});

Deno.test("scan returns a listpack whole with cursor 0, whatever the cursor", () => {
  const hash = hashOf([["a", "1"], ["b", "2"]]);
  for (const cursor of [0, 5, 1e12]) {
    const seen: string[] = [];
    assert.equal(hash.scan(cursor, 1, (f, v) => seen.push(f, v)), 0);
    assert.deepEqual(seen, ["a", "1", "b", "2"]);
  }
});

Deno.test("a hashtable scan returns every field present throughout, despite changes", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 31 }),
      fc.integer({ min: 1, max: 50 }),
      (seed, count) => {
        const random = mulberry32(seed);
        const hash = hashOf(Array.from({ length: 700 }, (_, i) => [`f${i}`, `v${i}`]));
        const stable = new Set<string>();
        for (const [f] of hash.entries()) if (random() < 0.5) stable.add(f);
        const seen = new Set<string>();
        let cursor = 0;
        let next = 1000;
        do {
          cursor = hash.scan(cursor, count, (f, v) => {
            assert.equal(v, hash.get(f));
            seen.add(f);
          });
          // Between steps, delete some unstable fields and add new ones.
          for (let i = 0; i < 5; i++) {
            const victim = hash.randomEntry(random)![0];
            if (!stable.has(victim)) hash.delete(victim);
            if (random() < 0.5) hash.set(`f${next++}`, "new");
          }
        } while (cursor !== 0);
        for (const f of stable) assert.ok(seen.has(f), `scan missed ${f}`);
        assert.equal(hash.bytes, expectedBytes(hash));
      },
    ),
    { seed: 42, numRuns: 60 },
  );
});

Deno.test("sample follows HRANDFIELD's rules in both encodings", () => {
  const random = mulberry32(7);
  for (const size of [10, 1000]) {
    const hash = hashOf(Array.from({ length: size }, (_, i) => [`f${i}`, `v${i}`]));
    const order = hash.toArray().map(([f]) => f);
    assert.deepEqual(hash.sample(size + 5, true, random).map(([f]) => f), order, "count >= size");
    for (const count of [1, 2, size / 2, size - 1]) {
      const picked = hash.sample(count, true, random);
      assert.equal(picked.length, count);
      assert.equal(new Set(picked.map(([f]) => f)).size, count, "distinct");
      for (const [f, v] of picked) assert.equal(hash.get(f), v);
    }
    const repeats = hash.sample(3 * size, false, random);
    assert.equal(repeats.length, 3 * size);
    assert.ok(new Set(repeats.map(([f]) => f)).size < 3 * size, "repeats allowed");
    assert.deepEqual(hash.sample(0, true, random), []);
  }
  assert.equal(new HashValue().randomEntry(), undefined);
  assert.deepEqual(new HashValue().sample(5, false), []);
});

Deno.test("randomEntry picks every field of both encodings", () => {
  const random = mulberry32(3);
  for (const size of [5, 600]) {
    const hash = hashOf(Array.from({ length: size }, (_, i) => [`f${i}`, `v${i}`]));
    const seen = new Set<string>();
    for (let i = 0; i < size * 20; i++) {
      const [f, v] = hash.randomEntry(random)!;
      assert.equal(hash.get(f), v);
      seen.add(f);
    }
    assert.equal(seen.size, size);
  }
});

/** One operation of the model test. */
type Op =
  | { kind: "set"; field: string; value: string }
  | { kind: "delete"; field: string }
  | { kind: "clone" };

const fieldArb = fc.oneof(
  fc.constantFrom("a", "b", "c", "", "\x00", "\xff\x80"),
  fc.string({ maxLength: 4 }),
  fc.string({ minLength: 60, maxLength: 70 }),
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant("set" as const), field: fieldArb, value: fieldArb }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("delete" as const), field: fieldArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("clone" as const) }) },
);

Deno.test("HashValue behaves as an insertion-ordered Map (model test)", () => {
  fc.assert(
    fc.property(
      fc.array(opArb, { maxLength: 120 }),
      fc.integer({ min: 0, max: 12 }),
      (ops, max) => {
        withLimits({ hashMaxListpackEntries: max, hashMaxListpackValue: 64 }, () => {
          let hash = new HashValue();
          const model = new Map<string, string>();
          let converted = false;
          for (const op of ops) {
            if (op.kind === "set") {
              assert.equal(hash.set(op.field, op.value), !model.has(op.field));
              model.set(op.field, op.value);
              if (op.field.length > 64 || op.value.length > 64 || model.size > max) {
                converted = true;
              }
            } else if (op.kind === "delete") {
              assert.equal(hash.delete(op.field), model.delete(op.field));
            } else hash = hash.clone();
            assert.equal(hash.encoding(), converted ? "hashtable" : "listpack");
            assert.equal(hash.size, model.size);
            assert.equal(hash.bytes, expectedBytes(hash));
          }
          if (hash.encoding() === "listpack") assert.deepEqual(hash.toArray(), [...model]);
          else assert.deepEqual(new Map(hash.toArray()), model);
          for (const [f, v] of model) {
            assert.equal(hash.get(f), v);
            assert.equal(hash.has(f), true);
          }
          assert.equal(hash.get("never-set-field"), undefined);
        });
      },
    ),
    { seed: 20240611, numRuns: 300 },
  );
});
