/**
 * Target `aof`: the append-only file loader, `loadAof` (src/persistence/aof_loader.ts), which
 * frames commands with the request parser and replays them through the server's dispatch. One
 * server (never started: no socket, no timer) replays every input from a temporary file, its
 * keyspace emptied between inputs; the torn-tail policy (`refuse`, `cut`, `skip`) is chosen
 * from the input's hash.
 *
 * Only data commands are replayed: an input that names any other command the server knows
 * (SAVE, DEBUG, CONFIG, SHUTDOWN, REPLICAOF, blocking commands, scripts...) is skipped, since
 * replaying it would touch files, sockets or the process. Unknown names are replayed (the
 * loader must refuse them).
 *
 * Crash: an exception other than AofLoadError, or a broken invariant: an error offset outside
 * the file, a torn-tail error when the tail was not to be refused, a result whose byte counts
 * disagree with the file, or a `cut` that leaves the file at another length than it reports.
 *
 * @module
 */
import { AofLoadError, loadAof, type TornTail } from "../../src/persistence/aof_loader.ts";
import { Config, defaultValues } from "../../src/config/config.ts";
import { Server } from "../../src/server/server.ts";
import { ProtocolError, RequestParser } from "../../src/resp/request_parser.ts";
import { check, type FuzzTarget, hashBytes, latin1, utf8 } from "../target.ts";

/** Commands an input may replay (lower case). */
const REPLAYABLE = new Set([
  "select",
  "set",
  "del",
  "unlink",
  "expire",
  "pexpire",
  "pexpireat",
  "expireat",
  "persist",
  "incr",
  "incrby",
  "decr",
  "incrbyfloat",
  "append",
  "mset",
  "getset",
  "setex",
  "psetex",
  "hset",
  "hdel",
  "hincrby",
  "rpush",
  "lpush",
  "lpop",
  "rpop",
  "lset",
  "ltrim",
  "sadd",
  "srem",
  "zadd",
  "zrem",
  "zincrby",
  "multi",
  "exec",
  "discard",
  "rename",
  "copy",
  "swapdb",
  "flushdb",
  "ping",
]);

const TORN: readonly TornTail[] = ["refuse", "cut", "skip"];

let server: Server | null = null;
let dir = "";
let path = "";

/** Whether every command the input frames is replayable or unknown to the server. */
function replayable(ctx: Server, input: Uint8Array): boolean {
  const parser = new RequestParser(512 * 1024 * 1024);
  let pos = 0;
  try {
    while (pos < input.length) {
      const next = parser.parse(input, pos, input.length);
      const argv = parser.command;
      if (argv === null) return true;
      pos = next;
      if (argv.length === 0) continue;
      const command = ctx.commands.lookup(argv[0]);
      if (command !== undefined && !REPLAYABLE.has(command.name)) return false;
    }
  } catch (e) {
    if (e instanceof ProtocolError) return true;
    throw e;
  }
  return true;
}

function resp(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${latin1(a).length}\r\n${a}\r\n`).join("")}`;
}

/** The aof target. */
export const aofTarget: FuzzTarget = {
  name: "aof",
  description: "loadAof: AofLoadError only, consistent offsets and truncation",
  maxLength: 4096,
  setup(): Promise<void> {
    if (server === null) {
      dir = Deno.makeTempDirSync({ prefix: "gocache-fuzz-aof-" });
      const values = defaultValues();
      values.dir = dir;
      values.save = [];
      server = new Server(new Config(values));
      path = `${dir}/appendonly.aof`;
    }
    return Promise.resolve();
  },
  teardown(): void {
    if (dir !== "") Deno.removeSync(dir, { recursive: true });
    server = null;
    dir = path = "";
  },
  corpus: () =>
    [
      resp("SELECT", "0") + resp("SET", "a", "1") + resp("SET", "b", "hello world"),
      resp("SELECT", "1") + resp("RPUSH", "l", "x", "y", "z") + resp("LPOP", "l"),
      resp("MULTI") + resp("INCR", "n") + resp("HSET", "h", "f", "v", "g", "w") + resp("EXEC"),
      resp("SADD", "s", "m1", "m2") + resp("ZADD", "z", "1.5", "a", "-inf", "b"),
      resp("SET", "t", "v") + resp("PEXPIREAT", "t", "4102444800000") + resp("PERSIST", "t"),
      resp("SET", "k", "v") + resp("MULTI") + resp("DEL", "k"),
      resp("SET", "k", "v") + "*3\r\n$3\r\nSET\r\n$1\r\nk",
      resp("SELECT", "0") + resp("NOSUCHCOMMAND", "x"),
      resp("SET", "a", "1") + "PING\r\n",
      resp("INCRBYFLOAT", "f", "1.5") + resp("APPEND", "f", "xyz") + resp("ZINCRBY", "z", "2", "m"),
      resp("SET", "old", "v") + resp("RENAME", "old", "new") + resp("SWAPDB", "0", "1"),
      resp("HSET", "h", "f", "1") + resp("HINCRBY", "h", "f", "9223372036854775807"),
      resp("EXPIRE", "x", "100") + resp("SETEX", "x", "100", "v") + resp("DEL", "x"),
      "",
    ].map(latin1),
  dictionary: ["\r\n", "*", "$", "*1\r\n$4\r\nEXEC\r\n", "*1\r\n$5\r\nMULTI\r\n", "$-1\r\n"].map(
    utf8,
  ),
  async run(input: Uint8Array): Promise<void> {
    const ctx = server;
    if (ctx === null) throw new Error("aof target used before setup()");
    if (!replayable(ctx, input)) return;
    ctx.keyspace.flushAll();
    const tornTail = TORN[hashBytes(input) % 3];
    Deno.writeFileSync(path, input);
    try {
      const result = await loadAof(ctx, path, tornTail);
      check(result !== null, "no result for an existing file");
      check(result.size === input.length, () => `size ${result.size} of ${input.length}`);
      check(
        result.bytes >= 0 && result.bytes <= result.size,
        () => `replayed ${result.bytes} of ${result.size} bytes`,
      );
      check(
        result.truncatedAt === (result.bytes === result.size ? null : result.bytes),
        () => `truncatedAt ${result.truncatedAt} with ${result.bytes} of ${result.size} bytes`,
      );
      check(tornTail !== "refuse" || result.truncatedAt === null, "refused tail accepted");
      const length = Deno.statSync(path).size;
      const expected = tornTail === "cut" ? result.bytes : input.length;
      check(length === expected, () => `file left at ${length} bytes, expected ${expected}`);
    } catch (e) {
      if (!(e instanceof AofLoadError)) throw e;
      check(
        e.offset >= 0 && e.offset <= input.length,
        () => `error offset ${e.offset} outside the file (${input.length} bytes)`,
      );
      check(!e.torn || tornTail === "refuse", () => `torn-tail error under ${tornTail}`);
    }
  },
};
