/**
 * What Redis Sentinel sends to the nodes it monitors, sent to redis-server and gocache alike:
 * its reconfiguration transaction (MULTI, SLAVEOF, CONFIG REWRITE, CLIENT KILL TYPE normal and
 * pubsub, EXEC, as Redis 7.0's sentinelSendSlaveOf writes it), and the ROLE and INFO fields it
 * (and Sentinel-aware clients) read from a follower whose link has never been up.
 */
import assert from "node:assert/strict";
import { freePort } from "../support/redis_server.ts";
import { type Arg, type ConnPair, itemsOf, type Shape, textOf, unshow, withBoth } from "./_diff.ts";

/** Sentinel's transaction: REPLICAOF `target` (host and port, or NO ONE), then the rest. */
async function sentinelTransaction(c: ConnPair, target: [Arg, Arg]): Promise<Shape> {
  for (
    const command of [
      ["SLAVEOF", ...target],
      ["CONFIG", "REWRITE"],
      ["CLIENT", "KILL", "TYPE", "normal"],
      ["CLIENT", "KILL", "TYPE", "pubsub"],
    ]
  ) await c.assertSame(command);
  return await c.assertSame(["EXEC"]);
}

/** INFO replication's fields as a map. */
function infoMap(shape: Shape): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of unshow(textOf(shape)).split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0 && !line.startsWith("#")) map.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return map;
}

Deno.test("Sentinel's reconfiguration transaction gets the same replies from redis-server and gocache", async (t) => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();
    await c.assertSame(["CLIENT", "SETNAME", "sentinel-0123abcd-cmd"]);

    await t.step("CONFIG REWRITE without a config file fails with Redis's error", async () => {
      await c.assertSame(["CONFIG", "REWRITE"]);
      await c.assertSame(["CONFIG", "REWRITE", "extra"]);
    });

    await t.step(
      "REPLICAOF host port in the transaction applies though CONFIG REWRITE fails, and other clients are dropped",
      async () => {
        await using normal = await both.connect();
        await using subscriber = await both.connect();
        await subscriber.assertSame(["SUBSCRIBE", "__sentinel__:hello"]);
        await c.assertSame(["MULTI"]);
        // A port nobody listens on: the link stays down, as when the new leader is not up yet.
        const exec = await sentinelTransaction(c, ["127.0.0.1", freePort()]);
        assert.deepEqual(itemsOf(exec).map((s) => s.type), [
          "simple",
          "error",
          "integer",
          "integer",
        ]);
        assert.deepEqual(await normal.closedByServer(), { redis: true, gocache: true });
        assert.deepEqual(await subscriber.closedByServer(), { redis: true, gocache: true });
        await c.assertSame(["PING"]);
      },
    );

    await t.step(
      "a follower whose link was never up answers ROLE with offset -1 and INFO with Redis's values",
      async () => {
        const { redis, gocache } = await c.call("ROLE");
        // The state word races with the connection attempt ("connect" or "connecting").
        const stable = (shape: Shape) => itemsOf(shape).filter((_, i) => i !== 3);
        assert.deepEqual(stable(gocache), stable(redis));
        assert.deepEqual(stable(gocache).at(-1), { type: "integer", value: -1 });
        const info = await c.call("INFO", "replication");
        const [r, g] = [infoMap(info.redis), infoMap(info.gocache)];
        for (
          const field of [
            "role",
            "master_link_status",
            "master_last_io_seconds_ago",
            "master_link_down_since_seconds",
            "master_sync_in_progress",
            "slave_priority",
            "slave_read_only",
            "replica_announced",
            "connected_slaves",
          ]
        ) {
          assert.notEqual(r.get(field), undefined, field);
          assert.equal(g.get(field), r.get(field), field);
        }
        assert.equal(g.get("master_link_down_since_seconds"), "-1");
      },
    );

    await t.step("REPLICAOF NO ONE in the transaction promotes the node", async () => {
      await c.assertSame(["MULTI"]);
      await sentinelTransaction(c, ["NO", "ONE"]);
      const { redis, gocache } = await c.call("ROLE");
      const shape = (s: Shape) => [itemsOf(s)[0], itemsOf(s)[2]];
      assert.deepEqual(shape(gocache), shape(redis));
      assert.equal(textOf(itemsOf(gocache)[0]), "master");
      await c.assertSame(["SET", "written", "after promotion"]);
    });
  });
});

Deno.test("a transaction queuing an unknown CONFIG subcommand is discarded at EXEC, as in Redis", async () => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();
    await c.assertSame(["MULTI"]);
    await c.assertSame(["CONFIG", "NOSUCH"]);
    await c.assertSame(["EXEC"]);
  });
});
