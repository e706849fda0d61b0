import assert from "node:assert/strict";
import { crc64 } from "../../../../src/persistence/rdb/crc64.ts";
import { lzfDecompress } from "../../../../src/persistence/rdb/lzf.ts";
import { RdbWriter } from "../../../../src/persistence/rdb/writer.ts";
import { REDIS_COMPAT_VERSION } from "../../../../src/version.ts";
import { concat, readAll, text, writeEntries } from "./_support.ts";

/** The bytes the writer uses for `value` (stored under key "k", alone in db 0). */
async function valueEncoding(value: Uint8Array, compression = true): Promise<number[]> {
  const file = await writeEntries([{ db: 0, key: text("k"), value, expireAtMs: -1 }], {
    compression,
  });
  const entryStart = indexOf(file, [0xfe, 0x00, 0xfb, 0x01, 0x00, 0x00, 0x01, 0x6b]);
  assert.ok(entryStart > 0);
  return [...file.subarray(entryStart + 8, file.length - 9)];
}

function indexOf(haystack: Uint8Array, needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const ascii = (s: string) => [...text(s)];

Deno.test("the writer starts with REDIS0010 and Redis 7.0's aux fields in Redis's order", async () => {
  const file = await writeEntries([], {}, { ctimeSec: 1_700_000_000, usedMem: 123_456 });
  assert.deepEqual([...file.subarray(0, 9)], ascii("REDIS0010"));
  assert.deepEqual(
    [...file.subarray(9, 26)],
    [0xfa, 9, ...ascii("redis-ver"), 5, ...ascii(REDIS_COMPAT_VERSION)],
  );
  assert.deepEqual([...file.subarray(26, 40)], [0xfa, 10, ...ascii("redis-bits"), 0xc0, 64]);
  const { aux, entries, summary } = await readAll(file);
  assert.deepEqual(aux, [
    ["redis-ver", "7.2.0"],
    ["redis-bits", "64"],
    ["ctime", "1700000000"],
    ["used-mem", "123456"],
    ["aof-base", "0"],
  ]);
  assert.deepEqual(entries, []);
  assert.equal(summary.checksum, "verified");
});

Deno.test("extra aux fields come before aof-base, and aux() adds more later", async () => {
  const chunks: Uint8Array[] = [];
  const writer = new RdbWriter((c) => void chunks.push(c));
  writer.header({ ctimeSec: 1, aofBase: true, extra: [["repl-id", "abc"], ["repl-offset", "77"]] });
  writer.aux("custom", text("\u00e9"));
  await writer.end();
  const { aux } = await readAll(concat(chunks));
  assert.deepEqual(aux.map(([k]) => k), [
    "redis-ver",
    "redis-bits",
    "ctime",
    "used-mem",
    "repl-id",
    "repl-offset",
    "aof-base",
    "custom",
  ]);
  assert.deepEqual(aux.slice(-2), [["aof-base", "1"], ["custom", "\u00e9"]]);
});

Deno.test("canonical integers in int32 range are integer-encoded exactly as Redis does", async () => {
  const cases: [string, number[]][] = [
    ["0", [0xc0, 0x00]],
    ["-7", [0xc0, 0xf9]],
    ["127", [0xc0, 0x7f]],
    ["-128", [0xc0, 0x80]],
    ["128", [0xc1, 0x80, 0x00]],
    ["-129", [0xc1, 0x7f, 0xff]],
    ["12345", [0xc1, 0x39, 0x30]],
    ["32767", [0xc1, 0xff, 0x7f]],
    ["-32768", [0xc1, 0x00, 0x80]],
    ["32768", [0xc2, 0x00, 0x80, 0x00, 0x00]],
    ["-32769", [0xc2, 0xff, 0x7f, 0xff, 0xff]],
    ["2147483647", [0xc2, 0xff, 0xff, 0xff, 0x7f]],
    ["-2147483648", [0xc2, 0x00, 0x00, 0x00, 0x80]],
  ];
  for (const [value, encoding] of cases) {
    assert.deepEqual(await valueEncoding(text(value)), encoding, value);
  }
});

Deno.test("strings that are not canonical int32 decimals stay strings", async () => {
  for (
    const value of [
      "2147483648",
      "-2147483649",
      "-0",
      "007",
      "+1",
      " 1",
      "1 ",
      "-",
      "",
      "1e3",
      "0x10",
      "99999999999",
    ]
  ) {
    assert.deepEqual(await valueEncoding(text(value)), [value.length, ...ascii(value)], value);
  }
});

Deno.test("keys are integer-encoded too, as Redis writes them", async () => {
  const file = await writeEntries([{ db: 0, key: text("42"), value: text("v"), expireAtMs: -1 }]);
  assert.ok(indexOf(file, [0x00, 0xc0, 0x2a, 0x01, 0x76]) > 0);
});

Deno.test("strings over 20 bytes are LZF-compressed only when that saves 4 bytes", async () => {
  const repeated = text("ab".repeat(100));
  const encoded = await valueEncoding(repeated);
  assert.equal(encoded[0], 0xc3);
  const clen = encoded[1];
  assert.deepEqual(encoded.slice(2, 4), [0x40, 200], "14-bit original length");
  assert.equal(encoded.length, 4 + clen);
  assert.deepEqual(lzfDecompress(new Uint8Array(encoded.slice(4)), 200), repeated);

  const twenty = text("a".repeat(20));
  assert.deepEqual(await valueEncoding(twenty), [20, ...twenty], "20 bytes: never compressed");
  assert.equal((await valueEncoding(text("a".repeat(21))))[0], 0xc3, "21 bytes: compressed");
  const noisy = text("q8Zr!x0Lm2Vb7Ck3Pw9Ty4Hn6Gf1Ds5Ja");
  assert.deepEqual(await valueEncoding(noisy), [noisy.length, ...noisy], "incompressible");
  assert.deepEqual(await valueEncoding(repeated, false), [0x40, 200, ...repeated], "option off");
});

Deno.test("lengths use the 6-bit, 14-bit, 32-bit and 64-bit forms at their boundaries", async () => {
  const cases: [number, number[]][] = [
    [63, [0x3f]],
    [64, [0x40, 0x40]],
    [16383, [0x7f, 0xff]],
    [16384, [0x80, 0x00, 0x00, 0x40, 0x00]],
  ];
  for (const [n, header] of cases) {
    const value = new Uint8Array(n).fill(0x78);
    assert.deepEqual((await valueEncoding(value, false)).slice(0, header.length), header, `${n}`);
  }
  const chunks: Uint8Array[] = [];
  const writer = new RdbWriter((c) => void chunks.push(c));
  writer.header();
  writer.selectDb(3, 2 ** 32, 2 ** 40 + 5);
  await writer.end();
  const file = concat(chunks);
  const at = indexOf(file, [0xfe, 0x03, 0xfb]);
  assert.deepEqual([...file.subarray(at + 3, at + 21)], [
    0x81,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0x81,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    5,
  ]); // deno-fmt-ignore
  assert.deepEqual((await readAll(file)).resizes, [[2 ** 32, 2 ** 40 + 5]]);
});

Deno.test("an expire time is 0xFC and 8 little-endian milliseconds before the key", async () => {
  const file = await writeEntries([
    { db: 0, key: text("k"), value: text("v"), expireAtMs: 1_795_564_967_187 },
  ]);
  // The same bytes redis-server 7.0 wrote for this expire time.
  const expected = [0xfc, 0x13, 0x15, 0x03, 0x10, 0xa2, 0x01, 0x00, 0x00, 0x00, 0x01, 0x6b];
  assert.ok(indexOf(file, expected) > 0);
});

Deno.test("the trailer is the CRC-64 of all that precedes it, or zero with checksums off", async () => {
  const entries = [{ db: 0, key: text("k"), value: text("v"), expireAtMs: -1 }];
  const file = await writeEntries(entries);
  const body = file.subarray(0, file.length - 8);
  assert.equal(body[body.length - 1], 0xff, "EOF opcode");
  const trailer = new DataView(file.buffer, file.byteOffset + body.length, 8);
  assert.equal(trailer.getBigUint64(0, true), crc64(body));
  const unchecked = await writeEntries(entries, { checksum: false });
  assert.deepEqual([...unchecked.subarray(unchecked.length - 8)], [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal((await readAll(unchecked)).summary.checksum, "not-computed");
});

Deno.test("an async sink gets bounded chunks in order and end waits for all of them", async () => {
  const received: Uint8Array[] = [];
  let active = 0;
  const writer = new RdbWriter(async (chunk) => {
    active++;
    assert.equal(active, 1, "one sink call at a time");
    await new Promise((resolve) => setTimeout(resolve, 1));
    received.push(chunk);
    active--;
  }, { chunkSize: 64, compression: false });
  writer.header({ ctimeSec: 5 });
  writer.selectDb(0, 300, 0);
  const big = new Uint8Array(1000).fill(7);
  for (let i = 0; i < 300; i++) {
    // Half the calls are not awaited: order must hold either way.
    const pending = writer.entry(text(`key:${i}`), i === 150 ? big : text(`value:${i}`));
    if (i % 2 === 0 && pending) await pending;
  }
  await writer.end();
  assert.equal(writer.bytesWritten, received.reduce((n, c) => n + c.length, 0));
  assert.ok(received.every((c) => c.length <= 64 || c.length === 1000), "bounded chunks");
  const { entries, summary } = await readAll(concat(received));
  assert.equal(entries.length, 300);
  assert.deepEqual(entries[299].value, text("value:299"));
  assert.deepEqual(entries[150].value, big);
  assert.equal(summary.checksum, "verified");
});

Deno.test("a sink that copies gets the same bytes from one reused chunk, long values uncopied", async () => {
  const entries = Array.from({ length: 200 }, (_, i) => ({
    db: 0,
    key: text(`key:${i}`),
    value: i % 50 === 7 ? new Uint8Array(700).map((_, j) => (j * 31 + i) % 256) : text(`v${i}`),
    expireAtMs: -1,
  }));
  const expected = await writeEntries(entries, { chunkSize: 64, compression: false });
  const copied: number[] = [];
  const handed = new Set<ArrayBufferLike>();
  const long = new Set<Uint8Array>();
  const writer = new RdbWriter((chunk) => {
    handed.add(chunk.buffer);
    if (chunk.length > 64) long.add(chunk);
    copied.push(...chunk);
  }, { chunkSize: 64, sinkCopies: true, compression: false });
  writer.header({ ctimeSec: 1_700_000_000 });
  writer.selectDb(0, entries.length, 0);
  for (const e of entries) writer.entry(e.key, e.value, e.expireAtMs);
  await writer.end();
  assert.deepEqual(new Uint8Array(copied), expected);
  // One chunk buffer, the long values handed over as they are and the trailer of its own.
  const values = entries.filter((e) => e.value.length === 700).map((e) => e.value);
  assert.deepEqual([...long], values);
  assert.equal(handed.size, 1 + values.length + 1);
});

Deno.test("a synchronous sink makes every call return nothing to await", () => {
  const writer = new RdbWriter(() => {}, { chunkSize: 16 });
  assert.equal(writer.header(), undefined);
  assert.equal(writer.selectDb(0, 1, 0), undefined);
  assert.equal(writer.entry(text("k"), new Uint8Array(100)), undefined);
});

Deno.test("a failing sink makes end reject with its error, and later calls throw it", async () => {
  const boom = new Error("disk full");
  const writer = new RdbWriter(() => Promise.reject(boom), { chunkSize: 16 });
  const first = writer.header();
  assert.ok(first instanceof Promise);
  await assert.rejects(first, boom);
  assert.throws(() => writer.selectDb(0, 0, 0), boom);
  await assert.rejects(writer.end(), boom);

  const syncFailure = new RdbWriter(() => {
    throw boom;
  }, { chunkSize: 16 });
  assert.throws(() => syncFailure.header(), boom);
});

Deno.test("calls out of order and invalid arguments are refused", async () => {
  const writer = new RdbWriter(() => {});
  assert.throws(() => writer.entry(text("k"), text("v")), /before header/);
  assert.throws(() => writer.selectDb(0, 0, 0), /before header/);
  await assert.rejects(writer.end(), /before header/);
  writer.header();
  assert.throws(() => writer.header(), /twice/);
  assert.throws(() => writer.entry(text("k"), text("v")), /before selectDb/);
  assert.throws(() => writer.selectDb(-1, 0, 0), RangeError);
  assert.throws(() => writer.selectDb(0, 1.5, 0), RangeError);
  writer.selectDb(0, 1, 1);
  assert.throws(() => writer.entry(text("k"), text("v"), -2), RangeError);
  assert.throws(() => writer.entry(text("k"), text("v"), 2 ** 53), RangeError);
  writer.entry(text("k"), text("v"), 0);
  await writer.end();
  assert.throws(() => writer.entry(text("k"), text("v")), /after end/);
  await assert.rejects(writer.end(), /after end/);
  assert.throws(() => new RdbWriter(() => {}, { chunkSize: 4 }), RangeError);
});
