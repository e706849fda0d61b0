/**
 * Coordinated manual failover (plain CLUSTER FAILOVER) and replica migration, in one mixed
 * cluster of gocache and redis-server nodes: a replica takes over while a client writes without
 * pause, and every write its old master acknowledged is on it (gocache to gocache, gocache
 * replica of a redis-server master, redis-server replica of a gocache master); then, with one
 * master left without its replica, a spare replica of the master with two moves to it, but only
 * once cluster-migration-barrier allows it.
 */
import assert from "node:assert/strict";
import type { ServerProcess } from "../support/server.ts";
import type { RedisProcess } from "../support/redis_server.ts";
import {
  ask,
  infoField,
  parseClusterNodes,
  startClusterNode,
  startRedisClusterNode,
  waitForClusterOk,
} from "../support/cluster.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import { waitFor } from "../support/wait_for.ts";
import { keySlotOfBinary } from "../../src/cluster/key_slot.ts";

type Node = { port: number };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const RANGES = [[0, 5460], [5461, 10922], [10923, 16383]];

/** A hash tag whose slot is in `[from, to]`. */
function tagIn([from, to]: number[]): string {
  for (let i = 0;; i++) {
    const slot = keySlotOfBinary(`{t${i}}`);
    if (slot >= from && slot <= to) return `{t${i}}`;
  }
}

/**
 * Sets `<tag>:0`, `<tag>:1`, ... one at a time from `port` on, following MOVED, retrying a
 * refused key, until stopped; remembers the keys acknowledged with +OK.
 */
class Writer {
  readonly acked: string[] = [];
  redirects = 0;
  #stopped = false;
  readonly #done: Promise<void>;

  constructor(port: number, tag: string) {
    this.#done = this.#run(port, tag);
  }

  async #run(port: number, tag: string): Promise<void> {
    let conn = await RespConn.connect(port);
    try {
      for (let n = 0; !this.#stopped;) {
        const key = `${tag}:${n}`;
        const reply = String(plain(await conn.call("SET", key, String(n))));
        const moved = /^-MOVED \d+ [\d.]+:(\d+)$/.exec(reply);
        if (reply === "OK") {
          this.acked.push(key);
          n++;
        } else if (moved !== null) {
          conn.close();
          conn = await RespConn.connect(Number(moved[1]));
          this.redirects++;
        } else await sleep(20);
      }
    } finally {
      conn.close();
    }
  }

  /** Stops writing; resolves once the last write was answered. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }
}

const id = (node: Node) => ask(node.port, "CLUSTER", "MYID");

/** The master id `node` says `of` follows, in `node`'s own CLUSTER NODES. */
async function masterOf(node: Node, of: string): Promise<string | undefined> {
  const view = parseClusterNodes(await ask(node.port, "CLUSTER", "NODES"));
  const line = view.find((l) => l.id === of);
  return line?.flags.includes("slave") ? line.master : undefined;
}

/**
 * Sends a plain CLUSTER FAILOVER to `replica` while a client writes to the shard, and checks
 * that the roles swapped and that `replica` holds every acknowledged write.
 */
async function failoverUnderWrites(replica: Node, master: Node, tag: string): Promise<void> {
  const [replicaId, masterId] = [await id(replica), await id(master)];
  // Synced: the link is up and, the master being idle, the offsets are equal.
  await waitFor(async () => {
    const info = await ask(replica.port, "INFO", "replication");
    const offset = infoField(await ask(master.port, "INFO", "replication"), "master_repl_offset");
    return infoField(info, "master_link_status") === "up" &&
      infoField(info, "master_sync_in_progress") === "0" &&
      infoField(info, "slave_repl_offset") === offset;
  }, { timeoutMs: 15_000, what: "the replica to have its master's copy" });
  const writer = new Writer(master.port, tag);
  try {
    await waitFor(() => writer.acked.length >= 200, { what: "writes before the failover" });
    assert.equal(await ask(replica.port, "CLUSTER", "FAILOVER"), "OK");
    await waitFor(async () => (await masterOf(master, masterId)) === replicaId, {
      timeoutMs: 15_000,
      what: "the old master to follow its replica",
    });
    const after = writer.acked.length;
    await waitFor(() => writer.acked.length >= after + 200, { what: "writes to the new master" });
  } finally {
    await writer.stop();
  }
  assert.ok(writer.redirects >= 1, "the writer was sent to the new master");
  assert.ok((await ask(replica.port, "ROLE")).startsWith("master"));
  await using conn = await RespConn.connect(replica.port);
  for (const key of writer.acked) await conn.send("GET", key);
  const missing: string[] = [];
  for (const key of writer.acked) {
    if (plain(await conn.read()) !== key.slice(key.indexOf(":") + 1)) missing.push(key);
  }
  assert.deepEqual(missing, [], `${missing.length} of ${writer.acked.length} writes lost`);
}

Deno.test("plain CLUSTER FAILOVER loses no write, gocache and redis-server either way; a spare replica migrates to an orphaned master", async (t) => {
  const nodes: (ServerProcess | RedisProcess)[] = [];
  try {
    const g1 = await startClusterNode();
    const g2 = await startClusterNode();
    const r1 = await startRedisClusterNode();
    const g3 = await startClusterNode();
    const g4 = await startClusterNode();
    nodes.push(g1, g2, r1, g3, g4);
    const masters = [g1, r1, g4];
    for (let i = 0; i < 3; i++) {
      const [from, to] = RANGES[i].map(String);
      assert.equal(await ask(masters[i].port, "CLUSTER", "ADDSLOTSRANGE", from, to), "OK");
      assert.equal(await ask(masters[i].port, "CLUSTER", "SET-CONFIG-EPOCH", String(i + 1)), "OK");
    }
    for (const node of nodes.slice(1)) {
      assert.equal(await ask(g1.port, "CLUSTER", "MEET", "127.0.0.1", String(node.port)), "OK");
    }
    await waitFor(async () => {
      for (const node of nodes) {
        if (!(await ask(node.port, "CLUSTER", "INFO")).includes("cluster_known_nodes:5")) {
          return false;
        }
      }
      return true;
    }, { what: "five nodes to know each other" });
    assert.equal(await ask(g2.port, "CLUSTER", "REPLICATE", await id(g1)), "OK");
    assert.equal(await ask(g3.port, "CLUSTER", "REPLICATE", await id(r1)), "OK");
    await waitForClusterOk(nodes.map((n) => n.port), 5);

    await t.step("refusals as Redis's", async () => {
      assert.equal(
        await ask(g1.port, "CLUSTER", "FAILOVER"),
        "-ERR You should send CLUSTER FAILOVER to a replica",
      );
    });

    await t.step("gocache replica of a gocache master", async () => {
      await failoverUnderWrites(g2, g1, tagIn(RANGES[0]));
      assert.ok(g1.logs.some((l) => l.includes("Manual failover requested by replica")));
      await waitForClusterOk(nodes.map((n) => n.port), 5);
    });

    await t.step("gocache replica of a redis-server master", async () => {
      await failoverUnderWrites(g3, r1, tagIn(RANGES[1]));
      await waitForClusterOk(nodes.map((n) => n.port), 5);
    });

    await t.step("redis-server replica of a gocache master", async () => {
      await failoverUnderWrites(r1, g3, tagIn(RANGES[1]));
      assert.ok(g3.logs.some((l) => l.includes("Manual failover requested by replica")));
      await waitForClusterOk(nodes.map((n) => n.port), 5);
    });

    await t.step("a spare replica migrates to an orphaned master, past the barrier", async () => {
      // Shard A (master g2) gets a second replica, shard C (g4) one; shard B is r1 with g3.
      const g5 = await startClusterNode({ args: ["--cluster-migration-barrier", "2"] });
      const g6 = await startClusterNode();
      nodes.push(g5, g6);
      for (const node of [g5, g6]) {
        assert.equal(await ask(g2.port, "CLUSTER", "MEET", "127.0.0.1", String(node.port)), "OK");
      }
      await waitFor(async () =>
        (await ask(g5.port, "CLUSTER", "INFO")).includes("cluster_known_nodes:7") &&
        (await ask(g6.port, "CLUSTER", "INFO")).includes("cluster_known_nodes:7")
      );
      assert.equal(await ask(g5.port, "CLUSTER", "REPLICATE", await id(g2)), "OK");
      assert.equal(await ask(g6.port, "CLUSTER", "REPLICATE", await id(g4)), "OK");
      assert.equal(await ask(g1.port, "CONFIG", "SET", "cluster-migration-barrier", "2"), "OK");
      await waitForClusterOk(nodes.map((n) => n.port), 7);
      const [g1Id, g2Id, g3Id, g5Id, r1Id] = await Promise.all([g1, g2, g3, g5, r1].map(id));

      await g3.stop();
      const failed = async (node: Node) =>
        parseClusterNodes(await ask(node.port, "CLUSTER", "NODES"))
          .find((l) => l.id === g3Id)?.flags.includes("fail");
      await waitFor(async () => (await failed(g1)) && (await failed(g5)), {
        what: "g3 to be marked FAIL",
      });
      // With the barrier at 2, g2's two replicas stay: longer than the 5 s migration delay.
      await sleep(6500);
      assert.equal(await masterOf(g1, g1Id), g2Id);
      assert.equal(await masterOf(g5, g5Id), g2Id);

      for (const node of [g1, g5]) {
        assert.equal(await ask(node.port, "CONFIG", "SET", "cluster-migration-barrier", "1"), "OK");
      }
      const [moving, staying] = g1Id < g5Id ? [g1Id, g5Id] : [g5Id, g1Id];
      await waitFor(async () => (await masterOf(r1, moving)) === r1Id, {
        timeoutMs: 20_000,
        what: "the replica with the smaller id to follow r1 in redis-server's view",
      });
      await waitFor(async () => {
        for (const node of [g1, g2, g4, g5, g6]) {
          if ((await masterOf(node, moving)) !== r1Id) return false;
          if ((await masterOf(node, staying)) !== g2Id) return false;
        }
        return true;
      }, { what: "every node to see one replica moved and the other stay" });
    });
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});
