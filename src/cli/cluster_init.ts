/**
 * `gocache cluster-init`: forms a Redis Cluster from empty cluster-mode nodes, as `redis-cli
 * --cluster create` does (checks, slot assignment, distinct config epochs, MEET, REPLICATE, then
 * waits for `cluster_state:ok` everywhere), from a node list, from a topology YAML file, or from
 * nodes it starts itself on this machine (`--local`, a demo in one command). Slots are spread
 * by gocache's consistent-hash rule (src/cluster/slot_plan.ts), keyed by shard names, so that
 * adding or removing a shard later moves only about 1/N of them.
 */
import { parseArgs } from "node:util";
import { connect } from "../client/mod.ts";
import type { Client } from "../client/client.ts";
import { RespError, type RespValue } from "../resp/reply_decoder.ts";
import { planSlots, rangesOf } from "../cluster/slot_plan.ts";
import { printErr, printOut } from "./output.ts";
import type { Subcommand } from "./subcommand.ts";
import { parseAddress, readTopology, type Shard, shardsFromNodes } from "./cluster_topology.ts";
import { describeParseError, EXIT_FAILURE, UsageError } from "./usage.ts";
import { progress, waitUntil } from "./cluster_view.ts";
import { v8FlagsArg } from "./v8_flags.ts";

const DEFAULT_TIMEOUT_S = 60;

function usage(): string {
  return [
    "Usage: gocache cluster-init --nodes HOST:PORT,... [--replicas R] [options]",
    "       gocache cluster-init --topology FILE [options]",
    "       gocache cluster-init --local N [--replicas R] [--base-port P] [--dir D] [options]",
    "",
    "Forms a cluster of empty nodes started with cluster-enabled yes (gocache or redis-server):",
    "assigns the 16384 slots to the masters, gives each master its own config epoch, joins the",
    "nodes with CLUSTER MEET, makes the replicas follow their masters, and waits until every",
    "node reports cluster_state:ok.",
    "",
    "Modes:",
    "  --nodes LIST        Comma-separated node addresses; the first N/(R+1) hosts-interleaved",
    "                      become masters (at least 3), the rest replicas",
    "  --replicas R        Replicas per master (default 0)",
    "  --topology FILE     YAML: shards, each with a name, a leader and followers with priorities",
    "                      (see config/topology/cluster.yaml)",
    "  --local N           Start N masters (and N x R replicas) on this machine from --base-port",
    "                      (default 7000; the bus uses port + 10000), with data and logs under",
    "                      --dir (default ./cluster), then form the cluster",
    "",
    "Options:",
    "  --yes               Do not ask before changing the nodes",
    "  -a, --password PW   AUTH with this password on every node",
    "  --timeout SECONDS   Give up waiting for the cluster after this long (default 60)",
    "  -h, --help          Show this help",
    "",
    "Exit codes: 0 cluster formed, 1 failure (unreachable or non-empty node, timeout), 2 usage.",
  ].join("\n");
}

/** A node to include, with its role in the plan. */
interface PlannedNode {
  host: string;
  port: number;
  client: Client;
  id: string;
  cport: number;
  /** Index of the shard it belongs to. */
  shard: number;
  master: boolean;
  /** replica-priority to set (followers from a topology file). */
  priority?: number;
}

function asText(value: RespValue): string {
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  if (value instanceof RespError) throw new Error(value.message);
  if (value !== null && typeof value === "object" && "text" in value) {
    return String((value as { text: unknown }).text);
  }
  return String(value);
}

async function call(client: Client, what: string, ...args: (string | number)[]): Promise<string> {
  try {
    return asText(await client.send(...args));
  } catch (e) {
    throw new Error(`${what}: ${args.join(" ")}: ${e instanceof Error ? e.message : e}`);
  }
}

function field(info: string, name: string): string | undefined {
  const line = info.split(/\r?\n/).find((l) => l.startsWith(`${name}:`));
  return line?.slice(name.length + 1);
}

/** The IP a host name stands for (CLUSTER MEET needs an address). */
async function addressOf(host: string): Promise<string> {
  if (/^[\d.]+$/.test(host) || host.includes(":")) return host;
  if (host === "localhost") return "127.0.0.1";
  const found = await Deno.resolveDns(host, "A");
  if (found.length === 0) throw new Error(`cannot resolve ${host}`);
  return found[0];
}

/** Connects to and checks every node: reachable, cluster mode, empty, alone. */
async function openNodes(shards: Shard[], password: string | undefined): Promise<PlannedNode[]> {
  const nodes: PlannedNode[] = [];
  try {
    for (let s = 0; s < shards.length; s++) {
      const members = [
        { address: shards[s].leader, priority: undefined as number | undefined },
        ...shards[s].followers,
      ];
      for (let m = 0; m < members.length; m++) {
        const { host, port } = parseAddress(members[m].address);
        let client: Client;
        try {
          client = await connect({ host, port, password, timeoutMs: 10_000 });
        } catch (e) {
          throw new Error(`cannot reach ${host}:${port}: ${e instanceof Error ? e.message : e}`);
        }
        const where = `${host}:${port}`;
        const node: PlannedNode = {
          host,
          port,
          client,
          id: "",
          cport: 0,
          shard: s,
          master: m === 0,
          priority: members[m].priority,
        };
        nodes.push(node);
        if (field(await call(client, where, "INFO", "cluster"), "cluster_enabled") !== "1") {
          throw new Error(`${where} is not in cluster mode (start it with cluster-enabled yes)`);
        }
        const info = await call(client, where, "CLUSTER", "INFO");
        const keys = Number(await call(client, where, "DBSIZE"));
        if (
          field(info, "cluster_known_nodes") !== "1" ||
          field(info, "cluster_slots_assigned") !== "0" || keys !== 0
        ) {
          throw new Error(`${where} is not empty (it knows other nodes, has slots or has keys)`);
        }
        node.id = await call(client, where, "CLUSTER", "MYID");
        const myself = (await call(client, where, "CLUSTER", "NODES")).split("\n").find((l) =>
          l.includes("myself")
        );
        const cport = /@(\d+)/.exec(myself ?? "");
        node.cport = cport !== null ? Number(cport[1]) : port + 10000;
      }
    }
  } catch (e) {
    for (const n of nodes) await n.client.close().catch(() => {});
    throw e;
  }
  return nodes;
}

function describePlan(shards: Shard[], plan: Int32Array): string {
  const lines: string[] = [];
  shards.forEach((shard, i) => {
    const ranges = rangesOf(plan, i);
    const count = ranges.reduce((n, [a, b]) => n + b - a + 1, 0);
    lines.push(`${shard.name}: leader ${shard.leader}, ${count} slots in ${ranges.length} ranges`);
    for (const f of shard.followers) {
      lines.push(
        `  follower ${f.address}${f.priority !== undefined ? ` (priority ${f.priority})` : ""}`,
      );
    }
  });
  return lines.join("\n");
}

async function confirm(): Promise<boolean> {
  printErr("Type 'yes' to form this cluster:");
  const buf = new Uint8Array(64);
  const n = await Deno.stdin.read(buf);
  return n !== null && new TextDecoder().decode(buf.subarray(0, n)).trim() === "yes";
}

/** Forms the cluster described by `shards`; resolves when every node reports ok. */
export async function formCluster(
  shards: Shard[],
  options: { password?: string; yes: boolean; timeoutMs: number },
): Promise<void> {
  const plan = planSlots(shards.map((s) => s.name));
  printOut(describePlan(shards, plan));
  if (!options.yes && !(await confirm())) throw new Error("not confirmed; nothing changed");
  const nodes = await openNodes(shards, options.password);
  const deadline = Date.now() + options.timeoutMs;
  try {
    progress(`Checked ${nodes.length} empty cluster nodes`);
    const masters = nodes.filter((n) => n.master);
    for (const [epoch, master] of masters.entries()) {
      const where = `${master.host}:${master.port}`;
      const args: (string | number)[] = ["CLUSTER", "ADDSLOTSRANGE"];
      for (const [a, b] of rangesOf(plan, master.shard)) args.push(a, b);
      await call(master.client, where, ...args);
      try {
        await call(master.client, where, "CLUSTER", "SET-CONFIG-EPOCH", epoch + 1);
      } catch (e) {
        // As redis-cli: a node that already has an epoch keeps it; collisions resolve on the bus.
        if (!String(e).includes("already non-zero")) throw e;
        progress(`${where} keeps its config epoch`);
      }
    }
    progress("Slots assigned, config epochs set");
    const first = nodes[0];
    for (const node of nodes.slice(1)) {
      const ip = await addressOf(node.host);
      await call(
        first.client,
        `${first.host}:${first.port}`,
        "CLUSTER",
        "MEET",
        ip,
        node.port,
        node.cport,
      );
    }
    await waitUntil("Nodes that know every other node", deadline, async () => {
      let done = 0;
      for (const n of nodes) {
        const text = await call(n.client, `${n.host}:${n.port}`, "CLUSTER", "NODES");
        const lines = text.split("\n").filter((l) => l.trim() !== "");
        if (lines.length === nodes.length && !text.includes("handshake")) done++;
      }
      return [done, nodes.length];
    });
    for (const node of nodes.filter((n) => !n.master)) {
      const master = masters.find((m) => m.shard === node.shard) as PlannedNode;
      const where = `${node.host}:${node.port}`;
      if (node.priority !== undefined) {
        await call(node.client, where, "CONFIG", "SET", "replica-priority", node.priority);
      }
      await call(node.client, where, "CLUSTER", "REPLICATE", master.id);
    }
    await waitUntil("Nodes with cluster_state:ok and every slot in place", deadline, async () => {
      let done = 0;
      for (const n of nodes) {
        const where = `${n.host}:${n.port}`;
        const info = await call(n.client, where, "CLUSTER", "INFO");
        const text = await call(n.client, where, "CLUSTER", "NODES");
        const replicasSeen = text.split("\n").filter((l) =>
          (l.split(" ")[2] ?? "").split(",").includes("slave")
        ).length;
        const wantedReplicas = nodes.length - masters.length;
        if (
          field(info, "cluster_state") === "ok" &&
          field(info, "cluster_slots_assigned") === "16384" && replicasSeen >= wantedReplicas
        ) done++;
      }
      return [done, nodes.length];
    });
    progress(
      `Cluster formed: ${masters.length} masters, ${nodes.length - masters.length} replicas`,
    );
  } finally {
    for (const n of nodes) await n.client.close().catch(() => {});
  }
}

/** Starts local nodes for `--local` and returns their addresses by shard. */
async function startLocal(
  masters: number,
  replicas: number,
  basePort: number,
  dir: string,
): Promise<Shard[]> {
  const total = masters * (replicas + 1);
  if (basePort + total - 1 + 10000 > 65535) {
    throw new UsageError("gocache cluster-init: --base-port too high: the bus needs port + 10000");
  }
  await Deno.mkdir(dir, { recursive: true });
  const absolute = await Deno.realPath(dir);
  const exec = Deno.execPath();
  const viaDeno = /(^|\/)deno[^/]*$/.test(exec);
  const main = new URL("../../main.ts", import.meta.url).pathname;
  const pids: number[] = [];
  const addresses: string[] = [];
  for (let i = 0; i < total; i++) {
    const port = basePort + i;
    const nodeDir = `${absolute}/node-${port}`;
    await Deno.mkdir(nodeDir, { recursive: true });
    const yaml = [
      `port: ${port}`,
      `dir: ${nodeDir}`,
      "cluster-enabled: yes",
      "cluster-node-timeout: 5000",
      `logfile: ${nodeDir}/gocache.log`,
      "",
    ].join("\n");
    await Deno.writeTextFile(`${nodeDir}/node.yaml`, yaml);
    const args = viaDeno
      ? [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-sys",
        v8FlagsArg(),
        main,
      ]
      : [];
    // Detached (a session of its own): the nodes outlive this command and take no signal meant
    // for the terminal it ran in (a stopped node of an orphaned process group would get SIGHUP).
    const child = new Deno.Command(exec, {
      args: [...args, "serve", "--config", `${nodeDir}/node.yaml`],
      detached: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    child.unref();
    pids.push(child.pid);
    addresses.push(`127.0.0.1:${port}`);
  }
  await Deno.writeTextFile(`${absolute}/pids`, pids.join("\n") + "\n");
  const deadline = Date.now() + 30_000;
  await waitUntil("Local nodes accepting connections", deadline, async () => {
    let up = 0;
    for (const a of addresses) {
      try {
        const client = await connect({ ...parseAddress(a), timeoutMs: 1000 });
        await client.close();
        up++;
      } catch {
        // Not yet.
      }
    }
    return [up, addresses.length];
  });
  return shardsFromNodes(addresses, replicas);
}

async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        nodes: { type: "string" },
        replicas: { type: "string" },
        topology: { type: "string" },
        local: { type: "string" },
        "base-port": { type: "string" },
        dir: { type: "string" },
        yes: { type: "boolean" },
        password: { type: "string", short: "a" },
        timeout: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new UsageError(`gocache cluster-init: ${describeParseError(e)}`);
  }
  const v = parsed.values;
  if (v.help) {
    printOut(usage());
    return 0;
  }
  const modes = [v.nodes, v.topology, v.local].filter((m) => m !== undefined).length;
  if (modes !== 1) {
    throw new UsageError("gocache cluster-init: give exactly one of --nodes, --topology, --local");
  }
  const integer = (text: string | undefined, name: string, fallback: number, min = 0) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) {
      throw new UsageError(`gocache cluster-init: --${name} must be an integer >= ${min}`);
    }
    return n;
  };
  const replicas = integer(v.replicas, "replicas", 0);
  const timeoutMs = integer(v.timeout, "timeout", DEFAULT_TIMEOUT_S, 1) * 1000;
  const options = { password: v.password, yes: v.yes === true, timeoutMs };
  try {
    if (v.nodes !== undefined) {
      const addresses = v.nodes.split(",").map((a) => a.trim()).filter((a) => a !== "");
      for (const a of addresses) parseAddress(a);
      await formCluster(shardsFromNodes(addresses, replicas), options);
    } else if (v.topology !== undefined) {
      await formCluster(await readTopology(v.topology), options);
    } else {
      const masters = integer(v.local, "local", 3, 3);
      const basePort = integer(v["base-port"], "base-port", 7000, 1);
      const dir = v.dir ?? "./cluster";
      const shards = await startLocal(masters, replicas, basePort, dir);
      await formCluster(shards, { ...options, yes: true });
      printOut(
        [
          "",
          `Connect:  redis-cli -c -p ${basePort}`,
          `Stop:     kill $(cat ${dir}/pids)`,
          `Logs:     ${dir}/node-<port>/gocache.log`,
        ].join("\n"),
      );
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    printErr(`gocache cluster-init: ${e instanceof Error ? e.message : e}`);
    return EXIT_FAILURE;
  }
  return 0;
}

/** The `cluster-init` subcommand. */
export const clusterInitCommand: Subcommand = {
  name: "cluster-init",
  summary: "Form a cluster from empty cluster-mode nodes (or start a local one)",
  usage,
  run,
};
