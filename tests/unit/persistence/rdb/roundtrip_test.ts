import assert from "node:assert/strict";
import fc from "fast-check";
import { type Entry, inPieces, readAll, text, writeEntries } from "./_support.ts";

/** Strings at and just past the integer-encoding boundaries, and near-integers that are not. */
const BOUNDARY_STRINGS = [
  "0",
  "-0",
  "007",
  "+5",
  "1 ",
  "-",
  "127",
  "128",
  "-128",
  "-129",
  "255",
  "32767",
  "32768",
  "-32768",
  "-32769",
  "65535",
  "2147483647",
  "2147483648",
  "-2147483648",
  "-2147483649",
  "4294967296",
  "9223372036854775807",
  "99999999999",
  "-99999999999",
];

const bytesArb = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 2, arbitrary: fc.constantFrom(...BOUNDARY_STRINGS).map(text) },
  {
    weight: 2,
    arbitrary: fc.integer({ min: -(2 ** 31) - 2, max: 2 ** 31 + 1 }).map(String).map(text),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.string({ minLength: 1, maxLength: 8 }),
      fc.integer({ min: 3, max: 3000 }),
    )
      .map(([unit, times]) => text(unit.repeat(times))),
  },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 21, maxLength: 3000 }) },
);

const expireArb = fc.oneof(
  fc.constant(-1),
  fc.constant(0),
  fc.integer({ min: 1_600_000_000_000, max: 2_100_000_000_000 }),
  fc.constant(Number.MAX_SAFE_INTEGER),
  fc.constant(2 ** 32 - 1),
  fc.constant(2 ** 32),
);

const entryArb: fc.Arbitrary<Entry> = fc.record({
  db: fc.integer({ min: 0, max: 15 }),
  key: bytesArb,
  value: bytesArb,
  expireAtMs: expireArb,
}).map((e) => ({ ...e })); // fc.record builds null-prototype objects; the reader does not

/** Entries grouped by database, as the writer emits them (databases in first-seen order). */
function grouped(entries: readonly Entry[]): Entry[] {
  const order: number[] = [];
  for (const e of entries) if (!order.includes(e.db)) order.push(e.db);
  return order.flatMap((db) => entries.filter((e) => e.db === db));
}

Deno.test("any dataset written by the writer reads back identically", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(entryArb, { maxLength: 60 }),
      fc.record({
        compression: fc.boolean(),
        checksum: fc.boolean(),
        chunkSize: fc.constantFrom(16, 100, 4096, 65536),
      }),
      fc.array(fc.integer({ min: 1, max: 2000 }), { maxLength: 5 }),
      async (entries, options, pieces) => {
        const file = await writeEntries(entries, options);
        const expected = grouped(entries);
        const whole = await readAll(file);
        assert.deepEqual(whole.entries, expected);
        assert.equal(whole.summary.keys, entries.length);
        assert.equal(whole.summary.bytes, file.length);
        assert.equal(whole.summary.checksum, options.checksum ? "verified" : "not-computed");
        assert.deepEqual((await readAll(inPieces(file, pieces))).entries, expected);
        const views = await readAll(inPieces(file, pieces), { copy: false });
        assert.deepEqual(views.entries, expected, "views copied by the handler");
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("integer-like values round-trip byte for byte, whatever their encoding", async () => {
  const entries = BOUNDARY_STRINGS.flatMap((s, i) => [
    { db: 0, key: text(s), value: text(s), expireAtMs: -1 },
    { db: 1, key: text(`k${i}`), value: text(s), expireAtMs: i },
  ]);
  const { entries: read } = await readAll(await writeEntries(entries));
  assert.deepEqual(read, grouped(entries));
});

Deno.test("a value larger than the writer's chunks and the reader's pieces round-trips", async () => {
  let seed = 7;
  const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return i % 3 === 0 ? seed >>> 24 : 0x61;
  });
  const entries = [
    { db: 2, key: text("big"), value: big, expireAtMs: -1 },
    { db: 2, key: text("after"), value: text("tail"), expireAtMs: 5 },
  ];
  for (const compression of [true, false]) {
    const file = await writeEntries(entries, { compression, chunkSize: 4096 });
    assert.equal(compression, file.length < big.length, "compression applies to big values");
    const read = await readAll(inPieces(file, [65536, 1, 4097]));
    assert.deepEqual(read.entries, entries);
  }
});
