/**
 * Hashes, lists, sets and sorted sets survive every way a dataset leaves a server and comes
 * back, and move between gocache and redis-server 7.0 in both directions: SAVE and restart,
 * redis-check-rdb on gocache's file, redis-server loading it, gocache loading redis-server's
 * (which holds Redis's compact encodings: listpacks, quicklists, intsets), AOF rewrite and
 * restart, DUMP/RESTORE both ways, and full syncs both ways. Each comparison is a digest of
 * every key's type, value and expiry (tests/support/replication.ts).
 */
import assert from "node:assert/strict";
import { startServer } from "../support/server.ts";
import { startRedis } from "../support/redis_server.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import {
  datasetDigest,
  pipelined,
  waitForCatchUp,
  waitForSameData,
} from "../support/replication.ts";
import { waitFor } from "../support/wait_for.ts";

/**
 * Collections of every type, small (compact encodings in Redis) and large (beyond them), with
 * integers at the encoding boundaries, binary members, TTLs, and a few strings, in two databases.
 */
function collections(prefix: string): (string | number)[][] {
  const commands: (string | number)[][] = [];
  const ints = ["0", "-1", "12", "13", "127", "-128", "4095", "32767", "-32768", "8388607"];
  const wide = ["2147483648", "-9223372036854775808", "9223372036854775807"];
  for (const db of [0, 7]) {
    commands.push(["SELECT", db]);
    for (let k = 0; k < 20; k++) {
      const size = k % 4 === 0 ? 700 : 1 + (k % 9);
      const name = `${prefix}:${db}:${k}`;
      const hash: (string | number)[] = ["HSET", `${name}:h`];
      const list: (string | number)[] = ["RPUSH", `${name}:l`];
      const set: (string | number)[] = ["SADD", `${name}:s`];
      const intset: (string | number)[] = ["SADD", `${name}:i`];
      const zset: (string | number)[] = ["ZADD", `${name}:z`];
      for (let i = 0; i < size; i++) {
        const member = i % 5 === 0 ? ints[i % ints.length] : `m\x00\xff\r\n${i}`;
        hash.push(`f${i}`, i % 3 === 0 ? "x".repeat(i % 90) : member);
        list.push(member);
        set.push(member);
        intset.push(i % 7 === 0 ? wide[i % wide.length] : String(i * 37 - 500));
        zset.push(i % 11 === 0 ? "inf" : i % 2 ? i / 8 : -i, `${member}:${i}`);
      }
      commands.push(hash, list, set, intset, zset);
      if (k % 3 === 0) commands.push(["PEXPIRE", `${name}:h`, 3_600_000 + k]);
      if (k % 5 === 0) commands.push(["PEXPIRE", `${name}:z`, 7_200_000 + k]);
    }
    commands.push(["RPUSH", `${prefix}:${db}:big`, "y".repeat(20_000), "z"]);
    commands.push(["SET", `${prefix}:${db}:str`, "plain"], ["SET", `${prefix}:${db}:n`, 42]);
  }
  commands.push(["SELECT", 0]);
  return commands;
}

async function check(args: string[]): Promise<void> {
  const out = await new Deno.Command(args[0], { args: args.slice(1), stdout: "piped" }).output();
  assert.equal(out.code, 0, `${args.join(" ")}: ${new TextDecoder().decode(out.stdout)}`);
}

Deno.test("collections survive SAVE and a restart, pass redis-check-rdb and load into redis-server", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-collections-" });
  try {
    let before: Awaited<ReturnType<typeof datasetDigest>>;
    {
      await using server = await startServer({ dir });
      await using c = await RespConn.connect(server.port);
      const replies = await pipelined(c, collections("rdb"));
      assert.ok(replies.every((r) => !String(r).startsWith("-")), "every write succeeds");
      before = await datasetDigest(server.port);
      assert.equal(before.keys[0], 20 * 5 + 3);
      assert.equal(plain(await c.call("SAVE")), "OK");
    }
    await check(["redis-check-rdb", `${dir}/dump.rdb`]);
    {
      await using server = await startServer({ dir });
      assert.deepEqual(await datasetDigest(server.port), before);
    }
    await using redis = await startRedis(["--dir", dir, "--dbfilename", "dump.rdb"]);
    await waitFor(async () => (await datasetDigest(redis.port)).keys[0] > 0, {
      what: "redis-server to load gocache's RDB",
    });
    assert.deepEqual(await datasetDigest(redis.port), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gocache loads redis-server's RDB with every compact encoding", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-collections-redis-" });
  try {
    let before: Awaited<ReturnType<typeof datasetDigest>>;
    {
      await using redis = await startRedis(["--dir", dir]);
      await using r = await RespConn.connect(redis.port);
      await pipelined(r, collections("redis"));
      before = await datasetDigest(redis.port);
      assert.equal(plain(await r.call("OBJECT", "ENCODING", "redis:0:1:h")), "listpack");
      assert.equal(plain(await r.call("OBJECT", "ENCODING", "redis:0:1:i")), "intset");
      assert.equal(plain(await r.call("OBJECT", "ENCODING", "redis:0:0:z")), "skiplist");
      assert.equal(plain(await r.call("SAVE")), "OK");
    }
    await using server = await startServer({ dir });
    assert.deepEqual(await datasetDigest(server.port), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("collections survive an AOF rewrite and a restart; the file passes redis-check-aof", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-collections-aof-" });
  const args = ["--appendonly", "yes", "--appendfsync", "always"];
  try {
    let before: Awaited<ReturnType<typeof datasetDigest>>;
    {
      await using server = await startServer({ dir, args });
      await using c = await RespConn.connect(server.port);
      await pipelined(c, collections("aof"));
      before = await datasetDigest(server.port);
      assert.equal(
        plain(await c.call("BGREWRITEAOF")),
        "Background append only file rewriting started",
      );
      await waitFor(async () => {
        const info = String(plain(await c.call("INFO", "persistence")));
        return /aof_rewrite_in_progress:0/.test(info) && /aof_rewrites:1/.test(info);
      }, { what: "the rewrite to finish" });
    }
    await check(["redis-check-aof", `${dir}/appendonly.aof`]);
    await using server = await startServer({ dir, args });
    assert.deepEqual(await datasetDigest(server.port), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DUMP payloads of collections restore on redis-server and back", async () => {
  await using server = await startServer();
  await using redis = await startRedis();
  await using g = await RespConn.connect(server.port);
  await using r = await RespConn.connect(redis.port);
  await pipelined(g, collections("dump").filter((c) => c[0] !== "SELECT" || c[1] === 0));
  const names = (plain(await g.call("KEYS", "*")) as string[]).sort();
  /** DUMPs every key on `from` and RESTOREs it on `to` with the same absolute expiry. */
  const copyAll = async (from: RespConn, to: RespConn) => {
    for (const name of names) {
      const payload = await from.call("DUMP", name) as Uint8Array;
      const at = plain(await from.call("PEXPIRETIME", name)) as number;
      const reply = at > 0
        ? await to.call("RESTORE", name, at, payload, "ABSTTL")
        : await to.call("RESTORE", name, 0, payload);
      assert.equal(plain(reply), "OK", name);
    }
  };
  await copyAll(g, r);
  const ours = await datasetDigest(server.port);
  assert.deepEqual(await datasetDigest(redis.port), ours);
  // Back again, from redis-server's own payloads (listpacks, intsets, quicklists).
  await g.call("FLUSHALL");
  await copyAll(r, g);
  assert.deepEqual(await datasetDigest(server.port), ours);
});

Deno.test("full syncs carry collections both ways between gocache and redis-server", async () => {
  await using leader = await startServer();
  await using l = await RespConn.connect(leader.port);
  await pipelined(l, collections("sync"));
  await using redisFollower = await startRedis(["--replicaof", "127.0.0.1", String(leader.port)]);
  await waitForCatchUp(leader.port, redisFollower.port);
  await pipelined(l, [["HSET", "sync:after", "f", "v"], ["LPUSH", "sync:list", "a", "b"]]);
  await waitForSameData(leader.port, redisFollower.port);

  await using redisLeader = await startRedis(["--repl-diskless-sync-delay", "0"]);
  await using r = await RespConn.connect(redisLeader.port);
  await pipelined(r, collections("back"));
  await using follower = await startServer({
    args: ["--replicaof", `127.0.0.1 ${redisLeader.port}`],
  });
  await waitForCatchUp(redisLeader.port, follower.port);
  await pipelined(r, [["ZADD", "back:after", 1, "a"], ["SADD", "back:set", 1, 2, 3]]);
  await waitForSameData(redisLeader.port, follower.port);
});

/** One key of the fixture's sidecar (tests/fixtures/make_types_rdb.sh). */
interface FixtureKey {
  type: string;
  encoding: string;
  value: unknown;
  expireAtMs?: number | null;
}

Deno.test("a dump written by redis-server 7.0 with every type and encoding loads key for key", async () => {
  const fixtures = new URL("../fixtures/", import.meta.url);
  const expected = JSON.parse(
    await Deno.readTextFile(new URL("redis-7.0-types.json", fixtures)),
  ) as Record<string, FixtureKey>;
  const dir = await Deno.makeTempDir({ prefix: "gocache-types-fixture-" });
  try {
    await Deno.copyFile(new URL("redis-7.0-types.rdb", fixtures), `${dir}/dump.rdb`);
    await using server = await startServer({ dir });
    await using c = await RespConn.connect(server.port);
    assert.equal(plain(await c.call("DBSIZE")), Object.keys(expected).length);
    // Keys and values in the sidecar hold one character per byte: compare in that form.
    const binary = (v: unknown): unknown =>
      v instanceof Uint8Array ? String.fromCharCode(...v) : Array.isArray(v) ? v.map(binary) : v;
    for (const [key, want] of Object.entries(expected)) {
      const name = Uint8Array.from(key, (ch) => ch.charCodeAt(0));
      assert.equal(plain(await c.call("TYPE", name)), want.type, key);
      assert.equal(plain(await c.call("OBJECT", "ENCODING", name)), want.encoding, key);
      const at = plain(await c.call("PEXPIRETIME", name));
      assert.equal(at, want.expireAtMs ?? -1, `${key} expiry`);
      const read = async (...args: (string | number | Uint8Array)[]) =>
        binary(await c.call(...args));
      switch (want.type) {
        case "string":
          assert.equal(await read("GET", name), want.value, key);
          break;
        case "list":
          assert.deepEqual(await read("LRANGE", name, 0, -1), want.value, key);
          break;
        case "set":
          assert.deepEqual(((await read("SMEMBERS", name)) as string[]).sort(), want.value, key);
          break;
        case "zset": {
          const flat = (await read("ZRANGE", name, 0, -1, "WITHSCORES")) as string[];
          const pairs = [];
          for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
          assert.deepEqual(pairs, want.value, key);
          break;
        }
        case "hash": {
          const flat = (await read("HGETALL", name)) as string[];
          const got = new Map<string, string>();
          for (let i = 0; i < flat.length; i += 2) got.set(flat[i], flat[i + 1]);
          assert.deepEqual(got, new Map(want.value as [string, string][]), key);
          break;
        }
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
