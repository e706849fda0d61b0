/**
 * The Lua engine behind EVAL, SCRIPT and FUNCTION: one sandboxed Lua 5.4 state (wasmoon's
 * WebAssembly build, driven through the raw C API) with Redis 7.0's `redis.*` API.
 *
 * Scripts run in time slices so that a busy script cannot stall the event loop: each run is a
 * coroutine with an instruction-count hook that yields once the slice is used up; the server
 * answers other clients with -BUSY meanwhile and resumes the run on a later turn, or kills it
 * (SCRIPT KILL / FUNCTION KILL) by abandoning the coroutine, which Lua code cannot intercept.
 *
 * Redis keeps EVAL scripts and function libraries in two Lua states; create one engine for each
 * to match (their memory is then reported separately, as used_memory_vm_eval and
 * used_memory_vm_functions).
 */
import { ErrorReply, type Reply } from "../resp/reply.ts";
import { formatDouble } from "../resp/encoder.ts";
import { REDIS_COMPAT_VERSION } from "../version.ts";
import { monotonicMs } from "../util/clock.ts";
import { pushCjson } from "./lua_cjson.ts";
import { pushCmsgpack } from "./lua_cmsgpack.ts";
import { pushStruct } from "./lua_struct.ts";
import { pushReply, readReply, type ScriptProtocol } from "./lua_convert.ts";
import { errorTableText, hostFunction, pushErrorTable, RAISE } from "./lua_host.ts";
import { LUA_PRELUDE, PRELUDE_CHUNK, type PreludeExports } from "./lua_prelude.ts";
import { sha1Hex } from "./sha1.ts";
import {
  loadLuaModule,
  LUA_MASKCOUNT,
  LUA_OK,
  LUA_REGISTRYINDEX,
  LUA_RIDX_GLOBALS,
  LUA_TNUMBER,
  LUA_TSTRING,
  LUA_TTABLE,
  LUA_YIELD,
  LuaApi,
  type LuaState,
} from "./lua_raw.ts";

const ASCII = new TextEncoder();

/** What a running script asks of the server. */
export interface ScriptHost {
  /**
   * Runs one command for redis.call/pcall (args are the raw bytes); returns its reply value.
   * An error is returned as an ErrorReply (never thrown). The engine converts the reply to Lua
   * according to the script's `redis.setresp` protocol (2 unless the script changed it).
   */
  call(args: Uint8Array[], resp: 2 | 3): Reply;
  /** redis.log(level, message): level is 0..3 (LOG_DEBUG, LOG_VERBOSE, LOG_NOTICE, LOG_WARNING). */
  log(level: number, message: string): void;
  /** redis.set_repl(flags) was called (REPL_NONE 0, REPL_AOF 1, REPL_REPLICA 2, REPL_ALL 3). */
  setReplication(flags: number): void;
}

/** A compiled EVAL script or a registered library function, valid until `reset()`. */
export class ScriptHandle {
  /** Registry reference of the Lua function. */
  readonly ref: number;
  /** The name in error messages: the script's SHA-1, or the function's name. */
  readonly name: string;
  /** Scripts get KEYS and ARGV globals; functions get them as their two arguments. */
  readonly kind: "script" | "function";
  /** The engine state generation the handle belongs to. */
  readonly generation: number;
  /** Wraps a registry reference. */
  constructor(ref: number, name: string, kind: "script" | "function", generation: number) {
    this.ref = ref;
    this.name = name;
    this.kind = kind;
    this.generation = generation;
  }
}

/**
 * A run: `done` with its reply (a Reply value, already converted), or `running` (it yielded
 * after sliceMs); resume(sliceMs) continues it; kill() ends it and returns the reply its caller
 * gets (the state stays usable).
 */
export type ScriptRun =
  | { done: true; reply: Reply }
  | { done: false; resume(sliceMs: number): ScriptRun; kill(): Reply };

/** A function registered by a library, as FUNCTION LOAD reports it. */
export interface RegisteredFunction {
  /** The function's name. */
  name: string;
  /** Its flags (`no-writes`, `allow-oom`, `allow-stale`, `no-cluster`, `allow-cross-slot-keys`). */
  flags: string[];
  /** Its description, or null. */
  description: string | null;
  /** What `runFunction` runs. */
  handle: ScriptHandle;
}

/** Options for {@link LuaEngine.create}. */
export interface LuaEngineOptions {
  /** `redis.REDIS_VERSION` (default: the Redis version gocache reports). */
  redisVersion?: string;
}

/** How long a library body may run during FUNCTION LOAD, as Redis's LOAD_TIMEOUT_MS. */
const LOAD_TIMEOUT_MS = 500;
/** Instructions between two looks at the clock. */
const HOOK_INTERVAL = 1000;

/** The state of the run in progress. */
interface ActiveRun {
  thread: LuaState;
  threadRef: number;
  host: ScriptHost;
  resp: ScriptProtocol;
  clientResp: 2 | 3;
  name: string;
  pendingArgs: number;
  /** Set by kill(): every count hook raises it until the script ends. */
  killMessage: string | null;
}

/** What a killed script raises, as Redis 7.0's count hook (for scripts and functions alike). */
const KILLED = "ERR Script killed by user with SCRIPT KILL...";
/**
 * How long a killed script may go on catching the kill error with pcall before it is abandoned
 * (its caller then gets the message without a line).
 */
const KILL_GRACE_MS = 200;

/** The registry references of the prelude's internals. */
type PreludeRefs = Record<PreludeExports, number>;

/** A sandboxed Lua state running Redis scripts and functions. */
export class LuaEngine {
  readonly #api: LuaApi;
  readonly #version: string;
  readonly #hostFunctions: number[] = [];
  /** cjson, cmsgpack and struct functions of the current state (made again with each state). */
  readonly #libraryFunctions: number[] = [];
  readonly #hook: number;
  #L: LuaState = 0;
  #refs: PreludeRefs | null = null;
  #generation = 0;
  #active: ActiveRun | null = null;
  #deadline = 0;
  #loading = false;

  private constructor(api: LuaApi, options: LuaEngineOptions) {
    this.#api = api;
    this.#version = options.redisVersion ?? REDIS_COMPAT_VERSION;
    this.#hook = api.m.addFunction((L: LuaState) => this.#onHook(L), "vii");
    this.#openState();
  }

  /** Loads the wasm module once per process (async) and makes a fresh sandboxed state. */
  static async create(options: LuaEngineOptions = {}): Promise<LuaEngine> {
    return new LuaEngine(new LuaApi(await loadLuaModule()), options);
  }

  /**
   * Compiles a script body (EVAL / SCRIPT LOAD; strip a shebang first with parseEvalShebang);
   * returns a handle, or Redis's compile error text (a binary string, "ERR " included).
   */
  compile(body: Uint8Array, name: string): { ok: ScriptHandle } | { error: string } {
    this.#assertIdle();
    const api = this.#api;
    const L = this.#L;
    if (api.load(L, body, "@user_script") !== LUA_OK) {
      const message = api.readBinary(L, -1) ?? "";
      api.pop(L, 1);
      return { error: `ERR Error compiling script (new function): ${lua51SyntaxMessage(message)}` };
    }
    return { ok: new ScriptHandle(api.ref(L), name, "script", this.#generation) };
  }

  /**
   * Runs a compiled script with KEYS and ARGV; `clientResp` is the calling client's protocol.
   * Runs synchronously until `sliceMs` has elapsed; returns the finished result or a running
   * handle to resume on a later event-loop turn.
   */
  run(
    script: ScriptHandle,
    keys: Uint8Array[],
    args: Uint8Array[],
    host: ScriptHost,
    clientResp: 2 | 3,
    sliceMs: number,
  ): ScriptRun {
    this.#checkHandle(script, "script");
    this.#setGlobalArray("KEYS", keys);
    this.#setGlobalArray("ARGV", args);
    return this.#start(script, null, host, clientResp, sliceMs);
  }

  /** Runs a library function (FCALL) with its keys and args as its two arguments; as run(). */
  runFunction(
    fn: ScriptHandle,
    keys: Uint8Array[],
    args: Uint8Array[],
    host: ScriptHost,
    clientResp: 2 | 3,
    sliceMs: number,
  ): ScriptRun {
    this.#checkHandle(fn, "function");
    return this.#start(fn, [keys, args], host, clientResp, sliceMs);
  }

  /**
   * Runs a library's code (a leading `#!` line is skipped, its newline kept so that line numbers
   * match Redis's; parse it first with parseLibraryShebang) with only `redis.register_function`,
   * `redis.log` and the version constants available, and returns the functions it registered,
   * or Redis's error text ("ERR Error compiling function: ...", "ERR Error registering
   * functions: ...", "ERR No functions registered"). The library registry (names, REPLACE) is
   * the server's.
   */
  loadLibrary(code: Uint8Array): { functions: RegisteredFunction[] } | { error: string } {
    this.#assertIdle();
    const api = this.#api;
    const L = this.#L;
    if (api.load(L, withoutShebang(code), "@user_function") !== LUA_OK) {
      const message = api.readBinary(L, -1) ?? "";
      api.pop(L, 1);
      return { error: `ERR Error compiling function: ${lua51SyntaxMessage(message)}` };
    }
    api.pushRef(L, this.#prelude.function_env);
    api.m._lua_setupvalue(L, -2, 1);
    this.#callPrelude("begin_library", 0);
    const failure = this.#runLibraryBody();
    this.#callPrelude("end_library", 1);
    if (failure !== null) {
      api.pop(L, 1);
      return { error: `ERR Error registering functions: ${failure}` };
    }
    const functions = this.#readRegistrations();
    if (functions.length === 0) return { error: "ERR No functions registered" };
    return { functions };
  }

  /** Frees one compiled script or function (SCRIPT FLUSH of one entry, FUNCTION DELETE). */
  release(handle: ScriptHandle): void {
    if (handle.generation === this.#generation) this.#api.unref(this.#L, handle.ref);
  }

  /** Frees every compiled script and function and resets the state (SCRIPT / FUNCTION FLUSH). */
  reset(): void {
    this.#abandonActive();
    this.#api.m._lua_close(this.#L);
    this.#openState();
  }

  /** Closes the state and frees the host functions; the engine cannot be used afterwards. */
  close(): void {
    this.#abandonActive();
    this.#api.m._lua_close(this.#L);
    this.#L = 0;
    this.#refs = null;
    for (const ptr of [...this.#hostFunctions, ...this.#libraryFunctions]) {
      this.#api.m.removeFunction(ptr);
    }
    this.#api.m.removeFunction(this.#hook);
  }

  /** Bytes used by the Lua heap (INFO used_memory_lua / used_memory_vm_eval). */
  memoryBytes(): number {
    this.#callPrelude("memory", 1);
    const kilobytes = this.#api.m._lua_tonumberx(this.#L, -1, 0);
    this.#api.pop(this.#L, 1);
    return Math.round(kilobytes * 1024);
  }

  /** Whether a run is in progress (started and neither finished nor killed). */
  get busy(): boolean {
    return this.#active !== null;
  }

  get #prelude(): PreludeRefs {
    if (this.#refs === null) throw new Error("the Lua engine is closed");
    return this.#refs;
  }

  #openState(): void {
    const api = this.#api;
    const L = api.m._luaL_newstate();
    this.#L = L;
    this.#generation++;
    api.m._luaL_openlibs(L);
    this.#installHost(L);
    if (api.load(L, new TextEncoder().encode(LUA_PRELUDE), PRELUDE_CHUNK) !== LUA_OK) {
      throw new Error(`Lua prelude does not compile: ${api.readText(L, -1)}`);
    }
    if (api.m._lua_pcallk(L, 0, 1, 0, 0, 0) !== LUA_OK) {
      throw new Error(`Lua prelude failed: ${api.readText(L, -1)}`);
    }
    this.#refs = this.#readPreludeExports(L);
    api.pushRef(L, this.#refs.env);
    api.m._lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  }

  #readPreludeExports(L: LuaState): PreludeRefs {
    const api = this.#api;
    const names: PreludeExports[] = [
      "env",
      "globals",
      "function_env",
      "run",
      "memory",
      "begin_library",
      "end_library",
    ];
    const refs = {} as PreludeRefs;
    for (const name of names) {
      api.getField(L, -1, name);
      refs[name] = api.ref(L);
    }
    api.pop(L, 1);
    return refs;
  }

  /** The host table `__gocache` the prelude builds the redis API and libraries from. */
  #installHost(L: LuaState): void {
    const api = this.#api;
    const m = api.m;
    if (this.#hostFunctions.length === 0) this.#createHostFunctions();
    m._lua_createtable(L, 0, 12);
    const names = ["call", "pcall", "log", "setresp", "set_repl", "sha1hex"];
    names.forEach((name, i) => {
      m._lua_pushcclosure(L, this.#hostFunctions[i], 0);
      api.setField(L, -2, name);
    });
    for (const ptr of this.#libraryFunctions.splice(0)) m.removeFunction(ptr);
    pushCjson(api, L, this.#libraryFunctions);
    api.setField(L, -2, "cjson");
    pushCmsgpack(api, L, this.#libraryFunctions);
    api.setField(L, -2, "cmsgpack");
    pushStruct(api, L, this.#libraryFunctions);
    api.setField(L, -2, "struct");
    api.pushText(L, this.#version);
    api.setField(L, -2, "version");
    m._lua_pushinteger(L, BigInt(versionNumber(this.#version)));
    api.setField(L, -2, "version_num");
    api.pushGlobals(L);
    api.pushText(L, "__gocache");
    m._lua_rotate(L, -3, -1);
    m._lua_rawset(L, -3);
    api.pop(L, 1);
  }

  /** The redis.* host functions, in the order #installHost names them. */
  #createHostFunctions(): void {
    const api = this.#api;
    const bodies = [
      (L: LuaState) => this.#redisCall(L, true),
      (L: LuaState) => this.#redisCall(L, false),
      (L: LuaState) => this.#redisLog(L),
      (L: LuaState) => this.#redisSetResp(L),
      (L: LuaState) => this.#redisSetRepl(L),
      (L: LuaState) => this.#redisSha1Hex(L),
    ];
    for (const body of bodies) this.#hostFunctions.push(hostFunction(api, body));
  }

  /** Raises `{err = message}`. */
  #raise(L: LuaState, message: string): number {
    this.#api.m._lua_settop(L, 0);
    pushErrorTable(this.#api, L, message);
    return RAISE;
  }

  /** redis.call (raise = true) and redis.pcall. */
  #redisCall(L: LuaState, raise: boolean): number {
    const api = this.#api;
    const m = api.m;
    const argc = m._lua_gettop(L);
    let failure: string | null = null;
    const args: Uint8Array[] = [];
    if (argc === 0) failure = "ERR Please specify at least one argument for this redis lib call";
    for (let i = 1; i <= argc && failure === null; i++) {
      const arg = this.#commandArgument(L, i);
      if (arg === null) failure = "ERR Lua redis lib command arguments must be strings or integers";
      else args.push(arg);
    }
    const run = this.#active;
    if (failure === null && run === null) failure = "ERR redis.call is not available here";
    if (failure !== null) {
      m._lua_settop(L, 0);
      pushErrorTable(api, L, failure);
      return raise ? RAISE : 1;
    }
    const reply = run!.host.call(args, run!.resp);
    m._lua_settop(L, 0);
    if (reply instanceof ErrorReply) {
      pushErrorTable(api, L, errorTableText(reply.message));
      return raise ? RAISE : 1;
    }
    pushReply(api, L, reply, run!.resp);
    return 1;
  }

  /** A command argument's bytes: strings as they are, numbers as Redis formats them. */
  #commandArgument(L: LuaState, idx: number): Uint8Array | null {
    const api = this.#api;
    const m = api.m;
    const t = m._lua_type(L, idx);
    // A view: the argument stays on this host call's stack while its command runs.
    if (t === LUA_TSTRING) return api.viewBytes(L, idx);
    if (t !== LUA_TNUMBER) return null;
    const text = m._lua_isinteger(L, idx)
      ? m._lua_tointegerx(L, idx, 0).toString()
      : formatDouble(m._lua_tonumberx(L, idx, 0));
    return ASCII.encode(text);
  }

  #redisLog(L: LuaState): number {
    const api = this.#api;
    const m = api.m;
    const argc = m._lua_gettop(L);
    if (argc < 2) return this.#raise(L, "ERR redis.log() requires two arguments or more.");
    if (m._lua_type(L, 1) !== LUA_TNUMBER) {
      return this.#raise(L, "ERR First argument must be a number (log level).");
    }
    const level = Math.trunc(m._lua_tonumberx(L, 1, 0));
    if (level < 0 || level > 3) return this.#raise(L, "ERR Invalid debug level.");
    const parts: string[] = [];
    for (let i = 2; i <= argc; i++) {
      const t = m._lua_type(L, i);
      if (t === LUA_TSTRING || t === LUA_TNUMBER) parts.push(api.readBinary(L, i) ?? "");
    }
    this.#active?.host.log(level, parts.join(" "));
    return 0;
  }

  #redisSetResp(L: LuaState): number {
    const m = this.#api.m;
    if (m._lua_gettop(L) !== 1) return this.#raise(L, "ERR redis.setresp() requires one argument.");
    const resp = Math.trunc(m._lua_tonumberx(L, 1, 0));
    if (resp !== 2 && resp !== 3) return this.#raise(L, "ERR RESP version must be 2 or 3.");
    if (this.#active) this.#active.resp = resp;
    return 0;
  }

  #redisSetRepl(L: LuaState): number {
    const m = this.#api.m;
    if (m._lua_gettop(L) !== 1) {
      return this.#raise(L, "ERR redis.set_repl() requires two arguments.");
    }
    const flags = Math.trunc(m._lua_tonumberx(L, 1, 0));
    if ((flags & ~3) !== 0) {
      return this.#raise(
        L,
        "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
      );
    }
    this.#active?.host.setReplication(flags);
    return 0;
  }

  #redisSha1Hex(L: LuaState): number {
    const api = this.#api;
    if (api.m._lua_gettop(L) !== 1) return this.#raise(L, "ERR wrong number of arguments");
    const bytes = api.readBytes(L, 1) ?? new Uint8Array();
    api.m._lua_settop(L, 0);
    api.pushBinary(L, sha1Hex(bytes));
    return 1;
  }

  /** The count hook: yields the run once its slice is over, or aborts a too-long FUNCTION LOAD. */
  #onHook(L: LuaState): void {
    const killing = this.#active?.killMessage ?? null;
    if (killing !== null && L === this.#active!.thread && monotonicMs() < this.#deadline) {
      // Raised again at every hook: a script that catches it with pcall meets it again, until
      // the grace time is over and the run yields to be abandoned.
      pushErrorTable(this.#api, L, killing);
      this.#api.m._lua_error(L);
      return;
    }
    if (monotonicMs() < this.#deadline) return;
    const m = this.#api.m;
    if (this.#loading) {
      pushErrorTable(this.#api, L, "ERR FUNCTION LOAD timeout");
      m._lua_error(L);
      return;
    }
    const run = this.#active;
    if (run === null || L !== run.thread || !m._lua_isyieldable(L)) return;
    m._lua_yieldk(L, 0, 0, 0);
  }

  #assertIdle(): void {
    if (this.#active !== null) throw new Error("a script is running in this Lua engine");
  }

  #checkHandle(handle: ScriptHandle, kind: "script" | "function"): void {
    this.#assertIdle();
    if (handle.generation !== this.#generation || handle.kind !== kind) {
      throw new Error(`stale or foreign ${kind} handle`);
    }
  }

  /** Sets global KEYS or ARGV (raw: the globals table refuses assignments). */
  #setGlobalArray(name: string, items: Uint8Array[]): void {
    const api = this.#api;
    const L = this.#L;
    api.pushRef(L, this.#prelude.globals);
    api.pushText(L, name);
    this.#pushByteArray(L, items);
    api.m._lua_rawset(L, -3);
    api.pop(L, 1);
  }

  #pushByteArray(L: LuaState, items: Uint8Array[]): void {
    const m = this.#api.m;
    m._lua_createtable(L, items.length, 0);
    for (let i = 0; i < items.length; i++) {
      this.#api.pushBytes(L, items[i]);
      m._lua_rawseti(L, -2, BigInt(i + 1));
    }
  }

  /** Starts a run in a new coroutine: run(fn, ...arguments) from the prelude. */
  #start(
    handle: ScriptHandle,
    fnArgs: Uint8Array[][] | null,
    host: ScriptHost,
    clientResp: 2 | 3,
    sliceMs: number,
  ): ScriptRun {
    const api = this.#api;
    const m = api.m;
    const thread = m._lua_newthread(this.#L);
    const threadRef = api.ref(this.#L);
    m._lua_sethook(thread, this.#hook, LUA_MASKCOUNT, HOOK_INTERVAL);
    api.pushRef(thread, this.#prelude.run);
    api.pushRef(thread, handle.ref);
    for (const items of fnArgs ?? []) this.#pushByteArray(thread, items);
    const run: ActiveRun = {
      thread,
      threadRef,
      host,
      resp: 2,
      clientResp,
      name: handle.name,
      pendingArgs: 1 + (fnArgs?.length ?? 0),
      killMessage: null,
    };
    this.#active = run;
    return this.#slice(run, sliceMs);
  }

  /** Resumes the run for up to `sliceMs`. */
  #slice(run: ActiveRun, sliceMs: number): ScriptRun {
    if (this.#active !== run) throw new Error("this script run is over");
    const m = this.#api.m;
    this.#deadline = monotonicMs() + sliceMs;
    const nargs = run.pendingArgs;
    run.pendingArgs = 0;
    const status = m._lua_resume(run.thread, this.#L, nargs, this.#api.scratch);
    if (status === LUA_YIELD) {
      return {
        done: false,
        resume: (ms: number) => this.#slice(run, ms),
        kill: () => this.#killRun(run),
      };
    }
    const reply = status === LUA_OK ? this.#result(run) : this.#crash(run);
    this.#finish(run);
    return { done: true, reply };
  }

  /** The reply of a finished run: xpcall's results (ok, value) or (false, error table). */
  #result(run: ActiveRun): Reply {
    const api = this.#api;
    const T = run.thread;
    const ok = api.m._lua_toboolean(T, 1) !== 0;
    if (!ok) return this.#runtimeError(run);
    if (api.m._lua_gettop(T) < 2) return null;
    return readReply(api, T, 2, run.resp);
  }

  /**
   * A runtime error as Redis 7.0 reports it: the error table's message, then
   * " script: <name>, on <source>:<line>." when the error handler found the user's frame.
   */
  #runtimeError(run: ActiveRun): Reply {
    const api = this.#api;
    const T = run.thread;
    if (api.m._lua_type(T, 2) !== LUA_TTABLE) {
      return new ErrorReply(`ERR Error running script ${run.name}, ${api.readBinary(T, 2) ?? ""}`);
    }
    const message = api.getField(T, 2, "err") === LUA_TSTRING
      ? api.readBinary(T, -1)!
      : "ERR unknown error";
    api.pop(T, 1);
    const hasSource = api.getField(T, 2, "source") === LUA_TSTRING;
    const source = hasSource ? api.readBinary(T, -1) : null;
    api.pop(T, 1);
    const hasLine = api.getField(T, 2, "line") === LUA_TNUMBER;
    const line = hasLine ? api.m._lua_tointegerx(T, -1, 0) : null;
    api.pop(T, 1);
    const where = source !== null && line !== null
      ? ` script: ${run.name}, on ${source}:${line}.`
      : "";
    return new ErrorReply(`${message}${where}`.replace(/[\r\n]/g, " "));
  }

  /** An error outside the script's error handler (out of memory, error in the handler). */
  #crash(run: ActiveRun): Reply {
    const message = this.#api.readBinary(run.thread, -1) ?? "execution failure";
    return new ErrorReply(`ERR Error running script ${run.name}, ${message.slice(0, 100)}`);
  }

  #finish(run: ActiveRun): void {
    this.#api.unref(this.#L, run.threadRef);
    this.#active = null;
  }

  /**
   * Ends a suspended run as Redis's SCRIPT KILL does: the count hook raises the kill error in the
   * script, whose error handler adds the script's name and line ("... script: <sha>, on
   * @user_script:3."). A script still running after {@link KILL_GRACE_MS} (it keeps catching
   * the error) is abandoned.
   */
  #killRun(run: ActiveRun): Reply {
    const killed = new ErrorReply(`${KILLED} script: ${run.name}`);
    if (this.#active !== run) return killed;
    run.killMessage = KILLED;
    const next = this.#slice(run, KILL_GRACE_MS);
    if (next.done) return next.reply;
    this.#kill(run);
    return killed;
  }

  #kill(run: ActiveRun): void {
    if (this.#active !== run) return;
    this.#api.m._lua_resetthread(run.thread);
    this.#finish(run);
  }

  #abandonActive(): void {
    if (this.#active !== null) this.#kill(this.#active);
  }

  /** Calls prelude function `name` on the main state, leaving `results` values. */
  #callPrelude(name: PreludeExports, results: number): void {
    const api = this.#api;
    api.pushRef(this.#L, this.#prelude[name]);
    if (api.m._lua_pcallk(this.#L, 0, results, 0, 0, 0) !== LUA_OK) {
      throw new Error(`Lua prelude function ${name} failed: ${api.readText(this.#L, -1)}`);
    }
  }

  /** Runs the compiled library body on top of the stack; returns the error text or null. */
  #runLibraryBody(): string | null {
    const api = this.#api;
    const m = api.m;
    const L = this.#L;
    this.#loading = true;
    this.#deadline = monotonicMs() + LOAD_TIMEOUT_MS;
    m._lua_sethook(L, this.#hook, LUA_MASKCOUNT, HOOK_INTERVAL);
    const status = m._lua_pcallk(L, 0, 0, 0, 0, 0);
    m._lua_sethook(L, 0, 0, 0);
    this.#loading = false;
    if (status === LUA_OK) return null;
    let message: string;
    if (m._lua_type(L, -1) === LUA_TTABLE) {
      message = api.getField(L, -1, "err") === LUA_TSTRING ? api.readBinary(L, -1)! : "ERR";
      api.pop(L, 1);
    } else {
      message = `ERR ${api.readBinary(L, -1) ?? ""}`;
    }
    api.pop(L, 1);
    return message;
  }

  /** Reads the list end_library left on the stack (popped) into registered functions. */
  #readRegistrations(): RegisteredFunction[] {
    const api = this.#api;
    const m = api.m;
    const L = this.#L;
    const list = m._lua_absindex(L, -1);
    const out: RegisteredFunction[] = [];
    for (let i = 1n; m._lua_rawgeti(L, list, i) === LUA_TTABLE; i++) {
      const spec = m._lua_absindex(L, -1);
      api.getField(L, spec, "name");
      const name = api.readBinary(L, -1) ?? "";
      api.pop(L, 1);
      const description = api.getField(L, spec, "description") === LUA_TSTRING
        ? api.readBinary(L, -1)
        : null;
      api.pop(L, 1);
      const flags = this.#readStrings(L, spec, "flags");
      api.getField(L, spec, "callback");
      const handle = new ScriptHandle(api.ref(L), name, "function", this.#generation);
      out.push({ name, flags, description, handle });
      api.pop(L, 1);
    }
    api.pop(L, 2);
    return out;
  }

  #readStrings(L: LuaState, table: number, key: string): string[] {
    const api = this.#api;
    const out: string[] = [];
    if (api.getField(L, table, key) === LUA_TTABLE) {
      for (let i = 1n; api.m._lua_rawgeti(L, -1, i) === LUA_TSTRING; i++) {
        out.push(api.readBinary(L, -1)!);
        api.pop(L, 1);
      }
      api.pop(L, 1);
    }
    api.pop(L, 1);
    return out;
  }
}

/** Lua 5.1's spelling of a syntax error: 5.4 writes "near <eof>" where 5.1 quoted it. */
function lua51SyntaxMessage(message: string): string {
  return message.replace(/ near <eof>$/, " near '<eof>'");
}

/** The code after a leading `#!` line (from its newline on), or all of it. */
function withoutShebang(code: Uint8Array): Uint8Array {
  if (code[0] !== 0x23 || code[1] !== 0x21) return code;
  const end = code.indexOf(0x0a);
  return end < 0 ? new Uint8Array() : code.subarray(end);
}

/** REDIS_VERSION_NUM: "7.0.15" is 0x07000f. */
function versionNumber(version: string): number {
  const [major, minor, patch] = version.split(".").map((part) => Number.parseInt(part, 10) || 0);
  return (major << 16) | (minor << 8) | (patch ?? 0);
}
