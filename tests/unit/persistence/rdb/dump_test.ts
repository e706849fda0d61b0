/**
 * DUMP payloads (src/persistence/rdb/dump.ts): Redis's exact bytes for small values, round
 * trips of any value with and without compression, and refusal of every truncated, corrupted,
 * padded, oversized or random payload with a DumpPayloadError, never another error.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  DumpPayloadError,
  dumpString,
  dumpValueView,
  restoreString,
  withDumpFooter,
} from "../../../../src/persistence/rdb/dump.ts";
import { crc64 } from "../../../../src/persistence/rdb/crc64.ts";

const enc = new TextEncoder();
const MAX = 1 << 20;

function refused(payload: Uint8Array, kind?: "footer" | "format"): void {
  assert.throws(() => restoreString(payload, MAX), (e: unknown) => {
    assert.ok(e instanceof DumpPayloadError, `a DumpPayloadError, got ${String(e)}`);
    if (kind !== undefined) assert.equal(e.kind, kind);
    return true;
  });
}

Deno.test("small values dump to the bytes redis-server 7.0 gives", () => {
  // From redis-cli --no-raw DUMP against redis-server 7.0.15.
  assert.deepEqual(
    dumpString(enc.encode("hello"), true),
    new Uint8Array([0, 5, 104, 101, 108, 108, 111, 10, 0, 99, 114, 0xdf, 118, 101, 52, 32, 10]),
  );
  assert.deepEqual(
    dumpString(enc.encode("123"), true),
    new Uint8Array([0, 0xc0, 123, 10, 0, 72, 0xe2, 83, 0xe1, 0, 122, 103, 0xb9]),
  );
});

Deno.test("any value survives a dump and a restore, compressed or not", () => {
  // Long values too (fast-check keeps arrays short by default), and repetitive ones that LZF
  // really compresses.
  const values = fc.oneof(
    fc.uint8Array({ maxLength: 3000, size: "max" }),
    fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 400 }))
      .map(([unit, times]) =>
        Uint8Array.from({ length: unit.length * times }, (_, i) => unit[i % unit.length])
      ),
  );
  fc.assert(
    fc.property(values, fc.boolean(), (value, compression) => {
      assert.deepEqual(restoreString(dumpString(value, compression), MAX), value);
    }),
  );
  for (const text of ["", "0", "-1", "127", "-32768", "2147483647", "-2147483649", "007"]) {
    assert.deepEqual(restoreString(dumpString(enc.encode(text), true), MAX), enc.encode(text));
  }
});

Deno.test("each payload is its own copy: later dumps, long ones included, leave it unchanged", () => {
  const long = new Uint8Array(10_000).map((_, i) => (i * 7919) % 251);
  const first = dumpString(enc.encode("first value, long enough to be compressed"), true);
  const copy = first.slice();
  const second = dumpString(long, false);
  const secondCopy = second.slice();
  dumpString(enc.encode("a third value that reuses the body buffer"), true);
  dumpString(long.subarray(0, 5000), false);
  assert.deepEqual(first, copy);
  assert.deepEqual(second, secondCopy);
  assert.deepEqual(restoreString(second, MAX), long);
});

Deno.test("the payload as a view has the bytes of the payload as a copy, binary strings included", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 6000, size: "max" }),
      fc.boolean(),
      (value, compression) => {
        const copy = dumpString(value, compression);
        assert.deepEqual(dumpValueView(value, compression), copy);
        assert.deepEqual(dumpValueView(String.fromCharCode(...value), compression), copy);
      },
    ),
  );
});

Deno.test("every truncation and every single-byte change of a payload is refused", () => {
  for (const value of [enc.encode("hello"), enc.encode("a".repeat(200)), enc.encode("12345")]) {
    const payload = dumpString(value, true);
    for (let n = 0; n < payload.length; n++) refused(payload.subarray(0, n));
    for (let i = 0; i < payload.length; i++) {
      const changed = payload.slice();
      changed[i] ^= 0x5a;
      refused(changed, "footer");
    }
  }
});

Deno.test("a newer version, another type, a value past the footer or an oversized string are refused", () => {
  refused(withDumpFooter(new Uint8Array([0, 1, 120]), 11), "footer");
  refused(withDumpFooter(new Uint8Array([0, 1, 120]), 10).subarray(0, 9), "footer");
  refused(withDumpFooter(new Uint8Array([]), 10), "format");
  // A list (type 1) in a valid envelope: gocache holds strings only.
  refused(withDumpFooter(new Uint8Array([1, 1, 1, 120])), "format");
  // The value's length runs past the footer.
  refused(withDumpFooter(new Uint8Array([0, 20, 120])), "format");
  // An LZF body that does not decompress to its stated length.
  refused(withDumpFooter(new Uint8Array([0, 0xc3, 2, 30, 0, 120])), "format");
  assert.throws(
    () => restoreString(dumpString(new Uint8Array(5000), false), 4999),
    DumpPayloadError,
  );
  // Versions up to ours are accepted, as Redis accepts older payloads.
  assert.deepEqual(
    restoreString(withDumpFooter(new Uint8Array([0, 1, 120]), 9), MAX),
    enc.encode("x"),
  );
});

Deno.test("as in Redis, bytes after the value are ignored and a value may run into the footer", () => {
  const x = enc.encode("x");
  assert.deepEqual(restoreString(withDumpFooter(new Uint8Array([0, 1, 120, 65, 66])), MAX), x);
  assert.deepEqual(
    restoreString(withDumpFooter(new Uint8Array([0, 1, 120, 0, 1, 107, 1, 118])), MAX),
    x,
  );
  const intoFooter = withDumpFooter(new Uint8Array([0, 12, 120, 121]));
  const value = restoreString(intoFooter, MAX);
  assert.equal(value.length, 12);
  assert.deepEqual(value, intoFooter.subarray(2, 14));
});

/**
 * What restoring a payload with a valid footer must give, worked out from Redis's RDB string
 * encoding independently of the parser: the string's bytes, `{ length }` for an LZF value (its
 * stated length; the compressed bytes may still be refused), or `"refused"`. The value starts
 * after the type byte and may run into the footer but not past the payload's end.
 */
function announced(payload: Uint8Array): Uint8Array | { length: number } | "refused" {
  const end = payload.length;
  if (end <= 10 || payload[0] !== 0) return "refused";
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  /** A length encoding at `at`: [length, where what follows starts], or null. */
  const lengthAt = (at: number): [number, number] | null => {
    if (at >= end) return null;
    const b = payload[at];
    if (b >> 6 === 0) return [b & 0x3f, at + 1];
    if (b >> 6 === 1) return at + 2 <= end ? [((b & 0x3f) << 8) | payload[at + 1], at + 2] : null;
    if (b === 0x80) return at + 5 <= end ? [view.getUint32(at + 1), at + 5] : null;
    if (b === 0x81) return at + 9 <= end ? [Number(view.getBigUint64(at + 1)), at + 9] : null;
    return null;
  };
  const b = payload[1];
  if (b >> 6 === 3) {
    const ints = [[0xc0, 1], [0xc1, 2], [0xc2, 4]] as const;
    for (const [tag, size] of ints) {
      if (b !== tag) continue;
      if (2 + size > end) return "refused";
      const n = size === 1
        ? view.getInt8(2)
        : size === 2
        ? view.getInt16(2, true)
        : view.getInt32(2, true);
      return enc.encode(String(n));
    }
    if (b !== 0xc3) return "refused";
    const compressed = lengthAt(2);
    const plain = compressed && lengthAt(compressed[1]);
    if (!compressed || !plain || plain[1] + compressed[0] > end || plain[0] > MAX) {
      return "refused";
    }
    return { length: plain[0] };
  }
  const length = lengthAt(1);
  if (length === null || length[0] > MAX || length[1] + length[0] > end) return "refused";
  return payload.slice(length[1], length[1] + length[0]);
}

/** Whether a payload ends in a version up to 10 and the CRC-64 of what precedes the CRC. */
function validFooter(payload: Uint8Array): boolean {
  if (payload.length < 10) return false;
  const end = payload.length - 8;
  const version = payload[end - 2] | (payload[end - 1] << 8);
  const stored = new DataView(payload.buffer, payload.byteOffset + end, 8).getBigUint64(0, true);
  return version <= 10 && crc64(payload.subarray(0, end)) === stored;
}

Deno.test("random payloads without a valid footer end in a DumpPayloadError", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 200, size: "max" }),
        // A known version, so that it is the checksum that must refuse the payload.
        fc.tuple(
          fc.uint8Array({ maxLength: 200, size: "max" }),
          fc.nat(10),
          fc.uint8Array({ minLength: 8, maxLength: 8 }),
        )
          .map(([body, version, crc]) => Uint8Array.of(...body, version, 0, ...crc)),
      ),
      (payload) => {
        // An all-zero tail is a valid footer (CRC-64 of zeros is zero): not this test's case.
        fc.pre(!validFooter(payload));
        refused(payload, "footer");
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("random payloads with a valid footer restore the string they encode, or end in a DumpPayloadError", () => {
  const outcomes = { restored: 0, refused: 0 };
  // Random bytes; the string type byte and random bytes; and a string header (6- or 14-bit
  // length) announcing about as many bytes as follow (a few too few, or running into or past
  // the footer), so that both outcomes are common and long values are restored too.
  const body = fc.oneof(
    fc.uint8Array({ maxLength: 200, size: "max" }),
    fc.uint8Array({ maxLength: 200, size: "max" }).map((b) => Uint8Array.of(0, ...b)),
    fc.tuple(
      fc.uint8Array({ maxLength: 300, size: "max" }),
      fc.integer({ min: -3, max: 12 }),
      fc.boolean(),
    )
      .map(([b, delta, wide]) => {
        const n = Math.max(0, b.length + delta);
        const header = wide || n > 63 ? [0x40 | (n >> 8), n & 0xff] : [n];
        return Uint8Array.of(0, ...header, ...b);
      }),
  );
  fc.assert(
    fc.property(body, (body) => {
      const payload = withDumpFooter(body);
      const expected = announced(payload);
      let value: Uint8Array;
      try {
        value = restoreString(payload, MAX);
      } catch (e) {
        assert.ok(e instanceof DumpPayloadError, `a DumpPayloadError, got ${String(e)}`);
        assert.equal(e.kind, "format");
        assert.ok(!(expected instanceof Uint8Array), `refused a valid string: ${e.message}`);
        outcomes.refused++;
        return;
      }
      assert.notEqual(expected, "refused", `restored ${value.length} bytes from a bad payload`);
      if (expected instanceof Uint8Array) assert.deepEqual(value, expected);
      else if (expected !== "refused") assert.equal(value.length, expected.length);
      outcomes.restored++;
    }),
    { numRuns: 2000 },
  );
  // Both outcomes occur (about 90 and 1900 of 2000 runs).
  assert.ok(outcomes.restored >= 10 && outcomes.refused >= 10, JSON.stringify(outcomes));
});

Deno.test("values at every length and integer encoding boundary round trip", () => {
  const values: Uint8Array[] = [];
  for (const n of [0, 1, 20, 21, 63, 64, 65, 16383, 16384, 16385, 70000]) {
    const random = new Uint8Array(n).map((_, i) => (i * 7919 + n) % 251);
    values.push(new Uint8Array(n).fill(0x61), random);
  }
  for (const text of ["0", "-1", "127", "128", "-128", "-129", "32767", "32768", "-32769"]) {
    values.push(enc.encode(text));
  }
  for (const text of ["2147483647", "-2147483648", "2147483648", "007", "+1", "-0", " 1"]) {
    values.push(enc.encode(text));
  }
  for (const value of values) {
    for (const compression of [true, false]) {
      assert.deepEqual(restoreString(dumpString(value, compression), MAX), value);
    }
  }
});
