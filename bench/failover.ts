/**
 * Failover time as a client sees it, gocache next to redis-server in one run. Each kind forms a
 * cluster of its own (3 masters x 1 replica, `cluster-node-timeout` 1000 ms, `redis-cli
 * --cluster create`); then, in each run, a client writes to the keys of one shard every 10 ms,
 * the shard's master is killed with SIGKILL, and the client keeps writing (following `-MOVED`,
 * re-reading `CLUSTER SLOTS` from another node when a node cannot be reached) until a SET sent
 * after the kill succeeds: the seconds from the kill to that reply are the run's figure. The
 * killed node is then restarted on its data dir and nodes.conf, rejoins as a replica of the new
 * master, and the next run kills the shard's current master. Prints every run, then the median,
 * minimum and maximum per kind, the ratio gocache/redis of the medians, and the goal: a median of
 * at most node timeout + 1 s, and below redis-server's.
 *
 *   deno task bench:failover [--runs 5] [--node-timeout 1000] [--only gocache,redis]
 */
import { parseArgs } from "node:util";
import {
  cli,
  clusterPortRange,
  median,
  run,
  say,
  type ServerKind,
  sleep,
  spawnServer,
  until,
  waitForPing,
} from "./_support.ts";
import { SlotMapClient } from "./_cluster_client.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    "node-timeout": { type: "string", default: "1000" },
    only: { type: "string", default: "gocache,redis" },
  },
});
const RUNS = Number(values.runs);
const NODE_TIMEOUT = Number(values["node-timeout"]);
/** Bound on one failover as the client sees it; a run that takes longer fails the benchmark. */
const FAILOVER_LIMIT_MS = 30_000;
/** Bound on a killed node's rejoining and the cluster's settling after it. */
const SETTLE_LIMIT_MS = 60_000;
const WRITE_EVERY_MS = 10;
/** How long the client writes before the kill. */
const WRITE_BEFORE_KILL_MS = 300;

/** A field of an INFO or CLUSTER INFO text. */
function field(text: string, name: string): string | undefined {
  return text.split(/\r?\n/).find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1);
}

/** Six nodes of one kind, their processes by port, and their data directories. */
class Nodes {
  readonly children = new Map<number, Deno.ChildProcess>();
  readonly ports: number[];
  readonly dir: string;

  constructor(readonly kind: ServerKind) {
    this.dir = Deno.makeTempDirSync({ prefix: `bench-failover-${kind}-` });
    const base = clusterPortRange(6);
    this.ports = [0, 1, 2, 3, 4, 5].map((i) => base + i);
  }

  /** Starts (or restarts, on its data dir and nodes.conf) the node on `port`. */
  async start(port: number): Promise<void> {
    const sub = `${this.dir}/${port}`;
    Deno.mkdirSync(sub, { recursive: true });
    const flags = ["--cluster-enabled", "yes", "--cluster-node-timeout", String(NODE_TIMEOUT)];
    this.children.set(port, spawnServer(this.kind, port, sub, flags));
    await waitForPing(port);
  }

  /** Kills the node on `port` with SIGKILL and waits for it to be gone. */
  async kill(port: number): Promise<void> {
    const child = this.children.get(port);
    if (child === undefined) return;
    this.children.delete(port);
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
  }

  /** Kills every node and removes the data directories. */
  async stop(): Promise<void> {
    for (const port of [...this.children.keys()]) await this.kill(port);
    Deno.removeSync(this.dir, { recursive: true });
  }
}

/** Every node says cluster_state:ok and every node names the same master for every slot. */
async function settled(ports: readonly number[]): Promise<boolean> {
  const views = new Set<string>();
  for (const port of ports) {
    if (field(await cli(port, "CLUSTER", "INFO"), "cluster_state") !== "ok") return false;
    const masters = (await cli(port, "CLUSTER", "NODES")).split("\n")
      .map((l) => l.split(" "))
      .filter((f) => f[2]?.includes("master") && !f[2].includes("fail") && f.length > 8)
      .map((f) => `${f[0]} ${f.slice(8).join(" ")}`)
      .sort();
    views.add(masters.join("\n"));
  }
  return views.size === 1;
}

/** The client port of the node whose CLUSTER NODES line has `id`, from `port`'s view. */
async function portOfId(port: number, id: string): Promise<number> {
  const line = (await cli(port, "CLUSTER", "NODES")).split("\n").find((l) => l.startsWith(id));
  const m = line === undefined ? null : /:(\d+)@/.exec(line);
  if (m === null) throw new Error(`node ${id} unknown to ${port}`);
  return Number(m[1]);
}

/** The master of slot `slot` and its replica, as `port` sees them. */
async function shardOf(port: number, slot: number): Promise<{ master: number; replica: number }> {
  const lines = (await cli(port, "CLUSTER", "NODES")).split("\n").map((l) => l.split(" "));
  const master = lines.find((f) =>
    f[2]?.includes("master") && f.slice(8).some((r) => {
      const [a, b] = r.split("-").map(Number);
      return slot >= a && slot <= (b ?? a);
    })
  );
  if (master === undefined) throw new Error(`no master of slot ${slot} seen by ${port}`);
  const replica = lines.find((f) => f[3] === master[0]);
  if (replica === undefined) throw new Error(`master of slot ${slot} has no replica`);
  return {
    master: await portOfId(port, master[0]),
    replica: await portOfId(port, replica[0]),
  };
}

/** Keys whose slots lie in one shard: the shard serving slot `slot` (from CLUSTER SLOTS). */
function shardKeys(client: SlotMapClient, owner: number): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < 50; i++) {
    if (client.ownerOf(`fo:${i}`) === owner) keys.push(`fo:${i}`);
  }
  return keys;
}

/** One run: returns the seconds from the kill to the first SET (sent after it) that succeeded. */
async function oneRun(nodes: Nodes, slot: number): Promise<{ seconds: number; failed: number }> {
  await until(() => settled(nodes.ports), "the cluster to settle", { limitMs: SETTLE_LIMIT_MS });
  const { master, replica } = await shardOf(nodes.ports[0], slot);
  await until(
    async () => field(await cli(replica, "INFO", "replication"), "master_link_status") === "up",
    "the replica's link to be up",
    { limitMs: SETTLE_LIMIT_MS },
  );
  const client = new SlotMapClient({ seeds: nodes.ports });
  try {
    if (!(await client.refresh())) throw new Error("no node answered CLUSTER SLOTS");
    const keys = shardKeys(client, master);
    let killedAt = Infinity;
    const killer = sleep(WRITE_BEFORE_KILL_MS).then(() => {
      killedAt = performance.now();
      return nodes.kill(master);
    });
    let failed = 0;
    const deadline = Date.now() + WRITE_BEFORE_KILL_MS + FAILOVER_LIMIT_MS;
    for (let i = 0;; i++) {
      if (Date.now() > deadline) throw new Error("no write succeeded within the limit");
      const sentAt = performance.now();
      const { reply, port } = await client.set(keys[i % keys.length], `v${i}`);
      if (reply === "OK" && sentAt >= killedAt && port !== master) {
        await killer;
        return { seconds: (performance.now() - killedAt) / 1000, failed };
      }
      if (reply !== "OK") failed++;
      const left = WRITE_EVERY_MS - (performance.now() - sentAt);
      if (left > 0) await sleep(left);
    }
  } finally {
    client.close();
  }
}

/** Brings the killed node back and waits until it follows the shard's new master. */
async function rejoin(nodes: Nodes, port: number): Promise<void> {
  await nodes.start(port);
  await until(
    async () => {
      const role = await cli(port, "ROLE");
      const info = await cli(port, "INFO", "replication");
      return role.startsWith("slave") && field(info, "master_link_status") === "up";
    },
    `the node on ${port} to rejoin as a replica`,
    { limitMs: SETTLE_LIMIT_MS },
  );
}

/** Forms the cluster of one kind and measures `RUNS` failovers on it. */
async function measure(kind: ServerKind): Promise<number[]> {
  const nodes = new Nodes(kind);
  live.add(nodes);
  try {
    await Promise.all(nodes.ports.map((p) => nodes.start(p)));
    await run("redis-cli", [
      "--cluster",
      "create",
      ...nodes.ports.map((p) => `127.0.0.1:${p}`),
      "--cluster-replicas",
      "1",
      "--cluster-yes",
    ]);
    const slot = 0;
    const seconds: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const { master } = await shardOf(nodes.ports[1], slot).catch(async () => {
        await until(() => settled(nodes.ports), "the cluster to settle", {
          limitMs: SETTLE_LIMIT_MS,
        });
        return await shardOf(nodes.ports[1], slot);
      });
      const result = await oneRun(nodes, slot);
      seconds.push(result.seconds);
      const rejoinStart = performance.now();
      await rejoin(nodes, master);
      say(
        `${kind.padEnd(8)} run ${String(i + 1).padStart(2)}  killed ${master}  ` +
          `write ok after ${result.seconds.toFixed(3)} s  (${result.failed} failed writes; ` +
          `rejoined as replica in ${((performance.now() - rejoinStart) / 1000).toFixed(1)} s)`,
      );
    }
    return seconds;
  } finally {
    live.delete(nodes);
    await nodes.stop();
  }
}

/** Clusters still running, killed on Ctrl-C as on errors. */
const live = new Set<Nodes>();
const onInterrupt = () => {
  void Promise.all([...live].map((n) => n.stop())).finally(() => Deno.exit(130));
};
Deno.addSignalListener("SIGINT", onInterrupt);

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
}

const kinds = values.only.split(",") as ServerKind[];
say(
  `# failover seen by a client: 3 masters x 1 replica, cluster-node-timeout ${NODE_TIMEOUT} ms, ` +
    `SIGKILL of a master while SET goes to its slots every ${WRITE_EVERY_MS} ms; ${RUNS} runs`,
);
const results = new Map<ServerKind, number[]>();
try {
  for (const kind of kinds) results.set(kind, await measure(kind));
} finally {
  Deno.removeSignalListener("SIGINT", onInterrupt);
}

const widths = [8, 8, 8, 8, 40];
say("");
say(row(["server", "median s", "min s", "max s", "runs (s)"], widths));
for (const [kind, xs] of results) {
  say(row([
    kind,
    median(xs).toFixed(3),
    Math.min(...xs).toFixed(3),
    Math.max(...xs).toFixed(3),
    xs.map((x) => x.toFixed(2)).join(" "),
  ], widths));
}
const g = results.get("gocache");
const r = results.get("redis");
if (g !== undefined && r !== undefined) {
  const goal = (NODE_TIMEOUT + 1000) / 1000;
  const gm = median(g);
  const rm = median(r);
  say(`ratio gocache/redis (medians): ${(gm / rm).toFixed(2)}`);
  say(
    `goal: median <= node timeout + 1 s = ${goal.toFixed(1)} s: ${gm <= goal ? "met" : "missed"}` +
      `; below redis-server's ${rm.toFixed(3)} s: ${gm < rm ? "met" : "missed"}`,
  );
}
