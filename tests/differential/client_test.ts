/** CLIENT and its subcommands: the same requests to redis-server and gocache, same replies. */
import assert from "node:assert/strict";
import {
  type Arg,
  type ConnPair,
  intOf,
  itemsOf,
  type Shape,
  shapeOf,
  textOf,
  unshow,
  withBoth,
} from "./_diff.ts";

const OK: Shape = { type: "simple", value: "OK" };
const SYNTAX: Shape = { type: "error", value: "ERR syntax error" };

/** An integer reply with its value hidden: client ids differ between the two servers. */
function anyInteger(shape: Shape): Shape {
  return shape.type === "integer" ? { type: "integer", value: 0 } : shape;
}

/**
 * CLIENT NO-TOUCH and CLIENT SETINFO came with Redis 7.2 and CLIENT KILL MAXAGE with 7.4, which
 * gocache implements (it reports 7.2.0). When the reference redis-server knows the request, the
 * replies are compared; when it predates it (redis-server 7.0 says "unknown subcommand" or
 * "syntax error"), gocache's reply is compared with the reply that the newer Redis documents.
 */
async function sameOrNewer(c: ConnPair, args: Arg[], newer: Shape): Promise<void> {
  const { redis, gocache } = await c.call(...args);
  const text = redis.type === "error" ? redis.value : "";
  const predates = text.startsWith("ERR unknown subcommand") ||
    (text === "ERR syntax error" && newer.type !== "error");
  assert.deepEqual(gocache, predates ? newer : redis, `reply to ${args.join(" ")}`);
}

/** The `field=value` pairs of one CLIENT INFO / CLIENT LIST line. */
function fields(line: string): [string, string][] {
  return unshow(line).trim().split(" ").map((kv) => {
    const eq = kv.indexOf("=");
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  });
}

/**
 * Fields whose values legitimately differ: addresses, ids and ages are per server; fd, buffer
 * sizes and memory are implementation details (gocache has no file descriptors or Redis's buffer
 * layout). Their names must still match.
 */
const VOLATILE = new Set([
  "id",
  "addr",
  "laddr",
  "fd",
  "age",
  "idle",
  "qbuf",
  "qbuf-free",
  "argv-mem",
  "multi-mem",
  "rbs",
  "rbp",
  "obl",
  "oll",
  "omem",
  "tot-mem",
]);

/**
 * Fields that Redis 7.2 added to CLIENT INFO (gocache implements CLIENT SETINFO); dropped from
 * gocache's line when the reference redis-server does not print them.
 */
const NEWER_FIELDS = ["lib-name", "lib-ver"];

/** Compares CLIENT INFO lines: same field names in the same order, same stable values. */
async function assertSameClientInfo(c: ConnPair): Promise<void> {
  const { redis, gocache } = await c.call("CLIENT", "INFO");
  assert.equal(gocache.type, redis.type, "CLIENT INFO reply type");
  const r = fields(textOf(redis));
  const redisNames = new Set(r.map(([k]) => k));
  const g = fields(textOf(gocache)).filter(([k]) => redisNames.has(k) || !NEWER_FIELDS.includes(k));
  const hide = ([k, v]: [string, string]) => [k, VOLATILE.has(k) ? "*" : v];
  assert.deepEqual(g.map(hide), r.map(hide), "CLIENT INFO fields");
}

Deno.test("CLIENT subcommands answer exactly like redis-server", async (t) => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();

    await t.step("CLIENT ID returns an integer", async () => {
      await c.assertSame(["CLIENT", "ID"], { normalize: anyInteger });
    });

    await t.step("CLIENT with no subcommand is a wrong-arity error for 'client'", async () => {
      await c.assertSame(["CLIENT"]);
    });

    await t.step("an unknown CLIENT subcommand names itself and suggests CLIENT HELP", async () => {
      await c.assertSame(["CLIENT", "NOSUCH"]);
      await c.assertSame(["client", "nosuch", "a", "b"]);
      await c.assertSame(["CLIENT", "x".repeat(200)]);
    });

    await t.step(
      "CLIENT REPLY OFF, ON and SKIP silence replies byte for byte as Redis",
      async () => {
        await both.assertSameBytes([
          ["CLIENT", "REPLY", "OFF"],
          ["SET", "reply:x", "1"],
          ["GET", "reply:x"],
          ["NOSUCHCOMMAND"],
          ["CLIENT", "REPLY", "SKIP"],
          ["CLIENT", "REPLY", "ON"],
          ["GET", "reply:x"],
          ["CLIENT", "REPLY", "SKIP"],
          ["GET", "reply:x"],
          ["ECHO", "after one skipped"],
          ["CLIENT", "REPLY", "SKIP"],
          ["CLIENT", "REPLY", "SKIP"],
          ["ECHO", "skipped"],
          ["ECHO", "shown"],
          ["CLIENT", "REPLY", "SKIP"],
          ["MULTI"],
          ["ECHO", "queued"],
          ["EXEC"],
          ["CLIENT", "REPLY", "FOO"],
          ["CLIENT", "REPLY"],
          ["CLIENT", "REPLY", "ON", "x"],
          ["DEL", "reply:x"],
          // RESET turns replies back on; a SKIP in force still silences RESET itself.
          ["CLIENT", "REPLY", "OFF"],
          ["RESET"],
          ["PING"],
          ["CLIENT", "REPLY", "SKIP"],
          ["RESET"],
          ["PING"],
        ]);
      },
    );

    await t.step(
      "CLIENT REPLY silences neither subscribe confirmations nor a SKIP's empty line",
      async () => {
        // Confirmations are pushes in Redis: sent whatever the flags.
        await both.assertSameBytes([
          ["CLIENT", "REPLY", "OFF"],
          ["SUBSCRIBE", "ch", "ch2"],
          // Named: unsubscribing from all lists channels in Redis's dict order.
          ["UNSUBSCRIBE", "ch", "ch2"],
          ["CLIENT", "REPLY", "ON"],
        ]);
        // An empty inline line is a command to SKIP: the first PING answers.
        const { redis, gocache } = await both.rawBoth("CLIENT REPLY SKIP\r\n\r\nPING\r\nPING\r\n", {
          marker: true,
        });
        assert.deepEqual(gocache, redis);
        // A protocol error under OFF sends nothing (Redis then keeps the socket open; gocache
        // closes it, as it does for every protocol error).
        const silenced = await both.rawBoth("CLIENT REPLY OFF\r\n*1\r\n$x\r\n", { timeoutMs: 500 });
        assert.equal(silenced.gocache.bytes, silenced.redis.bytes);
        assert.equal(silenced.gocache.bytes, "");
      },
    );

    await t.step("CLIENT HELP is an array of status lines with Redis's first line", async () => {
      // gocache implements fewer subcommands, so only the shape and the heading are compared.
      const { redis, gocache } = await c.call("CLIENT", "HELP");
      assert.deepEqual(itemsOf(gocache)[0], itemsOf(redis)[0]);
      assert.ok(itemsOf(gocache).every((line) => line.type === "simple"));
      await c.assertSame(["CLIENT", "HELP", "extra"]);
    });

    await t.step("CLIENT GETNAME is null until CLIENT SETNAME sets a name", async () => {
      await c.assertSame(["CLIENT", "GETNAME"]);
      await c.assertSame(["CLIENT", "SETNAME", "my-client_1"]);
      await c.assertSame(["CLIENT", "GETNAME"]);
      await c.assertSame(["CLIENT", "SETNAME", ""]);
      await c.assertSame(["CLIENT", "GETNAME"]);
    });

    await t.step("CLIENT SETNAME refuses spaces, newlines and special characters", async () => {
      for (const name of ["a b", "a\nb", "tab\there", "\u00e9", "\x7f", " "]) {
        await c.assertSame(["CLIENT", "SETNAME", name]);
      }
      await c.assertSame(["CLIENT", "SETNAME", "a", "b"]);
      await c.assertSame(["CLIENT", "GETNAME"]);
    });

    await t.step("CLIENT NO-EVICT takes on or off in any case, and nothing else", async () => {
      await c.assertSame(["CLIENT", "NO-EVICT", "on"]);
      await assertSameClientInfo(c);
      await c.assertSame(["CLIENT", "NO-EVICT", "OFF"]);
      await c.assertSame(["CLIENT", "NO-EVICT", "maybe"]);
      await c.assertSame(["CLIENT", "NO-EVICT"]);
      await c.assertSame(["CLIENT", "NO-EVICT", "on", "off"]);
    });

    await t.step(
      "CLIENT INFO lists the same fields as Redis with the same stable values",
      async () => {
        await c.assertSame(["CLIENT", "SETNAME", "info-check"]);
        await assertSameClientInfo(c);
      },
    );

    await t.step("CLIENT NO-TOUCH takes on or off, as in Redis 7.2", async () => {
      await sameOrNewer(c, ["CLIENT", "NO-TOUCH", "on"], OK);
      await sameOrNewer(c, ["CLIENT", "NO-TOUCH", "Off"], OK);
      await sameOrNewer(c, ["CLIENT", "NO-TOUCH", "maybe"], SYNTAX);
    });

    await t.step("CLIENT SETINFO sets lib-name and lib-ver, as in Redis 7.2", async () => {
      await sameOrNewer(c, ["CLIENT", "SETINFO", "lib-name", "redis-py"], OK);
      await sameOrNewer(c, ["CLIENT", "SETINFO", "LIB-VER", "1.2.3"], OK);
      await sameOrNewer(c, ["CLIENT", "SETINFO", "lib-name", "bad name"], {
        type: "error",
        value: "ERR lib-name cannot contain spaces, newlines or special characters.",
      });
      await sameOrNewer(c, ["CLIENT", "SETINFO", "lib-ver", "1\n2"], {
        type: "error",
        value: "ERR lib-ver cannot contain spaces, newlines or special characters.",
      });
      // Redis checks the option name before the value.
      await sameOrNewer(c, ["CLIENT", "SETINFO", "Bogus", "x y"], {
        type: "error",
        value: "ERR Unrecognized option 'Bogus'",
      });
    });

    await t.step("CLIENT KILL of an address nobody has is 'No such client'", async () => {
      await c.assertSame(["CLIENT", "KILL", "10.1.2.3:4567"]);
      await c.assertSame(["CLIENT", "KILL", "not-an-address"]);
      await c.assertSame(["CLIENT", "KILL"]);
    });

    await t.step("CLIENT KILL with filters counts the clients it killed", async () => {
      await c.assertSame(["CLIENT", "KILL", "ADDR", "10.1.2.3:4567"]);
      await c.assertSame(["CLIENT", "KILL", "LADDR", "10.1.2.3:4567"]);
      await c.assertSame(["CLIENT", "KILL", "ID", "987654"]);
      await c.assertSame(["CLIENT", "KILL", "id", "987654", "TYPE", "normal"]);
      await c.assertSame(["CLIENT", "KILL", "ID", "987654", "SKIPME", "no"]);
      await c.assertSame(["CLIENT", "KILL", "TYPE", "master"]);
      await c.assertSame(["CLIENT", "KILL", "TYPE", "pubsub"]);
      await c.assertSame(["CLIENT", "KILL", "USER", "default", "ID", "987654"]);
    });

    await t.step("CLIENT KILL filter errors have Redis's texts", async () => {
      await c.assertSame(["CLIENT", "KILL", "ID", "abc"]);
      await c.assertSame(["CLIENT", "KILL", "ID", "0"]);
      await c.assertSame(["CLIENT", "KILL", "ID", "-5"]);
      await c.assertSame(["CLIENT", "KILL", "TYPE", "BoGus"]);
      await c.assertSame(["CLIENT", "KILL", "SKIPME", "maybe"]);
      await c.assertSame(["CLIENT", "KILL", "ID", "1", "TYPE"]);
      await c.assertSame(["CLIENT", "KILL", "NOSUCHFILTER", "x"]);
      await c.assertSame(["CLIENT", "KILL", "USER", "nosuchuser"]);
      await sameOrNewer(c, ["CLIENT", "KILL", "MAXAGE", "100000"], { type: "integer", value: 0 });
    });

    await t.step(
      "CLIENT KILL ID of the caller with SKIPME no closes its own connection",
      async () => {
        await using own = await both.connect();
        const ids = await own.call("CLIENT", "ID");
        await Promise.all([
          own.redis.send(
            "CLIENT",
            "KILL",
            "ID",
            intOf(ids.redis),
            "SKIPME",
            "no",
          ),
          own.gocache.send(
            "CLIENT",
            "KILL",
            "ID",
            intOf(ids.gocache),
            "SKIPME",
            "no",
          ),
        ]);
        assert.deepEqual(await own.closedByServer(), { redis: true, gocache: true });
      },
    );

    await t.step("CLIENT KILL of the caller's own address replies OK and closes it", async () => {
      await using own = await both.connect();
      const info = await own.call("CLIENT", "INFO");
      const addr = (s: Shape) => new Map(fields(textOf(s))).get("addr") as string;
      const [redis, gocache] = await Promise.all([
        own.redis.call("CLIENT", "KILL", addr(info.redis)),
        own.gocache.call("CLIENT", "KILL", addr(info.gocache)),
      ]);
      assert.deepEqual(shapeOf(gocache), shapeOf(redis));
      assert.deepEqual(await own.closedByServer(), { redis: true, gocache: true });
    });

    await t.step("CLIENT KILL ID of another client kills it and returns 1", async () => {
      await using victim = await both.connect();
      const ids = await victim.call("CLIENT", "ID");
      const [redis, gocache] = await Promise.all([
        c.redis.call("CLIENT", "KILL", "ID", intOf(ids.redis)),
        c.gocache.call("CLIENT", "KILL", "ID", intOf(ids.gocache)),
      ]);
      assert.deepEqual(shapeOf(gocache), shapeOf(redis));
      assert.deepEqual(await victim.closedByServer(), { redis: true, gocache: true });
    });

    await t.step("CLIENT LIST filters are validated like Redis validates them", async () => {
      await c.assertSame(["CLIENT", "LIST", "ID", "abc"]);
      await c.assertSame(["CLIENT", "LIST", "ID", "0"]);
      await c.assertSame(["CLIENT", "LIST", "ID", "-1", "987654"]);
      await c.assertSame(["CLIENT", "LIST", "TYPE", "BoGus"]);
      await c.assertSame(["CLIENT", "LIST", "TYPE", "master"]);
      await c.assertSame(["CLIENT", "LIST", "TYPE", "pubsub"]);
      await c.assertSame(["CLIENT", "LIST", "foo"]);
      await c.assertSame(["CLIENT", "LIST", "ID"]);
    });

    await t.step("CLIENT LIST ID of the caller lists exactly its own line", async () => {
      const ids = await c.call("CLIENT", "ID");
      const [redis, gocache] = await Promise.all([
        c.redis.call("CLIENT", "LIST", "ID", intOf(ids.redis)),
        c.gocache.call("CLIENT", "LIST", "ID", intOf(ids.gocache)),
      ]);
      const r = shapeOf(redis);
      const g = shapeOf(gocache);
      assert.equal(g.type, r.type);
      assert.equal(textOf(g).split("\n").length, textOf(r).split("\n").length);
    });
  });
});
