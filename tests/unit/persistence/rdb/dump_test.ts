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
  restoreString,
} from "../../../../src/persistence/rdb/dump.ts";
import { crc64 } from "../../../../src/persistence/rdb/crc64.ts";

const enc = new TextEncoder();
const MAX = 1 << 20;

/** A payload with `body` and a correct footer for RDB version `version`. */
function withFooter(body: Uint8Array, version = 10): Uint8Array {
  const out = new Uint8Array(body.length + 10);
  out.set(body);
  out[body.length] = version & 0xff;
  out[body.length + 1] = version >> 8;
  new DataView(out.buffer).setBigUint64(
    body.length + 2,
    crc64(out.subarray(0, body.length + 2)),
    true,
  );
  return out;
}

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
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), fc.boolean(), (value, compression) => {
      assert.deepEqual(restoreString(dumpString(value, compression), MAX), value);
    }),
  );
  for (const text of ["", "0", "-1", "127", "-32768", "2147483647", "-2147483649", "007"]) {
    assert.deepEqual(restoreString(dumpString(enc.encode(text), true), MAX), enc.encode(text));
  }
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
  refused(withFooter(new Uint8Array([0, 1, 120]), 11), "footer");
  refused(withFooter(new Uint8Array([0, 1, 120]), 10).subarray(0, 9), "footer");
  refused(withFooter(new Uint8Array([]), 10), "format");
  // A list (type 1) in a valid envelope: gocache holds strings only.
  refused(withFooter(new Uint8Array([1, 1, 1, 120])), "format");
  // The value's length runs past the footer.
  refused(withFooter(new Uint8Array([0, 20, 120])), "format");
  // An LZF body that does not decompress to its stated length.
  refused(withFooter(new Uint8Array([0, 0xc3, 2, 30, 0, 120])), "format");
  assert.throws(
    () => restoreString(dumpString(new Uint8Array(5000), false), 4999),
    DumpPayloadError,
  );
  // Versions up to ours are accepted, as Redis accepts older payloads.
  assert.deepEqual(restoreString(withFooter(new Uint8Array([0, 1, 120]), 9), MAX), enc.encode("x"));
});

Deno.test("as in Redis, bytes after the value are ignored and a value may run into the footer", () => {
  const x = enc.encode("x");
  assert.deepEqual(restoreString(withFooter(new Uint8Array([0, 1, 120, 65, 66])), MAX), x);
  assert.deepEqual(
    restoreString(withFooter(new Uint8Array([0, 1, 120, 0, 1, 107, 1, 118])), MAX),
    x,
  );
  const intoFooter = withFooter(new Uint8Array([0, 12, 120, 121]));
  const value = restoreString(intoFooter, MAX);
  assert.equal(value.length, 12);
  assert.deepEqual(value, intoFooter.subarray(2, 14));
});

Deno.test("random payloads, with or without a valid footer, end in a DumpPayloadError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (body, framed) => {
      const payload = framed ? withFooter(body) : body;
      try {
        restoreString(payload, MAX);
      } catch (e) {
        assert.ok(e instanceof DumpPayloadError, `a DumpPayloadError, got ${String(e)}`);
      }
    }),
    { numRuns: 2000 },
  );
});
