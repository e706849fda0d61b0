/**
 * SLOWLOG and MONITOR: the same requests to redis-server and gocache. Timestamps, durations and
 * client ports differ between the two servers by nature and are normalized; everything else
 * (reply shapes, argument cutting, quoting, redaction, which commands are shown) must match.
 */
import assert from "node:assert/strict";
import { type Shape, unshow, withBoth } from "./_diff.ts";
import { RespConn } from "../support/resp_conn.ts";
import { waitFor } from "../support/wait_for.ts";
import { RespSimple } from "../../src/resp/reply_decoder.ts";

/** A SLOWLOG GET entry with its time, duration and client port replaced by placeholders. */
function normalizeEntries(shape: Shape): Shape {
  if (shape.type !== "array") return shape;
  return {
    type: "array",
    items: shape.items.map((entry) => {
      if (entry.type !== "array") return entry;
      const [id, _time, _micros, argv, addr, name] = entry.items;
      const host = addr.type === "bulk" ? addr.value.replace(/:\d+$/, ":PORT") : "?";
      return {
        type: "array",
        items: [
          id,
          { type: "integer", value: 0 },
          { type: "integer", value: 0 },
          argv,
          { type: "bulk", value: host },
          name,
        ],
      };
    }),
  };
}

/** MONITOR lines read from a connection until `count` arrived, normalized. */
async function monitorLines(conn: RespConn, count: number): Promise<string[]> {
  const lines: string[] = [];
  while (lines.length < count) {
    const reply = await conn.read();
    assert.ok(reply instanceof RespSimple, `a MONITOR line is a status reply: ${reply}`);
    lines.push(reply.value);
  }
  // "+1339518083.107412 [0 127.0.0.1:60866] ..." -> "TIME [0 127.0.0.1:PORT] ..."
  return lines.map((l) => l.replace(/^\d+\.\d{6} \[(\d+) ([\d.]+):\d+\]/, "TIME [$1 $2:PORT]"));
}

Deno.test("SLOWLOG and MONITOR answer exactly like redis-server", async (t) => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();

    await t.step("SLOWLOG HELP, arity and argument errors match", async () => {
      await c.assertSame(["SLOWLOG", "HELP"]);
      for (const args of [["SLOWLOG"], ["SLOWLOG", "LEN", "x"], ["SLOWLOG", "foo"]]) {
        await c.assertSame(args);
      }
      await c.assertSame(["SLOWLOG", "GET", "-2"]);
      await c.assertSame(["SLOWLOG", "GET", "abc"]);
      await c.assertSame(["SLOWLOG", "GET", "1", "2"]);
      await c.assertSame(["CONFIG", "SET", "slowlog-max-len", "-1"]);
      await c.assertSame(["CONFIG", "SET", "slowlog-log-slower-than", "-5"]);
    });

    await t.step("every command is logged at threshold 0, cut as Redis cuts it", async () => {
      await c.assertSame(["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
      await c.assertSame(["SLOWLOG", "RESET"]);
      await c.assertSame(["SET", "k", "x".repeat(300)]);
      const many = Array.from({ length: 40 }, (_, i) => `key${i}`);
      await c.assertSame(["DEL", ...many]);
      await c.assertSame(["AUTH", "secret"]);
      // ACL SETUSER's rules may hold passwords: all of them are shown as (redacted).
      await c.assertSame(["ACL", "SETUSER", "slowuser", "on", ">hunter2", "~k*", "+get"]);
      await c.assertSame(["ACL", "DELUSER", "slowuser"]);
      await c.assertSame(["CLIENT", "SETNAME", "slow"]);
      await c.assertSame(["ECHO", "hi"]);
      await c.assertSame(["SLOWLOG", "GET", "-1"], { normalize: normalizeEntries });
      await c.assertSame(["SLOWLOG", "GET", "2"], { normalize: normalizeEntries });
      await c.assertSame(["SLOWLOG", "LEN"]);
    });

    await t.step("slowlog-max-len keeps the newest entries; -1 turns the log off", async () => {
      await c.assertSame(["CONFIG", "SET", "slowlog-max-len", "3"]);
      for (let i = 0; i < 5; i++) await c.assertSame(["ECHO", String(i)]);
      await c.assertSame(["SLOWLOG", "GET"], { normalize: normalizeEntries });
      await c.assertSame(["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
      await c.assertSame(["SLOWLOG", "RESET"]);
      await c.assertSame(["ECHO", "unlogged"]);
      await c.assertSame(["SLOWLOG", "LEN"]);
      await c.assertSame(["CONFIG", "SET", "slowlog-max-len", "128"]);
    });

    await t.step("MONITOR lines are formatted, quoted and filtered as Redis's", async () => {
      await using m = await both.connect();
      await m.assertSame(["MONITOR"]);
      await using p = await both.connect();
      const commands: string[][] = [
        ["SET", "a b", 'x"y\\z'],
        ["SET", "bin", "\x01\n\t\r\x07\x08\xff"],
        ["MULTI"],
        ["SET", "q", "1"],
        ["INCR", "q"],
        ["EXEC"],
        ["AUTH", "x"],
        ["AUTH", "a", "b"],
        ["HELLO", "3", "AUTH", "default", "pw", "SETNAME", "x"],
        ["CONFIG", "GET", "port"],
        ["SLOWLOG", "LEN"],
        ["NOSUCHCOMMAND"],
        ["GET"],
        ["SELECT", "3"],
        ["PING"],
      ];
      for (const args of commands) {
        await p.send(...args.map((a) => new Uint8Array([...a].map((ch) => ch.charCodeAt(0)))));
        await p.read();
      }
      // Admin commands (CONFIG, SLOWLOG) and refused ones are not shown; 11 lines are.
      const [redis, gocache] = await Promise.all([
        monitorLines(m.redis, 11),
        monitorLines(m.gocache, 11),
      ]);
      assert.deepEqual(gocache.map(unshow), redis.map(unshow));
      assert.equal(gocache.at(-1), 'TIME [3 127.0.0.1:PORT] "PING"');
    });

    await t.step("a monitoring client sees its own commands after their replies", async () => {
      const { redis, gocache } = await both.rawBoth(
        "MONITOR\r\nPING\r\nMONITOR\r\nRESET\r\nPING\r\n",
        { marker: true },
      );
      const normalize = (s: string) => s.replace(/\+\d+\.\d{6} \[0 [\d.]+:\d+\]/g, "+TIME");
      assert.equal(normalize(gocache.bytes), normalize(redis.bytes));
      assert.match(
        normalize(gocache.bytes),
        /^\+OK\\x0d\\x0a\+PONG\\x0d\\x0a\+TIME "PING"\\x0d\\x0a\+RESET/,
      );
    });

    await t.step("CLIENT LIST flags a monitoring client with O", async () => {
      await using m = await RespConn.connect(both.gocache.port);
      assert.ok((await m.call("MONITOR")) instanceof RespSimple);
      await using q = await RespConn.connect(both.gocache.port);
      await waitFor(async () => {
        const list = new TextDecoder().decode(await q.call("CLIENT", "LIST") as Uint8Array);
        return list.includes(" flags=O ");
      }, { what: "the monitor in CLIENT LIST" });
    });
  });
});
