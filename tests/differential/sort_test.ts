/**
 * SORT and SORT_RO against redis-server: numeric and ALPHA order, ASC/DESC, LIMIT clamping, BY
 * patterns (string keys, hash fields, missing keys, constant "nosort" patterns), GET patterns
 * (`#`, keys, hash fields, missing), STORE (a list, or no key for an empty result), every error
 * text, RESP2 and RESP3, and the COMMAND INFO and GETKEYS declarations.
 */
import { assertSameCommandInfo, script, stepsFromEmpty, withBoth } from "./_diff.ts";

Deno.test("SORT and SORT_RO answer like redis-server", async (t) => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();
    const step = stepsFromEmpty(t, c);

    await step("COMMAND INFO and COMMAND GETKEYS agree", async () => {
      await assertSameCommandInfo(c, ["sort", "sort_ro"]);
      await script(c, [
        ["COMMAND", "GETKEYS", "SORT", "k"],
        ["COMMAND", "GETKEYS", "SORT", "k", "STORE", "d"],
        ["COMMAND", "GETKEYS", "SORT", "k", "BY", "store", "STORE", "d", "LIMIT", "0", "1"],
        ["COMMAND", "GETKEYS", "SORT", "k", "GET", "store", "store", "x"],
        ["COMMAND", "GETKEYS", "SORT_RO", "k", "ALPHA"],
      ]);
    });

    await step("numbers, ALPHA, DESC and LIMIT on lists, sets and sorted sets", async () => {
      await script(c, [
        ["RPUSH", "l", "3", "1", "10", "2", "-1.5", "1e1", "2"],
        ["SADD", "s", "5", "3", "9", "-2", "100"],
        ["SADD", "w", "banana", "apple", "cherry", "Apple", "10", "9"],
        ["ZADD", "z", "3", "c", "1", "a", "2", "b", "0", "d"],
        ["SORT", "l"],
        ["SORT", "l", "DESC"],
        ["SORT", "l", "ALPHA"],
        ["SORT", "l", "ALPHA", "DESC"],
        ["SORT", "s"],
        ["SORT", "s", "desc", "limit", "1", "2"],
        ["SORT", "w", "ALPHA"],
        ["SORT", "w"],
        ["SORT", "z", "ALPHA"],
        ["SORT", "z", "BY", "nosort"],
        ["SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "2"],
        ["SORT", "l", "BY", "nosort"],
        ["SORT", "l", "BY", "nosort", "DESC"],
        ["SORT", "l", "BY", "nosort", "LIMIT", "2", "3"],
        ["SORT", "l", "BY", "nosort", "DESC", "LIMIT", "2", "3"],
        ["SORT_RO", "l", "LIMIT", "0", "3"],
        ["SORT", "missing"],
        ["SORT", "missing", "ALPHA", "LIMIT", "0", "1"],
      ]);
    });

    await step("LIMIT clamping at and past the ends", async () => {
      await c.assertSame(["RPUSH", "l", "5", "4", "3", "2", "1"]);
      for (
        const [offset, count] of [
          ["0", "0"],
          ["0", "-1"],
          ["-5", "2"],
          ["3", "100"],
          ["5", "1"],
          ["6", "1"],
          ["100", "-1"],
          ["4", "0"],
          ["2", "-5"],
        ]
      ) {
        await c.assertSame(["SORT", "l", "LIMIT", offset, count]);
        await c.assertSame(["SORT", "l", "BY", "nosort", "LIMIT", offset, count]);
        await c.assertSame(["SORT", "l", "BY", "nosort", "DESC", "LIMIT", offset, count]);
      }
    });

    await step("BY and GET patterns over strings and hash fields", async () => {
      await script(c, [
        ["RPUSH", "ids", "1", "2", "3", "4"],
        ["MSET", "w_1", "40", "w_2", "10", "w_3", "30", "name_1", "d", "name_2", "b"],
        ["HSET", "h_1", "age", "7", "n", "x"],
        ["HSET", "h_2", "age", "3"],
        ["HSET", "h_3", "age", "5", "n", "z"],
        ["SORT", "ids", "BY", "w_*"],
        ["SORT", "ids", "BY", "w_*", "DESC"],
        ["SORT", "ids", "BY", "name_*", "ALPHA"],
        ["SORT", "ids", "BY", "h_*->age"],
        ["SORT", "ids", "BY", "h_*->age", "GET", "#", "GET", "h_*->n", "GET", "name_*"],
        ["SORT", "ids", "GET", "w_*", "GET", "missing_*", "GET", "noStar"],
        ["SORT", "ids", "BY", "w_*", "LIMIT", "1", "2", "GET", "#"],
        ["SORT", "ids", "BY", "h_*->"],
        ["SORT", "ids", "GET", "h_*->age", "BY", "nosort"],
        ["SORT_RO", "ids", "BY", "w_*", "GET", "name_*"],
      ]);
    });

    await step("scores that are not numbers are refused", async () => {
      await script(c, [
        ["RPUSH", "bad", "1", "x", "2"],
        ["SORT", "bad"],
        ["SORT", "bad", "ALPHA"],
        ["RPUSH", "ws", "1", "2"],
        ["SET", "v_1", "abc"],
        ["SORT", "ws", "BY", "v_*"],
        ["SET", "v_1", " 12"],
        ["SET", "v_2", "0x10"],
        ["SORT", "ws", "BY", "v_*"],
        ["SET", "v_1", "inf"],
        ["SET", "v_2", "-inf"],
        ["SORT", "ws", "BY", "v_*"],
        ["SET", "v_1", "nan"],
        ["SORT", "ws", "BY", "v_*"],
        ["SET", "v_1", "1e400"],
        ["SORT", "ws", "BY", "v_*"],
        ["SET", "v_1", " "],
        ["SET", "v_2", "-1"],
        ["SORT", "ws", "BY", "v_*"],
        ["SET", "v_1", "5"],
        ["SORT", "ws", "BY", "v_*"],
      ]);
    });

    await step("STORE writes a list, or deletes the destination for nothing", async () => {
      await script(c, [
        ["SADD", "s", "b", "a", "c"],
        ["SORT", "s", "ALPHA", "STORE", "dst"],
        ["LRANGE", "dst", "0", "-1"],
        ["TYPE", "dst"],
        ["OBJECT", "ENCODING", "dst"],
        ["SORT", "s", "BY", "nosort", "STORE", "dst2"],
        ["LRANGE", "dst2", "0", "-1"],
        ["RPUSH", "ids", "1", "2"],
        ["SORT", "ids", "GET", "missing_*", "STORE", "dst3"],
        ["LRANGE", "dst3", "0", "-1"],
        ["SET", "dst", "string"],
        ["SORT", "empty", "STORE", "dst"],
        ["EXISTS", "dst"],
        ["SORT", "s", "ALPHA", "STORE", "s"],
        ["TYPE", "s"],
        ["LRANGE", "s", "0", "-1"],
      ]);
    });

    await step("syntax errors, WRONGTYPE and SORT_RO's refusal of STORE", async () => {
      await script(c, [
        ["SET", "str", "1"],
        ["HSET", "hash", "f", "v"],
        ["RPUSH", "l", "1"],
        ["SORT", "str"],
        ["SORT", "hash"],
        ["SORT", "l", "LIMIT", "1"],
        ["SORT", "l", "LIMIT", "x", "1"],
        ["SORT", "l", "LIMIT", "0", "99999999999999999999"],
        ["SORT", "l", "BY"],
        ["SORT", "l", "GET"],
        ["SORT", "l", "STORE"],
        ["SORT", "l", "foo"],
        ["SORT_RO", "l", "STORE", "x"],
        ["SORT"],
        ["SORT_RO"],
      ]);
    });

    await step("RESP3 replies have the same shapes", async () => {
      await c.assertSame(["HELLO", "3"], {
        normalize: () => ({ type: "null" }),
      });
      await script(c, [
        ["RPUSH", "l", "2", "1"],
        ["SORT", "l"],
        ["SORT", "l", "GET", "#", "GET", "nothing_*"],
        ["SORT", "l", "STORE", "d"],
      ]);
      await c.assertSame(["HELLO", "2"], { normalize: () => ({ type: "null" }) });
    });
  });
});
