/**
 * `gocache cluster` on one shared cluster of gocache nodes formed with `cluster-init --nodes`,
 * 300 keys written first: `check` and `info` report it; refused input (usage mistakes, an
 * unreachable node, an unknown shard, a non-empty new node) changes nothing; `add-shard
 * --dry-run` only prints; `add-shard` moves the plan's 28.1% of the slots and exactly the keys
 * of those slots, every key still readable through ioredis's Cluster client; `reshard` (also
 * with `--atomic`, through CLUSTER MIGRATESLOTS),
 * `rebalance` (nothing to do within the threshold, the strays with `--threshold 0`), and
 * `remove-shard` gives the slots back, so that the layout is the one cluster-init made, and the
 * cluster forgets the shard's nodes.
 *
 * Moving a slot by Redis's path makes every master rewrite nodes.conf several times, so the nodes
 * keep their data in /dev/shm where there is one: on disk the two 4096-slot moves take longer.
 */
import assert from "node:assert/strict";
import { Cluster as IoCluster } from "ioredis";
import { runCli, type ServerProcess } from "../support/server.ts";
import {
  ask,
  freeClusterPort,
  parseClusterNodes,
  startClusterNode,
  waitForClusterOk,
} from "../support/cluster.ts";
import { keySlot } from "../../src/cluster/key_slot.ts";

const KEYS = 300;
const encoder = new TextEncoder();
const address = (node: ServerProcess) => `127.0.0.1:${node.port}`;

async function dataDir(): Promise<string> {
  try {
    return await Deno.makeTempDir({ dir: "/dev/shm", prefix: "gocache-manage-" });
  } catch {
    return await Deno.makeTempDir({ prefix: "gocache-manage-" });
  }
}

/** Runs `gocache cluster ARGS`. */
function manage(...args: string[]) {
  return runCli(["cluster", ...args]);
}

/** The port of the master serving each slot, in `port`'s view. */
async function ownersSeenBy(port: number): Promise<number[]> {
  const owners = new Array<number>(16384).fill(-1);
  for (const n of parseClusterNodes(await ask(port, "CLUSTER", "NODES"))) {
    if (!n.flags.includes("master")) continue;
    for (const [a, b] of n.slots) for (let s = a; s <= b; s++) owners[s] = n.port;
  }
  return owners;
}

/** Every key read through the cluster client has the value it was written with. */
/** Slots per owning port, sorted by port. */
function counts(owners: readonly number[]): [number, number][] {
  const byPort = new Map<number, number>();
  for (const port of owners) byPort.set(port, (byPort.get(port) ?? 0) + 1);
  return [...byPort].sort((x, y) => x[0] - y[0]);
}

async function assertKeysIntact(client: IoCluster): Promise<void> {
  for (let i = 0; i < KEYS; i++) {
    assert.equal(await client.get(`key:${i}`), `value-${i}`, `key:${i}`);
  }
}

Deno.test("gocache cluster checks, grows, reshards, rebalances and shrinks a cluster", async (t) => {
  const root = await dataDir();
  const start = (name: string) =>
    Deno.mkdir(`${root}/${name}`).then(() => startClusterNode({ dir: `${root}/${name}` }));
  let client: IoCluster | null = null;
  try {
    await using a = await start("a");
    await using b = await start("b");
    await using c = await start("c");
    await using d = await start("d");
    await using e = await start("e");
    const three = [a, b, c];
    const init = await runCli(["cluster-init", "--nodes", three.map(address).join(","), "--yes"]);
    assert.equal(init.code, 0, init.stderr);
    await waitForClusterOk(three.map((n) => n.port), 3);
    client = new IoCluster([{ host: "127.0.0.1", port: a.port }], { lazyConnect: true });
    client.on("error", () => {});
    await client.connect();
    for (let i = 0; i < KEYS; i++) await client.set(`key:${i}`, `value-${i}`);
    const initial = await ownersSeenBy(a.port);
    const node = ["--node", address(b)];

    await t.step("check and info report the shards, slots and keys", async () => {
      const check = await manage("check", ...node);
      assert.equal(check.code, 0, check.stdout + check.stderr);
      assert.match(check.stdout, /: 3 shards, 3 nodes \(0 replicas\)/);
      assert.match(check.stdout, /^shard-1: 127\.0\.0\.1:\d+ \([0-9a-f]{40}\), 5504 slots/m);
      assert.match(check.stdout, /\[OK\] All 16384 slots covered/);
      assert.match(check.stdout, /\[OK\] No open slots/);
      assert.doesNotMatch(check.stdout, /\[ERR\]/);
      const info = await manage("info", ...node);
      assert.equal(info.code, 0, info.stderr);
      assert.match(info.stdout, /^shard\s+id\s+address\s+slots\s+ranges\s+keys\s+replicas$/m);
      assert.match(
        info.stdout,
        new RegExp(`^shard-2\\s+[0-9a-f]{40}\\s+127\\.0\\.0\\.1:\\d+\\s+5440`, "m"),
      );
      assert.match(
        info.stdout,
        new RegExp(`3 masters, 0 replicas, 16384/16384 slots, ${KEYS} keys`),
      );
    });

    await t.step("refused input is named, exits 1 or 2, and changes nothing", async () => {
      const cases: [string[], number, RegExp][] = [
        [["frobnicate", ...node], 2, /unknown command 'frobnicate'/],
        [["add-shard", ...node], 2, /--new HOST:PORT is required/],
        [["check", ...node, "--new", address(d)], 2, /check takes no --new/],
        [["rebalance", ...node, "--threshold", "lots"], 2, /--threshold must be a percentage/],
        [["info", "--node", `127.0.0.1:${freeClusterPort()}`], 1, /cannot reach 127\.0\.0\.1:\d+/],
        [
          ["remove-shard", ...node, "--shard", "127.0.0.1:1", "--yes"],
          1,
          /unknown node '127\.0\.0\.1:1'/,
        ],
        [
          ["reshard", ...node, "--slots", "10", "--from", "shard-1", "--to", "shard-9"],
          1,
          /unknown node 'shard-9'/,
        ],
      ];
      for (const [args, code, message] of cases) {
        const result = await manage(...args);
        assert.equal(result.code, code, `${args.join(" ")}: ${result.stdout}${result.stderr}`);
        assert.match(result.stderr, message);
      }
      // d knows e: not an empty node to add.
      assert.equal(await ask(d.port, "CLUSTER", "MEET", "127.0.0.1", String(e.port)), "OK");
      const busy = await manage("add-shard", ...node, "--new", address(d), "--yes");
      assert.equal(busy.code, 1);
      assert.match(busy.stderr, new RegExp(`${address(d)} is not empty`));
      for (const n of [d, e]) assert.equal(await ask(n.port, "CLUSTER", "RESET", "HARD"), "OK");
      assert.deepEqual(await ownersSeenBy(a.port), initial);
      assert.match(await ask(a.port, "CLUSTER", "INFO"), /cluster_known_nodes:3\r\n/);
    });

    await t.step("add-shard --dry-run prints the plan and changes nothing", async () => {
      const dry = await manage("add-shard", ...node, "--new", address(d), "--dry-run");
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /^shard-4\s+127\.0\.0\.1:\d+\s+0 -> 4096 slots \(new\)$/m);
      assert.match(dry.stdout, /Moves: 4096 slots \(25\.0% of 16384\)/);
      assert.match(dry.stdout, /Dry run: nothing changed/);
      assert.deepEqual(await ownersSeenBy(a.port), initial);
      assert.match(await ask(d.port, "CLUSTER", "INFO"), /cluster_known_nodes:1\r\n/);
    });

    await t.step(
      "add-shard moves exactly a quarter of the slots and their keys, every key readable",
      async () => {
        const added = await manage(
          "add-shard",
          ...node,
          "--new",
          address(d),
          "--replica",
          address(e),
          "--yes",
        );
        assert.equal(added.code, 0, added.stdout + added.stderr);
        assert.match(added.stderr, /Nodes that know every other node: 5\/5/);
        assert.match(added.stderr, /Slots moved: 4096\/4096/);
        const after = await ownersSeenBy(a.port);
        const moved = after.filter((p, slot) => p !== initial[slot]).length;
        assert.equal(moved, 4096, "3 -> 4 shards moves the ideal quarter, no more");
        assert.equal(after.filter((p) => p === d.port).length, 4096);
        const keysMoved = Array.from({ length: KEYS }, (_, i) =>
          keySlot(encoder.encode(`key:${i}`)))
          .filter((slot) => after[slot] !== initial[slot]).length;
        assert.match(added.stdout, new RegExp(`4096 slots moved, ${keysMoved} keys`));
        assert.ok(Math.abs(keysMoved / KEYS - moved / 16384) < 0.1, `${keysMoved} keys moved`);
        const onD = Array.from({ length: KEYS }, (_, i) => keySlot(encoder.encode(`key:${i}`)))
          .filter((slot) => after[slot] === d.port).length;
        assert.equal(await ask(d.port, "DBSIZE"), String(onD));
        await assertKeysIntact(client as IoCluster);
        const dView = parseClusterNodes(await ask(a.port, "CLUSTER", "NODES"));
        const dId = dView.find((n) => n.port === d.port)?.id;
        assert.equal(dView.find((n) => n.port === e.port)?.master, dId, "e follows d");
        const check = await manage("check", ...node);
        assert.equal(check.code, 0, check.stdout);
        assert.match(check.stdout, /4 shards, 5 nodes \(1 replica\)/);
      },
    );

    await t.step("rebalance does nothing on a balanced cluster", async () => {
      const result = await manage("rebalance", ...node, "--yes");
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout,
        /Nothing to move: every shard is within 2\.0% of an even share/,
      );
    });

    await t.step(
      "reshard moves 10 slots; rebalance --threshold 0 evens the shards again",
      async () => {
        const before = await ownersSeenBy(a.port);
        const result = await manage(
          "reshard",
          ...node,
          "--slots",
          "10",
          "--from",
          "shard-1",
          "--to",
          "shard-4",
          "--yes",
        );
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.match(result.stdout, /Resharded: 10 slots moved/);
        const after = await ownersSeenBy(a.port);
        assert.equal(after.filter((p, s) => p !== before[s]).length, 10);
        assert.equal(after.filter((p) => p === d.port).length, 4106);
        await assertKeysIntact(client as IoCluster);
        const within = await manage("rebalance", ...node, "--yes");
        assert.match(within.stdout, /Nothing to move/);
        const back = await manage("rebalance", ...node, "--threshold", "0%", "--yes");
        assert.equal(back.code, 0, back.stderr);
        assert.match(back.stdout, /Rebalanced: 10 slots moved/);
        assert.deepEqual(counts(await ownersSeenBy(a.port)), counts(before));
      },
    );

    await t.step("--atomic moves slot ranges with MIGRATESLOTS, there and back", async () => {
      const before = await ownersSeenBy(a.port);
      const result = await manage(
        "reshard",
        ...node,
        "--slots",
        "500",
        "--from",
        "shard-2",
        "--to",
        "shard-4",
        "--atomic",
        "--yes",
      );
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /Resharded: 500 slots moved/);
      const after = await ownersSeenBy(a.port);
      assert.equal(after.filter((p, s) => p !== before[s]).length, 500);
      assert.equal(after.filter((p) => p === d.port).length, 4596);
      const jobs = await ask(b.port, "CLUSTER", "GETSLOTMIGRATIONS");
      assert.match(jobs, /success/, "the move was a MIGRATESLOTS job on the source");
      await assertKeysIntact(client as IoCluster);
      const back = await manage("rebalance", ...node, "--threshold", "0%", "--atomic", "--yes");
      assert.equal(back.code, 0, back.stdout + back.stderr);
      assert.match(back.stdout, /Rebalanced: 500 slots moved/);
      assert.deepEqual(counts(await ownersSeenBy(a.port)), counts(before));
      await assertKeysIntact(client as IoCluster);
    });

    await t.step("remove-shard gives the slots back and forgets the shard's nodes", async () => {
      const before = await ownersSeenBy(a.port);
      const removed = await manage("remove-shard", ...node, "--shard", "shard-4", "--yes");
      assert.equal(removed.code, 0, removed.stdout + removed.stderr);
      assert.match(removed.stdout, /Removed shard-4 .*: 4096 slots moved/);
      const after = await ownersSeenBy(a.port);
      assert.deepEqual(
        counts(after).map(([, n]) => n).sort(),
        [5461, 5461, 5462],
        "even shares of the three",
      );
      assert.ok(
        after.every((p, slot) => p === before[slot] || before[slot] === d.port),
        "only shard-4's slots moved",
      );
      await waitForClusterOk(three.map((n) => n.port), 3);
      for (const n of [d, e]) {
        assert.match(await ask(n.port, "CLUSTER", "INFO"), /cluster_known_nodes:1\r\n/);
      }
      await assertKeysIntact(client as IoCluster);
      const check = await manage("check", ...node);
      assert.equal(check.code, 0, check.stdout);
    });
  } finally {
    client?.disconnect();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});
