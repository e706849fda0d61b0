/**
 * Clients blocked on keys across real connections: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH and BLMPOP
 * served first come first served when a list appears (by a push, inside EXEC, by another
 * blocked client's move), their timeouts, MULTI (no blocking), CLIENT UNBLOCK, CLIENT KILL,
 * INFO-independent bookkeeping, what is propagated (the AOF and a follower's copy), and the
 * timeout argument's arithmetic.
 */
import assert from "node:assert/strict";
import { plain, RespConn } from "../support/resp_conn.ts";
import { startServer } from "../support/server.ts";
import { waitFor } from "../support/wait_for.ts";
import { waitForCatchUp } from "../support/replication.ts";
import { parseTimeout } from "../../src/server/blocked_keys.ts";
import { encodeCommand } from "../../src/resp/reply_decoder.ts";

/** Sends a blocking command and waits until the server has it blocked (CLIENT LIST cmd=). */
async function blockOn(
  admin: RespConn,
  conn: RespConn,
  ...args: (string | number)[]
): Promise<void> {
  const id = plain(await conn.call("CLIENT", "ID")) as number;
  await conn.send(...args);
  const name = String(args[0]).toLowerCase();
  await waitFor(async () => {
    const line = String(plain(await admin.call("CLIENT", "LIST", "ID", id)));
    return line.includes(`cmd=${name}`);
  }, { what: `client ${id} to block on ${name}` });
}

Deno.test("clients blocked on a list are served first come first served by later pushes", async () => {
  await using server = await startServer();
  await using admin = await RespConn.connect(server.port);
  await using first = await RespConn.connect(server.port);
  await using second = await RespConn.connect(server.port);
  await using third = await RespConn.connect(server.port);
  await blockOn(admin, first, "BLPOP", "q", "other", 0);
  await blockOn(admin, second, "BRPOP", "q", 0);
  await blockOn(admin, third, "BLMPOP", 0, 2, "z", "q", "LEFT", "COUNT", 2);
  assert.equal(plain(await admin.call("RPUSH", "q", "a")), 1);
  assert.deepEqual(plain(await first.read()), ["q", "a"]);
  assert.equal(plain(await admin.call("EXISTS", "q")), 0);
  assert.equal(plain(await admin.call("RPUSH", "q", "b", "c", "d", "e")), 4);
  assert.deepEqual(plain(await second.read()), ["q", "e"]);
  assert.deepEqual(plain(await third.read()), ["q", ["b", "c"]]);
  assert.deepEqual(plain(await admin.call("LRANGE", "q", 0, -1)), ["d"]);
  // A blocked client's next commands wait for its reply, then run.
  await first.send("BLPOP", "later", 0);
  await first.send("PING");
  await admin.call("LPUSH", "later", "x");
  assert.deepEqual(plain(await first.read()), ["later", "x"]);
  assert.equal(plain(await first.read()), "PONG");
});

Deno.test("a push inside EXEC serves several waiters, and BLMOVE chains into another waiter", async () => {
  await using server = await startServer();
  await using admin = await RespConn.connect(server.port);
  await using a = await RespConn.connect(server.port);
  await using b = await RespConn.connect(server.port);
  await using c = await RespConn.connect(server.port);
  await blockOn(admin, a, "BLMOVE", "src", "dst", "LEFT", "RIGHT", 0);
  await blockOn(admin, b, "BLPOP", "dst", 0);
  await blockOn(admin, c, "BRPOPLPUSH", "src", "dst2", 0);
  await admin.call("MULTI");
  await admin.call("RPUSH", "src", "1", "2");
  await admin.call("RPUSH", "src", "3");
  assert.deepEqual(plain(await admin.call("EXEC")), [2, 3]);
  assert.equal(plain(await a.read()), "1");
  assert.equal(plain(await c.read()), "3");
  // a's move created "dst", which served b in the next round.
  assert.deepEqual(plain(await b.read()), ["dst", "1"]);
  assert.deepEqual(plain(await admin.call("LRANGE", "src", 0, -1)), ["2"]);
  assert.deepEqual(plain(await admin.call("LRANGE", "dst2", 0, -1)), ["3"]);
  assert.equal(plain(await admin.call("EXISTS", "dst")), 0);
});

Deno.test("a waiter is not served by a value of another type, and BLMOVE to a wrong type fails", async () => {
  await using server = await startServer();
  await using admin = await RespConn.connect(server.port);
  await using a = await RespConn.connect(server.port);
  await using b = await RespConn.connect(server.port);
  await admin.call("SET", "str", "x");
  await blockOn(admin, a, "BLMOVE", "src", "str", "LEFT", "LEFT", 0);
  await blockOn(admin, b, "BLPOP", "src", 0);
  await admin.call("RPUSH", "src", "v");
  assert.equal(
    plain(await a.read()),
    "-WRONGTYPE Operation against a key holding the wrong kind of value",
  );
  assert.deepEqual(plain(await b.read()), ["src", "v"]);
});

Deno.test("timeouts answer a null array after about the time asked, 0 waits", async () => {
  await using server = await startServer();
  await using conn = await RespConn.connect(server.port);
  const started = Date.now();
  assert.equal(plain(await conn.call("BLPOP", "nothing", "0.2")), null);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 190 && elapsed < 2000, `waited ${elapsed} ms`);
  assert.equal(plain(await conn.call("BLMOVE", "nothing", "d", "LEFT", "LEFT", "0.05")), null);
  assert.equal(plain(await conn.call("BLMPOP", "0.05", 1, "nothing", "LEFT")), null);
  await conn.call("HELLO", "3");
  assert.equal(plain(await conn.call("BRPOPLPUSH", "nothing", "d", "0.05")), null);
});

Deno.test("inside MULTI nothing blocks: missing keys answer at once", async () => {
  await using server = await startServer();
  await using conn = await RespConn.connect(server.port);
  await conn.call("MULTI");
  await conn.call("BLPOP", "nothing", 0);
  await conn.call("BLMOVE", "nothing", "d", "LEFT", "LEFT", 0);
  assert.deepEqual(plain(await conn.call("EXEC")), [null, null]);
  assert.equal(plain(await conn.call("PING")), "PONG");
});

Deno.test("CLIENT UNBLOCK releases a blocked client with its timeout reply or an error", async () => {
  await using server = await startServer();
  await using admin = await RespConn.connect(server.port);
  await using conn = await RespConn.connect(server.port);
  const id = plain(await conn.call("CLIENT", "ID")) as number;
  assert.equal(plain(await admin.call("CLIENT", "UNBLOCK", id)), 0);
  await blockOn(admin, conn, "BLPOP", "q", 0);
  assert.equal(plain(await admin.call("CLIENT", "UNBLOCK", id)), 1);
  assert.equal(plain(await conn.read()), null);
  await blockOn(admin, conn, "BLMPOP", 0, 1, "q", "RIGHT");
  assert.equal(plain(await admin.call("CLIENT", "UNBLOCK", id, "ERROR")), 1);
  assert.equal(plain(await conn.read()), "-UNBLOCKED client unblocked via CLIENT UNBLOCK");
  assert.equal(plain(await admin.call("CLIENT", "UNBLOCK", id, "TIMEOUT")), 0);
  assert.equal(
    plain(await admin.call("CLIENT", "UNBLOCK", id, "LATER")),
    "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
  );
  // Released, it no longer waits: a push is not taken by it.
  await admin.call("RPUSH", "q", "kept");
  assert.deepEqual(plain(await admin.call("LRANGE", "q", 0, -1)), ["kept"]);
});

Deno.test("a killed blocked client is forgotten and takes nothing", async () => {
  await using server = await startServer();
  await using admin = await RespConn.connect(server.port);
  await using victim = await RespConn.connect(server.port);
  await using next = await RespConn.connect(server.port);
  const id = plain(await victim.call("CLIENT", "ID")) as number;
  await blockOn(admin, victim, "BLPOP", "q", 0);
  await blockOn(admin, next, "BLPOP", "q", 0);
  assert.equal(plain(await admin.call("CLIENT", "KILL", "ID", id)), 1);
  assert.equal(await victim.closedByServer(), true);
  await waitFor(
    async () => !String(plain(await admin.call("CLIENT", "LIST"))).includes(`id=${id} `),
    {
      what: "the killed client to be gone",
    },
  );
  await admin.call("RPUSH", "q", "x");
  assert.deepEqual(plain(await next.read()), ["q", "x"]);
});

Deno.test("a served waiter's effect is propagated as its plain form, to the AOF and a follower", async () => {
  await using leader = await startServer({ args: ["--appendonly", "yes"] });
  await using follower = await startServer({ args: ["--replicaof", `127.0.0.1 ${leader.port}`] });
  await waitForCatchUp(leader.port, follower.port);
  await using admin = await RespConn.connect(leader.port);
  await using a = await RespConn.connect(leader.port);
  await using b = await RespConn.connect(leader.port);
  await using c = await RespConn.connect(leader.port);
  await blockOn(admin, a, "BLPOP", "q", 0);
  await blockOn(admin, b, "BLMOVE", "q", "d", "RIGHT", "LEFT", 0);
  await blockOn(admin, c, "BLMPOP", 0, 1, "q", "LEFT", "COUNT", 2);
  await admin.call("RPUSH", "q", "1", "2", "3", "4", "5");
  assert.deepEqual(plain(await a.read()), ["q", "1"]);
  assert.equal(plain(await b.read()), "5");
  assert.deepEqual(plain(await c.read()), ["q", ["2", "3"]]);
  await waitForCatchUp(leader.port, follower.port);
  await using f = await RespConn.connect(follower.port);
  assert.deepEqual(plain(await f.call("LRANGE", "q", 0, -1)), ["4"]);
  assert.deepEqual(plain(await f.call("LRANGE", "d", 0, -1)), ["5"]);
  // The AOF holds the push, then each served waiter's effect in its plain form.
  const aof = await Deno.readTextFile(`${leader.dir}/appendonly.aof`);
  const served = [["LPOP", "q"], ["LMOVE", "q", "d", "RIGHT", "LEFT"], ["LPOP", "q", "2"]]
    .map((command) => new TextDecoder().decode(encodeCommand(command))).join("");
  assert.ok(aof.includes(served), `the AOF ends with ${JSON.stringify(aof.slice(-200))}`);
});

Deno.test("the timeout argument follows Redis's long double arithmetic", () => {
  const ms = (text: string) => {
    try {
      return parseTimeout(new TextEncoder().encode(text));
    } catch (e) {
      return (e as Error).message;
    }
  };
  assert.equal(ms("0"), 0);
  assert.equal(ms("1"), 1000);
  assert.equal(ms("0.0001"), 1, "rounded up to a whole millisecond");
  assert.equal(ms("1.5"), 1500);
  assert.equal(ms("0x10"), 16000);
  assert.equal(ms("-0.001"), 0, "a long double product just above -1 rounds up to 0: forever");
  assert.equal(ms("-0.0001"), 0);
  assert.equal(ms("-1"), "ERR timeout is negative");
  assert.equal(ms("inf"), "ERR timeout is negative");
  assert.equal(ms("1e30"), "ERR timeout is negative");
  assert.equal(ms("nan"), "ERR timeout is not a float or out of range");
  assert.equal(ms(" 1"), "ERR timeout is not a float or out of range");
  assert.equal(ms(""), "ERR timeout is not a float or out of range");
  assert.equal(ms("1e5000"), "ERR timeout is not a float or out of range");
});
