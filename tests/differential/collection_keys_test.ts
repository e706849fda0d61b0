/**
 * The key commands on every collection type against redis-server: TYPE, EXISTS, DEL, SCAN ...
 * TYPE, RENAME, COPY (a deep copy), MOVE, EXPIRE/TTL/PERSIST, OBJECT ENCODING as the settings
 * change, MEMORY USAGE's reply type, and WRONGTYPE between types.
 */
import assert from "node:assert/strict";
import { RespError } from "../../src/resp/reply_decoder.ts";
import { itemsOf, script, type Shape, stepsFromEmpty, textOf, withBoth } from "./_diff.ts";

/** A SCAN reply's keys, sorted (the two servers walk their tables in different orders). */
function scannedKeys(shape: Shape): Shape {
  const [cursor, keys] = itemsOf(shape);
  const sorted = itemsOf(keys).map(textOf).sort();
  return {
    type: "array",
    items: [cursor, { type: "array", items: sorted.map((value) => ({ type: "bulk", value })) }],
  };
}

Deno.test("key commands on hashes, lists, sets and sorted sets answer like redis-server", async (t) => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();
    const step = stepsFromEmpty(t, c);
    const fill = () =>
      script(c, [
        ["HSET", "h", "f", "v"],
        ["RPUSH", "l", "a", "b"],
        ["SADD", "s", "x", "y"],
        ["SADD", "i", "1", "2"],
        ["ZADD", "z", "1", "m"],
        ["SET", "str", "v"],
      ]);

    await step("TYPE, EXISTS, DEL and SCAN TYPE", async () => {
      await fill();
      for (const key of ["h", "l", "s", "i", "z", "str", "none"]) {
        await c.assertSame(["TYPE", key]);
      }
      await c.assertSame(["EXISTS", "h", "l", "s", "z", "none"]);
      for (const type of ["hash", "list", "set", "zset", "string", "stream"]) {
        await c.assertSame(["SCAN", "0", "TYPE", type, "COUNT", "1000"], {
          normalize: scannedKeys,
        });
      }
      await c.assertSame(["DEL", "h", "l", "s", "z", "none"]);
      await c.assertSame(["DBSIZE"]);
    });

    await step("RENAME, COPY (deep) and MOVE keep type, contents and TTL", async () => {
      await fill();
      await script(c, [
        ["EXPIRE", "h", "1000"],
        ["RENAME", "h", "h2"],
        ["HGETALL", "h2"],
        ["TTL", "h2"],
        ["COPY", "l", "l2"],
        ["RPUSH", "l2", "c"],
        ["LRANGE", "l", "0", "-1"],
        ["LRANGE", "l2", "0", "-1"],
        ["COPY", "z", "z2"],
        ["ZADD", "z2", "5", "n"],
        ["ZCARD", "z"],
        ["COPY", "s", "str"],
        ["COPY", "s", "str", "REPLACE"],
        ["TYPE", "str"],
        ["SCARD", "str"],
        ["MOVE", "i", "1"],
        ["SELECT", "1"],
        ["SMEMBERS", "i"],
        ["SELECT", "0"],
        ["PERSIST", "h2"],
        ["TTL", "h2"],
      ]);
    });

    await step("WRONGTYPE between every pair of types", async () => {
      await fill();
      await script(c, [
        ["GET", "h"],
        ["HGET", "l", "f"],
        ["LPUSH", "s", "x"],
        ["SADD", "z", "x"],
        ["ZADD", "h", "1", "x"],
        ["INCR", "z"],
        ["APPEND", "l", "x"],
        ["SETBIT", "s", "1", "1"],
        ["LLEN", "str"],
        ["SET", "h", "now a string"],
        ["TYPE", "h"],
      ]);
    });

    await step("ZSCAN, HSCAN and SSCAN MATCH bytes of 0x80 and above as single bytes", async () => {
      // Single bytes 0xE9 (a string argument would go out as UTF-8, two bytes).
      const e9 = Uint8Array.of(0xe9);
      const range = Uint8Array.of(0x5b, 0xe0, 0x2d, 0xf0, 0x5d, 0x2a);
      await script(c, [
        ["ZADD", "z", "1", e9, "2", "ab", "3", Uint8Array.of(0xe9, 0xe9)],
        ["ZSCAN", "z", "0", "MATCH", "?"],
        ["ZSCAN", "z", "0", "MATCH", range],
        ["HSET", "h", e9, "1", "ab", "2"],
        ["HSCAN", "h", "0", "MATCH", "?"],
        ["SADD", "s", e9, "ab"],
        ["SSCAN", "s", "0", "MATCH", "?"],
      ]);
    });

    await step("a huge negative random count is refused, not a crash (gocache only)", async () => {
      await script(c, [["SADD", "s", "a"], ["HSET", "h", "f", "v"], ["ZADD", "z", "1", "m"]]);
      for (const command of [["SRANDMEMBER", "s"], ["HRANDFIELD", "h"], ["ZRANDMEMBER", "z"]]) {
        const reply = await c.gocache.call(...command, "-4611686018427387903");
        assert.ok(reply instanceof RespError, `${command[0]}: ${String(reply)}`);
        assert.equal(reply.message, "ERR value is out of range");
      }
      await c.assertSame(["PING"]);
    });

    await step(
      "OBJECT ENCODING follows the *-max-* settings, and MEMORY USAGE answers",
      async () => {
        await script(c, [
          ["CONFIG", "SET", "hash-max-listpack-entries", "2"],
          ["CONFIG", "SET", "zset-max-listpack-entries", "2"],
          ["CONFIG", "SET", "set-max-intset-entries", "2"],
          ["HSET", "h", "a", "1", "b", "2"],
          ["OBJECT", "ENCODING", "h"],
          ["HSET", "h", "c", "3"],
          ["OBJECT", "ENCODING", "h"],
          ["ZADD", "z", "1", "a", "2", "b"],
          ["OBJECT", "ENCODING", "z"],
          ["ZADD", "z", "3", "c"],
          ["OBJECT", "ENCODING", "z"],
          ["SADD", "i", "1", "2"],
          ["OBJECT", "ENCODING", "i"],
          ["SADD", "i", "3"],
          ["OBJECT", "ENCODING", "i"],
          ["RPUSH", "l", "x"],
          ["OBJECT", "ENCODING", "l"],
          ["CONFIG", "SET", "hash-max-listpack-entries", "512"],
          ["CONFIG", "SET", "zset-max-listpack-entries", "128"],
          ["CONFIG", "SET", "set-max-intset-entries", "512"],
          ["HSET", "h", "d", "4"],
          ["OBJECT", "ENCODING", "h"],
        ]);
        for (const key of ["h", "z", "i", "l"]) {
          const reply = await c.call("MEMORY", "USAGE", key);
          assert.equal(reply.gocache.type, "integer", key);
          assert.ok(Number((reply.gocache as { value: number }).value) > 0, key);
        }
        await c.assertSame(["MEMORY", "USAGE", "none"]);
      },
    );
  });
});
