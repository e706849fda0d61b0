/**
 * Arguments of the CLUSTER subcommands, read as Redis reads them: slots, 64-bit integers, node
 * ids, and Redis's error for a subcommand with the wrong number of arguments.
 */
import type { Cluster } from "../cluster/cluster.ts";
import type { ClusterNode } from "../cluster/node.ts";
import { fromUtf8 } from "../util/bytes.ts";
import { parseInt64Bytes } from "../util/int64.ts";
import { CommandError, subcommandArityError } from "./errors.ts";
import { CLUSTER_SLOTS } from "../cluster/key_slot.ts";

/**
 * A slot argument: Redis's getSlotOrReply. Integers are read as Redis's getLongLongFromObject
 * reads them (parseInt64Bytes: no `+`, leading zeros or spaces; bigint past 2^53).
 */
export function slotArg(arg: Uint8Array): number {
  const slot = parseInt64Bytes(arg);
  if (slot === null || slot < 0 || slot >= CLUSTER_SLOTS) {
    throw new CommandError("ERR Invalid or out of range slot");
  }
  return Number(slot);
}

/**
 * Redis's addReplySubcommandSyntaxError, which clusterCommand answers when a subcommand's
 * argument count passes the command table but not the subcommand's own check (MEET, RESET,
 * FAILOVER): the subcommand as the client spelled it, cut at 128 bytes or a NUL.
 */
export function subcommandSyntaxError(argv: Uint8Array[]): CommandError {
  return new CommandError(subcommandArityError(argv[1], "cluster").message);
}

export function nodeArg(cluster: Cluster, arg: Uint8Array): ClusterNode {
  const id = fromUtf8(arg);
  const node = cluster.state.lookup(id);
  if (node === undefined) throw new CommandError(`ERR Unknown node ${id}`);
  return node;
}
