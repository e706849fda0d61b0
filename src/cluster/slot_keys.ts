/**
 * The keys of a hash slot in database 0 (the only one in cluster mode): counted, listed, or
 * deleted when this node loses the slot. Database 0 keeps an index of its keys by slot in
 * cluster mode (see store/slot_index.ts), so counting is O(1) and listing or deleting a slot's
 * keys touches only those keys.
 */
import type { ServerContext } from "../commands/context.ts";

/** Number of keys in `slot`. */
export function countKeysInSlot(ctx: ServerContext, slot: number): number {
  return ctx.keyspace.db(0).countKeysInSlot(slot);
}

/** Up to `count` keys of `slot`, newest first (Redis 7.0's order). */
export function keysInSlot(ctx: ServerContext, slot: number, count: number): string[] {
  return ctx.keyspace.db(0).keysInSlot(slot, count);
}

/** Deletes the keys of `slots` (slots this node lost), each propagated as a DEL. */
export function deleteKeysInSlots(ctx: ServerContext, slots: ReadonlySet<number>): number {
  const db = ctx.keyspace.db(0);
  let deleted = 0;
  for (const slot of slots) {
    for (const key of db.keysInSlot(slot, db.countKeysInSlot(slot))) {
      db.delete(key);
      ctx.propagator.command(0, ["DEL", key]);
      deleted++;
    }
  }
  return deleted;
}
