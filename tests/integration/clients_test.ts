/**
 * Real Redis clients against the real server: ioredis, redis-cli (one-shot and interactive on a
 * pseudo-terminal) and redis-benchmark run PING/ECHO/INFO/CLIENT/HELLO without errors.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startServer } from "../support/server.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import { RespMap, RespSimple } from "../../src/resp/reply_decoder.ts";
import { PYTHON3, requireTools, runTool } from "../support/tools.ts";

const PTY_SESSION = new URL("../support/pty_session.py", import.meta.url).pathname;

/** Removes terminal escape sequences and carriage returns from a pty transcript. */
function screenText(raw: string): string {
  // deno-lint-ignore no-control-regex
  return raw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replace(/\r/g, "\n");
}

Deno.test("ioredis connects and runs PING, ECHO, INFO, CLIENT and HELLO 2", async () => {
  await using server = await startServer();
  const redis = new Redis({ port: server.port, host: "127.0.0.1", lazyConnect: true });
  try {
    await redis.connect();
    assert.equal(await redis.ping(), "PONG");
    assert.equal(await redis.echo("binary\r\nsafe"), "binary\r\nsafe");
    const info = await redis.info("server");
    assert.match(info, /^# Server\r\n/);
    assert.match(info, new RegExp(`tcp_port:${server.port}\r\n`));
    assert.equal(await redis.client("SETNAME", "ioredis-test"), "OK");
    assert.equal(await redis.client("GETNAME"), "ioredis-test");
    assert.equal(typeof await redis.client("ID"), "number");
    assert.match(await redis.client("LIST") as string, /name=ioredis-test /);
    const hello = await redis.call("HELLO", "2") as unknown[];
    assert.deepEqual(hello.slice(0, 2), ["server", "gocache"]);
    await assert.rejects(redis.call("NOSUCHCOMMAND", "x"), /ERR unknown command 'NOSUCHCOMMAND'/);
    const results = await redis.pipeline().ping().echo("a").echo("b").exec();
    assert.deepEqual(results, [[null, "PONG"], [null, "a"], [null, "b"]]);
  } finally {
    await redis.quit();
    redis.disconnect();
  }
});

Deno.test("HELLO 3 switches the connection to RESP3 replies", async () => {
  await using server = await startServer();
  await using conn = await RespConn.connect(server.port);
  const hello = await conn.call("HELLO", "3");
  assert.ok(hello instanceof RespMap, "HELLO 3 answers with a RESP3 map");
  assert.deepEqual(plain(hello), [
    ["server", "gocache"],
    ["version", "7.2.0"],
    ["proto", 3],
    ["id", (plain(hello) as [string, unknown][])[3][1]],
    ["mode", "standalone"],
    ["role", "master"],
    ["modules", []],
  ]);
  assert.ok(await conn.call("CONFIG", "GET", "port") instanceof RespMap);
  assert.equal(await conn.call("CLIENT", "GETNAME"), null);
  const ping = await conn.call("PING");
  assert.ok(ping instanceof RespSimple && ping.value === "PONG");
  assert.ok(!(await conn.call("HELLO", "2") instanceof RespMap), "HELLO 2 goes back to RESP2");
});

Deno.test("redis-cli one-shot runs PING, ECHO, INFO, CLIENT and HELLO", async () => {
  await using server = await startServer();
  const cli = (...args: string[]) => runTool("redis-cli", ["-p", String(server.port), ...args]);
  assert.deepEqual(await cli("PING"), { code: 0, out: "PONG\n", err: "" });
  assert.equal((await cli("ECHO", "hello world")).out, "hello world\n");
  assert.match((await cli("INFO")).out, /redis_version:7\.2\.0/);
  assert.match((await cli("CLIENT", "LIST")).out, /^id=\d+ addr=127\.0\.0\.1:\d+ /);
  assert.match((await cli("HELLO", "3")).out, /^server gocache\nversion 7\.2\.0\nproto 3\n/);
  assert.match(
    (await cli("-3", "CONFIG", "GET", "port")).out,
    new RegExp(`^port ${server.port}\n$`),
  );
  assert.equal(
    (await cli("NOSUCH")).out,
    "ERR unknown command 'NOSUCH', with args beginning with: \n\n",
  );
});

Deno.test({
  name: "redis-cli in interactive mode works, including hints built from COMMAND DOCS",
  // python3 drives the pseudo-terminal (tests/support/pty_session.py).
  ...requireTools(PYTHON3, async () => {
    await using server = await startServer();
    const lines = [
      "ping",
      'echo "a b"',
      "hello 3",
      "client setname tty",
      "client getname",
      "help ping",
      "quit",
    ];
    const { code, out } = await runTool("python3", [
      PTY_SESSION,
      "20",
      JSON.stringify(lines),
      "redis-cli",
      "-p",
      String(server.port),
    ]);
    const screen = screenText(out);
    assert.equal(code, 0, screen);
    assert.match(screen, /^PONG$/m);
    assert.match(screen, /^"a b"$/m);
    assert.match(screen, /"proto" => \(integer\) 3/);
    assert.match(screen, /^"tty"$/m);
    assert.match(screen, /summary: Returns the server's liveliness response\./);
    assert.doesNotMatch(screen, /\(error\)/);
  }),
});

Deno.test("redis-benchmark runs its PING tests against gocache without errors", async () => {
  await using server = await startServer();
  await using admin = await RespConn.connect(server.port);
  assert.equal(plain(await admin.call("CONFIG", "SET", "loglevel", "warn")), "OK");
  const { code, out, err } = await runTool("redis-benchmark", [
    "-p",
    String(server.port),
    "-t",
    "ping",
    "-n",
    "20000",
    "-c",
    "10",
    "-P",
    "8",
    "--csv",
  ]);
  assert.equal(code, 0, err);
  const rows = out.trim().split("\n").slice(1).map((l) => l.split(",")[0].replaceAll('"', ""));
  assert.deepEqual(rows, ["PING_INLINE", "PING_MBULK"]);
  for (const line of out.trim().split("\n").slice(1)) {
    assert.ok(Number(line.split(",")[1].replaceAll('"', "")) > 0, line);
  }
  assert.doesNotMatch(err, /error/i);
});
