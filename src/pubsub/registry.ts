/**
 * Who is subscribed to what: channels (SUBSCRIBE), glob patterns (PSUBSCRIBE) and shard channels
 * (SSUBSCRIBE), indexed both ways (name -> subscriber ids, subscriber id -> names) so that a
 * publish finds its receivers and a disconnect drops a client's subscriptions without scanning.
 * Pure data: no sockets, no encoding. Names are binary strings (one character per byte, see
 * `toBinaryString`), so any bytes are a valid channel.
 */
import { fromBinaryString } from "../util/bytes.ts";

/** The three independent subscription spaces Redis keeps. */
export type SubscriptionKind = "channel" | "pattern" | "shard";

/** Every kind, in the order Redis drops them on RESET and disconnect. */
export const SUBSCRIPTION_KINDS: readonly SubscriptionKind[] = ["channel", "shard", "pattern"];

/** The subscribers of one name, in subscription order, plus the name's bytes for matching. */
export interface Subscribers {
  /** The name as bytes (patterns are matched against channel bytes). */
  readonly bytes: Uint8Array;
  /** Subscriber (client) ids, in the order they subscribed. */
  readonly ids: Set<number>;
}

/** The subscription tables; see the module comment. */
export class SubscriptionRegistry {
  readonly #byName: Record<SubscriptionKind, Map<string, Subscribers>> = {
    channel: new Map(),
    pattern: new Map(),
    shard: new Map(),
  };
  readonly #byClient = new Map<number, Record<SubscriptionKind, Set<string>>>();

  /** Subscribes `id` to `name`; false when it already was (Redis then only re-confirms). */
  add(id: number, kind: SubscriptionKind, name: string): boolean {
    let mine = this.#byClient.get(id);
    if (mine === undefined) {
      mine = { channel: new Set(), pattern: new Set(), shard: new Set() };
      this.#byClient.set(id, mine);
    }
    if (mine[kind].has(name)) return false;
    mine[kind].add(name);
    const table = this.#byName[kind];
    let subs = table.get(name);
    if (subs === undefined) {
      subs = { bytes: fromBinaryString(name), ids: new Set() };
      table.set(name, subs);
    }
    subs.ids.add(id);
    return true;
  }

  /** Unsubscribes `id` from `name`; false when it was not subscribed. */
  remove(id: number, kind: SubscriptionKind, name: string): boolean {
    const mine = this.#byClient.get(id);
    if (mine === undefined || !mine[kind].delete(name)) return false;
    const table = this.#byName[kind];
    const subs = table.get(name);
    if (subs !== undefined) {
      subs.ids.delete(id);
      if (subs.ids.size === 0) table.delete(name);
    }
    if (mine.channel.size === 0 && mine.pattern.size === 0 && mine.shard.size === 0) {
      this.#byClient.delete(id);
    }
    return true;
  }

  /** The subscribers of one channel, shard channel or pattern, if it has any. */
  subscribers(kind: SubscriptionKind, name: string): Subscribers | undefined {
    return this.#byName[kind].get(name);
  }

  /** Every name of a kind that has at least one subscriber, with its subscribers. */
  entries(kind: SubscriptionKind): IterableIterator<[string, Subscribers]> {
    return this.#byName[kind].entries();
  }

  /** Number of distinct names of a kind with subscribers (PUBSUB NUMPAT for patterns). */
  size(kind: SubscriptionKind): number {
    return this.#byName[kind].size;
  }

  /** The names `id` is subscribed to, in subscription order (a copy, safe to mutate against). */
  namesOf(id: number, kind: SubscriptionKind): string[] {
    const mine = this.#byClient.get(id);
    return mine === undefined ? [] : [...mine[kind]];
  }

  /** How many names of a kind `id` is subscribed to. */
  countOf(id: number, kind: SubscriptionKind): number {
    return this.#byClient.get(id)?.[kind].size ?? 0;
  }

  /** Whether `id` has any subscription at all. */
  has(id: number): boolean {
    return this.#byClient.has(id);
  }
}
