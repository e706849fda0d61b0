/**
 * Pub/Sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB's
 * introspection subcommands, declared as Redis 7.0 declares them. Confirmations go out through
 * the hub as separate frames (one per channel, as Redis sends them), so those handlers return
 * no reply of their own. Publishing is not propagated: Redis 7.0 sends PUBLISH to replicas only
 * and never to the AOF, and gocache has no replica stream for it yet.
 */
import { type Reply, ReplySequence, SimpleString } from "../resp/reply.ts";
import { pubsubHub } from "../pubsub/hub.ts";
import type { SubscriptionKind } from "../pubsub/registry.ts";
import { CommandError, subcommandArityError } from "./errors.ts";
import type { CommandDef, CommandFlag, Handler } from "./registry.ts";

const SUBSCRIBE_FLAGS: readonly CommandFlag[] = ["pubsub", "noscript", "loading", "stale"];
const PUBLISH_FLAGS: readonly CommandFlag[] = ["pubsub", "loading", "stale", "fast"];
const INTROSPECTION_FLAGS: readonly CommandFlag[] = ["pubsub", "loading", "stale"];

function subscriber(kind: SubscriptionKind): Handler {
  return (ctx, client, argv) => {
    return new ReplySequence(pubsubHub(ctx).subscribe(client, kind, argv.slice(1)));
  };
}

function unsubscriber(kind: SubscriptionKind): Handler {
  return (ctx, client, argv) => {
    return new ReplySequence(pubsubHub(ctx).unsubscribe(client, kind, argv.slice(1)));
  };
}

function publisher(kind: "channel" | "shard"): Handler {
  return (ctx, client, argv) => {
    // In a cluster the bus carries it to the other nodes; otherwise followers deliver it to
    // their own subscribers too, as Redis's do.
    if (ctx.cluster !== null) ctx.cluster.propagatePublish(kind, argv[1], argv[2]);
    else ctx.replication.forwardToFollowers(argv, client);
    return pubsubHub(ctx).publish(kind, argv[1], argv[2]);
  };
}

/**
 * Redis's PUBSUB answers an extra argument to a subcommand that takes at most one with this
 * error (the subcommand as the client spelled it), not the generic arity error.
 */
function checkAtMostOne(argv: readonly Uint8Array[]): void {
  if (argv.length > 3) {
    throw new CommandError(subcommandArityError(argv[1], "pubsub").message);
  }
}

function channelsOf(kind: "channel" | "shard"): Handler {
  return (ctx, _client, argv) => {
    checkAtMostOne(argv);
    return pubsubHub(ctx).channels(kind, argv.length === 3 ? argv[2] : null);
  };
}

function numsubOf(kind: "channel" | "shard"): Handler {
  return (ctx, _client, argv) => {
    const hub = pubsubHub(ctx);
    const out: Reply[] = [];
    for (let i = 2; i < argv.length; i++) out.push(argv[i], hub.subscriberCount(kind, argv[i]));
    return out;
  };
}

const HELP = [
  "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CHANNELS [<pattern>]",
  "    Return the currently active channels matching a <pattern> (default: '*').",
  "NUMPAT",
  "    Return number of subscriptions to patterns.",
  "NUMSUB [<channel> ...]",
  "    Return the number of subscribers for the specified channels, excluding",
  "    pattern subscriptions(default: no channels).",
  "SHARDCHANNELS [<pattern>]",
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  "SHARDNUMSUB [<shardchannel> ...]",
  "    Return the number of subscribers for the specified shard level channel(s)",
  "HELP",
  "    Prints this help.",
].map((line) => new SimpleString(line));

function introspection(
  name: string,
  arity: number,
  summary: string,
  handler: Handler,
): CommandDef {
  return {
    name,
    arity,
    flags: INTROSPECTION_FLAGS,
    // Redis's group is "pubsub"; the registry's CommandGroup has no such member yet.
    group: "pubsub",
    acl: [],
    summary,
    since: name.startsWith("shard") ? "7.0.0" : "2.8.0",
    complexity: "O(N)",
    handler,
  };
}

function subscription(
  name: string,
  arity: number,
  summary: string,
  handler: Handler,
  shard: boolean,
): CommandDef {
  return {
    name,
    arity,
    flags: SUBSCRIBE_FLAGS,
    ...(shard ? { keys: { first: 1, last: -1, step: 1 } } : {}),
    // Redis's group is "pubsub"; the registry's CommandGroup has no such member yet.
    group: "pubsub",
    acl: [],
    summary,
    since: shard ? "7.0.0" : "2.0.0",
    complexity: "O(N) where N is the number of channels or patterns",
    handler,
  };
}

/** Pub/Sub command declarations. */
export const pubsubCommands: readonly CommandDef[] = [
  subscription(
    "subscribe",
    -2,
    "Listens for messages published to channels.",
    subscriber("channel"),
    false,
  ),
  subscription(
    "unsubscribe",
    -1,
    "Stops listening to messages posted to channels.",
    unsubscriber("channel"),
    false,
  ),
  subscription(
    "psubscribe",
    -2,
    "Listens for messages published to channels that match one or more patterns.",
    subscriber("pattern"),
    false,
  ),
  subscription(
    "punsubscribe",
    -1,
    "Stops listening to messages published to channels that match one or more patterns.",
    unsubscriber("pattern"),
    false,
  ),
  subscription(
    "ssubscribe",
    -2,
    "Listens for messages published to shard channels.",
    subscriber("shard"),
    true,
  ),
  subscription(
    "sunsubscribe",
    -1,
    "Stops listening to messages posted to shard channels.",
    unsubscriber("shard"),
    true,
  ),
  {
    name: "publish",
    arity: 3,
    flags: PUBLISH_FLAGS,
    group: "pubsub",
    acl: [],
    summary: "Posts a message to a channel.",
    since: "2.0.0",
    complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel " +
      "and M is the total number of subscribed patterns (by any client).",
    handler: publisher("channel"),
  },
  {
    name: "spublish",
    arity: 3,
    flags: PUBLISH_FLAGS,
    keys: { first: 1, last: 1, step: 1 },
    group: "pubsub",
    acl: [],
    summary: "Post a message to a shard channel",
    since: "7.0.0",
    complexity: "O(N) where N is the number of clients subscribed to the receiving shard channel.",
    handler: publisher("shard"),
  },
  {
    name: "pubsub",
    arity: -2,
    flags: [],
    group: "pubsub",
    acl: [],
    summary: "A container for Pub/Sub commands.",
    since: "2.8.0",
    complexity: "Depends on subcommand.",
    subcommands: [
      introspection("channels", -2, "Returns the active channels.", channelsOf("channel")),
      introspection(
        "numsub",
        -2,
        "Returns a count of subscribers to channels.",
        numsubOf("channel"),
      ),
      introspection(
        "numpat",
        2,
        "Returns a count of unique pattern subscriptions.",
        (ctx) => pubsubHub(ctx).patternCount,
      ),
      introspection("shardchannels", -2, "Returns the active shard channels.", channelsOf("shard")),
      introspection(
        "shardnumsub",
        -2,
        "Returns the count of subscribers of shard channels.",
        numsubOf("shard"),
      ),
      {
        name: "help",
        arity: 2,
        flags: ["loading", "stale"],
        group: "pubsub",
        acl: [],
        summary: "Returns helpful text about the different subcommands.",
        since: "6.2.0",
        complexity: "O(1)",
        handler: () => HELP,
      },
    ],
  },
];
