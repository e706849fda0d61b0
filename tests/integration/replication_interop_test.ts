/**
 * Replication with a real redis-server on the other end of the link, both ways: redis-server
 * follows gocache (it reads our +FULLRESYNC, RDB payload and stream), and gocache follows
 * redis-server (we read its diskless `$EOF:` payload and stream). Also how a follower treats
 * expired keys: hidden from reads, kept until the leader's DEL.
 */
import assert from "node:assert/strict";
import { startRedis } from "../support/redis_server.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import { startServer } from "../support/server.ts";
import { waitFor } from "../support/wait_for.ts";
import { infoField, pipelined, waitForCatchUp, waitForSameData } from "../support/replication.ts";

function writes(prefix: string, count: number): (string | number)[][] {
  const commands: (string | number)[][] = [];
  for (let i = 0; i < count; i++) {
    commands.push(["SET", `${prefix}:${i}`, `value-${i}`]);
    if (i % 10 === 0) commands.push(["SET", `${prefix}:ttl:${i}`, "t", "EX", 1000 + i]);
    if (i % 25 === 0) commands.push(["INCR", `${prefix}:counter`]);
    if (i % 50 === 0) commands.push(["MULTI"], ["SET", `${prefix}:m:${i}`, "x"], ["EXEC"]);
    if (i % 100 === 0) {
      commands.push(["SELECT", 5], ["SET", `${prefix}:db5:${i}`, "5"], ["SELECT", 0]);
    }
  }
  return commands;
}

Deno.test("redis-server follows a gocache leader and serves the same data, before and after the copy", async () => {
  await using leader = await startServer();
  await using l = await RespConn.connect(leader.port);
  await pipelined(l, writes("before", 5000));
  await using redis = await startRedis(["--replicaof", "127.0.0.1", String(leader.port)]);
  await waitForCatchUp(leader.port, redis.port);
  await pipelined(l, writes("after", 5000));
  await waitForCatchUp(leader.port, redis.port);
  await waitForSameData(leader.port, redis.port);
  await using r = await RespConn.connect(redis.port);
  assert.equal(plain(await r.call("GET", "after:4999")), "value-4999");
  assert.equal(plain(await r.call("GET", "before:counter")), "200");
  assert.match(String(plain(await r.call("SET", "x", "y"))), /^-READONLY/);
  assert.equal(plain(await l.call("WAIT", 1, 5000)), 1);
});

Deno.test("gocache follows a redis-server leader and serves the same data, before and after the copy", async () => {
  await using redis = await startRedis(["--repl-diskless-sync-delay", "0"]);
  await using r = await RespConn.connect(redis.port);
  await pipelined(r, writes("before", 5000));
  await using follower = await startServer({ args: ["--replicaof", `127.0.0.1 ${redis.port}`] });
  await waitForCatchUp(redis.port, follower.port);
  await pipelined(r, writes("after", 5000));
  await waitForCatchUp(redis.port, follower.port);
  await waitForSameData(redis.port, follower.port);
  await using f = await RespConn.connect(follower.port);
  assert.equal(plain(await f.call("GET", "after:4999")), "value-4999");
  assert.equal(plain(await r.call("WAIT", 1, 5000)), 1);
  assert.equal(await infoField(redis.port, "replication", "connected_slaves"), "1");
});

Deno.test("a follower hides an expired key but keeps it until its leader's DEL", async () => {
  await using redis = await startRedis([
    "--repl-diskless-sync-delay",
    "0",
    "--enable-debug-command",
    "local",
  ]);
  await using r = await RespConn.connect(redis.port);
  // With active expiry off on the leader, only a read there removes the key (and sends DEL).
  assert.equal(plain(await r.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")), "OK");
  await using follower = await startServer({ args: ["--replicaof", `127.0.0.1 ${redis.port}`] });
  await waitForCatchUp(redis.port, follower.port);
  await using f = await RespConn.connect(follower.port);
  await r.call("SET", "fleeting", "v", "PX", 100);
  await waitForCatchUp(redis.port, follower.port);
  await waitFor(async () => plain(await f.call("GET", "fleeting")) === null, {
    what: "the key to be hidden on the follower",
  });
  assert.equal(plain(await f.call("EXISTS", "fleeting")), 0);
  assert.equal(plain(await f.call("DBSIZE")), 1, "still stored until the leader's DEL");
  assert.equal(plain(await r.call("GET", "fleeting")), null);
  await waitFor(async () => plain(await f.call("DBSIZE")) === 0, { what: "the leader's DEL" });
});

Deno.test("redis-cli --rdb takes a dump from gocache over SYNC, and redis-check-rdb accepts it", async () => {
  await using leader = await startServer();
  await using l = await RespConn.connect(leader.port);
  await pipelined(l, writes("dump", 1000));
  const file = await Deno.makeTempFile({ suffix: ".rdb" });
  try {
    const fetch = await new Deno.Command("redis-cli", {
      args: ["-p", String(leader.port), "--rdb", file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(fetch.code, 0, new TextDecoder().decode(fetch.stderr));
    const check = await new Deno.Command("redis-check-rdb", { args: [file], stdout: "piped" })
      .output();
    const report = new TextDecoder().decode(check.stdout);
    assert.equal(check.code, 0, report);
    const keys = Number(plain(await l.call("DBSIZE"))) +
      Number(plain(await l.call("SELECT", 5)) === "OK" ? plain(await l.call("DBSIZE")) : 0);
    assert.match(report, new RegExp(`${keys} keys read`));
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("a follower keeps a RESTOREd key whose absolute TTL has passed by the time it arrives", async () => {
  await using redis = await startRedis([
    "--repl-diskless-sync-delay",
    "0",
    "--enable-debug-command",
    "yes",
  ]);
  await using r = await RespConn.connect(redis.port);
  await using follower = await startServer({ args: ["--replicaof", `127.0.0.1 ${redis.port}`] });
  await waitForCatchUp(redis.port, follower.port);
  await r.call("SET", "source", "restored");
  const payload = await r.call("DUMP", "source") as Uint8Array;
  // The leader restores the key with a 1 ms TTL and makes it persistent 100 ms later, in one
  // transaction: the follower gets RESTORE ... ABSTTL with a time already past, then PERSIST.
  await r.call("MULTI");
  await r.call("RESTORE", "k", 1, payload);
  await r.call("DEBUG", "SLEEP", "0.1");
  await r.call("PERSIST", "k");
  assert.deepEqual(plain(await r.call("EXEC")), ["OK", "OK", 1]);
  await waitForCatchUp(redis.port, follower.port);
  await waitForSameData(redis.port, follower.port);
  await using f = await RespConn.connect(follower.port);
  assert.equal(plain(await f.call("GET", "k")), "restored");
  assert.equal(plain(await f.call("TTL", "k")), -1);
});
