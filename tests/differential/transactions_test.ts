/**
 * MULTI, EXEC, DISCARD, WATCH and UNWATCH: the same scripts sent to redis-server and gocache,
 * replies compared, including queue-time errors, runtime errors inside EXEC, nesting errors,
 * WATCH conflicts caused by a second connection, by the client itself and by FLUSHALL, and
 * RESP3 null replies.
 */
import { type Normalize, script, stepsFromEmpty, withBoth } from "./_diff.ts";

/**
 * A TTL for a key a step watches before it expires: far longer than any stall of one server on a
 * loaded machine between two commands, so it cannot lapse mid-step on one server only.
 */
const SHORT_TTL_MS = 1000;

/**
 * Resolves once a TTL of `ttlMs` set by a command whose replies (from both servers) had arrived
 * at `repliedAt` has passed on both: each server fixed its expiry time before it replied. The key
 * is not touched while waiting.
 */
async function outlive(repliedAt: number, ttlMs: number): Promise<void> {
  const wait = repliedAt + ttlMs + 20 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

/** Treats an integer reply in 1..`max` as `max` (a remaining TTL; the servers run apart). */
function positiveAs(max: number): Normalize {
  return (shape) =>
    shape.type === "integer" && shape.value > 0 && shape.value <= max
      ? { type: "integer", value: max }
      : shape;
}

Deno.test("transactions answer exactly like redis-server", async (t) => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();
    await using other = await both.connect();
    const step = stepsFromEmpty(t, c);

    await step("a transaction queues its commands and EXEC returns their replies", async () => {
      await script(c, [
        ["MULTI"],
        ["SET", "a", "1"],
        ["INCR", "a"],
        ["GET", "a"],
        ["MGET", "a", "missing"],
        ["EXEC"],
        ["GET", "a"],
      ]);
    });

    await step("a runtime error inside EXEC is that command's reply; the rest runs", async () => {
      await script(c, [
        ["SET", "s", "text"],
        ["MULTI"],
        ["INCR", "s"],
        ["SET", "after", "x"],
        ["INCRBY", "s", "notanumber"],
        ["EXEC"],
        ["GET", "after"],
      ]);
    });

    await step("a queueing error makes EXEC answer EXECABORT and run nothing", async () => {
      await script(c, [
        ["MULTI"],
        ["SET", "x", "1"],
        ["NOSUCHCOMMAND", "a"],
        ["SET", "y", "2"],
        ["EXEC"],
        ["EXISTS", "x", "y"],
        ["MULTI"],
        ["GET"],
        ["EXEC"],
        ["MULTI"],
        ["SET", "x"],
        ["DISCARD"],
        ["EXISTS", "x"],
      ]);
    });

    await step("nesting and misplaced EXEC, DISCARD and WATCH give Redis's errors", async () => {
      await script(c, [
        ["EXEC"],
        ["DISCARD"],
        ["MULTI"],
        ["MULTI"],
        ["WATCH", "k"],
        ["SET", "k", "v"],
        ["EXEC"],
        ["MULTI", "extra"],
        ["EXEC", "extra"],
        ["WATCH"],
        ["UNWATCH", "extra"],
      ]);
    });

    await step("DISCARD drops the queue and the WATCHes", async () => {
      await script(c, [
        ["WATCH", "w"],
        ["MULTI"],
        ["SET", "w", "1"],
        ["DISCARD"],
        ["EXISTS", "w"],
      ]);
      await other.assertSame(["SET", "w", "other"]);
      await script(c, [["MULTI"], ["GET", "w"], ["EXEC"]]);
    });

    await step("a key written by another connection after WATCH fails the EXEC", async () => {
      await script(c, [["SET", "w", "0"], ["WATCH", "w"]]);
      await other.assertSame(["INCR", "w"]);
      await script(c, [["MULTI"], ["INCR", "w"], ["EXEC"], ["GET", "w"]]);
      // The EXEC unwatched: the next transaction runs.
      await other.assertSame(["INCR", "w"]);
      await script(c, [["MULTI"], ["INCR", "w"], ["EXEC"]]);
    });

    await step(
      "a key created, deleted or changed by the client itself fails the EXEC",
      async () => {
        await script(c, [
          ["WATCH", "new"],
          ["SET", "new", "1"],
          ["MULTI"],
          ["GET", "new"],
          ["EXEC"],
          ["WATCH", "new"],
          ["DEL", "new"],
          ["MULTI"],
          ["GET", "new"],
          ["EXEC"],
          ["SET", "t", "v"],
          ["WATCH", "t"],
          ["EXPIRE", "t", 100],
          ["MULTI"],
          ["TTL", "t"],
          ["EXEC"],
        ]);
      },
    );

    await step("UNWATCH, reads and unrelated writes leave a transaction alone", async () => {
      await script(c, [["SET", "k", "1"], ["WATCH", "k"], ["UNWATCH"]]);
      await other.assertSame(["SET", "k", "2"]);
      await script(c, [["MULTI"], ["GET", "k"], ["EXEC"]]);
      await script(c, [["WATCH", "k"], ["GET", "k"]]);
      await other.assertSame(["GET", "k"]);
      await other.assertSame(["SET", "unrelated", "x"]);
      await script(c, [["MULTI"], ["INCR", "k"], ["EXEC"]]);
    });

    await step("SETBIT that leaves the bit as it was does not fail a WATCH", async () => {
      await script(c, [
        ["SET", "bits", "\x0f"],
        ["WATCH", "bits"],
        ["SETBIT", "bits", 0, 0],
        ["MULTI"],
        ["GET", "bits"],
        ["EXEC"],
        ["WATCH", "bits"],
        ["SETBIT", "bits", 0, 1],
        ["MULTI"],
        ["GET", "bits"],
        ["EXEC"],
      ]);
    });

    await step("a key already expired when watched only fails EXEC if written", async () => {
      // PXAT 1 leaves a logically expired key in place until something looks at it.
      await script(c, [
        ["SET", "gone", "v", "PXAT", 1],
        ["WATCH", "gone"],
        ["EXISTS", "gone"],
        ["MULTI"],
        ["SET", "other", "1"],
        ["EXEC"],
        ["SET", "gone", "v", "PXAT", 1],
        ["WATCH", "gone"],
        ["FLUSHALL"],
        ["MULTI"],
        ["EXEC"],
        ["SET", "gone", "v", "PXAT", 1],
        ["WATCH", "gone"],
        ["SET", "gone", "new"],
        ["MULTI"],
        ["EXEC"],
      ]);
    });

    await step("a watched key that expires before EXEC fails it, deleted or not", async () => {
      // hz 1: the active expiry cycle rarely runs in time to delete the key first.
      await script(c, [["CONFIG", "SET", "hz", 1], ["SET", "short", "v", "PX", SHORT_TTL_MS]]);
      const repliedAt = Date.now();
      await c.assertSame(["WATCH", "short"]);
      // The key was still live when watched (a PTTL after WATCH is positive on both servers).
      await c.assertSame(["PTTL", "short"], { normalize: positiveAs(SHORT_TTL_MS) });
      await outlive(repliedAt, SHORT_TTL_MS);
      await script(c, [["MULTI"], ["SET", "other", "2"], ["EXEC"], ["CONFIG", "SET", "hz", 10]]);
    });

    await step("FLUSHALL and SWAPDB touch every watched key", async () => {
      await script(c, [["SET", "k", "1"], ["WATCH", "k"]]);
      await other.assertSame(["FLUSHALL"]);
      await script(c, [["MULTI"], ["SET", "k", "x"], ["EXEC"], ["WATCH", "k"]]);
      await other.assertSame(["SWAPDB", 0, 1]);
      await script(c, [["MULTI"], ["GET", "k"], ["EXEC"]]);
      await other.assertSame(["SWAPDB", 0, 1]);
    });

    await step("watching a key in another database and switching databases", async () => {
      await script(c, [
        ["SELECT", 2],
        ["WATCH", "k2"],
        ["SELECT", 0],
        ["SET", "k2", "db0"],
        ["MULTI"],
        ["PING"],
        ["EXEC"],
        ["SELECT", 2],
        ["SET", "k2", "db2"],
        ["SELECT", 0],
      ]);
      await script(c, [["WATCH", "k2"], ["SELECT", 2], ["MULTI"], ["SELECT", 0], ["EXEC"]]);
    });

    await step("SUBSCRIBE queued in MULTI answers inside EXEC's array, byte for byte", async () => {
      await both.assertSameBytes([["MULTI"], ["SUBSCRIBE", "ch"], ["PING"], ["EXEC"]]);
    });

    await step("under RESP3 an aborted EXEC is a null; replies keep RESP3 types", async () => {
      await using r3 = await both.connect();
      await r3.assertSame(["HELLO", "3"], { normalize: () => ({ type: "null" }) });
      await r3.assertSame(["SET", "h", "1"]);
      await r3.assertSame(["WATCH", "h"]);
      await other.assertSame(["SET", "h", "2"]);
      await script(r3, [["MULTI"], ["GET", "h"], ["EXEC"], ["MULTI"], ["GET", "h"], ["EXEC"]]);
    });
  });
});
