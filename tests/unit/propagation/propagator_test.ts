import assert from "node:assert/strict";
import { dispatch } from "../../../src/commands/dispatch.ts";
import { Config, defaultValues } from "../../../src/config/config.ts";
import { OK } from "../../../src/resp/reply.ts";
import { RequestParser } from "../../../src/resp/request_parser.ts";
import { ClientState } from "../../../src/server/client.ts";
import { Server } from "../../../src/server/server.ts";
import { fromBinaryString, toBinaryString } from "../../../src/util/bytes.ts";
import { useClock } from "../../../src/util/clock.ts";

const T0 = 1_700_000_000_000;

/** A server with a sink on its propagation stream, a client and a fake clock. */
function setup() {
  const server = new Server(new Config(defaultValues()));
  const client = new ClientState(1, "127.0.0.1:1", "127.0.0.1:2", true);
  const clock = { t: T0 };
  const restore = useClock({ now: () => clock.t });
  const chunks: Uint8Array[] = [];
  server.propagator.addSink((chunk) => chunks.push(chunk.slice()));
  const run = (...args: (string | number)[]) =>
    dispatch(server, client, args.map((a) => fromBinaryString(String(a))));
  /** Everything propagated since the last call, decoded into commands of text arguments. */
  const stream = (): string[][] => {
    server.propagator.flush();
    const parser = new RequestParser(1 << 20);
    const out: string[][] = [];
    for (const chunk of chunks.splice(0)) {
      for (let pos = 0; pos < chunk.length;) {
        pos = parser.parse(chunk, pos, chunk.length);
        if (parser.command === null) break;
        out.push(parser.command.map((a) => toBinaryString(a)));
      }
    }
    return out;
  };
  return { server, clock, run, stream, [Symbol.dispose]: restore };
}

Deno.test("writes that change the dataset are propagated as sent, after a SELECT", () => {
  using s = setup();
  s.run("SET", "k", "v");
  s.run("INCR", "n");
  s.run("MSET", "a", "1", "b", "2");
  s.run("APPEND", "k", "w");
  assert.deepEqual(s.stream(), [
    ["SELECT", "0"],
    ["SET", "k", "v"],
    ["INCR", "n"],
    ["MSET", "a", "1", "b", "2"],
    ["APPEND", "k", "w"],
  ]);
});

Deno.test("reads, failed writes and writes that change nothing are not propagated", () => {
  using s = setup();
  s.run("SET", "k", "v");
  s.stream();
  s.run("GET", "k");
  s.run("SET", "k", "x", "NX");
  s.run("INCR", "k");
  s.run("DEL", "missing");
  s.run("PERSIST", "k");
  s.run("EXPIRE", "missing", 10);
  s.run("GETEX", "k", "PERSIST");
  assert.deepEqual(s.stream(), []);
});

Deno.test("relative expiry times are propagated as absolute PXAT and PEXPIREAT", () => {
  using s = setup();
  s.run("SET", "a", "1", "EX", 10);
  s.run("SET", "b", "2", "PX", 500, "GET");
  s.run("SETEX", "c", 5, "3");
  s.run("PSETEX", "d", 700, "4");
  s.run("EXPIRE", "a", 20, "GT");
  s.run("PEXPIRE", "b", 1000);
  s.run("EXPIREAT", "c", T0 / 1000 + 60);
  s.run("GETEX", "d", "EX", 30);
  assert.deepEqual(s.stream(), [
    ["SELECT", "0"],
    ["SET", "a", "1", "PXAT", String(T0 + 10_000)],
    ["SET", "b", "2", "PXAT", String(T0 + 500)],
    ["SET", "c", "3", "PXAT", String(T0 + 5_000)],
    ["SET", "d", "4", "PXAT", String(T0 + 700)],
    ["PEXPIREAT", "a", String(T0 + 20_000), "GT"],
    ["PEXPIREAT", "b", String(T0 + 1_000)],
    ["PEXPIREAT", "c", String(T0 + 60_000)],
    ["PEXPIREAT", "d", String(T0 + 30_000)],
  ]);
});

Deno.test("deleting forms are propagated as DEL, INCRBYFLOAT as its result", () => {
  using s = setup();
  s.run("SET", "a", "1");
  s.run("SET", "b", "2");
  s.run("SET", "f", "1.5");
  s.stream();
  s.run("GETDEL", "a");
  s.run("EXPIRE", "b", -1);
  s.run("INCRBYFLOAT", "f", "0.25");
  s.run("SET", "g", "x", "GET");
  s.run("GETEX", "g", "PERSIST");
  assert.deepEqual(s.stream(), [
    ["DEL", "a"],
    ["DEL", "b"],
    ["SET", "f", "1.75", "KEEPTTL"],
    ["SET", "g", "x"],
  ]);
});

Deno.test("keys removed by expiry or eviction are propagated as DEL where it happens", () => {
  using s = setup();
  s.run("SELECT", 3);
  s.run("SET", "t", "v", "PX", 100);
  s.stream();
  s.clock.t = T0 + 200;
  assert.equal(s.run("GET", "t"), null);
  s.run("SELECT", 0);
  s.run("SET", "x", "1");
  s.server.config.set([["maxkeys", "1"], ["maxmemory-policy", "allkeys-lru"]]);
  s.run("SET", "y", "2");
  // Limits are enforced before each command, as in Redis: the next one makes room.
  s.run("PING");
  assert.deepEqual(s.stream(), [
    ["DEL", "t"],
    ["SELECT", "0"],
    ["SET", "x", "1"],
    ["SET", "y", "2"],
    ["DEL", "x"],
  ]);
});

Deno.test("database-wide writes are propagated even on empty databases", () => {
  using s = setup();
  s.run("FLUSHALL");
  s.run("SWAPDB", 0, 1);
  s.run("FLUSHDB");
  assert.deepEqual(s.stream(), [["SELECT", "0"], ["FLUSHALL"], ["SWAPDB", "0", "1"], [
    "FLUSHDB",
  ]]);
});

Deno.test("nothing is encoded while no sink listens or while suppressed", () => {
  const server = new Server(new Config(defaultValues()));
  const client = new ClientState(1, "127.0.0.1:1", "127.0.0.1:2", true);
  dispatch(server, client, [fromBinaryString("SET"), fromBinaryString("k"), fromBinaryString("v")]);
  assert.equal(server.propagator.pendingBytes, 0);
  const chunks: Uint8Array[] = [];
  server.propagator.addSink((c) => chunks.push(c.slice()));
  server.propagator.suppressed(() =>
    dispatch(server, client, [
      fromBinaryString("SET"),
      fromBinaryString("k"),
      fromBinaryString("w"),
    ])
  );
  server.propagator.flush();
  assert.equal(chunks.length, 0);
});

Deno.test("a transaction's writes are propagated as one MULTI ... EXEC block", () => {
  using s = setup();
  s.run("SET", "before", "1");
  s.stream();
  s.run("MULTI");
  s.run("SET", "a", "1");
  s.run("GET", "a");
  s.run("INCR", "n");
  s.run("SELECT", 2);
  s.run("SET", "b", "2", "EX", 10);
  assert.deepEqual(s.run("EXEC"), [OK, "1", 1, OK, OK]);
  s.run("MULTI");
  s.run("GET", "a");
  s.run("EXEC");
  assert.deepEqual(s.stream(), [
    ["MULTI"],
    ["SET", "a", "1"],
    ["INCR", "n"],
    ["SELECT", "2"],
    ["SET", "b", "2", "PXAT", String(T0 + 10_000)],
    ["EXEC"],
  ], "a read-only transaction propagates nothing");
});

Deno.test("a transaction or rewrite that propagates one command sends it alone, as Redis 7.0", () => {
  using s = setup();
  s.run("SET", "before", "1");
  s.stream();
  s.run("MULTI");
  s.run("GET", "before");
  s.run("SELECT", 3);
  s.run("SET", "a", "1");
  s.run("GET", "a");
  s.run("EXEC");
  assert.deepEqual(
    s.stream(),
    [["SELECT", "3"], ["SET", "a", "1"]],
    "no MULTI/EXEC around one write",
  );
  // SPOP with a count rewrites into one SREM per member: several go out as a block.
  s.run("SADD", "s", "x", "y");
  s.stream();
  s.run("SPOP", "s", 1);
  const one = s.stream();
  assert.equal(one.length, 1, "one member popped: one SREM, alone");
  assert.equal(one[0][0], "SREM");
  s.run("SADD", "s", "x", "y", "z");
  s.run("SPOP", "s", 2);
  const two = s.stream();
  assert.deepEqual(two.map((c) => c[0]), ["SADD", "MULTI", "SREM", "SREM", "EXEC"]);
});

Deno.test("an open block reaches no flush; a dropped block leaves nothing and the next SELECT right", () => {
  using s = setup();
  s.run("SET", "a", "1");
  assert.deepEqual(s.stream(), [["SELECT", "0"], ["SET", "a", "1"]]);
  const propagator = s.server.propagator;
  // A block spanning event-loop turns (a script past the busy threshold): flushes meanwhile
  // send nothing of it.
  propagator.beginBlock();
  propagator.command(0, ["SET", "b", "2"]);
  propagator.command(3, ["SET", "c", "3"]);
  assert.deepEqual(s.stream(), []);
  propagator.endBlock();
  assert.deepEqual(s.stream(), [
    ["MULTI"],
    ["SET", "b", "2"],
    ["SELECT", "3"],
    ["SET", "c", "3"],
    ["EXEC"],
  ]);
  // Dropped (a shutdown cut the script short): nothing of it, and the stream still knows it
  // is in database 3, not the 0 the dropped block switched to.
  propagator.beginBlock();
  propagator.command(0, ["SET", "d", "4"]);
  propagator.command(0, ["SET", "e", "5"]);
  propagator.discardBlock();
  assert.equal(propagator.inBlock, false);
  propagator.command(0, ["SET", "f", "6"]);
  assert.deepEqual(s.stream(), [["SELECT", "0"], ["SET", "f", "6"]]);
});
