/**
 * BZPOPMIN, BZPOPMAX and BZMPOP against redis-server: immediate pops, a waiter served by a
 * ZADD on another connection (first come first served), timeouts, WRONGTYPE, inside MULTI (no
 * waiting), and RESP3 shapes. Each waiting client is a connection pair whose reply is read
 * only after the other pair's write.
 */
import {
  assertSameCommandInfo,
  script,
  stepsFromEmpty,
  textOf,
  unshow,
  withBoth,
} from "./_diff.ts";
import { waitFor } from "../support/wait_for.ts";

Deno.test("blocking sorted set pops answer like redis-server", async (t) => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();
    await using waiter = await both.connect();
    await using second = await both.connect();
    const step = stepsFromEmpty(t, c);

    await step("COMMAND INFO agrees", async () => {
      await assertSameCommandInfo(c, ["bzpopmin", "bzpopmax", "bzmpop"]);
    });

    await step("a ready key pops at once", async () => {
      await script(c, [
        ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
        ["BZPOPMIN", "missing", "z", "0"],
        ["BZPOPMAX", "z", "0"],
        ["BZMPOP", "0", "2", "missing", "z", "MIN", "COUNT", "5"],
        ["EXISTS", "z"],
      ]);
    });

    await step("waiters are served in arrival order by a later ZADD", async () => {
      await waiter.send("BZPOPMIN", "q", "0");
      await second.send("BZMPOP", "0", "1", "q", "MAX", "COUNT", "2");
      // Both servers must have registered the two waiters, in order, before the write.
      await waitFor(async () => {
        const info = await c.call("INFO", "clients");
        return [info.redis, info.gocache].every((shape) =>
          /blocked_clients:2\r/.test(unshow(textOf(shape)))
        );
      }, { what: "two blocked clients on both servers" });
      await c.assertSame(["ZADD", "q", "1", "x", "2", "y", "3", "z"]);
      await waiter.assertSameRead("BZPOPMIN's reply");
      await second.assertSameRead("BZMPOP's reply");
      await c.assertSame(["ZRANGE", "q", "0", "-1", "WITHSCORES"]);
    });

    await step("SWAPDB, alone or inside EXEC, serves a waiter whose key it brings", async () => {
      for (const inExec of [false, true]) {
        await c.assertSame(["FLUSHALL"]);
        await waiter.send("BZPOPMIN", "swapped", "0");
        await waitFor(async () => {
          const info = await c.call("INFO", "clients");
          return [info.redis, info.gocache].every((shape) =>
            /blocked_clients:1\r/.test(unshow(textOf(shape)))
          );
        }, { what: "one blocked client on both servers" });
        await script(c, [["SELECT", "1"], ["ZADD", "swapped", "1", "m"], ["SELECT", "0"]]);
        if (inExec) await script(c, [["MULTI"], ["SWAPDB", "0", "1"], ["EXEC"]]);
        else await c.assertSame(["SWAPDB", "0", "1"]);
        await waiter.assertSameRead(`BZPOPMIN's reply after SWAPDB${inExec ? " in EXEC" : ""}`);
        await c.assertSame(["EXISTS", "swapped"]);
      }
    });

    await step("timeouts answer a null array", async () => {
      await script(c, [
        ["BZPOPMIN", "none", "0.01"],
        ["BZMPOP", "0.01", "1", "none", "MIN"],
        ["BZPOPMAX", "none", "-1"],
        ["BZPOPMAX", "none", "x"],
      ]);
    });

    await step("WRONGTYPE, syntax errors and MULTI", async () => {
      await script(c, [
        ["SET", "s", "1"],
        ["BZPOPMIN", "s", "0"],
        ["BZMPOP", "0", "1", "s", "MIN"],
        ["BZMPOP", "0", "0", "s", "MIN"],
        ["BZMPOP", "0", "1", "z", "MIDDLE"],
        ["MULTI"],
        ["BZPOPMIN", "empty", "0"],
        ["BZMPOP", "0", "1", "empty", "MAX"],
        ["EXEC"],
      ]);
    });

    await step("RESP3 shapes", async () => {
      await c.assertSame(["HELLO", "3"], { normalize: () => ({ type: "null" }) });
      await script(c, [
        ["ZADD", "z", "1.5", "a", "2", "b"],
        ["BZPOPMIN", "z", "0"],
        ["BZMPOP", "0", "1", "z", "MAX"],
        ["BZPOPMIN", "z", "0.01"],
      ]);
      await c.assertSame(["HELLO", "2"], { normalize: () => ({ type: "null" }) });
    });
  });
});
