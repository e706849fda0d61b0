/**
 * What the side-by-side benchmarks share: free ports, starting redis-server and gocache with
 * the same flags on them, and waiting until a server answers PING (redis-server accepts
 * connections while it loads, so an open port is not enough).
 */

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
      args: ["run", "-A", MAIN, "serve", "--loglevel", "warn", ...common],
      stdout: "null",
      stderr: "null",
    }).spawn();
}

/**
 * CPU time (user + system, in seconds) the process `pid` has used so far, from /proc: the
 * server's own cost per operation, which a noisy machine disturbs far less than throughput.
 */
export function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of /proc/PID/stat (utime, stime), counted after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Fills the server on `port` with `keys` keys of 32-byte values using redis-benchmark SET over
 * a key space far larger than `keys`, until DBSIZE reaches it.
 */
export async function fillKeys(port: number, keys: number): Promise<void> {
  for (let round = 0; round < 6; round++) {
    const n = Number(await cli(port, "DBSIZE"));
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
      "32",
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
