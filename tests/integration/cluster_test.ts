/**
 * A gocache cluster formed by `gocache cluster-init --local 3 --replicas 1`, used by real
 * clients: redis-cli (its cluster check and -c redirects), ioredis Cluster and node-redis
 * createCluster (SET/GET, a hash-tag transaction, pipelines, pub/sub across shards), READONLY
 * reads on replicas, and a master restarted from its nodes.conf. One cluster serves every step.
 */
import assert from "node:assert/strict";
import { Cluster as IoCluster } from "ioredis";
import { createCluster } from "redis";
import { runCli } from "../support/server.ts";
import {
  ask,
  freeClusterPortRange,
  infoField,
  runTool,
  startClusterNode,
  waitForClusterOk,
} from "../support/cluster.ts";
import { waitFor } from "../support/wait_for.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import { parseSamples, promtoolCheck, scrape, valueOf } from "../support/prometheus.ts";
import { PROMTOOL, requireTools } from "../support/tools.ts";
import { freePort } from "../support/redis_server.ts";

/** Stops the processes cluster-init started (their pids are in DIR/pids). */
async function stopLocal(dir: string): Promise<void> {
  const pids = (await Deno.readTextFile(`${dir}/pids`).catch(() => "")).split("\n")
    .filter((l) => l !== "").map(Number);
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGTERM");
    } catch {
      // Already gone.
    }
  }
  const gone = (pid: number) => {
    try {
      Deno.statSync(`/proc/${pid}`);
      return false;
    } catch {
      return true;
    }
  };
  await waitFor(() => pids.every(gone), {
    timeoutMs: 15_000,
    what: "local cluster nodes to exit",
  }).catch(() => {
    for (const pid of pids) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Gone.
      }
    }
  });
}

/** The client port of the master serving `key`, read from CLUSTER NODES. */
async function ownerPort(port: number, key: string): Promise<number> {
  const slot = Number(await ask(port, "CLUSTER", "KEYSLOT", key));
  const nodes = (await ask(port, "CLUSTER", "NODES")).split("\n").filter((l) => l !== "");
  for (const line of nodes) {
    const f = line.split(" ");
    if (!f[2].includes("master")) continue;
    for (const r of f.slice(8)) {
      const [a, b] = r.split("-").map(Number);
      if (a <= slot && slot <= (b ?? a)) return Number(f[1].split(":")[1].split("@")[0]);
    }
  }
  throw new Error(`no owner for slot ${slot}`);
}

Deno.test("cluster-init --local 3 --replicas 1 forms a cluster that Redis clients use", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-local-cluster-" });
  const base = freeClusterPortRange(6);
  const ports = [0, 1, 2, 3, 4, 5].map((i) => base + i);
  const restarted: { stop(): Promise<unknown>; checkExit(): Promise<void> }[] = [];
  try {
    const init = await runCli([
      "cluster-init",
      "--local",
      "3",
      "--replicas",
      "1",
      "--base-port",
      String(base),
      "--dir",
      dir,
    ]);
    assert.equal(init.code, 0, init.stderr + init.stdout);
    assert.match(init.stderr, /Cluster formed: 3 masters, 3 replicas/);
    assert.match(init.stdout, new RegExp(`redis-cli -c -p ${base}`));

    await t.step("all six nodes reach cluster_state:ok with one view of the slots", async () => {
      await waitForClusterOk(ports, 6);
      for (const port of ports) {
        const info = await ask(port, "CLUSTER", "INFO");
        assert.equal(infoField(info, "cluster_slots_assigned"), "16384");
        assert.equal(infoField(info, "cluster_size"), "3");
      }
    });

    await t.step("redis-cli --cluster check passes from a master and from a replica", async () => {
      for (const port of [ports[0], ports[4]]) {
        const check = await runTool("redis-cli", ["--cluster", "check", `127.0.0.1:${port}`]);
        assert.equal(check.code, 0, check.out + check.err);
        assert.match(check.out, /All 16384 slots covered/);
        assert.match(check.out, /All nodes agree about slots configuration/);
      }
    });

    await t.step("redis-cli -c follows MOVED to the node that serves the key", async () => {
      for (let i = 0; i < 10; i++) {
        const set = await runTool("redis-cli", [
          "-c",
          "-p",
          String(ports[0]),
          "set",
          `k${i}`,
          `v${i}`,
        ]);
        assert.equal(set.out.trim(), "OK");
        const get = await runTool("redis-cli", ["-c", "-p", String(ports[1]), "get", `k${i}`]);
        assert.equal(get.out.trim(), `v${i}`);
      }
      const owner = await ownerPort(ports[0], "k0");
      const other = ports.slice(0, 3).find((p) => p !== owner) as number;
      const moved = await runTool("redis-cli", ["-p", String(other), "get", "k0"]);
      const slot = await ask(other, "CLUSTER", "KEYSLOT", "k0");
      assert.equal(moved.out.trim(), `MOVED ${slot} 127.0.0.1:${owner}`);
    });

    await t.step("ioredis Cluster: SET/GET, a {tag} MULTI/EXEC, pipelines, pub/sub", async () => {
      const cluster = new IoCluster([{ host: "127.0.0.1", port: ports[2] }], {
        lazyConnect: true,
        enableOfflineQueue: true,
        redisOptions: { connectTimeout: 5000 },
      });
      const subscriber = new IoCluster([{ host: "127.0.0.1", port: ports[1] }], {
        lazyConnect: true,
      });
      try {
        await cluster.connect();
        for (let i = 0; i < 200; i++) await cluster.set(`io:${i}`, String(i));
        for (let i = 0; i < 200; i += 17) assert.equal(await cluster.get(`io:${i}`), String(i));
        const tx = await cluster.multi().set("{user:1}:name", "ada").incr("{user:1}:visits")
          .get("{user:1}:name").exec();
        assert.deepEqual(tx, [[null, "OK"], [null, 1], [null, "ada"]]);
        const pipe = cluster.pipeline();
        for (let i = 0; i < 50; i++) pipe.set(`{pipe}:${i}`, String(i));
        for (let i = 0; i < 50; i++) pipe.get(`{pipe}:${i}`);
        const results = await pipe.exec();
        assert.equal(results?.length, 100);
        assert.deepEqual(results?.slice(50).map(([, v]) => v), [...Array(50).keys()].map(String));
        await subscriber.connect();
        const received: string[] = [];
        subscriber.on("message", (channel: string, message: string) => {
          received.push(`${channel}:${message}`);
        });
        await subscriber.subscribe("news");
        // PUBLISH on every master reaches the subscriber wherever it is connected.
        for (const port of ports.slice(0, 3)) {
          assert.equal((await ask(port, "PUBLISH", "news", `from-${port}`)) !== "", true);
        }
        await waitFor(() => received.length === 3, { what: "3 messages across shards" });
        assert.deepEqual(received.sort(), ports.slice(0, 3).map((p) => `news:from-${p}`).sort());
      } finally {
        cluster.disconnect();
        subscriber.disconnect();
      }
    });

    await t.step(
      "node-redis createCluster: SET/GET, {tag} MULTI and pipeline, pub/sub",
      async () => {
        const client = createCluster({
          rootNodes: [{ url: `redis://127.0.0.1:${ports[0]}` }],
        });
        client.on("error", () => {});
        await client.connect();
        try {
          for (let i = 0; i < 50; i++) await client.set(`nr:${i}`, `v${i}`);
          for (let i = 0; i < 50; i += 7) assert.equal(await client.get(`nr:${i}`), `v${i}`);
          const replies = await client.multi().set("{order}:1", "x").get("{order}:1").exec();
          assert.deepEqual(replies, ["OK", "x"]);
          const piped = await client.multi().set("{pipe2}:a", "1").incr("{pipe2}:b")
            .get("{pipe2}:a").execAsPipeline();
          assert.deepEqual(piped, ["OK", 1, "1"]);
          const received: string[] = [];
          await client.subscribe("alerts", (message, channel) => {
            received.push(`${channel}:${message}`);
          });
          for (const port of ports.slice(0, 3)) await ask(port, "PUBLISH", "alerts", `p${port}`);
          await waitFor(() => received.length === 3, { what: "node-redis to get 3 messages" });
          assert.deepEqual(received.sort(), ports.slice(0, 3).map((p) => `alerts:p${p}`).sort());
          await client.unsubscribe("alerts");
        } finally {
          await client.disconnect();
        }
      },
    );

    await t.step("a replica serves reads after READONLY and redirects them before", async () => {
      const owner = await ownerPort(ports[0], "io:5");
      const nodes = (await ask(owner, "CLUSTER", "NODES")).split("\n");
      const ownerId = (await ask(owner, "CLUSTER", "MYID")).trim();
      const replicaLine = nodes.find((l) => l.split(" ")[3] === ownerId) as string;
      const replica = Number(replicaLine.split(" ")[1].split(":")[1].split("@")[0]);
      const before = await runTool("redis-cli", ["-p", String(replica), "get", "io:5"]);
      assert.match(before.out, /^MOVED \d+ 127\.0\.0\.1:\d+/);
      await using conn = await RespConn.connect(replica);
      assert.equal(plain(await conn.call("READONLY")), "OK");
      await waitFor(async () => {
        const value = await conn.call("GET", "io:5");
        return value instanceof Uint8Array && new TextDecoder().decode(value) === "5";
      }, { what: "the replica to serve the key" });
      // Writes are still redirected to the master.
      assert.match(String(plain(await conn.call("SET", "io:5", "x"))), /^-MOVED /);
    });

    await t.step("a master restarted from nodes.conf keeps its id, epoch and slots", async () => {
      const port = ports[0];
      const id = (await ask(port, "CLUSTER", "MYID")).trim();
      const epoch = infoField(await ask(port, "CLUSTER", "INFO"), "cluster_my_epoch");
      const slotsBefore = (await ask(port, "CLUSTER", "NODES")).split("\n")
        .find((l) => l.includes("myself"))?.split(" ").slice(8).join(" ");
      const pids = (await Deno.readTextFile(`${dir}/pids`)).split("\n").map(Number);
      Deno.kill(pids[0], "SIGTERM");
      await waitFor(async () => {
        try {
          await ask(port, "PING");
          return false;
        } catch {
          return true;
        }
      }, { what: "the master to stop" });
      const node = await startClusterNode({
        dir: `${dir}/node-${port}`,
        port,
        args: ["--cluster-node-timeout", "5000"],
      });
      restarted.push(node);
      assert.equal((await ask(port, "CLUSTER", "MYID")).trim(), id);
      assert.equal(infoField(await ask(port, "CLUSTER", "INFO"), "cluster_my_epoch"), epoch);
      const slotsAfter = (await ask(port, "CLUSTER", "NODES")).split("\n")
        .find((l) => l.includes("myself"))?.split(" ").slice(8).join(" ");
      assert.equal(slotsAfter, slotsBefore);
      await waitForClusterOk(ports, 6);
      assert.equal(
        (await runTool("redis-cli", ["-c", "-p", String(ports[3]), "get", "k1"])).out.trim(),
        "v1",
      );
    });
  } finally {
    for (const node of restarted) await node.stop();
    await stopLocal(dir);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a damaged nodes.conf stops the start with a message naming the line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-bad-nodes-conf-" });
  try {
    await Deno.writeTextFile(
      `${dir}/nodes.conf`,
      "0123456789abcdef0123456789abcdef01234567 127.0.0.1:7000@17000 myself,master - 0 0 1 " +
        "connected 0-100\n" +
        "zzzz 127.0.0.1:7001@17001 master - 0 0 2 connected\n" +
        "vars currentEpoch 2 lastVoteEpoch 0\n",
    );
    await assert.rejects(
      () => startClusterNode({ dir }),
      /nodes\.conf line 2: 'zzzz' is not a node id/,
    );
    // The file is left as it was for the operator to mend.
    assert.match(await Deno.readTextFile(`${dir}/nodes.conf`), /^zzzz /m);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test({
  name: "a cluster node exports its state, slots, epochs and bus traffic to Prometheus",
  ...requireTools(PROMTOOL, async () => {
    const metricsPort = freePort();
    await using a = await startClusterNode({ args: ["--metrics-port", String(metricsPort)] });
    await using b = await startClusterNode();
    assert.equal(await ask(a.port, "CLUSTER", "ADDSLOTSRANGE", "0", "8191"), "OK");
    assert.equal(await ask(b.port, "CLUSTER", "ADDSLOTSRANGE", "8192", "16383"), "OK");
    assert.equal(await ask(a.port, "CLUSTER", "MEET", "127.0.0.1", String(b.port)), "OK");
    await waitForClusterOk([a.port, b.port], 2);
    const text = await scrape(metricsPort);
    const { code, output } = await promtoolCheck(text);
    assert.equal(code, 0, output);
    const samples = parseSamples(text);
    assert.equal(valueOf(samples, "gocache_cluster_state"), 1);
    assert.equal(valueOf(samples, "gocache_cluster_known_nodes"), 2);
    assert.equal(valueOf(samples, "gocache_cluster_slots", { state: "assigned" }), 16384);
    assert.equal(valueOf(samples, "gocache_cluster_slots", { state: "ok" }), 16384);
    assert.ok(
      valueOf(samples, "gocache_cluster_messages_total", { direction: "sent", type: "meet" }) >= 1,
    );
    assert.ok(
      valueOf(samples, "gocache_cluster_bus_bytes_total", { direction: "received" }) > 2256,
    );
    const info = await ask(a.port, "INFO", "clients");
    assert.ok(Number(infoField(info, "cluster_connections")) >= 1, info);
  }),
});

Deno.test("ioredis Cluster works with a one-node cluster that never met another node", async () => {
  await using node = await startClusterNode();
  assert.equal(await ask(node.port, "CLUSTER", "ADDSLOTSRANGE", "0", "16383"), "OK");
  await waitForClusterOk([node.port], 1);
  // The node has not learned its own address from a MEET; CLUSTER SLOTS still names a usable
  // one (Redis 7.0 names "", which ioredis drops, and then finds no node for any slot).
  const cluster = new IoCluster([{ host: "127.0.0.1", port: node.port }], {
    lazyConnect: true,
    clusterRetryStrategy: () => null,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("ioredis found no node to send to")), 5000);
  });
  try {
    await Promise.race([cluster.connect(), deadline]);
    assert.equal(await Promise.race([cluster.set("solo", "1"), deadline]), "OK");
    assert.equal(await Promise.race([cluster.get("solo"), deadline]), "1");
  } finally {
    clearTimeout(timer);
    cluster.disconnect();
  }
});
