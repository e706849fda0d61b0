/**
 * What the hash command files share: looking a hash up as Redis's read and write paths do
 * (reads count keyspace hits and misses, writes do not), and storing fields into a new or an
 * existing hash with the keyspace's create / update protocol, so every write counts its changes
 * (Redis's `server.dirty`) and snapshots and WATCH see it.
 */
import type { ClientState } from "../server/client.ts";
import type { Database } from "../store/database.ts";
import { HashValue } from "../store/hash_value.ts";
import { toBinaryString } from "../util/bytes.ts";
import type { ServerContext } from "./context.ts";
import { database, readCollection, writableCollection } from "./_values.ts";

/**
 * The hash under the argument `keyArg` for a read command (Redis's `lookupKeyRead`: counts a
 * hit or a miss), undefined when missing, or WRONGTYPE.
 */
export function readHash(
  ctx: ServerContext,
  client: ClientState,
  keyArg: Uint8Array,
  now: number,
): HashValue | undefined {
  return readCollection(database(ctx, client), client, toBinaryString(keyArg), now, "hash");
}

/**
 * The hash under `key` for a write command (Redis's `lookupKeyWrite`: no hit/miss counted),
 * undefined when missing, or WRONGTYPE.
 */
export function writableHash(db: Database, key: string, now: number): HashValue | undefined {
  return writableCollection(db, key, now, "hash");
}

/**
 * Records the access of a write command that found the hash under `key` but changed nothing
 * (Redis's `lookupKeyWrite` touches the key whatever follows; a change records it itself).
 */
export function touchUnchanged(db: Database, client: ClientState, key: string, now: number): void {
  if (!client.noTouch) db.touch(key, now);
}

/**
 * Sets `pairs` (field, value, field, value...) in the hash under `key` (`hash`, or a new hash
 * when undefined), counting `changes` changes; returns how many fields were new.
 */
export function storeFields(
  ctx: ServerContext,
  db: Database,
  key: string,
  hash: HashValue | undefined,
  pairs: readonly string[],
  changes: number,
  now: number,
): number {
  let created = 0;
  if (hash === undefined) {
    const fresh = new HashValue();
    for (let i = 0; i < pairs.length; i += 2) if (fresh.set(pairs[i], pairs[i + 1])) created++;
    // Storing a new key counts one change: the others are counted here, as Redis counts each.
    db.set(key, fresh, false, now);
    ctx.keyspace.counters.dirty += changes - 1;
    return created;
  }
  const before = db.beginUpdate(key);
  for (let i = 0; i < pairs.length; i += 2) if (hash.set(pairs[i], pairs[i + 1])) created++;
  db.endUpdate(key, before, changes, now);
  return created;
}
