import assert from "node:assert/strict";
import fc from "fast-check";
import { Keyspace } from "../../../src/store/keyspace.ts";
import type { Database } from "../../../src/store/database.ts";
import { KeyTable } from "../../../src/store/key_table.ts";
import { ENTRY_OVERHEAD, SLOT_INDEX_OVERHEAD } from "../../../src/store/memory.ts";
import { CLUSTER_SLOTS, keySlotOfBinary } from "../../../src/cluster/key_slot.ts";
import { fromBinaryString } from "../../../src/util/bytes.ts";

const T0 = 1_700_000_000_000;

/** A keyspace whose database 0 keeps the index, as a cluster node's does. */
function clusterKeyspace(): { ks: Keyspace; db: Database } {
  const ks = new Keyspace(1);
  ks.db(0).indexSlots();
  return { ks, db: ks.db(0) };
}

/** Every key of `db` by slot, from a full scan of the table. */
function scanBySlot(db: Database): Map<number, Set<string>> {
  const bySlot = new Map<number, Set<string>>();
  for (const key of db.keys()) {
    const slot = keySlotOfBinary(key);
    let keys = bySlot.get(slot);
    if (keys === undefined) bySlot.set(slot, keys = new Set());
    keys.add(key);
  }
  return bySlot;
}

/** Asserts that the index says what a full scan says, for every slot. */
function assertIndexMatchesScan(db: Database): void {
  const scanned = scanBySlot(db);
  let total = 0;
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    const count = db.countKeysInSlot(slot);
    total += count;
    const expected = scanned.get(slot);
    assert.equal(count, expected?.size ?? 0, `COUNTKEYSINSLOT ${slot}`);
    if (expected === undefined) continue;
    const listed = db.keysInSlot(slot, Infinity);
    assert.equal(listed.length, count, `GETKEYSINSLOT ${slot} lists each key once`);
    assert.deepEqual(new Set(listed), expected, `GETKEYSINSLOT ${slot}`);
  }
  assert.equal(total, db.size);
}

type Op =
  | { kind: "set"; key: string; value: string; viaBytes: boolean }
  | { kind: "del"; key: string }
  | { kind: "expire"; key: string; inMs: number }
  | { kind: "get"; key: string }
  | { kind: "advance"; ms: number }
  | { kind: "activeExpire" }
  | { kind: "evict"; keep: number }
  | { kind: "rename"; key: string; to: string }
  | { kind: "fill"; tag: string; count: number }
  | { kind: "flush" };

/** Keys that share slots through hash tags, plain keys and binary ones. */
const keyArb: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.constantFrom("{a}", "{b}", "{}", "{", "x{a}"), fc.constantFrom("", "1", "2", "\xff"))
    .map((
      [tag, rest],
    ) => tag + rest),
  fc.constantFrom("a", "b", "c", "\x00", "\r\n", "\x80\xff", "k".repeat(40)),
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("set" as const),
      key: keyArb,
      value: fc.constantFrom("", "v", "x".repeat(100)),
      viaBytes: fc.boolean(),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("del" as const), key: keyArb }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("expire" as const),
      key: keyArb,
      inMs: fc.integer({ min: -5, max: 20 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("get" as const), key: keyArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      ms: fc.integer({ min: 1, max: 15 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: "activeExpire" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("evict" as const),
      keep: fc.integer({ min: 0, max: 8 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("rename" as const), key: keyArb, to: keyArb }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("fill" as const),
      tag: fc.constantFrom("{a}", "{c}", "n"),
      count: fc.integer({ min: 1, max: 60 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "flush" as const }) },
);

/**
 * The order Redis 7.0 keeps: per slot, a key goes first when it is added and keeps its place
 * while it lives, however often it is written.
 */
class OrderModel {
  readonly #bySlot = new Map<number, string[]>();

  added(key: string): void {
    const slot = keySlotOfBinary(key);
    const keys = this.#bySlot.get(slot) ?? [];
    assert.ok(!keys.includes(key));
    keys.unshift(key);
    this.#bySlot.set(slot, keys);
  }

  /** Forgets the keys the database no longer holds (removed by whatever path). */
  sync(db: Database, removable: (key: string) => boolean): void {
    for (const [slot, keys] of this.#bySlot) {
      const kept = keys.filter((key) => {
        if (db.table.findString(key) >= 0) return true;
        assert.ok(removable(key), `${JSON.stringify(key)} was removed`);
        return false;
      });
      this.#bySlot.set(slot, kept);
    }
  }

  clear(): void {
    this.#bySlot.clear();
  }

  assertOrder(db: Database): void {
    for (const [slot, keys] of this.#bySlot) {
      assert.deepEqual(db.keysInSlot(slot, Infinity), keys, `order of slot ${slot}`);
      if (keys.length > 1) assert.deepEqual(db.keysInSlot(slot, 1), keys.slice(0, 1));
    }
  }
}

Deno.test("the slot index always says what a full scan says, newest key first", () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 120, size: "large" }), (ops) => {
      const { ks, db } = clusterKeyspace();
      const order = new OrderModel();
      let now = T0;
      const clock = () => now;
      const set = (key: string, value: string, viaBytes: boolean) => {
        const isNew = db.table.findString(key) < 0;
        if (viaBytes) {
          const k = fromBinaryString(key);
          const v = fromBinaryString(value);
          db.setBytes(k, 0, k.length, v, 0, v.length, false, now);
        } else db.set(key, value, false, now);
        if (isNew) order.added(key);
      };
      for (const op of ops) {
        // Only keys past their expiry time may vanish without a DEL, FLUSHALL or eviction.
        const expiry = new Map<string, number>();
        for (const key of db.keys()) expiry.set(key, db.expireAt(key) ?? Infinity);
        let removable = (key: string) => (expiry.get(key) ?? Infinity) <= now;
        switch (op.kind) {
          case "set":
            set(op.key, op.value, op.viaBytes);
            break;
          case "del":
            removable = (key) => key === op.key;
            db.delete(op.key);
            break;
          case "expire":
            if (db.table.findString(op.key) >= 0) db.setExpireAt(op.key, now + op.inMs);
            break;
          case "get":
            db.get(op.key, now);
            break;
          case "advance":
            now += op.ms;
            break;
          case "activeExpire":
            ks.activeExpireCycle(now, 10, clock);
            break;
          case "evict":
            removable = () => true;
            ks.configureEviction({
              maxmemory: 0,
              maxkeys: op.keep,
              policy: op.keep % 2 === 0 ? "allkeys-lru" : "allkeys-random",
              samples: 5,
            });
            ks.enforceLimits(now);
            ks.configureEviction({ maxmemory: 0, maxkeys: 0, policy: "noeviction", samples: 5 });
            break;
          case "rename": {
            // As RENAME does: the destination is deleted, then written anew, then the source goes.
            const value = db.get(op.key, now);
            if (value === undefined || op.key === op.to) break;
            removable = (key) => key === op.key || key === op.to;
            db.delete(op.to);
            order.sync(db, removable);
            set(op.to, value as string, false);
            db.delete(op.key);
            break;
          }
          case "fill":
            for (let i = 0; i < op.count; i++) set(`${op.tag}${ops.length}:${i}`, "f", true);
            break;
          case "flush":
            ks.flushAll();
            order.clear();
            break;
        }
        order.sync(db, removable);
        assertIndexMatchesScan(db);
        order.assertOrder(db);
      }
    }),
    { numRuns: 100 },
  );
});

Deno.test("GETKEYSINSLOT lists newest first; an overwrite keeps a key's place", () => {
  const { db } = clusterKeyspace();
  const slot = keySlotOfBinary("{t}");
  for (const key of ["{t}1", "{t}2", "{t}3"]) db.set(key, "v", false, T0);
  assert.deepEqual(db.keysInSlot(slot, 10), ["{t}3", "{t}2", "{t}1"]);
  // A value of another size moves the key's block in the arena; its id and place stay.
  db.set("{t}1", "w".repeat(500), false, T0);
  assert.deepEqual(db.keysInSlot(slot, 10), ["{t}3", "{t}2", "{t}1"]);
  assert.deepEqual(db.keysInSlot(slot, 2), ["{t}3", "{t}2"]);
  assert.deepEqual(db.keysInSlot(slot, 0), []);
  db.delete("{t}2");
  db.set("{t}2", "v", false, T0);
  assert.deepEqual(db.keysInSlot(slot, 10), ["{t}2", "{t}3", "{t}1"]);
  assert.equal(db.countKeysInSlot(slot), 3);
  assert.equal(db.countKeysInSlot((slot + 1) % CLUSTER_SLOTS), 0);
});

Deno.test("an index started over existing keys counts them all, and follows growth", () => {
  const ks = new Keyspace(1);
  const db = ks.db(0);
  for (let i = 0; i < 5000; i++) db.set(`key:${i}`, "v", false, T0);
  assert.equal(db.table.slotIndex, null, "no index until asked for");
  assert.throws(() => db.countKeysInSlot(0), /cluster mode only/);
  db.indexSlots();
  assert.equal(db.countKeysInSlot(keySlotOfBinary("key:0")) > 0, true);
  assert.notEqual(db.table.slotIndex, null);
  for (let i = 5000; i < 40_000; i++) db.set(`key:${i}`, "v", false, T0);
  for (let i = 0; i < 40_000; i += 3) db.delete(`key:${i}`);
  assertIndexMatchesScan(db);
});

Deno.test("a table without the index pays nothing for it; with it, 8 bytes per key", () => {
  const plain = new KeyTable(1);
  const indexed = new KeyTable(1);
  indexed.indexSlots();
  for (const table of [plain, indexed]) table.insertStrings("key", "value");
  assert.equal(plain.slotIndex, null);
  assert.equal(indexed.usedBytes - plain.usedBytes, SLOT_INDEX_OVERHEAD);
  assert.equal(plain.usedBytes - new KeyTable(1).usedBytes > ENTRY_OVERHEAD, true);
  assert.equal(indexed.reservedBytes > plain.reservedBytes, true);
  indexed.clear();
  assert.equal(indexed.slotIndex?.count(keySlotOfBinary("key")), 0);
});
