/**
 * Replication benchmark, gocache next to redis-server in one run (each server follows one of
 * its own kind):
 * - full sync: a leader holding `--keys` keys (32-byte values) gets a new follower; time from
 *   the follower's start until `master_link_status:up` with the leader's offset applied;
 * - leader throughput with 2 followers attached: redis-benchmark SET (-P 16, 50 clients),
 *   requests per second and the ratio gocache/redis;
 * - replication lag under that load: a probe writes a fresh value on the leader and polls a
 *   follower until it shows it, every 20 ms; p50/p99/max in ms.
 *
 *   deno task bench:replication [--keys 1000000] [--requests 1000000]
 */
import { parseArgs } from "node:util";
import {
  cli,
  fillKeys,
  freePort,
  run,
  type ServerKind,
  spawnServer,
  waitForPing,
} from "./_support.ts";

const { values } = parseArgs({
  options: {
    keys: { type: "string", default: "1000000" },
    requests: { type: "string", default: "1000000" },
  },
});
const KEYS = Number(values.keys);
const REQUESTS = Number(values.requests);

function field(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, "m").exec(info)?.[1]?.trim();
}

/** Resolves once the follower on `port` is up and has applied the leader's offset. */
async function caughtUp(leader: number, follower: number): Promise<void> {
  for (;;) {
    const f = await cli(follower, "INFO", "replication");
    if (field(f, "master_link_status") === "up") {
      const l = await cli(leader, "INFO", "replication");
      if (field(l, "master_repl_offset") === field(f, "master_repl_offset")) return;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Cluster {
  kind: ServerKind;
  leader: number;
  followers: number[];
  children: Deno.ChildProcess[];
  dir: string;
  fullSyncMs: number;
}

async function startCluster(kind: ServerKind): Promise<Cluster> {
  const dir = Deno.makeTempDirSync({ prefix: `bench-repl-${kind}-` });
  const leader = freePort();
  // Redis 7 waits 5 s before a diskless copy by default, to batch followers: not what we time.
  const flags = kind === "redis" ? ["--repl-diskless-sync-delay", "0"] : [];
  const children = [spawnServer(kind, leader, `${dir}`, flags)];
  await waitForPing(leader);
  await fillKeys(leader, KEYS);
  const followers: number[] = [];
  let fullSyncMs = 0;
  for (let i = 0; i < 2; i++) {
    const port = freePort();
    const sub = `${dir}/f${i}`;
    Deno.mkdirSync(sub);
    const t0 = performance.now();
    children.push(spawnServer(kind, port, sub, [...flags, "--replicaof", `127.0.0.1 ${leader}`]));
    await waitForPing(port);
    await caughtUp(leader, port);
    if (i === 0) fullSyncMs = performance.now() - t0;
    followers.push(port);
  }
  return { kind, leader, followers, children, dir, fullSyncMs };
}

async function stopCluster(c: Cluster): Promise<void> {
  for (const child of c.children) child.kill("SIGTERM");
  await Promise.all(c.children.map((child) => child.status));
  Deno.removeSync(c.dir, { recursive: true });
}

/** SET throughput on the leader, and the lag a probe measures on a follower meanwhile. */
async function loadWithLag(c: Cluster): Promise<{ rps: number; lag: number[] }> {
  let done = false;
  const bench = run("redis-benchmark", [
    "-p",
    String(c.leader),
    "-t",
    "set",
    "-n",
    String(REQUESTS),
    "-r",
    "100000",
    "-d",
    "32",
    "-P",
    "16",
    "-c",
    "50",
    "-q",
  ]).finally(() => (done = true));
  const lag: number[] = [];
  const leader = await Deno.connect({ hostname: "127.0.0.1", port: c.leader });
  const follower = await Deno.connect({ hostname: "127.0.0.1", port: c.followers[0] });
  const buf = new Uint8Array(256);
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const ask = async (conn: Deno.Conn, command: string): Promise<string> => {
    await conn.write(enc.encode(command));
    const n = await conn.read(buf);
    return dec.decode(buf.subarray(0, n ?? 0));
  };
  for (let i = 0; !done; i++) {
    const value = `p${i}`;
    await ask(leader, `*3\r\n$3\r\nSET\r\n$5\r\nprobe\r\n$${value.length}\r\n${value}\r\n`);
    const t0 = performance.now();
    while (!(await ask(follower, "*2\r\n$3\r\nGET\r\n$5\r\nprobe\r\n")).includes(value)) {
      if (done) break;
    }
    lag.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  leader.close();
  follower.close();
  const out = await bench;
  const rps = Number(/([\d.]+) requests per second/.exec(out)?.[1] ?? 0);
  return { rps, lag: lag.sort((a, b) => a - b) };
}

function pct(sorted: number[], p: number): string {
  if (sorted.length === 0) return "-";
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))].toFixed(2);
}

const lines: string[] = [`${KEYS} keys of 32 bytes; SET load ${REQUESTS} requests, -P 16 -c 50`];
const results: Record<string, { fullSyncMs: number; rps: number; lag: number[] }> = {};
for (const kind of ["redis", "gocache"] as const) {
  const cluster = await startCluster(kind);
  try {
    const { rps, lag } = await loadWithLag(cluster);
    results[kind] = { fullSyncMs: cluster.fullSyncMs, rps, lag };
    lines.push(
      `${kind.padEnd(8)} full sync ${cluster.fullSyncMs.toFixed(0).padStart(6)} ms   ` +
        `SET with 2 followers ${rps.toFixed(0).padStart(8)} rps   ` +
        `lag p50 ${pct(lag, 0.5)} ms  p99 ${pct(lag, 0.99)} ms  max ${pct(lag, 1)} ms ` +
        `(${lag.length} probes)`,
    );
  } finally {
    await stopCluster(cluster);
  }
}
const g = results.gocache;
const r = results.redis;
lines.push(
  `ratios gocache/redis: full sync time ${(g.fullSyncMs / r.fullSyncMs).toFixed(2)}, ` +
    `SET throughput ${(g.rps / r.rps).toFixed(2)}`,
);
Deno.stdout.writeSync(new TextEncoder().encode(lines.join("\n") + "\n"));
