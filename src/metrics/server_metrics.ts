/**
 * The server's own metric families (prefix `gocache_`): commands, their latency and errors,
 * clients, keys, memory, evictions and expirations, hits and misses, network bytes, pub/sub and
 * persistence. Everything is read at scrape time from counters the server keeps for INFO
 * anyway; nothing here runs per command.
 */
import type { ServerContext } from "../commands/context.ts";
import { pubsubHub } from "../pubsub/hub.ts";
import type { Exposition } from "./exposition.ts";
import { LATENCY_BOUNDS_US } from "./latency.ts";
import type { MetricsRegistry } from "./registry.ts";

const BOUNDS_SECONDS = LATENCY_BOUNDS_US.map((us) => us / 1e6);

function commands(ctx: ServerContext, out: Exposition): void {
  const used = ctx.commands.byId.filter((c) => c.calls + c.rejectedCalls > 0);
  out.family("gocache_commands_processed_total", "counter", "Commands run, by command.");
  for (const c of used) out.sample(c.calls, { command: c.fullName });
  out.family(
    "gocache_commands_failed_total",
    "counter",
    "Commands that ran and replied with an error, by command.",
  );
  for (const c of used) out.sample(c.failedCalls, { command: c.fullName });
  out.family(
    "gocache_commands_rejected_total",
    "counter",
    "Commands refused before running (arity, authentication, OOM, ...), by command.",
  );
  for (const c of used) out.sample(c.rejectedCalls, { command: c.fullName });
  const latency = ctx.observer.latency;
  out.family(
    "gocache_command_duration_seconds",
    "histogram",
    "Time commands took to run, by command (recorded while the metrics endpoint or the slow " +
      "log is on).",
  );
  for (const c of used) {
    if (latency.counts[c.id] === 0) continue;
    out.histogram(
      { command: c.fullName },
      BOUNDS_SECONDS,
      (slot) => latency.bucket(c.id, slot),
      latency.sums[c.id] / 1e6,
    );
  }
  out.family("gocache_errors_total", "counter", "Error replies, by error code (first word).");
  for (const [code, count] of ctx.stats.errorsByCode) out.sample(count, { code });
}

function clientsAndNetwork(ctx: ServerContext, out: Exposition): void {
  const s = ctx.stats;
  out.single("gocache_connected_clients", "gauge", "Clients connected.", ctx.clients.size);
  out.single("gocache_max_clients", "gauge", "The maxclients limit.", ctx.config.values.maxclients);
  out.single(
    "gocache_connections_received_total",
    "counter",
    "Connections accepted.",
    s.connectionsReceived,
  );
  out.single(
    "gocache_rejected_connections_total",
    "counter",
    "Connections refused because maxclients was reached.",
    s.rejectedConnections,
  );
  out.single(
    "gocache_net_input_bytes_total",
    "counter",
    "Bytes read from clients.",
    s.netInputBytes,
  );
  out.single(
    "gocache_net_output_bytes_total",
    "counter",
    "Bytes written to clients.",
    s.netOutputBytes,
  );
  const hub = pubsubHub(ctx);
  out.single(
    "gocache_pubsub_channels",
    "gauge",
    "Channels with subscribers.",
    hub.channels("channel", null).length,
  );
  out.single("gocache_pubsub_patterns", "gauge", "Pattern subscriptions.", hub.patternCount);
  out.single(
    "gocache_pubsub_shard_channels",
    "gauge",
    "Shard channels with subscribers.",
    hub.channels("shard", null).length,
  );
}

function keyspace(ctx: ServerContext, out: Exposition): void {
  const ks = ctx.keyspace;
  out.family("gocache_keys", "gauge", "Keys, by database.");
  for (const db of ks.all()) out.sample(db.size, { db: String(db.index) });
  out.family("gocache_keys_with_ttl", "gauge", "Keys with a time to live, by database.");
  for (const db of ks.all()) out.sample(db.volatileCount, { db: String(db.index) });
  out.single(
    "gocache_memory_used_bytes",
    "gauge",
    "used_memory: heap at start plus the dataset's bytes.",
    ks.usedMemory,
  );
  out.single(
    "gocache_memory_max_bytes",
    "gauge",
    "The maxmemory limit (0 = none).",
    ks.eviction.maxmemory,
  );
  const c = ks.counters;
  out.single("gocache_evicted_keys_total", "counter", "Keys evicted at a limit.", c.evictedKeys);
  out.single("gocache_expired_keys_total", "counter", "Keys removed as expired.", c.expiredKeys);
  out.single("gocache_keyspace_hits_total", "counter", "Reads that found their key.", c.hits);
  out.single("gocache_keyspace_misses_total", "counter", "Reads that missed their key.", c.misses);
}

function persistence(ctx: ServerContext, loading: () => boolean, out: Exposition): void {
  const p = ctx.persistence;
  const flag = (b: boolean) => (b ? 1 : 0);
  out.single(
    "gocache_loading",
    "gauge",
    "1 while the dataset is loaded from disk at start.",
    flag(loading()),
  );
  out.single(
    "gocache_rdb_last_save_timestamp_seconds",
    "gauge",
    "When the last successful RDB save ended (the start time before any).",
    Math.floor(p.lastSaveTime / 1000),
  );
  out.single(
    "gocache_rdb_last_bgsave_success",
    "gauge",
    "1 if the last background save succeeded.",
    flag(p.lastBgsaveOk),
  );
  out.single(
    "gocache_rdb_bgsave_in_progress",
    "gauge",
    "1 while a background save runs.",
    flag(p.saving),
  );
  out.single(
    "gocache_rdb_changes_since_last_save",
    "gauge",
    "Writes since the last save.",
    p.changesSinceSave,
  );
  out.single("gocache_aof_enabled", "gauge", "1 when appendonly is on.", flag(p.aof !== null));
  out.single(
    "gocache_aof_current_size_bytes",
    "gauge",
    "Size of the append-only file (0 when off).",
    p.aof?.size ?? 0,
  );
  out.single(
    "gocache_aof_rewrite_in_progress",
    "gauge",
    "1 while an AOF rewrite runs.",
    flag(p.rewriting),
  );
  out.single(
    "gocache_aof_last_rewrite_success",
    "gauge",
    "1 if the last AOF rewrite succeeded.",
    flag(p.lastRewriteOk),
  );
  out.single(
    "gocache_aof_last_write_success",
    "gauge",
    "1 unless the last write to the AOF failed.",
    flag(!p.aof?.writeError),
  );
}

/**
 * Registers the server's families. `loading` tells whether the dataset is still being loaded
 * (the context cannot be asked before the server listens).
 */
export function registerServerMetrics(
  registry: MetricsRegistry,
  ctx: ServerContext,
  loading: () => boolean,
): void {
  registry.addCollector((out) => commands(ctx, out));
  registry.addCollector((out) => clientsAndNetwork(ctx, out));
  registry.addCollector((out) => keyspace(ctx, out));
  registry.addCollector((out) => persistence(ctx, loading, out));
}
