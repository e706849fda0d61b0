/**
 * Scaling a cluster from 3 to 4 masters, timed, in one run: `--keys` keys of `--size` bytes on 3
 * masters, a 4th empty master added, then the slots moved to it by
 * - redis-server: `redis-cli --cluster rebalance --cluster-use-empty-masters` (Redis's path);
 * - gocache, Redis's path: the same redis-cli command against gocache nodes;
 * - gocache, atomic path: `CLUSTER MIGRATESLOTS` from each master of the last quarter of its slots
 *   (the same share rebalance moves), one master after the other.
 * Prints the seconds each took, the fraction of keys moved (ideal 25%), and the ratios: gocache's
 * Redis path / redis-server's (goal <= 1.0) and redis-server's / the atomic path (goal >= 5).
 * Meanwhile one client SETs loaded keys of every slot in a loop (following -MOVED and -ASK as cluster
 * clients do): its p99 latency during the move is compared with the second before (goal <= 3x).
 * The CPU seconds each node spent during the move, and the bus messages all sent, are printed too.
 *
 *   deno task bench:reshard [--keys 100000] [--size 100] [--only redis,gocache,atomic]
 */
import { parseArgs } from "node:util";
import {
  cli,
  clusterPortRange,
  cpuSeconds,
  run,
  say,
  type ServerKind,
  sleep,
  spawnServer,
  until,
  waitForPing,
} from "./_support.ts";
import { keySlotOfBinary } from "../src/cluster/key_slot.ts";
import { SlotMapClient } from "./_cluster_client.ts";
import { connect, RespSimple, type RespValue } from "../src/client/mod.ts";

const { values } = parseArgs({
  options: {
    keys: { type: "string", default: "100000" },
    size: { type: "string", default: "100" },
    only: { type: "string", default: "redis,gocache,atomic" },
  },
});
const KEYS = Number(values.keys);
const SIZE = Number(values.size);

/** Four cluster nodes of one kind, the first three forming the cluster. */
class Nodes {
  readonly dir = Deno.makeTempDirSync({ prefix: "bench-reshard-" });
  readonly ports = ((base) => [base, base + 1, base + 2, base + 3])(clusterPortRange(4));
  readonly children: Deno.ChildProcess[] = [];

  constructor(readonly kind: ServerKind) {}

  async start(): Promise<void> {
    for (const port of this.ports) {
      const sub = `${this.dir}/${port}`;
      Deno.mkdirSync(sub);
      this.children.push(
        spawnServer(this.kind, port, sub, [
          "--cluster-enabled",
          "yes",
          "--cluster-node-timeout",
          "5000",
          "--appendonly",
          "no",
        ]),
      );
    }
    for (const port of this.ports) await waitForPing(port);
    await run("redis-cli", [
      "--cluster",
      "create",
      ...this.ports.slice(0, 3).map((p) => `127.0.0.1:${p}`),
      "--cluster-yes",
    ]);
    await until(() => this.settled(3), "the cluster to form");
  }

  /** Every member says ok and knows `count` nodes. */
  async settled(count: number): Promise<boolean> {
    for (const port of this.ports.slice(0, count)) {
      const info = await cli(port, "CLUSTER", "INFO");
      if (!info.includes("cluster_state:ok") || !info.includes(`cluster_known_nodes:${count}`)) {
        return false;
      }
    }
    return true;
  }

  /** Loads the keys with redis-cli --pipe, each on the master serving its slot. */
  async load(): Promise<void> {
    const owners = await this.slotOwners();
    const byPort = new Map<number, string[]>();
    const value = "v".repeat(SIZE);
    for (let i = 0; i < KEYS; i++) {
      const key = `key:${i}`;
      const port = owners[keySlotOfBinary(key)];
      let list = byPort.get(port);
      if (list === undefined) byPort.set(port, list = []);
      list.push(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${SIZE}\r\n${value}\r\n`);
    }
    for (const [port, commands] of byPort) {
      const file = `${this.dir}/load-${port}.resp`;
      Deno.writeTextFileSync(file, commands.join(""));
      await run("sh", ["-c", `redis-cli -p ${port} --pipe < ${file} > /dev/null`]);
    }
    if ((await this.totalKeys()) !== KEYS) throw new Error("the keys did not all load");
  }

  /** The client port serving each slot, from CLUSTER NODES. */
  async slotOwners(): Promise<number[]> {
    const owners = new Array<number>(16384).fill(0);
    for (const line of (await cli(this.ports[0], "CLUSTER", "NODES")).split("\n")) {
      const fields = line.split(" ");
      if (fields.length < 9 || !fields[2].includes("master")) continue;
      const port = Number(fields[1].split("@")[0].split(":")[1]);
      for (const range of fields.slice(8)) {
        if (range.startsWith("[")) continue;
        const [a, b] = range.split("-").map(Number);
        for (let s = a; s <= (b ?? a); s++) owners[s] = port;
      }
    }
    return owners;
  }

  async totalKeys(): Promise<number> {
    let total = 0;
    for (const port of this.ports) total += Number(await cli(port, "DBSIZE"));
    return total;
  }

  async addFourth(): Promise<void> {
    await run("redis-cli", [
      "--cluster",
      "add-node",
      `127.0.0.1:${this.ports[3]}`,
      `127.0.0.1:${this.ports[0]}`,
    ]);
    await until(() => this.settled(4), "the fourth node to join");
  }

  async stop(): Promise<void> {
    for (const child of this.children) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await child.status;
    }
    Deno.removeSync(this.dir, { recursive: true });
  }
}

/** The state of the newest slot migration a GETSLOTMIGRATIONS reply lists ("" when none). */
function migrationState(jobs: RespValue): string {
  if (!Array.isArray(jobs) || jobs.length === 0) return "";
  const job = jobs[jobs.length - 1];
  if (!Array.isArray(job)) return "";
  const text = (v: RespValue) => v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v);
  for (let i = 0; i + 1 < job.length; i += 2) {
    if (text(job[i]) === "state") return text(job[i + 1]);
  }
  return "";
}

/**
 * Moves the last quarter of each master's slots to the 4th with CLUSTER MIGRATESLOTS, one
 * master after the other, each until its job reports success (slots handed over and the
 * source's copies deleted). The jobs are polled on one connection per master every 2 ms: a
 * redis-cli process per poll would take a core's share from the nodes being measured.
 */
async function atomicRebalance(nodes: Nodes): Promise<void> {
  const owners = await nodes.slotOwners();
  const target = await cli(nodes.ports[3], "CLUSTER", "MYID");
  for (const port of nodes.ports.slice(0, 3)) {
    const slots = owners.flatMap((p, slot) => (p === port ? [slot] : []));
    const moving = slots.slice(slots.length - Math.round(slots.length / 4));
    const ranges: string[] = [];
    for (let i = 0; i < moving.length;) {
      let j = i;
      while (j + 1 < moving.length && moving[j + 1] === moving[j] + 1) j++;
      ranges.push(String(moving[i]), String(moving[j]));
      i = j + 1;
    }
    const client = await connect({ host: "127.0.0.1", port });
    try {
      const reply = await client.send(
        "CLUSTER",
        "MIGRATESLOTS",
        "SLOTSRANGE",
        ...ranges,
        "NODE",
        target,
      );
      if (!(reply instanceof RespSimple) || reply.value !== "OK") {
        throw new Error(`MIGRATESLOTS on ${port}: ${JSON.stringify(reply)}`);
      }
      await until(
        async () => {
          const state = migrationState(await client.send("CLUSTER", "GETSLOTMIGRATIONS"));
          if (state === "failed" || state === "cancelled") {
            throw new Error(`the migration from ${port} ${state}`);
          }
          return state === "success";
        },
        `the migration from ${port}`,
        { limitMs: 120_000, pollMs: 2 },
      );
    } finally {
      client.close();
    }
  }
  const last = await nodes.slotOwners();
  if (owners.some((port, slot) => last[slot] !== port && last[slot] !== nodes.ports[3])) {
    throw new Error("a slot moved elsewhere than to the fourth master");
  }
}

/**
 * A client writing in a loop, recording each SET's latency (ms) by phase, and during the move
 * the port that answered it (the last one, after any redirect).
 */
class LatencyProbe {
  readonly before: number[] = [];
  readonly during: number[] = [];
  /** The port of each SET of {@link during}. */
  readonly duringPorts: number[] = [];
  #phase: "before" | "during" | "stop" = "before";
  #phaseStarted = performance.now();
  /** Seconds each phase lasted. */
  readonly seconds = { before: 0, during: 0 };
  #done: Promise<void>;

  constructor(ports: number[]) {
    const client = new SlotMapClient({ seeds: ports, timeoutMs: 5000 });
    const value = "v".repeat(SIZE);
    this.#done = (async () => {
      await client.refresh();
      this.#phaseStarted = performance.now();
      for (let i = 0; this.#phase !== "stop"; i++) {
        const started = performance.now();
        // Existing keys with their own value, so the key count stays what was loaded.
        const { port } = await client.set(`key:${(i * 7919) % KEYS}`, value);
        const ms = performance.now() - started;
        if (this.#phase === "before") this.before.push(ms);
        else if (this.#phase === "during") {
          this.during.push(ms);
          this.duringPorts.push(port);
        }
      }
      client.close();
    })();
  }

  /** Starts recording the move's phase. */
  moving(): void {
    this.seconds.before = (performance.now() - this.#phaseStarted) / 1000;
    this.#phaseStarted = performance.now();
    this.#phase = "during";
  }

  /** Stops the loop. */
  async stop(): Promise<void> {
    this.seconds.during = (performance.now() - this.#phaseStarted) / 1000;
    this.#phase = "stop";
    await this.#done;
  }

  /**
   * SETs a second in each phase, and per node during the move its SETs' p50 and p90: whether a
   * slow p99 comes from the nodes moving keys or from every node.
   */
  describe(ports: readonly number[]): string {
    const rate = (n: number, s: number) => `${Math.round(n / Math.max(s, 1e-9))}/s`;
    const perNode = ports.map((port) => {
      const xs = this.during.filter((_, i) => this.duringPorts[i] === port);
      return `${port} p50 ${quantile(xs, 0.5).toFixed(2)} p90 ${quantile(xs, 0.9).toFixed(2)} ms`;
    });
    return `SETs ${rate(this.before.length, this.seconds.before)} before, ` +
      `${rate(this.during.length, this.seconds.during)} during; during, by node: ` +
      perNode.join(", ");
  }
}

/** The `q` quantile of `xs` (NaN when empty). */
function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? NaN;
}

function p99(xs: number[]): number {
  return quantile(xs, 0.99);
}

/** The cluster bus messages the nodes on `ports` sent so far (CLUSTER INFO), summed. */
async function busMessagesSent(ports: readonly number[]): Promise<number> {
  let total = 0;
  for (const port of ports) {
    const info = await cli(port, "CLUSTER", "INFO");
    total += Number(/cluster_stats_messages_sent:(\d+)/.exec(info)?.[1] ?? 0);
  }
  return total;
}

async function measure(kind: "redis" | "gocache" | "atomic"): Promise<[number, number]> {
  const nodes = new Nodes(kind === "redis" ? "redis" : "gocache");
  try {
    await nodes.start();
    await nodes.load();
    await nodes.addFourth();
    const probe = new LatencyProbe(nodes.ports);
    let seconds: number;
    try {
      await sleep(1000);
      probe.moving();
      const cpuBefore = nodes.children.map((child) => cpuSeconds(child.pid));
      const busBefore = await busMessagesSent(nodes.ports);
      const started = performance.now();
      if (kind === "atomic") await atomicRebalance(nodes);
      else {
        await run("redis-cli", [
          "--cluster",
          "rebalance",
          `127.0.0.1:${nodes.ports[0]}`,
          "--cluster-use-empty-masters",
        ]);
      }
      seconds = (performance.now() - started) / 1000;
      const cpu = nodes.children.map((child, i) => cpuSeconds(child.pid) - cpuBefore[i]);
      say(
        `${kind.padEnd(8)} CPU seconds during the move, by node: ` +
          cpu.map((c, i) => `${nodes.ports[i]} ${c.toFixed(2)}`).join(", ") +
          ` (the 4th is the new master)`,
      );
      const bus = (await busMessagesSent(nodes.ports)) - busBefore;
      say(`${kind.padEnd(8)} cluster bus messages sent during the move, all nodes: ${bus}`);
    } finally {
      await probe.stop();
    }
    const [quiet, busy] = [p99(probe.before), p99(probe.during)];
    say(
      `${kind.padEnd(8)} client SET p99 ${quiet.toFixed(2)} ms before, ${busy.toFixed(2)} ms ` +
        `during the move: x${(busy / quiet).toFixed(1)} (goal <= 3x; ${probe.during.length} SETs)`,
    );
    say(`${kind.padEnd(8)} ${probe.describe(nodes.ports)}`);
    await until(async () => (await nodes.totalKeys()) === KEYS, "every key in one place");
    const moved = Number(await cli(nodes.ports[3], "DBSIZE")) / KEYS;
    return [seconds, moved];
  } finally {
    await nodes.stop();
  }
}

say(
  `# 3 -> 4 masters with ${KEYS} keys of ${SIZE} bytes: redis-cli --cluster rebalance ` +
    `(redis-server, gocache) and CLUSTER MIGRATESLOTS (gocache)`,
);
const results = new Map<string, [number, number]>();
for (const kind of values.only.split(",") as ("redis" | "gocache" | "atomic")[]) {
  const result = await measure(kind);
  results.set(kind, result);
  say(
    `${kind.padEnd(8)} ${result[0].toFixed(2)} s, ${(result[1] * 100).toFixed(1)}% of the keys ` +
      `moved (ideal 25%)`,
  );
}
const redis = results.get("redis")?.[0];
const gocache = results.get("gocache")?.[0];
const atomic = results.get("atomic")?.[0];
if (redis !== undefined && gocache !== undefined) {
  say(`gocache/redis-server, Redis's path: ${(gocache / redis).toFixed(2)} (goal <= 1.0)`);
}
if (redis !== undefined && atomic !== undefined) {
  say(`redis-server rebalance / gocache atomic: ${(redis / atomic).toFixed(1)}x (goal >= 5x)`);
}
