/**
 * The keys of a hash slot in database 0 (the only one in cluster mode): counted, listed, or
 * deleted when this node loses the slot. Each walks the keyspace and hashes every key, O(keys):
 * a per-slot index, which makes them O(1) and O(count), comes with resharding.
 */
import type { ServerContext } from "../commands/context.ts";
import { keySlotOfBinary } from "./key_slot.ts";

/** Number of keys in `slot`. */
export function countKeysInSlot(ctx: ServerContext, slot: number): number {
  let count = 0;
  for (const key of ctx.keyspace.db(0).keys()) if (keySlotOfBinary(key) === slot) count++;
  return count;
}

/** Up to `count` keys of `slot`. */
export function keysInSlot(ctx: ServerContext, slot: number, count: number): string[] {
  const keys: string[] = [];
  if (count <= 0) return keys;
  for (const key of ctx.keyspace.db(0).keys()) {
    if (keySlotOfBinary(key) !== slot) continue;
    keys.push(key);
    if (keys.length >= count) break;
  }
  return keys;
}

/** Deletes the keys of `slots` (slots this node lost), each propagated as a DEL. */
export function deleteKeysInSlots(ctx: ServerContext, slots: ReadonlySet<number>): number {
  const db = ctx.keyspace.db(0);
  const doomed: string[] = [];
  for (const key of db.keys()) if (slots.has(keySlotOfBinary(key))) doomed.push(key);
  for (const key of doomed) {
    db.delete(key);
    ctx.propagator.command(0, ["DEL", key]);
  }
  return doomed.length;
}
