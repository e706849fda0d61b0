/**
 * Automatic failover in cluster mode (Redis 7.0's rules over its bus): a master stopped with
 * SIGSTOP is marked FAIL by the other masters, its replica wins the election and serves its
 * slots with every key written before, the cluster is ok again, and the old master, resumed,
 * sees the newer owner of its slots and becomes a replica of it; CLUSTER FAILOVER FORCE and
 * TAKEOVER; and in a mixed cluster, redis-server masters elect a gocache replica and gocache
 * masters a redis-server replica when a master is killed, and the killed one, restarted on its
 * nodes.conf, rejoins as a replica.
 */
import assert from "node:assert/strict";
import { Cluster as IoCluster } from "ioredis";
import type { ServerProcess } from "../support/server.ts";
import {
  ask,
  infoField,
  startClusterNode,
  startRedisClusterNode,
  waitForClusterOk,
} from "../support/cluster.ts";
import { waitFor } from "../support/wait_for.ts";

Deno.test("a stopped master's replica takes over its slots; the old master comes back as replica", async () => {
  const nodes: ServerProcess[] = [];
  try {
    for (let i = 0; i < 6; i++) nodes.push(await startClusterNode());
    const masters = nodes.slice(0, 3);
    const [m1, m2, m3] = masters;
    const ranges = [["0", "5460"], ["5461", "10922"], ["10923", "16383"]];
    for (let i = 0; i < 3; i++) {
      assert.equal(await ask(masters[i].port, "CLUSTER", "ADDSLOTSRANGE", ...ranges[i]), "OK");
      assert.equal(await ask(masters[i].port, "CLUSTER", "SET-CONFIG-EPOCH", String(i + 1)), "OK");
    }
    for (const node of nodes.slice(1)) {
      assert.equal(await ask(m1.port, "CLUSTER", "MEET", "127.0.0.1", String(node.port)), "OK");
    }
    await waitFor(async () => {
      for (const node of nodes) {
        if (!(await ask(node.port, "CLUSTER", "INFO")).includes("cluster_known_nodes:6")) {
          return false;
        }
      }
      return true;
    }, { what: "six nodes to know each other" });
    for (let i = 0; i < 3; i++) {
      const id = await ask(masters[i].port, "CLUSTER", "MYID");
      assert.equal(await ask(nodes[i + 3].port, "CLUSTER", "REPLICATE", id), "OK");
    }
    const ports = nodes.map((n) => n.port);
    await waitForClusterOk(ports, 6);

    const client = new IoCluster([{ host: "127.0.0.1", port: m2.port }], { lazyConnect: true });
    await client.connect();
    try {
      for (let i = 0; i < 300; i++) await client.set(`fo:${i}`, String(i));
    } finally {
      client.disconnect();
    }
    const replica = nodes[3];
    const m1Id = await ask(m1.port, "CLUSTER", "MYID");
    await waitFor(
      async () =>
        (await ask(replica.port, "DBSIZE")) === (await ask(m1.port, "DBSIZE")) &&
        (await ask(replica.port, "DBSIZE")) !== "0",
      { what: "the replica to hold its master's keys" },
    );

    const stoppedAt = Date.now();
    Deno.kill(m1.pid, "SIGSTOP");
    try {
      await waitFor(async () => {
        const role = await ask(replica.port, "ROLE");
        return role.startsWith("master") &&
          infoField(await ask(m2.port, "CLUSTER", "INFO"), "cluster_state") === "ok" &&
          infoField(await ask(m3.port, "CLUSTER", "INFO"), "cluster_state") === "ok";
      }, { timeoutMs: 30_000, what: "the replica to take over and the cluster to be ok" });
      const seconds = (Date.now() - stoppedAt) / 1000;
      // Informational (a speed goal belongs in a benchmark); the bound only catches a hang.
      Deno.stderr.writeSync(
        new TextEncoder().encode(`failover took ${seconds.toFixed(1)} s (node timeout 2 s)\n`),
      );
      assert.ok(seconds < 15, `failover took ${seconds} s with a 2 s node timeout`);
      const line = (await ask(m2.port, "CLUSTER", "NODES")).split("\n")
        .find((l) => l.startsWith(m1Id)) as string;
      assert.match(line, /master,fail /);
      const reader = new IoCluster([{ host: "127.0.0.1", port: m3.port }], { lazyConnect: true });
      await reader.connect();
      try {
        for (let i = 0; i < 300; i++) assert.equal(await reader.get(`fo:${i}`), String(i));
      } finally {
        reader.disconnect();
      }
    } finally {
      Deno.kill(m1.pid, "SIGCONT");
    }
    const newMasterId = await ask(replica.port, "CLUSTER", "MYID");
    await waitFor(async () => {
      const nodesText = await ask(m1.port, "CLUSTER", "NODES");
      const mine = nodesText.split("\n").find((l) => l.includes("myself")) ?? "";
      return mine.includes("myself,slave") && mine.split(" ")[3] === newMasterId;
    }, { timeoutMs: 20_000, what: "the old master to follow the new one" });
    await waitForClusterOk(ports, 6);
    await waitFor(async () =>
      (await ask(m1.port, "DBSIZE")) === (await ask(replica.port, "DBSIZE"))
    );
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});

Deno.test("CLUSTER FAILOVER FORCE and TAKEOVER move a shard to its replica while the master runs", async () => {
  const nodes: ServerProcess[] = [];
  try {
    for (let i = 0; i < 4; i++) nodes.push(await startClusterNode());
    const [a, b, c, r] = nodes;
    const ranges = [["0", "5460"], ["5461", "10922"], ["10923", "16383"]];
    for (let i = 0; i < 3; i++) {
      assert.equal(await ask(nodes[i].port, "CLUSTER", "ADDSLOTSRANGE", ...ranges[i]), "OK");
    }
    for (const node of [b, c, r]) {
      assert.equal(await ask(a.port, "CLUSTER", "MEET", "127.0.0.1", String(node.port)), "OK");
    }
    await waitFor(async () =>
      (await ask(r.port, "CLUSTER", "INFO")).includes("cluster_known_nodes:4") &&
      (await ask(a.port, "CLUSTER", "INFO")).includes("cluster_known_nodes:4")
    );
    const aId = await ask(a.port, "CLUSTER", "MYID");
    const rId = await ask(r.port, "CLUSTER", "MYID");
    assert.equal(await ask(r.port, "CLUSTER", "REPLICATE", aId), "OK");
    const ports = nodes.map((n) => n.port);
    await waitForClusterOk(ports, 4);
    assert.equal(
      await ask(a.port, "CLUSTER", "FAILOVER"),
      "-ERR You should send CLUSTER FAILOVER to a replica",
    );
    assert.equal(await ask(r.port, "CLUSTER", "FAILOVER", "SOON"), "-ERR syntax error");
    assert.equal(await ask(a.port, "SET", "{x}k", "before"), "-MOVED 16287 127.0.0.1:" + c.port);

    // FORCE: an election with the master up; the masters vote because of FORCEACK.
    assert.equal(await ask(r.port, "CLUSTER", "FAILOVER", "FORCE"), "OK");
    const owner = async (id: string) => {
      for (const port of ports) {
        const self = (await ask(port, "CLUSTER", "NODES")).split("\n")
          .find((l) => l.startsWith(id)) ?? "";
        if (!self.includes("master") || !self.includes(" 0-5460")) return false;
      }
      return true;
    };
    await waitFor(() => owner(rId), { timeoutMs: 20_000, what: "every node to see r own 0-5460" });
    await waitFor(async () => (await ask(a.port, "ROLE")).startsWith("slave"), {
      what: "the old master to follow r",
    });
    await waitForClusterOk(ports, 4);

    // TAKEOVER: a, now the replica, takes the slots back without a vote.
    assert.equal(await ask(a.port, "CLUSTER", "FAILOVER", "TAKEOVER"), "OK");
    await waitFor(() => owner(aId), { timeoutMs: 20_000, what: "every node to see a own them" });
    await waitFor(async () => (await ask(r.port, "ROLE")).startsWith("slave"));
    await waitForClusterOk(ports, 4);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});

Deno.test("in a mixed cluster, redis-server and gocache masters elect each other's replicas", async () => {
  const g1Dir = await Deno.makeTempDir({ prefix: "gocache-mixed-" });
  let g1 = await startClusterNode({ dir: g1Dir });
  const g2 = await startClusterNode();
  const g3 = await startClusterNode();
  const r1 = await startRedisClusterNode();
  const r2 = await startRedisClusterNode();
  const all: { port: number; stop(): Promise<unknown> }[] = [g1, g2, g3, r1, r2];
  try {
    const masters = [g1, r1, g2];
    const ranges = [["0", "5460"], ["5461", "10922"], ["10923", "16383"]];
    for (let i = 0; i < 3; i++) {
      assert.equal(await ask(masters[i].port, "CLUSTER", "ADDSLOTSRANGE", ...ranges[i]), "OK");
      assert.equal(await ask(masters[i].port, "CLUSTER", "SET-CONFIG-EPOCH", String(i + 1)), "OK");
    }
    for (const node of [g2, g3, r1, r2]) {
      assert.equal(await ask(g1.port, "CLUSTER", "MEET", "127.0.0.1", String(node.port)), "OK");
    }
    await waitFor(async () => {
      for (const node of all) {
        if (!(await ask(node.port, "CLUSTER", "INFO")).includes("cluster_known_nodes:5")) {
          return false;
        }
      }
      return true;
    }, { what: "five nodes to know each other" });
    const id = (node: { port: number }) => ask(node.port, "CLUSTER", "MYID");
    // r2 (redis-server) replicates g1 (gocache); g3 (gocache) replicates r1 (redis-server).
    assert.equal(await ask(r2.port, "CLUSTER", "REPLICATE", await id(g1)), "OK");
    assert.equal(await ask(g3.port, "CLUSTER", "REPLICATE", await id(r1)), "OK");
    const ports = all.map((n) => n.port);
    await waitForClusterOk(ports, 5);
    assert.equal(await ask(g1.port, "SET", "hello", "from-g1"), "OK"); // slot 866
    await waitFor(async () => (await ask(r2.port, "DBSIZE")) === "1");

    // g1 is killed: redis-server r2 needs the votes of r1 (redis) and g2 (gocache).
    await g1.stop("SIGKILL");
    await waitFor(async () => (await ask(r2.port, "ROLE")).startsWith("master"), {
      timeoutMs: 30_000,
      what: "redis-server r2 to win the election",
    });
    await waitForClusterOk([r1.port, g2.port, g3.port, r2.port], 5);
    assert.equal(await ask(r2.port, "GET", "hello"), "from-g1");
    // Restarted on its nodes.conf, g1 sees r2's newer claim on its slots and follows it.
    g1 = await startClusterNode({ dir: g1Dir, port: g1.port });
    all.push(g1);
    await waitFor(async () => (await ask(g1.port, "ROLE")).startsWith("slave"), {
      timeoutMs: 20_000,
      what: "g1 to follow r2",
    });
    await waitForClusterOk(ports, 5);

    // r1 is killed: gocache g3 needs the votes of r2 (redis) and g2 (gocache).
    Deno.kill(r1.pid, "SIGKILL");
    await waitFor(async () => (await ask(g3.port, "ROLE")).startsWith("master"), {
      timeoutMs: 30_000,
      what: "gocache g3 to win the election",
    });
    await waitForClusterOk([g1.port, g2.port, g3.port, r2.port], 5);
    const r1Again = await startRedisClusterNode(["--dir", r1.dir], r1.port);
    all.push(r1Again);
    await waitFor(async () => (await ask(r1.port, "ROLE")).startsWith("slave"), {
      timeoutMs: 20_000,
      what: "r1 to follow g3",
    });
    await waitForClusterOk(ports, 5);
  } finally {
    await Promise.all(all.map((n) => n.stop()));
    await Deno.remove(g1Dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a replica whose data is too old does not stand, until CLUSTER FAILOVER FORCE", async () => {
  const nodes: ServerProcess[] = [];
  try {
    // The master pings its replica only every 100 s and nothing is written, so the replica's
    // last data from it ages; with validity factor 1 and a 1 s ping period of its own, the
    // replica may stand only while that age is under 2 s + 2 s x 1 + 1 s.
    nodes.push(await startClusterNode({ args: ["--repl-ping-replica-period", "100"] }));
    nodes.push(await startClusterNode(), await startClusterNode());
    nodes.push(
      await startClusterNode({
        args: ["--cluster-replica-validity-factor", "1", "--repl-ping-replica-period", "1"],
      }),
    );
    const [m, b, c, r] = nodes;
    const ranges = [["0", "5460"], ["5461", "10922"], ["10923", "16383"]];
    for (let i = 0; i < 3; i++) {
      assert.equal(await ask(nodes[i].port, "CLUSTER", "ADDSLOTSRANGE", ...ranges[i]), "OK");
    }
    for (const node of [b, c, r]) {
      assert.equal(await ask(m.port, "CLUSTER", "MEET", "127.0.0.1", String(node.port)), "OK");
    }
    await waitFor(async () =>
      (await ask(r.port, "CLUSTER", "INFO")).includes("cluster_known_nodes:4") &&
      (await ask(m.port, "CLUSTER", "INFO")).includes("cluster_known_nodes:4")
    );
    assert.equal(
      await ask(r.port, "CLUSTER", "REPLICATE", await ask(m.port, "CLUSTER", "MYID")),
      "OK",
    );
    await waitForClusterOk(nodes.map((n) => n.port), 4);
    await waitFor(async () => (await ask(r.port, "ROLE")).includes("connected"));
    // Time itself is the condition here: the replica's last data from m must grow old (4 s of
    // silence, plus the 2-3 s until m is marked FAIL, against the 5 s it may stand with).
    await new Promise((resolve) => setTimeout(resolve, 4000));
    Deno.kill(m.pid, "SIGSTOP");
    try {
      await waitFor(
        () => r.logs.some((l) => l.includes("Unable to failover: disconnected from the master")),
        { timeoutMs: 20_000, what: "the replica to refuse to stand" },
      );
      assert.ok((await ask(r.port, "ROLE")).startsWith("slave"));
      assert.equal(await ask(r.port, "CLUSTER", "FAILOVER", "FORCE"), "OK");
      await waitFor(async () => (await ask(r.port, "ROLE")).startsWith("master"), {
        timeoutMs: 20_000,
        what: "FORCE to elect the replica anyway",
      });
      await waitForClusterOk([b.port, c.port, r.port], 4);
    } finally {
      Deno.kill(m.pid, "SIGCONT");
    }
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});

Deno.test("the replica with the lower replica-priority stands first, whatever the offsets", async () => {
  const nodes: ServerProcess[] = [];
  try {
    for (let i = 0; i < 3; i++) nodes.push(await startClusterNode());
    const a = await startClusterNode({ args: ["--replica-priority", "100"] });
    const b = await startClusterNode({ args: ["--replica-priority", "10"] });
    nodes.push(a, b);
    const [m, x, y] = nodes;
    const ranges = [["0", "5460"], ["5461", "10922"], ["10923", "16383"]];
    for (let i = 0; i < 3; i++) {
      assert.equal(await ask(nodes[i].port, "CLUSTER", "ADDSLOTSRANGE", ...ranges[i]), "OK");
    }
    for (const node of [x, y, a, b]) {
      assert.equal(await ask(m.port, "CLUSTER", "MEET", "127.0.0.1", String(node.port)), "OK");
    }
    await waitFor(async () => {
      for (const node of nodes) {
        if (!(await ask(node.port, "CLUSTER", "INFO")).includes("cluster_known_nodes:5")) {
          return false;
        }
      }
      return true;
    });
    const mId = await ask(m.port, "CLUSTER", "MYID");
    for (const r of [a, b]) assert.equal(await ask(r.port, "CLUSTER", "REPLICATE", mId), "OK");
    // One view everywhere means each replica has seen the other as a replica of m, which it
    // learns from the other's own messages: those carry its priority too.
    await waitForClusterOk(nodes.map((n) => n.port), 5);
    await waitFor(async () => (await ask(a.port, "ROLE")).includes("connected"));
    await waitFor(async () => (await ask(b.port, "ROLE")).includes("connected"));
    Deno.kill(m.pid, "SIGSTOP");
    try {
      await waitFor(async () => (await ask(b.port, "ROLE")).startsWith("master"), {
        timeoutMs: 30_000,
        what: "b (priority 10) to win",
      });
      await waitFor(async () =>
        (await ask(a.port, "CLUSTER", "NODES")).includes(
          `myself,slave ${await ask(b.port, "CLUSTER", "MYID")}`,
        ), { what: "a to follow b" });
      // Ranks as scheduled: b first, a one second later (offsets are equal, so Redis's rule
      // alone would have given both rank 0).
      assert.ok(b.logs.some((l) => l.includes("rank #0")), "b stood at rank 0");
      assert.ok(a.logs.some((l) => l.includes("rank #1")), "a stood at rank 1");
    } finally {
      Deno.kill(m.pid, "SIGCONT");
    }
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});

Deno.test("a master cut off from the other masters stops serving, even its own slots", async () => {
  const nodes: ServerProcess[] = [];
  try {
    for (let i = 0; i < 3; i++) nodes.push(await startClusterNode());
    const [m, x, y] = nodes;
    const ranges = [["0", "5460"], ["5461", "10922"], ["10923", "16383"]];
    for (let i = 0; i < 3; i++) {
      assert.equal(await ask(nodes[i].port, "CLUSTER", "ADDSLOTSRANGE", ...ranges[i]), "OK");
    }
    for (const node of [x, y]) {
      assert.equal(await ask(m.port, "CLUSTER", "MEET", "127.0.0.1", String(node.port)), "OK");
    }
    await waitForClusterOk(nodes.map((n) => n.port), 3);
    assert.equal(await ask(m.port, "SET", "hello", "1"), "OK"); // slot 866, m's own
    for (const node of [x, y]) Deno.kill(node.pid, "SIGSTOP");
    try {
      // Until the node timeout has passed it still serves (Redis's window too); then it stops.
      await waitFor(async () => (await ask(m.port, "GET", "hello")).startsWith("-CLUSTERDOWN"), {
        timeoutMs: 20_000,
        what: "the minority master to refuse queries",
      });
      assert.equal(await ask(m.port, "SET", "hello", "2"), "-CLUSTERDOWN The cluster is down");
      assert.equal(await ask(m.port, "GET", "hello"), "-CLUSTERDOWN The cluster is down");
    } finally {
      for (const node of [x, y]) Deno.kill(node.pid, "SIGCONT");
    }
    await waitForClusterOk(nodes.map((n) => n.port), 3);
    assert.equal(await ask(m.port, "GET", "hello"), "1");
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});
