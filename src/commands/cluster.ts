/**
 * Cluster commands with Redis 7.0's replies and errors: CLUSTER and its subcommands, ASKING,
 * READONLY and READWRITE. Handlers read arguments, change the cluster state through its owner
 * (src/cluster) and shape replies; the bus spreads the changes.
 */
import type { Cluster } from "../cluster/cluster.ts";
import { CLUSTER_SLOTS, keySlot } from "../cluster/key_slot.ts";
import type { ClusterNode } from "../cluster/node.ts";
import { describeNodes } from "../cluster/nodes_conf.ts";
import { endpointOf, ipOf } from "../cluster/redirect.ts";
import { MESSAGE_TYPE_NAMES } from "../cluster/state.ts";
import { replaceMaster } from "../cluster/failover.ts";
import { MapReply, OK, type Reply, SimpleString, VerbatimReply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { fromUtf8, toBinaryString } from "../util/bytes.ts";
import { parseInt64Bytes } from "../util/int64.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import type { CommandDef, CommandFlag, Handler } from "./registry.ts";

const DISABLED = "ERR This instance has cluster support disabled";

function clusterOf(ctx: ServerContext): Cluster {
  if (ctx.cluster === null) throw new CommandError(DISABLED);
  return ctx.cluster;
}

const HELP = [
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

/**
 * A slot argument: Redis's getSlotOrReply. Integers are read as Redis's getLongLongFromObject
 * reads them (parseInt64Bytes: no `+`, leading zeros or spaces; bigint past 2^53).
 */
function slotArg(arg: Uint8Array): number {
  const slot = parseInt64Bytes(arg);
  if (slot === null || slot < 0 || slot >= CLUSTER_SLOTS) {
    throw new CommandError("ERR Invalid or out of range slot");
  }
  return Number(slot);
}

/** An integer argument or Redis's not-an-integer error (getLongLongFromObjectOrReply). */
function int64OrReply(arg: Uint8Array): number | bigint {
  const value = parseInt64Bytes(arg);
  if (value === null) throw new CommandError("ERR value is not an integer or out of range");
  return value;
}

/**
 * Redis's addReplySubcommandSyntaxError, which clusterCommand answers when a subcommand's
 * argument count passes the command table but not the subcommand's own check (MEET, RESET,
 * FAILOVER): the subcommand as the client spelled it, cut at 128 bytes or a NUL.
 */
function subcommandSyntaxError(argv: Uint8Array[]): CommandError {
  const name = argv[1].subarray(0, 128);
  const nul = name.indexOf(0);
  return new CommandError(
    `ERR unknown subcommand or wrong number of arguments for '${
      toBinaryString(nul < 0 ? name : name.subarray(0, nul))
    }'. Try CLUSTER HELP.`,
  );
}

function nodeArg(cluster: Cluster, arg: Uint8Array): ClusterNode {
  const id = fromUtf8(arg);
  const node = cluster.state.lookup(id);
  if (node === undefined) throw new CommandError(`ERR Unknown node ${id}`);
  return node;
}

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

function info(ctx: ServerContext): Reply {
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
  return [endpointOf(cluster, node, client), node.port, node.id, new MapReply(meta)];
}

function ctxType(cluster: Cluster): string {
  return cluster.host.ctx.config.values["cluster-preferred-endpoint-type"];
}

function slots(ctx: ServerContext, client: ClientState): Reply {
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
  const flat: Reply[] = ["id", node.id, "port", node.port, "ip", ipOf(node, client)];
  flat.push("endpoint", endpointOf(cluster, node, client));
  if (node.hostname !== "") flat.push("hostname", node.hostname);
  const offset = node.isMyself ? cluster.host.ctx.replication.leader.offset : node.replOffset;
  flat.push("role", node.isReplica ? "replica" : "master", "replication-offset", offset);
  const health = node.failed ? "fail" : node.isReplica && offset === 0 ? "loading" : "online";
  flat.push("health", health);
  return new MapReply(flat);
}

function shards(ctx: ServerContext, client: ClientState): Reply {
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

function links(ctx: ServerContext): Reply {
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

/** Whether `text` is an IPv4 address as inet_pton reads one (four decimal octets). */
function isIpv4(text: string): boolean {
  return /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(text);
}

/**
 * Whether `text` is an IPv6 address as inet_pton reads one: eight groups of 1-4 hex digits, or
 * fewer with one `::`, the last two groups possibly written as an IPv4 address.
 */
function isIpv6(text: string): boolean {
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const groups = halves.map((h) => h === "" ? [] : h.split(":"));
  // Only the very last group may be an IPv4 address; it counts as two groups.
  const tail = groups[groups.length - 1];
  let ipv4Groups = 0;
  if (tail.length > 0 && tail[tail.length - 1].includes(".")) {
    if (!isIpv4(tail.pop() as string)) return false;
    ipv4Groups = 2;
  }
  const all = groups.flat();
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  const count = all.length + ipv4Groups;
  return halves.length === 2 ? count <= 7 : count === 8;
}

/** CLUSTER MEET ip port [cport], with Redis's checks in Redis's order (clusterStartHandshake). */
function meet(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  const cluster = clusterOf(ctx);
  if (argv.length > 5) throw subcommandSyntaxError(argv);
  const ip = fromUtf8(argv[2]);
  const port = parseInt64Bytes(argv[3]);
  if (port === null) {
    throw new CommandError(`ERR Invalid TCP base port specified: ${toBinaryString(argv[3])}`);
  }
  let cport = typeof port === "bigint" ? port : port + 10000;
  if (argv.length === 5) {
    const bus = parseInt64Bytes(argv[4]);
    if (bus === null) {
      throw new CommandError(`ERR Invalid TCP bus port specified: ${toBinaryString(argv[4])}`);
    }
    cport = bus;
  }
  const inRange = (p: number | bigint) => p > 0 && p <= 65535;
  if (!(isIpv4(ip) || isIpv6(ip)) || !inRange(port) || !inRange(cport)) {
    throw new CommandError(
      `ERR Invalid node address specified: ${toBinaryString(argv[2])}:${toBinaryString(argv[3])}`,
    );
  }
  cluster.meet(ip, Number(port), Number(cport));
  return OK;
}

function forget(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  const cluster = clusterOf(ctx);
  const state = cluster.state;
  const node = nodeArg(cluster, argv[2]);
  if (node.isMyself) throw new CommandError("ERR I tried hard but I can't forget myself...");
  if (state.myself.isReplica && state.myself.master === node) {
    throw new CommandError("ERR Can't forget my master!");
  }
  state.blacklist(node.id, Date.now());
  state.remove(node);
  cluster.updateState();
  cluster.saveConfig();
  return OK;
}

function replicate(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  const cluster = clusterOf(ctx);
  const state = cluster.state;
  const node = nodeArg(cluster, argv[2]);
  if (node.isMyself) throw new CommandError("ERR Can't replicate myself");
  if (!node.isMaster) throw new CommandError("ERR I can only replicate a master, not a replica.");
  const myself = state.myself;
  if (myself.isMaster && (myself.slotCount !== 0 || ctx.keyspace.db(0).size !== 0)) {
    throw new CommandError(
      "ERR To set a master the node must be empty and without assigned slots.",
    );
  }
  cluster.setMaster(node);
  cluster.updateState();
  cluster.saveConfig();
  return OK;
}

function replicas(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  const cluster = clusterOf(ctx);
  const node = nodeArg(cluster, argv[2]);
  if (node.isReplica) throw new CommandError("ERR The specified node is not a master");
  return node.replicas.map((r) =>
    new VerbatimReply(
      describeNodes(cluster.state).split("\n").find((l) => l.startsWith(r.id)) ?? "",
    )
  );
}

function reset(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  const cluster = clusterOf(ctx);
  if (argv.length > 3) throw subcommandSyntaxError(argv);
  let hard = false;
  if (argv.length === 3) {
    const mode = fromUtf8(argv[2]).toLowerCase();
    if (mode === "hard") hard = true;
    else if (mode !== "soft") throw new CommandError("ERR syntax error");
  }
  const state = cluster.state;
  if (state.myself.isMaster && ctx.keyspace.db(0).size !== 0) {
    throw new CommandError("ERR CLUSTER RESET can't be called with master nodes containing keys");
  }
  if (state.myself.isReplica) {
    void ctx.replication.promote();
    ctx.keyspace.flushAll();
    state.setMasterRole(state.myself);
  }
  state.reset();
  if (hard) {
    state.currentEpoch = 0;
    state.lastVoteEpoch = 0;
    state.myself.configEpoch = 0;
    const next = crypto.getRandomValues(new Uint8Array(20));
    state.rename(state.myself, Array.from(next, (b) => b.toString(16).padStart(2, "0")).join(""));
  }
  cluster.updateState();
  cluster.saveConfig();
  return OK;
}

function setConfigEpoch(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  const cluster = clusterOf(ctx);
  const state = cluster.state;
  const value = int64OrReply(argv[2]);
  if (value < 0) throw new CommandError(`ERR Invalid config epoch specified: ${value}`);
  if (state.nodes.size > 1) {
    throw new CommandError(
      "ERR The user can assign a config epoch only when the node does not know any other node.",
    );
  }
  if (state.myself.configEpoch !== 0) {
    throw new CommandError("ERR Node config epoch is already non-zero");
  }
  // Epochs are plain numbers here: one past 2^53 would not survive, so it is refused (Redis
  // takes any 64-bit epoch).
  if (typeof value === "bigint") {
    throw new CommandError("ERR value is not an integer or out of range");
  }
  const epoch = value;
  state.myself.configEpoch = epoch;
  if (state.currentEpoch < epoch) state.currentEpoch = epoch;
  state.dirty = true;
  cluster.updateState();
  cluster.saveConfig();
  return OK;
}

function bumpEpoch(ctx: ServerContext): Reply {
  const cluster = clusterOf(ctx);
  const state = cluster.state;
  const myself = state.myself;
  // Redis's clusterBumpConfigEpochWithoutConsensus.
  const max = state.maxConfigEpoch();
  let bumped = false;
  if (myself.configEpoch === 0 || myself.configEpoch !== max) {
    state.currentEpoch++;
    myself.configEpoch = state.currentEpoch;
    state.dirty = true;
    cluster.saveConfig();
    bumped = true;
  }
  return new SimpleString(`${bumped ? "BUMPED" : "STILL"} ${myself.configEpoch}`);
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
  if (action === "migrating") {
    if (state.owners[slot] !== myself) {
      throw new CommandError(`ERR I'm not the owner of hash slot ${slot}`);
    }
    const node = target("I don't know about node");
    if (node.isReplica) throw new CommandError("ERR Target node is not a master");
    state.setMigrating(slot, node);
  } else if (action === "importing") {
    if (state.owners[slot] === myself) {
      throw new CommandError(`ERR I'm already the owner of hash slot ${slot}`);
    }
    const node = target("I don't know about node");
    if (node.isReplica) throw new CommandError("ERR Target node is not a master");
    state.setImporting(slot, node);
  } else if (action === "stable") {
    state.setImporting(slot, null);
    state.setMigrating(slot, null);
  } else if (action === "node") {
    const node = target("Unknown node");
    if (node.isReplica) throw new CommandError("ERR Target node is not a master");
    if (state.owners[slot] === myself && node !== myself && cluster.countKeysInSlot(slot) > 0) {
      throw new CommandError(
        `ERR Can't assign hashslot ${slot} to a different node while I still hold keys for this hash slot.`,
      );
    }
    if (node !== myself) state.setMigrating(slot, null);
    const imported = node === myself && state.importingFrom[slot] !== null;
    state.delSlot(slot);
    state.addSlot(node, slot);
    if (imported) {
      state.setImporting(slot, null);
      // As Redis: taking an imported slot bumps this node's epoch so the change wins.
      const max = state.maxConfigEpoch();
      if (myself.configEpoch === 0 || myself.configEpoch !== max) {
        state.currentEpoch++;
        myself.configEpoch = state.currentEpoch;
      }
      cluster.broadcastPong();
    }
  } else throw new CommandError(invalid);
  state.dirty = true;
  cluster.updateState();
  cluster.saveConfig();
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
          const cluster = clusterOf(ctx);
          const slot = int64OrReply(argv[2]);
          const count = int64OrReply(argv[3]);
          if (slot < 0 || slot >= CLUSTER_SLOTS || count < 0) {
            throw new CommandError("ERR Invalid slot or number of keys");
          }
          return cluster.keysInSlot(Number(slot), Number(count));
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
          const cluster = clusterOf(ctx);
          const slot = int64OrReply(argv[2]);
          if (slot < 0 || slot >= CLUSTER_SLOTS) throw new CommandError("ERR Invalid slot");
          return cluster.countKeysInSlot(Number(slot));
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
        (ctx) => new VerbatimReply(describeNodes(clusterOf(ctx).state)),
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
          if (mode === "takeover") {
            // No vote: a new config epoch of this node's own, then the master's slots.
            const state = cluster.state;
            state.currentEpoch++;
            replaceMaster(cluster, master, state.currentEpoch);
            return OK;
          }
          if (mode === "") {
            // The coordinated form (MFSTART: the master pauses writes until this replica has
            // caught up) is not built yet; FORCE elects at once and may lose unreplicated writes.
            throw new CommandError(
              "ERR CLUSTER FAILOVER without FORCE or TAKEOVER is not supported by gocache yet",
            );
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
