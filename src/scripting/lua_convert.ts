/**
 * Conversions between the server's {@link Reply} values and Lua values, as Redis 7.0's
 * script_lua.c does them: `redis.call` replies into Lua (redisProtocolToLuaType, according to
 * the protocol the script chose with `redis.setresp`), and a script's return value back into a
 * reply (luaReplyToRedisReply).
 */
import {
  BigNumberReply,
  BulkSlicesReply,
  BytesRangeReply,
  DeferredReply,
  DoubleReply,
  ErrorReply,
  MapReply,
  NullArray,
  PushReply,
  RawReply,
  type Reply,
  ReplySequence,
  SetReply,
  SimpleString,
  VerbatimReply,
} from "../resp/reply.ts";
import { formatDouble } from "../resp/encoder.ts";
import { errorTableText, LuaScriptError, pushErrorTable } from "./lua_host.ts";
import {
  LUA_TBOOLEAN,
  LUA_TNIL,
  LUA_TNUMBER,
  LUA_TSTRING,
  LUA_TTABLE,
  type LuaApi,
  type LuaState,
} from "./lua_raw.ts";

/** The protocol a script asked for with `redis.setresp` (2 unless it changed it). */
export type ScriptProtocol = 2 | 3;

/**
 * Deepest table nesting converted into a reply: at this depth the reply holds Redis's
 * stack-limit error instead. redis-server 7.0 nests 7995 arrays before the error (Lua 5.1's C
 * stack); replies that deep overflow the JS stack of the encoder and the client decoders, so
 * gocache stops at 1000 (measured: 7995 crashed the process in the encoder's recursion).
 */
const MAX_REPLY_DEPTH = 1000;

const INT64_MIN = -9223372036854775808n;
const TWO_POW_63 = 9223372036854775808;

/** Pushes `reply` as the Lua value Redis gives a script for it under protocol `resp`. */
export function pushReply(api: LuaApi, L: LuaState, reply: Reply, resp: ScriptProtocol): void {
  const m = api.m;
  if (!m._lua_checkstack(L, 4)) throw new LuaScriptError("reached lua stack limit");
  if (reply instanceof Uint8Array) return api.pushBytes(L, reply);
  switch (typeof reply) {
    case "string":
      return api.pushBinary(L, reply);
    case "number":
      if (Number.isInteger(reply)) return m._lua_pushinteger(L, BigInt(reply));
      return m._lua_pushnumber(L, reply);
    case "bigint":
      return m._lua_pushinteger(L, BigInt.asIntN(64, reply));
    case "boolean":
      if (resp === 3) return m._lua_pushboolean(L, reply ? 1 : 0);
      return m._lua_pushinteger(L, reply ? 1n : 0n);
  }
  if (reply === null || reply instanceof NullArray) return pushNull(api, L, resp);
  if (Array.isArray(reply)) return pushArray(api, L, reply, resp);
  pushObjectReply(api, L, reply as Exclude<Reply, readonly Reply[]>, resp);
}

/** RESP2 null bulk and null array are `false`; the RESP3 null is `nil`. */
function pushNull(api: LuaApi, L: LuaState, resp: ScriptProtocol): void {
  if (resp === 3) api.m._lua_pushnil(L);
  else api.m._lua_pushboolean(L, 0);
}

function pushArray(api: LuaApi, L: LuaState, items: readonly Reply[], resp: ScriptProtocol): void {
  api.m._lua_createtable(L, items.length, 0);
  for (let i = 0; i < items.length; i++) {
    pushReply(api, L, items[i], resp);
    api.m._lua_rawseti(L, -2, BigInt(i + 1));
  }
}

/** The reply classes (status, error, map, set, double, verbatim and the rest). */
function pushObjectReply(api: LuaApi, L: LuaState, reply: Reply, resp: ScriptProtocol): void {
  const m = api.m;
  if (reply instanceof SimpleString) {
    m._lua_createtable(L, 0, 1);
    api.pushText(L, reply.text);
    return api.setField(L, -2, "ok");
  }
  if (reply instanceof ErrorReply) return pushErrorTable(api, L, errorTableText(reply.message));
  if (reply instanceof MapReply) return pushMap(api, L, reply.flat, resp);
  if (reply instanceof SetReply) return pushSet(api, L, reply.items, resp);
  if (reply instanceof DoubleReply) {
    if (resp === 2) return api.pushBinary(L, formatDouble(reply.value));
    m._lua_createtable(L, 0, 1);
    m._lua_pushnumber(L, reply.value);
    return api.setField(L, -2, "double");
  }
  if (reply instanceof VerbatimReply) return pushVerbatim(api, L, reply.text, resp);
  if (reply instanceof BulkSlicesReply) return pushArray(api, L, reply.items(), resp);
  if (reply instanceof ReplySequence || reply instanceof PushReply) {
    return pushArray(api, L, reply.items, resp);
  }
  if (reply instanceof DeferredReply) return pushReply(api, L, reply.immediate, resp);
  if (reply instanceof RawReply) return api.pushBytes(L, reply.bytes);
  // Not given to scripts (see repliesAtOnce), read at once if one comes anyway.
  if (reply instanceof BytesRangeReply) {
    return api.pushBytes(L, reply.bytes.subarray(reply.start, reply.end));
  }
  if (reply instanceof BigNumberReply) {
    if (resp === 2) return api.pushBinary(L, reply.text);
    m._lua_createtable(L, 0, 1);
    api.pushBinary(L, reply.text);
    return api.setField(L, -2, "big_number");
  }
  pushNull(api, L, resp);
}

/** RESP2: the flat key/value array; RESP3: `{map = {[key] = value}}`. */
function pushMap(api: LuaApi, L: LuaState, flat: readonly Reply[], resp: ScriptProtocol): void {
  if (resp === 2) return pushArray(api, L, flat, resp);
  const m = api.m;
  m._lua_createtable(L, 0, 1);
  m._lua_createtable(L, 0, flat.length / 2);
  for (let i = 0; i + 1 < flat.length; i += 2) {
    pushReply(api, L, flat[i], resp);
    pushReply(api, L, flat[i + 1], resp);
    if (m._lua_type(L, -2) === LUA_TNIL) api.pop(L, 2);
    else m._lua_rawset(L, -3);
  }
  api.setField(L, -2, "map");
}

/** RESP2: an array; RESP3: `{set = {[member] = true}}`. */
function pushSet(api: LuaApi, L: LuaState, items: readonly Reply[], resp: ScriptProtocol): void {
  if (resp === 2) return pushArray(api, L, items, resp);
  const m = api.m;
  m._lua_createtable(L, 0, 1);
  m._lua_createtable(L, 0, items.length);
  for (const item of items) {
    pushReply(api, L, item, resp);
    if (m._lua_type(L, -1) === LUA_TNIL) {
      api.pop(L, 1);
      continue;
    }
    m._lua_pushboolean(L, 1);
    m._lua_rawset(L, -3);
  }
  api.setField(L, -2, "set");
}

/** RESP2: a bulk string; RESP3: `{verbatim_string = {format = "txt", string = text}}`. */
function pushVerbatim(api: LuaApi, L: LuaState, text: string, resp: ScriptProtocol): void {
  if (resp === 2) return api.pushText(L, text);
  const m = api.m;
  m._lua_createtable(L, 0, 1);
  m._lua_createtable(L, 0, 2);
  api.pushText(L, "txt");
  api.setField(L, -2, "format");
  api.pushText(L, text);
  api.setField(L, -2, "string");
  api.setField(L, -2, "verbatim_string");
}

/**
 * The reply for the Lua value at `idx` (a script's return value), as luaReplyToRedisReply:
 * strings are bulk strings (binary strings here), numbers integers truncated toward zero,
 * booleans per the script's protocol, `{err=}` / `{ok=}` / `{double=}` / `{map=}` / `{set=}` /
 * `{big_number=}` / `{verbatim_string=}` their reply types, other tables arrays up to the
 * first nil, and anything else null.
 */
export function readReply(
  api: LuaApi,
  L: LuaState,
  idx: number,
  resp: ScriptProtocol,
  depth = 0,
): Reply {
  const m = api.m;
  switch (m._lua_type(L, idx)) {
    case LUA_TSTRING:
      return api.readBinary(L, idx);
    case LUA_TBOOLEAN: {
      const value = m._lua_toboolean(L, idx) !== 0;
      if (resp === 3) return value;
      return value ? 1 : null;
    }
    case LUA_TNUMBER:
      return readInteger(api, L, idx);
    case LUA_TTABLE:
      if (depth >= MAX_REPLY_DEPTH || !m._lua_checkstack(L, 4)) {
        return new ErrorReply("ERR reached lua stack limit");
      }
      return readTable(api, L, m._lua_absindex(L, idx), resp, depth);
    default:
      return null;
  }
}

/** A Lua number as Redis's `(long long)` cast gives it: out of range and NaN are INT64_MIN. */
function readInteger(api: LuaApi, L: LuaState, idx: number): number | bigint {
  const m = api.m;
  if (m._lua_isinteger(L, idx)) return narrow(m._lua_tointegerx(L, idx, 0));
  const value = m._lua_tonumberx(L, idx, 0);
  if (!Number.isFinite(value) || value >= TWO_POW_63 || value < -TWO_POW_63) return INT64_MIN;
  const truncated = Math.trunc(value);
  return Number.isSafeInteger(truncated) ? truncated : BigInt(truncated);
}

/** A 64-bit integer as a JS number when exact, else as a bigint. */
function narrow(value: bigint): number | bigint {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
}

function readTable(
  api: LuaApi,
  L: LuaState,
  table: number,
  resp: ScriptProtocol,
  depth: number,
): Reply {
  const special = readSpecialTable(api, L, table, resp, depth);
  if (special !== undefined) return special;
  const m = api.m;
  const items: Reply[] = [];
  for (let i = 1n;; i++) {
    if (m._lua_rawgeti(L, table, i) === LUA_TNIL) {
      api.pop(L, 1);
      return items;
    }
    items.push(readReply(api, L, -1, resp, depth + 1));
    api.pop(L, 1);
  }
}

/** The reply of a table with one of Redis's marker fields, or undefined for a plain array. */
function readSpecialTable(
  api: LuaApi,
  L: LuaState,
  table: number,
  resp: ScriptProtocol,
  depth: number,
): Reply | undefined {
  const err = stringField(api, L, table, "err");
  if (err !== null) return new ErrorReply(err);
  const ok = stringField(api, L, table, "ok");
  if (ok !== null) return new SimpleString(ok.replace(/[\r\n]/g, " "));
  if (api.getField(L, table, "double") === LUA_TNUMBER) {
    const value = api.m._lua_tonumberx(L, -1, 0);
    api.pop(L, 1);
    return new DoubleReply(value);
  }
  api.pop(L, 1);
  const big = stringField(api, L, table, "big_number");
  if (big !== null) return new BigNumberReply(big.replace(/[\r\n]/g, " "));
  const verbatim = readVerbatim(api, L, table);
  if (verbatim !== null) return verbatim;
  if (api.getField(L, table, "map") === LUA_TTABLE) return readPairs(api, L, resp, depth, true);
  api.pop(L, 1);
  if (api.getField(L, table, "set") === LUA_TTABLE) return readPairs(api, L, resp, depth, false);
  api.pop(L, 1);
  return undefined;
}

/** Field `key` of the table when it is a string (as a binary string), else null. */
function stringField(api: LuaApi, L: LuaState, table: number, key: string): string | null {
  const isString = api.getField(L, table, key) === LUA_TSTRING;
  const value = isString ? api.readBinary(L, -1) : null;
  api.pop(L, 1);
  return value;
}

function readVerbatim(api: LuaApi, L: LuaState, table: number): Reply | null {
  if (api.getField(L, table, "verbatim_string") !== LUA_TTABLE) {
    api.pop(L, 1);
    return null;
  }
  const inner = api.m._lua_absindex(L, -1);
  const format = stringField(api, L, inner, "format");
  const isString = api.getField(L, inner, "string") === LUA_TSTRING;
  const text = isString ? api.readText(L, -1) : null;
  api.pop(L, 2);
  return format !== null && text !== null ? new VerbatimReply(text) : null;
}

/** Reads the table on top (popped): a map's pairs, or a set's keys. */
function readPairs(
  api: LuaApi,
  L: LuaState,
  resp: ScriptProtocol,
  depth: number,
  withValues: boolean,
): Reply {
  const m = api.m;
  const table = m._lua_absindex(L, -1);
  const out: Reply[] = [];
  m._lua_pushnil(L);
  while (m._lua_next(L, table)) {
    out.push(readReply(api, L, -2, resp, depth + 1));
    if (withValues) out.push(readReply(api, L, -1, resp, depth + 1));
    api.pop(L, 1);
  }
  api.pop(L, 1);
  return withValues ? new MapReply(out) : new SetReply(out);
}
