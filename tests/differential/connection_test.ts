/**
 * Connection commands (PING, ECHO, HELLO, AUTH, QUIT, RESET), unknown commands and arity errors:
 * the same requests to redis-server and gocache must get the same replies, types included.
 */
import assert from "node:assert/strict";
import { type Both, type ConnPair, itemsOf, pairsOf, type Shape, withBoth } from "./_diff.ts";

const enc = new TextEncoder();

/** Every byte value 0-255, so that binary payloads cover NUL, CR, LF and 0x80-0xFF. */
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

/**
 * HELLO's map: `server` and `version` name the product ("redis" 7.0.x vs "gocache" claiming
 * 7.2.0) and `id` is a per-server counter, so their values are replaced by their types; every
 * other value (proto, mode, role, modules) must be identical.
 */
function helloNormalize(shape: Shape): Shape {
  if (shape.type !== "map" && shape.type !== "array") return shape;
  const pairs = pairsOf(shape).map(([k, v]): [Shape, Shape] => {
    const key = k.type === "bulk" ? k.value : "";
    if (key === "server" || key === "version" || key === "id") {
      return [k, { type: v.type, value: "*" } as Shape];
    }
    return [k, v];
  });
  return shape.type === "map"
    ? { type: "map", entries: pairs }
    : { type: "array", items: pairs.flat() };
}

/** Opens a fresh pair, runs `body`, closes the pair. */
/** A set's members in a fixed order (a set has none); other replies unchanged. */
function unordered(shape: Shape): Shape {
  if (shape.type !== "set") return shape;
  const items = [...shape.items].sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
  return { type: "set", items };
}

async function fresh(both: Both, body: (c: ConnPair) => Promise<void>): Promise<void> {
  await using c = await both.connect();
  await body(c);
}

Deno.test("connection commands answer exactly like redis-server", async (t) => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();

    await t.step("PING without an argument gets the simple string PONG", async () => {
      await c.assertSame(["PING"]);
    });

    await t.step("PING with an argument gets it back as a bulk string", async () => {
      await c.assertSame(["PING", "hello world"]);
      await c.assertSame(["PING", ""]);
    });

    await t.step("PING with two arguments is a wrong-arity error", async () => {
      await c.assertSame(["PING", "a", "b"]);
    });

    await t.step("PING and ECHO return binary payloads byte for byte", async () => {
      const payload = new Uint8Array([...enc.encode("a\0b\r\nc"), ...ALL_BYTES]);
      await c.assertSame(["PING", payload]);
      await c.assertSame(["ECHO", payload]);
      await both.assertSameBytes([["PING", payload], ["ECHO", payload]]);
    });

    await t.step("ECHO without an argument or with two is a wrong-arity error", async () => {
      await c.assertSame(["ECHO"]);
      await c.assertSame(["ECHO", "a", "b"]);
      await c.assertSame(["ECHO", ""]);
    });

    await t.step("command names are matched in any letter case", async () => {
      await c.assertSame(["pInG"]);
      await c.assertSame(["echo", "x"]);
      await c.assertSame(["EcHo", "x", "y"]);
      await c.assertSame(["cLiEnT", "GeTnAmE"]);
    });

    await t.step("an unknown command gets the same error text as Redis", async () => {
      await c.assertSame(["NOSUCHCOMMAND"]);
      await c.assertSame(["nosuchcommand", "a", "b", "c"]);
      await c.assertSame(["nosuch", ""]);
    });

    await t.step(
      "an unknown command name longer than 128 bytes is cut like Redis cuts it",
      async () => {
        await c.assertSame(["x".repeat(200)]);
        await c.assertSame(["y".repeat(129), "arg"]);
      },
    );

    await t.step(
      "the arguments quoted in an unknown-command error stop after 128 bytes",
      async () => {
        await c.assertSame(["nosuch", "a".repeat(300)]);
        await c.assertSame(["nosuch", "a".repeat(100), "b".repeat(100), "c"]);
        await c.assertSame(["nosuch", ...Array.from({ length: 60 }, (_, i) => String(i))]);
      },
    );

    await t.step("CR and LF inside an unknown command's arguments become spaces", async () => {
      await c.assertSame(["nosuch", "a\r\nb", "\n"]);
      await c.assertSame(["no\r\nsuch"]);
      await both.assertSameBytes([["nosuch", "a\r\nb"]]);
    });

    await t.step("an unknown command in UTF-8 is quoted byte for byte", async () => {
      await both.assertSameBytes([["caf\u00e9", "\u00fc"]]);
      await both.assertSameBytes([["nosuch", "\u{1f600}".repeat(40)]]);
    });

    await t.step("an unknown command's name and arguments end at a NUL byte, as in C", async () => {
      await both.assertSameBytes([["nosuch", new Uint8Array([0x61, 0x00, 0x62]), "c"]]);
      await both.assertSameBytes([[new Uint8Array([0x61, 0x00, 0x62])]]);
    });

    await t.step(
      "an unknown command with bytes that are not UTF-8 is quoted byte for byte",
      async () => {
        await both.assertSameBytes([[new Uint8Array([0x6e, 0x6f, 0x80, 0xff]), "x"]]);
        await both.assertSameBytes([["nosuch", new Uint8Array([0xc3, 0x28, 0xa0])]]);
      },
    );

    await t.step("known commands called with the wrong number of arguments say so", async () => {
      await c.assertSame(["TIME", "extra"]);
      await c.assertSame(["RESET", "extra"]);
      await c.assertSame(["AUTH"]);
      await c.assertSame(["CLIENT"]);
      await c.assertSame(["CONFIG"]);
      await c.assertSame(["CLIENT", "ID", "extra"]);
      await c.assertSame(["CLIENT", "SETNAME"]);
      await c.assertSame(["CLIENT", "GETNAME", "extra"]);
      await c.assertSame(["CONFIG", "GET"]);
      await c.assertSame(["CONFIG", "SET", "hz"]);
      await c.assertSame(["CONFIG", "RESETSTAT", "x"]);
      await c.assertSame(["COMMAND", "COUNT", "x"]);
      await c.assertSame(["COMMAND", "GETKEYS"]);
    });

    await t.step(
      "AUTH without a configured password is refused like Redis refuses it",
      async () => {
        await c.assertSame(["AUTH", "whatever"]);
        await c.assertSame(["AUTH", "a", "b", "c"]);
      },
    );

    await t.step("AUTH default with any password succeeds when no password is set", async () => {
      // The default user is "nopass": Redis accepts any password for it.
      await c.assertSame(["AUTH", "default", "anything"]);
      await c.assertSame(["AUTH", "nosuchuser", "anything"]);
    });

    await t.step("HELLO without arguments returns the server map in RESP2", async () => {
      await c.assertSame(["HELLO"], { normalize: helloNormalize });
    });

    await t.step("HELLO 2 returns the server map as a flat array", async () => {
      await c.assertSame(["HELLO", "2"], { normalize: helloNormalize });
    });

    await t.step("HELLO with an unsupported version is NOPROTO", async () => {
      for (const v of ["4", "1", "0", "-1", "100"]) await c.assertSame(["HELLO", v]);
    });

    await t.step("HELLO with a version that is not an integer is refused", async () => {
      for (const v of ["abc", "3.0", "", " 3", "99999999999999999999"]) {
        await c.assertSame(["HELLO", v]);
      }
    });

    await t.step("HELLO options are validated like Redis validates them", async () => {
      await c.assertSame(["HELLO", "2", "FOO"]);
      await c.assertSame(["HELLO", "2", "SetName"]);
      await c.assertSame(["HELLO", "2", "AUTH", "default"]);
      await c.assertSame(["HELLO", "2", "AUTH", "default", "x", "bogus"]);
      await c.assertSame(["HELLO", "2", "SETNAME", "bad name"]);
      await c.assertSame(["HELLO", "2", "SETNAME", "bad\nname"]);
      await c.assertSame(["CLIENT", "GETNAME"]);
    });

    await t.step("HELLO checks every option before it checks the credentials", async () => {
      await c.assertSame(["HELLO", "2", "AUTH", "nosuchuser", "x", "FOO"]);
      await c.assertSame(["HELLO", "2", "AUTH", "nosuchuser", "x", "SETNAME", "bad name"]);
      await c.assertSame(["HELLO", "2", "AUTH", "nosuchuser", "x", "AUTH", "default", "x"], {
        normalize: helloNormalize,
      });
      await c.assertSame(["HELLO", "2", "AUTH", "default", "x", "AUTH", "nosuchuser", "x"]);
      await c.assertSame(["HELLO", "2", "SETNAME", "a", "SETNAME", "b"], {
        normalize: helloNormalize,
      });
      await c.assertSame(["CLIENT", "GETNAME"]);
      await c.assertSame(["CLIENT", "SETNAME", ""]);
      await c.assertSame(["CLIENT", "GETNAME"]);
    });

    await t.step("HELLO SETNAME names the connection", async () => {
      await c.assertSame(["HELLO", "2", "SETNAME", "conn-1"], { normalize: helloNormalize });
      await c.assertSame(["CLIENT", "GETNAME"]);
    });

    await t.step("HELLO AUTH with any password works for the nopass default user", async () => {
      await c.assertSame(["HELLO", "2", "AUTH", "default", "x"], { normalize: helloNormalize });
      await c.assertSame(["HELLO", "2", "AUTH", "nosuchuser", "x"]);
    });

    await t.step("HELLO 3 switches to RESP3: map, set, null and verbatim replies", async () => {
      await fresh(both, async (p) => {
        // Each type is asserted on redis-server's reply, so that the step shows the reference
        // produces it, and gocache's reply is compared with that.
        assert.equal(
          (await p.assertSame(["HELLO", "3"], { normalize: helloNormalize })).type,
          "map",
        );
        await p.assertSame(["PING"]);
        await p.assertSame(["ECHO", "x"]);
        assert.equal((await p.assertSame(["CLIENT", "GETNAME"])).type, "null");
        assert.equal((await p.assertSame(["CONFIG", "GET", "maxclients"])).type, "map");
        assert.equal((await p.assertSame(["CONFIG", "GET", "nosuchparameter"])).type, "map");
        await p.assertSame(["COMMAND", "INFO", "nosuchcommand"]);
        // COMMAND INFO's flags and ACL categories are sets (compared in order-free form).
        const command = await p.call("COMMAND", "INFO", "ping");
        const sets = (shape: Shape) => {
          const entry = itemsOf(itemsOf(shape)[0]);
          return [entry[2], entry[6]].map(unordered);
        };
        assert.deepEqual(sets(command.gocache), sets(command.redis), "COMMAND INFO ping");
        assert.deepEqual(sets(command.redis).map((s) => s.type), ["set", "set"]);
        assert.equal((await p.assertSame(["HELLO"], { normalize: helloNormalize })).type, "map");
        await p.assertSame(["nosuch", "x"]);
        // CLIENT INFO's text holds per-server ids and addresses: type and format compared.
        const info = await p.call("CLIENT", "INFO");
        const format = (s: Shape) => s.type === "verbatim" ? { type: s.type, format: s.format } : s;
        assert.deepEqual(format(info.gocache), format(info.redis), "CLIENT INFO");
        assert.deepEqual(format(info.redis), { type: "verbatim", format: "txt" });
        const time = await p.call("TIME");
        assert.equal(time.gocache.type, time.redis.type);
      });
    });

    await t.step("HELLO 3 SETNAME AUTH in one call sets both", async () => {
      await fresh(both, async (p) => {
        await p.assertSame(["HELLO", "3", "AUTH", "default", "pw", "SETNAME", "both"], {
          normalize: helloNormalize,
        });
        await p.assertSame(["CLIENT", "GETNAME"]);
      });
    });

    await t.step("a failed HELLO does not change the protocol", async () => {
      await fresh(both, async (p) => {
        await p.assertSame(["HELLO", "3", "SETNAME", "bad name"]);
        await p.assertSame(["CLIENT", "GETNAME"]);
        await p.assertSame(["HELLO"], { normalize: helloNormalize });
      });
    });

    await t.step("RESET replies RESET and restores RESP2 and an empty name", async () => {
      await fresh(both, async (p) => {
        await p.assertSame(["HELLO", "3", "SETNAME", "before-reset"], {
          normalize: helloNormalize,
        });
        await p.assertSame(["CLIENT", "NO-EVICT", "on"]);
        await p.assertSame(["RESET"]);
        await p.assertSame(["CLIENT", "GETNAME"]);
        await p.assertSame(["HELLO"], { normalize: helloNormalize });
        await p.assertSame(["PING"]);
      });
    });

    await t.step("QUIT replies OK and then the server closes the connection", async () => {
      await fresh(both, async (p) => {
        await p.assertSame(["QUIT"]);
        assert.deepEqual(await p.closedByServer(), { redis: true, gocache: true });
      });
      await fresh(both, async (p) => {
        await p.assertSame(["QUIT", "extra", "args"]);
        assert.deepEqual(await p.closedByServer(), { redis: true, gocache: true });
      });
    });

    await t.step("commands pipelined after QUIT get no reply", async () => {
      const out = await both.rawBoth("*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n");
      assert.deepEqual(out.gocache, out.redis);
      assert.deepEqual(out.redis, { bytes: "+OK\\x0d\\x0a", closed: true });
    });
  });
});
