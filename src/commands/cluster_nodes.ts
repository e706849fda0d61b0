/**
 * CLUSTER subcommands about membership and epochs: MEET, FORGET, REPLICATE, REPLICAS/SLAVES,
 * RESET, SET-CONFIG-EPOCH and BUMPEPOCH, with Redis 7.0's checks in Redis's order.
 */
import { describeNode } from "../cluster/nodes_conf.ts";
import { OK, type Reply, SimpleString, VerbatimReply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { fromUtf8, toBinaryString } from "../util/bytes.ts";
import { parseInt64Bytes } from "../util/int64.ts";
import type { ServerContext } from "./context.ts";
import { intArg } from "./_values.ts";
import { CommandError } from "./errors.ts";
import { clusterOf } from "./cluster_views.ts";
import { nodeArg, subcommandSyntaxError } from "./_cluster_args.ts";

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
export function meet(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
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

export function forget(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
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

export function replicate(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
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

export function replicas(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const cluster = clusterOf(ctx);
  const node = nodeArg(cluster, argv[2]);
  if (node.isReplica) throw new CommandError("ERR The specified node is not a master");
  return node.replicas.map((r) =>
    new VerbatimReply(describeNode(cluster.state, r, usePport(ctx, client)))
  );
}

/**
 * Whether CLUSTER NODES/REPLICAS show `client` the nodes' plain ports: under `tls-cluster`,
 * to a client of the plain port (Redis 7.0's use_pport).
 */
export function usePport(ctx: ServerContext, client: ClientState): boolean {
  return ctx.config.values["tls-cluster"] && !client.tls;
}

export function reset(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
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

export function setConfigEpoch(
  ctx: ServerContext,
  _client: ClientState,
  argv: Uint8Array[],
): Reply {
  const cluster = clusterOf(ctx);
  const state = cluster.state;
  const value = intArg(argv[2]);
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

export function bumpEpoch(ctx: ServerContext): Reply {
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
