/**
 * `gocache cluster-init --nodes` refuses what `redis-cli --cluster create` refuses (fewer than
 * 3 masters, a node outside cluster mode, a node with keys) and forms the cluster otherwise;
 * and hostnames announced with `cluster-announce-hostname` travel over the bus to redis-server
 * peers (and back) and are what clients are told with `cluster-preferred-endpoint-type hostname`.
 */
import assert from "node:assert/strict";
import { runCli, startServer } from "../support/server.ts";
import {
  ask,
  startClusterNode,
  startRedisClusterNode,
  waitForClusterOk,
} from "../support/cluster.ts";
import { waitFor } from "../support/wait_for.ts";

Deno.test("cluster-init --nodes refuses what cannot form a cluster, then forms it", async () => {
  await using plain = await startServer();
  await using a = await startClusterNode();
  await using b = await startClusterNode();
  await using c = await startClusterNode();
  const address = (port: number) => `127.0.0.1:${port}`;

  const two = await runCli(["cluster-init", "--nodes", `${address(a.port)},${address(b.port)}`]);
  assert.equal(two.code, 2);
  assert.match(two.stderr, /at least 3 masters; 2 nodes with 0 replicas each give 2/);

  const mixed = await runCli([
    "cluster-init",
    "--nodes",
    [a.port, b.port, plain.port].map(address).join(","),
    "--yes",
  ]);
  assert.equal(mixed.code, 1);
  assert.match(mixed.stderr, new RegExp(`127\\.0\\.0\\.1:${plain.port} is not in cluster mode`));

  // b and c already know each other: not empty.
  assert.equal(await ask(b.port, "CLUSTER", "MEET", "127.0.0.1", String(c.port)), "OK");
  await waitFor(async () => (await ask(c.port, "CLUSTER", "INFO")).includes("known_nodes:2"));
  const withKeys = await runCli([
    "cluster-init",
    "--nodes",
    [a.port, b.port, c.port].map(address).join(","),
    "--yes",
  ]);
  assert.equal(withKeys.code, 1);
  assert.match(withKeys.stderr, new RegExp(`127\\.0\\.0\\.1:${b.port} is not empty`));
  // Nothing was changed on any node by the refused attempts.
  for (const port of [a.port, b.port, c.port]) {
    assert.match(await ask(port, "CLUSTER", "INFO"), /cluster_slots_assigned:0\r\n/);
  }
  assert.match(await ask(a.port, "CLUSTER", "INFO"), /cluster_known_nodes:1\r\n/);

  for (const port of [b.port, c.port]) {
    assert.equal(await ask(port, "CLUSTER", "RESET", "HARD"), "OK");
  }
  const ok = await runCli([
    "cluster-init",
    "--nodes",
    [a.port, b.port, c.port].map(address).join(","),
    "--yes",
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /shard-1: leader 127\.0\.0\.1:\d+, \d+ slots in \d+ ranges/);
  await waitForClusterOk([a.port, b.port, c.port], 3);
  const epochs = new Set<string>();
  for (const port of [a.port, b.port, c.port]) {
    const line = (await ask(port, "CLUSTER", "NODES")).split("\n").find((l) =>
      l.includes("myself")
    );
    epochs.add((line as string).split(" ")[6]);
  }
  assert.equal(epochs.size, 3, "every master has its own config epoch");
});

Deno.test("announced hostnames travel over the bus both ways and reach clients", async () => {
  const hostnameFlags = (name: string) => [
    "--cluster-announce-hostname",
    name,
    "--cluster-preferred-endpoint-type",
    "hostname",
  ];
  await using g1 = await startClusterNode({ args: hostnameFlags("gocache-1.test") });
  await using g2 = await startClusterNode({ args: hostnameFlags("gocache-2.test") });
  await using r1 = await startRedisClusterNode(hostnameFlags("redis-1.test"));
  assert.equal(await ask(g1.port, "CLUSTER", "ADDSLOTSRANGE", "0", "5000"), "OK");
  assert.equal(await ask(g2.port, "CLUSTER", "ADDSLOTSRANGE", "5001", "10000"), "OK");
  assert.equal(await ask(r1.port, "CLUSTER", "ADDSLOTSRANGE", "10001", "16383"), "OK");
  for (const port of [g2.port, r1.port]) {
    assert.equal(await ask(g1.port, "CLUSTER", "MEET", "127.0.0.1", String(port)), "OK");
  }
  const ports = [g1.port, g2.port, r1.port];
  await waitForClusterOk(ports, 3);
  await waitFor(async () => {
    const onRedis = await ask(r1.port, "CLUSTER", "NODES");
    const onGocache = await ask(g2.port, "CLUSTER", "NODES");
    return onRedis.includes(`:${g1.port}@${g1.port + 10000},gocache-1.test `) &&
      onRedis.includes(",gocache-2.test ") &&
      onGocache.includes(`:${r1.port}@${r1.port + 10000},redis-1.test `) &&
      onGocache.includes(",gocache-1.test ");
  }, { what: "every node to know every hostname" });
  // A key of redis-1's slots, asked on gocache-1: redirected by hostname.
  const slot = Number(await ask(g1.port, "CLUSTER", "KEYSLOT", "foo"));
  assert.ok(slot > 10000, `foo hashes to ${slot}`);
  assert.equal(await ask(g1.port, "GET", "foo"), `-MOVED ${slot} redis-1.test:${r1.port}`);
  // "hello" hashes to 866, served by gocache-1: redis-server redirects by hostname too.
  assert.equal(await ask(r1.port, "CLUSTER", "KEYSLOT", "hello"), "866");
  assert.equal(await ask(r1.port, "GET", "hello"), `-MOVED 866 gocache-1.test:${g1.port}`);
  const slots = await ask(g2.port, "CLUSTER", "SLOTS");
  assert.match(slots, /gocache-1\.test/);
});
