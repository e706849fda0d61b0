/**
 * Which node serves a command in cluster mode (Redis's getNodeByQuery): every key the command
 * table says a command has (for EXEC, every queued command's keys) must hash to one slot; the
 * slot's owner serves it, this node's replica does for READONLY clients' reads, a slot being
 * moved answers ASK or TRYAGAIN, and everything else is redirected with MOVED or refused with
 * CLUSTERDOWN. Dispatch calls {@link clusterRefusal} once per command.
 */
import { ErrorReply } from "../resp/reply.ts";
import type { Command } from "../commands/registry.ts";
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

/** The endpoint clients are told to use for a node (cluster-preferred-endpoint-type). */
export function endpointOf(cluster: Cluster, node: ClusterNode): string {
  const type = cluster.host.ctx.config.values["cluster-preferred-endpoint-type"];
  if (type === "ip") return node.ip;
  if (type === "hostname") return node.hostname !== "" ? node.hostname : "?";
  return "?";
}

/** Whether a command needs the slot check: it has keys, or it is EXEC. */
export function needsSlotCheck(cmd: Command): boolean {
  return cmd.def.keys !== undefined || cmd.runsQueue;
}

/**
 * Why this node may not run `cmd` for `client` in cluster mode (MOVED, ASK, CROSSSLOT,
 * TRYAGAIN, CLUSTERDOWN), or null when it serves it here.
 */
export function clusterRefusal(
  cluster: Cluster,
  client: ClientState,
  cmd: Command,
  argv: Uint8Array[],
): ErrorReply | null {
  const state = cluster.state;
  const myself = state.myself;
  let slot = -1;
  let owner: ClusterNode | null = null;
  let migrating = false;
  let importing = false;
  let multipleKeys = false;
  let firstKey: Uint8Array | null = null;
  let missing = 0;
  let existing = 0;
  let write = cmd.write;
  const visit = (c: Command, args: readonly Uint8Array[]): ErrorReply | null => {
    const spec = c.def.keys;
    if (spec === undefined) return null;
    if (c.write) write = true;
    const last = spec.last < 0 ? args.length + spec.last : spec.last;
    for (let i = spec.first; i <= last && i < args.length; i += spec.step) {
      const key = args[i];
      const keyHash = keySlot(key);
      if (slot < 0) {
        slot = keyHash;
        firstKey = key;
        owner = state.owners[slot];
        if (owner === null) return UNBOUND;
        if (owner === myself && state.migratingTo[slot] !== null) migrating = true;
        else if (state.importingFrom[slot] !== null) importing = true;
      } else if (keyHash !== slot) {
        return CROSSSLOT;
      } else if (!multipleKeys && !bytesEqual(firstKey as Uint8Array, key)) {
        multipleKeys = true;
      }
      if (migrating || importing) {
        if (cluster.host.ctx.keyspace.db(0).has(toBinaryString(key), Date.now())) existing++;
        else missing++;
      }
    }
    return null;
  };
  if (cmd.runsQueue) {
    const multi = client.multi;
    if (multi === null) return null;
    for (let i = 0; i < multi.length; i++) {
      const error = visit(multi.commands[i], multi.args[i]);
      if (error !== null) return error;
    }
  } else {
    const error = visit(cmd, argv);
    if (error !== null) return error;
  }
  if (owner === null) return null;
  const node = owner as ClusterNode;
  if (!state.ok) {
    if (!cluster.host.ctx.config.values["cluster-allow-reads-when-down"]) return DOWN;
    if (write) return DOWN_READONLY;
  }
  if (migrating && missing > 0) {
    if (existing > 0) return TRYAGAIN;
    return redirect(cluster, "ASK", slot, state.migratingTo[slot] as ClusterNode);
  }
  if (importing && (client.asking || cmd.name === "restore-asking")) {
    if (multipleKeys && missing > 0) return TRYAGAIN;
    return null;
  }
  const shardChannel = cmd.def.flags.includes("pubsub");
  if (
    (client.clusterReadonly || shardChannel) && !write && myself.isReplica &&
    myself.master === node
  ) return null;
  if (node === myself) return null;
  return redirect(cluster, "MOVED", slot, node);
}

function redirect(cluster: Cluster, kind: "MOVED" | "ASK", slot: number, node: ClusterNode) {
  return new ErrorReply(`${kind} ${slot} ${endpointOf(cluster, node)}:${node.port}`);
}
