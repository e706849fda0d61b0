import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ByteBuffer,
  bytesEqual,
  concatBytes,
  fromBinaryString,
  timingSafeEqual,
  toBinaryString,
} from "../../../src/util/bytes.ts";

Deno.test("binary strings round-trip every byte value, unlike latin1 decoding", () => {
  const all = new Uint8Array(256).map((_, i) => i);
  assert.deepEqual(fromBinaryString(toBinaryString(all)), all);
  assert.equal(toBinaryString(all, 0x80, 0x82), "\x80\x81");
  const big = new Uint8Array(10_000).map((_, i) => i & 0xff);
  assert.deepEqual(fromBinaryString(toBinaryString(big)), big);
});

Deno.test("timingSafeEqual agrees with bytesEqual on any pair of arrays", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (a, b) => {
      assert.equal(timingSafeEqual(a, b), bytesEqual(a, b));
      assert.equal(timingSafeEqual(a, a.slice()), true);
    }),
  );
  assert.equal(timingSafeEqual(new Uint8Array(0), new Uint8Array([0])), false);
});

Deno.test("concatBytes joins arrays in order", () => {
  assert.deepEqual(
    concatBytes([new Uint8Array([1]), new Uint8Array(0), new Uint8Array([2, 3])]),
    new Uint8Array([1, 2, 3]),
  );
});

Deno.test("a ByteBuffer grows as needed and reset keeps or shrinks its storage", () => {
  const out = new ByteBuffer(0);
  for (let i = 0; i < 1000; i++) out.pushByte(i & 0xff);
  out.pushAscii("ok");
  out.pushUtf8("é");
  assert.equal(out.length, 1004);
  assert.deepEqual([...out.view().subarray(1000)], [0x6f, 0x6b, 0xc3, 0xa9]);
  out.reset();
  assert.equal(out.length, 0);
  const big = new ByteBuffer(16);
  big.pushBytes(new Uint8Array(2 * 1024 * 1024));
  big.reset();
  assert.ok(big.bytes.length <= 16 * 1024, "storage past the keep size is released");
});

Deno.test("pushAscii writes one byte per character, short or long, ASCII or not", () => {
  const out = new ByteBuffer(1);
  const texts = [
    "",
    "short",
    "a".repeat(63),
    "b".repeat(64),
    "long ASCII ".repeat(100),
    "\xe9".repeat(64),
    "x".repeat(200) + "\xff" + "y".repeat(10),
    "\x00\x7f\x80\xff".repeat(40),
  ];
  let expected: number[] = [];
  for (const text of texts) {
    out.pushByte(0x2a);
    out.pushAscii(text);
    expected = [...expected, 0x2a, ...[...text].map((c) => c.charCodeAt(0))];
  }
  assert.equal(out.length, expected.length);
  assert.deepEqual([...out.view()], expected);
  assert.equal(toBinaryString(out.view()), expected.map((c) => String.fromCharCode(c)).join(""));
});
