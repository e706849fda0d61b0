/**
 * Replication between real gocache processes: a follower converges with its leader (dataset
 * digests equal) through a full copy, the live stream, MULTI blocks and expiries; a dropped
 * link resumes from the backlog with only the missed bytes; an offset the backlog no longer
 * holds gets a full copy; WAIT counts acknowledgements; followers refuse writes; chains work.
 */
import assert from "node:assert/strict";
import { plain, RespConn } from "../support/resp_conn.ts";
import { startServer } from "../support/server.ts";
import { waitFor } from "../support/wait_for.ts";
import { freePort } from "../support/redis_server.ts";
import { httpGet, parseSamples, scrape, valueOf } from "../support/prometheus.ts";
import {
  datasetDigest,
  infoField,
  pipelined,
  waitForCatchUp,
  waitForSameData,
} from "../support/replication.ts";

function follow(port: number): string[] {
  return ["--replicaof", `127.0.0.1 ${port}`];
}

/** A mix of writes: plain and TTL'd SETs, short TTLs that expire, DELs, INCRs, MULTI blocks. */
function workload(count: number, seed: number): (string | number)[][] {
  const commands: (string | number)[][] = [];
  // xorshift32: deterministic, and every residue class occurs.
  let x = seed * 2654435761 >>> 0 || 1;
  const random = (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
  while (commands.length < count) {
    const k = `k:${random(5000)}`;
    switch (random(8)) {
      case 0:
        commands.push(["SET", k, `v${random(1e6)}`]);
        break;
      case 1:
        commands.push(["SET", k, `t${random(1e6)}`, "EX", 100 + random(1000)]);
        break;
      case 2:
        // Expires during the test: the leader's expiry reaches the follower as DEL.
        commands.push(["SET", `short:${random(2000)}`, "x", "PX", 20 + random(300)]);
        break;
      case 3:
        commands.push(["DEL", k]);
        break;
      case 4:
        commands.push(["INCR", `n:${random(500)}`]);
        break;
      case 5:
        commands.push(["MULTI"], ["SET", k, "in-multi"], ["INCRBY", `n:${random(500)}`, 7], [
          "EXEC",
        ]);
        break;
      case 6:
        commands.push(["SELECT", 3], ["SET", k, "db3"], ["SELECT", 0]);
        break;
      default:
        commands.push(["EXPIRE", k, 50 + random(500)]);
    }
  }
  return commands;
}

Deno.test("a gocache follower converges with its leader after 100k writes with TTLs, DELs, MULTI blocks and expiries", async () => {
  await using leader = await startServer();
  await using conn = await RespConn.connect(leader.port);
  // Data before the follower exists travels in the full copy, the rest in the stream.
  await pipelined(conn, workload(30_000, 1));
  await using follower = await startServer({ args: follow(leader.port) });
  await pipelined(conn, workload(70_000, 2));
  await waitFor(
    async () => Number(await infoField(leader.port, "stats", "expired_keys")) > 100,
    { what: "short TTLs to expire on the leader" },
  );
  await waitForCatchUp(leader.port, follower.port);
  // Keys expired on the leader but not yet removed there are hidden on both sides.
  await waitForSameData(leader.port, follower.port);
  const keys = (await datasetDigest(follower.port)).keys;
  assert.ok(keys[0] > 1000 && keys[3] > 100, `keys per db: ${keys.slice(0, 4)}`);
  assert.equal(await infoField(leader.port, "stats", "sync_full"), "1");
  assert.equal(await infoField(leader.port, "replication", "connected_slaves"), "1");
});

Deno.test("writes to a follower get -READONLY, reads get the leader's data, WAIT counts acks", async () => {
  await using leader = await startServer();
  await using follower = await startServer({ args: follow(leader.port) });
  await using l = await RespConn.connect(leader.port);
  await using f = await RespConn.connect(follower.port);
  await waitForCatchUp(leader.port, follower.port);
  assert.equal(plain(await l.call("SET", "greeting", "hello")), "OK");
  assert.equal(plain(await l.call("WAIT", 1, 5000)), 1);
  assert.equal(plain(await f.call("GET", "greeting")), "hello");
  assert.equal(
    plain(await f.call("SET", "greeting", "bye")),
    "-READONLY You can't write against a read only replica.",
  );
  assert.equal(
    plain(await f.call("INCR", "n")),
    "-READONLY You can't write against a read only replica.",
  );
  // WAIT for more followers than exist gives up at its timeout with the count it has.
  assert.equal(plain(await l.call("WAIT", 2, 200)), 1);
  assert.match(
    String(plain(await f.call("WAIT", 1, 10))),
    /^-ERR WAIT cannot be used with replica instances/,
  );
  const role = plain(await f.call("ROLE")) as unknown[];
  assert.deepEqual(role.slice(0, 4), ["slave", "127.0.0.1", leader.port, "connected"]);
  const leaderRole = plain(await l.call("ROLE")) as [string, number, string[][]];
  assert.equal(leaderRole[0], "master");
  assert.equal(leaderRole[2].length, 1);
  assert.equal(leaderRole[2][0][1], String(follower.port));
});

Deno.test("a dropped link resumes with +CONTINUE and only the missed bytes", async (t) => {
  await using leader = await startServer();
  await using follower = await startServer({ args: follow(leader.port) });
  await using l = await RespConn.connect(leader.port);
  await pipelined(l, workload(5_000, 3));
  await waitForCatchUp(leader.port, follower.port);

  await t.step("a killed follower connection reconnects and continues", async () => {
    assert.equal(plain(await l.call("CLIENT", "KILL", "TYPE", "replica")), 1);
    await pipelined(l, workload(2_000, 4));
    await waitForCatchUp(leader.port, follower.port);
    assert.equal(await infoField(leader.port, "stats", "sync_full"), "1");
    assert.equal(await infoField(leader.port, "stats", "sync_partial_ok"), "1");
    await waitForSameData(leader.port, follower.port);
  });

  await t.step("PSYNC from a known offset gets exactly the bytes after it", async () => {
    const replid = await infoField(leader.port, "replication", "master_replid");
    const offset = Number(await infoField(leader.port, "replication", "master_repl_offset"));
    assert.equal(plain(await l.call("SET", "after", "offset")), "OK");
    await using raw = await Deno.connect({ hostname: "127.0.0.1", port: leader.port });
    await raw.write(new TextEncoder().encode(`PSYNC ${replid} ${offset + 1}\r\n`));
    const expected = `+CONTINUE ${replid}\r\n*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$6\r\noffset\r\n`;
    let got = "";
    const buf = new Uint8Array(4096);
    await waitFor(async () => {
      const n = await raw.read(buf);
      if (n === null) throw new Error("closed");
      got += new TextDecoder().decode(buf.subarray(0, n));
      return got.length >= expected.length;
    }, { timeoutMs: 5000, what: "the missed bytes" });
    assert.equal(got, expected);
  });
});

Deno.test("a follower whose offset left the backlog gets a full copy", async () => {
  await using leader = await startServer({ args: ["--repl-backlog-size", "16kb"] });
  await using follower = await startServer({ args: follow(leader.port) });
  await using l = await RespConn.connect(leader.port);
  await using f = await RespConn.connect(follower.port);
  await pipelined(l, workload(1_000, 5));
  await waitForCatchUp(leader.port, follower.port);
  // Point the follower at a port nothing listens on: its offset stays where it is.
  const nowhere = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = nowhere.addr.port;
  nowhere.close();
  assert.equal(plain(await f.call("REPLICAOF", "127.0.0.1", deadPort)), "OK");
  await waitFor(
    async () => await infoField(leader.port, "replication", "connected_slaves") === "0",
    {
      what: "the follower to leave",
    },
  );
  // Far more than the 16 KiB backlog holds.
  await pipelined(l, Array.from({ length: 2000 }, (_, i) => ["SET", `big:${i}`, "y".repeat(100)]));
  assert.equal(plain(await f.call("REPLICAOF", "127.0.0.1", leader.port)), "OK");
  await waitForCatchUp(leader.port, follower.port);
  assert.equal(await infoField(leader.port, "stats", "sync_full"), "2");
  assert.equal(await infoField(leader.port, "stats", "sync_partial_err"), "1");
  await waitForSameData(leader.port, follower.port);
  assert.equal(plain(await f.call("GET", "big:1999")), "y".repeat(100));
});

Deno.test("a follower of a follower (a chain) gets the same data and offsets", async () => {
  await using leader = await startServer();
  await using middle = await startServer({ args: follow(leader.port) });
  await waitForCatchUp(leader.port, middle.port);
  await using tail = await startServer({ args: follow(middle.port) });
  await using l = await RespConn.connect(leader.port);
  await pipelined(l, workload(5_000, 6));
  // Keys set with PX go on expiring on the leader for a while, each expiry a DEL down the
  // chain: the three offsets must come to agree, not be equal at one arbitrary moment.
  await waitFor(async () => {
    const offsets = await Promise.all(
      [leader, middle, tail].map((s) => infoField(s.port, "replication", "master_repl_offset")),
    );
    return offsets[0] !== undefined && offsets.every((o) => o === offsets[0]);
  }, { what: "the offsets of the leader, the middle and the tail to agree" });
  assert.equal(
    await infoField(tail.port, "replication", "master_replid"),
    await infoField(leader.port, "replication", "master_replid"),
  );
  await waitForSameData(leader.port, tail.port);
});

Deno.test("REPLICAOF NO ONE promotes a follower that keeps its data and takes writes", async () => {
  await using leader = await startServer();
  await using follower = await startServer({ args: follow(leader.port) });
  await using l = await RespConn.connect(leader.port);
  await using f = await RespConn.connect(follower.port);
  await l.call("SET", "kept", "1");
  await waitForCatchUp(leader.port, follower.port);
  const oldId = await infoField(leader.port, "replication", "master_replid");
  assert.equal(plain(await f.call("REPLICAOF", "NO", "ONE")), "OK");
  assert.equal(await infoField(follower.port, "replication", "role"), "master");
  assert.equal(await infoField(follower.port, "replication", "master_replid2"), oldId);
  assert.equal(plain(await f.call("GET", "kept")), "1");
  assert.equal(plain(await f.call("SET", "new", "2")), "OK");
  // The old leader can now follow the promoted node and continue from the shared history.
  assert.equal(plain(await l.call("REPLICAOF", "127.0.0.1", follower.port)), "OK");
  await waitForCatchUp(follower.port, leader.port);
  assert.equal(plain(await l.call("GET", "new")), "2");
  assert.equal(await infoField(follower.port, "stats", "sync_partial_ok"), "1");
});

Deno.test("PUBLISH on a leader reaches subscribers of its followers", async () => {
  await using leader = await startServer();
  await using follower = await startServer({ args: follow(leader.port) });
  await waitForCatchUp(leader.port, follower.port);
  await using sub = await RespConn.connect(follower.port);
  assert.deepEqual(plain(await sub.call("SUBSCRIBE", "news")), ["subscribe", "news", 1]);
  await using l = await RespConn.connect(leader.port);
  // The leader's own count: no subscriber on the leader itself.
  assert.equal(plain(await l.call("PUBLISH", "news", "hello")), 0);
  assert.deepEqual(plain(await sub.read()), ["message", "news", "hello"]);
});

Deno.test("a restarted follower continues from its dump's offset, or copies again when the backlog moved past it", async (t) => {
  await using leader = await startServer({ args: ["--repl-backlog-size", "16kb"] });
  await using l = await RespConn.connect(leader.port);
  const dir = await Deno.makeTempDir({ prefix: "gocache-follower-" });
  const followerArgs = [...follow(leader.port), "--save", "3600 1"];
  try {
    {
      await using follower = await startServer({ dir, args: followerArgs });
      await pipelined(l, workload(1_000, 7));
      await waitForCatchUp(leader.port, follower.port);
      await follower.stop();
    }

    await t.step("restarted while the backlog still holds its offset: +CONTINUE", async () => {
      await l.call("SET", "while-down", "1");
      await using follower = await startServer({ dir, args: followerArgs });
      await waitForCatchUp(leader.port, follower.port);
      assert.equal(await infoField(leader.port, "stats", "sync_full"), "1");
      assert.equal(await infoField(leader.port, "stats", "sync_partial_ok"), "1");
      await waitForSameData(leader.port, follower.port);
      await follower.stop();
    });

    await t.step("restarted after more writes than the backlog holds: a full copy", async () => {
      await pipelined(
        l,
        Array.from({ length: 2000 }, (_, i) => ["SET", `big:${i}`, "z".repeat(100)]),
      );
      await using follower = await startServer({ dir, args: followerArgs });
      await waitForCatchUp(leader.port, follower.port);
      assert.equal(await infoField(leader.port, "stats", "sync_full"), "2");
      assert.equal(await infoField(leader.port, "stats", "sync_partial_err"), "1");
      await waitForSameData(leader.port, follower.port);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a follower that falls too far behind is dropped at the replica output limit and copies again", async () => {
  await using leader = await startServer({
    args: ["--client-output-buffer-limit", "replica 256kb 0 0", "--repl-backlog-size", "64kb"],
  });
  await using follower = await startServer({ args: follow(leader.port) });
  await using l = await RespConn.connect(leader.port);
  await waitForCatchUp(leader.port, follower.port);
  // A stopped follower reads nothing: the leader's buffer for it fills up.
  Deno.kill(follower.pid, "SIGSTOP");
  try {
    // Well beyond what the kernel's socket buffers absorb (a few MB on loopback).
    const value = "w".repeat(1000);
    await pipelined(l, Array.from({ length: 20_000 }, (_, i) => ["SET", `far:${i}`, value]));
    await waitFor(
      async () => await infoField(leader.port, "replication", "connected_slaves") === "0",
      { what: "the leader to drop the follower" },
    );
    assert.equal(
      await infoField(leader.port, "stats", "client_output_buffer_limit_disconnections"),
      "1",
    );
  } finally {
    Deno.kill(follower.pid, "SIGCONT");
  }
  await waitForCatchUp(leader.port, follower.port);
  assert.equal(await infoField(leader.port, "stats", "sync_full"), "2");
  await waitForSameData(leader.port, follower.port);
});

Deno.test("replication shows in the metrics: role, offsets, followers' lag, link state and readiness", async () => {
  const leaderMetrics = freePort();
  const followerMetrics = freePort();
  await using leader = await startServer({ args: ["--metrics-port", String(leaderMetrics)] });
  await using follower = await startServer({
    args: [...follow(leader.port), "--metrics-port", String(followerMetrics)],
  });
  await using l = await RespConn.connect(leader.port);
  await l.call("SET", "k", "v");
  await waitForCatchUp(leader.port, follower.port);
  const offset = Number(await infoField(leader.port, "replication", "master_repl_offset"));
  await waitFor(async () => {
    const leaderSamples = parseSamples(await scrape(leaderMetrics));
    return valueOf(leaderSamples, "gocache_replication_follower_offset_lag_bytes") === 0;
  }, { what: "the follower's ack to reach the leader's metrics" });
  const leaderSamples = parseSamples(await scrape(leaderMetrics));
  assert.equal(valueOf(leaderSamples, "gocache_role", { role: "master" }), 1);
  assert.equal(valueOf(leaderSamples, "gocache_replication_offset_bytes"), offset);
  assert.equal(valueOf(leaderSamples, "gocache_replication_connected_followers"), 1);
  assert.ok(valueOf(leaderSamples, "gocache_replication_follower_lag_seconds")! < 5);
  assert.equal(valueOf(leaderSamples, "gocache_replication_syncs_total", { kind: "full" }), 1);
  const followerSamples = parseSamples(await scrape(followerMetrics));
  assert.equal(valueOf(followerSamples, "gocache_role", { role: "slave" }), 1);
  assert.equal(valueOf(followerSamples, "gocache_replication_link_up"), 1);
  assert.equal(valueOf(followerSamples, "gocache_replication_offset_bytes"), offset);
  assert.equal((await httpGet(followerMetrics, "/readyz")).status, 200);
  // With its leader gone, a follower is not ready for traffic.
  await leader.stop();
  await waitFor(async () => (await httpGet(followerMetrics, "/readyz")).status === 503, {
    what: "/readyz to turn 503",
  });
  assert.equal(
    valueOf(parseSamples(await scrape(followerMetrics)), "gocache_replication_link_up"),
    0,
  );
});
