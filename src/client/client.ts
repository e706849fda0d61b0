/**
 * The typed client: {@link connect} opens a {@link RespConnection}, authenticates, picks the
 * protocol and database, and returns a {@link Client} whose helpers send commands and convert
 * replies. Commands issued without awaiting in between are pipelined automatically (one socket
 * write, replies matched in order); `pipeline()` and `multi()` batch explicitly.
 *
 * Error replies reject with ReplyError (its `code` is the first word, e.g. `WRONGTYPE`). The
 * client does not follow `-MOVED`/`-ASK` redirections: there is no cluster support yet, so they
 * surface as ReplyError with code `MOVED`/`ASK`.
 *
 * @module
 */
import type { ConnectTls } from "../util/connect.ts";
import type { CommandArg } from "../resp/command_writer.ts";
import { RespError, type RespValue } from "../resp/reply_decoder.ts";
import { Batch, type Pipeline, type Transaction } from "./batch.ts";
import {
  COMMANDS,
  type CommandSpec,
  type ExpireCondition,
  type KeyValues,
  type SetOptions,
  toTextMap,
} from "./commands.ts";
import { RespConnection } from "./connection.ts";
import { ReplyError } from "./errors.ts";
import { Subscription } from "./subscription.ts";

/** Options of {@link connect}. */
export interface ClientOptions {
  /** Host name or address (default `127.0.0.1`). */
  host?: string;
  /** TCP port (default 6379). */
  port?: number;
  /** Sent with AUTH (or HELLO ... AUTH) right after connecting. */
  password?: string;
  /** User for AUTH (default: the `default` user). */
  username?: string;
  /** Database selected after connecting (default 0). */
  db?: number;
  /** Bounds connecting and each wait for a reply, in ms (default 10 000; 0 waits forever). */
  timeoutMs?: number;
  /** RESP version: 2 (default) or 3 (negotiated with HELLO 3). */
  protocol?: 2 | 3;
  /**
   * Connect over TLS: `true` verifies the server against the system's roots; an object gives
   * the CA certificates to trust and a client certificate and key to present (PEM text).
   */
  tls?: true | ConnectTls;
}

/** Runs the connection's setup commands, in one write, failing on the first error reply. */
async function handshake(conn: RespConnection, options: ClientOptions): Promise<void> {
  const commands: CommandArg[][] = [];
  const auth = options.password === undefined
    ? []
    : ["AUTH", options.username ?? "default", options.password];
  if (options.protocol === 3) commands.push(["HELLO", 3, ...auth]);
  else if (auth.length > 0) {
    commands.push(options.username === undefined ? ["AUTH", auth[2]] : auth);
  }
  if (options.db !== undefined && options.db !== 0) commands.push(["SELECT", options.db]);
  const replies = await Promise.all(commands.map((args) => conn.call(args)));
  for (const reply of replies) {
    if (reply instanceof RespError) throw new ReplyError(reply.message);
  }
}

/**
 * Connects and prepares a client. Rejects with ConnectionError (refused, unreachable),
 * TimeoutError, or ReplyError (e.g. `WRONGPASS`, or `NOPROTO` for protocol 3 on an old server).
 */
export async function connect(options: ClientOptions = {}): Promise<Client> {
  const conn = await RespConnection.open(options);
  try {
    await handshake(conn, options);
  } catch (e) {
    await conn.close();
    throw e;
  }
  return new Client(conn, options);
}

/** A connected client; close it with `await using`, {@link Client.close} or {@link Client.quit}. */
export class Client {
  /** The underlying connection, for callers that send pre-encoded commands. */
  readonly connection: RespConnection;
  readonly #options: ClientOptions;

  /** Use {@link connect}. */
  constructor(connection: RespConnection, options: ClientOptions) {
    this.connection = connection;
    this.#options = options;
  }

  /** Sends a command and converts its reply; an error reply rejects with ReplyError. */
  async #run<T>(spec: CommandSpec<T>): Promise<T> {
    const reply = await this.connection.call(spec.args);
    if (reply instanceof RespError) throw new ReplyError(reply.message);
    return spec.convert(reply);
  }

  /** Sends any command and resolves with its raw reply (bulk strings as bytes). */
  send(...args: CommandArg[]): Promise<RespValue> {
    return this.#run(COMMANDS.send(args));
  }

  /** PING: `PONG`, or the message echoed. */
  ping(message?: CommandArg): Promise<string> {
    return this.#run(COMMANDS.ping(message));
  }

  /** GET as UTF-8 text; null when the key does not exist. */
  get(key: CommandArg): Promise<string | null> {
    return this.#run(COMMANDS.get(key));
  }

  /** GET as bytes (binary-safe); null when the key does not exist. */
  getBuffer(key: CommandArg): Promise<Uint8Array | null> {
    return this.#run(COMMANDS.getBuffer(key));
  }

  /** SET with optional expiry and NX/XX; resolves false when NX/XX prevented the write. */
  set(key: CommandArg, value: CommandArg, options?: SetOptions): Promise<boolean> {
    return this.#run(COMMANDS.set(key, value, options));
  }

  /** DEL: how many of the keys existed and were removed. */
  del(...keys: CommandArg[]): Promise<number> {
    return this.#run(COMMANDS.del(keys));
  }

  /** EXISTS: how many of the keys exist (a key named twice counts twice). */
  exists(...keys: CommandArg[]): Promise<number> {
    return this.#run(COMMANDS.exists(keys));
  }

  /** MGET as text, null for missing keys. */
  mget(...keys: CommandArg[]): Promise<(string | null)[]> {
    return this.#run(COMMANDS.mget(keys));
  }

  /** MGET as bytes, null for missing keys. */
  mgetBuffer(...keys: CommandArg[]): Promise<(Uint8Array | null)[]> {
    return this.#run(COMMANDS.mgetBuffer(keys));
  }

  /** MSET from an object or a list of `[key, value]` pairs. */
  async mset(pairs: KeyValues): Promise<void> {
    await this.#run(COMMANDS.mset(pairs));
  }

  /** INCR: the new value. */
  incr(key: CommandArg): Promise<number> {
    return this.#run(COMMANDS.incr(key));
  }

  /** INCRBY: the new value. */
  incrBy(key: CommandArg, by: number): Promise<number> {
    return this.#run(COMMANDS.incrBy(key, by));
  }

  /** EXPIRE (with an optional NX/XX/GT/LT condition): true when the timeout was set. */
  expire(key: CommandArg, seconds: number, when?: ExpireCondition): Promise<boolean> {
    return this.#run(COMMANDS.expire(key, seconds, when));
  }

  /** TTL in seconds: -1 when the key has none, -2 when it does not exist. */
  ttl(key: CommandArg): Promise<number> {
    return this.#run(COMMANDS.ttl(key));
  }

  /** PTTL in milliseconds: -1 when the key has none, -2 when it does not exist. */
  pttl(key: CommandArg): Promise<number> {
    return this.#run(COMMANDS.pttl(key));
  }

  /** PUBLISH: how many subscribers received the message. */
  publish(channel: CommandArg, message: CommandArg): Promise<number> {
    return this.#run(COMMANDS.publish(channel, message));
  }

  /** WATCH keys for the next `multi().exec()` on this client. */
  async watch(...keys: CommandArg[]): Promise<void> {
    await this.#run(COMMANDS.send(["WATCH", ...keys]));
  }

  /** HELLO's answer (server, version, proto, id, mode, role) as a Map. */
  async hello(): Promise<Map<string, RespValue>> {
    return toTextMap(await this.#run(COMMANDS.send(["HELLO"])));
  }

  /** A pipeline: queue commands, then `exec()` writes them at once. */
  pipeline(): Pipeline {
    return new Batch(this.connection, "pipeline");
  }

  /** A transaction: queue commands, then `exec()` sends MULTI, them and EXEC in one write. */
  multi(): Transaction {
    return new Batch(this.connection, "multi");
  }

  /**
   * Subscribes to channels on a new connection (with this client's options) and returns the
   * subscription, an async iterable of messages. This client stays free for other commands.
   */
  subscribe(...channels: CommandArg[]): Promise<Subscription> {
    return Subscription.open(
      this.#options,
      (conn) => handshake(conn, this.#options),
      "SUBSCRIBE",
      channels,
    );
  }

  /** Like {@link subscribe} for glob patterns (PSUBSCRIBE). */
  psubscribe(...patterns: CommandArg[]): Promise<Subscription> {
    return Subscription.open(
      this.#options,
      (conn) => handshake(conn, this.#options),
      "PSUBSCRIBE",
      patterns,
    );
  }

  /** Sends QUIT, waits for its reply (so earlier replies are in too), then closes. */
  async quit(): Promise<void> {
    try {
      await this.connection.call(["QUIT"]);
    } finally {
      await this.connection.close();
    }
  }

  /** Closes the connection at once; commands still waiting reject with ConnectionError. */
  close(): Promise<void> {
    return this.connection.close();
  }

  /** For `await using`: {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
