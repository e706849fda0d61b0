/**
 * What the side-by-side benchmarks share: free ports, starting redis-server and gocache with
 * the same flags on them, and waiting until a server answers PING (redis-server accepts
 * connections while it loads, so an open port is not enough).
 */

import { parseArgs } from "node:util";
import { encodeCommand, ReplyDecoder } from "../src/resp/reply_decoder.ts";
import { concatBytes } from "../src/util/bytes.ts";
import { v8FlagsArg } from "../src/cli/v8_flags.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

/** A free loopback TCP port. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Runs a program to completion and returns what it printed on standard output. */
export async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  return decoder.decode(out.stdout);
}

/** Runs `redis-cli -p port args...` and returns its trimmed output. */
export async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run("redis-cli", ["-p", String(port), ...args])).trim();
}

/** Resolves once the server on `port` answers PING with PONG (up to a minute). */
export async function waitForPing(port: number): Promise<void> {
  for (let i = 0; i < 6000; i++) {
    if ((await cli(port, "PING")) === "PONG") return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`the server on port ${port} did not answer PING`);
}

/** Which server to start. */
export type ServerKind = "redis" | "gocache";

/**
 * Starts redis-server or gocache on `port` with data in `dir` and the Redis-named `flags`
 * (e.g. `["--appendonly", "yes"]`), snapshots off unless the flags say otherwise.
 */
export function spawnServer(
  kind: ServerKind,
  port: number,
  dir: string,
  flags: string[] = [],
): Deno.ChildProcess {
  const common = ["--port", String(port), "--dir", dir, "--save", "", ...flags];
  return kind === "redis"
    ? new Deno.Command("redis-server", {
      args: ["--bind", "127.0.0.1", ...common],
      stdout: "null",
      stderr: "null",
    }).spawn()
    : new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", v8FlagsArg(), MAIN, "serve", "--loglevel", "warn", ...common],
      stdout: "null",
      stderr: "null",
    }).spawn();
}

/**
 * CPU time (user + system, in seconds) the process `pid` has used so far, from /proc: the
 * server's own cost per operation, which a noisy machine disturbs far less than throughput.
 */
export function cpuSeconds(pid: number): number {
  const [user, system] = cpuTimes(pid);
  return user + system;
}

/** User and system CPU seconds of process `pid` so far (fields 14 and 15 of /proc/PID/stat). */
export function cpuTimes(pid: number): [user: number, system: number] {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Counted after the command name, which may hold spaces; USER_HZ is 100 on Linux.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return [Number(fields[11]) / 100, Number(fields[12]) / 100];
}

/**
 * Fills the server on `port` with `keys` keys of `size`-byte values (32 by default) using
 * redis-benchmark SET over a key space far larger than `keys`, until DBSIZE reaches it.
 */
export async function fillKeys(port: number, keys: number, size = 32): Promise<void> {
  for (let round = 0; round < 6; round++) {
    const answer = await cli(port, "DBSIZE");
    if (!/^\d+$/.test(answer)) throw new Error(`DBSIZE on port ${port} answered: ${answer}`);
    const n = Number(answer);
    if (n >= keys) return;
    await run("redis-benchmark", [
      "-p",
      String(port),
      "-t",
      "set",
      "-n",
      String(keys - n + 1000),
      "-r",
      String(keys * 100),
      "-d",
      String(size),
      "-P",
      "64",
      "-c",
      "20",
      "-q",
    ]);
  }
}

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const lineEncoder = new TextEncoder();

/** Prints one line of a report as soon as it is known (benchmarks run for minutes). */
export function say(line: string): void {
  Deno.stdout.writeSync(lineEncoder.encode(line + "\n"));
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The first of `count` consecutive client ports below the ephemeral range (12000-21999) whose
 * cluster bus ports (+10000) are free too.
 */
export function clusterPortRange(count: number): number {
  const free = (p: number) => {
    try {
      Deno.listen({ hostname: "127.0.0.1", port: p }).close();
      return true;
    } catch {
      return false;
    }
  };
  for (let attempt = 0; attempt < 1000; attempt++) {
    const base = 12000 + Math.floor(Math.random() * (10000 - count));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = free(p) && free(p + 10000);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free pairs of ports`);
}

/**
 * Polls `check` (a rejection counts as false) every `pollMs` until it returns true; throws
 * naming `what` after `limitMs`.
 */
export async function until(
  check: () => Promise<boolean>,
  what: string,
  { limitMs = 60_000, pollMs = 50 }: { limitMs?: number; pollMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

/** Whether `program` is an executable file in a directory of the PATH. */
export function onPath(program: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    try {
      const info = Deno.statSync(`${dir}/${program}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return true;
    } catch {
      // Not in this directory.
    }
  }
  return false;
}

/**
 * Exits with code 2 and one line on stderr naming the missing ones and the Debian packages to
 * install (redis-server, redis-tools), unless every program of `programs` is on the PATH: for
 * scripts that need Redis's programs only.
 */
export function requirePrograms(script: string, programs: readonly string[]): void {
  const missing = programs.filter((p) => !onPath(p));
  if (missing.length === 0) return;
  Deno.stderr.writeSync(lineEncoder.encode(
    `${script}: needs ${missing.join(", ")} on the PATH ` +
      `(Debian: sudo apt-get install redis-server redis-tools)\n`,
  ));
  Deno.exit(2);
}

/** A server a side-by-side script started from a command line, with its output in a file. */
export interface LoggedServer {
  /** What the reports call it ("redis", "gocache"). */
  name: string;
  /** The loopback port it listens on. */
  port: number;
  /** The process started: the server, or a wrapper of it (`deno task`, `npx`). */
  child: Deno.ChildProcess;
  /** The file its standard output and error go to. */
  log: string;
}

/**
 * Starts the shell command line `command` (run by `sh -c "exec ..."`, so quoting works as in a
 * shell and the process started is the server itself) in `cwd`, with standard output and error
 * written to `log`.
 */
export function spawnLogged(
  name: string,
  port: number,
  command: string,
  log: string,
  cwd: string = Deno.cwd(),
): LoggedServer {
  const child = new Deno.Command("sh", {
    args: ["-c", `exec ${command} >"$1" 2>&1`, "sh", log],
    cwd,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  return { name, port, child, log };
}

function readLog(log: string): string {
  try {
    return Deno.readTextFileSync(log);
  } catch {
    return "(no output)";
  }
}

/**
 * Resolves once `server` answers PING with PONG; throws with its output when it exits first or
 * does not answer within `limitMs`.
 */
export async function waitForServing(server: LoggedServer, limitMs = 30_000): Promise<void> {
  let exited: Deno.CommandStatus | undefined;
  server.child.status.then((status) => exited = status);
  const deadline = Date.now() + limitMs;
  for (;;) {
    if ((await cli(server.port, "PING")) === "PONG") return;
    const problem = exited !== undefined
      ? `exited with code ${exited.code}${exited.signal ? ` (${exited.signal})` : ""}`
      : Date.now() > deadline
      ? `did not answer PING within ${limitMs} ms`
      : undefined;
    if (problem !== undefined) {
      throw new Error(`${server.name} on port ${server.port} ${problem}:\n${readLog(server.log)}`);
    }
    await sleep(100);
  }
}

/** The process ids of every descendant of `pid` (children, their children, ...), from /proc. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
    } catch {
      continue; // Exited meanwhile.
    }
    // After "pid (comm) ": state, then the parent's pid.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry.name));
    children.set(ppid, list);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** The resident memory of process `pid` in MiB (VmRSS in /proc/PID/status), 0 if it is gone. */
export function rssMb(pid: number): number {
  try {
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return kb === null ? 0 : Number(kb[1]) / 1024;
  } catch {
    return 0;
  }
}

function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** Whether process `pid` still runs (exists and is not a zombie waiting to be reaped). */
function running(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/**
 * Stops `server` and every process it started: SIGTERM to each, then SIGKILL to those still
 * running after `graceMs`.
 */
export async function stopLogged(server: LoggedServer, graceMs = 10_000): Promise<void> {
  const pids = [server.child.pid, ...descendants(server.child.pid)];
  let exited = false;
  const status = server.child.status.then(() => exited = true);
  for (const pid of pids) signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (!(exited && !pids.slice(1).some(running)) && Date.now() < deadline) await sleep(50);
  for (const pid of pids) if (running(pid)) signal(pid, "SIGKILL");
  await status;
}

/** `word` quoted for a POSIX shell command line. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The two servers of a side-by-side run and the scratch directory they work in. */
export interface Pair {
  /** redis-server, started in `work`. */
  redis: LoggedServer;
  /** gocache, by its default command line or the caller's. */
  gocache: LoggedServer;
  /** The scratch directory (logs, redis-server's files, default gocache's --dir). */
  work: string;
  /** Stops both servers and removes `work`. */
  stop(): Promise<void>;
}

/**
 * Starts redis-server and gocache on free loopback ports, both without snapshots or an
 * append-only file unless `redisArgs` (words of a shell command line, e.g.
 * `--appendonly yes --appendfsync everysec`) say otherwise, and resolves once both answer PING.
 *
 * redis-server gets `--port P --bind 127.0.0.1 --save '' --appendonly no <redisArgs>` and runs in
 * the scratch directory. gocache runs `gocacheCommand` with `{port}` replaced (a shell command
 * line, run in the current directory), or by default this checkout's `main.ts serve` with the
 * same flags and `--dir` in the scratch directory. SIGINT and SIGTERM stop both before exiting.
 * `own` adds flags to one server's command line only (each its own `tls-port`, say).
 */
export async function startPair(
  label: string,
  redisArgs: string,
  gocacheCommand: string | undefined,
  own: { redis?: string; gocache?: string } = {},
): Promise<Pair> {
  const work = Deno.makeTempDirSync({ prefix: `${label}-` });
  const redisPort = freePort();
  const gocachePort = freePort();
  const common = `--save '' --appendonly no ${redisArgs}`;
  const gocacheLine = gocacheCommand !== undefined
    ? gocacheCommand.replaceAll("{port}", String(gocachePort))
    : `${shellQuote(Deno.execPath())} run -A ${v8FlagsArg()} ${shellQuote(MAIN)} serve ` +
      `--port ${gocachePort} ` +
      `--dir ${shellQuote(`${work}/gocache`)} ${common} ${own.gocache ?? ""}`;
  const redis = spawnLogged(
    "redis-server",
    redisPort,
    `redis-server --port ${redisPort} --bind 127.0.0.1 ${common} ${own.redis ?? ""}`,
    `${work}/redis.log`,
    work,
  );
  const gocache = spawnLogged("gocache", gocachePort, gocacheLine, `${work}/gocache.log`);
  const signals = ["SIGINT", "SIGTERM"] as const;
  const interrupted = () => stop().finally(() => Deno.exit(130));
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= Promise.all([stopLogged(redis), stopLogged(gocache)]).then(() => {
      for (const sig of signals) Deno.removeSignalListener(sig, interrupted);
      Deno.removeSync(work, { recursive: true });
    });
  for (const sig of signals) Deno.addSignalListener(sig, interrupted);
  try {
    await Promise.all([waitForServing(redis), waitForServing(gocache)]);
  } catch (e) {
    await stop();
    throw e;
  }
  return { redis, gocache, work, stop };
}

/**
 * `args` with each of the string `options` and the word after it joined as `--name=value`, so
 * that a value starting with a dash (`--redis-args "--appendonly yes"`) is taken as the value:
 * node:util's parseArgs refuses it otherwise.
 */
export function attachValues(args: readonly string[], options: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") ? args[i].slice(2) : undefined;
    if (name !== undefined && options.includes(name) && i + 1 < args.length) {
      out.push(`${args[i]}=${args[++i]}`);
    } else {
      out.push(args[i]);
    }
  }
  return out;
}

/**
 * Runs redis-benchmark against `port` the way the side-by-side benchmarks do (50 clients, random
 * keys below 100000, CSV output) with `pipeline` and `n` requests, plus `args`: a `-t` test and
 * its options, or a command to send. Returns the CSV output (see {@link csvRps}).
 */
export function redisBenchmark(
  port: number,
  pipeline: number,
  n: number,
  args: string[],
): Promise<string> {
  return run("redis-benchmark", [
    "-p",
    String(port),
    "-P",
    String(pipeline),
    "-c",
    "50",
    "-n",
    String(n),
    "-r",
    "100000",
    "--csv",
    ...args,
  ]);
}

/**
 * The requests per second in redis-benchmark's `--csv` output: the row named after `test` when
 * given (`-t lrange_600` runs "LPUSH (needed to benchmark LRANGE)" first), else the first row
 * (PING_INLINE for `-t ping`, the one row of a custom command); NaN when there is none.
 */
export function csvRps(out: string, test?: string): number {
  const rows = out.split("\n").slice(1).filter((line) => line.startsWith('"'));
  const named = test === undefined
    ? undefined
    : rows.find((line) => line.toUpperCase().startsWith(`"${test.toUpperCase()}`));
  const row = named ?? rows[0];
  return row === undefined ? NaN : Number(row.split('","')[1]?.replaceAll('"', ""));
}

/**
 * The value of option `--name` as a positive integer; otherwise prints the usage error of
 * `script` and exits 2.
 */
export function positiveOption(script: string, name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    failWith(script, 2, `--${name} wants a positive integer: ${text}`);
  }
  return n;
}

/** Prints `<script>: <message>` on stderr and exits with `code` (a benchmark's usage or run error). */
export function failWith(script: string, code: number, message: string): never {
  Deno.stderr.writeSync(new TextEncoder().encode(`${script}: ${message}\n`));
  Deno.exit(code);
}

/**
 * Sends `commands` on `conn`, `batch` at a time, reading (and dropping) every reply of a batch
 * before the next; returns how many commands were sent. Commands may come from a generator, so
 * a large dataset is never held whole.
 */
export async function sendPipelined(
  conn: Deno.Conn,
  commands: Iterable<readonly (string | number)[]>,
  batch: number,
): Promise<number> {
  const buf = new Uint8Array(1 << 16);
  const replies = new ReplyDecoder();
  let sent = 0;
  let parts: Uint8Array[] = [];
  const flush = async () => {
    const out = concatBytes(parts);
    for (let w = 0; w < out.length;) w += await conn.write(out.subarray(w));
    for (let read = 0; read < parts.length;) {
      while (read < parts.length && replies.next() !== undefined) read++;
      if (read === parts.length) break;
      const n = await conn.read(buf);
      if (n === null) throw new Error("server closed the connection");
      replies.push(buf.subarray(0, n));
    }
    sent += parts.length;
    parts = [];
  };
  for (const command of commands) {
    parts.push(encodeCommand(command));
    if (parts.length === batch) await flush();
  }
  if (parts.length > 0) await flush();
  return sent;
}

/**
 * The command line of a side-by-side benchmark: `--gocache "CMD with {port}"` (how to start
 * gocache, optional) and positive integer options named in `defaults`, e.g. `{ requests:
 * 200000, rounds: 3 }`. A bad option prints `usage` and exits 2.
 */
export function benchOptions<K extends string>(
  script: string,
  usage: string,
  defaults: Record<K, number>,
): { gocache: string | undefined; numbers: Record<K, number> } {
  const names = Object.keys(defaults) as K[];
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: attachValues(Deno.args, ["gocache"]),
      options: {
        gocache: { type: "string" },
        ...Object.fromEntries(
          names.map((name) => [name, { type: "string", default: String(defaults[name]) }]),
        ),
      },
    }).values;
  } catch (e) {
    return failWith(script, 2, `${(e as Error).message}\n${usage}`);
  }
  const numbers = {} as Record<K, number>;
  for (const name of names) numbers[name] = positiveOption(script, name, String(values[name]));
  return { gocache: values.gocache as string | undefined, numbers };
}
