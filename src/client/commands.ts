/**
 * The typed commands as data: each helper is a function from its parameters to the command's
 * arguments plus a converter from the raw reply to the helper's result type. The client, its
 * pipelines and its transactions all build commands here, so a helper behaves the same in all
 * three and is written once.
 *
 * @module
 */
import type { CommandArg } from "../resp/command_writer.ts";
import {
  RespBigNumber,
  RespDouble,
  RespError,
  RespMap,
  RespSet,
  RespSimple,
  type RespValue,
  RespVerbatim,
} from "../resp/reply_decoder.ts";
import { ClientError, ReplyError } from "./errors.ts";

/** A command ready to send and how to read its reply. */
export interface CommandSpec<T> {
  /** The command name and its arguments. */
  args: CommandArg[];
  /** Turns the (non-error) reply into the helper's result; throws ClientError on a surprise. */
  convert: (reply: RespValue) => T;
}

/** Options of SET: expiry (one of `ex`, `px`, `exat`, `pxat`, `keepTtl`) and condition. */
export interface SetOptions {
  /** Expire after this many seconds. */
  ex?: number;
  /** Expire after this many milliseconds. */
  px?: number;
  /** Expire at this Unix time in seconds. */
  exat?: number;
  /** Expire at this Unix time in milliseconds. */
  pxat?: number;
  /** Keep the key's current TTL. */
  keepTtl?: boolean;
  /** Only set if the key does not exist. */
  nx?: boolean;
  /** Only set if the key exists. */
  xx?: boolean;
}

/** EXPIRE's condition flag (Redis 7). */
export type ExpireCondition = "NX" | "XX" | "GT" | "LT";

const utf8Decoder = new TextDecoder();

/** The reply as it came (the `send` helper). */
export function raw(reply: RespValue): RespValue {
  return reply;
}

function unexpected(reply: RespValue, wanted: string): ClientError {
  const kind = reply === null ? "null" : Array.isArray(reply) ? "array" : typeof reply;
  return new ClientError(`Expected ${wanted} in the reply, got ${kind}`);
}

/** A bulk, simple or verbatim string reply as text (UTF-8), or null. */
export function toText(reply: RespValue): string | null {
  if (reply === null) return null;
  if (reply instanceof Uint8Array) return utf8Decoder.decode(reply);
  if (reply instanceof RespSimple) return reply.value;
  if (reply instanceof RespVerbatim) return utf8Decoder.decode(reply.text);
  if (reply instanceof RespDouble) return String(reply.value);
  throw unexpected(reply, "a string");
}

/** A bulk string reply as bytes, or null. */
export function toBytes(reply: RespValue): Uint8Array | null {
  if (reply === null || reply instanceof Uint8Array) return reply;
  if (reply instanceof RespSimple) return new TextEncoder().encode(reply.value);
  throw unexpected(reply, "a bulk string");
}

/** An integer reply as a number (a RESP3 big number must fit in a double's safe range). */
export function toInteger(reply: RespValue): number {
  if (typeof reply === "number") return reply;
  if (typeof reply === "bigint") return Number(reply);
  if (reply instanceof RespBigNumber) return Number(reply.value);
  throw unexpected(reply, "an integer");
}

/** An integer or boolean reply as a boolean (`:1` / `#t` is true). */
export function toBoolean(reply: RespValue): boolean {
  if (typeof reply === "boolean") return reply;
  return toInteger(reply) !== 0;
}

/** `+OK` as true, a null reply (a SET condition not met) as false. */
export function toOk(reply: RespValue): boolean {
  if (reply === null) return false;
  if (reply instanceof RespSimple) return true;
  throw unexpected(reply, "OK");
}

/** An array reply, each element converted. */
export function toArrayOf<T>(convert: (item: RespValue) => T): (reply: RespValue) => T[] {
  return (reply) => {
    const items = reply instanceof RespSet ? reply.items : reply;
    if (!Array.isArray(items)) throw unexpected(reply, "an array");
    return items.map(convert);
  };
}

/** Turns an error value found inside a reply (e.g. an EXEC result) into a ReplyError. */
export function errorOf(reply: RespValue): ReplyError | null {
  return reply instanceof RespError ? new ReplyError(reply.message) : null;
}

/** A RESP3 map or RESP2 flat array of pairs as a Map with text keys. */
export function toTextMap(reply: RespValue): Map<string, RespValue> {
  const out = new Map<string, RespValue>();
  if (reply instanceof RespMap) {
    for (const [k, v] of reply.entries) out.set(toText(k) ?? "", v);
  } else if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) out.set(toText(reply[i]) ?? "", reply[i + 1]);
  } else throw unexpected(reply, "a map");
  return out;
}

/** Key/value pairs for MSET, as an object (text keys) or a list of pairs (any keys). */
export type KeyValues =
  | Record<string, CommandArg>
  | readonly (readonly [CommandArg, CommandArg])[];

function setArgs(key: CommandArg, value: CommandArg, options: SetOptions): CommandArg[] {
  const args: CommandArg[] = ["SET", key, value];
  if (options.ex !== undefined) args.push("EX", options.ex);
  if (options.px !== undefined) args.push("PX", options.px);
  if (options.exat !== undefined) args.push("EXAT", options.exat);
  if (options.pxat !== undefined) args.push("PXAT", options.pxat);
  if (options.keepTtl) args.push("KEEPTTL");
  if (options.nx) args.push("NX");
  if (options.xx) args.push("XX");
  return args;
}

/** The commands with typed results; see the Client methods of the same names. */
export const COMMANDS = {
  send: (args: CommandArg[]): CommandSpec<RespValue> => ({ args, convert: raw }),
  ping: (message?: CommandArg): CommandSpec<string> => ({
    args: message === undefined ? ["PING"] : ["PING", message],
    convert: (reply) => toText(reply) ?? "",
  }),
  get: (key: CommandArg): CommandSpec<string | null> => ({ args: ["GET", key], convert: toText }),
  getBuffer: (key: CommandArg): CommandSpec<Uint8Array | null> => ({
    args: ["GET", key],
    convert: toBytes,
  }),
  set: (key: CommandArg, value: CommandArg, options: SetOptions = {}): CommandSpec<boolean> => ({
    args: setArgs(key, value, options),
    convert: toOk,
  }),
  del: (keys: CommandArg[]): CommandSpec<number> => ({
    args: ["DEL", ...keys],
    convert: toInteger,
  }),
  exists: (keys: CommandArg[]): CommandSpec<number> => ({
    args: ["EXISTS", ...keys],
    convert: toInteger,
  }),
  mget: (keys: CommandArg[]): CommandSpec<(string | null)[]> => ({
    args: ["MGET", ...keys],
    convert: toArrayOf(toText),
  }),
  mgetBuffer: (keys: CommandArg[]): CommandSpec<(Uint8Array | null)[]> => ({
    args: ["MGET", ...keys],
    convert: toArrayOf(toBytes),
  }),
  mset: (pairs: KeyValues): CommandSpec<boolean> => {
    const args: CommandArg[] = ["MSET"];
    const list = Array.isArray(pairs) ? pairs : Object.entries(pairs);
    for (const [key, value] of list) args.push(key, value);
    return { args, convert: toOk };
  },
  incr: (key: CommandArg): CommandSpec<number> => ({ args: ["INCR", key], convert: toInteger }),
  incrBy: (key: CommandArg, by: number): CommandSpec<number> => ({
    args: ["INCRBY", key, by],
    convert: toInteger,
  }),
  expire: (key: CommandArg, seconds: number, when?: ExpireCondition): CommandSpec<boolean> => ({
    args: when === undefined ? ["EXPIRE", key, seconds] : ["EXPIRE", key, seconds, when],
    convert: toBoolean,
  }),
  ttl: (key: CommandArg): CommandSpec<number> => ({ args: ["TTL", key], convert: toInteger }),
  pttl: (key: CommandArg): CommandSpec<number> => ({ args: ["PTTL", key], convert: toInteger }),
  publish: (channel: CommandArg, message: CommandArg): CommandSpec<number> => ({
    args: ["PUBLISH", channel, message],
    convert: toInteger,
  }),
};
