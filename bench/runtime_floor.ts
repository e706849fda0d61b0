/**
 * What a request costs the server in CPU, and how much of that is Deno's runtime rather than
 * gocache: redis-benchmark's PING (`-t ping_mbulk`) against redis-server, against the least a
 * Deno TCP server can do (bench/_echo_server.ts: one read, one write of `+PONG`s, nothing else)
 * and against gocache, in three shapes:
 * - `seq`: one client, one request at a time, so every request wakes a sleeping server (what a
 *   tool that sends one command and waits, as `redis-cli --cluster` does, costs);
 * - `c50`: 50 clients unpipelined (the server rarely sleeps);
 * - `P16`: 50 clients, 16 requests per write.
 * The server's user and system CPU time per request come from /proc, medians of `--rounds`
 * rounds, with the ratios gocache/redis-server, echo/redis-server and gocache/echo. The echo
 * server is a floor: when gocache costs about what it costs, the rest of the gap to
 * redis-server is the runtime's (waking, promise and op plumbing) and no change to gocache's
 * own code can close it.
 *
 *   deno task bench:floor [--requests 50000] [--rounds 3]
 */
import {
  benchOptions,
  cpuTimes,
  failWith,
  freePort,
  median,
  run,
  say,
  spawnServer,
  waitForPing,
} from "./_support.ts";

const USAGE = "usage: deno task bench:floor [--requests N] [--rounds N]";
const { numbers } = benchOptions("bench:floor", USAGE, { requests: 50000, rounds: 3 });
const ECHO = new URL("./_echo_server.ts", import.meta.url).pathname;

/** A shape of load: redis-benchmark's clients and pipeline. */
interface Shape {
  name: string;
  clients: number;
  pipeline: number;
}
const SHAPES: Shape[] = [
  { name: "seq", clients: 1, pipeline: 1 },
  { name: "c50", clients: 50, pipeline: 1 },
  { name: "P16", clients: 50, pipeline: 16 },
];
type Kind = "redis" | "echo" | "gocache";
const KINDS: Kind[] = ["redis", "echo", "gocache"];

/** Spawns a server of `kind` on a free port (the caller waits for it). */
function start(kind: Kind, dir: string): [Deno.ChildProcess, number] {
  const port = freePort();
  const child = kind === "echo"
    ? new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", ECHO, String(port)],
      stdout: "null",
      stderr: "null",
    }).spawn()
    : spawnServer(kind, port, dir, ["--appendonly", "no"]);
  return [child, port];
}

/** redis-benchmark's PING on `port` in `shape`, `n` requests. */
async function load(port: number, shape: Shape, n: number): Promise<void> {
  await run("redis-benchmark", [
    "-p",
    String(port),
    "-t",
    "ping_mbulk",
    "-c",
    String(shape.clients),
    "-P",
    String(shape.pipeline),
    "-n",
    String(n),
    "-q",
  ]);
}

/** Runs PING on `port` in `shape` and returns the server's [user, sys] µs per request. */
async function measure(pid: number, port: number, shape: Shape, n: number): Promise<number[]> {
  const [u0, s0] = cpuTimes(pid);
  await load(port, shape, n);
  const [u1, s1] = cpuTimes(pid);
  return [(u1 - u0) * 1e6 / n, (s1 - s0) * 1e6 / n];
}

const dir = Deno.makeTempDirSync({ prefix: "bench-floor-" });
const results = new Map<string, number[][]>();
const servers: [Kind, Deno.ChildProcess, number][] = [];
try {
  // Each is listed before it is waited for, so that the cleanup below stops it whatever happens.
  for (const kind of KINDS) servers.push([kind, ...start(kind, dir)]);
  // The echo server answers redis-cli's PING with +PONG too.
  for (const [, , port] of servers) await waitForPing(port);
  // Warm-up: the JIT compiles the hot paths before anything is counted.
  const warmUp = Math.min(100_000, 2 * numbers.requests);
  for (const [, , port] of servers) await load(port, SHAPES[1], warmUp);
  for (let round = 0; round < numbers.rounds; round++) {
    for (const shape of SHAPES) {
      // Fewer unpipelined single-client requests: each waits for a full round trip.
      const n = shape.clients === 1 ? Math.max(1000, numbers.requests / 2) : numbers.requests * 4;
      for (const [kind, child, port] of servers) {
        const key = `${kind} ${shape.name}`;
        const list = results.get(key) ?? [];
        list.push(await measure(child.pid, port, shape, n));
        results.set(key, list);
      }
    }
  }
} catch (e) {
  failWith("bench:floor", 1, e instanceof Error ? e.message : String(e));
} finally {
  for (const [, child] of servers) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
  }
  Deno.removeSync(dir, { recursive: true });
}

/** Median user and system µs per request of `kind` in `shape`. */
function cost(kind: Kind, shape: Shape): [number, number] {
  const rows = results.get(`${kind} ${shape.name}`) ?? [];
  return [median(rows.map((r) => r[0])), median(rows.map((r) => r[1]))];
}

say(
  `# server CPU per PING (us, user + sys), medians of ${numbers.rounds} rounds; ` +
    `ratios of user time`,
);
say(
  "shape   redis-server     deno echo        gocache          gocache/redis echo/redis gocache/echo",
);
const cell = ([user, sys]: [number, number]) =>
  `${user.toFixed(2).padStart(6)} + ${sys.toFixed(2).padStart(5)}  `;
/** `a / b` with two decimals, or "n/a" when `b` is 0 (too few requests to see any CPU time). */
const ratio = (a: number, b: number, width: number) =>
  (b > 0 ? (a / b).toFixed(2) : "n/a").padStart(width);
for (const shape of SHAPES) {
  const [redis, echo, gocache] = KINDS.map((kind) => cost(kind, shape));
  say(
    `${shape.name.padEnd(6)}  ${cell(redis)} ${cell(echo)} ${cell(gocache)}` +
      `${ratio(gocache[0], redis[0], 13)} ${ratio(echo[0], redis[0], 10)} ` +
      ratio(gocache[0], echo[0], 12),
  );
}
