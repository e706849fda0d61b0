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

/**
 * Deletes the keys of `slots` (slots this node lost), each propagated as a DEL. Entries are
 * deleted by id from the head of each slot's list, with no lookup, and a key's name is made
 * only for the stream.
 */
export function deleteKeysInSlots(ctx: ServerContext, slots: ReadonlySet<number>): number {
  const db = ctx.keyspace.db(0);
  const propagator = ctx.propagator;
  let deleted = 0;
  for (const slot of slots) {
    for (let id = db.firstIdInSlot(slot); id >= 0; id = db.firstIdInSlot(slot)) {
      const key = propagator.active ? db.keyString(id) : null;
      db.deleteId(id);
      if (key !== null) propagator.command(0, ["DEL", key]);
      deleted++;
    }
  }
  return deleted;
}
