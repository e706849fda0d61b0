/**
 * How the command observer times commands inside a connection's batch (src/server/observer.ts):
 * bounded-cost commands in chunks of eight per clock read, anything else alone. The server runs
 * in-process on a fake monotonic clock that counts its reads; a wrapped KEYS handler stands in
 * for a slow command by moving that clock forward while it runs.
 */
import assert from "node:assert/strict";
import { dispatch } from "../../../src/commands/dispatch.ts";
import type { Command, Handler } from "../../../src/commands/registry.ts";
import { Config, defaultValues } from "../../../src/config/config.ts";
import { LATENCY_BOUNDS_US } from "../../../src/metrics/latency.ts";
import { ClientState } from "../../../src/server/client.ts";
import { CHUNK } from "../../../src/server/observer.ts";
import { Server } from "../../../src/server/server.ts";
import { fromBinaryString, toBinaryString } from "../../../src/util/bytes.ts";
import { useMonotonicClock, withBatchTime } from "../../../src/util/clock.ts";

/** A server with the metrics timing on (as `metrics-port` does) and a fake monotonic clock. */
function setup(slowerThanMicros = 10_000) {
  const values = { ...defaultValues(), "slowlog-log-slower-than": slowerThanMicros };
  const server = new Server(new Config(values));
  const client = new ClientState(1, "127.0.0.1:1", "127.0.0.1:2", true);
  const clock = { ms: 1000, reads: 0 };
  const restore = useMonotonicClock(() => {
    clock.reads++;
    return clock.ms;
  });
  /** Runs `commands` as one pipelined batch of a connection. */
  const batch = (...commands: string[][]): void => {
    server.observer.beginBatch();
    withBatchTime(() => {
      for (const words of commands) dispatch(server, client, words.map(fromBinaryString));
    });
    server.observer.endBatch();
  };
  const command = (name: string): Command => server.commands.get(name) as Command;
  /** Makes `name` take `ms` of the fake clock each time it runs. */
  const slowDown = (name: string, ms: number): void => {
    const cmd = command(name) as unknown as { handler: Handler };
    const inner = cmd.handler;
    cmd.handler = (ctx, c, argv) => {
      clock.ms += ms;
      return inner(ctx, c, argv);
    };
  };
  /** The histogram slot (0-based; the last is +Inf) holding each recorded call of `name`. */
  const slots = (name: string): number[] => {
    const id = command(name).id;
    const found: number[] = [];
    for (let slot = 0; slot <= LATENCY_BOUNDS_US.length; slot++) {
      for (let k = 0; k < server.observer.latency.bucket(id, slot); k++) found.push(slot);
    }
    return found;
  };
  const count = (name: string): number => server.observer.latency.counts[command(name).id];
  const sum = (name: string): number => server.observer.latency.sums[command(name).id];
  const slowlogged = (): string[] =>
    server.observer.slowlog.newest(100).reverse().map((e) =>
      e.argv.map((a) => toBinaryString(a)).join(" ")
    );
  return {
    server,
    clock,
    batch,
    slowDown,
    slots,
    count,
    sum,
    slowlogged,
    [Symbol.dispose]: restore,
  };
}

const SLOT_OF = (micros: number) => LATENCY_BOUNDS_US.findIndex((bound) => micros <= bound);

/** Asserts `actual` is `expected` but for floating-point rounding. */
function assertNear(actual: number, expected: number, message?: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-6, message ?? `${actual} is not ${expected}`);
}

Deno.test("bounded-cost commands of a batch are all counted, with one clock read per chunk", () => {
  using t = setup();
  const sets = Array.from({ length: 20 }, (_, i) => ["SET", `k${i}`, "v"]);
  t.batch(...sets, ["GET", "k1"], ["INCR", "n"]);
  assert.equal(t.count("set"), 20);
  assert.equal(t.count("get"), 1);
  assert.equal(t.count("incr"), 1);
  // 22 commands: a read opening the batch's first chunk, one per full chunk, one at its end.
  assert.equal(t.clock.reads, 1 + Math.floor(22 / CHUNK) + 1);
  assert.deepEqual(t.slots("set"), new Array(20).fill(0), "an instant chunk: all in 10 µs");
});

Deno.test("a command without a bounded cost is timed alone and closes the chunk before it", () => {
  using t = setup();
  t.slowDown("keys", 40);
  t.slowDown("incr", 0.003);
  t.batch(["SET", "a", "1"], ["INCR", "n"], ["KEYS", "*"], ["SET", "b", "2"]);
  assert.deepEqual(t.slots("keys"), [SLOT_OF(40_000)], "KEYS is charged its own 40 ms");
  assertNear(t.sum("keys"), 40_000);
  // The chunk before KEYS took INCR's 3 µs, split between SET and INCR; none of KEYS' time.
  assert.deepEqual(t.slots("set"), [0, 0]);
  assertNear(t.sum("incr"), 1.5);
  assert.deepEqual(t.slowlogged(), ["KEYS *"], "only KEYS reaches the 10 ms slow log");
});

Deno.test("a chunk that took long spreads its time over its commands", () => {
  using t = setup();
  t.slowDown("incr", 0.08);
  t.batch(["SET", "a", "1"], ["INCR", "n"], ["SET", "b", "2"], ["GET", "a"]);
  // 80 µs over four commands: each is recorded with 20 µs, in the 25 µs bucket.
  assert.deepEqual(t.slots("set"), [SLOT_OF(20), SLOT_OF(20)]);
  assert.deepEqual(t.slots("incr"), [SLOT_OF(20)]);
  assertNear(t.sum("get"), 20);
});

Deno.test("EXEC of bounded-cost commands goes with the chunk; EXEC with KEYS is timed alone", () => {
  using t = setup();
  t.batch(["MULTI"], ["SET", "a", "1"], ["INCR", "n"], ["EXEC"]);
  assert.equal(t.clock.reads, 2, "the batch's start and end only");
  assert.equal(t.count("exec"), 1);
  assert.equal(t.count("set"), 1);
  t.slowDown("keys", 30);
  t.clock.reads = 0;
  t.batch(["MULTI"], ["SET", "b", "2"], ["KEYS", "*"], ["EXEC"]);
  assert.deepEqual(t.slots("exec"), [0, SLOT_OF(30_000)], "the second EXEC took KEYS' 30 ms");
  assert.deepEqual(t.slots("keys"), [SLOT_OF(30_000)]);
  // MULTI opens a chunk (1), EXEC reads before and after itself (2), and so does KEYS inside
  // it (2), closing the chunk of the inner SET.
  assert.equal(t.clock.reads, 5);
});

Deno.test("with a slow log threshold of 0 every command is logged in the order it ran", () => {
  using t = setup(0);
  t.batch(["SET", "a", "1"], ["KEYS", "*"], ["GET", "a"], ["MULTI"], ["INCR", "n"], ["EXEC"]);
  assert.deepEqual(t.slowlogged(), ["SET a 1", "KEYS *", "GET a", "MULTI", "INCR n"]);
});

Deno.test("outside a batch every command reads the clock before and after itself", () => {
  using t = setup();
  t.slowDown("get", 0.02);
  dispatch(t.server, new ClientState(2, "127.0.0.1:3", "127.0.0.1:2", true), [
    fromBinaryString("GET"),
    fromBinaryString("x"),
  ]);
  assert.equal(t.clock.reads, 2);
  assert.deepEqual(t.slots("get"), [SLOT_OF(20)]);
});
