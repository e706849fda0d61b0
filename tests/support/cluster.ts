/**
 * Cluster nodes for tests: gocache and redis-server started with `cluster-enabled yes` on ports
 * whose bus port (port + 10000) is free too, both below Linux's ephemeral range (32768+) so an
 * outgoing connection of another test cannot hold the bus port; plus waiting for a cluster to
 * agree. Every node is stopped by its owner (`await using`).
 */
import { type ServerProcess, startServer } from "./server.ts";
import { plain, RespConn } from "./resp_conn.ts";
import { type RedisProcess, startRedis } from "./redis_server.ts";
export { runTool } from "./tools.ts";
import { waitFor } from "./wait_for.ts";

const handedOut = new Set<number>();

function bindable(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** A client port in 12000..21999 that is free, with its bus port free too. */
export function freeClusterPort(): number {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const port = 12000 + Math.floor(Math.random() * 10000);
    if (handedOut.has(port)) continue;
    if (bindable(port) && bindable(port + 10000)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error("No free pair of ports for a cluster node");
}

/** A first port of `count` consecutive client ports whose bus ports are free too. */
export function freeClusterPortRange(count: number): number {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const base = 12000 + Math.floor(Math.random() * (10000 - count));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) {
      ok = !handedOut.has(p) && bindable(p) && bindable(p + 10000);
    }
    if (!ok) continue;
    for (let p = base; p < base + count; p++) handedOut.add(p);
    return base;
  }
  throw new Error(`No ${count} free consecutive pairs of ports for cluster nodes`);
}

/** Starts a gocache cluster node (node timeout 2 s unless `args` says otherwise). */
export async function startClusterNode(
  options: { args?: string[]; dir?: string; port?: number } = {},
): Promise<ServerProcess> {
  for (let attempt = 0;; attempt++) {
    const port = options.port ?? freeClusterPort();
    try {
      return await startServer({
        dir: options.dir,
        args: [
          "--port",
          String(port),
          "--cluster-enabled",
          "yes",
          "--cluster-node-timeout",
          "2000",
          "--save",
          "",
          ...(options.args ?? []),
        ],
      });
    } catch (e) {
      if (options.port !== undefined || attempt >= 2 || !String(e).includes("in use")) throw e;
    }
  }
}

/** A redis-server cluster node (the reference peer's process handle). */
export type RedisClusterNode = RedisProcess;

/**
 * Starts redis-server with `cluster-enabled yes` (node timeout 2 s), on `port` (a restart) or on
 * a free cluster port.
 */
export function startRedisClusterNode(
  extra: string[] = [],
  port: number = freeClusterPort(),
): Promise<RedisClusterNode> {
  return startRedis(
    ["--cluster-enabled", "yes", "--cluster-node-timeout", "2000", ...extra],
    { port },
  );
}

/** A field of a `CLUSTER INFO` or `INFO` text. */
export function infoField(text: string, name: string): string | undefined {
  const line = text.split(/\r?\n/).find((l) => l.startsWith(`${name}:`));
  return line?.slice(name.length + 1);
}

/**
 * Sends one command on a fresh connection and returns the reply as text (see `plain`: an error
 * is `-TEXT`, a number its digits).
 */
export async function ask(port: number, ...args: (string | number)[]): Promise<string> {
  await using conn = await RespConn.connect(port);
  const reply = plain(await conn.call(...args.map(String)));
  return typeof reply === "string" ? reply : String(reply);
}

/**
 * Waits until every node says `cluster_state:ok`, knows `nodes` nodes and all of them agree on
 * who serves every slot (the same slot lines in CLUSTER NODES).
 */
export async function waitForClusterOk(
  ports: readonly number[],
  nodes = ports.length,
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(async () => {
    const views: string[] = [];
    for (const port of ports) {
      const info = await ask(port, "CLUSTER", "INFO");
      if (infoField(info, "cluster_state") !== "ok") return false;
      if (infoField(info, "cluster_known_nodes") !== String(nodes)) return false;
      const lines = (await ask(port, "CLUSTER", "NODES")).split("\n").filter((l) => l !== "");
      views.push(
        lines.map((l) => {
          const f = l.split(" ");
          return [f[0], f[2].replace("myself,", ""), f[3], ...f.slice(8)].join(" ");
        }).sort().join("\n"),
      );
    }
    return views.every((v) => v === views[0]);
  }, { timeoutMs, what: `cluster_state:ok and one view on ${ports.join(", ")}` });
}

/** One line of `CLUSTER NODES`, parsed. */
export interface NodeLine {
  /** The node's id. */
  id: string;
  /** Its client port. */
  port: number;
  /** Its flags (`myself`, `master`, `slave`, `fail`, `fail?`, ...). */
  flags: string[];
  /** Its master's id, or `-`. */
  master: string;
  /** Its config epoch. */
  configEpoch: number;
  /** The slot ranges it claims, inclusive (importing/migrating markers left out). */
  slots: [number, number][];
}

/** Parses a `CLUSTER NODES` reply. */
export function parseClusterNodes(text: string): NodeLine[] {
  return text.split("\n").filter((l) => l.trim() !== "").map((line) => {
    const f = line.trim().split(" ");
    const slots: [number, number][] = [];
    for (const range of f.slice(8)) {
      if (range.startsWith("[")) continue;
      const [a, b] = range.split("-").map(Number);
      slots.push([a, b ?? a]);
    }
    return {
      id: f[0],
      port: Number(/:(\d+)@/.exec(f[1])?.[1] ?? -1),
      flags: f[2].split(","),
      master: f[3],
      configEpoch: Number(f[6]),
      slots,
    };
  });
}

/**
 * The slots that two or more masters claim in one node's `CLUSTER NODES` view, each with the
 * claimants' ids (empty when every slot has at most one master).
 */
export function slotsClaimedTwice(view: readonly NodeLine[]): { slot: number; ids: string[] }[] {
  const claims = new Map<number, string[]>();
  for (const node of view) {
    if (!node.flags.includes("master")) continue;
    for (const [a, b] of node.slots) {
      for (let slot = a; slot <= b; slot++) {
        const ids = claims.get(slot) ?? [];
        ids.push(node.id);
        claims.set(slot, ids);
      }
    }
  }
  return [...claims].filter(([, ids]) => ids.length > 1).map(([slot, ids]) => ({ slot, ids }));
}

/**
 * A digest of a node's whole dataset (database 0, string values): every key with its value,
 * sorted, hashed with SHA-256, and the number of keys; for comparing a replica with its master
 * (gocache has no `DEBUG DIGEST`). Sends `READONLY` first so that a cluster replica serves the
 * reads of its master's slots.
 */
export async function datasetDigest(port: number): Promise<{ keys: number; sha256: string }> {
  await using conn = await RespConn.connect(port);
  await conn.call("READONLY");
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = plain(await conn.call("SCAN", cursor, "COUNT", "1000")) as [
      string,
      string[],
    ];
    keys.push(...batch);
    cursor = next;
  } while (cursor !== "0");
  const unique = [...new Set(keys)].sort();
  const lines: string[] = [];
  for (let i = 0; i < unique.length; i += 100) {
    const chunk = unique.slice(i, i + 100);
    // Pipelined GETs: MGET would refuse keys of several slots (CROSSSLOT).
    for (const key of chunk) await conn.send("GET", key);
    for (const key of chunk) {
      lines.push(`${JSON.stringify(key)} ${JSON.stringify(plain(await conn.read()))}`);
    }
  }
  const bytes = new TextEncoder().encode(lines.join("\n"));
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const sha256 = [...hash].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { keys: unique.length, sha256 };
}
