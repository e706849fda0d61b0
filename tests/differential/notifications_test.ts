/**
 * Keyspace notifications against redis-server: the same commands, with the same
 * `notify-keyspace-events`, must publish the same `__keyspace@db__:key` and
 * `__keyevent@db__:event` messages in the same order. A subscriber on each server listens to
 * every notification channel; after each scenario a PUBLISH on a marker channel tells it the
 * scenario's messages are all in.
 */
import assert from "node:assert/strict";
import { type Arg, type ConnPair, withBoth } from "./_diff.ts";
import { waitFor } from "../support/wait_for.ts";

const MARKER = "notifications-test-end";

/** Reads subscriber messages until the marker, from both servers. */
async function collect(sub: ConnPair): Promise<{ redis: unknown[]; gocache: unknown[] }> {
  const redis: unknown[] = [];
  const gocache: unknown[] = [];
  for (const [side, out] of [["redis", redis], ["gocache", gocache]] as const) {
    while (true) {
      const frame = await sub[side].read(5000);
      const shape = JSON.stringify(
        frame,
        (_k, v) => v instanceof Uint8Array ? new TextDecoder().decode(v) : v,
      );
      if (shape.includes(MARKER)) break;
      out.push(JSON.parse(shape));
    }
  }
  return { redis, gocache };
}

/** The scenarios: a class setting and the commands run under it. */
const SCENARIOS: { name: string; events: string; commands: Arg[][] }[] = [
  {
    name: "string commands",
    events: "KEA",
    commands: [
      ["SET", "s", "1"],
      ["SET", "s", "2", "EX", "100"],
      ["SETNX", "s", "3"],
      ["SETNX", "s2", "3"],
      ["GETSET", "s2", "4"],
      ["MSET", "m1", "a", "m2", "b"],
      ["MSETNX", "m3", "a", "m4", "b"],
      ["INCR", "n"],
      ["INCRBY", "n", "5"],
      ["DECR", "n"],
      ["INCRBYFLOAT", "f", "1.5"],
      ["APPEND", "s", "x"],
      ["APPEND", "new", "x"],
      ["SETRANGE", "s", "1", "yy"],
      ["SETBIT", "b", "3", "1"],
      ["SETBIT", "b", "3", "1"],
      ["BITOP", "OR", "dest", "b", "s"],
      ["BITOP", "OR", "dest", "none1", "none2"],
      ["GETDEL", "m1"],
      ["GETEX", "m2", "EX", "100"],
      ["GETEX", "m2", "PERSIST"],
      ["GETEX", "m2", "PXAT", "1"],
    ],
  },
  {
    name: "generic commands",
    events: "KEA",
    commands: [
      ["SET", "a", "1"],
      ["SET", "b", "2"],
      ["EXPIRE", "a", "100"],
      ["PERSIST", "a"],
      ["PERSIST", "a"],
      ["PEXPIREAT", "b", "1"],
      ["SET", "b", "2"],
      ["RENAME", "a", "c"],
      ["RENAMENX", "c", "b"],
      ["COPY", "c", "d"],
      ["MOVE", "d", "3"],
      ["DEL", "c", "b", "missing"],
      ["UNLINK", "d", "x"],
    ],
  },
  {
    name: "only some classes, keyspace channel only",
    events: "Kg",
    commands: [["SET", "a", "1"], ["EXPIRE", "a", "100"], ["DEL", "a"]],
  },
  {
    name: "only some classes, keyevent channel only",
    events: "E$",
    commands: [["SET", "a", "1"], ["EXPIRE", "a", "100"], ["APPEND", "a", "2"], ["DEL", "a"]],
  },
  {
    name: "new keys (n) before the command's own event",
    events: "KEAn",
    commands: [
      ["SET", "a", "1"],
      ["SET", "a", "2"],
      ["HSET", "h", "f", "v"],
      ["HSET", "h", "g", "v"],
      ["RPUSH", "l", "x"],
      ["SADD", "s", "m"],
      ["ZADD", "z", "1", "m"],
      ["INCR", "n"],
      ["APPEND", "ap", "x"],
      ["SETBIT", "b", "1", "1"],
      ["RENAME", "a", "a2"],
      ["COPY", "h", "h2"],
      ["LMOVE", "l", "l2", "LEFT", "RIGHT"],
      ["SUNIONSTORE", "s2", "s"],
      ["ZUNIONSTORE", "z2", "1", "z"],
      ["RESTORE", "r", "0", "\x00\x01x\x0a\x00\x0c\xb2\xb5\xc2\x04\x13\xa5\x44"],
    ],
  },
  {
    name: "collection commands",
    events: "KEA",
    commands: [
      ["HSET", "h", "f", "v", "g", "w"],
      ["HDEL", "h", "f"],
      ["HINCRBY", "h", "n", "2"],
      ["HDEL", "h", "g", "n"],
      ["RPUSH", "l", "a", "b", "c"],
      ["LPOP", "l"],
      ["LSET", "l", "0", "x"],
      ["LTRIM", "l", "0", "0"],
      ["RPOP", "l"],
      ["SADD", "s", "1", "2"],
      ["SPOP", "s", "2"],
      ["ZADD", "z", "1", "a", "2", "b"],
      ["ZINCRBY", "z", "1", "a"],
      ["ZREM", "z", "a"],
      ["ZPOPMIN", "z"],
      ["RPUSH", "src", "1"],
      ["SORT", "src", "STORE", "dst"],
      ["EXPIRE", "dst", "100"],
    ],
  },
  {
    name: "no channel type means no messages",
    events: "A",
    commands: [["SET", "a", "1"], ["DEL", "a"]],
  },
];

Deno.test("keyspace notifications match redis-server", async (t) => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();
    await using sub = await both.connect();
    await sub.assertSame(["PSUBSCRIBE", "__key*__:*"]);
    await sub.assertSame(["SUBSCRIBE", MARKER]);

    await t.step("CONFIG SET and GET print the classes as Redis does", async () => {
      for (const text of ["KEA", "Kgn", "An", "KEm", "Ex", "gx", "lzt", "AKE", "$lshz", ""]) {
        await c.assertSame(["CONFIG", "SET", "notify-keyspace-events", text]);
        await c.assertSame(["CONFIG", "GET", "notify-keyspace-events"]);
      }
      await c.assertSame(["CONFIG", "SET", "notify-keyspace-events", "Q"]);
    });

    for (const scenario of SCENARIOS) {
      await t.step(scenario.name, async () => {
        await c.assertSame(["FLUSHALL"]);
        await c.assertSame(["CONFIG", "SET", "notify-keyspace-events", scenario.events]);
        for (const command of scenario.commands) await c.assertSame(command);
        await c.assertSame(["PUBLISH", MARKER, "x"]);
        const got = await collect(sub);
        assert.deepEqual(got.gocache, got.redis, `${scenario.name}: notifications differ`);
        await c.assertSame(["CONFIG", "SET", "notify-keyspace-events", ""]);
      });
    }

    await t.step("expired keys publish `expired`", async () => {
      await c.assertSame(["FLUSHALL"]);
      await c.assertSame(["CONFIG", "SET", "notify-keyspace-events", "Ex"]);
      await c.assertSame(["SET", "gone", "1", "PX", "1"]);
      // A read finds the key expired and deletes it (lazy expiry, or the active cycle did).
      await waitFor(async () => {
        const ttl = await c.call("PTTL", "gone");
        return [ttl.redis, ttl.gocache].every((s) => s.type === "integer" && s.value === -2);
      }, { what: "the key to expire on both servers" });
      await c.assertSame(["GET", "gone"]);
      await c.assertSame(["PUBLISH", MARKER, "x"]);
      const got = await collect(sub);
      assert.deepEqual(got.gocache, got.redis);
      assert.equal(got.redis.length, 1, "one expired event");
      await c.assertSame(["CONFIG", "SET", "notify-keyspace-events", ""]);
    });
  });
});
