/**
 * Replication's metric families: the node's role, its stream offset and backlog, its
 * followers with their acknowledged offsets and lag, a follower's link to its leader, and the
 * synchronisations served. A follower is also ready for traffic only while its link is up.
 */
import type { ServerContext } from "../commands/context.ts";
import { now } from "../util/clock.ts";
import type { Readiness } from "./health.ts";
import type { MetricsRegistry } from "./registry.ts";

/** Registers the replication families on `registry` and the link check on `readiness`. */
export function registerReplicationMetrics(
  registry: MetricsRegistry,
  readiness: Readiness,
  ctx: ServerContext,
): void {
  readiness.add("replication-link", () => {
    const follower = ctx.replication.follower;
    return follower === null || follower.state === "connected";
  });
  registry.addCollector((out) => {
    const replication = ctx.replication;
    const leader = replication.leader;
    const follower = replication.follower;
    out.family("gocache_role", "gauge", "The node's replication role (1 for the current one).")
      .sample(1, { role: follower === null ? "master" : "slave" });
    out.single(
      "gocache_replication_offset_bytes",
      "gauge",
      "Offset of the last byte of the replication stream (master_repl_offset).",
      leader.offset,
    );
    out.single(
      "gocache_replication_backlog_bytes",
      "gauge",
      "Bytes of stream history held by the backlog (repl_backlog_histlen).",
      leader.backlog?.historyLength ?? 0,
    );
    out.single(
      "gocache_replication_connected_followers",
      "gauge",
      "Followers attached to this node (connected_slaves).",
      [...leader.replicas].length,
    );
    const at = now();
    out.family(
      "gocache_replication_follower_lag_seconds",
      "gauge",
      "Seconds since each follower last acknowledged its offset.",
    );
    for (const r of leader.replicas) {
      out.sample((at - r.ackAt) / 1000, { follower: `${r.ip}:${r.port}` });
    }
    out.family(
      "gocache_replication_follower_offset_lag_bytes",
      "gauge",
      "Stream bytes each follower has not acknowledged yet.",
    );
    for (const r of leader.replicas) {
      out.sample(Math.max(0, leader.offset - r.ackOffset), { follower: `${r.ip}:${r.port}` });
    }
    out.single(
      "gocache_replication_link_up",
      "gauge",
      "On a follower, 1 while the link to its leader is up; 1 on a leader.",
      follower === null || follower.state === "connected" ? 1 : 0,
    );
    out.family(
      "gocache_replication_syncs_total",
      "counter",
      "Synchronisations served to followers, by kind (sync_full, sync_partial_ok/_err).",
    )
      .sample(leader.fullSyncs, { kind: "full" })
      .sample(leader.partialSyncsOk, { kind: "partial_ok" })
      .sample(leader.partialSyncsFailed, { kind: "partial_err" });
  });
}
