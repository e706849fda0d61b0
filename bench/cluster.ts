/**
 * Cluster benchmark, gocache next to redis-server in one run, each forming clusters of its own
 * kind with Redis's own tool (`redis-cli --cluster create`):
 * - throughput on 3 masters: `redis-benchmark --cluster -t set,get` with `-P 16` and `-P 1`
 *   (50 clients), requests per second per test and the ratio gocache/redis (goal >= 0.8).
 *   In cluster mode redis-benchmark measures a test's time in steps of 250 ms (its rates are
 *   n / (k * 0.25 s): 998004, 796813, 665779 for a million requests), so a test of one second
 *   could read 0.67, 0.80 or 1.00 for the same speed. Its tests run 5x `--requests` at `-P 16`
 *   and 1x at `-P 1`, five seconds or more each, to keep that step within about 5%. Each test
 *   runs alone, so that the three servers' CPU per request (user + system, from /proc) is
 *   printed beside the rates: a figure a busy machine disturbs far less;
 * - the price of cluster mode on one node: standalone vs `cluster-enabled yes` owning all 16384
 *   slots, SET/GET `-P 16`, the ratio cluster/standalone for each kind (goal: gocache <= 5%
 *   slower);
 * - an idle cluster of 3 masters and 3 replicas: CPU (% of one core) and bus bytes sent per
 *   second per node, read from /proc and `ss` over `--idle` seconds.
 * Rounds alternate the two kinds and report medians.
 *
 *   deno task bench:cluster [--requests 1000000] [--rounds 3] [--idle 20]
 *                           [--only throughput,mode,idle]
 */
import { parseArgs } from "node:util";
import {
  cli,
  clusterPortRange,
  cpuSeconds,
  median,
  run,
  say,
  type ServerKind,
  spawnServer,
  waitForPing,
} from "./_support.ts";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "1000000" },
    rounds: { type: "string", default: "3" },
    idle: { type: "string", default: "20" },
    only: { type: "string", default: "throughput,mode,idle" },
  },
});
const REQUESTS = Number(values.requests);

const ROUNDS = Number(values.rounds);
const IDLE_S = Number(values.idle);

interface Nodes {
  kind: ServerKind;
  ports: number[];
  children: Deno.ChildProcess[];
  dir: string;
}

async function startNodes(kind: ServerKind, count: number, cluster: boolean): Promise<Nodes> {
  const dir = Deno.makeTempDirSync({ prefix: `bench-cluster-${kind}-` });
  const base = clusterPortRange(count);
  const ports: number[] = [];
  const children: Deno.ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    const port = base + i;
    const sub = `${dir}/${port}`;
    Deno.mkdirSync(sub);
    const flags = cluster ? ["--cluster-enabled", "yes", "--cluster-node-timeout", "5000"] : [];
    children.push(spawnServer(kind, port, sub, flags));
    ports.push(port);
  }
  for (const port of ports) await waitForPing(port);
  return { kind, ports, children, dir };
}

async function stopNodes(nodes: Nodes): Promise<void> {
  for (const child of nodes.children) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Gone.
    }
    await child.status;
  }
  Deno.removeSync(nodes.dir, { recursive: true });
}

async function createCluster(ports: number[], replicas: number): Promise<void> {
  await run("redis-cli", [
    "--cluster",
    "create",
    ...ports.map((p) => `127.0.0.1:${p}`),
    "--cluster-replicas",
    String(replicas),
    "--cluster-yes",
  ]);
  for (const port of ports) {
    for (let i = 0;; i++) {
      if ((await cli(port, "CLUSTER", "INFO")).includes("cluster_state:ok")) break;
      if (i > 600) throw new Error(`node ${port} never reached cluster_state:ok`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Requests of one cluster test: 5x `--requests` at `-P 16`, 1x at `-P 1` (module comment). */
function clusterRequests(pipeline: number): number {
  return pipeline === 1 ? REQUESTS : 5 * REQUESTS;
}

/** Requests per second of one test (SET or GET) from redis-benchmark --cluster --csv. */
async function clusterBenchmark(port: number, pipeline: number, test: string): Promise<number> {
  const out = await run("redis-benchmark", [
    "--cluster",
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-t",
    test.toLowerCase(),
    "-n",
    String(clusterRequests(pipeline)),
    "-c",
    "50",
    "-P",
    String(pipeline),
    "-r",
    "100000",
    "--csv",
  ]);
  const m = new RegExp(`^"${test}","([\\d.]+)"`, "m").exec(out);
  if (m === null) throw new Error(`redis-benchmark printed no ${test} rate: ${out}`);
  return Number(m[1]);
}

function ratioLine(label: string, a: number[], b: number[], names: [string, string]): string {
  const ma = median(a);
  const mb = median(b);
  return `${label.padEnd(28)} ${names[0]} ${ma.toFixed(0).padStart(9)}  ${names[1]} ` +
    `${mb.toFixed(0).padStart(9)}  ratio ${(ma / mb).toFixed(2)}`;
}

async function clusterThroughput(): Promise<void> {
  say(
    `# 3 masters, redis-benchmark --cluster, 50 clients, ${ROUNDS} rounds (median rps; ` +
      "the three servers' CPU per request, user + system)",
  );
  type Sample = { rps: number[]; cpuUs: number[] };
  const results = new Map<string, { gocache: Sample; redis: Sample }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of ["gocache", "redis"] as const) {
      const nodes = await startNodes(kind, 3, true);
      try {
        await createCluster(nodes.ports, 0);
        const cpu = () => nodes.children.reduce((sum, child) => sum + cpuSeconds(child.pid), 0);
        for (const pipeline of [16, 1]) {
          for (const test of ["SET", "GET"]) {
            const cpu0 = cpu();
            const rps = await clusterBenchmark(nodes.ports[0], pipeline, test);
            const cpuUs = (cpu() - cpu0) * 1e6 / clusterRequests(pipeline);
            const key = `${test} -P ${pipeline}`;
            if (!results.has(key)) {
              results.set(key, { gocache: { rps: [], cpuUs: [] }, redis: { rps: [], cpuUs: [] } });
            }
            results.get(key)![kind].rps.push(rps);
            results.get(key)![kind].cpuUs.push(cpuUs);
          }
        }
      } finally {
        await stopNodes(nodes);
      }
    }
  }
  for (const [key, r] of results) {
    const g = median(r.gocache.cpuUs);
    const x = median(r.redis.cpuUs);
    say(
      `${ratioLine(key, r.gocache.rps, r.redis.rps, ["gocache", "redis"])}  CPU/request ` +
        `${g.toFixed(2)} vs ${x.toFixed(2)} us (x${(g / x).toFixed(2)})`,
    );
  }
}

async function clusterModeCost(): Promise<void> {
  say(
    `\n# one node, standalone vs cluster-enabled owning all slots, -P 16, ${ROUNDS} rounds in ` +
      "alternating order (medians: requests/s, and server CPU per request)",
  );
  for (const kind of ["gocache", "redis"] as const) {
    type Sample = { rps: number[]; cpuUs: number[] };
    const results = new Map<string, { standalone: Sample; cluster: Sample }>();
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0
        ? (["standalone", "cluster"] as const)
        : (["cluster", "standalone"] as const);
      for (const mode of order) {
        const nodes = await startNodes(kind, 1, mode === "cluster");
        try {
          const port = nodes.ports[0];
          if (mode === "cluster") {
            await cli(port, "CLUSTER", "ADDSLOTSRANGE", "0", "16383");
            for (let i = 0; !(await cli(port, "CLUSTER", "INFO")).includes("state:ok"); i++) {
              if (i > 600) throw new Error("single-node cluster never became ok");
              await new Promise((r) => setTimeout(r, 50));
            }
          }
          const pid = nodes.children[0].pid;
          for (const test of ["SET", "GET"]) {
            const cpu0 = cpuSeconds(pid);
            const rps = (await benchmarkOne(port, test)) ?? 0;
            const cpuUs = (cpuSeconds(pid) - cpu0) * 1e6 / REQUESTS;
            if (!results.has(test)) {
              results.set(test, {
                standalone: { rps: [], cpuUs: [] },
                cluster: { rps: [], cpuUs: [] },
              });
            }
            results.get(test)![mode].rps.push(rps);
            results.get(test)![mode].cpuUs.push(cpuUs);
          }
        } finally {
          await stopNodes(nodes);
        }
      }
    }
    for (const [test, r] of results) {
      const c = median(r.cluster.cpuUs);
      const st = median(r.standalone.cpuUs);
      say(
        ratioLine(`${kind} ${test}`, r.cluster.rps, r.standalone.rps, ["cluster", "standalone"]) +
          `  CPU/request ${c.toFixed(2)} vs ${st.toFixed(2)} us (x${(c / st).toFixed(2)})`,
      );
    }
  }
}

/** One redis-benchmark test (SET or GET) at -P 16 against one node; requests per second. */
async function benchmarkOne(port: number, test: string): Promise<number | undefined> {
  const out = await run("redis-benchmark", [
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-t",
    test.toLowerCase(),
    "-n",
    String(REQUESTS),
    "-c",
    "50",
    "-P",
    "16",
    "-r",
    "100000",
    "--csv",
  ]);
  const m = new RegExp(`^"${test}","([\\d.]+)"`, "m").exec(out);
  return m === null ? undefined : Number(m[1]);
}

/** Bytes sent on TCP sockets of process `pid` whose local or remote port is in `ports`. */
async function busBytesSent(pid: number, ports: Set<number>): Promise<number> {
  const out = await run("ss", ["-tinpH", "state", "established"]);
  const lines = out.split("\n");
  let total = 0;
  for (let i = 0; i < lines.length - 1; i++) {
    const head = lines[i];
    if (!head.includes(`pid=${pid},`)) continue;
    const m = /\S+:(\d+)\s+\S+:(\d+)/.exec(head);
    if (m === null || !(ports.has(Number(m[1])) || ports.has(Number(m[2])))) continue;
    const sent = /bytes_sent:(\d+)/.exec(lines[i + 1]);
    if (sent !== null) total += Number(sent[1]);
  }
  return total;
}

async function idleCluster(): Promise<void> {
  say(`\n# idle cluster, 3 masters + 3 replicas, node timeout 5000 ms, ${IDLE_S} s`);
  const rows: Record<string, { cpu: number; bytes: number }> = {};
  for (const kind of ["gocache", "redis"] as const) {
    const nodes = await startNodes(kind, 6, true);
    try {
      await createCluster(nodes.ports, 1);
      await new Promise((r) => setTimeout(r, 3000));
      const busPorts = new Set(nodes.ports.map((p) => p + 10000));
      const pids = nodes.children.map((c) => c.pid);
      const cpu0 = pids.map(cpuSeconds);
      const bytes0 = await Promise.all(pids.map((p) => busBytesSent(p, busPorts)));
      await new Promise((r) => setTimeout(r, IDLE_S * 1000));
      const cpu1 = pids.map(cpuSeconds);
      const bytes1 = await Promise.all(pids.map((p) => busBytesSent(p, busPorts)));
      const cpu = median(pids.map((_, i) => (cpu1[i] - cpu0[i]) / IDLE_S * 100));
      const bytes = median(pids.map((_, i) => (bytes1[i] - bytes0[i]) / IDLE_S));
      rows[kind] = { cpu, bytes };
      say(
        `${kind.padEnd(8)} CPU ${cpu.toFixed(2)}% of a core per node, bus ${
          bytes.toFixed(0)
        } B/s sent per node (medians)`,
      );
    } finally {
      await stopNodes(nodes);
    }
  }
  say(
    `ratio    CPU ${(rows.gocache.cpu / rows.redis.cpu).toFixed(2)}, bus bytes ${
      (rows.gocache.bytes / rows.redis.bytes).toFixed(2)
    }`,
  );
}

const only = values.only.split(",");
if (only.includes("throughput")) await clusterThroughput();
if (only.includes("mode")) await clusterModeCost();
if (only.includes("idle")) await idleCluster();
