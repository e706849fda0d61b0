/**
 * Lua scripting over real sockets (src/commands/scripting.ts, src/commands/functions.ts,
 * src/scripting/): busy scripts past busy-reply-threshold (-BUSY for the others, SCRIPT KILL,
 * FUNCTION KILL, -UNKILLABLE, SHUTDOWN NOSAVE), scripts within the threshold running between
 * other clients' commands, a script's writes reaching a gocache follower, a redis-server
 * follower and the AOF as its effects in one MULTI/EXEC block, the script cache and functions
 * shared by connections, scripts inside MULTI and under WATCH, and cluster-mode key checks.
 * Function libraries through restarts are tests/integration/functions_persistence_test.ts's.
 */
import assert from "node:assert/strict";
import { ReplyDecoder } from "../../src/resp/reply_decoder.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import { startServer } from "../support/server.ts";
import { startRedis } from "../support/redis_server.ts";
import { waitFor } from "../support/wait_for.ts";
import { datasetDigest, waitForCatchUp, waitForSameData } from "../support/replication.ts";
import { ask, startClusterNode, waitForClusterOk } from "../support/cluster.ts";

const BUSY_EVAL =
  "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const BUSY_FUNCTION =
  "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
const UNKILLABLE_WROTE =
  "-UNKILLABLE Sorry the script already executed write commands against the dataset. You can " +
  "either wait the script termination or kill the server in a hard way using the SHUTDOWN " +
  "NOSAVE command.";

/** The SHA1 of `text` in hex, as SCRIPT LOAD names a script. */
async function sha1hex(text: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A RESP2 map reply (flat field/value array) as an object. */
function fields(reply: unknown): Record<string, unknown> {
  assert.ok(Array.isArray(reply), `a flat map, got ${JSON.stringify(reply)}`);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < reply.length; i += 2) out[String(reply[i])] = reply[i + 1];
  return out;
}

/** Waits until `conn`'s GET is refused with `busy` (the script runs past the threshold). */
async function waitForBusy(conn: RespConn, busy: string): Promise<void> {
  await waitFor(async () => plain(await conn.call("GET", "probe")) === busy, {
    what: "other clients to get -BUSY",
  });
}

/** Lua that spins for ~300 ms by the server's clock (TIME). */
const SLOW_READER = `
local function now() local t = redis.call('time') return t[1] * 1000000 + t[2] end
local started = now()
while now() - started < 300000 do end
`;

/** The commands of an AOF (RESP multibulks), each as text words. */
async function aofCommands(path: string): Promise<string[][]> {
  const decoder = new ReplyDecoder();
  decoder.push(await Deno.readFile(path));
  const commands: string[][] = [];
  for (let value = decoder.next(); value !== undefined; value = decoder.next()) {
    commands.push(plain(value) as string[]);
  }
  return commands;
}

Deno.test("a busy read-only script: others get -BUSY, SCRIPT KILL ends it, its caller gets the kill error", async () => {
  await using server = await startServer();
  await using a = await RespConn.connect(server.port);
  await using b = await RespConn.connect(server.port);
  assert.equal(plain(await b.call("SET", "k", "before")), "OK");
  assert.equal(plain(await b.call("CONFIG", "SET", "busy-reply-threshold", "100")), "OK");
  const loop = "while true do end";
  await a.send("EVAL", loop, 0);
  await waitForBusy(b, BUSY_EVAL);
  // Writes and other scripts are refused alike; SCRIPT KILL is the way out.
  assert.equal(plain(await b.call("SET", "k", "during")), BUSY_EVAL);
  assert.equal(plain(await b.call("EVAL", "return 1", 0)), BUSY_EVAL);
  // FUNCTION KILL does not stop an EVAL script: it names the command that does.
  assert.equal(plain(await b.call("FUNCTION", "KILL")), BUSY_EVAL);
  assert.equal(plain(await b.call("SCRIPT", "KILL")), "OK");
  // Redis 7.0.15's text, with the line the script was on.
  assert.equal(
    plain(await a.read()),
    `-ERR Script killed by user with SCRIPT KILL... script: ${await sha1hex(loop)}, ` +
      "on @user_script:1.",
  );
  assert.equal(plain(await b.call("GET", "k")), "before");
  assert.equal(plain(await a.call("GET", "k")), "before", "the killed script's caller goes on");
  assert.equal(
    plain(await b.call("SCRIPT", "KILL")),
    "-NOTBUSY No scripts in execution right now.",
  );
  // CONFIG SET is live: back at the default of 5 s, a script of ~300 ms makes others wait,
  // and nobody gets -BUSY.
  const busyCount = async () =>
    /errorstat_BUSY:count=(\d+)/.exec(String(plain(await b.call("INFO", "errorstats"))))?.[1];
  const counted = await busyCount();
  assert.ok(Number(counted) > 0, `errorstat_BUSY ${counted}`);
  assert.equal(plain(await b.call("CONFIG", "SET", "busy-reply-threshold", "5000")), "OK");
  await a.send("EVAL", `${SLOW_READER} return 'done'`, 0);
  assert.equal(plain(await b.call("GET", "k")), "before");
  assert.equal(plain(await a.read()), "done");
  assert.equal(await busyCount(), counted);
});

Deno.test("a busy script that wrote is unkillable; SHUTDOWN NOSAVE stops the server without saving", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-script-" });
  try {
    // Save rules that a plain SHUTDOWN would honour, and an AOF: neither may get the half-done
    // script's write.
    await using server = await startServer({
      dir,
      args: ["--save", "3600 1", "--appendonly", "yes", "--appendfsync", "always"],
    });
    await using a = await RespConn.connect(server.port);
    await using b = await RespConn.connect(server.port);
    assert.equal(plain(await b.call("SET", "before", "1")), "OK");
    assert.equal(plain(await b.call("CONFIG", "SET", "busy-reply-threshold", "100")), "OK");
    await a.send(
      "EVAL",
      "redis.call('set','w1','1') redis.call('set','w2','2') while true do end",
      0,
    );
    await waitForBusy(b, BUSY_EVAL);
    assert.equal(plain(await b.call("SCRIPT", "KILL")), UNKILLABLE_WROTE);
    // Redis 7.0 checks "wrote" before the kind of script: FUNCTION KILL is unkillable too.
    assert.equal(plain(await b.call("FUNCTION", "KILL")), UNKILLABLE_WROTE);
    // A SHUTDOWN that would save is refused (it would save half of the script's work).
    assert.equal(plain(await b.call("SHUTDOWN")), BUSY_EVAL);
    assert.equal(plain(await b.call("GET", "w1")), BUSY_EVAL);
    await b.send("SHUTDOWN", "NOSAVE");
    assert.ok(await b.closedByServer(), "SHUTDOWN NOSAVE closes the connection");
    assert.ok(await a.closedByServer(), "the script's caller is disconnected");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      server.status,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("the server did not exit")), 10_000);
      }),
    ]).finally(() => clearTimeout(timer));
    assert.equal(status.code, 0);
    assert.equal(status.signal, null);
    // It has exited: stop() sends no signal now, it waits for the end of its output.
    await server.stop();
    assert.ok(server.logs.some((l) => l.includes("Shutting down")), "it logged its shutdown");
    const files = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.ok(!files.includes("dump.rdb"), `no snapshot saved: ${files}`);
    // Neither the AOF nor a restart from it may hold the half-run script's writes (Redis keeps
    // a script's effects until it ends; SHUTDOWN NOSAVE ends it without them).
    const aof = (await aofCommands(`${dir}/appendonly.aof`)).map((c) => c.join(" "));
    assert.ok(aof.includes("SET before 1") || aof.includes("set before 1"), `${aof}`);
    await using again = await startServer({ dir, args: ["--appendonly", "yes", "--save", ""] });
    await using c = await RespConn.connect(again.port);
    assert.deepEqual(
      (plain(await c.call("KEYS", "*")) as string[]).sort(),
      ["before"],
      `only the write before the script survives; the AOF holds ${JSON.stringify(aof)}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a busy function: -BUSY names FUNCTION KILL, FUNCTION STATS shows it, FUNCTION KILL ends it", async () => {
  await using server = await startServer();
  await using a = await RespConn.connect(server.port);
  await using b = await RespConn.connect(server.port);
  const library = [
    "#!lua name=spinning",
    "redis.register_function('spin', function(keys, args)",
    "  while true do end",
    "end)",
    "redis.register_function('echo1', function(keys, args) return args[1] end)",
  ].join("\n");
  assert.equal(plain(await b.call("FUNCTION", "LOAD", library)), "spinning");
  assert.equal(plain(await b.call("CONFIG", "SET", "busy-reply-threshold", "100")), "OK");
  const idle = fields(plain(await b.call("FUNCTION", "STATS")));
  assert.equal(idle.running_script, null);
  assert.deepEqual(idle.engines, ["LUA", ["libraries_count", 1, "functions_count", 2]]);

  await a.send("FCALL", "spin", 1, "key1", "arg1");
  await waitForBusy(b, BUSY_FUNCTION);
  assert.equal(plain(await b.call("FCALL", "echo1", 0, "x")), BUSY_FUNCTION);
  const stats = fields(plain(await b.call("FUNCTION", "STATS")));
  const running = fields(stats.running_script);
  assert.equal(running.name, "spin");
  assert.deepEqual(running.command, ["FCALL", "spin", "1", "key1", "arg1"]);
  assert.equal(typeof running.duration_ms, "number");
  assert.ok((running.duration_ms as number) >= 100, `duration_ms ${running.duration_ms}`);
  // SCRIPT KILL does not stop a function: it names the command that does.
  assert.equal(plain(await b.call("SCRIPT", "KILL")), BUSY_FUNCTION);
  assert.equal(plain(await b.call("FUNCTION", "KILL")), "OK");
  // Redis 7.0.15's text: it says SCRIPT KILL for a function too.
  assert.equal(
    plain(await a.read()),
    "-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:3.",
  );
  assert.equal(fields(plain(await b.call("FUNCTION", "STATS"))).running_script, null);
  assert.equal(plain(await b.call("FCALL", "echo1", 0, "after")), "after");
  assert.equal(plain(await a.call("FCALL", "echo1", 0, "again")), "again");
  assert.equal(
    plain(await b.call("FUNCTION", "KILL")),
    "-NOTBUSY No scripts in execution right now.",
  );
});

Deno.test("scripts within the threshold interleave with other clients: 4 x 200 EVAL increments make 800", async () => {
  await using server = await startServer();
  const conns = await Promise.all(Array.from({ length: 5 }, () => RespConn.connect(server.port)));
  try {
    const incr = "return redis.call('incr', KEYS[1])";
    const [other, ...scripted] = conns;
    const burst = async (conn: RespConn) => {
      for (let i = 0; i < 200; i++) await conn.send("EVAL", incr, 1, "counter");
      const replies: number[] = [];
      for (let i = 0; i < 200; i++) replies.push(plain(await conn.read()) as number);
      return replies;
    };
    // Meanwhile another client's plain commands each get their own answer.
    const plainCommands = async () => {
      for (let i = 0; i < 100; i++) {
        assert.equal(plain(await other.call("SET", `p${i}`, `v${i}`)), "OK");
        assert.equal(plain(await other.call("GET", `p${i}`)), `v${i}`);
        const seen = Number(plain(await other.call("GET", "counter")) ?? 0);
        assert.ok(seen >= 0 && seen <= 800, `counter ${seen}`);
      }
    };
    const [results] = await Promise.all([Promise.all(scripted.map(burst)), plainCommands()]);
    for (const replies of results) {
      // Each connection sees its own increments in order.
      for (let i = 1; i < replies.length; i++) assert.ok(replies[i] > replies[i - 1]);
    }
    const all = results.flat().sort((x, y) => x - y);
    assert.deepEqual(all, Array.from({ length: 800 }, (_, i) => i + 1), "every value once");
    assert.equal(plain(await other.call("GET", "counter")), "800");
    // A script of ~300 ms under the default threshold of 5 s makes others wait, never -BUSY.
    await scripted[0].send(
      "EVAL",
      `${SLOW_READER} return redis.call('incr', KEYS[1])`,
      1,
      "counter",
    );
    const pings = await Promise.all(scripted.slice(1).map((c) => c.call("PING")));
    assert.deepEqual(pings.map(plain), ["PONG", "PONG", "PONG"]);
    assert.equal(plain(await scripted[0].read()), 801);
    const info = String(plain(await other.call("INFO", "errorstats")));
    assert.doesNotMatch(info, /errorstat_BUSY/);
  } finally {
    for (const conn of conns) conn.close();
  }
});

/** A script with several writes (one key gets a PEXPIRE), an SPOP and a time-dependent SET. */
const WRITER = `
redis.call('set', KEYS[1], ARGV[1])
redis.call('incr', KEYS[2])
redis.call('rpush', KEYS[3], 'a', 'b', ARGV[1])
redis.call('set', KEYS[4], 'expiring')
redis.call('pexpire', KEYS[4], 600000)
local popped = redis.call('spop', KEYS[5], 2)
redis.call('set', KEYS[6], redis.call('time')[1])
return #popped
`;
const WRITER_KEYS = ["s", "n", "l", "e", "set", "now"];

/** Writes, runs ~300 ms (by TIME), writes again. */
const SLOW_WRITER = `
redis.call('set', KEYS[1], 'start')
${SLOW_READER}
return redis.call('rpush', KEYS[2], 'end')
`;

Deno.test("a script's writes reach a gocache follower as effects: same data on both", async () => {
  await using leader = await startServer();
  await using follower = await startServer();
  await using l = await RespConn.connect(leader.port);
  await using f = await RespConn.connect(follower.port);
  assert.equal(plain(await f.call("REPLICAOF", "127.0.0.1", String(leader.port))), "OK");
  await waitForCatchUp(leader.port, follower.port);
  assert.equal(plain(await l.call("SADD", "set", ...Array.from({ length: 20 }, (_, i) => i))), 20);
  assert.equal(plain(await l.call("EVAL", WRITER, WRITER_KEYS.length, ...WRITER_KEYS, "v1")), 2);
  assert.equal(plain(await l.call("EVAL", WRITER, WRITER_KEYS.length, ...WRITER_KEYS, "v2")), 2);
  // A read-only script and a script whose only write fails (wrong type) change nothing.
  assert.equal(plain(await l.call("EVAL_RO", "return redis.call('get', KEYS[1])", 1, "s")), "v2");
  assert.match(
    String(plain(await l.call("EVAL", "return redis.pcall('incr', KEYS[1])", 1, "l"))),
    /^-WRONGTYPE/,
  );
  // A function's writes travel the same way (the library reaches the follower first).
  const library = "#!lua name=writes\n" +
    "redis.register_function('bump', function(keys, args) " +
    "return redis.call('hincrby', keys[1], 'f', args[1]) end)";
  assert.equal(plain(await l.call("FUNCTION", "LOAD", library)), "writes");
  assert.equal(plain(await l.call("FCALL", "bump", 1, "h", 5)), 5);
  // And so do those of a script that goes past busy-reply-threshold before it ends.
  await using l2 = await RespConn.connect(leader.port);
  assert.equal(plain(await l.call("CONFIG", "SET", "busy-reply-threshold", "100")), "OK");
  await l2.send("EVAL", SLOW_WRITER, 2, "slow1", "slow2");
  await waitForBusy(l, BUSY_EVAL);
  assert.equal(plain(await l2.read()), 1);
  await waitForCatchUp(leader.port, follower.port);
  await waitForSameData(leader.port, follower.port);
  assert.equal(plain(await f.call("GET", "s")), "v2");
  assert.equal(plain(await f.call("GET", "n")), "2");
  assert.deepEqual(plain(await f.call("LRANGE", "l", 0, -1)), ["a", "b", "v1", "a", "b", "v2"]);
  const pttl = Number(plain(await f.call("PTTL", "e")));
  assert.ok(pttl > 500_000 && pttl <= 600_000, `pttl ${pttl}`);
  assert.equal(plain(await f.call("SCARD", "set")), 16);
  assert.deepEqual(
    (plain(await f.call("SMEMBERS", "set")) as string[]).sort(),
    (plain(await l.call("SMEMBERS", "set")) as string[]).sort(),
    "the members SPOP took on the leader are gone on the follower",
  );
  assert.equal(plain(await f.call("GET", "now")), plain(await l.call("GET", "now")));
  assert.equal(plain(await f.call("HGET", "h", "f")), "5");
  const libraries = (plain(await f.call("FUNCTION", "LIST")) as unknown[]).map(fields);
  assert.deepEqual(libraries.map((lib) => lib.library_name), ["writes"]);
  assert.equal(plain(await f.call("GET", "slow1")), "start");
  assert.deepEqual(plain(await f.call("LRANGE", "slow2", 0, -1)), ["end"]);
  // The follower refuses a writing script and runs a read-only one.
  assert.match(String(plain(await f.call("EVAL", "#!lua\nreturn 1", 0))), /^-READONLY/);
  assert.equal(plain(await f.call("EVAL_RO", "return redis.call('get', KEYS[1])", 1, "s")), "v2");
});

Deno.test("a script's writes reach the AOF as MULTI/EXEC of its effects (one write bare), and a restart agrees", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-script-aof-" });
  try {
    const three = "redis.call('set', KEYS[1], ARGV[1]) redis.call('incr', KEYS[2]) " +
      "return redis.call('rpush', KEYS[3], ARGV[1])";
    const one = "return redis.call('set', KEYS[1], ARGV[1])";
    let before: { keys: number[]; digest: string };
    {
      await using server = await startServer({
        dir,
        args: ["--appendonly", "yes", "--appendfsync", "always"],
      });
      await using c = await RespConn.connect(server.port);
      assert.equal(plain(await c.call("EVAL", three, 3, "k1", "k2", "k3", "x")), 1);
      const sha = await sha1hex(three);
      assert.equal(plain(await c.call("EVALSHA", sha, 3, "k1", "k2", "k3", "y")), 2);
      assert.equal(plain(await c.call("EVAL", one, 1, "single", "solo")), "OK");
      assert.equal(plain(await c.call("EVAL", "return redis.call('get', KEYS[1])", 1, "k1")), "y");
      // A script that runs past busy-reply-threshold (~300 ms by TIME) and then ends by itself:
      // its effects still make one block.
      await using other = await RespConn.connect(server.port);
      assert.equal(plain(await other.call("CONFIG", "SET", "busy-reply-threshold", "100")), "OK");
      await c.send("EVAL", SLOW_WRITER, 2, "slow1", "slow2");
      await waitForBusy(other, BUSY_EVAL);
      assert.equal(plain(await c.read()), 1);
      const text = new TextDecoder().decode(await Deno.readFile(`${dir}/appendonly.aof`));
      assert.doesNotMatch(text, /eval/i, "scripts are not in the AOF, their effects are");
      const aof = (await aofCommands(`${dir}/appendonly.aof`)).map((cmd) =>
        [cmd[0].toUpperCase(), ...cmd.slice(1)].join(" ")
      ).filter((cmd) => !cmd.startsWith("SELECT "));
      assert.deepEqual(aof, [
        "MULTI",
        "SET k1 x",
        "INCR k2",
        "RPUSH k3 x",
        "EXEC",
        "MULTI",
        "SET k1 y",
        "INCR k2",
        "RPUSH k3 y",
        "EXEC",
        "SET single solo",
        "MULTI",
        "SET slow1 start",
        "RPUSH slow2 end",
        "EXEC",
      ]);
      before = await datasetDigest(server.port);
    }
    await using server = await startServer({ dir, args: ["--appendonly", "yes"] });
    await using c = await RespConn.connect(server.port);
    assert.deepEqual(await datasetDigest(server.port), before);
    assert.equal(plain(await c.call("GET", "k2")), "2");
    assert.deepEqual(plain(await c.call("LRANGE", "k3", 0, -1)), ["x", "y"]);
    assert.equal(plain(await c.call("GET", "single")), "solo");
    assert.equal(plain(await c.call("GET", "slow1")), "start");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a redis-server 7.0 follower of a gocache leader receives a script's effects", async () => {
  await using leader = await startServer();
  await using redis = await startRedis();
  await using l = await RespConn.connect(leader.port);
  await using r = await RespConn.connect(redis.port);
  assert.equal(plain(await r.call("REPLICAOF", "127.0.0.1", String(leader.port))), "OK");
  await waitForCatchUp(leader.port, redis.port);
  assert.equal(plain(await l.call("SADD", "set", ...Array.from({ length: 20 }, (_, i) => i))), 20);
  assert.equal(plain(await l.call("EVAL", WRITER, WRITER_KEYS.length, ...WRITER_KEYS, "v1")), 2);
  assert.equal(
    plain(await l.call("EVAL", "return redis.call('set', KEYS[1], 'one')", 1, "b")),
    "OK",
  );
  await waitForCatchUp(leader.port, redis.port);
  await waitForSameData(leader.port, redis.port);
  assert.equal(plain(await r.call("GET", "s")), "v1");
  assert.equal(plain(await r.call("GET", "b")), "one");
  assert.deepEqual(plain(await r.call("LRANGE", "l", 0, -1)), ["a", "b", "v1"]);
  assert.equal(plain(await r.call("SCARD", "set")), 18);
  const pttl = Number(plain(await r.call("PTTL", "e")));
  assert.ok(pttl > 500_000 && pttl <= 600_000, `pttl ${pttl}`);
});

Deno.test("the script cache and the function libraries are shared by connections; SCRIPT FLUSH empties the cache", async () => {
  await using server = await startServer();
  await using one = await RespConn.connect(server.port);
  await using two = await RespConn.connect(server.port);
  const body = "return {KEYS[1], ARGV[1], redis.call('incr', KEYS[1])}";
  const sha = plain(await one.call("SCRIPT", "LOAD", body));
  assert.equal(sha, await sha1hex(body));
  assert.deepEqual(plain(await two.call("SCRIPT", "EXISTS", sha as string, "0".repeat(40))), [
    1,
    0,
  ]);
  assert.deepEqual(plain(await two.call("EVALSHA", sha as string, 1, "c", "arg")), ["c", "arg", 1]);
  assert.deepEqual(
    plain(await one.call("EVALSHA", (sha as string).toUpperCase(), 1, "c", "x")),
    ["c", "x", 2],
  );
  assert.equal(plain(await two.call("SCRIPT", "FLUSH")), "OK");
  const noscript = "-NOSCRIPT No matching script. Please use EVAL.";
  assert.equal(plain(await one.call("EVALSHA", sha as string, 1, "c", "arg")), noscript);
  assert.deepEqual(plain(await one.call("SCRIPT", "EXISTS", sha as string)), [0]);
  // EVAL caches the script again for everybody.
  assert.deepEqual(plain(await one.call("EVAL", body, 1, "c", "e")), ["c", "e", 3]);
  assert.deepEqual(plain(await two.call("EVALSHA", sha as string, 1, "c", "f")), ["c", "f", 4]);

  const library = [
    "#!lua name=shared",
    "redis.register_function('put', function(keys, args)",
    "  return redis.call('set', keys[1], args[1])",
    "end)",
    "redis.register_function{function_name='peek', flags={'no-writes'},",
    "  callback=function(keys) return redis.call('get', keys[1]) end}",
  ].join("\n");
  assert.equal(plain(await one.call("FUNCTION", "LOAD", library)), "shared");
  assert.equal(plain(await two.call("FCALL", "put", 1, "fk", "fv")), "OK");
  assert.equal(plain(await two.call("FCALL_RO", "peek", 1, "fk")), "fv");
  assert.equal(
    plain(await two.call("FCALL_RO", "put", 1, "fk", "no")),
    "-ERR Can not execute a script with write flag using *_ro command.",
  );
  const listed = (plain(await two.call("FUNCTION", "LIST")) as unknown[]).map(fields);
  assert.equal(listed.length, 1);
  assert.equal(listed[0].library_name, "shared");
  const names = (listed[0].functions as unknown[]).map((fn) => fields(fn).name).sort();
  assert.deepEqual(names, ["peek", "put"]);
  // SCRIPT FLUSH leaves functions alone; FUNCTION DELETE removes them for everybody.
  assert.equal(plain(await one.call("SCRIPT", "FLUSH")), "OK");
  assert.equal(plain(await two.call("FCALL", "peek", 1, "fk")), "fv");
  assert.equal(plain(await one.call("FUNCTION", "DELETE", "shared")), "OK");
  assert.equal(plain(await two.call("FCALL", "put", 1, "fk", "x")), "-ERR Function not found");
});

Deno.test("EVAL inside MULTI runs at EXEC; a script's BLPOP is refused at once; a script's write fails a WATCH", async () => {
  await using server = await startServer();
  await using c = await RespConn.connect(server.port);
  await using w = await RespConn.connect(server.port);
  // Redis 7.0 flags BLPOP `noscript`: a script gets an error at once instead of waiting.
  const blpop = "return redis.call('blpop', KEYS[1], 0)";
  const noBlpop = "-ERR This Redis command is not allowed from script script: " +
    `${await sha1hex(blpop)}, on @user_script:1.`;
  assert.equal(plain(await c.call("MULTI")), "OK");
  assert.equal(plain(await c.call("SET", "m", "1")), "QUEUED");
  assert.equal(plain(await c.call("EVAL", "return redis.call('incr', KEYS[1])", 1, "m")), "QUEUED");
  assert.equal(plain(await c.call("EVAL", blpop, 1, "none")), "QUEUED");
  assert.equal(
    plain(await c.call("EVAL", "return redis.call('lpop', KEYS[1])", 1, "none")),
    "QUEUED",
  );
  assert.equal(plain(await w.call("GET", "m")), null, "nothing runs before EXEC");
  assert.deepEqual(plain(await c.call("EXEC")), ["OK", 2, noBlpop, null]);
  assert.equal(plain(await w.call("GET", "m")), "2");

  // Outside MULTI too, BLPOP (timeout 0: forever) answers at once, on an empty list or not.
  const started = performance.now();
  assert.equal(plain(await c.call("EVAL", blpop, 1, "none")), noBlpop);
  assert.equal(plain(await c.call("RPUSH", "full", "x")), 1);
  assert.equal(plain(await c.call("EVAL", blpop, 1, "full")), noBlpop);
  assert.ok(performance.now() - started < 2000);
  assert.deepEqual(plain(await c.call("LRANGE", "full", 0, -1)), ["x"]);
  // A client blocked on a list is served by a script's push once the script ends.
  await w.send("BLPOP", "queue", 5);
  await waitFor(async () => String(plain(await c.call("CLIENT", "LIST"))).includes("cmd=blpop"), {
    what: "the BLPOP to block",
  });
  assert.equal(
    plain(
      await c.call(
        "EVAL",
        "redis.call('rpush', KEYS[1], 'a') return redis.call('llen', KEYS[1])",
        1,
        "queue",
      ),
    ),
    1,
  );
  assert.deepEqual(plain(await w.read()), ["queue", "a"]);

  // A script's write to a watched key makes the watcher's EXEC fail.
  assert.equal(plain(await w.call("WATCH", "watched")), "OK");
  assert.equal(
    plain(await c.call("EVAL", "return redis.call('set', KEYS[1], 's')", 1, "watched")),
    "OK",
  );
  assert.equal(plain(await w.call("MULTI")), "OK");
  assert.equal(plain(await w.call("SET", "watched", "w")), "QUEUED");
  assert.equal(plain(await w.call("EXEC")), null);
  assert.equal(plain(await w.call("GET", "watched")), "s");
  // A read-only script does not.
  assert.equal(plain(await w.call("WATCH", "watched")), "OK");
  assert.equal(
    plain(await c.call("EVAL_RO", "return redis.call('get', KEYS[1])", 1, "watched")),
    "s",
  );
  assert.equal(plain(await w.call("MULTI")), "OK");
  assert.equal(plain(await w.call("SET", "watched", "w")), "QUEUED");
  assert.deepEqual(plain(await w.call("EXEC")), ["OK"]);
  assert.equal(plain(await w.call("GET", "watched")), "w");
});

Deno.test("cluster mode: declared keys in two slots are CROSSSLOT, shebang scripts stay in one slot, no-cluster is refused", async () => {
  await using node = await startClusterNode();
  assert.equal(await ask(node.port, "CLUSTER", "ADDSLOTSRANGE", "0", "16383"), "OK");
  await waitForClusterOk([node.port], 1);
  await using c = await RespConn.connect(node.port);
  // "a" hashes to slot 15495, "b" to 3300, "{a}x" to 15495.
  assert.equal(plain(await c.call("CLUSTER", "KEYSLOT", "a")), 15495);
  assert.equal(plain(await c.call("CLUSTER", "KEYSLOT", "b")), 3300);
  assert.equal(
    plain(await c.call("EVAL", "return 1", 2, "a", "b")),
    "-CROSSSLOT Keys in request don't hash to the same slot",
  );
  const two = "redis.call('set', 'a', '1') redis.call('set', 'b', '2') " +
    "return {redis.call('get', 'a'), redis.call('get', 'b')}";
  // Without a shebang (compatibility mode) undeclared keys of any local slot are allowed.
  assert.deepEqual(plain(await c.call("EVAL", two, 0)), ["1", "2"]);
  assert.equal(
    plain(await c.call("EVAL", "return redis.call('incr', KEYS[1])", 2, "a", "{a}x")),
    2,
  );
  const strict = "#!lua\nredis.call('set', 'a', '3') redis.call('set', 'b', '4') return 1";
  // The texts are redis-server 7.0.15's, line number included (the shebang is line 1).
  assert.equal(
    plain(await c.call("EVAL", strict, 0)),
    "-ERR Script attempted to access keys that do not hash to the same slot script: " +
      `${await sha1hex(strict)}, on @user_script:2.`,
  );
  assert.equal(plain(await c.call("GET", "a")), "3", "the first SET ran before the refusal");
  assert.equal(plain(await c.call("GET", "b")), "2");
  // One command across two slots is refused even in compatibility mode, as in Redis 7.0.
  const mget = "return redis.call('mget', 'a', 'b')";
  assert.equal(
    plain(await c.call("EVAL", mget, 0)),
    "-ERR Script attempted to access a non local key in a cluster node script: " +
      `${await sha1hex(mget)}, on @user_script:1.`,
  );
  const crossSlotAllowed = `#!lua flags=allow-cross-slot-keys\n${two}`;
  assert.deepEqual(plain(await c.call("EVAL", crossSlotAllowed, 0)), ["1", "2"]);
  assert.equal(
    plain(await c.call("EVAL", "#!lua flags=no-cluster\nreturn 1", 0)),
    "-ERR Can not run script on cluster, 'no-cluster' flag is set.",
  );
  const library = "#!lua name=nc\nredis.register_function{function_name='nc', " +
    "callback=function() return 1 end, flags={'no-cluster'}}";
  assert.equal(plain(await c.call("FUNCTION", "LOAD", library)), "nc");
  assert.equal(
    plain(await c.call("FCALL", "nc", 0)),
    "-ERR Can not run script on cluster, 'no-cluster' flag is set.",
  );
});
