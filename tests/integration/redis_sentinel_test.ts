/**
 * Real Redis Sentinel (redis-sentinel 7.0) in charge of gocache nodes in plain replication, the
 * built-in failover off: three sentinels monitor a leader and two followers, agree that the
 * SIGKILLed leader is down, promote a follower (MULTI, SLAVEOF NO ONE, CONFIG REWRITE, CLIENT
 * KILL, EXEC), point the other follower at it, and turn the restarted old leader into its
 * follower. Each node has a YAML config file, so Sentinel's CONFIG REWRITE really rewrites it.
 */
import assert from "node:assert/strict";
import { parseConfigYaml } from "../../src/config/load.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import { freePort } from "../support/redis_server.ts";
import { waitForCatchUp } from "../support/replication.ts";
import { type ServerProcess, startServer } from "../support/server.ts";
import { REDIS_SENTINEL, requireTools } from "../support/tools.ts";
import { waitFor } from "../support/wait_for.ts";

const MASTER = "mymaster";

/** One command on a fresh connection, as plain data. */
async function ask(port: number, ...args: (string | number)[]): Promise<unknown> {
  await using conn = await RespConn.connect(port);
  return plain(await conn.call(...args));
}

/** A running redis-sentinel with its own directory (it rewrites its sentinel.conf there). */
class SentinelProcess {
  readonly #child: Deno.ChildProcess;
  readonly #drained: Promise<void>;

  constructor(
    child: Deno.ChildProcess,
    readonly port: number,
    readonly dir: string,
    readonly lines: string[],
  ) {
    this.#child = child;
    this.#drained = (async () => {
      const text = child.stdout.pipeThrough(new TextDecoderStream());
      for await (const chunk of text) lines.push(...chunk.split("\n").filter((l) => l !== ""));
    })();
  }

  /** Stops it (SIGKILL: its state is of no further use) and removes its directory. */
  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await this.#child.status;
    await this.#drained;
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** Starts a sentinel monitoring the leader on `leaderPort`, with timeouts short enough for a test. */
async function startSentinel(leaderPort: number): Promise<SentinelProcess> {
  for (let attempt = 0;; attempt++) {
    const dir = await Deno.makeTempDir({ prefix: "gocache-sentinel-" });
    const port = freePort();
    await Deno.writeTextFile(
      `${dir}/sentinel.conf`,
      [
        `port ${port}`,
        "bind 127.0.0.1",
        `dir ${dir}`,
        `sentinel monitor ${MASTER} 127.0.0.1 ${leaderPort} 2`,
        `sentinel down-after-milliseconds ${MASTER} 1000`,
        `sentinel failover-timeout ${MASTER} 4000`,
        "",
      ].join("\n"),
    );
    const child = new Deno.Command("redis-sentinel", {
      args: [`${dir}/sentinel.conf`],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const sentinel = new SentinelProcess(child, port, dir, []);
    try {
      await waitFor(() => ask(port, "PING"), { timeoutMs: 5000, what: "redis-sentinel to start" });
      // Faster INFO and hello rounds: a restarted old leader is converted after it has reported
      // itself a leader for 4 hello periods (with the defaults, up to 20 s); a short TILT, in
      // case a loaded machine stalls a sentinel for 2 s.
      await ask(port, "SENTINEL", "DEBUG", "info-period", 500, "publish-period", 500);
      await ask(port, "SENTINEL", "DEBUG", "tilt-period", 5000);
      return sentinel;
    } catch (e) {
      await sentinel.stop();
      if (attempt >= 2) throw e;
    }
  }
}

/** Three sentinels, stopped together; their logs go into a failure's message. */
class Sentinels {
  constructor(readonly all: SentinelProcess[]) {}

  /** Each sentinel's answer to SENTINEL `args`. */
  ask(...args: (string | number)[]): Promise<unknown[]> {
    return Promise.all(this.all.map((s) => ask(s.port, "SENTINEL", ...args)));
  }

  /** The port each sentinel names as the leader's. */
  async leaderPorts(): Promise<number[]> {
    const addrs = await this.ask("GET-MASTER-ADDR-BY-NAME", MASTER) as [string, string][];
    return addrs.map(([, port]) => Number(port));
  }

  /** Waits for `check`; a timeout's error carries the end of every sentinel's log. */
  async waitFor<T>(
    check: () => Promise<T>,
    what: string,
    timeoutMs = 30_000,
  ): Promise<NonNullable<T>> {
    try {
      return await waitFor(check, { timeoutMs, intervalMs: 100, what });
    } catch (e) {
      const logs = this.all.map((s) => `sentinel ${s.port}:\n${s.lines.slice(-25).join("\n")}`);
      throw new Error(`${e instanceof Error ? e.message : e}\n${logs.join("\n")}`);
    }
  }

  /** For `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.all.map((s) => s.stop()));
  }
}

/** ROLE of the node on `port` as [role, host, port, state] (a leader: ["master"]). */
async function role(port: number): Promise<unknown[]> {
  const reply = await ask(port, "ROLE") as unknown[];
  return reply[0] === "master" ? ["master"] : reply.slice(0, 4);
}

/** The `replicaof` value in a node's YAML file (after Sentinel's CONFIG REWRITE). */
async function fileReplicaOf(node: ServerProcess | string): Promise<string | undefined> {
  const file = `${typeof node === "string" ? node : node.dir}/node.yaml`;
  const pairs = parseConfigYaml(await Deno.readTextFile(file), file);
  return pairs.find((p) => p.key === "replicaof")?.value;
}

Deno.test({
  name:
    "redis-sentinel fails a SIGKILLed gocache leader over to a follower, repoints the other follower, and demotes the restarted old leader",
  ...requireTools(REDIS_SENTINEL, async () => {
    // The leader's directory outlives its SIGKILL: it restarts on the same files.
    const leaderDir = await Deno.makeTempDir({ prefix: "gocache-sentinel-leader-" });
    const yaml = "# Under Redis Sentinel.\nappendonly: yes\n";
    let restarted: ServerProcess | null = null;
    try {
      // Stopped by its SIGKILL below, or on a failure before it by disposal.
      await using leader = await startServer({ dir: leaderDir, yaml });
      const leaderPort = leader.port;
      const follows = `${yaml}replicaof: "127.0.0.1 ${leaderPort}"\n`;
      await using f1 = await startServer({ yaml: follows });
      await using f2 = await startServer({ yaml: follows });
      await ask(leaderPort, "SET", "before", "failover");
      await waitForCatchUp(leaderPort, f1.port);
      await waitForCatchUp(leaderPort, f2.port);

      await using sentinels = new Sentinels(
        await Promise.all([0, 1, 2].map(() => startSentinel(leaderPort))),
      );
      await sentinels.waitFor(async () => {
        const replicas = await sentinels.ask("REPLICAS", MASTER) as unknown[][];
        const peers = await sentinels.ask("SENTINELS", MASTER) as unknown[][];
        return replicas.every((r) => r.length === 2) && peers.every((p) => p.length === 2);
      }, "every sentinel to see both followers and the two other sentinels");

      await leader.stop("SIGKILL");
      const newPort = await sentinels.waitFor(
        async () => {
          const ports = await sentinels.leaderPorts();
          return ports.every((p) => p === ports[0] && p !== leaderPort) ? ports[0] : null;
        },
        "every sentinel to name a new leader",
        45_000,
      );
      assert.ok([f1.port, f2.port].includes(newPort), `new leader ${newPort}`);
      const [promoted, other] = newPort === f1.port ? [f1, f2] : [f2, f1];

      await sentinels.waitFor(
        async () => (await role(promoted.port))[0] === "master",
        "the promoted follower to lead",
      );
      assert.equal(await ask(promoted.port, "SET", "after", "failover"), "OK");
      assert.equal(await ask(promoted.port, "GET", "before"), "failover");
      await sentinels.waitFor(async () => {
        const [r, host, port, state] = await role(other.port);
        return r === "slave" && host === "127.0.0.1" && port === newPort && state === "connected";
      }, "the other follower to follow the new leader");
      await sentinels.waitFor(
        async () => await ask(other.port, "GET", "after") === "failover",
        "the new leader's write to reach the other follower",
      );
      // Sentinel's CONFIG REWRITE made the new roles survive a restart.
      assert.equal(await fileReplicaOf(promoted), "");
      assert.equal(await fileReplicaOf(other), `127.0.0.1 ${newPort}`);

      restarted = await startServer({
        dir: leaderDir,
        args: ["--config", `${leaderDir}/node.yaml`, "--port", String(leaderPort)],
      });
      assert.equal(restarted.port, leaderPort);
      await sentinels.waitFor(async () => {
        const [r, , port, state] = await role(leaderPort);
        return r === "slave" && port === newPort && state === "connected";
      }, "Sentinel to turn the restarted old leader into a follower of the new one");
      assert.equal(await ask(leaderPort, "GET", "after"), "failover");
      assert.equal(await fileReplicaOf(leaderDir), `127.0.0.1 ${newPort}`);
      const info = await ask(leaderPort, "INFO", "replication") as string;
      assert.match(info, new RegExp(`^master_port:${newPort}\\r$`, "m"));
    } finally {
      await restarted?.[Symbol.asyncDispose]();
      await Deno.remove(leaderDir, { recursive: true }).catch(() => {});
    }
  }),
});
