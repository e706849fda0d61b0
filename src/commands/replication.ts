/**
 * Replication commands with Redis 7.0's replies: REPLICAOF (and SLAVEOF), ROLE, WAIT, and the
 * follower-to-leader handshake a follower sends on its link: REPLCONF and PSYNC (SYNC, the
 * older form, which `redis-cli --rdb` uses). The work is
 * done by the node's {@link Replication}; handlers only read arguments and shape replies.
 */
import { DeferredReply, NO_REPLY, OK, type Reply, SimpleString } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { asciiLower } from "../util/bytes.ts";
import { Args } from "./args.ts";
import type { ServerContext } from "./context.ts";
import { CommandError, SYNTAX_ERROR } from "./errors.ts";
import type { CommandDef } from "./registry.ts";

const ALREADY_CONNECTED = new SimpleString("OK Already connected to specified master");
const WAIT_ON_REPLICA = "ERR WAIT cannot be used with replica instances. Please also note that " +
  "since Redis 4.0 if a replica is configured to be writable (which is not the default) writes " +
  "to replicas are just local and are not propagated.";

function replicaof(ctx: ServerContext, _client: ClientState, argv: Uint8Array[]): Reply {
  const args = new Args(argv);
  const host = args.text();
  const portText = args.text();
  const replication = ctx.replication;
  if (host.toLowerCase() === "no" && portText.toLowerCase() === "one") {
    void replication.promote();
    return OK;
  }
  // A decimal integer as Redis's string2ll reads it (no sign, spaces or leading zeros), 0-65535.
  const port = Number(portText);
  if (!/^(0|[1-9]\d*)$/.test(portText) || port > 65535) {
    throw new CommandError("ERR Invalid master port");
  }
  const current = replication.follower;
  if (current !== null && current.host === host && current.port === port) {
    return ALREADY_CONNECTED;
  }
  replication.follow(host, port);
  return OK;
}

function role(ctx: ServerContext): Reply {
  const replication = ctx.replication;
  const leader = replication.leader;
  const follower = replication.follower;
  if (follower !== null) {
    // Redis answers -1 while it has no master client: before the link is up, and during a copy.
    const offset = follower.state === "connected" ? leader.offset : -1;
    return ["slave", follower.host, follower.port, follower.state, offset];
  }
  const replicas: Reply[] = [];
  for (const r of leader.replicas) replicas.push([r.ip, String(r.port), String(r.ackOffset)]);
  return ["master", leader.offset, replicas];
}

function wait(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const replication = ctx.replication;
  if (replication.follower !== null) throw new CommandError(WAIT_ON_REPLICA);
  const args = new Args(argv);
  const count = args.integer();
  const timeout = args.integer("ERR timeout is not an integer or out of range");
  if (timeout < 0) throw new CommandError("ERR timeout is negative");
  const leader = replication.leader;
  // As in Redis, the client's own last write: later writes of other clients do not count.
  const target = client.replOffset;
  const acked = leader.ackedCount(target);
  if (acked >= count || client.multi !== null) return acked;
  const waiting = leader.wait(target, count);
  if (timeout > 0) {
    const timer = setTimeout(waiting.cancel, timeout);
    void waiting.promise.then(() => clearTimeout(timer));
  }
  return new DeferredReply(waiting.promise, acked);
}

function replconf(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  if (argv.length % 2 === 0) throw new CommandError(SYNTAX_ERROR.message);
  const leader = ctx.replication.leader;
  for (let i = 1; i < argv.length; i += 2) {
    const option = asciiLower(argv[i]);
    const value = new TextDecoder().decode(argv[i + 1]);
    switch (option) {
      case "listening-port": {
        const port = Number(value);
        if (!Number.isInteger(port)) {
          throw new CommandError("ERR value is not an integer or out of range");
        }
        leader.announce(client, port, null);
        break;
      }
      case "ip-address":
        leader.announce(client, null, value);
        break;
      case "capa":
      case "rdb-only":
      case "rdb-filter-only":
        break;
      case "ack": {
        // A follower's acknowledgement gets no reply, as in Redis.
        const offset = Number(value);
        if (Number.isSafeInteger(offset)) leader.acknowledge(client, offset);
        return NO_REPLY;
      }
      case "getack":
        // Only meaningful from a leader, on a follower's link (see follower.ts).
        return NO_REPLY;
      default:
        throw new CommandError(
          `ERR Unrecognized REPLCONF option: ${new TextDecoder().decode(argv[i])}`,
        );
    }
  }
  return OK;
}

function psync(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const replication = ctx.replication;
  const follower = replication.follower;
  if (follower !== null && follower.state !== "connected") {
    throw new CommandError("NOMASTERLINK Can't SYNC while not connected with my master");
  }
  if (client.link === "replica") return NO_REPLY;
  if (argv.length === 1) return replication.leader.psync(client, "?", -1, true);
  const replid = new TextDecoder().decode(argv[1]);
  const from = Number(new TextDecoder().decode(argv[2]));
  return replication.leader.psync(client, replid, Number.isSafeInteger(from) ? from : -1);
}

const REPLICAOF_DEF = {
  arity: 3,
  flags: ["admin", "noscript", "stale", "no_async_loading"],
  group: "server",
  acl: ["@dangerous"],
  since: "5.0.0",
  complexity: "O(1)",
  handler: replicaof,
} as const satisfies Omit<CommandDef, "name" | "summary">;

/** Replication command declarations, with Redis 7.0's arity, flags and docs. */
export const replicationCommands: readonly CommandDef[] = [
  {
    name: "replicaof",
    ...REPLICAOF_DEF,
    summary: "Make the server a replica of another instance, or promote it as master.",
  },
  {
    name: "slaveof",
    ...REPLICAOF_DEF,
    since: "1.0.0",
    summary: "Make the server a replica of another instance, or promote it as master.",
  },
  {
    name: "role",
    arity: 1,
    flags: ["noscript", "loading", "stale", "fast"],
    group: "server",
    acl: ["@admin", "@dangerous"],
    summary: "Return the role of the instance in the context of replication",
    since: "2.8.12",
    complexity: "O(1)",
    handler: role,
  },
  {
    name: "wait",
    arity: 3,
    flags: ["noscript"],
    group: "generic",
    acl: ["@connection"],
    summary:
      "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
    since: "3.0.0",
    complexity: "O(1)",
    handler: wait,
  },
  {
    name: "replconf",
    arity: -1,
    flags: ["admin", "noscript", "loading", "stale", "allow_busy"],
    group: "server",
    acl: ["@dangerous"],
    summary: "An internal command for configuring the replication stream",
    since: "3.0.0",
    complexity: "O(1)",
    handler: replconf,
  },
  {
    name: "psync",
    arity: -3,
    flags: ["admin", "noscript", "no_async_loading", "no_multi"],
    group: "server",
    acl: ["@dangerous"],
    summary: "Internal command used for replication",
    since: "2.8.0",
    handler: psync,
  },
  {
    name: "sync",
    arity: 1,
    flags: ["admin", "noscript", "no_async_loading", "no_multi"],
    group: "server",
    acl: ["@dangerous"],
    summary: "Internal command used for replication",
    since: "1.0.0",
    handler: psync,
  },
];
