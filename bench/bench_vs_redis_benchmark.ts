/**
 * Is `gocache bench` a fair load generator? It runs redis-benchmark and `gocache bench` with the
 * same -c/-n/-P/-t against the same server (redis-server, gocache, or both), one test at a time
 * with both tools back to back (alternating which goes first), and prints both throughputs per
 * test (medians over the rounds) and their ratio (gocache bench / redis-benchmark). The goal is
 * a ratio within 0.85-1.15. Throughput on a shared machine is noisy, so it also prints each
 * tool's CPU time (user + system) per request, which is far steadier. For redis-benchmark it is
 * the process's CPU time (from /proc) minus that of a run of one batch per connection (start-up,
 * connecting), divided by the extra requests; gocache bench reports the CPU time of its timed
 * phase itself (`--json` `cpuMicrosPerRequest`), since Deno's start-up time varies too much to
 * subtract. The server's CPU time per request under each tool is printed too: when it is the
 * same, both tools load the server alike and a throughput gap is the server's own variation.
 *
 *   deno task bench:client [--servers redis,gocache] [-c 50] [-n N] [-P 1,16]
 *                          [-t ping,set,get,incr,mset] [--rounds 3] [--threads 1]
 *                          [--syscalls] [--syscall-requests 10000]
 *
 * `-P` takes a list of pipeline depths, each measured in turn. Without `-n`, a depth of 1 runs
 * 100,000 requests per test and a deeper pipeline 1,000,000: 100,000 pipelined requests last
 * about 70 ms on this machine, mostly the tools' start of run (connections, JIT warm-up).
 * The last line counts the ratios inside 0.85-1.15.
 *
 * `--syscalls` then runs each tool once more per test under `strace -f -c` and prints the socket
 * and epoll system calls each makes per request. Where a tool is the bottleneck (-P 1 on a small
 * machine) this is what separates the two: a tool that needs more kernel work per request
 * measures itself more than the server.
 *
 * Our `ping` is compared with redis-benchmark's PING_MBULK (`-t ping_mbulk`; its `-t ping` would
 * also run PING_INLINE): ours is a multibulk command too.
 */
import { parseArgs } from "node:util";
import { cpuSeconds, freePort, median, spawnServer, waitForPing } from "./_support.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

const { values } = parseArgs({
  options: {
    servers: { type: "string", default: "redis,gocache" },
    clients: { type: "string", short: "c", default: "50" },
    requests: { type: "string", short: "n" },
    pipeline: { type: "string", short: "P", default: "1,16" },
    tests: { type: "string", short: "t", default: "ping,set,get,incr,mset" },
    rounds: { type: "string", default: "3" },
    threads: { type: "string", default: "1" },
    syscalls: { type: "boolean", default: false },
    "syscall-requests": { type: "string", default: "10000" },
  },
});
const TESTS = values.tests.split(",");
const ROUNDS = Number(values.rounds);
const DEPTHS = values.pipeline.split(",").map(Number);

/** What one measurement of both tools runs: its pipeline depth and request counts. */
interface Depth {
  /** `-P`. */
  pipeline: number;
  /** `-n` of a timed run. */
  requests: number;
  /** `-n` of the baseline run: one batch per connection. */
  baseline: number;
  /** `-c` and `-P`, as both tools take them. */
  common: string[];
}

/** The runs of pipeline depth `pipeline` (see the module comment for the default `-n`). */
function depth(pipeline: number): Depth {
  const requests = values.requests !== undefined
    ? Number(values.requests)
    : pipeline === 1
    ? 100_000
    : 1_000_000;
  return {
    pipeline,
    requests,
    baseline: Number(values.clients) * pipeline,
    common: ["-c", values.clients, "-P", String(pipeline)],
  };
}

/** What one run of a tool measured. */
interface Sample {
  /** Throughput it reported. */
  rps: number;
  /** redis-benchmark: CPU seconds (user + system) of its process; gocache bench: µs/request. */
  cpu: number;
  /** The server's CPU time per request during the run, in µs. */
  server: number;
}

/**
 * Runs a program to completion; returns its standard output and its CPU time, read by a shell
 * from its own children's times in /proc once the program has been waited for.
 */
async function runMeasured(cmd: string, args: string[]): Promise<{ out: string; cpu: number }> {
  const script = '"$@"; cat /proc/$$/stat >&2';
  const result = await new Deno.Command("sh", {
    args: ["-c", script, "sh", cmd, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stat = new TextDecoder().decode(result.stderr).trim().split("\n").at(-1) ?? "";
  // Fields 16 and 17 of /proc/PID/stat (cutime, cstime), counted after the command name.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[13]) + Number(fields[14]);
  return { out: new TextDecoder().decode(result.stdout), cpu: ticks / 100 };
}

/** The system calls of a load generator's network loop: sockets and epoll. */
const LOOP_SYSCALLS = [
  "sendto",
  "recvfrom",
  "sendmsg",
  "recvmsg",
  "epoll_ctl",
  "epoll_wait",
  "epoll_pwait",
  "epoll_pwait2",
];

/**
 * Runs a program under `strace -f -c` and returns how many times it made each of
 * {@link LOOP_SYSCALLS}, from strace's summary table.
 */
async function countSyscalls(cmd: string, args: string[]): Promise<Map<string, number>> {
  const file = await Deno.makeTempFile({ prefix: "gocache-strace-" });
  try {
    await new Deno.Command("strace", {
      args: ["-f", "-c", "-o", file, cmd, ...args],
      stdout: "null",
      stderr: "null",
    }).output();
    const counts = new Map<string, number>();
    for (const line of (await Deno.readTextFile(file)).split("\n")) {
      // "% time  seconds  usecs/call  calls  [errors]  syscall"
      const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
      if (m && LOOP_SYSCALLS.includes(m[2])) counts.set(m[2], Number(m[1]));
    }
    return counts;
  } finally {
    await Deno.remove(file).catch(() => {});
  }
}

/** "7.00 (epoll_ctl 5.00, sendto 1.00, ...)": calls per request, in all and the main ones. */
function perRequestCalls(counts: Map<string, number>, requests: number): string {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const parts = [...counts].filter(([, n]) => n / requests >= 0.05).sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${(n / requests).toFixed(2)}`);
  return `${(total / requests).toFixed(2)} (${parts.join(", ")})`;
}

/** redis-benchmark's names for our tests. */
const REDIS_NAMES: Record<string, string> = {
  ping: "PING_MBULK",
  set: "SET",
  get: "GET",
  incr: "INCR",
  mset: "MSET (10 keys)",
};

/** redis-benchmark's arguments for `requests` requests of `test`, reported as CSV. */
function redisBenchmarkArgs(d: Depth, port: number, test: string, requests: number): string[] {
  return [
    "-p",
    String(port),
    ...d.common,
    "-n",
    String(requests),
    "-t",
    test === "ping" ? "ping_mbulk" : test,
    "--csv",
  ];
}

/** `gocache bench`'s arguments (to `deno`) for the same run, reported as JSON. */
function gocacheBenchArgs(d: Depth, port: number, test: string, requests: number): string[] {
  return [
    "run",
    "-A",
    MAIN,
    "bench",
    "-p",
    String(port),
    ...d.common,
    "-n",
    String(requests),
    "-t",
    test,
    "--threads",
    values.threads,
    "--json",
  ];
}

/** One run of redis-benchmark (`--csv`) with `requests` requests. */
async function redisBenchmark(
  d: Depth,
  port: number,
  test: string,
  requests: number,
): Promise<Sample> {
  const { out, cpu } = await runMeasured(
    "redis-benchmark",
    redisBenchmarkArgs(d, port, test, requests),
  );
  for (const line of out.split("\n")) {
    const cells = line.split('","').map((cell) => cell.replace(/^"|"$/g, ""));
    if (cells[0] === REDIS_NAMES[test]) return { rps: Number(cells[1]), cpu, server: NaN };
  }
  return { rps: NaN, cpu, server: NaN };
}

/** One run of gocache bench (`--json`) with `requests` requests. */
async function gocacheBench(
  d: Depth,
  port: number,
  test: string,
  requests: number,
): Promise<Sample> {
  const { out } = await runMeasured(Deno.execPath(), gocacheBenchArgs(d, port, test, requests));
  const report = JSON.parse(out) as {
    results: { test: string; rps: number; cpuMicrosPerRequest: number }[];
  };
  const result = report.results.find((r) => r.test === test);
  return { rps: result?.rps ?? NaN, cpu: result?.cpuMicrosPerRequest ?? NaN, server: NaN };
}

/**
 * Measures every test at pipeline depth `d` against the server on `port`: a baseline run, then
 * both tools back to back for each round. Returns one table row per test.
 */
async function measureDepth(
  kind: string,
  d: Depth,
  port: number,
  serverPid: number,
): Promise<string[][]> {
  type Tool = "tool" | "ours";
  const samples = new Map<string, Record<Tool, Sample[]>>();
  const baselines = new Map<string, number>();
  /** Runs a tool, adding the server's CPU time per request (the same for a fair generator). */
  const runTool = async (who: Tool, t: string, requests: number) => {
    const before = cpuSeconds(serverPid);
    const sample = who === "tool"
      ? await redisBenchmark(d, port, t, requests)
      : await gocacheBench(d, port, t, requests);
    return { ...sample, server: (cpuSeconds(serverPid) - before) * 1e6 / requests };
  };
  for (const t of TESTS) samples.set(t, { tool: [], ours: [] });
  for (const t of TESTS) baselines.set(t, (await runTool("tool", t, d.baseline)).cpu);
  // Both tools measure a test back to back (who goes first alternates), so load from
  // elsewhere on the machine drifts as little as possible between the two numbers.
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, t] of TESTS.entries()) {
      const order = (round + i) % 2 === 0 ? ["tool", "ours"] as const : ["ours", "tool"] as const;
      for (const who of order) samples.get(t)?.[who].push(await runTool(who, t, d.requests));
    }
  }
  if (values.syscalls) {
    const n = Number(values["syscall-requests"]);
    for (const t of TESTS) {
      const tool = await countSyscalls("redis-benchmark", redisBenchmarkArgs(d, port, t, n));
      const ours = await countSyscalls(Deno.execPath(), gocacheBenchArgs(d, port, t, n));
      syscallRows.push(
        [kind, String(d.pipeline), t.toUpperCase(), "redis-benchmark", perRequestCalls(tool, n)],
        [kind, String(d.pipeline), t.toUpperCase(), "gocache bench", perRequestCalls(ours, n)],
      );
    }
  }
  const perRequest = (cpu: number[], baseline: number) =>
    ((median(cpu) - baseline) * 1e6 / (d.requests - d.baseline)).toFixed(2);
  const reported = (micros: number[]) => median(micros).toFixed(2);
  return TESTS.map((t) => {
    const s = samples.get(t) ?? { tool: [], ours: [] };
    const base = baselines.get(t) ?? 0;
    const tool = median(s.tool.map((x) => x.rps));
    const ours = median(s.ours.map((x) => x.rps));
    return [
      kind,
      String(d.pipeline),
      String(d.requests),
      t.toUpperCase(),
      tool.toFixed(0),
      ours.toFixed(0),
      (ours / tool).toFixed(3),
      perRequest(s.tool.map((x) => x.cpu), base),
      reported(s.ours.map((x) => x.cpu)),
      `${reported(s.tool.map((x) => x.server))} / ${reported(s.ours.map((x) => x.server))}`,
    ];
  });
}

/** Starts a `kind` server and measures every pipeline depth against it. */
async function measure(kind: "redis" | "gocache"): Promise<string[][]> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "gocache-bench-client-" });
  const child = spawnServer(kind, port, dir);
  try {
    await waitForPing(port);
    const rows: string[][] = [];
    for (const pipeline of DEPTHS) {
      rows.push(...await measureDepth(kind, depth(pipeline), port, child.pid));
    }
    return rows;
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** With --syscalls: server, test, tool, socket and epoll calls per request. */
const syscallRows: string[][] = [];

const rows = [[
  "server",
  "P",
  "n",
  "test",
  "redis-benchmark req/s",
  "gocache bench req/s",
  "ratio",
  "redis-benchmark CPU us/req",
  "gocache bench CPU us/req",
  "server CPU us/req",
]];
for (const kind of values.servers.split(",")) {
  if (kind !== "redis" && kind !== "gocache") throw new Error(`unknown server '${kind}'`);
  rows.push(...await measure(kind));
}
const ratios = rows.slice(1).map((row) => Number(row[6]));
const inside = ratios.filter((r) => r >= 0.85 && r <= 1.15).length;
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
const lines = [
  `-c ${values.clients}, medians of ${ROUNDS} rounds, ` +
  `gocache bench --threads ${values.threads}; CPU us/req: user + system time per request ` +
  `(redis-benchmark: beyond a run of one batch per connection; gocache bench: its timed phase; ` +
  `server: under redis-benchmark / under gocache bench)`,
  ...rows.map((row) => row.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()),
  `ratios inside 0.85-1.15: ${inside} of ${ratios.length}` +
  (inside < ratios.length
    ? ` (outside: ${ratios.filter((r) => r < 0.85 || r > 1.15).join(", ")})`
    : ""),
];
if (syscallRows.length > 0) {
  const table = [
    ["server", "P", "test", "tool", "socket + epoll system calls per request"],
    ...syscallRows,
  ];
  const w = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  lines.push(
    "",
    `under strace -f -c, -n ${values["syscall-requests"]}:`,
    ...table.map((row) => row.map((c, i) => c.padEnd(w[i])).join("  ").trimEnd()),
  );
}
Deno.stdout.writeSync(new TextEncoder().encode(lines.join("\n") + "\n"));
