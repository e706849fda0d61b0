/**
 * Which node serves a command in cluster mode (Redis's getNodeByQuery): every key the command
 * table says a command has (for EXEC, every queued command's keys) must hash to one slot; the
 * slot's owner serves it, this node's replica does for READONLY clients' reads, a slot being
 * moved answers ASK or TRYAGAIN, and everything else is redirected with MOVED or refused with
 * CLUSTERDOWN. Dispatch calls {@link clusterRefusal} once per command.
 */
import { ErrorReply } from "../resp/reply.ts";
import { type Command, lastKeyIndex } from "../commands/registry.ts";
import type { ClientState } from "../server/client.ts";
import { bytesEqual, toBinaryString } from "../util/bytes.ts";
import type { Cluster } from "./cluster.ts";
import { keySlot } from "./key_slot.ts";
import type { ClusterNode } from "./node.ts";

const CROSSSLOT = new ErrorReply("CROSSSLOT Keys in request don't hash to the same slot");
const TRYAGAIN = new ErrorReply("TRYAGAIN Multiple keys request during rehashing of slot");
const UNBOUND = new ErrorReply("CLUSTERDOWN Hash slot not served");
const DOWN = new ErrorReply("CLUSTERDOWN The cluster is down");
const DOWN_READONLY = new ErrorReply(
  "CLUSTERDOWN The cluster is down and only accepts read commands",
);

/**
 * The address clients are told for a node. A node that has not learned its own address yet
 * (no MEET, no cluster-announce-ip) reports the one the asking client reached it on, where
 * Redis 7.0 reports an empty string, which cluster clients such as ioredis drop.
 */
export function ipOf(node: ClusterNode, client?: ClientState): string {
  if (node.ip !== "" || !node.isMyself || client === undefined) return node.ip;
  const colon = client.laddr.lastIndexOf(":");
  return colon > 0 ? client.laddr.slice(0, colon) : "";
}

/** The endpoint clients are told to use for a node (cluster-preferred-endpoint-type). */
export function endpointOf(cluster: Cluster, node: ClusterNode, client?: ClientState): string {
  const type = cluster.host.ctx.config.values["cluster-preferred-endpoint-type"];
  if (type === "ip") return ipOf(node, client);
  if (type === "hostname") return node.hostname !== "" ? node.hostname : "?";
  return "?";
}

/** Whether a command needs the slot check: it has keys, or it is EXEC. */
export function needsSlotCheck(cmd: Command): boolean {
  return cmd.keys !== null || cmd.movableKeys !== null || cmd.runsQueue;
}

/** {@link commandSlot} of a command without keys. */
export const NO_KEYS = -1;
/** {@link commandSlot} of a command whose keys hash to different slots. */
export const CROSS_SLOT = -2;
const CROSS = CROSS_SLOT;

/** The slot all keys of one command hash to, NO_KEYS, or CROSS_SLOT when they differ. */
export function commandSlot(cmd: Command, argv: readonly Uint8Array[]): number {
  const spec = cmd.keys;
  if (spec === null) return cmd.movableKeys === null ? NO_KEYS : movableSlot(cmd, argv);
  const last = lastKeyIndex(spec, argv.length);
  let slot = NO_KEYS;
  for (let i = spec.first; i <= last; i += spec.step) {
    const keyHash = keySlot(argv[i]);
    if (slot === NO_KEYS) slot = keyHash;
    else if (keyHash !== slot) return CROSS;
  }
  return slot;
}

/** {@link commandSlot} for a `movablekeys` command: its keys found by its declaration. */
function movableSlot(cmd: Command, argv: readonly Uint8Array[]): number {
  let slot = NO_KEYS;
  for (const i of (cmd.movableKeys as NonNullable<Command["movableKeys"]>)(argv)) {
    const keyHash = keySlot(argv[i]);
    if (slot === NO_KEYS) slot = keyHash;
    else if (keyHash !== slot) return CROSS;
  }
  return slot;
}

/**
 * Why this node may not run `cmd` for `client` in cluster mode (MOVED, ASK, CROSSSLOT,
 * TRYAGAIN, CLUSTERDOWN), or null when it serves it here. The common case, a command whose keys
 * share a stable slot this node serves, costs one CRC16 per key and no allocation.
 */
export function clusterRefusal(
  cluster: Cluster,
  client: ClientState,
  cmd: Command,
  argv: Uint8Array[],
): ErrorReply | null {
  const state = cluster.state;
  let slot = NO_KEYS;
  let write = cmd.write;
  const multi = cmd.runsQueue ? client.multi : null;
  if (multi !== null) {
    for (let i = 0; i < multi.length; i++) {
      const queued = multi.commands[i];
      const s = commandSlot(queued, multi.args[i]);
      if (s === NO_KEYS) continue;
      if (s === CROSS || (slot !== NO_KEYS && s !== slot)) return CROSSSLOT;
      slot = s;
      if (queued.write) write = true;
    }
  } else if (!cmd.runsQueue) {
    slot = commandSlot(cmd, argv);
    if (slot === CROSS) return CROSSSLOT;
  }
  if (slot === NO_KEYS) return null;
  // The common case: a slot this node serves, not moving, with the cluster up.
  if (state.servedStable[slot] === 1 && state.ok) return null;
  // An atomic slot migration's source, streaming the slot into this node (slot_import.ts).
  if (client.importSlots !== null && client.importSlots[slot] === 1) return null;
  const owner = state.owners[slot];
  if (owner === null) return UNBOUND;
  if (!state.ok) {
    if (!cluster.host.ctx.config.values["cluster-allow-reads-when-down"]) return DOWN;
    if (write) return DOWN_READONLY;
  }
  const myself = state.myself;
  const migrating = owner === myself && state.migratingTo[slot] !== null;
  const importing = !migrating && state.importingFrom[slot] !== null;
  if (migrating || importing) {
    const keys = keysOf(cmd, argv, multi);
    const db = cluster.host.ctx.keyspace.db(0);
    const at = Date.now();
    let missing = 0;
    for (const key of keys) if (!db.has(toBinaryString(key), at)) missing++;
    if (migrating && missing > 0) {
      if (missing < keys.length) return TRYAGAIN;
      return redirect(cluster, "ASK", slot, state.migratingTo[slot] as ClusterNode, client);
    }
    if (importing && (client.asking || cmd.name === "restore-asking")) {
      const multipleKeys = keys.some((k) => !bytesEqual(k, keys[0]));
      if (multipleKeys && missing > 0) return TRYAGAIN;
      return null;
    }
  }
  if (owner === myself) return null;
  if (
    (client.clusterReadonly || cmd.def.group === "pubsub") && !write && myself.isReplica &&
    myself.master === owner
  ) return null;
  return redirect(cluster, "MOVED", slot, owner, client);
}

/** Every key of a command, or of a transaction's queued commands. */
function keysOf(
  cmd: Command,
  argv: readonly Uint8Array[],
  multi: ClientState["multi"],
): Uint8Array[] {
  const keys: Uint8Array[] = [];
  const add = (c: Command, args: readonly Uint8Array[]) => {
    const spec = c.keys;
    if (spec === null) {
      if (c.movableKeys !== null) { for (const i of c.movableKeys(args)) keys.push(args[i]); }
      return;
    }
    const last = lastKeyIndex(spec, args.length);
    for (let i = spec.first; i <= last; i += spec.step) keys.push(args[i]);
  };
  if (multi !== null) {
    for (let i = 0; i < multi.length; i++) {
      add(multi.commands[i], multi.args[i]);
    }
  } else add(cmd, argv);
  return keys;
}

function redirect(
  cluster: Cluster,
  kind: "MOVED" | "ASK",
  slot: number,
  node: ClusterNode,
  client: ClientState,
) {
  return new ErrorReply(
    `${kind} ${slot} ${endpointOf(cluster, node)}:${cluster.clientPortOf(node, client)}`,
  );
}
