/**
 * The server's pub/sub: the subscription registry plus a way to reach each subscriber's
 * connection. Subscribing sends Redis's confirmation frames, publishing fans a message out to
 * every matching subscriber and counts the receivers. Frames are encoded here, once per
 * protocol, and handed to each client's {@link MessageSink} (its connection), which buffers
 * them under the client's output limit; handlers never touch a socket.
 *
 * There is one hub per server, found with {@link pubsubHub} (the server context does not name
 * it yet, so the hub is attached to the context object).
 */
import type { ServerContext } from "../commands/context.ts";
import { encodeReply, type Protocol } from "../resp/encoder.ts";
import { PushReply, type Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { ByteBuffer, toBinaryString } from "../util/bytes.ts";
import { globMatch } from "../util/glob.ts";
import { SUBSCRIPTION_KINDS, type SubscriptionKind, SubscriptionRegistry } from "./registry.ts";

/** Where a client's out-of-band frames go: its connection. */
export interface MessageSink {
  /** The client's state (id, protocol, subscription counts). */
  readonly state: ClientState;
  /**
   * Appends an encoded frame to the client's output (copying it) and makes sure it gets written;
   * enforces the client's output buffer limit.
   */
  pushFrame(frame: Uint8Array): void;
}

/** The words Redis uses in confirmations and messages, per kind. */
const WORDS: Record<SubscriptionKind, { sub: string; unsub: string; message: string }> = {
  channel: { sub: "subscribe", unsub: "unsubscribe", message: "message" },
  pattern: { sub: "psubscribe", unsub: "punsubscribe", message: "pmessage" },
  shard: { sub: "ssubscribe", unsub: "sunsubscribe", message: "smessage" },
};

/** The hub; see the module comment. */
export class PubSubHub {
  readonly #registry = new SubscriptionRegistry();
  readonly #sinks = new Map<number, MessageSink>();
  readonly #scratch = new ByteBuffer(256);

  /** Registers a connected client's sink, so that it can receive frames. */
  attach(sink: MessageSink): void {
    this.#sinks.set(sink.state.id, sink);
  }

  /** Forgets a disconnected client: its subscriptions are dropped, no frames are sent. */
  detach(client: ClientState): void {
    this.dropAll(client);
    this.#sinks.delete(client.id);
  }

  /** Every subscription of `client`: its kind and name (a binary string). */
  subscriptionsOf(client: ClientState): { kind: SubscriptionKind; name: string }[] {
    if (!this.#registry.has(client.id)) return [];
    return SUBSCRIPTION_KINDS.flatMap((kind) =>
      this.#registry.namesOf(client.id, kind).map((name) => ({ kind, name }))
    );
  }

  /** Drops every subscription of `client` without confirmations (RESET, disconnect). */
  dropAll(client: ClientState): void {
    if (!this.#registry.has(client.id)) return;
    for (const kind of SUBSCRIPTION_KINDS) {
      for (const name of this.#registry.namesOf(client.id, kind)) {
        this.#registry.remove(client.id, kind, name);
      }
    }
    this.#syncCounts(client);
  }

  /**
   * Subscribes `client` to each name and returns the confirmations, one per name with the new
   * count, as Redis sends them.
   */
  subscribe(client: ClientState, kind: SubscriptionKind, names: readonly Uint8Array[]): Reply[] {
    const confirmations: Reply[] = [];
    for (const bytes of names) {
      const name = toBinaryString(bytes);
      this.#registry.add(client.id, kind, name);
      this.#syncCounts(client);
      confirmations.push(this.#confirmation(client, WORDS[kind].sub, name, kind));
    }
    return confirmations;
  }

  /**
   * Unsubscribes `client` from each name (all of its names of that kind when `names` is empty),
   * confirming each one; with nothing to drop, Redis confirms with a null name.
   */
  unsubscribe(client: ClientState, kind: SubscriptionKind, names: readonly Uint8Array[]): Reply[] {
    const targets = names.length > 0
      ? names.map((b) => toBinaryString(b))
      : this.#registry.namesOf(client.id, kind);
    if (targets.length === 0) return [this.#confirmation(client, WORDS[kind].unsub, null, kind)];
    const confirmations: Reply[] = [];
    for (const name of targets) {
      this.#registry.remove(client.id, kind, name);
      this.#syncCounts(client);
      confirmations.push(this.#confirmation(client, WORDS[kind].unsub, name, kind));
    }
    return confirmations;
  }

  /**
   * Sends `message` to every subscriber of `channel` (and, for plain channels, of every matching
   * pattern) and returns how many deliveries were made: a client subscribed both to the channel
   * and to a matching pattern counts twice, as in Redis.
   */
  publish(kind: "channel" | "shard", channel: Uint8Array, message: Uint8Array): number {
    let receivers = 0;
    const name = toBinaryString(channel);
    const direct = this.#registry.subscribers(kind, name);
    if (direct !== undefined) {
      receivers += this.#fanOut(direct.ids, [WORDS[kind].message, channel, message]);
    }
    if (kind === "channel" && this.#registry.size("pattern") > 0) {
      for (const [pattern, subs] of this.#registry.entries("pattern")) {
        if (!globMatch(subs.bytes, channel)) continue;
        receivers += this.#fanOut(subs.ids, ["pmessage", pattern, channel, message]);
      }
    }
    return receivers;
  }

  /** Channels (or shard channels) with subscribers, optionally only those matching `pattern`. */
  channels(kind: "channel" | "shard", pattern: Uint8Array | null): string[] {
    const out: string[] = [];
    for (const [name, subs] of this.#registry.entries(kind)) {
      if (pattern === null || globMatch(pattern, subs.bytes)) out.push(name);
    }
    return out;
  }

  /** Number of subscribers of one channel or shard channel (patterns not counted). */
  subscriberCount(kind: "channel" | "shard", channel: Uint8Array): number {
    return this.#registry.subscribers(kind, toBinaryString(channel))?.ids.size ?? 0;
  }

  /** Number of distinct patterns with subscribers (PUBSUB NUMPAT in Redis 7.0). */
  get patternCount(): number {
    return this.#registry.size("pattern");
  }

  /** Encodes one message frame per protocol actually needed and pushes it to each subscriber. */
  #fanOut(ids: ReadonlySet<number>, items: readonly Reply[]): number {
    const frames: (Uint8Array | undefined)[] = [];
    let receivers = 0;
    // A sink may disconnect its client while we iterate (output limit): iterate a snapshot.
    for (const id of [...ids]) {
      receivers++;
      const sink = this.#sinks.get(id);
      if (sink === undefined) continue;
      const proto = sink.state.proto;
      let frame = frames[proto];
      if (frame === undefined) frame = frames[proto] = this.#encode(items, proto);
      sink.pushFrame(frame);
    }
    return receivers;
  }

  #confirmation(
    client: ClientState,
    word: string,
    name: string | null,
    kind: SubscriptionKind,
  ): PushReply {
    const count = kind === "shard"
      ? client.subscribedShardChannels
      : client.subscribedChannels + client.subscribedPatterns;
    return new PushReply([word, name, count]);
  }

  /** Encodes a push frame into a fresh array (the scratch buffer is reused, its view is not). */
  #encode(items: readonly Reply[], proto: Protocol): Uint8Array {
    const scratch = this.#scratch;
    encodeReply(scratch, new PushReply(items), proto);
    const frame = scratch.view().slice();
    scratch.reset(64 * 1024);
    return frame;
  }

  #syncCounts(client: ClientState): void {
    client.subscribedChannels = this.#registry.countOf(client.id, "channel");
    client.subscribedPatterns = this.#registry.countOf(client.id, "pattern");
    client.subscribedShardChannels = this.#registry.countOf(client.id, "shard");
  }
}

const hubs = new WeakMap<ServerContext, PubSubHub>();

/** The pub/sub hub of a server, created on first use. */
export function pubsubHub(ctx: ServerContext): PubSubHub {
  let hub = hubs.get(ctx);
  if (hub === undefined) {
    hub = new PubSubHub();
    hubs.set(ctx, hub);
  }
  return hub;
}

/** Drops all of `client`'s subscriptions silently; RESET calls it, as Redis's RESET does. */
export function resetSubscriptions(ctx: ServerContext, client: ClientState): void {
  pubsubHub(ctx).dropAll(client);
}
