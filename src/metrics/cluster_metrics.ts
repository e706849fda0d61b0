/**
 * Cluster mode's metric families: whether the cluster is up, the nodes this node knows, the
 * slots by state, the epochs, bus messages by type and direction, bus bytes and links, and the
 * failover families (elections, promotions, demotions, nodes by failure state) that a
 * leader/follower group's bus reports too. The families exist with zero values while neither
 * runs (with `gocache_cluster_enabled` 0), so dashboards and alerts see the same series on
 * every node.
 */
import type { ServerContext } from "../commands/context.ts";
import { ClusterState, MESSAGE_TYPE_NAMES } from "../cluster/state.ts";
import { ClusterNode, NodeFlag } from "../cluster/node.ts";
import type { MetricsRegistry } from "./registry.ts";
import { migrationTotals } from "../commands/cluster_migration.ts";

/** What a node outside cluster mode reports: no nodes, no slots, no traffic. */
const EMPTY = new ClusterState(new ClusterNode("", NodeFlag.MYSELF | NodeFlag.MASTER, 0));

/** Registers the cluster families on `registry`. */
export function registerClusterMetrics(registry: MetricsRegistry, ctx: ServerContext): void {
  registry.addCollector((out) => {
    const bus = ctx.cluster ?? ctx.group;
    const failover = bus?.state ?? EMPTY;
    out.family(
      "gocache_failover_elections_total",
      "counter",
      "Failover elections this node started as a replica, and those it won.",
    )
      .sample(failover.electionsStarted, { result: "started" })
      .sample(failover.electionsWon, { result: "won" });
    out.family(
      "gocache_failover_role_changes_total",
      "counter",
      "Times this node took over its master's place (promoted), or lost its last slot and began following its new owner (demoted).",
    )
      .sample(failover.promotions, { change: "promoted" })
      .sample(failover.demotions, { change: "demoted" });
    let suspected = 0;
    let failed = 0;
    for (const node of failover.nodes.values()) {
      if ((node.flags & NodeFlag.FAIL) !== 0) failed++;
      else if ((node.flags & NodeFlag.PFAIL) !== 0) suspected++;
    }
    out.family(
      "gocache_failover_unreachable_nodes",
      "gauge",
      "Nodes this node suspects (pfail) or knows failed (fail), in its cluster or group.",
    )
      .sample(suspected, { state: "pfail" })
      .sample(failed, { state: "fail" });
    out.single(
      "gocache_failover_current_epoch",
      "gauge",
      "The highest epoch this node has seen, in its cluster or group.",
      failover.currentEpoch,
    );
    out.single(
      "gocache_group_enabled",
      "gauge",
      "1 when the node is a member of a leader/follower group (group-name).",
      ctx.group === null ? 0 : 1,
    );
    const cluster = ctx.cluster;
    out.single(
      "gocache_cluster_enabled",
      "gauge",
      "1 when the node runs in cluster mode (cluster-enabled yes).",
      cluster === null ? 0 : 1,
    );
    const state = cluster?.state ?? EMPTY;
    out.single(
      "gocache_cluster_state",
      "gauge",
      "1 while this node sees the cluster up (cluster_state:ok), 0 while it is down.",
      state.ok ? 1 : 0,
    );
    out.single(
      "gocache_cluster_known_nodes",
      "gauge",
      "Nodes this node knows, itself included (cluster_known_nodes).",
      cluster === null ? 0 : state.nodes.size,
    );
    const { assigned, pfail, fail } = state.slotCounts();
    out.family(
      "gocache_cluster_slots",
      "gauge",
      "Hash slots by state, as CLUSTER INFO counts them.",
    )
      .sample(assigned, { state: "assigned" })
      .sample(assigned - pfail - fail, { state: "ok" })
      .sample(pfail, { state: "pfail" })
      .sample(fail, { state: "fail" });
    out.single(
      "gocache_cluster_current_epoch",
      "gauge",
      "The highest epoch this node has seen (cluster_current_epoch).",
      state.currentEpoch,
    );
    out.single(
      "gocache_cluster_my_epoch",
      "gauge",
      "The config epoch of this node's shard (cluster_my_epoch).",
      cluster === null ? 0 : (state.shardMaster()?.configEpoch ?? state.myself.configEpoch),
    );
    out.family(
      "gocache_cluster_messages_total",
      "counter",
      "Cluster bus messages by direction and type.",
    );
    MESSAGE_TYPE_NAMES.forEach((type, i) => {
      out.sample(state.sent[i], { direction: "sent", type });
      out.sample(state.received[i], { direction: "received", type });
    });
    out.family("gocache_cluster_bus_bytes_total", "counter", "Cluster bus bytes by direction.")
      .sample(state.bytesSent, { direction: "sent" })
      .sample(state.bytesReceived, { direction: "received" });
    const migrations = migrationTotals(cluster);
    out.family(
      "gocache_cluster_slot_migrations_total",
      "counter",
      "Atomic slot migrations (CLUSTER MIGRATESLOTS) this node ran as the source, by result.",
    )
      .sample(migrations.success, { result: "success" })
      .sample(migrations.failed, { result: "failed" })
      .sample(migrations.cancelled, { result: "cancelled" });
    out.family(
      "gocache_cluster_slot_migration_sent_total",
      "counter",
      "Keys and bytes that ended atomic slot migrations sent to their targets.",
    )
      .sample(migrations.keys, { unit: "keys" })
      .sample(migrations.bytes, { unit: "bytes" });
    out.single(
      "gocache_cluster_links",
      "gauge",
      "Open cluster bus connections (both directions).",
      cluster?.links.size ?? 0,
    );
  });
}
