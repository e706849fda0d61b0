import assert from "node:assert/strict";
import fc from "fast-check";
import { Crc64 } from "../../../../src/persistence/rdb/crc64.ts";
import { RdbError } from "../../../../src/persistence/rdb/errors.ts";
import { readRdb } from "../../../../src/persistence/rdb/reader.ts";
import {
  assertRdbError,
  concat,
  type Entry,
  inPieces,
  readAll,
  text,
  writeEntries,
} from "./_support.ts";

/** A dump.rdb saved by redis-server 7.0.15: db 0 {42: -7 (EX 1000), k2: "ab"x100, k1: 12345}, db 3 {z: hello}. */
const REDIS_7_DUMP = hex(
  "524544495330303130fa0972656469732d76657206372e302e3135fa0a72656469732d62697473c040fa0563" +
    "74696d65c2bf21066bfa08757365642d6d656dc210b70e00fa08616f662d62617365c000fe00fb0301fc1315" +
    "0310a201000000c02ac0f900026b32c30a40c802616261e0ba0101616200026b31c13930fe03fb010000017a" +
    "0568656c6c6fffcd5e945fab9527c6",
);

/** Incompressible bytes (xorshift32). */
function noise(n: number): Uint8Array {
  let seed = 0x9e3779b9;
  return new Uint8Array(n).map(() => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed & 0xff;
  });
}

function hex(s: string): Uint8Array {
  return new Uint8Array(s.match(/../g)!.map((b) => parseInt(b, 16)));
}

/** `REDIS00NN`, the body, EOF and (from version 5) a CRC-64 trailer. */
function rawFile(body: number[], version = 10, checksum = true): Uint8Array {
  const head = text(`REDIS${String(version).padStart(4, "0")}`);
  const main = concat([head, new Uint8Array(body), new Uint8Array([0xff])]);
  if (version < 5) return main;
  return concat([main, checksum ? new Crc64().update(main).toBytesLE() : new Uint8Array(8)]);
}

/** A key "k" = "v" in db 0, preceded by `before` (opcodes). */
const keyK = (before: number[] = []) => [0xfe, 0x00, ...before, 0x00, 0x01, 0x6b, 0x01, 0x76];

const sample: Entry[] = [
  { db: 0, key: text("plain"), value: text("hello world"), expireAtMs: -1 },
  { db: 0, key: text("n"), value: text("-32768"), expireAtMs: 1_900_000_000_123 },
  { db: 0, key: new Uint8Array([0, 255, 13, 10]), value: text("x".repeat(300)), expireAtMs: -1 },
  { db: 5, key: text("long"), value: noise(70_000), expireAtMs: 1 },
];

Deno.test("the reader reads a dump.rdb written by redis-server 7.0.15", async () => {
  const { aux, dbs, resizes, entries, summary } = await readAll(REDIS_7_DUMP);
  assert.deepEqual(aux, [
    ["redis-ver", "7.0.15"],
    ["redis-bits", "64"],
    ["ctime", "1795563967"],
    ["used-mem", "964368"],
    ["aof-base", "0"],
  ]);
  assert.deepEqual(dbs, [0, 3]);
  assert.deepEqual(resizes, [[3, 1], [1, 0]]);
  assert.deepEqual(entries, [
    { db: 0, key: text("42"), value: text("-7"), expireAtMs: 1_795_564_967_187 },
    { db: 0, key: text("k2"), value: text("ab".repeat(100)), expireAtMs: -1 },
    { db: 0, key: text("k1"), value: text("12345"), expireAtMs: -1 },
    { db: 3, key: text("z"), value: text("hello"), expireAtMs: -1 },
  ]);
  assert.deepEqual(summary, { version: 10, keys: 4, bytes: 147, checksum: "verified" });
});

Deno.test("a file streamed in pieces of any size reads the same as all at once", async () => {
  const file = await writeEntries(sample, { chunkSize: 1000 });
  const whole = await readAll(file);
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 8 }),
      async (sizes) => {
        assert.deepEqual(await readAll(inPieces(file, sizes)), whole);
      },
    ),
    { numRuns: 40 },
  );
  assert.deepEqual(await readAll(inPieces(REDIS_7_DUMP, [1])), await readAll(REDIS_7_DUMP));
  assert.deepEqual(
    await readAll([file.subarray(0, 10), file.subarray(10)]),
    whole,
    "sync iterable",
  );
});

Deno.test("every prefix of a valid file is refused as an unexpected end of file", async () => {
  for (const file of [REDIS_7_DUMP, await writeEntries(sample.slice(0, 3))]) {
    for (let n = 0; n < file.length; n++) {
      const error = await assertRdbError(
        file.subarray(0, n),
        new RegExp(`^Unexpected end of file at offset ${n}$`),
      );
      assert.equal(error.offset, n);
    }
  }
  const big = await writeEntries(sample);
  assert.ok(big.length > 70_000);
  for (const n of [100, 5000, 65_000, big.length - 1]) {
    await assertRdbError(inPieces(big.subarray(0, n), [777]), /^Unexpected end of file/);
  }
});

Deno.test("random bytes are refused with an RdbError", async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.boolean(), async (noise, withMagic) => {
      const file = withMagic ? concat([text("REDIS0010"), noise]) : noise;
      await assertRdbError(file, /./);
    }),
    { numRuns: 500 },
  );
});

Deno.test("any single flipped byte in a checksummed file is refused", async () => {
  for (const file of [REDIS_7_DUMP, await writeEntries(sample.slice(0, 3))]) {
    for (let i = 0; i < file.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const copy = file.slice();
        copy[i] ^= mask;
        await assertRdbError(copy, /./);
      }
    }
  }
});

Deno.test("mutated files without a checksum are read or refused, never anything else", async () => {
  const file = await writeEntries(sample.slice(0, 3), { checksum: false });
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(file.length - 1), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.nat(file.length),
      async (edits, cut) => {
        const copy = file.slice(0, Math.max(cut, 20));
        for (const [at, byte] of edits) if (at < copy.length) copy[at] = byte;
        try {
          await readAll(copy);
        } catch (e) {
          assert.ok(e instanceof RdbError, `unexpected ${e}`);
        }
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("a flipped byte in a value is reported as a checksum mismatch with both values", async () => {
  const file = await writeEntries(sample.slice(0, 1));
  const copy = file.slice();
  copy[copy.indexOf(0x77)] = 0x57; // "hello world" -> "hello World"
  const error = await assertRdbError(
    copy,
    /^Checksum mismatch: file says [0-9a-f]{16}, computed [0-9a-f]{16} at offset \d+$/,
  );
  assert.equal(error.offset, file.length - 8);
  const unchecked = await readAll(copy, { verifyChecksum: false });
  assert.equal(unchecked.summary.checksum, "skipped");
  assert.deepEqual(unchecked.entries[0].value, text("hello World"));
});

// What a refusal costs (time, and ArrayBuffer bytes allocated for the claim) is measured by
// `deno task bench:parsers`: a time limit here fails falsely on a loaded machine.
Deno.test("a length claiming gigabytes in a tiny file is refused, naming the length", async () => {
  const cases: [number[], RegExp, number][] = [
    [[0x80, 0xff, 0xff, 0xff, 0xff], /^String length 4294967295 exceeds the limit/, 12],
    [[0x81, 0, 0, 0, 4, 0, 0, 0, 0], /^String length 17179869184 exceeds the limit/, 12],
    [[0x81, 0xff, 0, 0, 0, 0, 0, 0, 0], /^Length larger than 2\^53/, 12],
    [[0xc3, 0x01, 0x80, 0x10, 0, 0, 0, 0], /^LZF string claims 268435456 bytes from 1/, 12],
    [[0xc3, 0x80, 0xff, 0xff, 0xff, 0xff, 0x05, 0], /^Unexpected end of file/, 28],
  ];
  for (const [key, message, offset] of cases) {
    const file = rawFile([0xfe, 0x00, 0x00, ...key, ...new Array(10).fill(0x61)]);
    const error = await assertRdbError(file, message);
    if (!/end of file/.test(error.message)) assert.equal(error.offset, offset);
    await assertRdbError(inPieces(file, [3]), message);
  }
  const unlimited = { maxStringBytes: Number.MAX_SAFE_INTEGER };
  const claim = rawFile([0xfe, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0xff, 0x61]);
  await assertRdbError(claim, /^Unexpected end of file at offset 27$/, unlimited);
  await assertRdbError(inPieces(claim, [2]), /^Unexpected end of file at offset 27$/, unlimited);
});

Deno.test("RDB versions 1 to 10 are read and newer or malformed ones refused", async () => {
  await assertRdbError(
    rawFile(keyK(), 11),
    /^RDB format version 11 is newer than the newest supported version 10 at offset 5$/,
  );
  await assertRdbError(rawFile(keyK(), 0), /^Invalid RDB format version 0/);
  await assertRdbError(
    concat([text("REDIS001x"), rawFile([]).subarray(9)]),
    /^Malformed RDB version/,
  );
  await assertRdbError(concat([text("REDIX0010"), rawFile([]).subarray(9)]), /^Not an RDB file/);
  const v9 = await readAll(rawFile(keyK(), 9));
  assert.deepEqual(v9.summary, { version: 9, keys: 1, bytes: 25, checksum: "verified" });
  // Version 4 has no trailer; its expire times may be in seconds (0xFD).
  const v4 = await readAll(rawFile(keyK([0xfd, 0x10, 0x27, 0, 0]), 4));
  assert.deepEqual(v4.summary, { version: 4, keys: 1, bytes: 22, checksum: "absent" });
  assert.equal(v4.entries[0].expireAtMs, 10_000_000);
  const zero = await readAll(rawFile(keyK(), 10, false));
  assert.equal(zero.summary.checksum, "not-computed");
});

Deno.test("value types and opcodes gocache cannot hold (or a handler takes no collections) are refused by number and offset", async () => {
  const cases: [number[], RegExp][] = [
    // A collection, read whole, for a handler that takes none (the readers of tools).
    [
      [0x01, 0x01, 0x6b, 0x01, 0x01, 0x76],
      /^Value type 1 \(list\) is not supported here at offset 11$/,
    ],
    [[0x06, 0x01, 0x6b], /^Value type 6 \(module-pre-ga\) is not supported/],
    [[0x15, 0x01, 0x6b], /^Value type 21 \(stream-listpacks-3\) is not supported/],
    [[0x1e, 0x01, 0x6b], /^Unknown value type or opcode 30 at offset 11$/],
    [
      [0xf7, 0x81, 0, 0, 0, 0, 0, 0, 0, 1],
      /^Module data \(opcode 0xF7\) is not supported at offset 11$/,
    ],
    [[0xf5, 0x01, 0x61], /^Function libraries \(opcode 0xF5\) are not supported/],
    [[0xf6, 0x01, 0x61], /^Function libraries \(opcode 0xF6\) are not supported/],
  ];
  for (const [body, message] of cases) {
    const error = await assertRdbError(rawFile([0xfe, 0x00, ...body]), message);
    assert.equal(error.offset, 11);
  }
});

Deno.test("malformed lengths, encodings and LZF data are refused with their offset", async () => {
  const cases: [number[], RegExp, number][] = [
    [[0xfe, 0x82, 0, 0, 0, 0], /^Unknown length encoding 0x82 at offset 10$/, 10],
    [[0xfe, 0xc0, 0x01], /^Encoded value 0xc0 where a length belongs at offset 10$/, 10],
    [[0xfe, 0x10], /^Database 16 does not exist \(there are 16 databases\) at offset 9$/, 9],
    [[0xfe, 0x00, 0x00, 0xc4, 0x00], /^Unknown string encoding 4 at offset 12$/, 12],
    [
      [0xfe, 0x00, 0x00, 0xc3, 0x02, 0x05, 0x20, 0x00],
      /^Invalid LZF-compressed string \(back reference before the start of the output\) at offset 15$/,
      15,
    ],
    [[0xfe, 0x00, 0x00, 0xc3, 0x00, 0x00], /^Empty LZF-compressed string at offset 12$/, 12],
    [[0xfe, 0x00, 0xfc, 0, 0, 0, 0, 0, 0, 0x40, 0], /^Expire time out of range at offset 11$/, 11],
  ];
  for (const [body, message, offset] of cases) {
    const error = await assertRdbError(rawFile(body), message);
    assert.equal(error.offset, offset);
  }
  const wide = await readAll(rawFile([0xfe, 0x10, ...keyK().slice(2)]), { databases: 17 });
  assert.equal(wide.entries[0].db, 16);
});

Deno.test("LRU and LFU hints are skipped and the expire time still applies to the next key", async () => {
  const body = [
    ...keyK([0xfc, 0xe8, 0x03, 0, 0, 0, 0, 0, 0, 0xf8, 0x81, 0, 0, 0, 0, 0, 0, 1, 0, 0xf9, 0x07]),
    0x00,
    0x01,
    0x6c,
    0x00,
  ]; // deno-fmt-ignore
  const { entries } = await readAll(rawFile(body));
  assert.deepEqual(entries, [
    { db: 0, key: text("k"), value: text("v"), expireAtMs: 1000 },
    { db: 0, key: text("l"), value: new Uint8Array(0), expireAtMs: -1 },
  ]);
});

Deno.test("data after the checksum is refused", async () => {
  const file = concat([REDIS_7_DUMP, new Uint8Array([0])]);
  const error = await assertRdbError(file, /^Unexpected data after the checksum at offset 147$/);
  assert.equal(error.offset, 147);
  await assertRdbError(inPieces(file, [147, 1]), /^Unexpected data after the checksum/);
});

Deno.test("an async handler is awaited before the next record is read", async () => {
  const log: string[] = [];
  let busy = false;
  await readRdb(REDIS_7_DUMP, {
    aux: async (key) => {
      assert.ok(!busy);
      busy = true;
      await new Promise((resolve) => setTimeout(resolve, 1));
      log.push(key);
      busy = false;
    },
    entry: async (db, key) => {
      assert.ok(!busy);
      busy = true;
      await Promise.resolve();
      log.push(`${db}:${new TextDecoder().decode(key)}`);
      busy = false;
    },
  });
  assert.deepEqual(log, [
    "redis-ver",
    "redis-bits",
    "ctime",
    "used-mem",
    "aof-base",
    "0:42",
    "0:k2",
    "0:k1",
    "3:z",
  ]);
});

Deno.test("a handler's error passes through and the source is closed", async () => {
  let closed = false;
  async function* source() {
    try {
      yield REDIS_7_DUMP.subarray(0, 100);
      yield REDIS_7_DUMP.subarray(100);
    } finally {
      closed = true;
    }
  }
  const mine = new Error("handler refused");
  await assert.rejects(
    readRdb(source(), {
      entry: () => {
        throw mine;
      },
    }),
    mine,
  );
  assert.ok(closed, "the generator was returned");
  closed = false;
  await assertRdbError(
    (async function* () {
      try {
        yield text("REDIS0099");
        yield new Uint8Array(10);
      } finally {
        closed = true;
      }
    })(),
    /newer/,
  );
  assert.ok(closed);
});

Deno.test("the reader streams a file from disk through its readable stream", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-rdb-unit-" });
  try {
    const path = `${dir}/dump.rdb`;
    const data = await writeEntries(sample);
    await Deno.writeFile(path, data);
    const file = await Deno.open(path);
    // The readable stream closes the file when it ends or is cancelled.
    const result = await readAll(file.readable);
    assert.deepEqual(result.entries, sample);
    assert.equal(result.summary.bytes, data.length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
