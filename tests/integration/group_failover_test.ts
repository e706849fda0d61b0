/**
 * Leader/follower groups with built-in failover (`group-name`, `group-members`): the followers
 * of a killed leader elect one of them by majority vote, the other follows it, the old leader
 * restarted on its files rejoins as a follower; a leader cut off from its group refuses writes;
 * replica-priority decides who stands; clients find the leader through Sentinel's API.
 */
import assert from "node:assert/strict";
import { askGroup, roleOf, startGroup } from "../support/group.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import { waitFor } from "../support/wait_for.ts";

Deno.test("a killed leader is replaced by a follower; the old leader rejoins as a follower", async () => {
  await using group = await startGroup();
  const [p0, p1, p2] = group.ports;
  for (let i = 0; i < 50; i++) assert.equal(await askGroup(p0, "SET", `k${i}`, `v${i}`), "OK");
  assert.equal(await askGroup(p0, "WAIT", 2, 2000), "2");
  assert.deepEqual(
    JSON.parse(await askGroup(p1, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")),
    ["127.0.0.1", String(p0)],
  );
  await using watcher = await RespConn.connect(p2);
  await watcher.call("SUBSCRIBE", "+switch-master");

  const killedAt = Date.now();
  await group.nodes[0].stop("SIGKILL");
  let leader = 0;
  await waitFor(async () => {
    for (const port of [p1, p2]) {
      if ((await roleOf(port)) === "master") leader = port;
    }
    return leader !== 0;
  }, { what: "a follower promoted", timeoutMs: 15_000 });
  const follower = leader === p1 ? p2 : p1;
  await waitFor(async () => (await askGroup(leader, "SET", "after", "1")) === "OK", {
    what: "the new leader taking writes",
  });
  assert.ok(Date.now() - killedAt < 10_000, "failover within 10 s");
  for (let i = 0; i < 50; i++) assert.equal(await askGroup(leader, "GET", `k${i}`), `v${i}`);
  const info = await askGroup(leader, "INFO", "cluster");
  assert.match(info, /group_name:mymaster\r\n/);
  assert.match(info, new RegExp(`group_leader:127\\.0\\.0\\.1:${leader}\r\n`));
  assert.match(info, /group_members:3\r\n/);
  assert.match(info, /group_elections_won:1\r\n/);
  await waitFor(async () => (await askGroup(follower, "GET", "after")) === "1", {
    what: "the other follower replicating from the new leader",
  });
  for (const port of [p1, p2]) {
    await waitFor(
      async () =>
        JSON.parse(await askGroup(port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"))[1] ===
          String(leader),
      { what: `node ${port} naming the new leader` },
    );
  }
  const switched = await watcher.read();
  assert.deepEqual(
    JSON.parse(
      JSON.stringify(
        switched,
        (_k, v) => v instanceof Uint8Array ? new TextDecoder().decode(v) : v,
      ),
    ),
    ["message", "+switch-master", `mymaster 127.0.0.1 ${p0} 127.0.0.1 ${leader}`],
  );

  await group.start(0);
  await waitFor(async () => (await roleOf(p0)) === "slave", { what: "the old leader following" });
  await waitFor(async () => (await askGroup(p0, "GET", "after")) === "1", {
    what: "the old leader replicating the new leader's writes",
  });
  assert.match(await askGroup(p0, "SET", "x", "1"), /^-READONLY/);
});

Deno.test("a leader cut off from its group refuses writes; a stopped leader rejoins as a follower", async () => {
  await using group = await startGroup();
  const [p0, p1, p2] = group.ports;
  // The key the refused writes below try to set exists already, so the dataset's size does not
  // depend on how many of them got in before the lease ended.
  assert.equal(await askGroup(p0, "SET", "cut", "0"), "OK");
  // The followers stop answering: after the election timeout the leader takes no writes.
  Deno.kill(group.nodes[1].pid, "SIGSTOP");
  Deno.kill(group.nodes[2].pid, "SIGSTOP");
  try {
    await waitFor(async () => (await askGroup(p0, "SET", "cut", "1")).startsWith("-NOREPLICAS"), {
      what: "the isolated leader refusing writes",
      timeoutMs: 5000,
    });
    assert.equal(await askGroup(p0, "GET", "group:ready"), "1", "reads are still served");
  } finally {
    Deno.kill(group.nodes[1].pid, "SIGCONT");
    Deno.kill(group.nodes[2].pid, "SIGCONT");
  }
  await waitFor(async () => (await askGroup(p0, "SET", "back", "1")) === "OK", {
    what: "the leader taking writes again",
  });

  // Now the leader stops. A write sent while it is stopped waits in its socket; when it runs
  // again its lease has long ended: the write is refused, and it follows the new leader.
  for (let i = 0; i < 20; i++) await askGroup(p0, "SET", `before:${i}`, String(i));
  assert.equal(await askGroup(p0, "WAIT", 2, 2000), "2");
  await using client = await RespConn.connect(p0);
  Deno.kill(group.nodes[0].pid, "SIGSTOP");
  let stoppedSent = false;
  try {
    let leader = 0;
    await waitFor(async () => {
      for (const port of [p1, p2]) if ((await roleOf(port)) === "master") leader = port;
      return leader !== 0;
    }, { what: "a follower promoted while the leader is stopped", timeoutMs: 15_000 });
    await waitFor(async () => (await askGroup(leader, "SET", "during", "1")) === "OK", {
      what: "the new leader taking writes",
    });
    await client.send("SET", "lost", "1");
    stoppedSent = true;
  } finally {
    Deno.kill(group.nodes[0].pid, "SIGCONT");
  }
  assert.ok(stoppedSent);
  // Refused either by the ended lease, or (when the bus messages ran first) as a follower.
  assert.match(String(plain(await client.read())), /^-(NOREPLICAS|READONLY)/);
  await waitFor(async () => (await roleOf(p0)) === "slave", { what: "the old leader following" });
  await waitFor(async () => (await askGroup(p0, "GET", "during")) === "1", {
    what: "the old leader converging",
  });
  for (const port of group.ports) {
    assert.equal(
      await askGroup(port, "GET", "lost"),
      "null",
      `no trace of the refused write on ${port}`,
    );
    assert.equal(await askGroup(port, "DBSIZE"), "24", `same dataset on ${port}`);
  }
});

Deno.test("replica-priority decides who stands; priority 0 is never promoted", async () => {
  await using group = await startGroup({
    extra: (i) =>
      i === 1 ? ["--replica-priority", "0"] : i === 2 ? ["--replica-priority", "50"] : [],
  });
  const [, p1, p2] = group.ports;
  await group.nodes[0].stop("SIGKILL");
  await waitFor(async () => (await roleOf(p2)) === "master", {
    what: "the priority-50 follower promoted",
    timeoutMs: 15_000,
  });
  assert.equal(await roleOf(p1), "slave", "the priority-0 follower stays a follower");
  await waitFor(async () => (await askGroup(p2, "SET", "k", "v")) === "OK", { what: "writes" });
  await waitFor(async () => (await askGroup(p1, "GET", "k")) === "v", { what: "it follows p2" });

  // With the only other candidate gone, the priority-0 member never stands.
  await group.nodes[2].stop("SIGKILL");
  await group.start(0);
  await new Promise((r) => setTimeout(r, 4000));
  assert.equal(await roleOf(p1), "slave");
});
