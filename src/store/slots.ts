/**
 * The slot array of a key table: open addressing with linear probing, two int32 per slot (the
 * key's hash, a reference to its block, 0 = empty), and Redis's SCAN cursor arithmetic over home
 * slots. Pure functions over the array and its mask, so the table keeps the one copy of both.
 */

/** Puts a block reference in the first free slot of its probe sequence from `hash & mask`. */
export function placeRef(slots: Int32Array, mask: number, hash: number, ref: number): void {
  let i = hash & mask;
  while (slots[2 * i + 1] !== 0) i = (i + 1) & mask;
  slots[2 * i] = hash;
  slots[2 * i + 1] = ref;
}

/**
 * Empties slot `hole`, shifting later entries of the run back so that every entry stays
 * reachable from its home slot without tombstones (Knuth's algorithm R).
 */
export function unplace(slots: Int32Array, mask: number, hole: number): void {
  for (let j = (hole + 1) & mask; slots[2 * j + 1] !== 0; j = (j + 1) & mask) {
    const home = slots[2 * j] & mask;
    // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
    const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
    if (stays) continue;
    slots[2 * hole] = slots[2 * j];
    slots[2 * hole + 1] = slots[2 * j + 1];
    hole = j;
  }
  slots[2 * hole] = 0;
  slots[2 * hole + 1] = 0;
}

/**
 * The SCAN cursor after `cursor` for a table of `mask + 1` home slots: Redis's reverse binary
 * increment, which visits home slots in an order that survives the table doubling or halving
 * between two calls without skipping any.
 */
export function nextScanCursor(cursor: number, mask: number): number {
  let v = (cursor | ~mask) >>> 0;
  v = reverseBits(v);
  v = (v + 1) >>> 0;
  return reverseBits(v);
}

/** 32-bit bit reversal (Redis's `rev`). */
function reverseBits(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  return ((v >>> 16) | (v << 16)) >>> 0;
}
