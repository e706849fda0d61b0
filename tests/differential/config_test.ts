/**
 * CONFIG GET/SET/RESETSTAT on parameters that both servers have, started with identical values
 * through the same command-line flags.
 */
import assert from "node:assert/strict";
import { type Arg, type ConnPair, pairsOf, type Shape, textOf, withBoth } from "./_diff.ts";

/** The parameters gocache shares with Redis and that both may change at run time. */
const FLAGS = [
  "--maxclients",
  "500",
  "--timeout",
  "300",
  "--hz",
  "15",
  "--proto-max-bulk-len",
  "2mb",
  "--client-query-buffer-limit",
  "4mb",
  "--client-output-buffer-limit",
  "normal 1mb 512kb 10 replica 256mb 64mb 60 pubsub 32mb 8mb 60",
  "--requirepass",
  "secret",
];

const SHARED = [
  "maxclients",
  "timeout",
  "hz",
  "proto-max-bulk-len",
  "client-query-buffer-limit",
  "client-output-buffer-limit",
  "requirepass",
];

/**
 * CONFIG GET's map with its pairs sorted by name: Redis 7 collects the matches in a hash table,
 * so the order of several parameters is unspecified and differs from gocache's table order.
 */
function sortedPairs(shape: Shape): Shape {
  if (shape.type !== "map" && shape.type !== "array") return shape;
  const key = (s: Shape) => (s.type === "bulk" ? s.value : "");
  const pairs = [...pairsOf(shape)].sort(([a], [b]) => key(a).localeCompare(key(b)));
  return shape.type === "map"
    ? { type: "map", entries: pairs }
    : { type: "array", items: pairs.flat() };
}

/** CONFIG GET compared with pairs sorted (see {@link sortedPairs}). */
function get(c: ConnPair, ...patterns: Arg[]): Promise<Shape> {
  return c.assertSame(["CONFIG", "GET", ...patterns], { normalize: sortedPairs });
}

Deno.test("CONFIG answers exactly like redis-server", async (t) => {
  await withBoth({ args: FLAGS }, async (both) => {
    await using c = await both.connect();
    await c.assertSame(["AUTH", "secret"]);

    await t.step("CONFIG GET of each shared parameter returns the value set by flag", async () => {
      for (const name of SHARED) {
        const reply = await get(c, name);
        assert.equal(pairsOf(reply).length, 1, `${name} is known to both`);
      }
    });

    await t.step("CONFIG GET bind and port agree; the ports differ by construction", async () => {
      await get(c, "bind");
      const port = await c.call("CONFIG", "GET", "port");
      assert.deepEqual(pairsOf(port.gocache)[0][0], pairsOf(port.redis)[0][0]);
      assert.equal(
        textOf(pairsOf(port.gocache)[0][1]),
        String(both.gocache.port),
        "gocache reports the port it bound",
      );
    });

    await t.step(
      "every parameter gocache has is one Redis has, but log-format, maxkeys, metrics-*, users, group-*, rename-command and its abuse limits",
      async () => {
        const { redis, gocache } = await c.call("CONFIG", "GET", "*");
        const redisNames = new Set(pairsOf(redis).map(([k]) => textOf(k)));
        // log-format (text or JSON log lines) is gocache's own.
        const extra = pairsOf(gocache).map(([k]) => textOf(k)).filter((n) => !redisNames.has(n));
        // maxkeys (a limit on the number of keys) is gocache's own too, and so is the
        // Prometheus endpoint (metrics-port, metrics-bind, metrics-token), ACL users in the
        // configuration file (users; Redis reads them from its config file's `user` lines),
        // and leader/follower groups with built-in failover (group-*), which Redis leaves to
        // Sentinel. rename-command is Redis's, only CONFIG GET shows it in gocache; the limits
        // on half-sent commands and on connections per address are gocache's.
        assert.deepEqual(extra.sort(), [
          "client-query-timeout",
          "connection-limit-per-ip",
          "group-election-timeout",
          "group-heartbeat-period",
          "group-members",
          "group-name",
          "log-format",
          "maxkeys",
          "metrics-bind",
          "metrics-port",
          "metrics-token",
          "rename-command",
          "users",
        ]);
      },
    );

    await t.step("CONFIG GET matches parameter names in any case", async () => {
      await get(c, "MAXCLIENTS");
      await get(c, "Hz");
    });

    await t.step("CONFIG GET with several names returns each once", async () => {
      await get(c, "maxclients", "timeout", "hz");
      await get(c, "hz", "hz", "HZ");
    });

    await t.step("CONFIG GET with glob patterns matches the same parameters", async () => {
      await get(c, "client-*-buffer-limit");
      await get(c, "proto-max-bulk-le?");
      await get(c, "maxclient[s]");
      await get(c, "maxclient[a-z]");
      await get(c, "t?meout");
      await get(c, "requirepas*");
      await get(c, "MAXCLIENT*");
      await get(c, "maxclients", "client-*-buffer-limit");
    });

    await t.step("CONFIG GET of an unknown parameter is an empty map", async () => {
      await get(c, "nosuchparameter");
      await get(c, "nosuch*");
    });

    await t.step("CONFIG GET in RESP3 is a map", async () => {
      await using p = await both.connect();
      await p.assertSame(["HELLO", "3", "AUTH", "default", "secret"], {
        normalize: () => ({ type: "null" }),
      });
      await get(p, "maxclients", "hz");
      await get(p, "nosuchparameter");
    });

    await t.step("CONFIG SET of a valid value is visible to CONFIG GET", async () => {
      await c.assertSame(["CONFIG", "SET", "maxclients", "600"]);
      await get(c, "maxclients");
      await c.assertSame(["CONFIG", "SET", "timeout", "0"]);
      await get(c, "timeout");
      await c.assertSame(["CONFIG", "SET", "hz", "20"]);
      await get(c, "hz");
      await c.assertSame(["CONFIG", "SET", "proto-max-bulk-len", "4mb"]);
      await get(c, "proto-max-bulk-len");
      await c.assertSame(["CONFIG", "SET", "client-query-buffer-limit", "2097152"]);
      await get(c, "client-query-buffer-limit");
      await c.assertSame(["CONFIG", "SET", "requirepass", "secret"]);
      await get(c, "requirepass");
    });

    await t.step("CONFIG SET accepts parameter names in any case", async () => {
      await c.assertSame(["CONFIG", "SET", "MaxClients", "700"]);
      await get(c, "maxclients");
    });

    await t.step("CONFIG SET with memory units stores bytes", async () => {
      for (const value of ["3MB", "3145728b", "5000k", "2gb", "1G"]) {
        await c.assertSame(["CONFIG", "SET", "client-query-buffer-limit", value]);
        await get(c, "client-query-buffer-limit");
      }
    });

    await t.step(
      "CONFIG SET of client-output-buffer-limit changes only the classes named",
      async () => {
        await c.assertSame(["CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0"]);
        await get(c, "client-output-buffer-limit");
        await c.assertSame([
          "CONFIG",
          "SET",
          "client-output-buffer-limit",
          "pubsub 64mb 16mb 30 slave 1gb 256mb 120",
        ]);
        await get(c, "client-output-buffer-limit");
        await c.assertSame(["CONFIG", "SET", "client-output-buffer-limit", "replica 1mb 1mb 1"]);
        await get(c, "client-output-buffer-limit");
      },
    );

    await t.step("CONFIG SET with several pairs applies them all", async () => {
      await c.assertSame(["CONFIG", "SET", "hz", "12", "timeout", "7", "maxclients", "450"]);
      await get(c, "hz", "timeout", "maxclients");
    });

    await t.step("CONFIG SET of an unknown parameter is refused", async () => {
      await c.assertSame(["CONFIG", "SET", "nosuchparameter", "1"]);
      await c.assertSame(["CONFIG", "SET", "NoSuch", "1", "hz", "10"]);
    });

    await t.step("CONFIG SET with a missing value is a wrong-arity error", async () => {
      await c.assertSame(["CONFIG", "SET", "hz"]);
      await c.assertSame(["CONFIG", "SET", "hz", "10", "timeout"]);
      await c.assertSame(["CONFIG", "SET"]);
    });

    await t.step("CONFIG SET of a value that is not an integer is refused", async () => {
      await c.assertSame(["CONFIG", "SET", "maxclients", "abc"]);
      await c.assertSame(["CONFIG", "SET", "timeout", "1.5"]);
      await c.assertSame(["CONFIG", "SET", "hz", ""]);
      await c.assertSame(["CONFIG", "SET", "timeout", "99999999999999999999"]);
    });

    await t.step("CONFIG SET of an integer out of range is refused with the range", async () => {
      await c.assertSame(["CONFIG", "SET", "maxclients", "0"]);
      await c.assertSame(["CONFIG", "SET", "timeout", "-1"]);
      await c.assertSame(["CONFIG", "SET", "timeout", "2147483648"]);
      await c.assertSame(["CONFIG", "SET", "hz", "-1"]);
    });

    await t.step("CONFIG SET of hz beyond its limits clamps it like Redis", async () => {
      await c.assertSame(["CONFIG", "SET", "hz", "1000"]);
      await get(c, "hz");
      await c.assertSame(["CONFIG", "SET", "hz", "0"]);
      await get(c, "hz");
      await c.assertSame(["CONFIG", "SET", "hz", "10"]);
    });

    await t.step("CONFIG SET of a bad memory value is refused", async () => {
      await c.assertSame(["CONFIG", "SET", "proto-max-bulk-len", "12xb"]);
      await c.assertSame(["CONFIG", "SET", "proto-max-bulk-len", "-1"]);
      await c.assertSame(["CONFIG", "SET", "proto-max-bulk-len", "1000"]);
      await c.assertSame(["CONFIG", "SET", "client-query-buffer-limit", "1.5mb"]);
      await c.assertSame(["CONFIG", "SET", "client-query-buffer-limit", "abc"]);
    });

    await t.step("CONFIG SET of a bad client-output-buffer-limit is refused", async () => {
      await c.assertSame(["CONFIG", "SET", "client-output-buffer-limit", "normal 0 0"]);
      await c.assertSame(["CONFIG", "SET", "client-output-buffer-limit", "bogus 0 0 0"]);
      await c.assertSame(["CONFIG", "SET", "client-output-buffer-limit", "normal x 0 0"]);
      await c.assertSame(["CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 -1"]);
      await c.assertSame(["CONFIG", "SET", "client-output-buffer-limit", ""]);
    });

    await t.step("CONFIG SET naming a parameter twice is refused", async () => {
      await c.assertSame(["CONFIG", "SET", "hz", "11", "hz", "12"]);
      await c.assertSame(["CONFIG", "SET", "hz", "11", "HZ", "12"]);
      await get(c, "hz");
    });

    await t.step("a refused CONFIG SET changes none of its parameters", async () => {
      await c.assertSame(["CONFIG", "SET", "hz", "33", "maxclients", "abc"]);
      await c.assertSame(["CONFIG", "SET", "timeout", "44", "nosuchparameter", "1"]);
      await get(c, "hz", "timeout", "maxclients");
    });

    await t.step("CONFIG RESETSTAT replies OK", async () => {
      await c.assertSame(["CONFIG", "RESETSTAT"]);
    });

    await t.step("CONFIG with an unknown subcommand suggests CONFIG HELP", async () => {
      await c.assertSame(["CONFIG", "NOSUCH"]);
      await c.assertSame(["config", "nosuch", "a"]);
    });

    await t.step("CONFIG HELP is an array of status lines with Redis's first line", async () => {
      // Redis documents more subcommands (REWRITE), so only the heading and types are compared.
      const { redis, gocache } = await c.call("CONFIG", "HELP");
      assert.ok(gocache.type === "array" && redis.type === "array");
      assert.deepEqual(gocache.items[0], redis.items[0]);
      assert.ok(gocache.items.every((line) => line.type === "simple"));
    });
  });
});
