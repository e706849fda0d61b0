/**
 * The heap guard's thresholds with a fake heap reading: it refuses from HEAP_REFUSE_AT of the
 * limit on, keeps refusing until the heap is back under HEAP_RESUME_AT, and reads the heap once
 * per distinct time.
 */
import assert from "node:assert/strict";
import {
  HEAP_REFUSE_AT,
  HEAP_RESUME_AT,
  HeapGuard,
  type HeapUse,
} from "../../../src/server/heap_guard.ts";

Deno.test("the heap guard refuses from its high mark and resumes under its low mark", () => {
  const limit = 1000;
  let used = 0;
  let reads = 0;
  const guard = new HeapGuard((): HeapUse => {
    reads++;
    return { used, limit };
  });
  let now = 0;
  const at = (share: number) => {
    used = share * limit;
    return guard.refuses(++now);
  };
  assert.equal(at(0.5), false);
  assert.equal(at(HEAP_REFUSE_AT - 0.01), false);
  assert.equal(at(HEAP_REFUSE_AT), true);
  assert.equal(guard.refusing, true);
  // Between the marks it keeps refusing, then resumes only under the low one.
  assert.equal(at((HEAP_REFUSE_AT + HEAP_RESUME_AT) / 2), true);
  assert.equal(at(HEAP_RESUME_AT), true);
  assert.equal(at(HEAP_RESUME_AT - 0.01), false);
  assert.equal(at((HEAP_REFUSE_AT + HEAP_RESUME_AT) / 2), false);
  // One reading per distinct time: a pipelined batch shares it.
  const before = reads;
  used = limit;
  assert.equal(guard.refuses(now), false);
  assert.equal(reads, before);
  assert.equal(guard.refuses(now + 1), true);
  assert.equal(reads, before + 1);
});
