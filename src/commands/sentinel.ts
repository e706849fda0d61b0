/**
 * Sentinel's client API, answered by every member of a leader/follower group (`group-name`) for
 * its group, so clients in Sentinel mode (ioredis `sentinels`, redis-py `Sentinel`) given the
 * group's nodes as sentinels find the leader and follow a failover: GET-MASTER-ADDR-BY-NAME,
 * MASTER(S), REPLICAS/SLAVES, SENTINELS, MYID, CKQUORUM, HELP, with Redis 7.0's field names. The
 * answers are this node's view of the group (the failure detector and election in src/cluster).
 * Outside a group SENTINEL is an unknown command, as on a plain redis-server.
 */
import type { Cluster } from "../cluster/cluster.ts";
import type { GroupMembership } from "../cluster/group.ts";
import type { ClusterNode } from "../cluster/node.ts";
import { NodeFlag } from "../cluster/node.ts";
import { MapReply, type Reply, SimpleString } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { fromUtf8 } from "../util/bytes.ts";
import type { ServerContext } from "./context.ts";
import { CommandError, unknownCommand } from "./errors.ts";
import type { CommandDef, CommandFlag, Handler } from "./registry.ts";

/** The group's bus and membership; outside a group, Redis's unknown-command error. */
function groupOf(ctx: ServerContext, argv: Uint8Array[]): [Cluster, GroupMembership] {
  const bus = ctx.group;
  if (bus === null || bus.group === null) {
    throw new CommandError(unknownCommand(argv).message);
  }
  return [bus, bus.group];
}

/** The named group, or Sentinel's error for another name. */
function named(ctx: ServerContext, argv: Uint8Array[]): [Cluster, GroupMembership] {
  const [bus, group] = groupOf(ctx, argv);
  if (fromUtf8(argv[2]) !== group.name) {
    throw new CommandError("ERR No such master with that name");
  }
  return [bus, group];
}

/** Sentinel's `flags` text for a node: its role, then s_down/o_down when detected down. */
function flagsOf(node: ClusterNode, role: string): string {
  const flags = [role];
  if ((node.flags & NodeFlag.PFAIL) !== 0) flags.push("s_down");
  if ((node.flags & NodeFlag.FAIL) !== 0) flags.push("s_down", "o_down");
  if (node.link === null && !node.isMyself) flags.push("disconnected");
  return flags.join(",");
}

function ms(since: number): number {
  return since === 0 ? 0 : Math.max(0, Date.now() - since);
}

/** SENTINEL MASTER's fields for the group's leader (Redis's addReplySentinelRedisInstance). */
function masterFields(bus: Cluster, group: GroupMembership, leader: ClusterNode): Reply {
  const [ip, port] = group.addressOf(bus, leader);
  const replicas = leader.replicas.filter((r) => !r.noAddress).length;
  const others = [...bus.state.nodes.values()].filter((n) => !n.isMyself && !n.inHandshake);
  return new MapReply([
    "name",
    group.name,
    "ip",
    ip,
    "port",
    String(port),
    "runid",
    leader.id,
    "flags",
    flagsOf(leader, "master"),
    "link-pending-commands",
    "0",
    "link-refcount",
    "1",
    "last-ping-sent",
    String(leader.isMyself ? 0 : ms(leader.pingSent)),
    "last-ok-ping-reply",
    String(leader.isMyself ? 0 : ms(leader.pongReceived)),
    "last-ping-reply",
    String(leader.isMyself ? 0 : ms(leader.pongReceived)),
    "down-after-milliseconds",
    String(bus.nodeTimeout),
    "role-reported",
    "master",
    "config-epoch",
    String(leader.configEpoch),
    "num-slaves",
    String(replicas),
    "num-other-sentinels",
    String(others.length),
    "quorum",
    String(group.quorum),
    "failover-timeout",
    String(bus.nodeTimeout * 2),
    "parallel-syncs",
    "1",
  ]);
}

/** The leader, or Sentinel's reply for a master it does not know yet. */
function leaderOf(group: GroupMembership): ClusterNode {
  const leader = group.leader;
  if (leader === null) throw new CommandError("ERR No such master with that name");
  return leader;
}

const getMasterAddr: Handler = (ctx, _client, argv) => {
  const bus = ctx.group;
  if (bus === null || bus.group === null) throw new CommandError(unknownCommand(argv).message);
  const group = bus.group;
  const leader = group.leader;
  if (fromUtf8(argv[2]) !== group.name || leader === null) return null;
  const [ip, port] = group.addressOf(bus, leader);
  return [ip, String(port)];
};

const master: Handler = (ctx, _client, argv) => {
  const [bus, group] = named(ctx, argv);
  return masterFields(bus, group, leaderOf(group));
};

const masters: Handler = (ctx, _client, argv) => {
  const [bus, group] = groupOf(ctx, argv);
  const leader = group.leader;
  return leader === null ? [] : [masterFields(bus, group, leader)];
};

const replicas: Handler = (ctx, _client, argv) => {
  const [bus, group] = named(ctx, argv);
  const leader = leaderOf(group);
  const [masterIp, masterPort] = group.addressOf(bus, leader);
  return leader.replicas.filter((r) => !r.noAddress).map((replica) => {
    const [ip, port] = group.addressOf(bus, replica);
    const linked = !replica.failed && !replica.timedOut;
    return new MapReply([
      "name",
      `${ip}:${port}`,
      "ip",
      ip,
      "port",
      String(port),
      "runid",
      replica.id,
      "flags",
      flagsOf(replica, "slave"),
      "master-link-status",
      linked ? "ok" : "err",
      "master-host",
      masterIp,
      "master-port",
      String(masterPort),
      "slave-priority",
      String(replica.priority ?? 100),
      "slave-repl-offset",
      String(replica.replOffset),
    ]);
  });
};

const sentinels: Handler = (ctx, _client, argv) => {
  const [bus, group] = named(ctx, argv);
  const out: Reply[] = [];
  for (const node of bus.state.nodes.values()) {
    if (node.isMyself || node.inHandshake || node.noAddress) continue;
    const [ip, port] = group.addressOf(bus, node);
    out.push(
      new MapReply([
        "name",
        node.id,
        "ip",
        ip,
        "port",
        String(port),
        "runid",
        node.id,
        "flags",
        flagsOf(node, "sentinel"),
        "last-hello-message",
        String(ms(node.pongReceived)),
        "voted-leader",
        "?",
        "voted-leader-epoch",
        "0",
      ]),
    );
  }
  return out;
};

const ckquorum: Handler = (ctx, _client, argv) => {
  const [bus, group] = named(ctx, argv);
  let usable = 0;
  for (const node of bus.state.nodes.values()) {
    if (node.inHandshake || node.noAddress) continue;
    if ((node.flags & (NodeFlag.PFAIL | NodeFlag.FAIL)) === 0) usable++;
  }
  if (usable < group.quorum) {
    throw new CommandError(
      `NOQUORUM ${usable} usable Sentinels. Not enough available Sentinels to reach the majority and authorize a failover`,
    );
  }
  return new SimpleString(
    `OK ${usable} usable Sentinels. Quorum and failover authorization can be reached`,
  );
};

const HELP: readonly SimpleString[] = [
  "SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CKQUORUM <master-name>",
  "    Check if the current Sentinel configuration is able to reach the quorum needed",
  "    to failover a master and the majority needed to authorize the failover.",
  "GET-MASTER-ADDR-BY-NAME <master-name>",
  "    Return the ip and port number of the master with that name.",
  "MASTER <master-name>",
  "    Show the state and info of the specified master.",
  "MASTERS",
  "    Show a list of monitored masters and their state.",
  "MYID",
  "    Return the ID of the Sentinel instance.",
  "REPLICAS <master-name>",
  "    Show a list of replicas for this master and their state.",
  "SENTINELS <master-name>",
  "    Show a list of Sentinel instances for this master and their state.",
  "HELP",
  "    Print this help.",
].map((line) => new SimpleString(line));

const flags: CommandFlag[] = ["admin", "sentinel", "loading", "stale"];

function sub(name: string, arity: number, summary: string, handler: Handler): CommandDef {
  return { name, arity, flags, group: "sentinel", summary, since: "2.8.4", handler };
}

/** SENTINEL and its client-facing subcommands. */
export const sentinelCommands: readonly CommandDef[] = [
  {
    name: "sentinel",
    arity: -2,
    flags,
    group: "sentinel",
    summary: "A container for Sentinel commands",
    since: "2.8.4",
    complexity: "Depends on subcommand.",
    subcommands: [
      sub("get-master-addr-by-name", 3, "Get the address of a master by name", getMasterAddr),
      sub("master", 3, "Show the state and info of the specified master", master),
      sub("masters", 2, "List the monitored masters and their state", masters),
      sub("replicas", 3, "List the replicas of a master", replicas),
      sub("slaves", 3, "List the replicas of a master", replicas),
      sub("sentinels", 3, "List the Sentinel instances of a master", sentinels),
      sub("myid", 2, "Get the Sentinel instance ID", (ctx, _client: ClientState, argv) => {
        const [bus] = groupOf(ctx, argv);
        return bus.state.myself.id;
      }),
      sub("ckquorum", 3, "Check for a Sentinel quorum", ckquorum),
      sub("help", 2, "Show helpful text about the different subcommands", (ctx, _c, argv) => {
        groupOf(ctx, argv);
        return HELP;
      }),
    ],
  },
];
