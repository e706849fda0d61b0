/**
 * Redis 7.0's function libraries (functions.c): each library is Lua code whose first line is
 * `#!lua name=<library>` and whose body registers functions with `redis.register_function`.
 * Libraries are loaded whole or not at all, a function name belongs to one library, and
 * replacing a library swaps all of its functions at once.
 */
import { CommandError } from "../commands/errors.ts";
import { parseLibraryShebang } from "./lua_shebang.ts";
import type { LuaEngine, ScriptHandle } from "./lua_engine.ts";
import { flagsFromNames } from "./script_flags.ts";
import type { ScriptTarget } from "./script_run.ts";

/** One function of a library. */
export interface LibraryFunction {
  /** Its name (FCALL's first argument). */
  readonly name: string;
  /** Its description, or null. */
  readonly description: string | null;
  /** The library it belongs to. */
  readonly library: Library;
  /**
   * What FCALL runs: the engine's handle of its callback and its flags from
   * `redis.register_function{..., flags = {...}}`.
   */
  readonly target: ScriptTarget;
}

/** A loaded library. */
export interface Library {
  /** Its name, from the shebang line. */
  readonly name: string;
  /** Its code as loaded, shebang included (FUNCTION LIST WITHCODE, DUMP, RDB). */
  readonly code: Uint8Array;
  /** Its functions by name. */
  readonly functions: Map<string, LibraryFunction>;
}

/** The loaded libraries and the index of their functions; see the module comment. */
export class FunctionLibraries {
  readonly #engine: LuaEngine;
  /** Libraries by name. */
  readonly libraries = new Map<string, Library>();
  /** Every library's functions by lower-cased name (function names ignore case, as Redis's). */
  readonly functions = new Map<string, LibraryFunction>();

  /** No libraries yet; their code will be loaded into `engine`. */
  constructor(engine: LuaEngine) {
    this.#engine = engine;
  }

  /**
   * Loads a library (FUNCTION LOAD, and each library of a dump, an RDB file or FUNCTION
   * RESTORE); with `replace` it takes the place of a library of the same name. Returns its name.
   * Throws Redis's errors, leaving the libraries as they were.
   */
  load(code: Uint8Array, replace: boolean): string {
    const header = parseLibraryShebang(code);
    if ("error" in header) throw new CommandError(header.error);
    const name = header.ok.name;
    const existing = this.libraries.get(name);
    if (existing !== undefined && !replace) {
      throw new CommandError(`ERR Library '${name}' already exists`);
    }
    const loaded = this.#engine.loadLibrary(code);
    if ("error" in loaded) throw new CommandError(loaded.error);
    const library: Library = { name, code: code.slice(), functions: new Map() };
    for (const fn of loaded.functions) {
      const owner = this.functions.get(fn.name.toLowerCase())?.library;
      if (owner !== undefined && owner !== existing) {
        this.#release(loaded.functions.map((f) => f.handle));
        throw new CommandError(`ERR Function ${fn.name} already exists`);
      }
      library.functions.set(fn.name, {
        name: fn.name,
        description: fn.description,
        library,
        target: {
          handle: fn.handle,
          flags: flagsFromNames(fn.flags),
          kind: "function",
          name: fn.name,
        },
      });
    }
    if (existing !== undefined) this.#drop(existing);
    this.libraries.set(name, library);
    for (const fn of library.functions.values()) this.functions.set(fn.name.toLowerCase(), fn);
    return name;
  }

  /**
   * Loads a library found in an RDB file or a full sync's copy, replacing one of the same name;
   * throws an Error with Redis's text when the code does not load.
   */
  loadFromDump(code: Uint8Array): void {
    try {
      this.load(code, true);
    } catch (e) {
      if (e instanceof CommandError) throw new Error(`Failed loading library: ${e.reply.message}`);
      throw e;
    }
  }

  /** Every library's code, in load order (RDB files, full syncs, AOF rewrites, FUNCTION DUMP). */
  codes(): Uint8Array[] {
    return [...this.libraries.values()].map((library) => library.code);
  }

  /**
   * FUNCTION RESTORE of the libraries `codes`: `flush` first deletes every library, `append`
   * refuses a name that exists, `replace` replaces libraries of the same name. All or nothing:
   * on an error the libraries are as before.
   */
  restore(codes: readonly Uint8Array[], policy: "flush" | "append" | "replace"): void {
    if (policy === "append") {
      for (const code of codes) {
        const header = parseLibraryShebang(code);
        if ("error" in header) throw new CommandError(header.error);
        if (this.libraries.has(header.ok.name)) {
          throw new CommandError(`ERR Library ${header.ok.name} already exists`);
        }
      }
    }
    const before = this.codes();
    try {
      if (policy === "flush") this.flush();
      for (const code of codes) this.load(code, policy === "replace");
    } catch (e) {
      this.flush();
      for (const code of before) this.load(code, true);
      throw e;
    }
  }

  /** Deletes a library (FUNCTION DELETE); false when there is none of that name. */
  delete(name: string): boolean {
    const library = this.libraries.get(name);
    if (library === undefined) return false;
    this.#drop(library);
    return true;
  }

  /** Deletes every library (FUNCTION FLUSH, FUNCTION RESTORE ... FLUSH). */
  flush(): void {
    for (const library of [...this.libraries.values()]) this.#drop(library);
  }

  /** The function FCALL names `name` (any case), or undefined. */
  find(name: string): LibraryFunction | undefined {
    return this.functions.get(name.toLowerCase());
  }

  /** Number of functions of every library. */
  get functionCount(): number {
    return this.functions.size;
  }

  #drop(library: Library): void {
    this.libraries.delete(library.name);
    for (const fn of library.functions.values()) {
      const key = fn.name.toLowerCase();
      if (this.functions.get(key) === fn) this.functions.delete(key);
    }
    this.#release([...library.functions.values()].map((fn) => fn.target.handle));
  }

  #release(handles: ScriptHandle[]): void {
    for (const handle of handles) this.#engine.release(handle);
  }
}
