/**
 * The protected admin surface against redis-server 7.0, same requests to both: DEBUG refused by
 * default (`enable-debug-command no`) with Redis's text, and with `local` its subcommands' replies
 * and effects; `rename-command` hiding and renaming commands.
 */
import assert from "node:assert/strict";
import { RespConn } from "../support/resp_conn.ts";
import { waitFor } from "../support/wait_for.ts";
import { assertSameCommandInfo, ConnPair, intOf, script, withBoth } from "./_diff.ts";
import { startRedis } from "../support/redis_server.ts";
import { startServer } from "../support/server.ts";

Deno.test("DEBUG is refused unless enable-debug-command allows it, with Redis's text", async () => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();
    await script(c, [
      ["DEBUG", "SLEEP", "0"],
      ["DEBUG", "POPULATE", "10"],
      ["DEBUG"],
      ["DBSIZE"],
      ["CONFIG", "GET", "enable-debug-command"],
    ]);
    await assertSameCommandInfo(c, ["debug"]);
  });
});

Deno.test("DEBUG with enable-debug-command local: replies and effects as redis-server's", async (t) => {
  await withBoth({ args: ["--enable-debug-command", "local"] }, async (both) => {
    await using c = await both.connect();
    await t.step("POPULATE: keys, values, padding, existing keys kept, bad counts", async () => {
      await script(c, [
        ["SET", "key:3", "mine"],
        ["DEBUG", "POPULATE", "5"],
        ["DBSIZE"],
        ["GET", "key:0"],
        ["GET", "key:3"],
        ["DEBUG", "POPULATE", "3", "pad", "10"],
        ["GET", "pad:2"],
        ["DEBUG", "POPULATE", "2", "cut", "3"],
        ["GET", "cut:1"],
        ["DEBUG", "POPULATE", "-1"],
        ["DEBUG", "POPULATE", "x"],
        ["DEBUG", "POPULATE", "1", "p", "-4"],
        ["DEBUG", "POPULATE", "1", "p", "2", "extra"],
        ["DBSIZE"],
      ]);
    });
    await t.step("ERROR, LOG, SLEEP and unknown subcommands", async () => {
      await script(c, [
        ["DEBUG", "ERROR", "something went wrong"],
        ["DEBUG", "ERROR", "-CUSTOM code"],
        ["DEBUG", "LOG", "hello from the test"],
        ["DEBUG", "SLEEP", "0"],
        ["DEBUG", "SLEEP", "not-a-number"],
        ["DEBUG", "NO-SUCH-THING"],
        ["DEBUG", "SLEEP"],
      ]);
    });
    await t.step("SLEEP stops the whole server", async () => {
      for (const port of [both.redis.port, both.gocache.port]) {
        await using a = await RespConn.connect(port);
        await using b = await RespConn.connect(port);
        const started = performance.now();
        const sleeping = a.call("DEBUG", "SLEEP", "0.3");
        await new Promise((resolve) => setTimeout(resolve, 20));
        await b.call("PING");
        const waited = performance.now() - started;
        await sleeping;
        assert.ok(waited >= 250, `PING on ${port} answered after ${waited} ms`);
      }
    });
    await t.step("SET-ACTIVE-EXPIRE 0 keeps expired keys until read; 1 removes them", async () => {
      await script(c, [["FLUSHALL"], ["DEBUG", "SET-ACTIVE-EXPIRE", "0"]]);
      await script(c, [["SET", "gone", "v", "PX", "30"], ["SET", "kept", "v"]]);
      await new Promise((resolve) => setTimeout(resolve, 400));
      // Nothing read the key: active expiry alone would have removed it by now.
      const sizes = await c.call("DBSIZE");
      assert.deepEqual([intOf(sizes.redis), intOf(sizes.gocache)], [2, 2]);
      await script(c, [["DEBUG", "SET-ACTIVE-EXPIRE", "1"]]);
      await waitFor(async () => {
        const now = await c.call("DBSIZE");
        return intOf(now.redis) === 1 && intOf(now.gocache) === 1;
      }, { what: "active expiry to resume on both servers" });
    });
  });
});

Deno.test("rename-command renames and disables commands as redis-server does", async () => {
  // redis-server takes the two names as two arguments, gocache's flag one "NAME NEWNAME" line.
  const redis = await startRedis([
    "--rename-command",
    "FLUSHALL",
    '""',
    "--rename-command",
    "CONFIG",
    "cfg-8a1f",
  ]);
  try {
    await using gocache = await startServer({
      args: ["--rename-command", 'FLUSHALL ""', "--rename-command", "CONFIG cfg-8a1f"],
    });
    await using c = new ConnPair(
      await RespConn.connect(redis.port),
      await RespConn.connect(gocache.port),
    );
    await script(c, [
      ["SET", "k", "v"],
      ["FLUSHALL"],
      ["flushall", "ASYNC"],
      ["CONFIG", "GET", "maxmemory"],
      ["CFG-8A1F", "GET", "maxmemory"],
      ["cfg-8a1f", "SET", "maxmemory", "0"],
      ["DBSIZE"],
      ["MULTI"],
      ["FLUSHALL"],
      ["SET", "k2", "v"],
      ["EXEC"],
      ["DBSIZE"],
      ["EVAL", "return redis.call('flushall')", "0"],
      ["EVAL", "return redis.call('cfg-8a1f', 'get', 'maxmemory')", "0"],
    ]);
  } finally {
    await redis.stop();
  }
});
