/**
 * Protected mode, `bind` lists and protected configs, checked against redis-server 7.0:
 * - a server bound to every address with no password refuses a client connecting from
 *   127.0.0.2 (a loopback address Redis does not count as local) with Redis's -DENIED text and
 *   accepts 127.0.0.1; a password, or `protected-mode no`, lets the client in;
 * - `bind` takes several addresses and `-` for one that may be missing;
 * - the classic break-in, `CONFIG SET dir /root/.ssh` then `dbfilename authorized_keys`, is
 *   refused by default, as Redis 7.0 refuses it.
 */
import assert from "node:assert/strict";
import { plain, RespConn } from "../support/resp_conn.ts";
import { startServer } from "../support/server.ts";
import { freePort, startRedis } from "../support/redis_server.ts";
import { fromSource } from "../support/from_source.ts";

Deno.test("protected mode: 127.0.0.2 gets Redis's -DENIED, 127.0.0.1 is served; a password or protected-mode no lets it in", async () => {
  const redis = await startRedis(["--bind", "0.0.0.0", "--protected-mode", "yes"]);
  try {
    await using server = await startServer({ args: ["--bind", "0.0.0.0"] });
    const denied = await fromSource("127.0.0.2", server.port);
    assert.match(denied, /^-DENIED Redis is running in protected mode/);
    assert.equal(
      denied,
      await fromSource("127.0.0.2", redis.port),
      "the same bytes as redis-server",
    );
    assert.equal(await fromSource("127.0.0.1", server.port), "+PONG\r\n");
    await using local = await RespConn.connect(server.port);
    // With a password the remote client is let in (and must authenticate).
    assert.equal(plain(await local.call("CONFIG", "SET", "requirepass", "s3cret")), "OK");
    assert.match(await fromSource("127.0.0.2", server.port), /^-NOAUTH/);
    assert.equal(
      await fromSource("127.0.0.2", server.port, "AUTH s3cret\r\nPING\r\n"),
      "+OK\r\n+PONG\r\n",
    );
    await local.call("AUTH", "s3cret");
    assert.equal(plain(await local.call("CONFIG", "SET", "requirepass", "")), "OK");
    assert.match(await fromSource("127.0.0.2", server.port, ""), /^-DENIED/);
    assert.equal(plain(await local.call("CONFIG", "SET", "protected-mode", "no")), "OK");
    assert.equal(await fromSource("127.0.0.2", server.port), "+PONG\r\n");
  } finally {
    await redis.stop();
  }
});

Deno.test("bind lists several addresses; a '-' address may be missing, another may not", async () => {
  const port = freePort();
  await using server = await startServer({
    args: ["--bind", "127.0.0.1 127.0.0.3 -192.0.2.1", "--port", String(port)],
  });
  for (const hostname of ["127.0.0.1", "127.0.0.3"]) {
    const conn = await Deno.connect({ hostname, port: server.port });
    await conn.write(new TextEncoder().encode("PING\r\n"));
    const buf = new Uint8Array(16);
    const n = await conn.read(buf);
    conn.close();
    assert.equal(new TextDecoder().decode(buf.subarray(0, n ?? 0)), "+PONG\r\n", hostname);
  }
  await assert.rejects(
    startServer({ args: ["--bind", "127.0.0.1 192.0.2.1"], expectCrash: true }),
    "an address that cannot be bound without '-' stops the start",
  );
});

Deno.test("the classic break-in is refused by default: CONFIG SET dir and dbfilename, as redis-server", async () => {
  const redis = await startRedis();
  try {
    await using server = await startServer();
    await using g = await RespConn.connect(server.port);
    await using r = await RespConn.connect(redis.port);
    for (const args of [["dir", "/root/.ssh"], ["dbfilename", "authorized_keys"]]) {
      const mine = plain(await g.call("CONFIG", "SET", ...args));
      assert.equal(mine, plain(await r.call("CONFIG", "SET", ...args)));
      assert.match(String(mine), /can't set protected config$/);
    }
    assert.deepEqual(plain(await g.call("CONFIG", "GET", "enable-protected-configs")), [
      "enable-protected-configs",
      "no",
    ]);
  } finally {
    await redis.stop();
  }
  // Allowed when asked for: yes for anyone, local from 127.0.0.1 only.
  await using open = await startServer({ args: ["--enable-protected-configs", "yes"] });
  await using o = await RespConn.connect(open.port);
  assert.equal(plain(await o.call("CONFIG", "SET", "dbfilename", "other.rdb")), "OK");
  await using localOnly = await startServer({
    args: [
      "--enable-protected-configs",
      "local",
      "--enable-debug-command",
      "local",
      "--bind",
      "0.0.0.0",
      "--protected-mode",
      "no",
    ],
  });
  await using l = await RespConn.connect(localOnly.port);
  assert.equal(plain(await l.call("CONFIG", "SET", "dbfilename", "local.rdb")), "OK");
  const remote = await fromSource(
    "127.0.0.2",
    localOnly.port,
    "CONFIG SET dbfilename remote.rdb\r\n",
  );
  assert.match(
    remote,
    /^-ERR CONFIG SET failed \(possibly related to argument 'dbfilename'\) - can't set protected config/,
  );
  // enable-debug-command local: DEBUG from 127.0.0.1, not from 127.0.0.2.
  assert.equal(plain(await l.call("DEBUG", "SLEEP", "0")), "OK");
  assert.match(
    await fromSource("127.0.0.2", localOnly.port, "DEBUG SLEEP 0\r\n"),
    /^-ERR DEBUG command not allowed\. If the enable-debug-command option is set to "local"/,
  );
});
