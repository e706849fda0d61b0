/**
 * SETBIT, GETBIT, BITCOUNT, BITPOS and BITOP against redis-server: every range of a grid in
 * BYTE and BIT units over values with set and clear bits at their edges, growth and padding,
 * the operations on strings of unequal length, and every error in Redis's order of checks.
 */
import assert from "node:assert/strict";
import { type Arg, infoSummary, itemsOf, script, stepsFromEmpty, withBoth } from "./_diff.ts";

const VALUES = [
  "\xff\xf0\x00",
  "foobar",
  "\x00\x00\x01",
  "\x80",
  "",
  // Runs of whole zero and one bytes, which BITPOS passes over a byte at a time.
  "\x00".repeat(9) + "\x01" + "\xff".repeat(9) + "\xfe",
];
const ENDS = [-20, -9, -8, -3, -1, 0, 1, 2, 7, 8, 9, 23, 24, 100];

Deno.test("bitmap commands answer exactly like redis-server", async (t) => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();
    const step = stepsFromEmpty(t, c);

    await step("COMMAND INFO of every bitmap command agrees with Redis", async () => {
      // Key-spec flags aside: gocache does not declare them yet.
      for (const name of ["setbit", "getbit", "bitcount", "bitpos", "bitop"]) {
        const { redis, gocache } = await c.call("COMMAND", "INFO", name);
        assert.deepEqual(infoSummary(itemsOf(gocache)[0]), infoSummary(itemsOf(redis)[0]), name);
      }
    });

    await step("BITCOUNT and BITPOS over a grid of ranges, in bytes and in bits", async () => {
      for (const value of VALUES) {
        await c.assertSame(["SET", "v", value]);
        const commands: Arg[][] = [["BITCOUNT", "v"], ["BITPOS", "v", 0], ["BITPOS", "v", 1]];
        for (const start of ENDS) {
          commands.push(["BITPOS", "v", 0, start], ["BITPOS", "v", 1, start]);
          for (const end of ENDS) {
            for (const unit of [[], ["BYTE"], ["BIT"]]) {
              commands.push(["BITCOUNT", "v", start, end, ...unit]);
              commands.push(["BITPOS", "v", 0, start, end, ...unit]);
              commands.push(["BITPOS", "v", 1, start, end, ...unit]);
            }
          }
        }
        await script(c, commands);
      }
    });

    await step("SETBIT pads with zeros, answers the old bit and GETBIT reads it back", async () => {
      await script(c, [
        ["SETBIT", "b", 7, 1],
        ["GET", "b"],
        ["SETBIT", "b", 7, 1],
        ["SETBIT", "b", 7, 0],
        ["SETBIT", "b", 100, 0],
        ["STRLEN", "b"],
        ["SETBIT", "b", 0, 1],
        ["GET", "b"],
        ["GETBIT", "b", 0],
        ["GETBIT", "b", 1],
        ["GETBIT", "b", 100],
        ["GETBIT", "b", 1000],
        ["GETBIT", "missing", 3],
        // The largest offsets Redis reads (4294967295 is the last bit of 512 MB).
        ["GETBIT", "missing", 4294967295],
        ["GETBIT", "b", 4294967104],
        ["GETBIT", "b", 4294967296],
        ["SET", "t", "x", "EX", 1000],
        ["SETBIT", "t", 20, 1],
        ["TTL", "t"],
        ["GET", "t"],
      ]);
    });

    await step("BITOP on strings of unequal length and missing keys", async () => {
      await script(c, [
        ["SET", "a", "\xff\x0f\xaa"],
        ["SET", "b", "\x0f"],
        ["BITOP", "AND", "d", "a", "b"],
        ["GET", "d"],
        ["BITOP", "or", "d", "a", "b", "missing"],
        ["GET", "d"],
        ["BITOP", "XOR", "d", "a", "b", "a"],
        ["GET", "d"],
        ["BITOP", "NOT", "d", "a"],
        ["GET", "d"],
        ["BITOP", "AND", "d", "missing", "a"],
        ["GET", "d"],
        ["SET", "d", "kept", "EX", 1000],
        ["BITOP", "OR", "d", "a"],
        ["TTL", "d"],
        ["BITOP", "NOT", "d", "missing"],
        ["EXISTS", "d"],
        ["BITOP", "OR", "a", "a", "b"],
        ["GET", "a"],
      ]);
    });

    await step("errors come in Redis's order with Redis's texts", async () => {
      await script(c, [
        ["SET", "v", "abc"],
        ["SETBIT", "v", -1, 1],
        ["SETBIT", "v", "x", 1],
        ["SETBIT", "v", 4294967296, 1],
        ["SETBIT", "v", 1, 2],
        ["SETBIT", "v", 1, "x"],
        ["SETBIT", "v", "x", "x"],
        ["GETBIT", "v", -1],
        ["GETBIT", "missing", "x"],
        ["BITCOUNT", "v", 1],
        ["BITCOUNT", "missing", 1],
        ["BITCOUNT", "missing", "x", "y", "z", "w"],
        ["BITCOUNT", "v", "x", 1],
        ["BITCOUNT", "v", 1, 2, "WORD"],
        ["BITCOUNT", "v", -1, -2, "WORD"],
        ["BITCOUNT", "v", 1, 2, "BIT", "x"],
        ["BITPOS", "v", 2],
        ["BITPOS", "v", "x"],
        ["BITPOS", "missing", 1, "x"],
        ["BITPOS", "v", 1, "x"],
        ["BITPOS", "v", 1, 0, "x", "WORD"],
        ["BITPOS", "v", 1, 0, 1, "BIT", "x"],
        ["BITOP", "NAND", "d", "v"],
        ["BITOP", "NOT", "d", "v", "v"],
        ["BITOP", "AND", "d"],
        ["SETBIT", "v"],
        ["GETBIT", "v"],
        ["BITCOUNT"],
        ["BITPOS", "v"],
      ]);
    });
  });
});
