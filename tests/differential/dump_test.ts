/**
 * DUMP and RESTORE against redis-server: the same payload bytes for values Redis does not
 * compress, payloads carried across in both directions (compressed ones included), and the same
 * replies and errors for every option, refusal and expiry case.
 */
import assert from "node:assert/strict";
import { assertIdleTime, script, type Shape, stepsFromEmpty, withBoth } from "./_diff.ts";
import { plain } from "../support/resp_conn.ts";
import { crc64 } from "../../src/persistence/rdb/crc64.ts";

/** A PTTL in whole seconds: the two servers ran their RESTORE a moment apart. */
const seconds = (shape: Shape): Shape =>
  shape.type === "integer" && Number(shape.value) > 0
    ? { type: "integer", value: Math.round(Number(shape.value) / 1000) }
    : shape;

const enc = new TextEncoder();

/** A payload with `body` and a correct footer for RDB version `version`. */
function withFooter(body: Uint8Array, version = 10): Uint8Array {
  const out = new Uint8Array(body.length + 10);
  out.set(body);
  out[body.length] = version & 0xff;
  out[body.length + 1] = version >> 8;
  const crc = crc64(out.subarray(0, body.length + 2));
  new DataView(out.buffer).setBigUint64(body.length + 2, crc, true);
  return out;
}
const VALUES: Uint8Array[] = [
  enc.encode("hello"),
  enc.encode(""),
  enc.encode("0"),
  enc.encode("-128"),
  enc.encode("32767"),
  enc.encode("-2147483648"),
  enc.encode("9223372036854775807"),
  enc.encode("007"),
  new Uint8Array([0, 13, 10, 255, 128]),
  enc.encode("x".repeat(500)),
  enc.encode("abcdefghij".repeat(300)),
];

Deno.test("DUMP and RESTORE answer exactly like redis-server", async (t) => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();
    const step = stepsFromEmpty(t, c);

    await step("DUMP gives Redis's bytes for values it stores uncompressed", async () => {
      await c.assertSame(["DUMP", "missing"]);
      for (const value of VALUES) {
        await c.assertSame(["SET", "k", value]);
        const { redis, gocache } = await c.call("DUMP", "k");
        assert.equal(redis.type, "bulk");
        assert.equal(gocache.type, "bulk");
        // Redis's LZF finds other matches than ours: compressed payloads differ in bytes only.
        if (value.length <= 20) assert.deepEqual(gocache, redis, `DUMP of ${value.length} bytes`);
      }
    });

    await step("payloads move both ways and restore the same value", async () => {
      for (const value of VALUES) {
        await c.assertSame(["SET", "k", value]);
        const fromRedis = await c.redis.call("DUMP", "k") as Uint8Array;
        const fromGocache = await c.gocache.call("DUMP", "k") as Uint8Array;
        assert.equal(plain(await c.gocache.call("RESTORE", "r", 0, fromRedis)), "OK");
        assert.equal(plain(await c.redis.call("RESTORE", "r", 0, fromGocache)), "OK");
        await c.assertSame(["GET", "r"]);
        await c.assertSame(["DEL", "r"]);
        assert.deepEqual(await c.redis.call("GET", "k"), value);
      }
    });

    await step(
      "RESTORE refuses existing keys, bad TTLs, bad options and bad payloads",
      async () => {
        await c.assertSame(["SET", "k", "v"]);
        const payload = await c.redis.call("DUMP", "k") as Uint8Array;
        const flipped = payload.slice();
        flipped[2] ^= 1;
        // Version 11 under a checksum that matches it: only the version check can refuse it.
        const newer = withFooter(payload.subarray(0, payload.length - 10), 11);
        await script(c, [
          ["RESTORE", "k", 0, payload],
          ["RESTORE", "n", -1, payload],
          ["RESTORE", "n", "x", payload],
          ["RESTORE", "n", 0, payload, "BOGUS"],
          ["RESTORE", "n", 0, payload, "IDLETIME"],
          ["RESTORE", "n", 0, payload, "IDLETIME", -1],
          ["RESTORE", "n", 0, payload, "IDLETIME", "x"],
          ["RESTORE", "n", 0, payload, "FREQ", 256],
          ["RESTORE", "n", 0, payload, "FREQ", 1, "IDLETIME", 1],
          ["RESTORE", "n", 0, payload, "IDLETIME", 1, "FREQ", 1],
          ["RESTORE", "n", 0, flipped],
          ["RESTORE", "n", 0, newer],
          ["RESTORE", "n", 0, "short"],
          ["RESTORE", "n", 0, ""],
          ["RESTORE", "n", 0],
          ["DUMP"],
          ["DUMP", "a", "b"],
          ["EXISTS", "n"],
        ]);
      },
    );

    await step(
      "bytes after the value are ignored and a value may run into the footer",
      async () => {
        await script(c, [
          ["RESTORE", "stray", 0, withFooter(new Uint8Array([0, 1, 120, 65, 66]))],
          ["GET", "stray"],
          ["RESTORE", "into", 0, withFooter(new Uint8Array([0, 12, 120, 121]))],
          ["STRLEN", "into"],
          ["RESTORE", "past", 0, withFooter(new Uint8Array([0, 20, 120]))],
          ["EXISTS", "past"],
        ]);
      },
    );

    await step("TTLs at the edge of 64 bits", async () => {
      await c.assertSame(["SET", "k", "v"]);
      const payload = await c.redis.call("DUMP", "k") as Uint8Array;
      await script(c, [
        // Now plus the largest TTL overflows: the key counts as already expired.
        ["RESTORE", "h1", "9223372036854775807", payload],
        ["EXISTS", "h1"],
        ["RESTORE", "h2", "9223372036854775807", payload, "ABSTTL"],
        ["PEXPIRETIME", "h2"],
        ["EXPIRETIME", "h2"],
        ["RESTORE", "h3", "9223372036854775808", payload],
        // The same edge through SET and PEXPIREAT. Times past 2^53 are held as doubles: INT64_MAX
        // comes back exactly, its neighbours below do not.
        ["SET", "h4", "v", "PXAT", "9223372036854775807"],
        ["PEXPIRETIME", "h4"],
        ["PEXPIREAT", "h4", "9223372036854775807"],
        ["PEXPIRETIME", "h4"],
      ]);
    });

    await step("REPLACE, relative and absolute TTLs, and TTLs already past", async () => {
      await c.assertSame(["SET", "k", "v", "EX", 1000]);
      const payload = await c.redis.call("DUMP", "k") as Uint8Array;
      const future = Date.now() + 100_000;
      await script(c, [
        ["RESTORE", "k", 0, payload, "REPLACE"],
        ["PTTL", "k"],
        ["RESTORE", "a", 0, payload, "ABSTTL"],
        ["PTTL", "a"],
        ["RESTORE", "gone", 1, payload, "ABSTTL"],
        ["EXISTS", "gone"],
        ["RESTORE", "k", 1, payload, "REPLACE", "ABSTTL"],
        ["EXISTS", "k"],
        ["RESTORE", "k", 1000, payload, "ABSTTL"],
        ["EXISTS", "k"],
      ]);
      await c.assertSame(["RESTORE", "t", 100_000, payload], {});
      await c.assertSame(["PTTL", "t"], { normalize: seconds });
      await c.assertSame(["RESTORE", "u", future, payload, "ABSTTL"]);
      await c.assertSame(["PTTL", "u"], { normalize: seconds });
      await c.assertSame(["GET", "u"]);
    });

    await step("IDLETIME and FREQ set what OBJECT reports", async () => {
      await c.assertSame(["SET", "k", "v"]);
      const payload = await c.redis.call("DUMP", "k") as Uint8Array;
      await c.assertSame(["RESTORE", "idle", 0, payload, "IDLETIME", 1000]);
      await assertIdleTime(c, "idle", 1000);
      await c.assertSame(["RESTORE", "freq", 0, payload, "FREQ", 100]);
      await assertIdleTime(c, "freq", 0);
      await script(c, [
        ["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
        ["RESTORE", "lfu", 0, payload, "FREQ", 100],
        ["OBJECT", "FREQ", "lfu"],
        ["RESTORE", "lfu2", 0, payload, "IDLETIME", 1000],
        ["OBJECT", "FREQ", "lfu2"],
        ["CONFIG", "SET", "maxmemory-policy", "noeviction"],
      ]);
    });
  });
});
