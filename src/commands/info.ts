/** INFO: the server's state as Redis's `field:value` sections, with Redis's field names. */
import { blockedClientCount } from "../server/blocked_keys.ts";
import { type Reply, VerbatimReply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { asciiLower } from "../util/bytes.ts";
import { now, nowMicros } from "../util/clock.ts";
import type { ServerContext } from "./context.ts";
import type { CommandDef } from "./registry.ts";
import { pubsubHub } from "../pubsub/hub.ts";
import { commandstats, cpu, errorstats } from "./info_stats.ts";

type Section = (ctx: ServerContext) => [string, string | number][];

const SECTIONS: Record<string, Section> = {
  server: (ctx) => {
    const id = ctx.identity;
    const uptime = Math.floor((now() - id.startedAt) / 1000);
    return [
      ["redis_version", id.redisVersion],
      ["gocache_version", id.version],
      ["redis_git_sha1", "00000000"],
      ["redis_git_dirty", 0],
      ["redis_mode", "standalone"],
      ["os", `${Deno.build.os} ${Deno.build.arch}`],
      ["arch_bits", 64],
      ["multiplexing_api", "deno"],
      ["runtime", `deno ${Deno.version.deno} v8 ${Deno.version.v8}`],
      ["process_id", id.pid],
      ["run_id", id.runId],
      ["tcp_port", id.port],
      ["server_time_usec", nowMicros()],
      ["uptime_in_seconds", uptime],
      ["uptime_in_days", Math.floor(uptime / 86400)],
      ["hz", ctx.config.values.hz],
      ["configured_hz", ctx.config.values.hz],
      ["executable", Deno.execPath()],
      ["config_file", ctx.config.file],
    ];
  },
  clients: (ctx) => {
    let maxInput = 0;
    let maxOutput = 0;
    for (const c of ctx.clients.all()) {
      maxInput = Math.max(maxInput, c.state.queryBufferBytes);
      maxOutput = Math.max(maxOutput, c.state.outputBufferBytes);
    }
    return [
      ["connected_clients", ctx.clients.size],
      ["cluster_connections", ctx.cluster?.links.size ?? 0],
      ["maxclients", ctx.config.values.maxclients],
      ["client_recent_max_input_buffer", maxInput],
      ["client_recent_max_output_buffer", maxOutput],
      ["blocked_clients", blockedClientCount(ctx)],
      ["tracking_clients", 0],
    ];
  },
  memory: (ctx) => {
    const ks = ctx.keyspace;
    const used = ks.usedMemory;
    const { rss, heapUsed } = Deno.memoryUsage();
    const max = ks.eviction.maxmemory;
    return [
      ["used_memory", used],
      ["used_memory_human", humanBytes(used)],
      ["used_memory_rss", rss],
      ["used_memory_rss_human", humanBytes(rss)],
      ["used_memory_dataset", ks.datasetBytes],
      ["used_memory_startup", ks.baselineBytes],
      ["used_memory_heap", heapUsed],
      ...(ctx.scripting?.memoryFields(humanBytes) ?? []),
      ["maxmemory", max],
      ["maxmemory_human", humanBytes(max)],
      ["maxmemory_policy", ks.eviction.policy],
      ["mem_fragmentation_ratio", (rss / Math.max(1, used)).toFixed(2)],
    ];
  },
  persistence: (ctx) => {
    const p = ctx.persistence;
    const aof = p.aof;
    const fields: [string, string | number][] = [
      ["loading", 0],
      ["async_loading", 0],
      ["rdb_changes_since_last_save", p.changesSinceSave],
      ["rdb_bgsave_in_progress", p.saving ? 1 : 0],
      ["rdb_last_save_time", Math.floor(p.lastSaveTime / 1000)],
      ["rdb_last_bgsave_status", p.lastBgsaveOk ? "ok" : "err"],
      ["rdb_last_bgsave_time_sec", p.lastBgsaveSeconds],
      ["rdb_saves", p.saves],
      ["aof_enabled", aof === null ? 0 : 1],
      ["aof_rewrite_in_progress", p.rewriting ? 1 : 0],
      ["aof_rewrite_scheduled", p.rewriteScheduled ? 1 : 0],
      ["aof_last_rewrite_time_sec", p.lastRewriteSeconds],
      ["aof_last_bgrewrite_status", p.lastRewriteOk ? "ok" : "err"],
      ["aof_rewrites", p.rewrites],
      ["aof_last_write_status", aof?.writeError ? "err" : "ok"],
    ];
    if (aof !== null) {
      fields.push(
        ["aof_current_size", aof.size],
        ["aof_base_size", aof.baseSize],
        ["aof_buffer_length", aof.pendingBytes],
        ["aof_pending_bio_fsync", 0],
        ["aof_delayed_fsync", 0],
      );
    }
    return fields;
  },
  stats: (ctx) => {
    const s = ctx.stats;
    return [
      ["total_connections_received", s.connectionsReceived],
      ["total_commands_processed", s.commandsProcessed],
      ["instantaneous_ops_per_sec", s.instantaneousOps],
      ["total_net_input_bytes", s.netInputBytes],
      ["total_net_output_bytes", s.netOutputBytes],
      ["rejected_connections", s.rejectedConnections],
      ["sync_full", ctx.replication.leader.fullSyncs],
      ["sync_partial_ok", ctx.replication.leader.partialSyncsOk],
      ["sync_partial_err", ctx.replication.leader.partialSyncsFailed],
      ["total_error_replies", s.errorReplies],
      ["client_query_buffer_limit_disconnections", s.queryBufferLimitDisconnections],
      ["client_output_buffer_limit_disconnections", s.outputBufferLimitDisconnections],
      ["expired_keys", ctx.keyspace.counters.expiredKeys],
      ["evicted_keys", ctx.keyspace.counters.evictedKeys],
      ["keyspace_hits", ctx.keyspace.counters.hits],
      ["keyspace_misses", ctx.keyspace.counters.misses],
      ["pubsub_channels", pubsubHub(ctx).channels("channel", null).length],
      ["pubsub_patterns", pubsubHub(ctx).patternCount],
      ["pubsubshard_channels", pubsubHub(ctx).channels("shard", null).length],
    ];
  },
  replication: (ctx) => ctx.replication.infoFields(),
  keyspace: (ctx) => {
    const at = now();
    return ctx.keyspace.all().filter((db) => db.size > 0).map((db) => [
      `db${db.index}`,
      `keys=${db.size},expires=${db.volatileCount},avg_ttl=${db.averageTtl(at)}`,
    ]);
  },
  cpu,
  commandstats,
  errorstats,
  cluster: (ctx) => [["cluster_enabled", ctx.cluster !== null ? 1 : 0], ...groupFields(ctx)],
};

/**
 * A leader/follower group member's fields, after `cluster_enabled` (none outside a group): the
 * group, whether it reaches a majority, the leader it sees, epochs and failover counts.
 */
function groupFields(ctx: ServerContext): [string, string | number][] {
  const bus = ctx.group;
  const group = bus?.group ?? null;
  if (bus === null || group === null) return [];
  const state = bus.state;
  const leader = group.leader;
  let reachable = 0;
  for (const node of state.nodes.values()) {
    if (!node.inHandshake && !node.noAddress && !node.timedOut && !node.failed) reachable++;
  }
  return [
    ["group_name", group.name],
    ["group_state", state.ok ? "ok" : "fail"],
    ["group_leader", leader === null ? "" : group.addressOf(bus, leader).join(":")],
    ["group_members", group.members.length],
    ["group_reachable_members", reachable],
    ["group_current_epoch", state.currentEpoch],
    ["group_leader_changes", group.leaderChanges],
    ["group_elections_started", state.electionsStarted],
    ["group_elections_won", state.electionsWon],
  ];
}

/**
 * Sections in the order Redis prints them, whatever order they were asked in. Each is in INFO
 * `all`; those marked default are also in bare INFO and `default`.
 */
const ORDER: readonly { name: string; isDefault: boolean }[] = [
  { name: "server", isDefault: true },
  { name: "clients", isDefault: true },
  { name: "memory", isDefault: true },
  { name: "persistence", isDefault: true },
  { name: "stats", isDefault: true },
  { name: "replication", isDefault: true },
  { name: "cpu", isDefault: true },
  { name: "commandstats", isDefault: false },
  { name: "errorstats", isDefault: true },
  { name: "cluster", isDefault: true },
  { name: "keyspace", isDefault: true },
];

/** Redis's human-readable sizes (`1.50M`). */
function humanBytes(n: number): string {
  const units = ["B", "K", "M", "G", "T"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n}B` : `${value.toFixed(2)}${units[unit]}`;
}

/**
 * Builds the INFO text for the requested section names, as Redis 7 selects them: none means
 * `default`; `default`, `all` and `everything` (all, modules included: we have none) add their
 * sets; names combine (`INFO default commandstats`); unknown names add nothing; sections come
 * in Redis's order.
 */
export function infoText(ctx: ServerContext, requested: readonly string[]): string {
  const asked = new Set(requested.length === 0 ? ["default"] : requested);
  const all = asked.has("all") || asked.has("everything");
  const names = ORDER.filter((s) =>
    SECTIONS[s.name] !== undefined &&
    (all || asked.has(s.name) || (s.isDefault && asked.has("default")))
  ).map((s) => s.name);
  const parts: string[] = [];
  for (const name of names) {
    const title = name === "cpu" ? "CPU" : name[0].toUpperCase() + name.slice(1);
    const lines = SECTIONS[name](ctx).map(([k, v]) => `${k}:${v}\r\n`).join("");
    parts.push(`# ${title}\r\n${lines}`);
  }
  return parts.join("\r\n");
}

function info(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  return new VerbatimReply(infoText(ctx, argv.slice(1).map(asciiLower)));
}

/** INFO declaration. */
export const infoCommand: CommandDef = {
  name: "info",
  arity: -1,
  flags: ["loading", "stale", "sentinel"],
  group: "server",
  acl: ["@dangerous"],
  summary: "Returns information and statistics about the server.",
  since: "1.0.0",
  complexity: "O(1)",
  handler: info,
};
