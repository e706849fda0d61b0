/**
 * Cluster commands with Redis 7.0's replies and errors: CLUSTER and its subcommands, ASKING,
 * READONLY and READWRITE. Handlers read arguments, change the cluster state through its owner
 * (src/cluster) and shape replies; the bus spreads the changes.
 */
import { CLUSTER_SLOTS, keySlot } from "../cluster/key_slot.ts";
import { describeNodes } from "../cluster/nodes_conf.ts";
import { countKeysInSlot, keysInSlot } from "../cluster/slot_keys.ts";
import { replaceMaster } from "../cluster/failover.ts";
import { resetManualFailover, startManualFailover } from "../cluster/manual_failover.ts";
import { clusterOf, HELP, info, links, shards, slots } from "./cluster_views.ts";
import { slotMigrationSubcommands } from "./cluster_migration.ts";
import {
  bumpEpoch,
  forget,
  meet,
  replicas,
  replicate,
  reset,
  setConfigEpoch,
  usePport,
} from "./cluster_nodes.ts";
import { nodeArg, slotArg, subcommandSyntaxError } from "./_cluster_args.ts";
import { OK, type Reply, VerbatimReply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { fromUtf8 } from "../util/bytes.ts";
import { logger } from "../util/logger.ts";
import type { ServerContext } from "./context.ts";
import { intArg } from "./_values.ts";
import { CommandError } from "./errors.ts";
import type { CommandDef, CommandFlag, Handler } from "./registry.ts";

const log = logger("cluster");

/** ADDSLOTS/DELSLOTS and their RANGE forms: checks everything, then applies all. */
function slotsChange(add: boolean, ranges: boolean): Handler {
  return (ctx, _client, argv) => {
    const cluster = clusterOf(ctx);
    const state = cluster.state;
    const name = ranges ? (add ? "cluster|addslotsrange" : "cluster|delslotsrange") : "";
    if (ranges && argv.length % 2 === 1) {
      throw new CommandError(`ERR wrong number of arguments for '${name}' command`);
    }
    const wanted = new Uint8Array(CLUSTER_SLOTS);
    const slots: number[] = [];
    if (ranges) {
      for (let i = 2; i < argv.length; i += 2) {
        const start = slotArg(argv[i]);
        const end = slotArg(argv[i + 1]);
        if (start > end) {
          throw new CommandError(
            `ERR start slot number ${start} is greater than end slot number ${end}`,
          );
        }
        for (let slot = start; slot <= end; slot++) slots.push(slot);
      }
    } else for (let i = 2; i < argv.length; i++) slots.push(slotArg(argv[i]));
    for (const slot of slots) {
      if (add && state.owners[slot] !== null) {
        throw new CommandError(`ERR Slot ${slot} is already busy`);
      }
      if (!add && state.owners[slot] === null) {
        throw new CommandError(`ERR Slot ${slot} is already unassigned`);
      }
      if (wanted[slot]++ === 1) throw new CommandError(`ERR Slot ${slot} specified multiple times`);
    }
    for (const slot of slots) {
      if (add) {
        // A slot this node was importing is now its own.
        state.setImporting(slot, null);
        state.addSlot(state.myself, slot);
      } else state.delSlot(slot);
    }
    cluster.updateState();
    cluster.saveConfig();
    return OK;
  };
}

function setSlot(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  const cluster = clusterOf(ctx);
  const state = cluster.state;
  const myself = state.myself;
  if (myself.isReplica) throw new CommandError("ERR Please use SETSLOT only with masters.");
  const slot = slotArg(argv[2]);
  const action = fromUtf8(argv[3]).toLowerCase();
  const invalid = "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP";
  // As Redis: an action with the wrong argument count is an invalid action, and MIGRATING and
  // IMPORTING check the slot's owner before they look the node up.
  const arity = action === "stable" ? 4 : 5;
  if (argv.length !== arity) throw new CommandError(invalid);
  const target = (unknown: string) => {
    const id = fromUtf8(argv[4]);
    const node = state.lookup(id);
    if (node === undefined) throw new CommandError(`ERR ${unknown} ${id}`);
    return node;
  };
  // A SETSLOT that changes nothing answers OK without rewriting nodes.conf, which already holds
  // this state: redis-cli sends SETSLOT NODE to every master after each slot it moves, and most
  // of them have learned the new owner from the bus by then.
  const unchanged = (same: boolean) => same && !state.dirty;
  if (action === "migrating") {
    if (state.owners[slot] !== myself) {
      throw new CommandError(`ERR I'm not the owner of hash slot ${slot}`);
    }
    const node = target("I don't know about node");
    if (node.isReplica) throw new CommandError("ERR Target node is not a master");
    if (unchanged(state.migratingTo[slot] === node)) return OK;
    state.setMigrating(slot, node);
  } else if (action === "importing") {
    if (state.owners[slot] === myself) {
      throw new CommandError(`ERR I'm already the owner of hash slot ${slot}`);
    }
    const node = target("I don't know about node");
    if (node.isReplica) throw new CommandError("ERR Target node is not a master");
    if (unchanged(state.importingFrom[slot] === node)) return OK;
    state.setImporting(slot, node);
  } else if (action === "stable") {
    if (unchanged(state.importingFrom[slot] === null && state.migratingTo[slot] === null)) {
      return OK;
    }
    state.setImporting(slot, null);
    state.setMigrating(slot, null);
  } else if (action === "node") {
    const node = target("Unknown node");
    if (node.isReplica) throw new CommandError("ERR Target node is not a master");
    if (state.owners[slot] === myself && node !== myself && countKeysInSlot(ctx, slot) > 0) {
      throw new CommandError(
        `ERR Can't assign hashslot ${slot} to a different node while I still hold keys for this hash slot.`,
      );
    }
    // Only IMPORTING (for this node) or MIGRATING (for another) is left to clear.
    const settled = node === myself
      ? state.importingFrom[slot] === null
      : state.migratingTo[slot] === null;
    if (unchanged(state.owners[slot] === node && settled)) return OK;
    if (node !== myself) state.setMigrating(slot, null);
    const imported = node === myself && state.importingFrom[slot] !== null;
    const wasMine = state.owners[slot] === myself;
    state.delSlot(slot);
    state.addSlot(node, slot);
    // As Redis 7.0: a master left without slots becomes a replica of the node that took its
    // last one, whether it hears of it by this command or by the bus (gossip.ts).
    if (
      wasMine && node !== myself && myself.slotCount === 0 &&
      ctx.config.values["cluster-allow-replica-migration"]
    ) {
      log.info("Lost my last slot to {id}: reconfiguring as its replica", { id: node.id });
      // Counted as the bus's path counts it (gossip.ts), whichever of the two comes first.
      state.demotions++;
      cluster.setMaster(node);
    }
    if (imported) {
      state.setImporting(slot, null);
      // As Redis: taking an imported slot bumps this node's epoch so the change wins.
      const max = state.maxConfigEpoch();
      if (myself.configEpoch === 0 || myself.configEpoch !== max) {
        state.currentEpoch++;
        myself.configEpoch = state.currentEpoch;
      }
      // After the reply, as Redis (see broadcastPongSoon).
      cluster.broadcastPongSoon();
    }
  } else throw new CommandError(invalid);
  state.dirty = true;
  cluster.updateState();
  cluster.saveConfigSoon();
  return OK;
}

const stale: CommandFlag[] = ["stale"];
const adminFlags: CommandFlag[] = ["admin", "stale", "no_async_loading"];

function sub(
  name: string,
  arity: number,
  flags: CommandFlag[],
  summary: string,
  complexity: string,
  handler: Handler,
  since = "3.0.0",
): CommandDef {
  return { name, arity, flags, group: "cluster", summary, since, complexity, handler };
}

const slotCountText = "O(N) where N is the total number of hash slot arguments";
const rangeText =
  "O(N) where N is the total number of the slots between the start slot and end slot arguments.";

/** CLUSTER, ASKING, READONLY, READWRITE. */
export const clusterCommands: readonly CommandDef[] = [
  {
    name: "cluster",
    arity: -2,
    flags: [],
    group: "cluster",
    summary: "A container for cluster commands",
    since: "3.0.0",
    complexity: "Depends on subcommand.",
    subcommands: [
      sub("setslot", -4, adminFlags, "Bind a hash slot to a specific node", "O(1)", setSlot),
      ...slotMigrationSubcommands,
      sub(
        "help",
        2,
        ["loading", "stale"],
        "Show helpful text about the different subcommands",
        "O(1)",
        () => HELP,
        "5.0.0",
      ),
      sub(
        "getkeysinslot",
        4,
        stale,
        "Return local key names in the specified hash slot",
        "O(log(N)) where N is the number of requested keys",
        (ctx, _client, argv) => {
          clusterOf(ctx);
          const slot = intArg(argv[2]);
          const count = intArg(argv[3]);
          if (slot < 0 || slot >= CLUSTER_SLOTS || count < 0) {
            throw new CommandError("ERR Invalid slot or number of keys");
          }
          return keysInSlot(ctx, Number(slot), Number(count));
        },
      ),
      sub(
        "slaves",
        3,
        ["admin", "stale"],
        "List replica nodes of the specified master node",
        "O(1)",
        replicas,
      ),
      sub(
        "addslotsrange",
        -4,
        adminFlags,
        "Assign new hash slots to receiving node",
        rangeText,
        slotsChange(true, true),
        "7.0.0",
      ),
      sub(
        "reset",
        -2,
        ["admin", "noscript", "stale"],
        "Reset a Redis Cluster node",
        "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.",
        reset,
      ),
      sub(
        "replicate",
        3,
        adminFlags,
        "Reconfigure a node as a replica of the specified master node",
        "O(1)",
        replicate,
      ),
      sub(
        "delslotsrange",
        -4,
        adminFlags,
        "Set hash slots as unbound in receiving node",
        rangeText,
        slotsChange(false, true),
        "7.0.0",
      ),
      sub(
        "countkeysinslot",
        3,
        stale,
        "Return the number of local keys in the specified hash slot",
        "O(1)",
        (ctx, _client, argv) => {
          clusterOf(ctx);
          const slot = intArg(argv[2]);
          if (slot < 0 || slot >= CLUSTER_SLOTS) throw new CommandError("ERR Invalid slot");
          return countKeysInSlot(ctx, Number(slot));
        },
      ),
      sub("info", 2, stale, "Provides info about Redis Cluster node state", "O(1)", info),
      sub(
        "keyslot",
        3,
        stale,
        "Returns the hash slot of the specified key",
        "O(N) where N is the number of bytes in the key",
        (ctx, _client, argv) => {
          clusterOf(ctx);
          return keySlot(argv[2]);
        },
      ),
      sub(
        "replicas",
        3,
        ["admin", "stale"],
        "List replica nodes of the specified master node",
        "O(1)",
        replicas,
        "5.0.0",
      ),
      sub(
        "nodes",
        2,
        stale,
        "Get Cluster config for the node",
        "O(N) where N is the total number of Cluster nodes",
        (ctx, client) =>
          new VerbatimReply(describeNodes(clusterOf(ctx).state, false, usePport(ctx, client))),
      ),
      sub(
        "set-config-epoch",
        3,
        adminFlags,
        "Set the configuration epoch in a new node",
        "O(1)",
        setConfigEpoch,
      ),
      sub(
        "flushslots",
        2,
        adminFlags,
        "Delete a node's own slots information",
        "O(1)",
        (ctx) => {
          const cluster = clusterOf(ctx);
          if (ctx.keyspace.db(0).size !== 0) {
            throw new CommandError("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.");
          }
          const state = cluster.state;
          for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
            if (state.owners[slot] === state.myself) state.delSlot(slot);
          }
          cluster.updateState();
          cluster.saveConfig();
          return OK;
        },
      ),
      sub("myid", 2, stale, "Return the node id", "O(1)", (ctx) => clusterOf(ctx).state.myself.id),
      sub(
        "shards",
        2,
        stale,
        "Get array of cluster slots to node mappings",
        "O(N) where N is the total number of cluster nodes",
        shards,
        "7.0.0",
      ),
      sub(
        "failover",
        -2,
        adminFlags,
        "Forces a replica to perform a manual failover of its master.",
        "O(1)",
        (ctx, _client, argv) => {
          const cluster = clusterOf(ctx);
          if (argv.length > 3) throw subcommandSyntaxError(argv);
          const mode = argv.length === 3 ? fromUtf8(argv[2]).toLowerCase() : "";
          if (mode !== "" && mode !== "force" && mode !== "takeover") {
            throw new CommandError("ERR syntax error");
          }
          const myself = cluster.state.myself;
          if (myself.isMaster) {
            throw new CommandError("ERR You should send CLUSTER FAILOVER to a replica");
          }
          const master = myself.master;
          if (master === null) {
            throw new CommandError("ERR I'm a replica but my master is unknown to me");
          }
          if (mode === "" && (master.failed || master.link === null)) {
            throw new CommandError(
              "ERR Master is down or failed, please use CLUSTER FAILOVER FORCE",
            );
          }
          resetManualFailover(cluster);
          if (mode === "takeover") {
            // No vote: a new config epoch of this node's own, then the master's slots.
            const state = cluster.state;
            state.currentEpoch++;
            replaceMaster(cluster, master, state.currentEpoch);
            return OK;
          }
          if (mode === "") {
            // Coordinated: the master pauses writes until this replica has caught up, then it
            // stands (manual_failover.ts); the reply does not wait, as in Redis.
            startManualFailover(cluster, master);
            return OK;
          }
          cluster.election.forced = true;
          cluster.election.startsAt = Date.now() - 1;
          cluster.election.rank = 0;
          cluster.election.votes = 0;
          cluster.election.requested = false;
          return OK;
        },
      ),
      sub(
        "links",
        2,
        stale,
        "Returns a list of all TCP links to and from peer nodes in cluster",
        "O(N) where N is the total number of Cluster nodes",
        links,
        "7.0.0",
      ),
      sub(
        "addslots",
        -3,
        adminFlags,
        "Assign new hash slots to receiving node",
        slotCountText,
        slotsChange(true, false),
      ),
      sub(
        "slots",
        2,
        stale,
        "Get array of Cluster slot to node mappings",
        "O(N) where N is the total number of Cluster nodes",
        slots,
      ),
      sub("forget", 3, adminFlags, "Remove a node from the nodes table", "O(1)", forget),
      sub(
        "count-failure-reports",
        3,
        ["admin", "stale"],
        "Return the number of failure reports active for a given node",
        "O(N) where N is the number of failure reports",
        (ctx, _client, argv) => {
          const cluster = clusterOf(ctx);
          const node = nodeArg(cluster, argv[2]);
          return cluster.state.freshFailReports(node, Date.now(), cluster.nodeTimeout * 2);
        },
      ),
      sub(
        "delslots",
        -3,
        adminFlags,
        "Set hash slots as unbound in receiving node",
        slotCountText,
        slotsChange(false, false),
      ),
      sub(
        "meet",
        -4,
        adminFlags,
        "Force a node cluster to handshake with another node",
        "O(1)",
        meet,
      ),
      sub("bumpepoch", 2, adminFlags, "Advance the cluster config epoch", "O(1)", bumpEpoch),
      sub(
        "saveconfig",
        2,
        adminFlags,
        "Forces the node to save cluster state on disk",
        "O(1)",
        (ctx) => {
          clusterOf(ctx).saveConfig();
          return OK;
        },
      ),
    ],
  },
  {
    name: "asking",
    arity: 1,
    flags: ["fast"],
    group: "cluster",
    acl: ["@connection"],
    summary: "Sent by cluster clients after an -ASK redirect",
    since: "3.0.0",
    complexity: "O(1)",
    handler: (ctx, client) => {
      clusterOf(ctx);
      client.asking = true;
      return OK;
    },
  },
  {
    name: "readonly",
    arity: 1,
    flags: ["loading", "stale", "fast"],
    group: "cluster",
    acl: ["@connection"],
    summary: "Enables read queries for a connection to a cluster replica node",
    since: "3.0.0",
    complexity: "O(1)",
    handler: (ctx, client) => {
      clusterOf(ctx);
      client.clusterReadonly = true;
      return OK;
    },
  },
  {
    name: "readwrite",
    arity: 1,
    flags: ["loading", "stale", "fast"],
    group: "cluster",
    acl: ["@connection"],
    summary: "Disables read queries for a connection to a cluster replica node",
    since: "3.0.0",
    complexity: "O(1)",
    handler: (ctx, client) => {
      clusterOf(ctx);
      client.clusterReadonly = false;
      return OK;
    },
  },
];
