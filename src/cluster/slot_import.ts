/**
 * The target's side of an atomic slot migration (slot_migration.ts runs the source's side), as
 * the internal `CLUSTER SYNCSLOTS` commands the source sends on its own client connection
 * (Valkey 9 names its internal commands so too):
 *
 * - `ESTABLISH <source-id> <start> <end> [<start> <end> ...]`: deletes whatever this node still
 *   holds in those slots (the leftovers of an earlier migration that failed, so the new one starts
 *   clean), then lets that one connection use them: its RESTORE-ASKING and forwarded writes pass
 *   the slot check although this node does not serve the slots (ClientState.importSlots).
 * - `FINISH <source-current-epoch>`: takes the slots with a new config epoch above every epoch
 *   either node has seen, writes nodes.conf, tells every node, and answers the epoch.
 * - `ANNOUNCE`: sends this node's slots to every node at once (the source asks once it gave the
 *   slots to this node in its own view).
 * - `CANCEL`: forgets the import and deletes its keys.
 *
 * The permission lives on the connection, not in the slot table: SETSLOT IMPORTING would be
 * written to nodes.conf, so a target that crashed mid-way would come back with the slots open
 * and its partial keys readable by ASKING clients, and it would ignore the source's claims to
 * them. Here an import ends with its connection: when the source's connection closes without
 * FINISH (the source cancelled, failed or died), the import is cancelled as by CANCEL. A target
 * killed mid-way restarts with its partial keys in slots it does not serve: no client reaches
 * them (they get -MOVED to the owner), and the next ESTABLISH of those slots deletes them.
 *
 * @module
 */
import type { ClientState } from "../server/client.ts";
import type { ServerContext } from "../commands/context.ts";
import { logger } from "../util/logger.ts";
import type { Cluster } from "./cluster.ts";
import { CLUSTER_SLOTS, formatSlotRuns, slotRuns } from "./key_slot.ts";
import type { ClusterNode } from "./node.ts";
import { deleteKeysInSlots } from "./slot_keys.ts";

const log = logger("cluster");
/** How often an import checks that its connection is still open (ms). */
const WATCH_MS = 200;
/** How long a finished import waits for the source's ANNOUNCE before telling the cluster (ms). */
const ANNOUNCE_MS = 100;

/** A failure with the error reply's text. */
export class ImportError extends Error {}

/** One import in progress on this node. */
interface Import {
  readonly client: ClientState;
  readonly source: ClusterNode;
  readonly slots: Uint8Array;
  readonly timer: ReturnType<typeof setInterval>;
}

const imports = new WeakMap<Cluster, Map<number, Import>>();

function importsOf(cluster: Cluster): Map<number, Import> {
  let map = imports.get(cluster);
  if (map === undefined) imports.set(cluster, map = new Map());
  return map;
}

/** The slots of an import as `start-end` ranges, for logs. */
export function describeSlots(slots: Uint8Array): string {
  return formatSlotRuns(slotRuns((slot) => slots[slot] !== 0));
}

/** Deletes this node's keys of the import's slots that it does not serve. */
function deleteImported(ctx: ServerContext, cluster: Cluster, slots: Uint8Array): number {
  const lost = new Set<number>();
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    if (slots[slot] !== 0 && cluster.state.owners[slot] !== cluster.state.myself) lost.add(slot);
  }
  return deleteKeysInSlots(ctx, lost);
}

/** CLUSTER SYNCSLOTS ESTABLISH: see the module comment. */
export function establishImport(
  cluster: Cluster,
  client: ClientState,
  sourceId: string,
  slots: Uint8Array,
): void {
  const state = cluster.state;
  const myself = state.myself;
  if (!myself.isMaster) throw new ImportError("ERR Please use SYNCSLOTS only with masters.");
  const source = state.lookup(sourceId);
  if (source === undefined) throw new ImportError(`ERR Unknown node ${sourceId}`);
  if (source === myself || !source.isMaster) {
    throw new ImportError("ERR The source node is not another master");
  }
  const current = importsOf(cluster);
  if (current.has(client.id)) throw new ImportError("ERR An import is open on this connection");
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    if (slots[slot] === 0) continue;
    if (state.owners[slot] === myself) {
      throw new ImportError(`ERR I'm already the owner of hash slot ${slot}`);
    }
    if (state.importingFrom[slot] !== null) {
      throw new ImportError(`ERR Slot ${slot} is being imported with SETSLOT`);
    }
    for (const other of current.values()) {
      if (other.slots[slot] !== 0) throw new ImportError(`ERR Slot ${slot} is already importing`);
    }
  }
  const ctx = cluster.host.ctx;
  const stale = deleteImported(ctx, cluster, slots);
  const timer = setInterval(() => {
    if (ctx.clients.get(client.id) === undefined || client.killed) {
      endImport(cluster, client, "its connection closed");
    }
  }, WATCH_MS);
  Deno.unrefTimer(timer);
  current.set(client.id, { client, source, slots, timer });
  client.importSlots = slots;
  log.info("Importing slots {slots} from {id} (deleted {stale} stale keys)", {
    slots: describeSlots(slots),
    id: source.id,
    stale,
  });
}

function take(cluster: Cluster, client: ClientState): Import {
  const current = importsOf(cluster);
  const open = current.get(client.id);
  if (open === undefined) throw new ImportError("ERR No slot import is open on this connection");
  current.delete(client.id);
  clearInterval(open.timer);
  client.importSlots = null;
  return open;
}

/**
 * CLUSTER SYNCSLOTS FINISH: this node takes the slots with a config epoch above `sourceEpoch`
 * and every epoch it knows; returns that epoch.
 */
export function finishImport(cluster: Cluster, client: ClientState, sourceEpoch: number): number {
  const state = cluster.state;
  const myself = state.myself;
  const open = take(cluster, client);
  if (!myself.isMaster) {
    deleteImported(cluster.host.ctx, cluster, open.slots);
    throw new ImportError("ERR Please use SYNCSLOTS only with masters.");
  }
  state.currentEpoch = Math.max(state.currentEpoch, sourceEpoch) + 1;
  myself.configEpoch = state.currentEpoch;
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    if (open.slots[slot] === 0) continue;
    state.delSlot(slot);
    state.addSlot(myself, slot);
  }
  state.dirty = true;
  // On disk before anyone hears of it, so that a restart cannot forget a claim already made.
  cluster.saveConfig();
  cluster.updateState();
  // Told when the source asks (ANNOUNCE, once it gave the slots away in its own view and ended
  // its write pause), or after ANNOUNCE_MS: had the claim reached the source by gossip first, it
  // would delete the slots' keys while its writes are paused; it deletes them after, in slices.
  const told = setTimeout(() => cluster.broadcastPong(), ANNOUNCE_MS);
  Deno.unrefTimer(told);
  log.info("Took slots {slots} from {id} at config epoch {epoch}", {
    slots: describeSlots(open.slots),
    id: open.source.id,
    epoch: myself.configEpoch,
  });
  return myself.configEpoch;
}

/** CLUSTER SYNCSLOTS CANCEL, or the import's connection closed: forgets it and its keys. */
export function endImport(cluster: Cluster, client: ClientState, why: string): boolean {
  if (!importsOf(cluster).has(client.id)) return false;
  const open = take(cluster, client);
  const deleted = deleteImported(cluster.host.ctx, cluster, open.slots);
  log.info("Import of slots {slots} from {id} cancelled ({why}): deleted {keys} keys", {
    slots: describeSlots(open.slots),
    id: open.source.id,
    why,
    keys: deleted,
  });
  return true;
}
