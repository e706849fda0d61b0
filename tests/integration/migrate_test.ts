/**
 * MIGRATE and RESTORE-ASKING against redis-server: the same scenarios run from a redis-server
 * source and from a gocache source, each to a redis-server target and to a gocache target, and
 * the replies and resulting datasets must be the same (so gocache → redis-server and
 * redis-server → gocache are both covered, with Redis → Redis as the reference). Then what only
 * gocache's asynchronous MIGRATE shows (other clients go on, a key changed meanwhile stays, the
 * DEL reaches followers), and cluster mode (MOVED, CROSSSLOT, moving a slot's keys either way
 * with RESTORE-ASKING).
 */
import assert from "node:assert/strict";
import { withBoth } from "../differential/_diff.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import { freePort, startRedis } from "../support/redis_server.ts";
import { startServer } from "../support/server.ts";
import {
  ask,
  startClusterNode,
  startRedisClusterNode,
  waitForClusterOk,
} from "../support/cluster.ts";
import { waitFor } from "../support/wait_for.ts";

type Run = (...args: (string | number)[]) => Promise<unknown>;

/** A target: its port and the AUTH2 credentials it accepts. */
interface Target {
  kind: string;
  port: number;
  user: [string, string];
}

/** One scenario: commands on the source and the target; returns what must match. */
type Scenario = (src: Run, dst: Run, target: Target) => Promise<unknown[]>;

const HOST = "127.0.0.1";

/** A connection that authenticates first (when `password` is given) and answers plainly. */
async function runner(port: number, password?: string): Promise<{ run: Run; conn: RespConn }> {
  const conn = await RespConn.connect(port);
  const run: Run = async (...args) => plain(await conn.call(...args.map(String)));
  if (password !== undefined) assert.equal(await run("AUTH", password), "OK");
  return { run, conn };
}

const SCENARIOS: Record<string, Scenario> = {
  "a single key moves with its TTL": async (src, dst, { port }) => {
    const out = [await src("SET", "k", "v", "PX", 60_000)];
    out.push(await src("MIGRATE", HOST, port, "k", 0, 5000, "AUTH", "pw"));
    out.push(await src("EXISTS", "k"), await dst("GET", "k"));
    const pttl = Number(await dst("PTTL", "k"));
    assert.ok(pttl > 59_500 && pttl <= 60_000, `PTTL on the target: ${pttl}`);
    return out;
  },
  "the KEYS form moves the keys that exist, into the database asked for": async (src, dst, t) => {
    await src("MSET", "a", "1", "b", "2");
    const out = [
      await src("MIGRATE", HOST, t.port, "", 3, 5000, "AUTH", "pw", "KEYS", "a", "x", "b"),
    ];
    out.push(await src("EXISTS", "a", "b"), await dst("SELECT", 3), await dst("MGET", "a", "b"));
    out.push(await dst("SELECT", 0));
    return out;
  },
  "COPY keeps the key, REPLACE overwrites, BUSYKEY otherwise": async (src, dst, { port }) => {
    const m = (...opts: string[]) => src("MIGRATE", HOST, port, "k", 0, 5000, ...opts);
    const out = [await src("SET", "k", "v1"), await m("COPY", "AUTH", "pw"), await src("GET", "k")];
    out.push(await src("SET", "k", "v2"), await m("AUTH", "pw"), await src("GET", "k"));
    out.push(await m("REPLACE", "AUTH", "pw"), await src("EXISTS", "k"), await dst("GET", "k"));
    return out;
  },
  "no AUTH, a wrong password, then AUTH2": async (src, dst, { port, user }) => {
    await src("SET", "k", "v");
    // A host spelled differently is another cached connection: a fresh, unauthenticated one.
    const m = (...opts: string[]) => src("MIGRATE", "localhost", port, "k", 0, 5000, ...opts);
    const out = [await m(), await m("AUTH", "wrong"), await src("EXISTS", "k")];
    out.push(await m("AUTH2", ...user), await src("EXISTS", "k"), await dst("GET", "k"));
    return out;
  },
  "a wrong database index is the target's error": async (src, dst, { port }) => {
    await src("SET", "k", "v");
    const out = [await src("MIGRATE", HOST, port, "k", 99, 5000, "AUTH", "pw")];
    // As in Redis, the RESTORE after the failed SELECT still ran, in the database last selected.
    out.push(await src("EXISTS", "k"), await dst("EXISTS", "k"));
    return out;
  },
  "NOKEY, bad arguments and unreachable targets": async (src, _dst, { port }) => {
    await src("SET", "k", "v");
    const closed = freePort();
    const cases: (string | number)[][] = [
      [HOST, port, "missing", 0, 5000],
      [HOST, port, "", 0, 5000, "KEYS", "missing1", "missing2"],
      [HOST, port, "k", 0, "soon"],
      [HOST, port, "k", "db", 5000],
      [HOST, port, "k", 0, 5000, "FOO"],
      [HOST, port, "k", 0, 5000, "AUTH"],
      [HOST, port, "k", 0, 5000, "AUTH2", "user"],
      [HOST, port, "k", 0, 5000, "KEYS", "k"],
      [HOST, closed, "k", 0, 500],
      ["nosuchhost.invalid", port, "k", 0, 500],
      [HOST, -1, "k", 0, 500],
    ];
    const out = [];
    for (const args of cases) out.push(await src("MIGRATE", ...args));
    out.push(await src("GET", "k"));
    return out;
  },
  "COMMAND GETKEYS finds MIGRATE's keys": async (src) => {
    const forms: string[][] = [
      ["h", "p", "k", "0", "5000"],
      ["h", "p", "", "0", "5000", "COPY", "KEYS", "a", "b"],
      ["h", "p", "k", "0", "5000", "KEYS", "a"],
      ["h", "p", "k", "0", "5000", "AUTH", "keys", "c"],
      ["h", "p", "", "0", "5000", "AUTH2", "u", "keys", "KEYS"],
      ["h", "p", "", "0", "5000", "KEYS"],
    ];
    const out = [];
    for (const form of forms) out.push(await src("COMMAND", "GETKEYS", "MIGRATE", ...form));
    return out;
  },
};

Deno.test("MIGRATE from gocache and from redis-server gives the same results, to either", async (t) => {
  await using redisTarget = await startRedis(["--requirepass", "pw"]);
  await using gocacheTarget = await startServer({ args: ["--requirepass", "pw"] });
  const acl = await runner(redisTarget.port, "pw");
  assert.equal(await acl.run("ACL", "SETUSER", "mover", "on", ">secret", "~*", "+@all"), "OK");
  acl.conn.close();
  const targets: Target[] = [
    { kind: "redis-server", port: redisTarget.port, user: ["mover", "secret"] },
    // gocache has requirepass, not ACL users: AUTH2 names the default user.
    { kind: "gocache", port: gocacheTarget.port, user: ["default", "pw"] },
  ];
  await withBoth({}, async (both) => {
    for (const target of targets) {
      for (const [name, scenario] of Object.entries(SCENARIOS)) {
        await t.step(`to ${target.kind}: ${name}`, async () => {
          const seen: Record<string, unknown[]> = {};
          for (const [side, port] of [["redis", both.redis.port], ["gocache", both.gocache.port]]) {
            const src = await runner(Number(port));
            const dst = await runner(target.port, "pw");
            try {
              await src.run("FLUSHALL");
              await dst.run("FLUSHALL");
              seen[side] = await scenario(src.run, dst.run, target);
            } finally {
              src.conn.close();
              dst.conn.close();
            }
          }
          assert.deepEqual(seen.gocache, seen.redis);
        });
      }
    }
  });
});

Deno.test("gocache's MIGRATE lets other clients read, holds their writes until the keys moved, and its DEL reaches followers", async () => {
  await using target = await startRedis();
  await using leader = await startServer();
  await using follower = await startServer({ args: ["--replicaof", `${HOST} ${leader.port}`] });
  const { run, conn } = await runner(leader.port);
  const other = await runner(leader.port);
  try {
    await run("MSET", "k", "old", "j", "1");
    await waitFor(async () => (await ask(follower.port, "GET", "j")) === "1", { what: "sync" });
    Deno.kill(target.pid, "SIGSTOP");
    let stopped = true;
    try {
      await conn.send("MIGRATE", HOST, String(target.port), "", "0", "5000", "KEYS", "k", "j");
      await waitFor(async () => String(await other.run("CLIENT", "LIST")).includes("cmd=migrate"));
      // The leader serves reads while its MIGRATE waits for the stopped target; a write to a
      // key in flight waits for the move (else the key would end in two places).
      await other.conn.send("SET", "k", "new");
      const third = await runner(leader.port);
      try {
        assert.equal(await third.run("GET", "j"), "1");
        assert.equal(await third.run("GET", "k"), "old");
      } finally {
        third.conn.close();
      }
      Deno.kill(target.pid, "SIGCONT");
      stopped = false;
    } finally {
      if (stopped) Deno.kill(target.pid, "SIGCONT");
    }
    assert.equal(plain(await conn.read()), "OK");
    assert.equal(plain(await other.conn.read()), "OK");
    // The target has both keys as MIGRATE read them; the held SET ran after the move, here.
    assert.equal(await ask(target.port, "MGET", "k", "j"), "old,1");
    assert.deepEqual(await run("MGET", "k", "j"), ["new", null]);
    await waitFor(async () => (await ask(follower.port, "EXISTS", "j")) === "0", {
      what: "the follower applying MIGRATE's DEL",
    });
    assert.equal(await ask(follower.port, "GET", "k"), "new");
  } finally {
    conn.close();
    other.conn.close();
  }
});

Deno.test("in cluster mode MIGRATE is routed by its keys and moves a slot's keys either way", async () => {
  await using gocache = await startClusterNode();
  await using redis = await startRedisClusterNode();
  const [g, r] = [gocache.port, redis.port];
  assert.equal(await ask(g, "CLUSTER", "ADDSLOTSRANGE", 0, 8191), "OK");
  assert.equal(await ask(r, "CLUSTER", "ADDSLOTSRANGE", 8192, 16383), "OK");
  assert.equal(await ask(g, "CLUSTER", "MEET", HOST, r), "OK");
  await waitForClusterOk([g, r]);
  const [gid, rid] = [await ask(g, "CLUSTER", "MYID"), await ask(r, "CLUSTER", "MYID")];
  // "bar" hashes to slot 5061 (gocache's), "foo" to slot 12182 (redis-server's).
  assert.equal(await ask(g, "CLUSTER", "KEYSLOT", "bar"), "5061");
  assert.equal(await ask(g, "CLUSTER", "KEYSLOT", "foo"), "12182");
  const moved = `-MOVED 12182 ${HOST}:${r}`;
  assert.equal(await ask(g, "MIGRATE", HOST, r, "foo", 0, 1000), moved);
  assert.equal(await ask(g, "MIGRATE", HOST, r, "", 0, 1000, "KEYS", "foo"), moved);
  assert.equal(
    await ask(g, "MIGRATE", HOST, r, "", 0, 1000, "KEYS", "bar", "foo"),
    "-CROSSSLOT Keys in request don't hash to the same slot",
  );

  // gocache → redis-server: slot 5061 migrating from gocache, importing on redis-server.
  assert.equal(await ask(g, "SET", "bar", "from-gocache"), "OK");
  assert.equal(await ask(r, "CLUSTER", "SETSLOT", 5061, "IMPORTING", gid), "OK");
  assert.equal(await ask(g, "CLUSTER", "SETSLOT", 5061, "MIGRATING", rid), "OK");
  assert.equal(await ask(g, "MIGRATE", HOST, r, "", 0, 5000, "KEYS", "bar"), "OK");
  // Gone here: a lookup in the migrating slot is sent to the importing node.
  assert.equal(await ask(g, "EXISTS", "bar"), `-ASK 5061 ${HOST}:${r}`);
  // A MIGRATE in a slot being moved runs here even without the key (no ASK): NOKEY.
  assert.equal(await ask(g, "MIGRATE", HOST, r, "bar", 0, 5000), "NOKEY");
  const rc = await runner(r);
  try {
    assert.equal(await rc.run("ASKING"), "OK");
    assert.equal(await rc.run("GET", "bar"), "from-gocache");
  } finally {
    rc.conn.close();
  }

  // redis-server → gocache: slot 12182 migrating from redis-server, importing on gocache,
  // where RESTORE-ASKING is accepted without ASKING.
  assert.equal(await ask(r, "SET", "foo", "from-redis", "PX", 90_000), "OK");
  assert.equal(await ask(g, "CLUSTER", "SETSLOT", 12182, "IMPORTING", rid), "OK");
  assert.equal(await ask(r, "CLUSTER", "SETSLOT", 12182, "MIGRATING", gid), "OK");
  assert.equal(await ask(r, "MIGRATE", HOST, g, "foo", 0, 5000), "OK");
  assert.equal(await ask(r, "EXISTS", "foo"), `-ASK 12182 ${HOST}:${g}`);
  const gc = await runner(g);
  try {
    assert.equal(await gc.run("GET", "foo"), `-MOVED 12182 ${HOST}:${r}`);
    assert.equal(await gc.run("ASKING"), "OK");
    assert.equal(await gc.run("GET", "foo"), "from-redis");
    assert.equal(await gc.run("ASKING"), "OK");
    assert.ok(Number(await gc.run("PTTL", "foo")) > 89_000);
  } finally {
    gc.conn.close();
  }
});
