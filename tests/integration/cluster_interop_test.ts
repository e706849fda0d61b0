/**
 * gocache and Redis in one cluster: Redis's own `redis-cli --cluster create` builds clusters of
 * 3 and of 6 gocache nodes, and a mixed cluster of gocache and redis-server masters and replicas
 * (a redis-server replica of a gocache master, a gocache replica of a redis-server master),
 * formed by `gocache cluster-init --topology`, where Redis's gossip, failure detector and tools
 * judge gocache's bus: every node sees every other connected, `--cluster check` passes from each,
 * keys written through a cluster client land on the node serving their slot and reach its
 * replica, and PUBLISH crosses between the two kinds of node.
 */
import assert from "node:assert/strict";
import { Cluster as IoCluster } from "ioredis";
import { runCli } from "../support/server.ts";
import {
  ask,
  infoField,
  type RedisClusterNode,
  runTool,
  startClusterNode,
  startRedisClusterNode,
  waitForClusterOk,
} from "../support/cluster.ts";
import type { ServerProcess } from "../support/server.ts";
import { waitFor } from "../support/wait_for.ts";
import { plain, RespConn } from "../support/resp_conn.ts";

type AnyNode = ServerProcess | RedisClusterNode;

async function stopAll(nodes: AnyNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop()));
}

async function create(ports: number[], replicas: number): Promise<void> {
  const result = await runTool("redis-cli", [
    "--cluster",
    "create",
    ...ports.map((p) => `127.0.0.1:${p}`),
    "--cluster-replicas",
    String(replicas),
    "--cluster-yes",
  ]);
  assert.equal(result.code, 0, result.out + result.err);
  assert.match(result.out, /All 16384 slots covered/);
}

async function check(port: number): Promise<void> {
  const result = await runTool("redis-cli", ["--cluster", "check", `127.0.0.1:${port}`]);
  assert.equal(result.code, 0, `check from ${port}:\n${result.out}${result.err}`);
  assert.match(result.out, /All nodes agree about slots configuration/);
  assert.match(result.out, /All 16384 slots covered/);
}

Deno.test("redis-cli --cluster create builds clusters of 3 and of 6 gocache nodes", async () => {
  const nodes: ServerProcess[] = [];
  try {
    for (let i = 0; i < 3; i++) nodes.push(await startClusterNode());
    const three = nodes.map((n) => n.port);
    await create(three, 0);
    await waitForClusterOk(three, 3);
    await check(three[1]);
    // CLUSTER RESET HARD makes the nodes fresh again (new ids), so they can join a new cluster.
    const oldIds = await Promise.all(three.map((p) => ask(p, "CLUSTER", "MYID")));
    for (const port of three) {
      assert.equal(await ask(port, "FLUSHALL"), "OK");
      assert.equal(await ask(port, "CLUSTER", "RESET", "HARD"), "OK");
      const info = await ask(port, "CLUSTER", "INFO");
      assert.equal(infoField(info, "cluster_known_nodes"), "1");
      assert.equal(infoField(info, "cluster_current_epoch"), "0");
    }
    const newIds = await Promise.all(three.map((p) => ask(p, "CLUSTER", "MYID")));
    assert.ok(newIds.every((id, i) => id !== oldIds[i]));
    for (let i = 0; i < 3; i++) nodes.push(await startClusterNode());
    const six = nodes.map((n) => n.port);
    await create(six, 1);
    await waitForClusterOk(six, 6);
    for (const port of six) await check(port);
    const replicas = (await ask(six[0], "CLUSTER", "NODES")).split("\n")
      .filter((l) => l.split(" ")[2]?.includes("slave"));
    assert.equal(replicas.length, 3);
  } finally {
    await stopAll(nodes);
  }
});

Deno.test("a mixed cluster of gocache and redis-server nodes agrees, serves and replicates", async () => {
  const nodes: AnyNode[] = [];
  const dir = await Deno.makeTempDir({ prefix: "gocache-mixed-" });
  try {
    await Deno.mkdir(`${dir}/g1`);
    const g1 = await startClusterNode({ dir: `${dir}/g1`, args: ["--appendonly", "yes"] });
    const g2 = await startClusterNode();
    const g3 = await startClusterNode();
    const r1 = await startRedisClusterNode();
    const r2 = await startRedisClusterNode();
    const r3 = await startRedisClusterNode();
    nodes.push(g1, g2, g3, r1, r2, r3);
    const topology = [
      "shards:",
      "  - name: alpha",
      `    leader: 127.0.0.1:${g1.port}`,
      `    followers: [127.0.0.1:${r2.port}]`,
      "  - name: beta",
      `    leader: 127.0.0.1:${r1.port}`,
      "    followers:",
      `      - address: 127.0.0.1:${g3.port}`,
      "        priority: 5",
      "  - name: gamma",
      `    leader: 127.0.0.1:${g2.port}`,
      `    followers: [127.0.0.1:${r3.port}]`,
      "",
    ].join("\n");
    await Deno.writeTextFile(`${dir}/cluster.yaml`, topology);
    const init = await runCli(["cluster-init", "--topology", `${dir}/cluster.yaml`, "--yes"]);
    assert.equal(init.code, 0, init.stderr + init.stdout);
    const ports = nodes.map((n) => n.port);
    await waitForClusterOk(ports, 6);

    // Every node sees the five others, all connected.
    for (const port of ports) {
      const lines = (await ask(port, "CLUSTER", "NODES")).split("\n").filter((l) => l !== "");
      assert.equal(lines.length, 6, `${port} knows ${lines.length} nodes`);
      for (const line of lines) assert.equal(line.split(" ")[7], "connected", `${port}: ${line}`);
    }
    for (const port of ports) await check(port);
    assert.equal((await ask(g3.port, "CONFIG", "GET", "replica-priority")).includes("5"), true);

    const masterOf = new Map<number, number>([[r2.port, g1.port], [g3.port, r1.port], [
      r3.port,
      g2.port,
    ]]);
    const cluster = new IoCluster([{ host: "127.0.0.1", port: r1.port }], { lazyConnect: true });
    try {
      await cluster.connect();
      for (let i = 0; i < 300; i++) await cluster.set(`mixed:${i}`, `value-${i}`);
    } finally {
      cluster.disconnect();
    }
    // Each key is on the master serving its slot, and nowhere else among the masters.
    const masters = [g1.port, r1.port, g2.port];
    let found = 0;
    for (const master of masters) {
      await using conn = await RespConn.connect(master);
      for (let i = 0; i < 300; i += 3) {
        const reply = plain(await conn.call("GET", `mixed:${i}`));
        if (reply === `value-${i}`) found++;
        else assert.match(String(reply), /^-MOVED /);
      }
    }
    assert.equal(found, 100);
    // Every replica (either kind) holds its master's keys.
    for (const [replica, master] of masterOf) {
      const wanted = Number(await ask(master, "DBSIZE"));
      assert.ok(wanted > 50, `master ${master} has ${wanted} keys`);
      await waitFor(async () => Number(await ask(replica, "DBSIZE")) === wanted, {
        what: `replica ${replica} to hold master ${master}'s ${wanted} keys`,
      });
    }

    // PUBLISH on a gocache node reaches a redis-server subscriber and the reverse.
    await using sub1 = await RespConn.connect(r3.port);
    await using sub2 = await RespConn.connect(g2.port);
    assert.deepEqual(plain(await sub1.call("SUBSCRIBE", "events")), ["subscribe", "events", 1]);
    assert.deepEqual(plain(await sub2.call("SUBSCRIBE", "events")), ["subscribe", "events", 1]);
    await ask(g1.port, "PUBLISH", "events", "from-gocache");
    await ask(r1.port, "PUBLISH", "events", "from-redis");
    for (const sub of [sub1, sub2]) {
      const got = [plain(await sub.read()), plain(await sub.read())];
      assert.deepEqual(got, [["message", "events", "from-gocache"], [
        "message",
        "events",
        "from-redis",
      ]]);
    }

    // g1 comes back on another port (as after a move to a new address): its id, epoch and slots
    // come from nodes.conf, and every peer, redis-server included, takes the new address from
    // its PINGs.
    const g1Id = await ask(g1.port, "CLUSTER", "MYID");
    await g1.stop();
    const moved = await startClusterNode({ dir: `${dir}/g1`, args: ["--appendonly", "yes"] });
    nodes.push(moved);
    assert.equal(await ask(moved.port, "CLUSTER", "MYID"), g1Id);
    const newPorts = [moved.port, ...ports.filter((p) => p !== g1.port)];
    await waitFor(async () => {
      for (const port of newPorts) {
        const line = (await ask(port, "CLUSTER", "NODES")).split("\n")
          .find((l) => l.startsWith(g1Id));
        if (line === undefined || !line.includes(`:${moved.port}@${moved.port + 10000}`)) {
          return false;
        }
      }
      return true;
    }, { what: "every node to learn g1's new address" });
    await waitForClusterOk(newPorts, 6);
    // The AOF replayed on start holds every key (replay is obeyed, not routed by slot).
    assert.ok(Number(await ask(moved.port, "DBSIZE")) > 50);
    const again = new IoCluster([{ host: "127.0.0.1", port: r2.port }], { lazyConnect: true });
    try {
      await again.connect();
      for (let i = 0; i < 300; i += 7) assert.equal(await again.get(`mixed:${i}`), `value-${i}`);
    } finally {
      again.disconnect();
    }
  } finally {
    await stopAll(nodes);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
