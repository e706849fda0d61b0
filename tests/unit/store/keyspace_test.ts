import assert from "node:assert/strict";
import fc from "fast-check";
import { EXPIRE_SAMPLE, Keyspace } from "../../../src/store/keyspace.ts";

const T0 = 1_000_000;

Deno.test("a key past its expiry time is never returned and is counted as expired", () => {
  const ks = new Keyspace(16);
  const db = ks.db(0);
  db.set("k", "v");
  db.setExpireAt("k", T0 + 100);
  assert.equal(db.get("k", T0 + 99), "v");
  assert.equal(db.get("k", T0 + 100), undefined);
  assert.equal(db.size, 0, "lazy expiry removed it");
  assert.equal(ks.counters.expiredKeys, 1);
});

Deno.test("read counts hits and misses; get and has do not", () => {
  const ks = new Keyspace(1);
  const db = ks.db(0);
  db.set("a", "1");
  db.read("a", T0);
  db.read("b", T0);
  db.get("a", T0);
  db.has("b", T0);
  assert.deepEqual(ks.counters, { hits: 1, misses: 1, expiredKeys: 0, evictedKeys: 0, dirty: 1 });
  ks.resetCounters();
  assert.deepEqual(
    ks.counters,
    { hits: 0, misses: 0, expiredKeys: 0, evictedKeys: 0, dirty: 1 },
    "CONFIG RESETSTAT leaves the count of changes alone, as Redis's dirty counter",
  );
});

Deno.test("set removes the TTL unless asked to keep it", () => {
  const db = new Keyspace(1).db(0);
  db.set("k", "v");
  db.setExpireAt("k", T0 + 1000);
  db.set("k", "w", true);
  assert.equal(db.expireAt("k"), T0 + 1000);
  db.set("k", "x");
  assert.equal(db.expireAt("k"), undefined);
  assert.equal(db.volatileCount, 0);
});

/**
 * A fake clock that moves 1 ms each time it is read: the cycle reads it once per sample, so
 * every sample costs time and a budget of N ms allows about N samples.
 */
function tickingClock(): { read: () => number; readonly now: number } {
  let now = 0;
  return {
    read: () => now++,
    get now() {
      return now;
    },
  };
}

Deno.test("active expiry removes expired keys nobody reads, within its time budget", () => {
  const ks = new Keyspace(2);
  for (let i = 0; i < 10_000; i++) {
    ks.db(i % 2).set(`k${i}`, "v");
    ks.db(i % 2).setExpireAt(`k${i}`, i < 9_000 ? T0 : T0 + 60_000);
  }
  const budgetMs = 10;
  const clock = tickingClock();
  let rounds = 0;
  while (ks.db(0).size + ks.db(1).size > 1_000 && rounds < 2_000) {
    const start = clock.now;
    ks.activeExpireCycle(T0 + 1, budgetMs, clock.read);
    // The budget, plus the reads that notice the deadline has passed.
    const spent = clock.now - start;
    assert.ok(spent <= budgetMs + 2, `cycle ${rounds} ran ${spent} ms of a ${budgetMs} ms budget`);
    rounds++;
  }
  assert.equal(ks.db(0).size + ks.db(1).size, 1_000, "only the live keys remain");
  assert.equal(ks.counters.expiredKeys, 9_000);
  // A cycle samples at most budgetMs times EXPIRE_SAMPLE keys, so the budget spread the work.
  assert.ok(rounds >= 9_000 / (budgetMs * EXPIRE_SAMPLE), `${rounds} cycles`);
  assert.ok(rounds < 2_000, `${rounds} cycles`);
});

Deno.test("an active expiry cycle stops at its deadline", () => {
  const ks = new Keyspace(1);
  for (let i = 0; i < 100_000; i++) {
    ks.db(0).set(`k${i}`, "v");
    ks.db(0).setExpireAt(`k${i}`, T0);
  }
  const budgetMs = 5;
  const clock = tickingClock();
  const expired = ks.activeExpireCycle(T0 + 1, budgetMs, clock.read);
  // Every key sampled is expired, so only the deadline ends the cycle: after at most budgetMs
  // samples, with the clock read no further than the deadline and the check after it.
  assert.ok(
    expired >= EXPIRE_SAMPLE && expired <= budgetMs * EXPIRE_SAMPLE,
    `expired ${expired} keys in a cycle of ${budgetMs} ms`,
  );
  assert.ok(clock.now <= budgetMs + 2, `the clock was read up to ${clock.now} ms`);
  assert.equal(ks.db(0).size, 100_000 - expired);
});

Deno.test("a cycle over keys that are not expired ends after one sample per database", () => {
  const ks = new Keyspace(1);
  for (let i = 0; i < 1000; i++) {
    ks.db(0).set(`k${i}`, "v");
    ks.db(0).setExpireAt(`k${i}`, T0 + 60_000);
  }
  assert.equal(ks.activeExpireCycle(T0, 1_000, () => 0), 0);
  assert.equal(ks.db(0).size, 1000);
});

Deno.test("SWAPDB exchanges contents and TTLs; FLUSHALL empties every database", () => {
  const ks = new Keyspace(3);
  ks.db(0).set("a", "0");
  ks.db(2).set("b", "2");
  ks.db(2).setExpireAt("b", T0 + 5);
  ks.swap(0, 2);
  assert.equal(ks.db(0).get("b", T0), "2");
  assert.equal(ks.db(0).expireAt("b"), T0 + 5);
  assert.equal(ks.db(2).get("a", T0), "0");
  ks.flushAll();
  assert.deepEqual(ks.all().map((db) => db.size), [0, 0, 0]);
});

Deno.test("averageTtl estimates the remaining TTL of volatile keys", () => {
  const db = new Keyspace(1).db(0);
  assert.equal(db.averageTtl(T0), 0);
  db.set("a", "");
  db.set("b", "");
  db.setExpireAt("a", T0 + 1000);
  db.setExpireAt("b", T0 + 3000);
  assert.equal(db.averageTtl(T0), 2000);
});

Deno.test("randomKey returns a live key, or undefined when none is live", () => {
  const db = new Keyspace(1).db(0);
  assert.equal(db.randomKey(T0), undefined);
  db.set("dead", "");
  db.setExpireAt("dead", T0);
  db.set("alive", "");
  for (let i = 0; i < 20; i++) assert.equal(db.randomKey(T0), "alive");
});

Deno.test("a SCAN returns every key present for the whole scan despite changes", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 60 }),
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 300 })), { maxLength: 300 }),
      (initial, changes) => {
        const db = new Keyspace(1).db(0);
        for (const k of initial) db.set(`k${k}`, "v");
        const seen = new Set<string>();
        const deleted = new Set<string>();
        let step = 0;
        let cursor = 0;
        do {
          cursor = db.scanStep(cursor, (key) => seen.add(key));
          const change = changes[step++];
          if (change === undefined) continue;
          const [add, n] = change;
          if (add) db.set(`k${n}`, "v");
          else if (db.delete(`k${n}`)) deleted.add(`k${n}`);
        } while (cursor !== 0);
        for (const k of initial) {
          const key = `k${k}`;
          if (!deleted.has(key)) assert.ok(seen.has(key), `${key} was present throughout`);
        }
      },
    ),
  );
});

Deno.test("a SCAN ends even while keys keep being added", () => {
  const db = new Keyspace(1).db(0);
  for (let i = 0; i < 100; i++) db.set(`k${i}`, "v");
  let cursor = 0;
  let steps = 0;
  let added = 0;
  do {
    cursor = db.scanStep(cursor, () => {});
    // One new key per bucket visited: the table keeps doubling, as under a steady write load.
    db.set(`new${added++}`, "v");
    steps++;
  } while (cursor !== 0 && steps < 100_000);
  assert.equal(cursor, 0);
  assert.ok(added > 100, "the table grew during the scan");
});

Deno.test("a key expired when watched is no change when removed by any path, a write is", () => {
  // Redis's watchedKey.expired: expiry, DEL, eviction and a follower's copy of its leader's DEL
  // all remove a key that was already gone logically; a write to it is a change.
  const db = new Keyspace(1).db(0);
  for (const remove of ["expiry", "delete", "deleteId", "evict"] as const) {
    db.set("k", "v");
    db.setExpireAt("k", T0 - 1);
    const watcher = { watchTouched: false };
    db.watch("k", watcher, T0);
    if (remove === "expiry") assert.equal(db.get("k", T0), undefined);
    else if (remove === "delete") assert.equal(db.delete("k"), true);
    else {
      const id = db.table.findString("k");
      if (remove === "deleteId") db.deleteId(id);
      else db.evictId(id);
    }
    assert.equal(watcher.watchTouched, false, remove);
    assert.equal(db.watchedKeyExpired("k", watcher, T0), false, remove);
    db.set("k", "again");
    assert.equal(watcher.watchTouched, true, `${remove}, then a write`);
    db.unwatch("k", watcher);
    db.delete("k");
  }
  // A key live when watched: its removal is a change, and its expiry fails EXEC even undeleted.
  db.set("live", "v");
  db.setExpireAt("live", T0 + 10);
  const watcher = { watchTouched: false };
  db.watch("live", watcher, T0);
  assert.equal(db.watchedKeyExpired("live", watcher, T0 + 5), false);
  assert.equal(db.watchedKeyExpired("live", watcher, T0 + 10), true);
  db.delete("live");
  assert.equal(watcher.watchTouched, true);
});
