/**
 * Collections in DUMP payloads and RDB records (src/persistence/rdb/_collections.ts and the
 * writer's plain encodings): round trips of every type, Redis's compact encodings read from
 * payloads redis-server 7.0 wrote, and refusal of truncated, corrupted, duplicated or random
 * bodies with a DumpPayloadError, never another error and never a partial value.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { DumpPayloadError, dumpValue, restoreValue } from "../../../../src/persistence/rdb/dump.ts";
import { crc64 } from "../../../../src/persistence/rdb/crc64.ts";
import type { CollectionValue } from "../../../../src/store/collection.ts";
import { HashValue } from "../../../../src/store/hash_value.ts";
import { ListValue } from "../../../../src/store/list_value.ts";
import { SetValue } from "../../../../src/store/set_value.ts";
import { SortedSetValue } from "../../../../src/store/sorted_set_value.ts";

const MAX = 1 << 20;

/** A payload with `body` and a correct footer. */
function withFooter(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 10);
  out.set(body);
  out[body.length] = 10;
  new DataView(out.buffer).setBigUint64(
    body.length + 2,
    crc64(out.subarray(0, body.length + 2)),
    true,
  );
  return out;
}

function hex(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g)!, (h) => parseInt(h, 16));
}

/** A collection's contents in a comparable form. */
function contents(value: CollectionValue): unknown {
  switch (value.type) {
    case "hash":
      return [...(value as HashValue).entries()].sort();
    case "list":
      return [...(value as ListValue).items()];
    case "set":
      return [...(value as SetValue).members()].sort();
    case "zset":
      return [...(value as SortedSetValue).entries()];
  }
}

function sample(): CollectionValue[] {
  const members = ["", "0", "-1", "127", "9223372036854775807", "x".repeat(70), "\x00\xff\r\n"];
  const hash = new HashValue();
  const list = new ListValue();
  const set = new SetValue();
  const ints = new SetValue();
  const zset = new SortedSetValue();
  members.forEach((m, i) => {
    hash.set(`f${i}`, m);
    list.pushRight(m);
    set.add(m);
    ints.add(String(i * 1000 - 3));
    zset.add(m, [0, -1.5, Infinity, -Infinity, 2 ** 60, 1e-300, 3][i]);
  });
  return [hash, list, set, ints, zset];
}

Deno.test("collections round trip through DUMP payloads, compressed or not", () => {
  for (const value of sample()) {
    for (const compression of [true, false]) {
      const back = restoreValue(dumpValue(value, compression), MAX);
      assert.ok(!(back instanceof Uint8Array));
      assert.equal(back.type, value.type);
      assert.deepEqual(contents(back), contents(value));
    }
  }
});

Deno.test("payloads redis-server 7.0 wrote (listpack, intset, quicklist) restore", () => {
  // DUMP of HSET h a 1 b 2 / SADD s 1 2 3 / RPUSH l a b / ZADD z 1 a 2.5 b on redis 7.0.15,
  // rdbcompression no (the footer included: it is checked as it came).
  const cases: [string, unknown][] = [
    ["101111000000040081610201018162020201ff0a003e40636c8f5d769a", [["a", "1"], ["b", "2"]]],
    ["0b0e02000000030000000100020003000a00a5025ce26d6e4d1b", ["1", "2", "3"]],
    ["1201020d0d0000000200816102816202ff0a0068eb0a891341bbb1", ["a", "b"]],
    ["1114140000000400816102010181620283322e3504ff0a00d44c6ea4f644d9d7", [["a", 1], ["b", 2.5]]],
  ];
  for (const [body, want] of cases) {
    const value = restoreValue(hex(body), MAX);
    assert.ok(!(value instanceof Uint8Array));
    assert.deepEqual(contents(value), want, body);
  }
});

Deno.test("duplicates, odd pair counts and bad scores are refused", () => {
  const bad = [
    // A plain hash of two pairs with the same field.
    [4, 2, 1, 0x61, 1, 0x31, 1, 0x61, 1, 0x32],
    // A plain set with a repeated member.
    [2, 2, 1, 0x61, 1, 0x61],
    // A plain zset (binary scores) holding NaN.
    [5, 1, 1, 0x61, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f],
    // An old-style zset whose score text is not a number.
    [3, 1, 1, 0x61, 3, 0x61, 0x62, 0x63],
    // A quicklist-2 node of an unknown container type.
    [18, 1, 7, 1, 0x61],
  ];
  for (const body of bad) {
    assert.throws(
      () => restoreValue(withFooter(Uint8Array.from(body)), MAX),
      (e: unknown) => e instanceof DumpPayloadError && e.kind === "format",
      JSON.stringify(body),
    );
  }
});

Deno.test("a payload whose first byte is an opcode, not a value type, is refused", () => {
  for (const first of [0xf5, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfe, 0xff, 6, 7, 15, 19, 21]) {
    assert.throws(
      () => restoreValue(withFooter(Uint8Array.of(first, 0, 0, 0)), MAX),
      (e: unknown) => e instanceof DumpPayloadError && e.kind === "format",
      String(first),
    );
  }
});

Deno.test("truncated and corrupted collection payloads are refused with a DumpPayloadError", () => {
  const payloads = sample().map((v) => dumpValue(v, false));
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: payloads.length - 1 }),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.boolean(),
      (which, at, byte, truncate) => {
        const payload = payloads[which];
        const body = payload.subarray(0, payload.length - 10);
        const changed = truncate ? body.slice(0, at % body.length) : body.slice();
        if (!truncate) changed[at % body.length] = byte;
        try {
          const value = restoreValue(withFooter(changed), MAX);
          assert.ok(value instanceof Uint8Array || value.size > 0, "never an empty collection");
        } catch (e) {
          assert.ok(e instanceof DumpPayloadError, `a DumpPayloadError, got ${String(e)}`);
        }
      },
    ),
    { numRuns: 3000, seed: 20261207 },
  );
});

Deno.test("random collection bodies never throw anything but a DumpPayloadError", () => {
  const types = [1, 2, 3, 4, 5, 9, 10, 11, 12, 13, 14, 16, 17, 18];
  fc.assert(
    fc.property(
      fc.constantFrom(...types),
      fc.uint8Array({ maxLength: 200 }),
      (type, rest) => {
        try {
          restoreValue(withFooter(Uint8Array.of(type, ...rest)), MAX);
        } catch (e) {
          assert.ok(e instanceof DumpPayloadError, `a DumpPayloadError, got ${String(e)}`);
        }
      },
    ),
    { numRuns: 5000, seed: 7 },
  );
});
