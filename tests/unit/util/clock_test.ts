import assert from "node:assert/strict";
import { now, useClock, withBatchTime } from "../../../src/util/clock.ts";

Deno.test("within a batch now() is the batch's start time, outside it the live clock", () => {
  const clock = { t: 1000 };
  using _restore = { [Symbol.dispose]: useClock({ now: () => clock.t }) };
  const seen = withBatchTime(() => {
    clock.t = 1005;
    const first = now();
    const nested = withBatchTime(() => now());
    return [first, nested];
  });
  assert.deepEqual(seen, [1000, 1000], "commands of one batch share its time, nested too");
  assert.equal(now(), 1005, "the live clock again after the batch");
});

Deno.test("a batch that throws still ends, so later reads see the live clock", () => {
  const clock = { t: 50 };
  using _restore = { [Symbol.dispose]: useClock({ now: () => clock.t }) };
  assert.throws(() =>
    withBatchTime(() => {
      throw new Error("boom");
    }), /boom/);
  clock.t = 60;
  assert.equal(now(), 60);
});
