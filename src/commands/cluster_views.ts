/**
 * CLUSTER's descriptive replies, with Redis 7.0's shapes: HELP, INFO, SLOTS, SHARDS and LINKS
 * (NODES is nodes_conf.ts's text), and the one check every cluster command makes first.
 */
import type { Cluster } from "../cluster/cluster.ts";
import type { ClusterNode } from "../cluster/node.ts";
import { endpointOf, ipOf } from "../cluster/redirect.ts";
import { MESSAGE_TYPE_NAMES } from "../cluster/state.ts";
import { MapReply, type Reply, SimpleString, VerbatimReply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";

const DISABLED = "ERR This instance has cluster support disabled";

/** The node's cluster, or Redis's error when cluster mode is off. */
export function clusterOf(ctx: ServerContext): Cluster {
  if (ctx.cluster === null) throw new CommandError(DISABLED);
  return ctx.cluster;
}

/** CLUSTER HELP, Redis 7.0's text. */
export const HELP: readonly SimpleString[] = [
  "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "ADDSLOTS <slot> [<slot> ...]",
  "    Assign slots to current node.",
  "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
  "    Assign slots which are between <start-slot> and <end-slot> to current node.",
  "BUMPEPOCH",
  "    Advance the cluster config epoch.",
  "COUNT-FAILURE-REPORTS <node-id>",
  "    Return number of failure reports for <node-id>.",
  "COUNTKEYSINSLOT <slot>",
  "    Return the number of keys in <slot>.",
  "DELSLOTS <slot> [<slot> ...]",
  "    Delete slots information from current node.",
  "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
  "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
  "FAILOVER [FORCE|TAKEOVER]",
  "    Promote current replica node to being a master.",
  "FORGET <node-id>",
  "    Remove a node from the cluster.",
  "GETKEYSINSLOT <slot> <count>",
  "    Return key names stored by current node in a slot.",
  "FLUSHSLOTS",
  "    Delete current node own slots information.",
  "INFO",
  "    Return information about the cluster.",
  "KEYSLOT <key>",
  "    Return the hash slot for <key>.",
  "MEET <ip> <port> [<bus-port>]",
  "    Connect nodes into a working cluster.",
  "MYID",
  "    Return the node id.",
  "NODES",
  "    Return cluster configuration seen by node. Output format:",
  "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
  "REPLICATE <node-id>",
  "    Configure current node as replica to <node-id>.",
  "RESET [HARD|SOFT]",
  "    Reset current node (default: soft).",
  "SET-CONFIG-EPOCH <epoch>",
  "    Set config epoch of current node.",
  "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
  "    Set slot state.",
  "REPLICAS <node-id>",
  "    Return <node-id> replicas.",
  "SAVECONFIG",
  "    Force saving cluster configuration on disk.",
  "SLOTS",
  "    Return information about slots range mappings. Each range is made of:",
  "    start, end, master and replicas IP addresses, ports and ids",
  "SHARDS",
  "    Return information about slot range mappings and the nodes associated with them.",
  "LINKS",
  "    Return information about all network links between this node and its peers.",
  "    Output format is an array where each array element is a map containing attributes of a link",
  "HELP",
  "    Prints this help.",
].map((line) => new SimpleString(line));

/** CLUSTER INFO. */
export function info(ctx: ServerContext): Reply {
  const cluster = clusterOf(ctx);
  const state = cluster.state;
  const { assigned, pfail, fail } = state.slotCounts();
  const myEpoch = state.shardMaster()?.configEpoch ?? state.myself.configEpoch;
  const lines = [
    `cluster_state:${state.ok ? "ok" : "fail"}`,
    `cluster_slots_assigned:${assigned}`,
    `cluster_slots_ok:${assigned - pfail - fail}`,
    `cluster_slots_pfail:${pfail}`,
    `cluster_slots_fail:${fail}`,
    `cluster_known_nodes:${state.nodes.size}`,
    `cluster_size:${state.size}`,
    `cluster_current_epoch:${state.currentEpoch}`,
    `cluster_my_epoch:${myEpoch}`,
  ];
  for (const [counts, suffix] of [[state.sent, "sent"], [state.received, "received"]] as const) {
    let total = 0;
    counts.forEach((count, type) => {
      if (count === 0) return;
      lines.push(`cluster_stats_messages_${MESSAGE_TYPE_NAMES[type]}_${suffix}:${count}`);
      total += count;
    });
    lines.push(`cluster_stats_messages_${suffix}:${total}`);
  }
  lines.push(`total_cluster_links_buffer_limit_exceeded:${state.linksBufferLimitExceeded}`);
  return new VerbatimReply(lines.join("\r\n") + "\r\n");
}

/** One node of CLUSTER SLOTS: endpoint, port, id and the other addresses (Redis 7.0). */
function slotsNode(cluster: Cluster, node: ClusterNode, client: ClientState): Reply {
  const type = ctxType(cluster);
  const meta: Reply[] = [];
  const ip = ipOf(node, client);
  if (type !== "ip" && ip !== "") meta.push("ip", ip);
  if (type !== "hostname" && node.hostname !== "") meta.push("hostname", node.hostname);
  return [
    endpointOf(cluster, node, client),
    cluster.clientPortOf(node, client),
    node.id,
    new MapReply(meta),
  ];
}

function ctxType(cluster: Cluster): string {
  return cluster.host.ctx.config.values["cluster-preferred-endpoint-type"];
}

/** CLUSTER SLOTS, ranges in slot order. */
export function slots(ctx: ServerContext, client: ClientState): Reply {
  const cluster = clusterOf(ctx);
  const entries: { start: number; reply: Reply }[] = [];
  for (const node of cluster.state.nodes.values()) {
    if (!node.isMaster || node.slotCount === 0) continue;
    const replicas = node.replicas.filter((r) => !r.failed).map((r) =>
      slotsNode(cluster, r, client)
    );
    for (const [start, end] of node.slotRanges()) {
      entries.push({ start, reply: [start, end, slotsNode(cluster, node, client), ...replicas] });
    }
  }
  entries.sort((a, b) => a.start - b.start);
  return entries.map((e) => e.reply);
}

function shardNode(cluster: Cluster, node: ClusterNode, client: ClientState): Reply {
  // Redis 7.0: with tls-cluster a node's port is its TLS port, and its plain one is pport.
  const tlsCluster = cluster.host.ctx.config.values["tls-cluster"];
  const plainPort = tlsCluster ? node.pport : node.port;
  const flat: Reply[] = ["id", node.id];
  if (plainPort !== 0) flat.push("port", plainPort);
  if (tlsCluster) flat.push("tls-port", node.port);
  flat.push("ip", ipOf(node, client));
  flat.push("endpoint", endpointOf(cluster, node, client));
  if (node.hostname !== "") flat.push("hostname", node.hostname);
  const offset = node.isMyself ? cluster.host.ctx.replication.leader.offset : node.replOffset;
  flat.push("role", node.isReplica ? "replica" : "master", "replication-offset", offset);
  const health = node.failed ? "fail" : node.isReplica && offset === 0 ? "loading" : "online";
  flat.push("health", health);
  return new MapReply(flat);
}

/** CLUSTER SHARDS: each master with its slots and its nodes. */
export function shards(ctx: ServerContext, client: ClientState): Reply {
  const cluster = clusterOf(ctx);
  const out: Reply[] = [];
  for (const node of cluster.state.nodes.values()) {
    if (!node.isMaster) continue;
    const slotList: number[] = [];
    for (const [a, b] of node.slotRanges()) slotList.push(a, b);
    const nodes = [node, ...node.replicas].map((n) => shardNode(cluster, n, client));
    out.push(new MapReply(["slots", slotList, "nodes", nodes]));
  }
  return out;
}

/** CLUSTER LINKS: the bus connections of identified nodes. */
export function links(ctx: ServerContext): Reply {
  const cluster = clusterOf(ctx);
  const out: Reply[] = [];
  for (const link of cluster.links) {
    if (link.node === null) continue;
    out.push(
      new MapReply([
        "direction",
        link.inbound ? "from" : "to",
        "node",
        link.node.id,
        "create-time",
        link.createdAt,
        "events",
        link.sendBufferBytes > 0 ? "rw" : "r",
        "send-buffer-allocated",
        link.sendBufferBytes,
        "send-buffer-used",
        link.sendBufferBytes,
      ]),
    );
  }
  return out;
}
