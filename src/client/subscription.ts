/**
 * Pub/sub on a connection of its own. A subscribed RESP2 connection accepts only the subscribe
 * family, and messages arrive unasked, so a subscription is kept apart from the client's
 * request/reply connection: every frame goes to the subscription, which counts confirmations
 * (`subscribe`, `psubscribe`, ...) and queues messages for the async iterator. RESP2 arrays and
 * RESP3 push frames are read alike.
 *
 * Messages are buffered without bound until the iterator takes them; a consumer that stops
 * reading should close the subscription (the server would otherwise cut it off at its
 * `client-output-buffer-limit pubsub`).
 *
 * @module
 */
import type { CommandArg } from "../resp/command_writer.ts";
import { RespError, RespPush, type RespValue } from "../resp/reply_decoder.ts";
import { RespConnection } from "./connection.ts";
import type { ConnectionOptions } from "./connection.ts";
import { ConnectionError, ReplyError, TimeoutError } from "./errors.ts";

const utf8Decoder = new TextDecoder();

/** One delivered message. */
export class PubSubMessage {
  /** Wraps a delivery; `pattern` is set for pattern subscriptions. */
  constructor(
    readonly channel: string,
    readonly data: Uint8Array,
    readonly pattern: string | null = null,
  ) {}

  /** The payload decoded as UTF-8 (decoded on demand, since payloads may be binary). */
  get text(): string {
    return utf8Decoder.decode(this.data);
  }
}

const CONFIRMATIONS = new Set([
  "subscribe",
  "psubscribe",
  "ssubscribe",
  "unsubscribe",
  "punsubscribe",
  "sunsubscribe",
]);

function word(value: RespValue | undefined): string {
  return value instanceof Uint8Array ? utf8Decoder.decode(value) : "";
}

/** A live subscription: iterate it with `for await`; close it with `await using` or close(). */
export class Subscription implements AsyncIterable<PubSubMessage> {
  #conn!: RespConnection;
  readonly #timeoutMs: number;
  readonly #messages: PubSubMessage[] = [];
  #messageHead = 0;
  #wake: (() => void) | null = null;
  /** Confirmations still expected, with who waits for them. */
  #waiters: { remaining: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  #ended: ConnectionError | null = null;
  #closedByUser = false;

  private constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** Opens the connection, runs `handshake` on it, then subscribes. Used by the client. */
  static async open(
    options: ConnectionOptions,
    handshake: (conn: RespConnection) => Promise<void>,
    command: "SUBSCRIBE" | "PSUBSCRIBE",
    names: CommandArg[],
  ): Promise<Subscription> {
    const sub = new Subscription(options.timeoutMs ?? 10_000);
    let subscribing = false;
    sub.#conn = await RespConnection.open({
      ...options,
      onFrame: (frame) => subscribing && sub.#onFrame(frame),
      onClose: (error) => sub.#onClose(error),
    });
    try {
      await handshake(sub.#conn);
      subscribing = true;
      await sub.#request(command, names);
    } catch (e) {
      await sub.close();
      throw e;
    }
    return sub;
  }

  /** Subscribes to more channels; resolves once the server confirmed each. */
  subscribe(...channels: CommandArg[]): Promise<void> {
    return this.#request("SUBSCRIBE", channels);
  }

  /** Subscribes to glob patterns (`news.*`); resolves once confirmed. */
  psubscribe(...patterns: CommandArg[]): Promise<void> {
    return this.#request("PSUBSCRIBE", patterns);
  }

  /** Leaves the given channels; resolves once confirmed. */
  unsubscribe(...channels: CommandArg[]): Promise<void> {
    return this.#request("UNSUBSCRIBE", channels);
  }

  /** Sends a subscribe-family command and waits for one confirmation per name. */
  #request(command: string, names: CommandArg[]): Promise<void> {
    if (names.length === 0) throw new RangeError(`${command} needs at least one name`);
    if (this.#ended !== null) return Promise.reject(this.#ended);
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter = {
        remaining: names.length,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      if (this.#timeoutMs > 0) {
        timer = setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          reject(new TimeoutError(`${command} was not confirmed within ${this.#timeoutMs} ms`));
        }, this.#timeoutMs);
      }
      this.#waiters.push(waiter);
      this.#conn.command([command, ...names], null);
    });
  }

  #onFrame(frame: RespValue): boolean {
    const items = frame instanceof RespPush ? frame.items : frame;
    if (frame instanceof RespError) {
      this.#waiters.shift()?.reject(new ReplyError(frame.message));
      return true;
    }
    if (!Array.isArray(items)) return true;
    const kind = word(items[0]);
    if (kind === "message" || kind === "smessage") {
      this.#deliver(new PubSubMessage(word(items[1]), items[2] as Uint8Array));
    } else if (kind === "pmessage") {
      this.#deliver(new PubSubMessage(word(items[2]), items[3] as Uint8Array, word(items[1])));
    } else if (CONFIRMATIONS.has(kind)) {
      const waiter = this.#waiters[0];
      if (waiter !== undefined && --waiter.remaining === 0) {
        this.#waiters.shift();
        waiter.resolve();
      }
    }
    return true;
  }

  #deliver(message: PubSubMessage): void {
    this.#messages.push(message);
    this.#wake?.();
  }

  #onClose(error: ConnectionError | null): void {
    this.#ended = error ?? new ConnectionError("Subscription closed");
    for (const waiter of this.#waiters) waiter.reject(this.#ended);
    this.#waiters = [];
    this.#wake?.();
  }

  /**
   * Yields messages as they arrive. Ends when the subscription is closed; throws
   * ConnectionError if the connection broke.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<PubSubMessage> {
    for (;;) {
      if (this.#messageHead < this.#messages.length) {
        const message = this.#messages[this.#messageHead++];
        if (this.#messageHead === this.#messages.length) {
          this.#messages.length = 0;
          this.#messageHead = 0;
        }
        yield message;
        continue;
      }
      if (this.#ended !== null) {
        if (this.#closedByUser) return;
        throw this.#ended;
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = null;
    }
  }

  /** Closes the connection; the iterator ends after the messages already received. */
  async close(): Promise<void> {
    this.#closedByUser = true;
    await this.#conn?.close();
  }

  /** For `await using`: {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
