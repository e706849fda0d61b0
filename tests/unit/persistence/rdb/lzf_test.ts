import assert from "node:assert/strict";
import fc from "fast-check";
import {
  LZF_MAX_EXPANSION,
  lzfCompress,
  lzfCompressInto,
  lzfDecompress,
  lzfDecompressInto,
  LzfError,
  lzfMaxCompressedLength,
} from "../../../../src/persistence/rdb/lzf.ts";

const text = (s: string) => new TextEncoder().encode(s);

/** Inputs LZF meets in practice: random, repetitive, runs of one byte, all byte values. */
const inputs = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }),
  fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 600 }))
    .map(([unit, times]) => {
      const out = new Uint8Array(unit.length * times);
      for (let i = 0; i < times; i++) out.set(unit, i * unit.length);
      return out;
    }),
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 20_000 }))
    .map(([byte, n]) => new Uint8Array(n).fill(byte)),
  fc.array(fc.constantFrom(...["user:", "1000", "session", "\0\xff", "{}", "\r\n"]))
    .map((parts) => text(parts.join(""))),
  fc.constant(new Uint8Array(256).map((_, i) => i)),
  fc.constant(new Uint8Array(0)),
);

Deno.test("LZF compression round-trips any input through decompression", () => {
  fc.assert(
    fc.property(inputs, (input) => {
      const compressed = lzfCompress(input);
      assert.ok(compressed !== null);
      assert.ok(compressed.length <= lzfMaxCompressedLength(input.length));
      assert.deepEqual(lzfDecompress(compressed, input.length), input);
    }),
    { numRuns: 300 },
  );
});

Deno.test("LZF compresses repetitive data well and gives up when the budget is too small", () => {
  const repetitive = text("abcdefgh".repeat(1000));
  const compressed = lzfCompress(repetitive);
  assert.ok(compressed !== null && compressed.length < 150, `got ${compressed?.length} bytes`);
  let seed = 0x2545f491;
  const random = new Uint8Array(1000).map(() => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed & 0xff;
  });
  assert.equal(lzfCompress(random, random.length - 4), null, "random bytes do not shrink");
  const out = new Uint8Array(10);
  assert.equal(lzfCompressInto(repetitive, out), 0, "does not fit in 10 bytes");
  assert.equal(lzfCompressInto(new Uint8Array(0), out), 0, "empty input, as liblzf");
});

Deno.test("LZF reads what liblzf in redis-server 7.0 wrote ('ab' repeated 100 times)", () => {
  // The compressed bytes of a 200-byte value from a dump.rdb saved by redis-server 7.0.15.
  const fromRedis = new Uint8Array([0x02, 0x61, 0x62, 0x61, 0xe0, 0xba, 0x01, 0x01, 0x61, 0x62]);
  assert.deepEqual(lzfDecompress(fromRedis, 200), text("ab".repeat(100)));
});

Deno.test("LZF decompression of random bytes either works or throws LzfError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(3000), (input, length) => {
      try {
        const out = lzfDecompress(input, length);
        assert.equal(out.length, length);
      } catch (e) {
        assert.ok(e instanceof LzfError, `unexpected ${e}`);
      }
    }),
    { numRuns: 2000 },
  );
});

Deno.test("LZF decompression rejects every truncation of valid data", () => {
  const input = text("the quick brown fox jumps over the lazy dog; ".repeat(40));
  const compressed = lzfCompress(input)!;
  for (let n = 0; n < compressed.length; n++) {
    assert.throws(() => lzfDecompress(compressed.subarray(0, n), input.length), LzfError);
  }
  assert.throws(() => lzfDecompress(compressed, input.length + 1), LzfError);
  assert.throws(() => lzfDecompress(compressed, input.length - 1), LzfError);
});

Deno.test("LZF decompression names the malformed part and where it is", () => {
  const cases: [number[], number, RegExp, number][] = [
    [[0x05, 0x61], 6, /literal run past the end of the input/, 0],
    [[0x00, 0x61, 0x20], 10, /back reference past the end of the input/, 2],
    [[0x00, 0x61, 0xe0], 10, /back reference past the end of the input/, 2],
    [[0x20, 0x00], 10, /before the start of the output/, 0],
    [[0x00, 0x61, 0x20, 0x05], 10, /before the start of the output/, 2],
    [[0x00, 0x61, 0x20, 0x00], 3, /past the end of the output/, 2],
    [[0x01, 0x61, 0x62], 1, /literal run past the end of the output/, 0],
  ];
  for (const [bytes, length, message, offset] of cases) {
    assert.throws(
      () => lzfDecompress(new Uint8Array(bytes), length),
      (e: unknown) => e instanceof LzfError && message.test(e.message) && e.offset === offset,
      `${bytes} -> ${message}`,
    );
  }
});

Deno.test("LZF decompression refuses a length no input of that size could produce", () => {
  const tiny = new Uint8Array([0x00, 0x61]);
  assert.throws(() => lzfDecompress(tiny, 2 * LZF_MAX_EXPANSION + 1), /more than 2 compressed/);
  assert.throws(() => lzfDecompress(tiny, -1), LzfError);
  assert.throws(() => lzfDecompress(tiny, 2 ** 60), LzfError);
});

Deno.test("LZF's longest back reference expands 3 bytes into 264", () => {
  // A literal "a", then a back reference of distance 1, length 7 + 255 + 2 = 264.
  const out = new Uint8Array(265);
  assert.equal(lzfDecompressInto(new Uint8Array([0x00, 0x61, 0xe0, 0xff, 0x00]), out), 265);
  assert.deepEqual(out, new Uint8Array(265).fill(0x61));
});
