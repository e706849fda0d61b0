/**
 * The server's scripting state (Redis's eval.c and functions.c dictionaries): the Lua engine,
 * the cache of EVAL scripts by SHA1, the function libraries, and the script running now. One
 * instance per server, created before the server starts because loading the Lua VM is async.
 */
import { CommandError } from "../commands/errors.ts";
import { LuaEngine } from "./lua_engine.ts";
import { COMPAT_FLAGS, flagsFromNames } from "./script_flags.ts";
import { parseEvalShebang } from "./lua_shebang.ts";
import type { RunningScript, ScriptTarget } from "./script_run.ts";
import { sha1Hex } from "./sha1.ts";
import { FunctionLibraries } from "./function_libraries.ts";

/** An EVAL script kept in the cache (SCRIPT LOAD, or run once by EVAL). */
export interface CachedScript {
  /** Its SHA1, 40 lower-case hex digits. */
  readonly sha: string;
  /** Its body as sent. */
  readonly body: Uint8Array;
  /** What EVAL and EVALSHA run: the engine's handle of its code and its shebang flags. */
  readonly target: ScriptTarget;
}

/** The scripting state; see the module comment. */
export class Scripting {
  /** The Lua VM. */
  readonly engine: LuaEngine;
  /** EVAL scripts by SHA1 (lower case). */
  readonly scripts = new Map<string, CachedScript>();
  /** Function libraries and their functions. */
  readonly functions: FunctionLibraries;
  /** The script running now, synchronously or past the busy threshold; null when none. */
  running: RunningScript | null = null;
  /** Whether {@link running} is past `busy-reply-threshold`: other clients get -BUSY. */
  busy = false;
  /** Bytes of the cached scripts' bodies (INFO `used_memory_scripts_eval`). */
  #scriptBytes = 0;
  /** The Lua heap when last measured (INFO `used_memory_lua`). */
  #luaBytes = 0;

  private constructor(engine: LuaEngine) {
    this.engine = engine;
    this.functions = new FunctionLibraries(engine);
  }

  /** Loads the Lua VM and returns a scripting state with no scripts. */
  static async create(): Promise<Scripting> {
    return new Scripting(await LuaEngine.create());
  }

  /**
   * The cached script with this body, compiling and caching it first when new (EVAL, SCRIPT
   * LOAD). Throws Redis's error for a bad shebang or a script that does not compile.
   */
  load(body: Uint8Array): CachedScript {
    const sha = sha1Hex(body);
    const cached = this.scripts.get(sha);
    if (cached !== undefined) return cached;
    const shebang = parseEvalShebang(body);
    if ("error" in shebang) throw new CommandError(shebang.error);
    const { hasShebang, flags, body: code } = shebang.ok;
    const compiled = this.engine.compile(code, sha);
    if ("error" in compiled) throw new CommandError(compiled.error);
    const script: CachedScript = {
      sha,
      body: body.slice(),
      target: {
        handle: compiled.ok,
        flags: hasShebang ? flagsFromNames(flags) : COMPAT_FLAGS,
        kind: "eval",
        name: sha,
      },
    };
    this.scripts.set(sha, script);
    this.#scriptBytes += body.length;
    return script;
  }

  /** The cached script of `sha` (any case), or undefined (EVALSHA, SCRIPT EXISTS). */
  find(sha: string): CachedScript | undefined {
    return sha.length === 40 ? this.scripts.get(sha.toLowerCase()) : undefined;
  }

  /** Forgets every EVAL script (SCRIPT FLUSH); functions stay. */
  flushScripts(): void {
    for (const script of this.scripts.values()) this.engine.release(script.target.handle);
    this.scripts.clear();
    this.#scriptBytes = 0;
  }

  /** Bytes of the cached scripts' bodies. */
  get scriptBytes(): number {
    return this.#scriptBytes;
  }

  /**
   * INFO memory's scripting fields, with Redis 7.0's names. One Lua VM runs both EVAL scripts
   * and functions: its heap is reported as the eval VM's and the total, the functions VM's as 0.
   * While a script runs (INFO from a script) the heap is the one measured before it started.
   */
  memoryFields(human: (bytes: number) => string): [string, string | number][] {
    if (this.running === null) this.#luaBytes = this.engine.memoryBytes();
    const lua = this.#luaBytes;
    let functionBytes = 0;
    for (const library of this.functions.libraries.values()) functionBytes += library.code.length;
    const scripts = this.#scriptBytes + functionBytes;
    return [
      ["used_memory_lua", lua],
      ["used_memory_vm_eval", lua],
      ["used_memory_lua_human", human(lua)],
      ["used_memory_scripts_eval", this.#scriptBytes],
      ["number_of_cached_scripts", this.scripts.size],
      ["number_of_functions", this.functions.functionCount],
      ["number_of_libraries", this.functions.libraries.size],
      ["used_memory_vm_functions", 0],
      ["used_memory_vm_total", lua],
      ["used_memory_vm_total_human", human(lua)],
      ["used_memory_functions", functionBytes],
      ["used_memory_scripts", scripts],
      ["used_memory_scripts_human", human(scripts)],
    ];
  }
}
