/**
 * What being subscribed changes for a client outside the pub/sub commands themselves: under
 * RESP2 only a few commands may run (Redis's check in `processCommand`), PING answers as an
 * array, and the `pubsub` class of `client-output-buffer-limit` applies instead of `normal`.
 * Dispatch, PING and the connection ask here so the rules live in one place.
 */
import type { ClientClass } from "../config/schema.ts";
import type { Command } from "../commands/registry.ts";
import { ErrorReply, type Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";

/** Commands a RESP2 client may run while subscribed (Redis 7.0's list). */
const ALLOWED_WHILE_SUBSCRIBED = new Set([
  "ping",
  "subscribe",
  "ssubscribe",
  "unsubscribe",
  "sunsubscribe",
  "psubscribe",
  "punsubscribe",
  "quit",
  "reset",
]);

/** Whether the client has any subscription (Redis's `CLIENT_PUBSUB` flag). */
export function isSubscriber(client: ClientState): boolean {
  return client.subscribedChannels + client.subscribedPatterns + client.subscribedShardChannels >
    0;
}

/**
 * The error Redis answers when a RESP2 client in subscriber mode sends a command outside the
 * allowed list, or null when the command may run. Dispatch calls it after its arity, auth, OOM
 * and MISCONF checks, before running the handler, as Redis orders them.
 */
export function subscriberRefusal(client: ClientState, cmd: Command): ErrorReply | null {
  if (client.proto !== 2 || !isSubscriber(client)) return null;
  if (ALLOWED_WHILE_SUBSCRIBED.has(cmd.fullName)) return null;
  return new ErrorReply(
    `ERR Can't execute '${cmd.fullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / ` +
      "RESET are allowed in this context",
  );
}

/**
 * PING's reply in RESP2 subscriber mode, `["pong", arg or ""]` (a plain array, so that a client
 * reading messages can tell it apart), or null when PING answers normally. `argv` is PING's
 * already arity-checked arguments.
 */
export function subscriberPong(client: ClientState, argv: readonly Uint8Array[]): Reply | null {
  if (client.proto !== 2 || !isSubscriber(client)) return null;
  return ["pong", argv.length >= 2 ? argv[1] : ""];
}

/** The `client-output-buffer-limit` class that applies to the client now. */
export function outputLimitClass(client: ClientState): ClientClass {
  if (client.link === "replica") return "replica";
  return isSubscriber(client) ? "pubsub" : "normal";
}
