/**
 * Redis's own resharding tools on gocache clusters, with real processes: while an ioredis
 * Cluster client writes a steady, bounded load (some keys with a TTL), `redis-cli --cluster`
 * adds a fourth gocache master, rebalances slots onto it, reshards some back, empties it (as in
 * Redis 7.0, a master left without slots becomes a replica of the node that took its last one)
 * and deletes it; then a redis-server master joins and slots with keys move from a gocache master to
 * it and back (DUMP payloads travel both ways through MIGRATE and RESTORE-ASKING). After every
 * step `--cluster check` passes, no node sees a slot claimed by two masters, and no acknowledged
 * write is lost: each key is on its slot's owner with its value, and keys written with a TTL
 * still have one. The duration of every redis-cli step is printed on stderr.
 */
import assert from "node:assert/strict";
import { Cluster as IoCluster } from "ioredis";
import {
  ask,
  parseClusterNodes,
  runTool,
  slotsClaimedTwice,
  startClusterNode,
  startRedisClusterNode,
  waitForClusterOk,
} from "../support/cluster.ts";
import { waitFor } from "../support/wait_for.ts";
import { verifyAcked } from "../support/migration.ts";

const encoder = new TextEncoder();

function note(line: string): void {
  Deno.stderr.writeSync(encoder.encode(`[reshard] ${line}\n`));
}

/** Runs `redis-cli --cluster ARGS`, asserts exit 0, notes its duration; returns its stdout. */
async function redisCli(what: string, args: string[]): Promise<string> {
  const started = performance.now();
  const result = await runTool("redis-cli", ["--cluster", ...args]);
  note(`${what}: ${(performance.now() - started).toFixed(0)} ms`);
  assert.equal(result.code, 0, `${what} exited ${result.code}:\n${result.out}${result.err}`);
  return result.out;
}

/** A write acknowledged by the cluster: the value, and whether it was set with a TTL. */
interface Acked {
  value: string;
  ttl: boolean;
}

/**
 * A steady, bounded write load: `workers` loops each SET a new key every few milliseconds (one
 * key in three with PX 600000) until `max` keys were tried or {@link stop} is called.
 */
class Load {
  readonly acked = new Map<string, Acked>();
  readonly errors: string[] = [];
  #next = 0;
  #stopped = false;
  readonly #done: Promise<void[]>;

  constructor(cluster: IoCluster, max: number, workers = 2, pauseMs = 8) {
    const worker = async () => {
      while (!this.#stopped && this.#next < max) {
        const i = this.#next++;
        const key = `load:${i}`;
        const value = `value-${i}-${Math.random().toString(36).slice(2)}`;
        const ttl = i % 3 === 0;
        try {
          if (ttl) await cluster.set(key, value, "PX", 600_000);
          else await cluster.set(key, value);
          this.acked.set(key, { value, ttl });
        } catch (e) {
          this.errors.push(`${key}: ${e}`);
        }
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    };
    this.#done = Promise.all(Array.from({ length: workers }, worker));
  }

  /** Stops the writers and waits for the writes in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }
}

/** `redis-cli --cluster check` from `port` passes and covers every slot. */
async function check(port: number): Promise<void> {
  const out = await redisCli(`check from ${port}`, ["check", `127.0.0.1:${port}`]);
  assert.match(out, /All nodes agree about slots configuration/);
  assert.match(out, /All 16384 slots covered/);
}

/**
 * After a step: the nodes agree, check passes, no node's view has a slot claimed twice, and
 * every acknowledged write is on its slot's owner with its value (and its TTL when set with one).
 */
async function verify(ports: readonly number[], load: Load): Promise<void> {
  await waitForClusterOk(ports);
  await check(ports[0]);
  for (const port of ports) {
    const twice = slotsClaimedTwice(parseClusterNodes(await ask(port, "CLUSTER", "NODES")));
    assert.deepEqual(twice, [], `slots claimed twice in ${port}'s view`);
  }
  const checked = await verifyAcked(ports[0], load);
  assert.deepEqual(load.errors, [], "failed writes");
  note(`verified ${checked} acknowledged writes`);
}

/** The id of the node on `port`. */
function idOf(port: number): Promise<string> {
  return ask(port, "CLUSTER", "MYID");
}

/** How many slots the node with `id` serves in `port`'s view. */
async function slotCount(port: number, id: string): Promise<number> {
  const node = parseClusterNodes(await ask(port, "CLUSTER", "NODES")).find((n) => n.id === id);
  return (node?.slots ?? []).reduce((sum, [a, b]) => sum + b - a + 1, 0);
}

/** Waits until every node sees the node `id` as a replica of `master`. */
async function replicaOf(ports: readonly number[], id: string, master: string): Promise<void> {
  await waitFor(async () => {
    for (const port of ports) {
      const node = parseClusterNodes(await ask(port, "CLUSTER", "NODES")).find((n) => n.id === id);
      if (!node?.flags.includes("slave") || node.master !== master) return false;
    }
    return true;
  }, { what: `${id} to replicate ${master} in every view` });
}

/** Moves `count` slots (with their keys) from `from` to `to` through `redis-cli --cluster`. */
async function reshard(
  what: string,
  via: number,
  from: string,
  to: string,
  count: number,
): Promise<void> {
  await redisCli(what, [
    "reshard",
    `127.0.0.1:${via}`,
    "--cluster-from",
    from,
    "--cluster-to",
    to,
    "--cluster-slots",
    String(count),
    "--cluster-yes",
  ]);
}

Deno.test("redis-cli --cluster adds, rebalances, reshards and deletes nodes under load", async (t) => {
  // Disposed in reverse: the load stops, the client disconnects, then every node stops (and a
  // gocache node that did not exit cleanly fails the test).
  await using stack = new AsyncDisposableStack();
  // Failover is not under test here: a 5 s node timeout keeps a node starved of CPU by the
  // parallel suite from being suspected (or its write lease from lapsing) mid-reshard.
  const started = await Promise.all(
    [0, 1, 2, 3].map(() => startClusterNode({ args: ["--cluster-node-timeout", "5000"] })),
  );
  for (const node of started) stack.use(node);
  const [g1, g2, g3, g4] = started;
  const three = [g1.port, g2.port, g3.port];
  await redisCli("create (3 gocache masters)", [
    "create",
    ...three.map((p) => `127.0.0.1:${p}`),
    "--cluster-replicas",
    "0",
    "--cluster-yes",
  ]);
  await waitForClusterOk(three);
  const client = new IoCluster([{ host: "127.0.0.1", port: g1.port }], { lazyConnect: true });
  client.on("error", () => {});
  await client.connect();
  stack.defer(() => client.disconnect());
  const load = new Load(client, 8000);
  stack.defer(() => load.stop());
  const four = [...three, g4.port];
  const [id1, id2, , id4] = await Promise.all(four.map(idOf));

  await t.step("add-node and rebalance give the new gocache master a quarter", async () => {
    await redisCli("add-node", ["add-node", `127.0.0.1:${g4.port}`, `127.0.0.1:${g1.port}`]);
    await waitForClusterOk(four);
    await verify(four, load);
    await redisCli("rebalance --cluster-use-empty-masters", [
      "rebalance",
      `127.0.0.1:${g1.port}`,
      "--cluster-use-empty-masters",
    ]);
    const got = await slotCount(g1.port, id4);
    assert.ok(got > 3800 && got < 4400, `the new master serves ${got} slots`);
    await verify(four, load);
  });

  await t.step("reshard moves slots back to an old master", async () => {
    const before = await slotCount(g1.port, id1);
    await reshard("reshard 500 slots g4 -> g1", g1.port, id4, id1, 500);
    assert.equal(await slotCount(g1.port, id1), before + 500);
    await verify(four, load);
  });

  await t.step("the fourth master is emptied and deleted with del-node", async () => {
    const left = await slotCount(g1.port, id4);
    await reshard(`reshard all ${left} slots g4 -> g2`, g1.port, id4, id2, left);
    assert.equal(await slotCount(g1.port, id4), 0);
    // As in Redis 7.0, a master left without slots follows the node that took its last one.
    await replicaOf(four, id4, id2);
    await verify(four, load);
    await redisCli("del-node", ["del-node", `127.0.0.1:${g1.port}`, id4]);
    await g4.stop();
    await verify(three, load);
  });

  await t.step("slots with keys move to a redis-server master and back", async () => {
    const r1 = stack.use(await startRedisClusterNode(["--cluster-node-timeout", "5000"]));
    const mixed = [...three, r1.port];
    await redisCli("add-node (redis-server)", [
      "add-node",
      `127.0.0.1:${r1.port}`,
      `127.0.0.1:${g1.port}`,
    ]);
    await waitForClusterOk(mixed);
    const idR = await idOf(r1.port);
    await reshard("reshard 400 slots g1 -> redis-server", g1.port, id1, idR, 400);
    const moved = Number(await ask(r1.port, "DBSIZE"));
    assert.ok(moved > 50, `redis-server holds ${moved} keys`);
    await verify(mixed, load);
    await reshard("reshard 400 slots redis-server -> g1", g1.port, idR, id1, 400);
    assert.equal(await slotCount(g1.port, idR), 0);
    // redis-server, left without slots, becomes a replica of the gocache master that took them.
    await replicaOf(mixed, idR, id1);
    await verify(mixed, load);
    await load.stop();
    await verify(mixed, load);
    note(`${load.acked.size} acknowledged writes in all`);
  });
});
