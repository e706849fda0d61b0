/**
 * The arena's limits: offsets past 2 GiB (beyond int32 arithmetic) through the free lists, and
 * the refusal of a database past {@link MAX_ARENA_BYTES}, which must leave the arena intact.
 * The buffers here are reserved, not written, below the blocks used: they cost no memory.
 */
import assert from "node:assert/strict";
import { Arena, ArenaFullError, MAX_ARENA_BYTES } from "../../../src/store/arena.ts";

Deno.test("blocks past 2 GiB are handed out, freed and reused at their exact offsets", () => {
  const arena = new Arena();
  arena.reserve(2 ** 32);
  const filler = 2 ** 31 - 16;
  assert.equal(arena.allocate(filler), 0);
  const sizes = [16, 24, 16, 9000, 24, 9000];
  const blocks = sizes.map((size) => arena.allocate(size));
  let expected = filler;
  for (const [i, at] of blocks.entries()) {
    assert.equal(at, expected, `block ${i}`);
    expected += sizes[i];
  }
  assert.ok(blocks.slice(1).every((at) => at >= 2 ** 31));
  // Freed small (typed-array free list) and large (Map) blocks come back, newest first.
  for (const i of [1, 3, 4, 5]) arena.release(blocks[i], sizes[i]);
  assert.equal(arena.allocate(24), blocks[4]);
  assert.equal(arena.allocate(24), blocks[1]);
  assert.equal(arena.allocate(9000), blocks[5]);
  assert.equal(arena.allocate(9000), blocks[3]);
  assert.equal(arena.usedBytes, filler + sizes.reduce((a, b) => a + b, 0));
  // Writes at those offsets land where the block is, seen through both views.
  arena.i32[blocks[5] / 4] = 0x12345678;
  assert.equal(arena.bytes[blocks[5]], 0x78);
});

Deno.test("an arena refuses to grow past its limit and stays as it was", () => {
  const arena = new Arena();
  assert.equal(arena.allocate(64), 0);
  assert.throws(() => arena.allocate(MAX_ARENA_BYTES), ArenaFullError);
  assert.equal(arena.usedBytes, 64);
  // A load hint past the limit (an RDB's RESIZEDB) is no reason to refuse the load.
  const length = arena.bytes.length;
  arena.reserve(MAX_ARENA_BYTES);
  assert.equal(arena.bytes.length, length);
  assert.equal(arena.allocate(64), 64, "the next block follows the last one handed out");
  assert.match(new ArenaFullError().message, /cannot take more than 16 GiB/);
});
