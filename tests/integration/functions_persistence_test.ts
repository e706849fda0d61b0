/**
 * Function libraries outlive the process and travel as Redis 7.0 carries them: in RDB files
 * (read and written both ways with redis-server, checked by redis-check-rdb), in AOF rewrites
 * (FUNCTION LOAD commands, replayed at start), in full syncs (gocache to gocache, gocache to
 * redis-server and back), and in FUNCTION DUMP / RESTORE payloads.
 */
import assert from "node:assert/strict";
import { plain, RespConn } from "../support/resp_conn.ts";
import { startServer } from "../support/server.ts";
import { startRedis } from "../support/redis_server.ts";
import { waitFor } from "../support/wait_for.ts";

const LIBRARY = "#!lua name=persisted\n" +
  "redis.register_function('echo_twice', function(keys, args) return args[1] .. args[1] end)\n" +
  "redis.register_function{function_name='read_key', callback=function(keys) " +
  "return redis.call('GET', keys[1]) end, flags={'no-writes'}, description='reads a key'}";

const OTHER = "#!lua name=other\n" +
  "redis.register_function('answer', function() return 42 end)";

/** FUNCTION LIST of `conn`, reduced to library names and their sorted function names and flags. */
async function libraries(conn: RespConn): Promise<unknown[]> {
  const list = plain(await conn.call("FUNCTION", "LIST")) as unknown[][];
  return list.map((library) => {
    const fields = new Map<unknown, unknown>();
    for (let i = 0; i < library.length; i += 2) fields.set(library[i], library[i + 1]);
    const functions = (fields.get("functions") as unknown[][]).map((fn) => {
      const f = new Map<unknown, unknown>();
      for (let i = 0; i < fn.length; i += 2) f.set(fn[i], fn[i + 1]);
      return [f.get("name"), f.get("flags")];
    }).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    return [fields.get("library_name"), functions];
  }).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
}

/** Asserts that `conn` serves both test libraries' functions. */
async function assertFunctionsWork(conn: RespConn, what: string): Promise<void> {
  assert.equal(plain(await conn.call("FCALL", "echo_twice", "0", "ab")), "abab", what);
  await conn.call("SET", "fk", "fv");
  assert.equal(plain(await conn.call("FCALL_RO", "read_key", "1", "fk")), "fv", what);
  assert.equal(plain(await conn.call("FCALL", "answer", "0")), 42, what);
}

const EXPECTED = [
  ["other", [["answer", []]]],
  ["persisted", [["echo_twice", []], ["read_key", ["no-writes"]]]],
];

Deno.test("libraries survive a restart from RDB and move between gocache and redis-server files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-functions-rdb-" });
  try {
    {
      await using server = await startServer({ dir });
      await using conn = await RespConn.connect(server.port);
      assert.equal(plain(await conn.call("FUNCTION", "LOAD", LIBRARY)), "persisted");
      assert.equal(plain(await conn.call("FUNCTION", "LOAD", OTHER)), "other");
      assert.equal(plain(await conn.call("SAVE")), "OK");
    }
    const check = new Deno.Command("redis-check-rdb", { args: [`${dir}/dump.rdb`] }).outputSync();
    assert.equal(check.code, 0, new TextDecoder().decode(check.stdout));
    {
      await using server = await startServer({ dir });
      await using conn = await RespConn.connect(server.port);
      assert.deepEqual(await libraries(conn), EXPECTED);
      await assertFunctionsWork(conn, "gocache after a restart");
    }
    // redis-server loads gocache's file, then saves its own, which gocache loads.
    const redis = await startRedis(["--dbfilename", "dump.rdb", "--enable-debug-command", "yes"]);
    try {
      await Deno.copyFile(`${dir}/dump.rdb`, `${redis.dir}/dump.rdb`);
      await using admin = await RespConn.connect(redis.port);
      assert.equal(plain(await admin.call("DEBUG", "RELOAD", "NOSAVE")), "OK");
      assert.deepEqual(await libraries(admin), EXPECTED);
      await assertFunctionsWork(admin, "redis-server loading gocache's file");
      assert.equal(plain(await admin.call("FUNCTION", "DELETE", "other")), "OK");
      assert.equal(plain(await admin.call("SAVE")), "OK");
      await Deno.copyFile(`${redis.dir}/dump.rdb`, `${dir}/dump.rdb`);
    } finally {
      await redis.stop();
    }
    await using server = await startServer({ dir });
    await using conn = await RespConn.connect(server.port);
    assert.deepEqual(await libraries(conn), EXPECTED.slice(1));
    assert.equal(plain(await conn.call("FCALL", "echo_twice", "0", "x")), "xx");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an AOF rewrite starts with FUNCTION LOAD and a restart from the AOF has the libraries", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-functions-aof-" });
  try {
    {
      await using server = await startServer({ dir, args: ["--appendonly", "yes"] });
      await using conn = await RespConn.connect(server.port);
      await conn.call("FUNCTION", "LOAD", LIBRARY);
      await conn.call("SET", "before", "1");
      assert.match(String(plain(await conn.call("BGREWRITEAOF"))), /rewriting started/);
      await waitFor(async () => {
        const info = String(plain(await conn.call("INFO", "persistence")));
        return info.includes("aof_rewrite_in_progress:0") && info.includes("aof_rewrites:1");
      }, { what: "the AOF rewrite to finish" });
      // A library loaded after the rewrite reaches the file as the command it was.
      await conn.call("FUNCTION", "LOAD", OTHER);
    }
    const files: string[] = [];
    for await (const entry of Deno.readDir(dir)) if (entry.isFile) files.push(entry.name);
    const aofText = files.filter((name) => name.includes("aof")).map((name) =>
      new TextDecoder().decode(Deno.readFileSync(`${dir}/${name}`))
    ).join("\n");
    assert.match(aofText, /FUNCTION\r\n\$4\r\nLOAD\r\n/);
    assert.ok(
      aofText.indexOf("name=persisted") < aofText.indexOf("before"),
      "the rewrite writes the libraries before the keys",
    );
    await using server = await startServer({ dir, args: ["--appendonly", "yes"] });
    await using conn = await RespConn.connect(server.port);
    assert.deepEqual(await libraries(conn), EXPECTED);
    await assertFunctionsWork(conn, "gocache restarted from its AOF");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("full syncs carry the libraries: gocache to gocache, to redis-server, and back", async () => {
  await using leader = await startServer();
  await using follower = await startServer();
  await using toLeader = await RespConn.connect(leader.port);
  await using toFollower = await RespConn.connect(follower.port);
  await toLeader.call("FUNCTION", "LOAD", LIBRARY);
  await toLeader.call("FUNCTION", "LOAD", OTHER);
  // The follower's own library is replaced by the leader's set.
  await toFollower.call(
    "FUNCTION",
    "LOAD",
    "#!lua name=mine\nredis.register_function('mine', function() return 1 end)",
  );
  await toFollower.call("REPLICAOF", "127.0.0.1", String(leader.port));
  await waitFor(
    async () => JSON.stringify(await libraries(toFollower)) === JSON.stringify(EXPECTED),
    {
      what: "the gocache follower to hold the leader's libraries",
    },
  );
  const redis = await startRedis();
  try {
    await using toRedis = await RespConn.connect(redis.port);
    await toRedis.call("REPLICAOF", "127.0.0.1", String(leader.port));
    await waitFor(
      async () => JSON.stringify(await libraries(toRedis)) === JSON.stringify(EXPECTED),
      {
        what: "redis-server following gocache to hold its libraries",
      },
    );
    assert.equal(plain(await toRedis.call("FCALL_RO", "read_key", "1", "nothing")), null);
    // gocache follows redis-server: the copy it loads carries redis-server's libraries.
    await toRedis.call("REPLICAOF", "NO", "ONE");
    await toRedis.call("FUNCTION", "DELETE", "other");
    await toFollower.call("REPLICAOF", "127.0.0.1", String(redis.port));
    await waitFor(
      async () => JSON.stringify(await libraries(toFollower)) === JSON.stringify(EXPECTED.slice(1)),
      { what: "gocache following redis-server to hold its libraries" },
    );
    await toFollower.call("REPLICAOF", "NO", "ONE");
    assert.equal(plain(await toFollower.call("FCALL", "echo_twice", "0", "z")), "zz");
  } finally {
    await redis.stop();
  }
});

Deno.test("FUNCTION DUMP payloads restore in redis-server and redis-server's in gocache", async () => {
  await using server = await startServer();
  const redis = await startRedis();
  try {
    await using g = await RespConn.connect(server.port);
    await using r = await RespConn.connect(redis.port);
    await g.call("FUNCTION", "LOAD", LIBRARY);
    await r.call("FUNCTION", "LOAD", OTHER);
    // The payloads are binary: kept as the bytes the servers sent.
    const fromGocache = await g.call("FUNCTION", "DUMP") as Uint8Array;
    const fromRedis = await r.call("FUNCTION", "DUMP") as Uint8Array;
    assert.ok(fromGocache instanceof Uint8Array && fromRedis instanceof Uint8Array);
    assert.equal(plain(await r.call("FUNCTION", "RESTORE", fromGocache)), "OK");
    assert.equal(plain(await g.call("FUNCTION", "RESTORE", fromRedis)), "OK");
    assert.deepEqual(await libraries(g), EXPECTED);
    assert.deepEqual(await libraries(r), EXPECTED);
    // APPEND refuses a library that exists and changes nothing; FLUSH replaces everything.
    assert.equal(
      plain(await g.call("FUNCTION", "RESTORE", fromRedis)),
      "-ERR Library other already exists",
    );
    assert.deepEqual(await libraries(g), EXPECTED);
    assert.equal(plain(await g.call("FUNCTION", "RESTORE", fromRedis, "FLUSH")), "OK");
    assert.deepEqual(await libraries(g), EXPECTED.slice(0, 1));
  } finally {
    await redis.stop();
  }
});
