/**
 * Keys to hash slots, as Redis Cluster maps them: CRC16 (XMODEM) of the key modulo 16384, where a
 * key holding `{...}` with at least one byte between the first `{` and the next `}` is hashed by
 * that part only (a hash tag), so related keys can be kept in one slot.
 */
import { crc16, CRC16_TABLE, crc16Binary } from "../util/crc16.ts";

/** Number of hash slots in a cluster. */
export const CLUSTER_SLOTS = 16384;

/**
 * The hash slot of a key given as bytes. One pass: the CRC runs while looking for `{`, and
 * restarts on the tag only if one is found (the per-command cost of cluster mode is mostly this).
 */
export function keySlot(key: Uint8Array): number {
  const len = key.length;
  let crc = 0;
  for (let i = 0; i < len; i++) {
    const b = key[i];
    if (b === 0x7b) {
      for (let close = i + 1; close < len; close++) {
        if (key[close] === 0x7d) {
          if (close > i + 1) return crc16(key, i + 1, close) & 0x3fff;
          break;
        }
      }
      return crc16(key, i, len, crc) & 0x3fff;
    }
    crc = ((crc << 8) & 0xff00) ^ CRC16_TABLE[((crc >> 8) ^ b) & 0xff];
  }
  return crc & 0x3fff;
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
