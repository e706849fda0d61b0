/**
 * What the set command files share: looking a set up as Redis's `lookupKeyRead` (counting a
 * keyspace hit or miss) or `lookupKeyWrite` (not counting) does, with the WRONGTYPE check, and
 * the dirty-counter adjustment that keeps `rdb_changes_since_last_save` in step with Redis's
 * `server.dirty` where a command counts more than the store's own calls do.
 */
import type { ClientState } from "../server/client.ts";
import type { Database } from "../store/database.ts";
import type { SetValue } from "../store/set_value.ts";
import type { ServerContext } from "./context.ts";
import { readCollection, writableCollection } from "./_values.ts";

/** Key positions of a command whose only key is its first argument. */
export const ONE_KEY = { first: 1, last: 1, step: 1 };

/** The set under `key` read as a read command does (hit/miss counted), or undefined. */
export function readSet(
  db: Database,
  client: ClientState,
  key: string,
  now: number,
): SetValue | undefined {
  return readCollection(db, client, key, now, "set");
}

/** The set under `key` looked up as a write command does (no stats), or undefined. */
export function writeSet(db: Database, key: string, now: number): SetValue | undefined {
  return writableCollection(db, key, now, "set");
}

/**
 * Adds `n` (which may be negative) to the dirty counter, for a command whose Redis counterpart
 * counts its changes differently from the store calls it makes (SADD creating a key counts
 * each member added, where `Database.set` counts one).
 */
export function addDirty(ctx: ServerContext, n: number): void {
  ctx.keyspace.counters.dirty += n;
}
