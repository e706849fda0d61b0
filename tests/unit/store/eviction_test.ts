import assert from "node:assert/strict";
import { Keyspace } from "../../../src/store/keyspace.ts";
import { blockBytes, ENTRY_OVERHEAD, entryBytes, TTL_OVERHEAD } from "../../../src/store/memory.ts";

const T0 = 1_700_000_000_000;

function keyspace(policy: string, limits: { maxmemory?: number; maxkeys?: number } = {}) {
  const ks = new Keyspace(2);
  ks.configureEviction({
    maxmemory: limits.maxmemory ?? 0,
    maxkeys: limits.maxkeys ?? 0,
    policy,
    samples: 5,
  });
  return ks;
}

Deno.test("the dataset estimate follows sets, overwrites, TTLs and deletes back to zero", () => {
  const ks = keyspace("noeviction");
  const db = ks.db(0);
  db.set("key", "v".repeat(10));
  assert.equal(db.bytes, entryBytes("key", "v".repeat(10)));
  db.set("key", "v".repeat(100));
  assert.equal(db.bytes, entryBytes("key", "v".repeat(100)));
  db.setExpireAt("key", T0);
  db.setExpireAt("key", T0 + 1);
  assert.equal(db.bytes, entryBytes("key", "v".repeat(100)) + TTL_OVERHEAD);
  db.set("key", "w", true);
  assert.equal(db.bytes, entryBytes("key", "w") + TTL_OVERHEAD);
  db.set("key", "w");
  assert.equal(db.bytes, entryBytes("key", "w"), "set without KEEPTTL drops the TTL's bytes");
  db.setExpireAt("key", T0);
  assert.equal(db.get("key", T0), undefined, "lazy expiry");
  assert.equal(db.bytes, 0);
  for (let i = 0; i < 1000; i++) db.set(`k${i}`, "x".repeat(i));
  db.clear();
  assert.equal(ks.datasetBytes, 0);
  assert.equal(entryBytes("key", "v"), blockBytes(3, 1) + ENTRY_OVERHEAD);
  assert.equal(blockBytes(3, 1), 32, "24-byte header, 4 bytes, rounded up to 8");
});

Deno.test("noeviction reports the exceeded limit instead of deleting keys", () => {
  const ks = keyspace("noeviction", { maxkeys: 3 });
  for (let i = 0; i < 4; i++) ks.db(0).set(`k${i}`, "v");
  assert.equal(ks.enforceLimits(T0), "maxkeys");
  assert.equal(ks.totalKeys, 4);
  const mem = keyspace("noeviction", { maxmemory: 1 });
  mem.baselineBytes = 10;
  assert.equal(mem.enforceLimits(T0), "maxmemory", "the baseline alone can exceed it");
});

Deno.test("allkeys-lru evicts the least recently used keys exactly", () => {
  const ks = keyspace("allkeys-lru", { maxkeys: 3 });
  const db = ks.db(0);
  for (const k of ["a", "b", "c"]) db.set(k, "v");
  db.read("a", T0);
  db.set("d", "v");
  assert.equal(ks.enforceLimits(T0), null);
  assert.deepEqual([...db.keys()].sort(), ["a", "c", "d"], "b was the least recently used");
  db.read("c", T0, true);
  db.set("e", "v");
  ks.enforceLimits(T0);
  assert.ok(!db.has("c", T0), "a NO-TOUCH read does not refresh c");
  assert.equal(ks.counters.evictedKeys, 2);
});

Deno.test("volatile policies evict only keys with a TTL and report when none is left", () => {
  for (const policy of ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"]) {
    const ks = keyspace(policy, { maxkeys: 2 });
    const db = ks.db(0);
    db.set("persistent", "v");
    db.set("soon", "v");
    db.setExpireAt("soon", T0 + 1_000);
    db.set("later", "v");
    db.setExpireAt("later", T0 + 9_000);
    assert.equal(ks.enforceLimits(T0), null, policy);
    assert.ok(db.has("persistent", T0), policy);
    if (policy === "volatile-ttl") assert.ok(db.has("later", T0), "the nearest expiry goes first");
    db.set("another", "v");
    db.set("yet-another", "v");
    assert.notEqual(ks.enforceLimits(T0), null, `${policy}: only persistent keys are left`);
    assert.equal(db.volatileCount, 0, policy);
  }
});

Deno.test("allkeys-random and allkeys-lfu keep the key count at maxkeys", () => {
  for (const policy of ["allkeys-random", "allkeys-lfu"]) {
    const ks = keyspace(policy, { maxkeys: 100 });
    for (let i = 0; i < 1000; i++) {
      ks.db(i % 2).set(`k${i}`, "v", false, T0);
      assert.equal(ks.enforceLimits(T0), null);
      assert.ok(ks.totalKeys <= 100, policy);
    }
  }
});

Deno.test("allkeys-lfu keeps frequently read keys over keys read once", () => {
  const ks = keyspace("allkeys-lfu", { maxkeys: 50 });
  const db = ks.db(0);
  for (let i = 0; i < 10; i++) db.set(`hot${i}`, "v", false, T0);
  for (let round = 0; round < 200; round++) {
    for (let i = 0; i < 10; i++) db.read(`hot${i}`, T0);
  }
  for (let i = 0; i < 500; i++) {
    db.set(`cold${i}`, "v", false, T0);
    ks.enforceLimits(T0);
  }
  const hotLeft = [...db.keys()].filter((k) => k.startsWith("hot")).length;
  assert.ok(hotLeft >= 9, `${hotLeft} of 10 hot keys survived`);
  assert.ok((db.frequency("hot0", T0) ?? 0) > 5);
});

Deno.test("a maxmemory limit is held by evicting, with the estimate at or under the limit", () => {
  const ks = keyspace("allkeys-lru");
  const limit = ks.baselineBytes + 1_000_000;
  ks.configureEviction({ maxmemory: limit, maxkeys: 0, policy: "allkeys-lru", samples: 5 });
  for (let i = 0; i < 50_000; i++) {
    ks.db(0).set(`key:${i}`, "x".repeat(32));
    assert.equal(ks.enforceLimits(T0), null);
  }
  assert.ok(ks.usedMemory <= limit);
  assert.ok(ks.usedMemory > limit * 0.95, "the limit is used, not undershot");
});
