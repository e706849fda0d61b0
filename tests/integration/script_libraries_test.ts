/**
 * Real libraries built on Lua scripting work against gocache unchanged: ioredis `defineCommand`
 * (EVAL/EVALSHA and the NOSCRIPT fallback, in pipelines too), node-redis v4 scripts and
 * functions, rate-limiter-flexible's RateLimiterRedis and Redlock (one server, and three for a
 * quorum). Every test checks what the library did in the server through a plain connection.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient, defineScript } from "redis";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import Redlock, { ExecutionError, type Lock } from "redlock";
import { plain, RespConn } from "../support/resp_conn.ts";
import { type ServerProcess, startServer } from "../support/server.ts";

/** `calls` and `failed_calls` of one command in INFO commandstats (zeros when never called). */
async function commandStats(
  conn: RespConn,
  name: string,
): Promise<{ calls: number; failed: number }> {
  const info = String(plain(await conn.call("INFO", "commandstats")));
  const line = new RegExp(`^cmdstat_${name}:(.*)$`, "m").exec(info)?.[1] ?? "";
  const field = (key: string) => Number(new RegExp(`(?:^|,)${key}=(\\d+)`).exec(line)?.[1] ?? 0);
  return { calls: field("calls"), failed: field("failed_calls") };
}

/** An ioredis client connected to `server` (quit and disconnected by the caller). */
async function ioredis(server: ServerProcess): Promise<Redis> {
  const redis = new Redis({
    port: server.port,
    host: "127.0.0.1",
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  await redis.connect();
  return redis;
}

async function closeIoredis(redis: Redis): Promise<void> {
  await redis.quit().catch(() => {});
  redis.disconnect();
}

/** The custom command ioredis adds with defineCommand below. */
type IncrExpire = (key: string, by: number, seconds: number, tag: string) => Promise<unknown>;

const INCR_EXPIRE = `
local value = redis.call('incrby', KEYS[1], ARGV[1])
redis.call('expire', KEYS[1], ARGV[2])
return {value, redis.call('ttl', KEYS[1]), ARGV[3]}
`;

Deno.test("ioredis defineCommand: EVAL, then EVALSHA, the NOSCRIPT fallback after SCRIPT FLUSH, pipelines", async () => {
  await using server = await startServer();
  await using conn = await RespConn.connect(server.port);
  const redis = await ioredis(server);
  try {
    redis.defineCommand("incrExpire", { numberOfKeys: 1, lua: INCR_EXPIRE });
    const incrExpire = (redis as unknown as { incrExpire: IncrExpire }).incrExpire.bind(redis);
    // ioredis 5 sends the script's text on a connection's first call, EVALSHA afterwards.
    assert.deepEqual(await incrExpire("hits", 5, 100, "first"), [5, 100, "first"]);
    assert.deepEqual(await commandStats(conn, "eval"), { calls: 1, failed: 0 });
    assert.deepEqual(await commandStats(conn, "evalsha"), { calls: 0, failed: 0 });
    assert.deepEqual(await incrExpire("hits", 5, 100, "second"), [10, 100, "second"]);
    assert.deepEqual(await commandStats(conn, "evalsha"), { calls: 1, failed: 0 });
    assert.equal(plain(await conn.call("GET", "hits")), "10");
    const ttl = Number(plain(await conn.call("TTL", "hits")));
    assert.ok(ttl > 90 && ttl <= 100, `ttl ${ttl}`);

    // After SCRIPT FLUSH: EVALSHA answers NOSCRIPT and ioredis falls back to EVAL.
    assert.equal(plain(await conn.call("SCRIPT", "FLUSH")), "OK");
    assert.deepEqual(await incrExpire("hits", 1, 200, "third"), [11, 200, "third"]);
    assert.deepEqual(await commandStats(conn, "evalsha"), { calls: 2, failed: 1 });
    assert.deepEqual(await commandStats(conn, "eval"), { calls: 2, failed: 0 });
    assert.match(
      String(plain(await conn.call("INFO", "errorstats"))),
      /errorstat_NOSCRIPT:count=1/,
    );
    assert.equal(plain(await conn.call("GET", "hits")), "11");
    assert.ok(Number(plain(await conn.call("TTL", "hits"))) > 190);

    // Custom commands in a pipeline, also after another SCRIPT FLUSH.
    type Chain =
      & { incrExpire(...args: Parameters<IncrExpire>): Chain }
      & ReturnType<Redis["pipeline"]>;
    const pipeline = () => redis.pipeline() as unknown as Chain;
    const first = await pipeline().incrExpire("p1", 1, 50, "a").incrExpire("p2", 2, 60, "b").get(
      "p1",
    )
      .exec();
    assert.deepEqual(first, [[null, [1, 50, "a"]], [null, [2, 60, "b"]], [null, "1"]]);
    assert.equal(plain(await conn.call("SCRIPT", "FLUSH")), "OK");
    const second = await pipeline().incrExpire("p1", 10, 70, "c").incrExpire("p2", 20, 80, "d")
      .exec();
    assert.deepEqual(second, [[null, [11, 70, "c"]], [null, [22, 80, "d"]]]);
    assert.deepEqual(plain(await conn.call("MGET", "p1", "p2")), ["11", "22"]);
    const pttl = Number(plain(await conn.call("PTTL", "p2")));
    assert.ok(pttl > 70_000 && pttl <= 80_000, `pttl ${pttl}`);
    // A script error reaches the caller as a rejection, and the client goes on.
    redis.defineCommand("boom", { numberOfKeys: 0, lua: "return redis.error_reply('MY failure')" });
    const boom = (redis as unknown as { boom(): Promise<unknown> }).boom.bind(redis);
    await assert.rejects(boom(), /^ReplyError: MY failure$/);
    assert.equal(await redis.get("hits"), "11");
  } finally {
    await closeIoredis(redis);
  }
});

Deno.test("node-redis v4: scripts by EVALSHA with the NOSCRIPT fallback, and functions by FCALL/FCALL_RO", async () => {
  await using server = await startServer();
  await using conn = await RespConn.connect(server.port);
  const socket = { host: "127.0.0.1", port: server.port, reconnectStrategy: false as const };
  const client = createClient({
    socket,
    scripts: {
      addAndTouch: defineScript({
        NUMBER_OF_KEYS: 1,
        SCRIPT: "local v = redis.call('incrby', KEYS[1], ARGV[1]) " +
          "redis.call('pexpire', KEYS[1], ARGV[2]) return {v, redis.call('pttl', KEYS[1])}",
        transformArguments(key: string, by: number, ms: number): Array<string> {
          return [key, by.toString(), ms.toString()];
        },
        transformReply(reply: [number, number]): { value: number; pttl: number } {
          return { value: reply[0], pttl: reply[1] };
        },
      }),
    },
  });
  client.on("error", () => {});
  await client.connect();
  try {
    const first = await client.addAndTouch("nr", 7, 30_000);
    assert.equal(first.value, 7);
    assert.ok(first.pttl > 29_000 && first.pttl <= 30_000, `pttl ${first.pttl}`);
    // node-redis tries EVALSHA first: NOSCRIPT, then EVAL; afterwards EVALSHA alone.
    assert.deepEqual(await commandStats(conn, "evalsha"), { calls: 1, failed: 1 });
    assert.deepEqual(await commandStats(conn, "eval"), { calls: 1, failed: 0 });
    assert.equal((await client.addAndTouch("nr", 3, 40_000)).value, 10);
    assert.deepEqual(await commandStats(conn, "evalsha"), { calls: 2, failed: 1 });
    assert.deepEqual(await commandStats(conn, "eval"), { calls: 1, failed: 0 });
    assert.equal(plain(await conn.call("GET", "nr")), "10");
    assert.ok(Number(plain(await conn.call("PTTL", "nr"))) > 39_000);

    const library = (version: number) =>
      [
        "#!lua name=nrlib",
        "redis.register_function('bump', function(keys, args)",
        `  return redis.call('incrby', keys[1], args[1]) * ${version}`,
        "end)",
        "redis.register_function{function_name='peek', flags={'no-writes'},",
        "  callback=function(keys) return redis.call('get', keys[1]) end}",
      ].join("\n");
    assert.equal(await client.functionLoad(library(1), { REPLACE: true }), "nrlib");
    await assert.rejects(client.functionLoad(library(1)), /ERR Library 'nrlib' already exists/);
    const fclient = createClient({
      socket,
      functions: {
        nrlib: {
          bump: {
            NUMBER_OF_KEYS: 1,
            transformArguments(key: string, by: number): Array<string> {
              return [key, by.toString()];
            },
            transformReply(reply: number): number {
              return reply;
            },
          },
          peek: {
            NUMBER_OF_KEYS: 1,
            IS_READ_ONLY: true,
            transformArguments(key: string): Array<string> {
              return [key];
            },
            transformReply(reply: string | null): string | null {
              return reply;
            },
          },
        },
      },
    });
    fclient.on("error", () => {});
    await fclient.connect();
    try {
      assert.equal(await fclient.nrlib.bump("fk", 4), 4);
      assert.equal(await fclient.nrlib.peek("fk"), "4");
      assert.equal(await fclient.nrlib.peek("missing"), null);
      assert.deepEqual(await commandStats(conn, "fcall"), { calls: 1, failed: 0 });
      assert.deepEqual(await commandStats(conn, "fcall_ro"), { calls: 2, failed: 0 });
      // REPLACE swaps the code under the same names.
      assert.equal(await client.functionLoad(library(100), { REPLACE: true }), "nrlib");
      assert.equal(await fclient.nrlib.bump("fk", 1), 500);
      assert.equal(plain(await conn.call("GET", "fk")), "5");
      const listed = await client.functionList();
      assert.equal(listed.length, 1);
      assert.equal(listed[0].libraryName, "nrlib");
      assert.deepEqual(listed[0].functions.map((fn) => fn.name).sort(), ["bump", "peek"]);
    } finally {
      await fclient.quit().catch(() => {});
    }
  } finally {
    await client.quit().catch(() => {});
  }
});

Deno.test("rate-limiter-flexible RateLimiterRedis over ioredis: consume, reject, get, penalty, reward, delete", async () => {
  await using server = await startServer();
  await using conn = await RespConn.connect(server.port);
  const redis = await ioredis(server);
  try {
    const limiter = new RateLimiterRedis({
      storeClient: redis,
      useRedisPackage: false,
      points: 5,
      duration: 10,
      keyPrefix: "rl",
    });
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await limiter.consume("user1");
      remaining.push(res.remainingPoints);
      assert.equal(res.consumedPoints, i + 1);
      assert.equal(res.isFirstInDuration, i === 0);
      assert.ok(res.msBeforeNext > 0 && res.msBeforeNext <= 10_000, `${res.msBeforeNext}`);
    }
    assert.deepEqual(remaining, [4, 3, 2, 1, 0]);
    const rejected = await limiter.consume("user1").then(
      () => assert.fail("the sixth consume must be rejected"),
      (e: unknown) => e,
    );
    assert.ok(rejected instanceof RateLimiterRes, `rejected with ${rejected}`);
    assert.equal(rejected.remainingPoints, 0);
    assert.equal(rejected.consumedPoints, 6);
    assert.ok(rejected.msBeforeNext > 0 && rejected.msBeforeNext <= 10_000);

    // The key it made: the consumed points, with the duration as TTL.
    assert.equal(plain(await conn.call("GET", "rl:user1")), "6");
    const pttl = Number(plain(await conn.call("PTTL", "rl:user1")));
    assert.ok(pttl > 5_000 && pttl <= 10_000, `pttl ${pttl}`);

    const got = await limiter.get("user1");
    assert.ok(got !== null);
    assert.equal(got.consumedPoints, 6);
    assert.ok(got.msBeforeNext > 0 && got.msBeforeNext <= 10_000);
    assert.equal(await limiter.get("nobody"), null);

    const penalized = await limiter.penalty("user1", 2);
    assert.equal(penalized.consumedPoints, 8);
    assert.equal(plain(await conn.call("GET", "rl:user1")), "8");
    const rewarded = await limiter.reward("user1", 5);
    assert.equal(rewarded.consumedPoints, 3);
    assert.equal(rewarded.remainingPoints, 2);
    assert.equal(plain(await conn.call("GET", "rl:user1")), "3");
    // Penalty and reward keep the key's TTL.
    const kept = Number(plain(await conn.call("PTTL", "rl:user1")));
    assert.ok(kept > 0 && kept <= pttl, `pttl ${kept} after ${pttl}`);

    assert.equal(await limiter.delete("user1"), true);
    assert.equal(plain(await conn.call("EXISTS", "rl:user1")), 0);
    assert.equal(await limiter.delete("user1"), false);
    const fresh = await limiter.consume("user1", 2);
    assert.equal(fresh.remainingPoints, 3);
    assert.equal(fresh.isFirstInDuration, true);
    assert.equal(plain(await conn.call("GET", "rl:user1")), "2");
    const renewed = Number(plain(await conn.call("TTL", "rl:user1")));
    assert.ok(renewed >= 5 && renewed <= 10, `ttl ${renewed}`);
    // A second key is independent.
    assert.equal((await limiter.consume("user2")).remainingPoints, 4);
    assert.deepEqual((plain(await conn.call("KEYS", "rl:*")) as string[]).sort(), [
      "rl:user1",
      "rl:user2",
    ]);
  } finally {
    await closeIoredis(redis);
  }
});

/** Each server's value and PTTL of `key`. */
async function lockState(conns: RespConn[], key: string): Promise<[unknown, number][]> {
  const out: [unknown, number][] = [];
  for (const conn of conns) {
    out.push([plain(await conn.call("GET", key)), Number(plain(await conn.call("PTTL", key)))]);
  }
  return out;
}

/** Runs the Redlock scenario against `servers` (one, or several for a quorum). */
async function redlockScenario(servers: ServerProcess[]): Promise<void> {
  const clients = await Promise.all(servers.map(ioredis));
  const conns = await Promise.all(servers.map((s) => RespConn.connect(s.port)));
  try {
    const redlock = new Redlock(clients, { retryCount: 0, driftFactor: 0.01 });
    // Redlock emits each refused vote as an "error" event; unhandled, it would throw.
    const votesAgainst: Error[] = [];
    redlock.on("error", (e: Error) => votesAgainst.push(e));

    const lock: Lock = await redlock.acquire(["locks:a"], 5000);
    for (const [value, pttl] of await lockState(conns, "locks:a")) {
      assert.equal(value, lock.value);
      assert.ok(pttl > 4000 && pttl <= 5000, `pttl ${pttl}`);
    }
    assert.ok(lock.expiration > Date.now());
    await assert.rejects(redlock.acquire(["locks:a"], 5000), ExecutionError);
    const quorum = Math.floor(servers.length / 2) + 1;
    assert.ok(votesAgainst.length >= quorum, `${votesAgainst.length} servers refused the lock`);
    assert.ok(votesAgainst.every((e) => e.name === "ResourceLockedError"), `${votesAgainst}`);
    for (const [value] of await lockState(conns, "locks:a")) assert.equal(value, lock.value);

    const extended = await lock.extend(20_000);
    assert.equal(extended.value, lock.value);
    for (const [value, pttl] of await lockState(conns, "locks:a")) {
      assert.equal(value, lock.value);
      assert.ok(pttl > 15_000 && pttl <= 20_000, `pttl after extend ${pttl}`);
    }
    // The replaced lock can no longer be extended.
    await assert.rejects(lock.extend(1000), ExecutionError);

    await extended.release();
    for (const [value, pttl] of await lockState(conns, "locks:a")) {
      assert.equal(value, null);
      assert.equal(pttl, -2);
    }
    const again = await redlock.acquire(["locks:a", "locks:b"], 3000);
    for (const [value] of await lockState(conns, "locks:b")) assert.equal(value, again.value);
    // A lock on two resources blocks a lock on either of them.
    await assert.rejects(redlock.acquire(["locks:b"], 3000), ExecutionError);
    await redlock.release(again);
    assert.deepEqual(
      (await lockState(conns, "locks:a")).concat(await lockState(conns, "locks:b")).map(([v]) => v),
      Array(2 * servers.length).fill(null),
    );

    // using(): the lock is held while the routine runs and released after it.
    const result = await redlock.using(["locks:u"], 2000, async (signal) => {
      assert.equal(signal.aborted, false);
      const held = await lockState(conns, "locks:u");
      assert.ok(held.every(([value]) => typeof value === "string" && value.length === 32));
      return 42;
    });
    assert.equal(result, 42);
    for (const [value] of await lockState(conns, "locks:u")) assert.equal(value, null);
  } finally {
    for (const conn of conns) conn.close();
    await Promise.all(clients.map(closeIoredis));
  }
}

Deno.test("Redlock over ioredis on one gocache server: acquire, conflict, extend, release, using", async () => {
  await using server = await startServer();
  await redlockScenario([server]);
});

Deno.test("Redlock over ioredis on three gocache servers: the same, and a quorum of two out of three", async () => {
  await using a = await startServer();
  await using b = await startServer();
  await using c = await startServer();
  await redlockScenario([a, b, c]);

  // A resource held by someone else on one server: two votes of three still make the lock.
  const clients = await Promise.all([a, b, c].map(ioredis));
  await using ca = await RespConn.connect(a.port);
  await using cb = await RespConn.connect(b.port);
  await using cc = await RespConn.connect(c.port);
  try {
    const redlock = new Redlock(clients, { retryCount: 0 });
    redlock.on("error", () => {});
    assert.equal(plain(await ca.call("SET", "locks:q", "someone-else", "PX", 30_000)), "OK");
    const lock = await redlock.acquire(["locks:q"], 5000);
    assert.equal(plain(await ca.call("GET", "locks:q")), "someone-else");
    assert.equal(plain(await cb.call("GET", "locks:q")), lock.value);
    assert.equal(plain(await cc.call("GET", "locks:q")), lock.value);
    // Release removes only this lock's entries.
    await lock.release();
    assert.equal(plain(await ca.call("GET", "locks:q")), "someone-else");
    assert.equal(plain(await cb.call("EXISTS", "locks:q")), 0);
    // Held elsewhere on two servers: no quorum, and the one vote it got is rolled back.
    assert.equal(plain(await cb.call("SET", "locks:q", "someone-else", "PX", 30_000)), "OK");
    await assert.rejects(redlock.acquire(["locks:q"], 5000), ExecutionError);
    assert.equal(plain(await cc.call("EXISTS", "locks:q")), 0);
  } finally {
    await Promise.all(clients.map(closeIoredis));
  }
});
