/**
 * The Lua 5.4 virtual machine (wasmoon's WebAssembly build) driven through its raw C API.
 *
 * wasmoon's own high-level API converts strings through UTF-8, which corrupts binary values, so
 * gocache calls the exported C functions (`_lua_*`) directly and moves string bytes through the
 * module's linear memory itself. Everything here is binary-safe: a Lua string is read as the
 * exact bytes it holds and pushed from exact bytes.
 *
 * Two rules every caller must follow:
 * - re-read `heap()` after anything that may allocate: memory growth replaces the view;
 * - a JS exception must never unwind through a wasm frame, and `lua_error` (which longjmps, in
 *   this build by throwing `Infinity` through JS) must never be caught by JS code.
 */
import { LuaFactory } from "wasmoon";

/** A `lua_State*`: an address in the module's memory. */
export type LuaState = number;

/** Lua's status codes. */
export const LUA_OK = 0;
/** The coroutine yielded. */
export const LUA_YIELD = 1;
/** A runtime error. */
export const LUA_ERRRUN = 2;

/** Lua's value types (`lua_type`). */
export const LUA_TNIL = 0;
/** Lua boolean. */
export const LUA_TBOOLEAN = 1;
/** Light userdata (cjson.null). */
export const LUA_TLIGHTUSERDATA = 2;
/** Lua number (integer or float). */
export const LUA_TNUMBER = 3;
/** Lua string. */
export const LUA_TSTRING = 4;
/** Lua table. */
export const LUA_TTABLE = 5;
/** Lua function. */
export const LUA_TFUNCTION = 6;

/** `lua_sethook` mask bit for the instruction-count hook. */
export const LUA_MASKCOUNT = 8;
/** `lua_pcall` result count meaning "all results". */
export const LUA_MULTRET = -1;
/** The registry's pseudo-index in Lua 5.4 (`-LUAI_MAXSTACK - 1000`). */
export const LUA_REGISTRYINDEX = -1001000;
/** Registry slot of the globals table. */
export const LUA_RIDX_GLOBALS = 2n;

/** The C functions of the wasm module that gocache uses, with their wasm-level signatures. */
export interface LuaModule {
  HEAPU8: Uint8Array;
  HEAPU32: Uint32Array;
  HEAP32: Int32Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  addFunction(fn: (...args: number[]) => number | void, signature: string): number;
  removeFunction(ptr: number): void;
  _luaL_newstate(): LuaState;
  _luaL_openlibs(L: LuaState): void;
  _lua_close(L: LuaState): void;
  _lua_gettop(L: LuaState): number;
  _lua_settop(L: LuaState, idx: number): void;
  _lua_absindex(L: LuaState, idx: number): number;
  _lua_pushvalue(L: LuaState, idx: number): void;
  _lua_rotate(L: LuaState, idx: number, n: number): void;
  _lua_checkstack(L: LuaState, n: number): number;
  _lua_type(L: LuaState, idx: number): number;
  _lua_isinteger(L: LuaState, idx: number): number;
  _lua_tonumberx(L: LuaState, idx: number, isnum: number): number;
  _lua_tointegerx(L: LuaState, idx: number, isnum: number): bigint;
  _lua_toboolean(L: LuaState, idx: number): number;
  _lua_tolstring(L: LuaState, idx: number, len: number): number;
  _lua_touserdata(L: LuaState, idx: number): number;
  _lua_pushnil(L: LuaState): void;
  _lua_pushnumber(L: LuaState, n: number): void;
  _lua_pushinteger(L: LuaState, n: bigint): void;
  _lua_pushlstring(L: LuaState, ptr: number, len: number): number;
  _lua_pushboolean(L: LuaState, b: number): void;
  _lua_pushlightuserdata(L: LuaState, p: number): void;
  _lua_pushcclosure(L: LuaState, fn: number, n: number): void;
  _lua_createtable(L: LuaState, narr: number, nrec: number): void;
  _lua_rawget(L: LuaState, idx: number): number;
  _lua_rawgeti(L: LuaState, idx: number, n: bigint): number;
  _lua_rawset(L: LuaState, idx: number): void;
  _lua_rawseti(L: LuaState, idx: number, n: bigint): void;
  _lua_setfield(L: LuaState, idx: number, name: number): void;
  _lua_getfield(L: LuaState, idx: number, name: number): number;
  _lua_next(L: LuaState, idx: number): number;
  _lua_concat(L: LuaState, n: number): void;
  _lua_pcallk(
    L: LuaState,
    nargs: number,
    nres: number,
    msgh: number,
    ctx: number,
    k: number,
  ): number;
  _lua_error(L: LuaState): number;
  _lua_newthread(L: LuaState): LuaState;
  _lua_resume(L: LuaState, from: LuaState, nargs: number, nres: number): number;
  _lua_resetthread(L: LuaState): number;
  _lua_sethook(L: LuaState, fn: number, mask: number, count: number): void;
  _lua_yieldk(L: LuaState, nres: number, ctx: number, k: number): number;
  _lua_isyieldable(L: LuaState): number;
  _luaL_ref(L: LuaState, t: number): number;
  _luaL_unref(L: LuaState, t: number, ref: number): void;
  _luaL_loadbufferx(L: LuaState, buf: number, len: number, name: number, mode: number): number;
  _luaL_where(L: LuaState, level: number): void;
  _lua_setupvalue(L: LuaState, funcIndex: number, n: number): number;
}

let modulePromise: Promise<LuaModule> | null = null;

/**
 * Loads and instantiates the wasm module once per process (about 40 ms); every Lua state lives
 * in it. wasmoon finds `glue.wasm` next to its own script, in Deno's npm cache.
 */
export function loadLuaModule(): Promise<LuaModule> {
  modulePromise ??= instantiate();
  return modulePromise;
}

/**
 * The module with its C functions called directly. wasmoon's build has Emscripten's ASSERTIONS
 * on: every `Module._lua_*` is a wrapper that formats an assertion message and calls the
 * export with `apply`, on every call. The exports are taken from the instance as it is created
 * (WebAssembly.instantiate, watched for the duration of the load) and put in front of the
 * wrappers; everything else (HEAPU8, addFunction, ...) is still read from the module, whose
 * views are replaced when the memory grows. Measured on EVALSHA of a three-call script:
 * 60.7k -> 65.7k requests per second at -P 16 (bench:scripting, redis-server 122-151k).
 */
async function instantiate(): Promise<LuaModule> {
  const original = WebAssembly.instantiate;
  let exports: WebAssembly.Exports | null = null;
  const watching = async (...args: Parameters<typeof original>) => {
    const result = await (original as (...a: unknown[]) => Promise<unknown>)(...args);
    const instance = result instanceof WebAssembly.Instance
      ? result
      : (result as WebAssembly.WebAssemblyInstantiatedSource).instance;
    exports ??= instance.exports;
    return result;
  };
  WebAssembly.instantiate = watching as typeof original;
  let module: LuaModule;
  try {
    module = (await new LuaFactory().getLuaModule()).module as unknown as LuaModule;
  } finally {
    WebAssembly.instantiate = original;
  }
  if (exports === null) return module;
  const direct: Record<string, unknown> = Object.create(module);
  for (const [name, value] of Object.entries(exports as WebAssembly.Exports)) {
    const wrapped = `_${name}`;
    if (
      typeof value === "function" &&
      typeof (module as unknown as Record<string, unknown>)[wrapped] === "function"
    ) {
      direct[wrapped] = value;
    }
  }
  return direct as unknown as LuaModule;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/**
 * The helpers around one module: NUL-terminated names, a staging buffer for string bytes, and
 * binary-safe pushes and reads. One instance per engine (the staging buffer is not shared).
 */
export class LuaApi {
  /** The module's C functions. */
  readonly m: LuaModule;
  readonly #names = new Map<string, number>();
  readonly #lengthSlot: number;
  /** Eight bytes for a C out-parameter that must stay valid across calls (lua_resume's nres). */
  readonly scratch: number;
  #stage = 0;
  #stageSize = 0;

  /** Wraps a loaded module. */
  constructor(m: LuaModule) {
    this.m = m;
    this.#lengthSlot = m._malloc(8);
    this.scratch = m._malloc(8);
  }

  /** A NUL-terminated copy of an ASCII name, allocated once and kept for the process. */
  name(text: string): number {
    let ptr = this.#names.get(text);
    if (ptr === undefined) {
      ptr = this.m._malloc(text.length + 1);
      const heap = this.m.HEAPU8;
      for (let i = 0; i < text.length; i++) heap[ptr + i] = text.charCodeAt(i) & 0xff;
      heap[ptr + text.length] = 0;
      this.#names.set(text, ptr);
    }
    return ptr;
  }

  /** Address of a staging buffer of at least `size` bytes (reused; valid until the next call). */
  stage(size: number): number {
    if (size > this.#stageSize) {
      if (this.#stage) this.m._free(this.#stage);
      this.#stageSize = Math.max(256, size * 2);
      this.#stage = this.m._malloc(this.#stageSize);
    }
    return this.#stage;
  }

  /** Pushes a Lua string holding exactly `bytes`. */
  pushBytes(L: LuaState, bytes: Uint8Array): void {
    const ptr = this.stage(bytes.length);
    this.m.HEAPU8.set(bytes, ptr);
    this.m._lua_pushlstring(L, ptr, bytes.length);
  }

  /** Pushes a Lua string from a binary string (one byte per character, code points 0-255). */
  pushBinary(L: LuaState, text: string): void {
    const ptr = this.stage(text.length);
    const heap = this.m.HEAPU8;
    for (let i = 0; i < text.length; i++) heap[ptr + i] = text.charCodeAt(i);
    this.m._lua_pushlstring(L, ptr, text.length);
  }

  /** Pushes the UTF-8 encoding of text (messages, names). */
  pushText(L: LuaState, text: string): void {
    // ASCII (status replies such as "OK", field names) goes in as it is: encoding allocates a
    // Uint8Array, about 1.3 us each in a process that holds the wasm memory (measured).
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) > 0x7f) return this.pushBytes(L, utf8Encoder.encode(text));
    }
    this.pushBinary(L, text);
  }

  /** Address and length of the string (or number, converted in place) at `idx`; null otherwise. */
  stringAt(L: LuaState, idx: number): { ptr: number; length: number } | null {
    const ptr = this.m._lua_tolstring(L, idx, this.#lengthSlot);
    if (!ptr) return null;
    return { ptr, length: this.m.HEAPU32[this.#lengthSlot >> 2] };
  }

  /**
   * The bytes of the string at `idx` as a view of the wasm memory, not a copy, or null when it
   * is not a string or number: valid while the string stays on the stack and no Lua code runs
   * (memory growth would detach it). For a command's arguments, which a handler reads or copies
   * during the call: a copy costs about 1.3 us per argument (measured, for an allocation).
   */
  viewBytes(L: LuaState, idx: number): Uint8Array | null {
    const at = this.stringAt(L, idx);
    return at === null ? null : this.m.HEAPU8.subarray(at.ptr, at.ptr + at.length);
  }

  /** A copy of the bytes of the string at `idx`, or null when it is not a string or number. */
  readBytes(L: LuaState, idx: number): Uint8Array | null {
    const at = this.stringAt(L, idx);
    return at === null ? null : this.m.HEAPU8.slice(at.ptr, at.ptr + at.length);
  }

  /** The string at `idx` as a binary string (one character per byte), or null. */
  readBinary(L: LuaState, idx: number): string | null {
    const at = this.stringAt(L, idx);
    if (at === null) return null;
    const heap = this.m.HEAPU8;
    let out = "";
    for (let i = at.ptr; i < at.ptr + at.length; i += 4096) {
      const end = Math.min(at.ptr + at.length, i + 4096);
      out += String.fromCharCode.apply(null, heap.subarray(i, end) as unknown as number[]);
    }
    return out;
  }

  /** The string at `idx` decoded as UTF-8 (for messages), or null. */
  readText(L: LuaState, idx: number): string | null {
    const at = this.stringAt(L, idx);
    if (at === null) return null;
    return utf8Decoder.decode(this.m.HEAPU8.subarray(at.ptr, at.ptr + at.length));
  }

  /** The number at `idx` (a number, or a string convertible to one), or null. */
  numberAt(L: LuaState, idx: number): number | null {
    const value = this.m._lua_tonumberx(L, idx, this.#lengthSlot);
    return this.m.HEAP32[this.#lengthSlot >> 2] ? value : null;
  }

  /** The number at `idx` as a 64-bit integer (floats truncated toward zero), or null. */
  integerAt(L: LuaState, idx: number): bigint | null {
    if (this.m._lua_isinteger(L, idx)) return this.m._lua_tointegerx(L, idx, 0);
    const value = this.numberAt(L, idx);
    if (value === null) return null;
    return Number.isFinite(value) ? BigInt.asIntN(64, BigInt(Math.trunc(value))) : 0n;
  }

  /**
   * Pushes a number the way Lua 5.1 would show it: integral values within 2^53 as Lua
   * integers (so that they print without ".0"), others as floats.
   */
  pushNumber(L: LuaState, value: number): void {
    if (Number.isSafeInteger(value) && !Object.is(value, -0)) {
      this.m._lua_pushinteger(L, BigInt(value));
    } else this.m._lua_pushnumber(L, value);
  }

  /** Compiles `code` as a text-only chunk named `chunkName`; returns Lua's status. */
  load(L: LuaState, code: Uint8Array, chunkName: string): number {
    const ptr = this.stage(code.length);
    this.m.HEAPU8.set(code, ptr);
    return this.m._luaL_loadbufferx(L, ptr, code.length, this.name(chunkName), this.name("t"));
  }

  /** Pops `n` values. */
  pop(L: LuaState, n: number): void {
    this.m._lua_settop(L, -n - 1);
  }

  /** Sets field `key` of the table at `idx` to the value on top (popped), without metamethods. */
  setField(L: LuaState, idx: number, key: string): void {
    const table = this.m._lua_absindex(L, idx);
    this.pushText(L, key);
    this.m._lua_rotate(L, -2, 1);
    this.m._lua_rawset(L, table);
  }

  /** Pushes field `key` of the table at `idx` without metamethods; returns its type. */
  getField(L: LuaState, idx: number, key: string): number {
    const table = this.m._lua_absindex(L, idx);
    this.pushText(L, key);
    return this.m._lua_rawget(L, table);
  }

  /** Pushes the globals table. */
  pushGlobals(L: LuaState): void {
    this.m._lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  }

  /** Stores the value on top (popped) in the registry; returns its reference. */
  ref(L: LuaState): number {
    return this.m._luaL_ref(L, LUA_REGISTRYINDEX);
  }

  /** Pushes the registry value with reference `ref`. */
  pushRef(L: LuaState, ref: number): void {
    this.m._lua_rawgeti(L, LUA_REGISTRYINDEX, BigInt(ref));
  }

  /** Releases a registry reference. */
  unref(L: LuaState, ref: number): void {
    this.m._luaL_unref(L, LUA_REGISTRYINDEX, ref);
  }
}
