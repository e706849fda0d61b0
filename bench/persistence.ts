/**
 * Persistence benchmark, gocache next to redis-server in one run: fill each with the same
 * number of keys (redis-benchmark SET, 32-byte values), then measure
 * - SAVE: time to write the dump;
 * - restart from the dump and from the AOF: time from spawn until PING answers;
 * - BGSAVE under load: p50/p99 latency of GETs that a client runs while the snapshot is written.
 *
 *   deno task bench:persistence [--keys 1000000]
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

const { values } = parseArgs({ options: { keys: { type: "string", default: "1000000" } } });
const KEYS = Number(values.keys);

interface Node {
  name: ServerKind;
  port: number;
  dir: string;
  spawn(): Deno.ChildProcess;
}

async function start(node: Node): Promise<{ child: Deno.ChildProcess; ms: number }> {
  const t0 = performance.now();
  const child = node.spawn();
  await waitForPing(node.port);
  return { child, ms: performance.now() - t0 };
}

async function stop(node: Node, child: Deno.ChildProcess): Promise<void> {
  await cli(node.port, "SHUTDOWN", "NOSAVE");
  await child.status;
}

function makeNode(name: ServerKind, appendonly: boolean): Node {
  const port = freePort();
  const dir = Deno.makeTempDirSync({ prefix: `bench-${name}-` });
  const flags = ["--appendonly", appendonly ? "yes" : "no", "--appendfsync", "everysec"];
  // Both write a plain command AOF: redis-server's default RDB preamble is not compared here.
  if (name === "redis") flags.push("--aof-use-rdb-preamble", "no");
  return { name, port, dir, spawn: () => spawnServer(name, port, dir, flags) };
}

/** GET latency percentiles (ms) of redis-benchmark while `during` runs. */
async function latencyDuring(port: number, during: () => Promise<void>): Promise<string> {
  const bench = run("redis-benchmark", [
    "-p",
    String(port),
    "-t",
    "get",
    "-n",
    "200000",
    "-c",
    "5",
    "-r",
    String(KEYS),
    "--csv",
  ]);
  await new Promise((r) => setTimeout(r, 200));
  await during();
  const csv = (await bench).trim().split("\n").pop() ?? "";
  const cells = csv.split(",").map((c) => c.replaceAll('"', ""));
  return `p50 ${cells[4]} ms, p99 ${cells[6]} ms, max ${cells[7]} ms`;
}

async function waitSaveDone(port: number): Promise<void> {
  for (;;) {
    const info = await cli(port, "INFO", "persistence");
    if (info.includes("rdb_bgsave_in_progress:0")) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const lines: string[] = [`${KEYS} keys, 32-byte values`];
const results: Record<string, Record<string, number>> = { gocache: {}, redis: {} };
for (const name of ["gocache", "redis"] as const) {
  const node = makeNode(name, false);
  let { child } = await start(node);
  await fillKeys(node.port, KEYS);
  const t0 = performance.now();
  await cli(node.port, "SAVE");
  results[name].save = performance.now() - t0;
  const bg = await latencyDuring(node.port, async () => {
    await cli(node.port, "BGSAVE");
    await waitSaveDone(node.port);
  });
  lines.push(`${name.padEnd(8)} GETs during BGSAVE: ${bg}`);
  await stop(node, child);
  ({ child, ms: results[name].rdbLoad } = await start(node));
  await stop(node, child);
  Deno.removeSync(node.dir, { recursive: true });
}
for (const name of ["gocache", "redis"] as const) {
  const node = makeNode(name, true);
  let { child } = await start(node);
  await fillKeys(node.port, KEYS);
  await stop(node, child);
  ({ child, ms: results[name].aofLoad } = await start(node));
  await stop(node, child);
  Deno.removeSync(node.dir, { recursive: true });
}
for (const metric of ["save", "rdbLoad", "aofLoad"]) {
  const g = results.gocache[metric];
  const r = results.redis[metric];
  lines.push(
    `${metric.padEnd(8)} gocache ${g.toFixed(0).padStart(6)} ms  redis ${
      r.toFixed(0).padStart(6)
    } ms  ratio ${(g / r).toFixed(2)}`,
  );
}
Deno.stdout.writeSync(new TextEncoder().encode(lines.join("\n") + "\n"));
