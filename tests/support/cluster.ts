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

/** Starts redis-server with `cluster-enabled yes` (node timeout 2 s). */
export function startRedisClusterNode(extra: string[] = []): Promise<RedisClusterNode> {
  return startRedis(
    ["--cluster-enabled", "yes", "--cluster-node-timeout", "2000", ...extra],
    { port: freeClusterPort() },
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
