import assert from "node:assert/strict";
import fc from "fast-check";
import { CLUSTER_SLOTS, keySlot, keySlotOfBinary } from "../../../src/cluster/key_slot.ts";
import { crc16, crc16Binary } from "../../../src/util/crc16.ts";
import { toBinaryString } from "../../../src/util/bytes.ts";
import { startRedisClusterNode } from "../../support/cluster.ts";
import { RespConn } from "../../support/resp_conn.ts";
import { bytes } from "../../support/bytes.ts";

const encoder = new TextEncoder();

/** Keys whose hash tag rules are easy to get wrong, as byte strings (code points 0-255). */
const FIXED_KEYS = [
  "",
  "a",
  "foo",
  "bar",
  "hello",
  "123456789",
  "{",
  "}",
  "{}",
  "}{",
  "{{}}",
  "{}{}",
  "{a}",
  "{a",
  "a}",
  "a{",
  "}a{b}",
  "{}a",
  "a{}",
  "a{}b",
  "{}{a}",
  "{a}{b}",
  "{{a}}",
  "{{a}",
  "{a}}",
  "a{{}}b",
  "{user1000}.following",
  "{user1000}.followers",
  "foo{}{bar}",
  "foo{{bar}}zap",
  "foo{bar}{zap}",
  "{ }",
  "{\x00}",
  "\x00",
  "\x00{\x00}\x00",
  "{\x00",
  "\x00\x00\x00",
  "\r\n",
  "{\r\n}",
  "\xff\xfe{\x80\x81}",
  "\xff",
  "{\xff}",
  "x".repeat(1000),
  "{tag}" + "y".repeat(5000),
];

/** A random binary key drawn mostly from bytes that matter to the rule: braces, NUL, a, 0xff. */
const binaryKey = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(0x7b, 0x7d) },
    { weight: 1, arbitrary: fc.constantFrom(0x00, 0x61, 0x62, 0xff, 0x0d, 0x0a) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 255 }) },
  ),
  { maxLength: 24 },
).map((values) => new Uint8Array(values));

/** Asks redis-server's CLUSTER KEYSLOT for every key, pipelined on one connection. */
async function redisSlots(port: number, keys: readonly Uint8Array[]): Promise<number[]> {
  await using conn = await RespConn.connect(port);
  const slots: number[] = [];
  const batch = 500;
  for (let at = 0; at < keys.length; at += batch) {
    const part = keys.slice(at, at + batch);
    for (const key of part) await conn.send("CLUSTER", "KEYSLOT", key);
    for (let i = 0; i < part.length; i++) {
      const reply = await conn.read();
      assert.equal(typeof reply, "number", `CLUSTER KEYSLOT replied ${String(reply)}`);
      slots.push(reply as number);
    }
  }
  return slots;
}

Deno.test("CRC16 is XMODEM: 0x31C3 for '123456789', 0 for nothing, over bytes and binary strings", () => {
  assert.equal(crc16(encoder.encode("123456789")), 0x31c3);
  assert.equal(crc16Binary("123456789"), 0x31c3);
  assert.equal(crc16(new Uint8Array(0)), 0);
  assert.equal(crc16Binary(""), 0);
  // A sub-range is hashed on its own.
  assert.equal(crc16(encoder.encode("xx123456789yy"), 2, 11), 0x31c3);
  assert.equal(crc16Binary("xx123456789yy", 2, 11), 0x31c3);
});

Deno.test("keySlot gives Redis Cluster's documented slots", () => {
  const slot = (key: string) => keySlot(bytes(key));
  assert.equal(slot("123456789"), 0x31c3 & 0x3fff);
  assert.equal(slot("foo"), 12182);
  assert.equal(slot("bar"), 5061);
  assert.equal(slot("hello"), 866);
  assert.equal(slot(""), 0);
  // A tag hashes only what is between the first { and the next }.
  assert.equal(slot("{user1000}.following"), slot("user1000"));
  assert.equal(slot("{user1000}.followers"), slot("user1000"));
  assert.equal(slot("foo{{bar}}zap"), slot("{bar"));
  assert.equal(slot("foo{bar}{zap}"), slot("bar"));
  // An empty tag means no tag: the whole key is hashed.
  assert.equal(slot("foo{}{bar}"), crc16(bytes("foo{}{bar}")) & 0x3fff);
  assert.equal(slot("{}"), crc16(bytes("{}")) & 0x3fff);
});

Deno.test("keySlot and keySlotOfBinary agree and stay below 16384 for any key", () => {
  for (const key of FIXED_KEYS) {
    assert.equal(keySlotOfBinary(key), keySlot(bytes(key)), JSON.stringify(key));
  }
  fc.assert(
    fc.property(binaryKey, (key) => {
      const slot = keySlot(key);
      assert.ok(slot >= 0 && slot < CLUSTER_SLOTS);
      assert.equal(keySlotOfBinary(toBinaryString(key)), slot);
    }),
    { numRuns: 5000 },
  );
});

Deno.test("keySlot and keySlotOfBinary match redis-server 7.0's CLUSTER KEYSLOT", async () => {
  await using redis = await startRedisClusterNode();
  const seed = Date.now() ^ (Math.random() * 0x7fffffff);
  const random = fc.sample(binaryKey, { numRuns: 3000, seed });
  const keys = [...FIXED_KEYS.map(bytes), ...random];
  const expected = await redisSlots(redis.port, keys);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const shown = `key ${JSON.stringify(toBinaryString(key))} (fast-check seed ${seed})`;
    assert.equal(keySlot(key), expected[i], `keySlot of ${shown}`);
    assert.equal(keySlotOfBinary(toBinaryString(key)), expected[i], `keySlotOfBinary of ${shown}`);
  }
});
