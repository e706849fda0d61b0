import assert from "node:assert/strict";
import fc from "fast-check";
import { Keyspace } from "../../../src/store/keyspace.ts";
import { Snapshot, type SnapshotEntry } from "../../../src/store/snapshot.ts";
import { toBinaryString } from "../../../src/util/bytes.ts";

const T0 = 1_700_000_000_000;

type Dataset = Map<string, { value: string; expireAt: number }>;

function contents(ks: Keyspace, db: number): Dataset {
  const out: Dataset = new Map();
  const d = ks.db(db);
  for (const key of d.keys()) {
    out.set(`${db}/${key}`, { value: d.get(key, T0) as string, expireAt: d.expireAt(key) ?? -1 });
  }
  return out;
}

function collect(entries: SnapshotEntry[]): Dataset {
  const out: Dataset = new Map();
  for (const e of entries) {
    const name = `${e.db}/${toBinaryString(e.key)}`;
    assert.ok(!out.has(name), `${name} written once`);
    out.set(name, { value: toBinaryString(e.value), expireAt: e.expireAt });
  }
  return out;
}

const op = fc.oneof(
  fc.record({ kind: fc.constant("set"), key: fc.nat(40), value: fc.string({ maxLength: 30 }) }),
  fc.record({ kind: fc.constant("del"), key: fc.nat(40) }),
  fc.record({ kind: fc.constant("expire"), key: fc.nat(40), at: fc.integer({ min: 1, max: 9 }) }),
  fc.record({ kind: fc.constant("persist"), key: fc.nat(40) }),
  fc.record({ kind: fc.constant("step"), budget: fc.integer({ min: 1, max: 7 }) }),
);

Deno.test("a snapshot yields the dataset of its start whatever writes interleave", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(1), fc.nat(40), fc.string({ maxLength: 30 })), { maxLength: 60 }),
      fc.array(op, { maxLength: 120 }),
      fc.nat(20),
      (initial, ops, deletedFirst) => {
        const ks = new Keyspace(2);
        for (const [db, k, v] of initial) ks.db(db).set(`k${k}`, v, false, T0);
        // Deleting some keys first leaves free ids that keys created during the walk reuse.
        for (const [db, k] of initial.slice(0, deletedFirst)) ks.db(db).delete(`k${k}`);
        ks.db(1).setExpireAt("k3", T0 + 50_000);
        const before = new Map([...contents(ks, 0), ...contents(ks, 1)]);
        const snapshot = new Snapshot(ks, T0);
        const entries: SnapshotEntry[] = [];
        const copy = (e: SnapshotEntry) =>
          entries.push({ ...e, key: e.key.slice(), value: e.value.slice() });
        let done = false;
        for (const o of ops) {
          const db = ks.db(entries.length % 2);
          if (o.kind === "set") db.set(`k${o.key}`, o.value, false, T0);
          else if (o.kind === "del") db.delete(`k${o.key}`);
          else if (o.kind === "expire" && db.has(`k${o.key}`, T0)) {
            db.setExpireAt(`k${o.key}`, T0 + o.at * 1000);
          } else if (o.kind === "persist") db.persist(`k${o.key}`);
          else if (o.kind === "step" && !done) done = !snapshot.step(o.budget, copy);
        }
        while (!done) done = !snapshot.step(5, copy);
        assert.deepEqual(collect(entries), before);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("keys already expired when the snapshot began are left out", () => {
  const ks = new Keyspace(1);
  const db = ks.db(0);
  db.set("live", "1", false, T0);
  db.set("dead", "2", false, T0);
  db.setExpireAt("dead", T0 - 1);
  db.set("later", "3", false, T0);
  db.setExpireAt("later", T0 + 10);
  const entries: SnapshotEntry[] = [];
  const snapshot = new Snapshot(ks, T0);
  while (snapshot.step(10, (e) => entries.push({ ...e, key: e.key.slice() })));
  assert.deepEqual(entries.map((e) => toBinaryString(e.key)).sort(), ["later", "live"]);
});

Deno.test("FLUSHALL or SWAPDB during a snapshot aborts it and releases the databases", () => {
  for (const reset of [(ks: Keyspace) => ks.flushAll(), (ks: Keyspace) => ks.swap(0, 1)]) {
    const ks = new Keyspace(2);
    for (let i = 0; i < 20; i++) ks.db(0).set(`k${i}`, "v", false, T0);
    const snapshot = new Snapshot(ks, T0);
    assert.equal(snapshot.step(3, () => {}), true);
    reset(ks);
    assert.ok(snapshot.aborted);
    assert.equal(snapshot.step(100, () => assert.fail("nothing after an abort")), false);
    ks.db(0).set("after", "v", false, T0);
    assert.equal(snapshot.retainedKeys, 0, "no guard keeps copying after the abort");
  }
});

Deno.test("only keys changed before the walk reached them are copied", () => {
  const ks = new Keyspace(1);
  const db = ks.db(0);
  for (let i = 0; i < 100; i++) db.set(`k${i}`, "v", false, T0);
  const snapshot = new Snapshot(ks, T0);
  snapshot.step(50, () => {});
  for (let i = 0; i < 100; i++) db.set(`k${i}`, "w", false, T0);
  assert.ok(snapshot.retainedKeys <= 50, `${snapshot.retainedKeys} copies`);
  snapshot.close();
});

Deno.test("overlapping snapshots (a BGSAVE and a follower's copy) each yield the dataset of their start", () => {
  const ks = new Keyspace(1);
  const db = ks.db(0);
  for (let i = 0; i < 50; i++) db.set(`k${i}`, `first-${i}`, false, T0);
  const atFirst = contents(ks, 0);
  const first = new Snapshot(ks, T0);
  const firstEntries: SnapshotEntry[] = [];
  const keep = (into: SnapshotEntry[]) => (e: SnapshotEntry) =>
    into.push({ ...e, key: e.key.slice(), value: e.value.slice() });
  first.step(10, keep(firstEntries));
  for (let i = 0; i < 50; i += 2) db.set(`k${i}`, `second-${i}`, false, T0);
  const atSecond = contents(ks, 0);
  const second = new Snapshot(ks, T0);
  const secondEntries: SnapshotEntry[] = [];
  second.step(5, keep(secondEntries));
  for (let i = 0; i < 50; i++) db.set(`k${i}`, `third-${i}`, false, T0);
  for (let i = 0; i < 10; i++) db.delete(`k${i}`);
  while (second.step(3, keep(secondEntries)));
  second.close();
  for (let i = 10; i < 20; i++) db.set(`k${i}`, `fourth-${i}`, false, T0);
  while (first.step(3, keep(firstEntries)));
  first.close();
  assert.deepEqual(collect(firstEntries), atFirst);
  assert.deepEqual(collect(secondEntries), atSecond);
});
