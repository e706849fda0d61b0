/** Password protection (`requirepass`): both servers started with the same password. */
import assert from "node:assert/strict";
import { type Both, type ConnPair, pairsOf, type Shape, withBoth } from "./_diff.ts";

const AUTH = "*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n";

/** HELLO's values for server, version and id name the product or a counter; keys must match. */
function helloKeys(shape: Shape): Shape {
  if (shape.type !== "map" && shape.type !== "array") return shape;
  return { type: shape.type, items: pairsOf(shape).map(([k]) => k) } as Shape;
}

/**
 * Redis 7.2 added `<proto>` to HELLO's NOAUTH text ("the HELLO <proto> AUTH <user> <pass>
 * option"); gocache reports 7.2 and uses that wording, a 7.0 reference server the older one. The
 * texts are compared with that one word removed; everything else must match.
 */
function helloNoauthWording(shape: Shape): Shape {
  if (shape.type !== "error") return shape;
  return { type: "error", value: shape.value.replace("HELLO <proto> AUTH", "HELLO AUTH") };
}

/** Opens a fresh (unauthenticated) pair, runs `body`, closes the pair. */
async function fresh(both: Both, body: (c: ConnPair) => Promise<void>): Promise<void> {
  await using c = await both.connect();
  await body(c);
}

Deno.test("password protection behaves exactly like redis-server's", async (t) => {
  await withBoth({ args: ["--requirepass", "secret"] }, async (both) => {
    await t.step("commands before AUTH get NOAUTH", async () => {
      await fresh(both, async (c) => {
        await c.assertSame(["PING"]);
        await c.assertSame(["ECHO", "x"]);
        await c.assertSame(["CLIENT", "ID"]);
        await c.assertSame(["CONFIG", "GET", "requirepass"]);
        await c.assertSame(["COMMAND", "COUNT"]);
      });
    });

    await t.step("before AUTH, unknown commands and wrong arity are reported first", async () => {
      await fresh(both, async (c) => {
        await c.assertSame(["NOSUCHCOMMAND", "a"]);
        await c.assertSame(["ECHO"]);
        await c.assertSame(["CLIENT", "NOSUCH"]);
        await c.assertSame(["CLIENT"]);
      });
    });

    await t.step("AUTH with a wrong password or user is WRONGPASS", async () => {
      await fresh(both, async (c) => {
        await c.assertSame(["AUTH", "wrong"]);
        await c.assertSame(["AUTH", "default", "wrong"]);
        await c.assertSame(["AUTH", "nosuchuser", "secret"]);
        await c.assertSame(["AUTH", "a", "b", "c"]);
        await c.assertSame(["PING"]);
      });
    });

    await t.step("AUTH with the right password replies OK and unlocks commands", async () => {
      await fresh(both, async (c) => {
        await c.assertSame(["AUTH", "secret"]);
        await c.assertSame(["PING"]);
      });
      await fresh(both, async (c) => {
        await c.assertSame(["AUTH", "default", "secret"]);
        await c.assertSame(["PING"]);
        await c.assertSame(["AUTH", "wrong"]);
        // A failed AUTH does not undo an earlier successful one.
        await c.assertSame(["PING"]);
      });
    });

    await t.step("HELLO before AUTH is refused with NOAUTH", async () => {
      await fresh(both, async (c) => {
        const normalize = helloNoauthWording;
        await c.assertSame(["HELLO"], { normalize });
        await c.assertSame(["HELLO", "3"], { normalize });
        await c.assertSame(["HELLO", "3", "SETNAME", "x"], { normalize });
        await c.assertSame(["PING"]);
      });
    });

    await t.step("HELLO 3 AUTH with a wrong password is WRONGPASS and keeps RESP2", async () => {
      await fresh(both, async (c) => {
        await c.assertSame(["HELLO", "3", "AUTH", "default", "wrong"]);
        await c.assertSame(["HELLO", "3", "AUTH", "default"]);
        await c.assertSame(["AUTH", "secret"]);
        await c.assertSame(["CLIENT", "GETNAME"]);
      });
    });

    await t.step("HELLO 3 AUTH default secret authenticates and switches to RESP3", async () => {
      await fresh(both, async (c) => {
        await c.assertSame(["HELLO", "3", "AUTH", "default", "secret", "SETNAME", "app"], {
          normalize: helloKeys,
        });
        await c.assertSame(["PING"]);
        await c.assertSame(["CLIENT", "GETNAME"]);
        await c.assertSame(["CONFIG", "GET", "requirepass"]);
      });
    });

    await t.step("HELLO AUTH stays authenticated even when a later option is refused", async () => {
      // Redis 7.0 authenticates as soon as it reads the AUTH option.
      await fresh(both, async (c) => {
        await c.assertSame(["HELLO", "2", "AUTH", "default", "secret", "BOGUS"]);
        await c.assertSame(["PING"]);
      });
      await fresh(both, async (c) => {
        await c.assertSame(["HELLO", "2", "AUTH", "default", "secret", "SETNAME", "a b"]);
        await c.assertSame(["CLIENT", "GETNAME"]);
      });
    });

    await t.step("RESET logs the connection out again", async () => {
      await fresh(both, async (c) => {
        await c.assertSame(["AUTH", "secret"]);
        await c.assertSame(["RESET"]);
        await c.assertSame(["PING"]);
      });
    });

    await t.step("QUIT and RESET work before AUTH", async () => {
      await fresh(both, async (c) => {
        await c.assertSame(["RESET"]);
        await c.assertSame(["QUIT"]);
        assert.deepEqual(await c.closedByServer(), { redis: true, gocache: true });
      });
    });

    await t.step(
      "before AUTH, a multibulk of more than 10 elements is a protocol error",
      async () => {
        const big = `*11\r\n${"$1\r\nx\r\n".repeat(11)}`;
        const out = await both.rawBoth(big);
        assert.deepEqual(out.gocache, out.redis);
        assert.equal(out.redis.closed, true);
        // Ten elements are fine. AUTH comes next so that the ECHO marker ending the exchange runs.
        const ten = await both.rawBoth(`*10\r\n${"$1\r\nx\r\n".repeat(10)}${AUTH}`, {
          marker: true,
        });
        assert.deepEqual(ten.gocache, ten.redis);
      },
    );

    await t.step("before AUTH, a bulk longer than 16 KiB is a protocol error", async () => {
      const out = await both.rawBoth("*2\r\n$4\r\nECHO\r\n$16385\r\n");
      assert.deepEqual(out.gocache, out.redis);
      assert.equal(out.redis.closed, true);
      const limit = await both.rawBoth(
        `*2\r\n$4\r\nECHO\r\n$16384\r\n${"y".repeat(16384)}\r\n${AUTH}`,
        { marker: true },
      );
      assert.deepEqual(limit.gocache, limit.redis);
    });
  });
});
