/**
 * Leader/follower groups with built-in failover (`group-name`, `group-members`): the followers
 * of a killed leader elect one of them by majority vote, the other follows it, the old leader
 * restarted on its files rejoins as a follower; a leader cut off from its group refuses writes;
 * replica-priority decides who stands; clients find the leader through Sentinel's API.
 */
import assert from "node:assert/strict";
import { askGroup, roleOf, startGroup } from "../support/group.ts";
import { RespConn } from "../support/resp_conn.ts";
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
