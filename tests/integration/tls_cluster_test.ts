/**
 * `tls-cluster`: a cluster whose bus speaks TLS, with gocache and redis-server 7.0 nodes in it
 * (redis-server with `tls-cluster yes` accepts and opens only TLS bus links, so the cluster forms
 * only if gocache's bus is TLS too), built by `redis-cli --tls --cluster create` on the TLS ports,
 * a gocache replica of the redis-server master replicating over TLS, and Redis 7.0's port rule:
 * a client of a TLS port is told TLS ports, a client of a plain port the plain ones.
 */
import assert from "node:assert/strict";
import { Cluster as IoCluster } from "ioredis";
import { makeCertificates, tlsServerFlags } from "../../bench/_tls.ts";
import {
  ask,
  freeClusterPort,
  type RedisClusterNode,
  runTool,
  startClusterNode,
  startRedisClusterNode,
  waitForClusterOk,
} from "../support/cluster.ts";
import { freePort } from "../support/redis_server.ts";
import type { ServerProcess } from "../support/server.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import { waitFor } from "../support/wait_for.ts";

Deno.test("tls-cluster: gocache and redis-server form one cluster over a TLS bus", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-tls-cluster-" });
  const nodes: (ServerProcess | RedisClusterNode)[] = [];
  try {
    const certs = makeCertificates(dir, "bus");
    const tlsFlags = [
      ...tlsServerFlags(certs),
      "--tls-cluster",
      "yes",
      "--tls-replication",
      "yes",
    ];
    // Under tls-cluster the bus port is the TLS port + 10000: TLS ports are cluster ports.
    const tlsPorts = [freeClusterPort(), freeClusterPort(), freeClusterPort(), freeClusterPort()];
    const plainPorts: number[] = [];
    for (const [i, tlsPort] of tlsPorts.entries()) {
      const args = ["--tls-port", String(tlsPort), ...tlsFlags];
      const node = i === 2
        ? await startRedisClusterNode(args, freePort())
        : await startClusterNode({ port: freePort(), args });
      nodes.push(node);
      plainPorts.push(node.port);
    }
    const cli = ["--tls", "--cacert", certs.ca, "--cert", certs.cert, "--key", certs.key];
    const created = await runTool("redis-cli", [
      ...cli,
      "--cluster",
      "create",
      ...tlsPorts.slice(0, 3).map((p) => `127.0.0.1:${p}`),
      "--cluster-yes",
    ], 30_000);
    assert.equal(created.code, 0, created.out + created.err);
    await waitForClusterOk(plainPorts.slice(0, 3), 3);

    // The fourth node, gocache, joins as the replica of the redis-server master.
    const redisId = await ask(plainPorts[2], "CLUSTER", "MYID");
    const added = await runTool("redis-cli", [
      ...cli,
      "--cluster",
      "add-node",
      `127.0.0.1:${tlsPorts[3]}`,
      `127.0.0.1:${tlsPorts[0]}`,
      "--cluster-slave",
      "--cluster-master-id",
      redisId,
    ]);
    assert.equal(added.code, 0, added.out + added.err);
    await waitForClusterOk(plainPorts, 4);
    const checked = await runTool("redis-cli", [
      ...cli,
      "--cluster",
      "check",
      `127.0.0.1:${tlsPorts[1]}`,
    ]);
    assert.equal(checked.code, 0, checked.out + checked.err);
    assert.match(checked.out, /All 16384 slots covered/);

    // Ports: over TLS the nodes' TLS ports, over the plain port their plain ones (Redis 7.0).
    const overPlain = await ask(plainPorts[0], "CLUSTER", "NODES");
    const overTls = await runTool("redis-cli", [
      ...cli,
      "-p",
      String(tlsPorts[0]),
      "CLUSTER",
      "NODES",
    ]);
    for (let i = 0; i < 4; i++) {
      assert.match(
        overPlain,
        new RegExp(` 127\\.0\\.0\\.1:${plainPorts[i]}@${tlsPorts[i] + 10000} `),
      );
      assert.match(
        overTls.out,
        new RegExp(` 127\\.0\\.0\\.1:${tlsPorts[i]}@${tlsPorts[i] + 10000} `),
      );
    }
    const shards = await runTool("redis-cli", [
      ...cli,
      "-p",
      String(tlsPorts[0]),
      "CLUSTER",
      "SHARDS",
    ]);
    assert.match(shards.out, new RegExp(`tls-port\\n${tlsPorts[1]}\\n`));
    assert.match(shards.out, new RegExp(`port\\n${plainPorts[1]}\\n`));

    // A key of a slot served elsewhere: MOVED to the plain port over plain, the TLS one over TLS.
    let key = "";
    for (let i = 0; key === ""; i++) {
      const slot = Number(await ask(plainPorts[0], "CLUSTER", "KEYSLOT", `k${i}`));
      if (slot >= 5462 && slot <= 10922) key = `k${i}`;
    }
    await using toFirst = await RespConn.connect(plainPorts[0]);
    assert.match(String(plain(await toFirst.call("GET", key))), new RegExp(`:${plainPorts[1]}$`));
    const movedTls = await runTool("redis-cli", [...cli, "-p", String(tlsPorts[0]), "GET", key]);
    assert.match(
      movedTls.out + movedTls.err,
      new RegExp(`MOVED \\d+ 127\\.0\\.0\\.1:${tlsPorts[1]}`),
    );

    // A cluster client over TLS writes to every master; the redis-server master's keys reach
    // its gocache replica over TLS replication.
    const client = new IoCluster([{ host: "127.0.0.1", port: tlsPorts[0] }], {
      redisOptions: {
        tls: {
          ca: Deno.readTextFileSync(certs.ca),
          cert: Deno.readTextFileSync(certs.cert),
          key: Deno.readTextFileSync(certs.key),
        },
      },
      enableOfflineQueue: true,
    });
    try {
      for (let i = 0; i < 300; i++) await client.set(`key:${i}`, `v${i}`);
      for (let i = 0; i < 300; i += 37) assert.equal(await client.get(`key:${i}`), `v${i}`);
    } finally {
      client.disconnect();
    }
    const onRedis = Number(await ask(plainPorts[2], "DBSIZE"));
    assert.ok(onRedis > 50, `redis-server master holds ${onRedis} keys`);
    await waitFor(async () => Number(await ask(plainPorts[3], "DBSIZE")) === onRedis, {
      what: "the gocache replica to copy the redis-server master over TLS",
    });
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await Deno.remove(dir, { recursive: true });
  }
});
