/**
 * Scripts whose results depend on the moment or on chance (TIME, RANDOMKEY, SPOP,
 * SRANDMEMBER, math.random, relative expiry) still leave one dataset everywhere: a follower
 * and a restart from the AOF hold exactly the leader's data, because what is propagated is
 * each script's effects, not the script.
 */
import assert from "node:assert/strict";
import { plain, RespConn } from "../support/resp_conn.ts";
import { startServer } from "../support/server.ts";
import { datasetDigest, waitForSameData } from "../support/replication.ts";
import { waitFor } from "../support/wait_for.ts";

/** Scripts of nondeterministic commands; each writes what it drew. */
const SCRIPTS: [string, string[], string[]][] = [
  ["local t = redis.call('TIME') return redis.call('SET', KEYS[1], t[1] .. '.' .. t[2])", [
    "stamp",
  ], []],
  [
    "local k = redis.call('RANDOMKEY') redis.call('SET', KEYS[1], k) " +
    "return redis.call('SET', KEYS[2], 'v', 'PX', ARGV[1])",
    ["picked", "expiring"],
    ["60000"],
  ],
  [
    "local popped = redis.call('SPOP', KEYS[1], 3) " +
    "for _, m in ipairs(popped) do redis.call('RPUSH', KEYS[2], m) end " +
    "local r = redis.call('SRANDMEMBER', KEYS[1]) redis.call('SET', KEYS[3], r) return #popped",
    ["pool", "drawn", "peek"],
    [],
  ],
  [
    "redis.call('SET', KEYS[1], tostring(math.random())) " +
    "return redis.call('HSET', KEYS[2], 'f' .. math.random(1000), redis.call('TIME')[2])",
    ["dice", "h"],
    [],
  ],
];

Deno.test("after scripts of TIME, RANDOMKEY, SPOP and math.random a follower and an AOF restart hold the leader's data", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-script-replay-" });
  try {
    let before: { keys: number[]; digest: string };
    {
      await using leader = await startServer({
        dir,
        args: ["--appendonly", "yes", "--appendfsync", "always"],
      });
      await using follower = await startServer();
      await using l = await RespConn.connect(leader.port);
      await using f = await RespConn.connect(follower.port);
      assert.equal(plain(await f.call("REPLICAOF", "127.0.0.1", String(leader.port))), "OK");
      await waitFor(async () => String(plain(await f.call("ROLE"))).includes("connected"), {
        what: "the follower to connect",
      });
      const members = Array.from({ length: 40 }, (_, i) => `m${i}`);
      await l.call("SADD", "pool", ...members);
      for (let round = 0; round < 5; round++) {
        for (const [body, keys, args] of SCRIPTS) {
          const reply = plain(await l.call("EVAL", body, keys.length, ...keys, ...args));
          assert.ok(!String(reply).startsWith("-"), `${body}: ${reply}`);
        }
      }
      await waitForSameData(leader.port, follower.port);
      before = await datasetDigest(leader.port);
      assert.ok(before.keys[0] >= 8, `the scripts wrote their keys: ${before.keys}`);
    }
    await using restarted = await startServer({ dir, args: ["--appendonly", "yes"] });
    assert.deepEqual(await datasetDigest(restarted.port), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
