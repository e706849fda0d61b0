/** Shared fixtures for the scripting tests: a fake ScriptHost and an EVAL-like helper. */
import { type Reply } from "../../../src/resp/reply.ts";
import { LuaEngine, type ScriptHost, type ScriptRun } from "../../../src/scripting/lua_engine.ts";

/** A ScriptHost that records what the script asked and answers from a table of replies. */
export class FakeHost implements ScriptHost {
  /** Every command received, as its raw arguments. */
  readonly calls: Uint8Array[][] = [];
  /** Every redis.log call. */
  readonly logs: [number, string][] = [];
  /** Every redis.set_repl call. */
  readonly replication: number[] = [];
  /** Answers a command; the default echoes its last argument as a bulk string. */
  answer: (args: Uint8Array[]) => Reply = (args) => args[args.length - 1];

  /** Records the command and returns the configured answer. */
  call(args: Uint8Array[], _resp: 2 | 3): Reply {
    this.calls.push(args.map((a) => a.slice()));
    return this.answer(args);
  }

  /** Records a log line. */
  log(level: number, message: string): void {
    this.logs.push([level, message]);
  }

  /** Records a replication mode change. */
  setReplication(flags: number): void {
    this.replication.push(flags);
  }
}

/** Text as bytes. */
export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** The engine shared by a test file. */
export const engine: LuaEngine = await LuaEngine.create({ redisVersion: "7.0.15" });

/** Compiles and runs `source` to completion (a long slice) and returns its reply. */
export function evalScript(
  source: string | Uint8Array,
  keys: (string | Uint8Array)[] = [],
  args: (string | Uint8Array)[] = [],
  host: ScriptHost = new FakeHost(),
  name = "sha",
): Reply {
  const compiled = engine.compile(typeof source === "string" ? bytes(source) : source, name);
  if ("error" in compiled) throw new Error(compiled.error);
  const asBytes = (v: string | Uint8Array) => (typeof v === "string" ? bytes(v) : v);
  const run: ScriptRun = engine.run(
    compiled.ok,
    keys.map(asBytes),
    args.map(asBytes),
    host,
    2,
    10_000,
  );
  if (!run.done) throw new Error("script did not finish within its slice");
  engine.release(compiled.ok);
  return run.reply;
}

/** The message of an ErrorReply (fails the test otherwise). */
export function errorText(reply: Reply): string {
  if (reply === null || typeof reply !== "object" || !("message" in reply)) {
    throw new Error(`not an error reply: ${String(reply)}`);
  }
  return reply.message as string;
}

/** A binary string (one char per byte) as hex, for comparing packed bytes. */
export function hexOf(reply: Reply): string {
  if (typeof reply !== "string") throw new Error(`not a binary string: ${String(reply)}`);
  return Array.from(reply, (c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
}
