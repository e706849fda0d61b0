/**
 * Atomic slot migration's commands, named and shaped as Valkey 9's:
 *
 * - `CLUSTER MIGRATESLOTS SLOTSRANGE <start> <end> [<start> <end> ...] NODE <target-id>`, run on
 *   the source master: checks everything, replies +OK and moves the slots in the background
 *   (cluster/slot_migration.ts). One migration runs at a time per node.
 * - `CLUSTER CANCELSLOTMIGRATIONS`: stops the running migration (unless its handoff already
 *   began); the source keeps its slots and keys. Replies the number of migrations stopped.
 * - `CLUSTER GETSLOTMIGRATIONS`: one map per migration, newest last (the last 16 kept): name,
 *   slot ranges, source and target ids, state, keys sent, writes forwarded, bytes sent, the
 *   write pause of the handoff, start and end times (ms), and why it failed.
 * - `CLUSTER SYNCSLOTS ESTABLISH|FINISH|CANCEL ...`: internal, sent by a source to its target
 *   (cluster/slot_import.ts).
 *
 * @module
 */
import type { Cluster } from "../cluster/cluster.ts";
import { CLUSTER_SLOTS } from "../cluster/key_slot.ts";
import { SlotMigration } from "../cluster/slot_migration.ts";
import { endImport, establishImport, finishImport, ImportError } from "../cluster/slot_import.ts";
import { randomNodeId } from "../cluster/node.ts";
import { MapReply, OK, type Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { fromUtf8 } from "../util/bytes.ts";
import { slotArg } from "./_cluster_args.ts";
import { clusterOf } from "./cluster_views.ts";
import type { ServerContext } from "./context.ts";
import { CommandError, SYNTAX_ERROR } from "./errors.ts";
import type { CommandDef, CommandFlag } from "./registry.ts";
import { intArg, isWord } from "./_values.ts";

const HISTORY = 16;

/** Counters of a node's migrations since it started (for metrics). */
export interface MigrationTotals {
  /** Migrations by how they ended. */
  success: number;
  failed: number;
  cancelled: number;
  /** Keys and bytes sent by ended migrations. */
  keys: number;
  bytes: number;
}

interface Registry {
  jobs: SlotMigration[];
  totals: MigrationTotals;
}

const registries = new WeakMap<Cluster, Registry>();

function registryOf(cluster: Cluster): Registry {
  let registry = registries.get(cluster);
  if (registry === undefined) {
    registry = { jobs: [], totals: { success: 0, failed: 0, cancelled: 0, keys: 0, bytes: 0 } };
    registries.set(cluster, registry);
  }
  return registry;
}

/** The migration counters of `cluster` (zeros when none ran). */
export function migrationTotals(cluster: Cluster | null): MigrationTotals {
  if (cluster === null) return { success: 0, failed: 0, cancelled: 0, keys: 0, bytes: 0 };
  return registryOf(cluster).totals;
}

/** The slots of `SLOTSRANGE a b [a b ...]` starting at argv[i]; the index after them. */
function readRanges(argv: Uint8Array[], from: number, slots: Uint8Array): number {
  let i = from;
  while (i + 1 < argv.length && !isWord(argv[i], "node")) {
    if (isWord(argv[i + 1], "node")) throw new CommandError(SYNTAX_ERROR.message);
    const start = slotArg(argv[i]);
    const end = slotArg(argv[i + 1]);
    if (start > end) {
      throw new CommandError(
        `ERR start slot number ${start} is greater than end slot number ${end}`,
      );
    }
    for (let slot = start; slot <= end; slot++) {
      if (slots[slot]++ === 1) throw new CommandError(`ERR Slot ${slot} specified multiple times`);
    }
    i += 2;
  }
  if (i === from) throw new CommandError(SYNTAX_ERROR.message);
  return i;
}

function migrateSlots(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  const cluster = clusterOf(ctx);
  const state = cluster.state;
  const myself = state.myself;
  if (!myself.isMaster) throw new CommandError("ERR Please use MIGRATESLOTS only with masters.");
  if (!isWord(argv[2], "slotsrange")) throw new CommandError(SYNTAX_ERROR.message);
  const slots = new Uint8Array(CLUSTER_SLOTS);
  const at = readRanges(argv, 3, slots);
  if (at + 2 !== argv.length || !isWord(argv[at], "node")) {
    throw new CommandError(SYNTAX_ERROR.message);
  }
  const id = fromUtf8(argv[at + 1]);
  const target = state.lookup(id);
  if (target === undefined) throw new CommandError(`ERR Unknown node ${id}`);
  if (target === myself) throw new CommandError("ERR Can't migrate slots to myself");
  if (!target.isMaster) throw new CommandError("ERR Target node is not a master");
  if (target.failed || target.noAddress) throw new CommandError("ERR Target node is not reachable");
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    if (slots[slot] === 0) continue;
    if (state.owners[slot] !== myself) {
      throw new CommandError(`ERR I'm not the owner of hash slot ${slot}`);
    }
    if (state.migratingTo[slot] !== null || state.importingFrom[slot] !== null) {
      throw new CommandError(`ERR Slot ${slot} is being migrated or imported with SETSLOT`);
    }
  }
  const registry = registryOf(cluster);
  if (registry.jobs.some((job) => !job.ended)) {
    throw new CommandError("ERR A slot migration is already in progress");
  }
  const job = new SlotMigration(cluster, randomNodeId(), slots, target);
  registry.jobs.push(job);
  if (registry.jobs.length > HISTORY) registry.jobs.shift();
  void job.done.then(() => {
    const totals = registry.totals;
    if (job.state === "success") totals.success++;
    else if (job.state === "cancelled") totals.cancelled++;
    else totals.failed++;
    totals.keys += job.keysSent;
    totals.bytes += job.bytesSent;
  });
  return OK;
}

function describe(cluster: Cluster, job: SlotMigration): MapReply {
  return new MapReply([
    "name",
    job.name,
    "slot_ranges",
    job.ranges,
    "source_node",
    cluster.state.myself.id,
    "target_node",
    job.target.id,
    "state",
    job.state,
    "keys_sent",
    job.keysSent,
    "writes_forwarded",
    job.writesForwarded,
    "bytes_sent",
    job.bytesSent,
    "pause_ms",
    String(job.pauseMs),
    "create_time",
    job.startedAt,
    "end_time",
    job.endedAt,
    "message",
    job.message,
  ]);
}

function syncSlots(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const cluster = clusterOf(ctx);
  const action = fromUtf8(argv[2]).toLowerCase();
  try {
    if (action === "establish" && argv.length >= 6 && argv.length % 2 === 0) {
      const slots = new Uint8Array(CLUSTER_SLOTS);
      readRanges(argv, 4, slots);
      establishImport(cluster, client, fromUtf8(argv[3]), slots);
      return OK;
    }
    if (action === "finish" && argv.length === 4) {
      return finishImport(cluster, client, Number(intArg(argv[3])));
    }
    if (action === "announce" && argv.length === 3) {
      cluster.broadcastPong();
      return OK;
    }
    if (action === "cancel" && argv.length === 3) {
      endImport(cluster, client, "the source cancelled it");
      return OK;
    }
  } catch (e) {
    if (e instanceof ImportError) throw new CommandError(e.message);
    throw e;
  }
  throw new CommandError(SYNTAX_ERROR.message);
}

const adminFlags: CommandFlag[] = ["admin", "stale", "no_async_loading"];

function sub(
  name: string,
  arity: number,
  summary: string,
  handler: CommandDef["handler"],
): CommandDef {
  return {
    name,
    arity,
    flags: adminFlags,
    group: "cluster",
    summary,
    since: "9.0.0",
    complexity: "O(N) where N is the number of slots",
    handler,
  };
}

/** The CLUSTER subcommands of atomic slot migration. */
export const slotMigrationSubcommands: readonly CommandDef[] = [
  sub("migrateslots", -6, "Migrate hash slots to another master atomically", migrateSlots),
  sub("cancelslotmigrations", 2, "Cancel the running slot migration", (ctx) => {
    const cluster = clusterOf(ctx);
    return registryOf(cluster).jobs.filter((job) => job.cancel()).length;
  }),
  sub("getslotmigrations", 2, "List the slot migrations of this node", (ctx) => {
    const cluster = clusterOf(ctx);
    return registryOf(cluster).jobs.map((job) => describe(cluster, job));
  }),
  sub("syncslots", -3, "Internal: a slot migration's steps on its target", syncSlots),
];
