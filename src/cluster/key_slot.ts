/**
 * Keys to hash slots, as Redis Cluster maps them: CRC16 (XMODEM) of the key modulo 16384, where a
 * key holding `{...}` with at least one byte between the first `{` and the next `}` is hashed by
 * that part only (a hash tag), so related keys can be kept in one slot.
 */
import { crc16, crc16Binary } from "../util/crc16.ts";

/** Number of hash slots in a cluster. */
export const CLUSTER_SLOTS = 16384;

/** The hash slot of a key given as bytes. */
export function keySlot(key: Uint8Array): number {
  return keySlotOfRange(key, 0, key.length);
}

/** The hash slot of the key `buf[start, end)` (a key read in place, e.g. from the store). */
export function keySlotOfRange(buf: Uint8Array, start: number, end: number): number {
  for (let open = start; open < end; open++) {
    if (buf[open] !== 0x7b) continue;
    for (let close = open + 1; close < end; close++) {
      if (buf[close] === 0x7d) {
        if (close > open + 1) return crc16(buf, open + 1, close) & 0x3fff;
        break;
      }
    }
    break;
  }
  return crc16(buf, start, end) & 0x3fff;
}

/** The hash slot of a key held as a binary string (the keyspace's form). */
export function keySlotOfBinary(key: string): number {
  const open = key.indexOf("{");
  if (open >= 0) {
    const close = key.indexOf("}", open + 1);
    if (close > open + 1) return crc16Binary(key, open + 1, close) & 0x3fff;
  }
  return crc16Binary(key) & 0x3fff;
}

/** The inclusive runs of consecutive slots for which `has(slot)` holds, in ascending order. */
export function slotRuns(has: (slot: number) => boolean): [number, number][] {
  const runs: [number, number][] = [];
  let start = -1;
  for (let slot = 0; slot <= CLUSTER_SLOTS; slot++) {
    const inside = slot < CLUSTER_SLOTS && has(slot);
    if (inside && start < 0) start = slot;
    else if (!inside && start >= 0) {
      runs.push([start, slot - 1]);
      start = -1;
    }
  }
  return runs;
}

/** The runs of a list of slots (any order, no repeats needed). */
export function runsOfSlots(slots: readonly number[]): [number, number][] {
  const set = new Uint8Array(CLUSTER_SLOTS);
  for (const slot of slots) set[slot] = 1;
  return slotRuns((slot) => set[slot] === 1);
}

/** Runs as text, as Redis writes slot ranges: `0-63,128,130-191`. */
export function formatSlotRuns(runs: readonly [number, number][]): string {
  return runs.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(",");
}
