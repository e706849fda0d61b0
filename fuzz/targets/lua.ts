/**
 * Target `lua`: script headers and the Lua engine. Each input is read as an EVAL script
 * (`parseEvalShebang`, then `LuaEngine.compile` and `run` against a fake host) and as a
 * FUNCTION LOAD library (`parseLibraryShebang`, then `loadLibrary` and `runFunction` of its
 * first function). A run gets a 2 ms slice and is killed if it has not finished, so every input
 * ends quickly (a library body has Redis's own 500 ms load limit).
 *
 * Crash: any exception (the parsers and the engine report bad scripts as `{ error }` results
 * and error replies, never by throwing), or a broken invariant: the engine still busy after a
 * run ended or was killed, or a shebang parse whose body is not a suffix of the input.
 *
 * @module
 */
import { LuaEngine, type ScriptHandle, type ScriptHost } from "../../src/scripting/lua_engine.ts";
import { parseEvalShebang, parseLibraryShebang } from "../../src/scripting/lua_shebang.ts";
import {
  DoubleReply,
  ErrorReply,
  MapReply,
  type Reply,
  SimpleString,
} from "../../src/resp/reply.ts";
import { check, type FuzzTarget, utf8 } from "../target.ts";

const SLICE_MS = 2;

/** Answers commands with a reply whose shape depends on the command's name length. */
const host: ScriptHost = {
  call(args: Uint8Array[]): Reply {
    const last = args[args.length - 1];
    switch (args[0].length % 7) {
      case 0:
        return new ErrorReply("ERR fake error");
      case 1:
        return [last, 42, null, [new SimpleString("OK")]];
      case 2:
        return new MapReply([[last, new DoubleReply(1.5)]]);
      case 3:
        return 7;
      case 4:
        return null;
      default:
        return last;
    }
  },
  log(): void {},
  setReplication(): void {},
};

let engine: LuaEngine | null = null;

function ready(): LuaEngine {
  if (engine === null) throw new Error("lua target used before setup()");
  return engine;
}

const KEYS = [utf8("key1"), utf8("{tag}key2")];
const ARGS = [utf8("arg"), utf8("12"), new Uint8Array([0, 255])];

/** Runs a compiled script or function to its end or kills it after one slice. */
function runBounded(lua: LuaEngine, handle: ScriptHandle): void {
  const run = handle.kind === "script"
    ? lua.run(handle, KEYS, ARGS, host, 2, SLICE_MS)
    : lua.runFunction(handle, KEYS, ARGS, host, 3, SLICE_MS);
  if (!run.done) run.kill();
  check(!lua.busy, "the engine is still busy after the run ended");
}

function isSuffix(body: Uint8Array, input: Uint8Array): boolean {
  return body.buffer === input.buffer && body.byteOffset + body.length === input.byteOffset +
        input.length;
}

/** The lua target. */
export const luaTarget: FuzzTarget = {
  name: "lua",
  description: "shebang parsers + LuaEngine compile/run/loadLibrary: never throw",
  maxLength: 2048,
  async setup(): Promise<void> {
    engine ??= await LuaEngine.create({ redisVersion: "7.0.15" });
  },
  corpus: () =>
    [
      "return 1",
      "return redis.call('SET', KEYS[1], ARGV[1])",
      "#!lua flags=no-writes,allow-stale\nreturn {1, 'two', {3}, false}",
      "#!lua\nreturn redis.pcall('INCR', KEYS[1])",
      'local t = cjson.decode(\'{"a":[1,2,3],"b":null}\') return cjson.encode(t)',
      "return cmsgpack.unpack(cmsgpack.pack({1, 2, 'x', {y = 1.5}}))",
      "return struct.unpack('>I2i4', struct.pack('>I2i4', 258, -1))",
      "redis.setresp(3) return redis.call('HGETALL', KEYS[1])",
      "return {err = 'ERR custom'}",
      "return redis.status_reply(redis.sha1hex(ARGV[1]))",
      "local s = 0 for i = 1, 100 do s = s + i end return s",
      "return tostring(1 / 0) .. string.upper('abc') .. string.format('%5.2f', 3.14159)",
      "redis.log(redis.LOG_WARNING, 'hi') return redis.REDIS_VERSION",
      "local ok, e = pcall(redis.call, 'X') return {ok and 1 or 0, type(e)}",
      "return bit.band(0xff, 0x0f) + tonumber('12')",
      "#!lua name=mylib\nredis.register_function('f', function(keys, args) return keys[1] end)",
      "#!lua name=lib2\nredis.register_function{function_name='g', " +
      "callback=function(k, a) return redis.call('GET', k[1]) end, flags={'no-writes'}, " +
      "description='d'}",
      "#!lua name=lib3\nlocal function h() return {1, 2} end\nredis.register_function('h', h)",
    ].map(utf8),
  dictionary: [
    "#!lua",
    " name=",
    " flags=",
    "no-writes,",
    "redis.call(",
    "return ",
    "end",
    "function() ",
    "while true do end ",
    "{}",
    "'",
    "[[",
    "]]",
    "--",
    "\n",
  ].map(utf8),
  run(input: Uint8Array): void {
    const lua = ready();
    const script = parseEvalShebang(input);
    if ("ok" in script) {
      check(isSuffix(script.ok.body, input), "the script body is not a suffix of the input");
      const compiled = lua.compile(script.ok.body, "fuzz");
      if ("ok" in compiled) {
        try {
          runBounded(lua, compiled.ok);
        } finally {
          lua.release(compiled.ok);
        }
      }
    }
    const library = parseLibraryShebang(input);
    if ("ok" in library) {
      check(isSuffix(library.ok.body, input), "the library body is not a suffix of the input");
      const loaded = lua.loadLibrary(input);
      check(!lua.busy, "the engine is still busy after loading a library");
      if ("functions" in loaded) {
        try {
          runBounded(lua, loaded.functions[0].handle);
        } finally {
          for (const fn of loaded.functions) lua.release(fn.handle);
        }
      }
    }
  },
};
