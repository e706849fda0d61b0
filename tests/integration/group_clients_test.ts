/**
 * Standard clients in Sentinel mode find a group's leader through the members themselves (every
 * member answers Sentinel's client API for its group) and keep writing across a failover, with
 * errors only during the election window: ioredis (`sentinels` + `name`) and redis-py's
 * `Sentinel`, and this repo's client (`connectToLeader`); malformed SENTINEL requests are refused
 * with Sentinel's errors.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { askGroup, roleOf, startGroup } from "../support/group.ts";
import { connectToLeader, discoverLeader } from "../../src/client/mod.ts";
import { startServer } from "../support/server.ts";
import { LineReader, PYTHON3, REDIS_PY, requireTools } from "../support/tools.ts";
import { waitFor } from "../support/wait_for.ts";

Deno.test("ioredis in Sentinel mode keeps writing across a failover of the group", async () => {
  await using group = await startGroup();
  const client = new Redis({
    sentinels: group.ports.map((port) => ({ host: "127.0.0.1", port })),
    name: "mymaster",
    maxRetriesPerRequest: 1,
    retryStrategy: () => 50,
    sentinelRetryStrategy: () => 50,
    enableOfflineQueue: true,
    lazyConnect: true,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    const acknowledged: number[] = [];
    const failed: number[] = [];
    let i = 0;
    const write = async () => {
      const n = i++;
      try {
        await client.set(`w:${n}`, String(n));
        acknowledged.push(n);
      } catch {
        failed.push(n);
      }
    };
    for (let k = 0; k < 100; k++) await write();
    assert.equal(failed.length, 0, "no errors before the failover");
    await group.nodes[0].stop("SIGKILL");
    const killedAt = Date.now();
    // Writes go on through the failover until 100 more succeed (bounded by time).
    const before = acknowledged.length;
    while (acknowledged.length < before + 100 && Date.now() - killedAt < 20_000) {
      await write();
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(acknowledged.length >= before + 100, "ioredis writes again after the failover");
    let newLeader = 0;
    for (const port of group.ports.slice(1)) {
      if ((await roleOf(port)) === "master") newLeader = port;
    }
    assert.notEqual(newLeader, 0, "a follower was promoted");
    // Every write ioredis saw acknowledged after the failover is on the new leader.
    const after = acknowledged.slice(before);
    for (const n of after) assert.equal(await askGroup(newLeader, "GET", `w:${n}`), String(n));
    // Errors only during the window: the failed writes are a minority of the attempts.
    assert.ok(failed.length < i - failed.length, `failed ${failed.length} of ${i}`);
  } finally {
    client.disconnect();
  }
});

const SENTINEL_SCRIPT = `
import sys, time
from redis.sentinel import Sentinel
ports = [int(p) for p in sys.argv[1:]]
sentinel = Sentinel([("127.0.0.1", p) for p in ports], socket_timeout=1.0)
print("master", sentinel.discover_master("mymaster")[1], flush=True)
# A follower whose link is still being made is not listed yet (on a loaded machine): ask again
# for a while, so that the assertion is about discovery, not about the start's timing.
replicas = []
deadline = time.time() + 10
while time.time() < deadline:
    replicas = sorted(p for _, p in sentinel.discover_slaves("mymaster"))
    if len(replicas) >= len(ports) - 1:
        break
    time.sleep(0.1)
print("replicas", replicas, flush=True)
master = sentinel.master_for("mymaster", socket_timeout=1.0)
master.set("py:before", "1")
print("ready", flush=True)
sys.stdin.readline()
deadline = time.time() + 20
while time.time() < deadline:
    try:
        master.set("py:after", "1")
        break
    except Exception:
        time.sleep(0.05)
print("master", sentinel.discover_master("mymaster")[1], flush=True)
`;

Deno.test({
  name: "redis-py's Sentinel discovers the group's leader and follows a failover",
  ...requireTools(REDIS_PY, async () => {
    await using group = await startGroup();
    const child = new Deno.Command("/usr/bin/python3", {
      args: ["-c", SENTINEL_SCRIPT, ...group.ports.map(String)],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = new LineReader(child.stdout);
    const nextLine = () => output.next();
    try {
      assert.equal(await nextLine(), `master ${group.ports[0]}`);
      assert.equal(
        await nextLine(),
        `replicas [${group.ports.slice(1).sort((a, b) => a - b).join(", ")}]`,
      );
      assert.equal(await nextLine(), "ready");
      await group.nodes[0].stop("SIGKILL");
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode("\n"));
      await writer.close();
      const line = await nextLine();
      const port = Number(line.split(" ")[1]);
      assert.ok(group.ports.slice(1).includes(port), `redis-py names a follower: ${line}`);
      await waitFor(async () => (await askGroup(port, "GET", "py:after")) === "1", {
        what: "redis-py's write after the failover on the new leader",
      });
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already ended.
      }
      await child.status;
      await child.stderr.cancel();
      await output.close();
    }
  }),
});

Deno.test("malformed SENTINEL requests get Sentinel's errors and change nothing", async () => {
  await using group = await startGroup({ size: 1 });
  const port = group.ports[0];
  const cases: [string[], RegExp][] = [
    [["SENTINEL"], /^-ERR wrong number of arguments for 'sentinel' command/],
    [["SENTINEL", "NOPE"], /^-ERR unknown subcommand 'NOPE'\. Try SENTINEL HELP\./],
    [["SENTINEL", "GET-MASTER-ADDR-BY-NAME"], /^-ERR wrong number of arguments/],
    [["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "other"], /^null$/],
    [["SENTINEL", "MASTER", "other"], /^-ERR No such master with that name/],
    [["SENTINEL", "REPLICAS", "other", "x"], /^-ERR wrong number of arguments/],
    [["SENTINEL", "SENTINELS", "\u0000\xff"], /^-ERR No such master with that name/],
    [["SENTINEL", "CKQUORUM", "mymaster"], /^OK 1 usable Sentinels/],
  ];
  for (const [args, expected] of cases) {
    assert.match(await askGroup(port, ...args), expected, args.join(" "));
  }
  assert.equal(await roleOf(port), "master");
  assert.match(await askGroup(port, "SET", "still", "writable"), /^OK$/);
  // Outside a group SENTINEL does not exist, as on a plain redis-server.
  await using plainServer = await startServer();
  assert.match(
    await askGroup(plainServer.port, "SENTINEL", "MASTERS"),
    /^-ERR unknown command 'SENTINEL', with args beginning with: 'MASTERS'/,
  );
});

Deno.test("gocache's own client finds the leader through the members and again after a failover", async () => {
  await using group = await startGroup();
  const sentinels = group.ports.map((port) => ({ host: "127.0.0.1", port }));
  const first = await connectToLeader({ sentinels, name: "mymaster" });
  try {
    assert.equal(first.connection.address, `127.0.0.1:${group.ports[0]}`);
    assert.equal(await first.set("own:before", "1"), true);
  } finally {
    await first.close();
  }
  await assert.rejects(
    discoverLeader({ sentinels, name: "other" }),
    (e: Error) =>
      e.name === "ConnectionError" && /No sentinel named a leader for other/.test(e.message),
  );
  await group.nodes[0].stop("SIGKILL");
  let next: Awaited<ReturnType<typeof connectToLeader>> | null = null;
  await waitFor(async () => {
    next = await connectToLeader({ sentinels, name: "mymaster", timeoutMs: 500 }).catch(() => null);
    if (next === null) return false;
    if ((await next.set("own:after", "1").catch(() => false)) === true) return true;
    await next.close();
    next = null;
    return false;
  }, { what: "the client reaching the new leader", timeoutMs: 15_000 });
  const client = next as unknown as Awaited<ReturnType<typeof connectToLeader>>;
  try {
    assert.notEqual(client.connection.address, `127.0.0.1:${group.ports[0]}`);
    assert.equal(await client.get("own:before"), "1");
  } finally {
    await client.close();
  }
});

const OWN_PYTHON_SCRIPT = `
import sys, time
from gocache_client import connect_to_leader, GoCacheError
sentinels = [("127.0.0.1", int(p)) for p in sys.argv[1:]]
with connect_to_leader(sentinels, "mymaster", timeout=1.0) as client:
    client.set("pyown:before", "1")
    print("leader", client.execute_command("CONFIG", "GET", "port")[1].decode(), flush=True)
sys.stdin.readline()
deadline = time.time() + 20
while time.time() < deadline:
    try:
        with connect_to_leader(sentinels, "mymaster", timeout=0.5) as client:
            client.set("pyown:after", "1")
            print("leader", client.execute_command("CONFIG", "GET", "port")[1].decode(), flush=True)
            break
    except GoCacheError:
        time.sleep(0.05)
`;

Deno.test({
  name: "the repo's Python client finds the leader again after a failover",
  ...requireTools(PYTHON3, async () => {
    await using group = await startGroup();
    const child = new Deno.Command("python3", {
      args: ["-c", OWN_PYTHON_SCRIPT, ...group.ports.map(String)],
      env: { PYTHONPATH: new URL("../../clients/python/", import.meta.url).pathname },
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const output = new LineReader(child.stdout);
    const nextLine = () => output.next();
    try {
      assert.equal(await nextLine(), `leader ${group.ports[0]}`);
      await group.nodes[0].stop("SIGKILL");
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode("\n"));
      await writer.close();
      const port = Number((await nextLine()).split(" ")[1]);
      assert.ok(group.ports.slice(1).includes(port), `a follower leads now: ${port}`);
      assert.equal(await askGroup(port, "GET", "pyown:after"), "1");
      assert.equal(await askGroup(port, "GET", "pyown:before"), "1");
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already ended.
      }
      await child.status;
      await output.close();
    }
  }),
});
