import assert from "node:assert/strict";
import fc from "fast-check";
import { Crc64, crc64 } from "../../../../src/persistence/rdb/crc64.ts";

const text = (s: string) => new TextEncoder().encode(s);

/** Bit-at-a-time CRC-64/Jones (reflected), the definition the tables must agree with. */
function referenceCrc64(data: Uint8Array): bigint {
  const poly = 0x95ac9329ac4bc9b5n;
  let crc = 0n;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  return crc;
}

Deno.test("crc64 of '123456789' is Redis's check value 0xe9c6d914c4b8d9ca", () => {
  assert.equal(crc64(text("123456789")), 0xe9c6d914c4b8d9can);
  assert.equal(new Crc64().update(text("123456789")).hex(), "e9c6d914c4b8d9ca");
});

Deno.test("crc64 of nothing is 0, the value that means 'not computed' in an RDB trailer", () => {
  assert.equal(crc64(new Uint8Array(0)), 0n);
  assert.deepEqual(new Crc64().toBytesLE(), new Uint8Array(8));
});

Deno.test("crc64 agrees with the bit-at-a-time definition on any data and alignment", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(7), (data, shift) => {
      // Copy at an odd offset inside a larger buffer so the word path meets every alignment.
      const backing = new Uint8Array(data.length + 8);
      backing.set(data, shift);
      const view = backing.subarray(shift, shift + data.length);
      assert.equal(crc64(view), referenceCrc64(data));
    }),
  );
});

Deno.test("feeding crc64 in chunks gives the same result as feeding it at once", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 500 }), fc.array(fc.nat(500)), (data, cuts) => {
      const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
      const crc = new Crc64();
      let from = 0;
      for (const to of [...points, data.length]) {
        crc.update(data, from, to);
        from = to;
      }
      assert.equal(crc.value(), crc64(data));
    }),
  );
});

Deno.test("the little-endian trailer bytes hold the checksum low byte first", () => {
  const crc = new Crc64().update(text("123456789"));
  const bytes = crc.toBytesLE();
  assert.deepEqual([...bytes], [0xca, 0xd9, 0xb8, 0xc4, 0x14, 0xd9, 0xc6, 0xe9]);
  assert.ok(crc.equalsBytesLE(bytes));
  bytes[7] ^= 1;
  assert.ok(!crc.equalsBytesLE(bytes));
  assert.equal(crc.lo, 0xc4b8d9ca);
  assert.equal(crc.hi, 0xe9c6d914);
});
