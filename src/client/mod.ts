/**
 * gocache's RESP2/RESP3 client, for any Redis-compatible server: typed helpers, automatic and
 * explicit pipelining, transactions, pub/sub, binary-safe values, and distinct error classes.
 *
 * ```ts
 * import { connect } from "@gocache/gocache/client";
 *
 * await using client = await connect({ host: "127.0.0.1", port: 7000 });
 * await client.set("greeting", "hello", { ex: 60 });
 * console.log(await client.get("greeting")); // "hello"
 * const [n, value] = await client.pipeline().incr("hits").get("greeting").exec();
 * ```
 *
 * `connectToLeader({ sentinels, name })` finds a leader/follower group's leader through Sentinel's
 * API (a gocache group's members, or redis-sentinel); after a failover, connect again.
 *
 * TLS: `connect({ port: 6380, tls: { caCerts: [ca], cert, key } })` (PEM text), or `tls: true`
 * for a server certified by the system's roots.
 *
 * Not supported yet: following `-MOVED`/`-ASK` (cluster mode), reconnecting by itself.
 *
 * @module
 */
export { Client, type ClientOptions, connect } from "./client.ts";
export {
  Batch,
  type BatchMode,
  type BatchResults,
  type ExecResult,
  type Pipeline,
  type Transaction,
} from "./batch.ts";
export type { ExpireCondition, KeyValues, SetOptions } from "./commands.ts";
export { type ConnectionOptions, ReplySink, RespConnection } from "./connection.ts";
export { ClientError, ConnectionError, ReplyError, TimeoutError } from "./errors.ts";
export { PubSubMessage, Subscription } from "./subscription.ts";
export {
  connectToLeader,
  discoverLeader,
  type LeaderOptions,
  type SentinelAddress,
} from "./sentinel.ts";
export type { CommandArg } from "../resp/command_writer.ts";
export type { ConnectTls } from "../util/connect.ts";
export {
  RespBigNumber,
  RespDouble,
  RespError,
  RespMap,
  RespPush,
  RespSet,
  RespSimple,
  type RespValue,
  RespVerbatim,
} from "../resp/reply_decoder.ts";
