/**
 * The parts of an atomic slot migration (slot_migration.ts) that work on the source's own state
 * rather than on the connection: a key's RESTORE-ASKING command, which key a propagated write
 * touches, giving the slots to the
 * target in this node's view, waiting for the target's claim by gossip when FINISH's answer was
 * lost, and deleting the moved keys in slices once the write pause is over.
 *
 * @module
 */
import type { ServerContext } from "../commands/context.ts";
import type { Command } from "../commands/registry.ts";
import type { PropagatedArg } from "../propagation/propagator.ts";
import { dumpValueView } from "../persistence/rdb/dump.ts";
import { fromBinaryString, toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import { nextTurn } from "../util/event_loop.ts";
import type { Cluster } from "./cluster.ts";
import type { ClusterNode } from "./node.ts";
import { deleteKeysInSlots } from "./slot_keys.ts";

const FLUSHES = new Set(["flushall", "flushdb", "swapdb"]);

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

function binary(arg: PropagatedArg): string {
  return typeof arg === "string"
    ? arg
    : typeof arg === "number"
    ? String(arg)
    : toBinaryString(arg);
}

/**
 * `RESTORE-ASKING key <absolute expiry ms or 0> payload REPLACE ABSTTL` for the live `key`
 * (a binary string) of database 0, or null when it does not exist. The key and the payload are
 * views that the next write or dump changes: send the command before either.
 */
export function restoreCommand(ctx: ServerContext, key: string): PropagatedArg[] | null {
  const id = ctx.keyspace.db(0).findLive(key, now());
  return id < 0 ? null : restoreCommandOf(ctx, id);
}

/**
 * {@link restoreCommand} for entry `id` of database 0, made from its bytes in place: no string
 * of its key or value, no lookup (a slot migration walks a slot's entries this way: source CPU
 * per key moved, 300k keys of 100 bytes, 5.2-5.7 us with a lookup of a key string made for
 * each, and a value string, against the figure in the README without).
 */
export function restoreCommandOf(ctx: ServerContext, id: number): PropagatedArg[] {
  const db = ctx.keyspace.db(0);
  const arena = db.valueArena(id);
  const start = db.valueStart(id);
  const value = arena === null ? db.valueOf(id) : arena.subarray(start, start + db.valueLength(id));
  const payload = dumpValueView(value, ctx.config.values.rdbcompression);
  return ["RESTORE-ASKING", db.keyBytes(id), db.expireAtId(id) ?? 0, payload, "REPLACE", "ABSTTL"];
}

/**
 * The (first) key a propagated command writes, as a binary string; null when it has none, or
 * `flush` for a command that empties the database (FLUSHALL, FLUSHDB, SWAPDB). `names` caches
 * command lookups by name.
 */
export function writtenKey(
  ctx: ServerContext,
  names: Map<string, Command | undefined>,
  args: readonly PropagatedArg[],
): string | null | "flush" {
  const name = binary(args[0]);
  let cmd = names.get(name);
  if (cmd === undefined && !names.has(name)) {
    cmd = ctx.commands.lookup(fromBinaryString(name));
    names.set(name, cmd);
  }
  if (cmd === undefined) return null;
  const spec = cmd.keys;
  if (spec === null || args.length <= spec.first) return FLUSHES.has(cmd.name) ? "flush" : null;
  return binary(args[spec.first]);
}

/**
 * Gives `slots` to `target` in this node's view, at the config epoch the target took them with
 * (it is not saved here: a restart before the next save loses to the target's newer epoch).
 */
export function giveSlots(
  cluster: Cluster,
  target: ClusterNode,
  slots: readonly number[],
  epoch: number,
): void {
  const state = cluster.state;
  target.configEpoch = Math.max(target.configEpoch, epoch);
  state.currentEpoch = Math.max(state.currentEpoch, epoch);
  for (const slot of slots) {
    if (state.owners[slot] === target) continue;
    state.delSlot(slot);
    state.addSlot(target, slot);
  }
  state.dirty = true;
  cluster.updateState();
  cluster.broadcastPong();
}

/**
 * Waits up to two node timeouts (plus a second) for gossip to show `target` owning every slot
 * of `slots`; its config epoch then, or null.
 */
export async function claimByGossip(
  cluster: Cluster,
  target: ClusterNode,
  slots: readonly number[],
): Promise<number | null> {
  const state = cluster.state;
  const deadline = Date.now() + 2 * cluster.nodeTimeout + 1000;
  while (Date.now() < deadline) {
    if (slots.every((slot) => state.owners[slot] === target)) return target.configEpoch;
    await sleep(100);
  }
  return null;
}

/**
 * Deletes this node's keys of `slots` it no longer serves, each propagated as a DEL, yielding to
 * clients after about `batch` keys; returns how many.
 */
export async function deleteMovedKeys(
  ctx: ServerContext,
  cluster: Cluster,
  slots: readonly number[],
  batch: number,
): Promise<number> {
  const state = cluster.state;
  let deleted = 0;
  let sinceYield = 0;
  for (const slot of slots) {
    if (state.owners[slot] === state.myself) continue;
    const n = deleteKeysInSlots(ctx, new Set([slot]));
    deleted += n;
    sinceYield += n;
    if (sinceYield >= batch) {
      sinceYield = 0;
      await nextTurn();
    }
  }
  return deleted;
}
