/**
 * Host functions: JS functions that Lua calls as C functions. A JS exception must never unwind
 * through the wasm frames that called it (the Lua state would be left mid-call), and the
 * `lua_error` longjmp must never be caught by JS; {@link hostFunction} enforces both.
 */
import { type LuaApi, type LuaState } from "./lua_raw.ts";

/** Returned by a host function body: raise the value on top of the stack as a Lua error. */
export const RAISE = -1;

/** A host function body: pushes its results and returns their count, or returns {@link RAISE}. */
export type HostBody = (L: LuaState) => number;

/**
 * An error a library function reports to the script, as `luaL_error` does: the message gets
 * the position of the calling Lua code ("user_script:1: ") in front.
 */
export class LuaScriptError extends Error {}

/**
 * Registers `body` as a Lua C function and returns its function pointer. Exceptions thrown by
 * the body become Lua errors (a {@link LuaScriptError} with the caller's position, anything
 * else as an internal error); the longjmp of a Lua API call inside the body (which throws a
 * non-Error value) passes through untouched.
 */
export function hostFunction(api: LuaApi, body: HostBody): number {
  const m = api.m;
  return m.addFunction((L: LuaState) => {
    let results: number;
    try {
      results = body(L);
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      m._lua_settop(L, 0);
      pushPositionedMessage(
        api,
        L,
        e instanceof LuaScriptError ? e.message : `internal error: ${e.message}`,
      );
      results = RAISE;
    }
    if (results === RAISE) return m._lua_error(L);
    return results;
  }, "ii");
}

/**
 * Registers `body` as a host function (see {@link hostFunction}), records its pointer in
 * `functions` (freed with the state) and sets it as field `name` of the table on top of the
 * stack: how the cjson, cmsgpack and struct tables are filled.
 */
export function addHostFunction(
  api: LuaApi,
  L: LuaState,
  functions: number[],
  name: string,
  body: HostBody,
): void {
  const ptr = hostFunction(api, body);
  functions.push(ptr);
  api.m._lua_pushcclosure(L, ptr, 0);
  api.setField(L, -2, name);
}

/** Pushes `message` prefixed with the position of the Lua code calling the current function. */
export function pushPositionedMessage(api: LuaApi, L: LuaState, message: string): void {
  api.m._luaL_where(L, 1);
  api.pushBinary(L, message);
  api.m._lua_concat(L, 2);
}

/** Pushes Redis's error table `{err = message}`. */
export function pushErrorTable(api: LuaApi, L: LuaState, message: string): void {
  api.m._lua_createtable(L, 0, 1);
  api.pushBinary(L, message);
  api.setField(L, -2, "err");
}

/**
 * The `err` text Redis stores for an error reply (luaPushErrorBuff on "-" + message): the
 * first word is the code, or "ERR " is put in front when there is no space; CR and LF are
 * trimmed from both ends.
 */
export function errorTableText(message: string): string {
  const space = message.indexOf(" ");
  const code = space < 0 ? "ERR" : message.slice(0, space);
  const text = space < 0 ? message : message.slice(space + 1);
  return `${code} ${text.replace(/^[\r\n]+|[\r\n]+$/g, "")}`;
}

/** The name of a Lua value's type as Lua's `type()` gives it, for argument error messages. */
export function typeName(api: LuaApi, L: LuaState, idx: number): string {
  const names = [
    "nil",
    "boolean",
    "userdata",
    "number",
    "string",
    "table",
    "function",
    "userdata",
    "thread",
  ];
  const t = api.m._lua_type(L, idx);
  return t < 0 ? "no value" : names[t] ?? "userdata";
}

/** Throws Lua's "bad argument" error for argument `n` of library function `fname`. */
export function argError(n: number, fname: string, message: string): never {
  throw new LuaScriptError(`bad argument #${n} to '${fname}' (${message})`);
}

/** The bytes of string (or number) argument `n`, or Lua's "string expected" error. */
export function checkBytes(api: LuaApi, L: LuaState, n: number, fname: string): Uint8Array {
  const t = api.m._lua_type(L, n);
  const bytes = t === 3 || t === 4 ? api.readBytes(L, n) : null;
  if (bytes === null) argError(n, fname, `string expected, got ${typeName(api, L, n)}`);
  return bytes;
}

/** Number argument `n` (numeric strings accepted), or Lua's "number expected" error. */
export function checkNumber(api: LuaApi, L: LuaState, n: number, fname: string): number {
  const value = api.numberAt(L, n);
  if (value === null) argError(n, fname, `number expected, got ${typeName(api, L, n)}`);
  return value;
}

/** Integer argument `n` (floats truncated), or Lua's "number expected" error. */
export function checkInteger(api: LuaApi, L: LuaState, n: number, fname: string): bigint {
  const value = api.integerAt(L, n);
  if (value === null) argError(n, fname, `number expected, got ${typeName(api, L, n)}`);
  return value;
}
