/** The write pause: postponed commands wake in order when it ends, by hand or at its end time. */
import assert from "node:assert/strict";
import { WritePause } from "../../../src/server/write_pause.ts";

Deno.test("a write pause wakes its waiters in order when it ends, and keeps the later end", async () => {
  const pause = new WritePause();
  assert.equal(pause.active, false);
  await pause.whenEnded();
  pause.pause("manual-failover", Date.now() + 60_000);
  pause.pause("manual-failover", Date.now() + 1000);
  assert.ok(pause.until > Date.now() + 30_000, "an earlier end does not shorten the pause");
  const woken: number[] = [];
  const first = pause.whenEnded().then(() => woken.push(1));
  const second = pause.whenEnded().then(() => woken.push(2));
  assert.equal(pause.postponed, 2);
  pause.end("manual-failover");
  await Promise.all([first, second]);
  assert.deepEqual(woken, [1, 2]);
  assert.equal(pause.active, false);
});

Deno.test("a write pause ends by itself at its end time", async () => {
  const pause = new WritePause();
  pause.pause("slot-migration", Date.now() + 30);
  const started = Date.now();
  // The pause's own timer does not keep a process alive (a server's listener does).
  const alive = setTimeout(() => {}, 5000);
  await pause.whenEnded();
  clearTimeout(alive);
  assert.ok(Date.now() - started >= 20);
  assert.equal(pause.active, false);
});

Deno.test("one purpose ending does not lift another's pause", async () => {
  const pause = new WritePause();
  pause.pause("slot-migration", Date.now() + 60_000);
  pause.pause("manual-failover", Date.now() + 60_000);
  let woken = false;
  const waiting = pause.whenEnded().then(() => woken = true);
  pause.end("manual-failover");
  await Promise.resolve();
  assert.equal(pause.active, true, "the migration still holds writes");
  assert.equal(woken, false);
  pause.end("slot-migration");
  await waiting;
  assert.equal(pause.active, false);
});
