/**
 * What `gocache bench` sends: requests built from templates are well-formed RESP commands, keys
 * are drawn below the key space, and the mixed test follows its GET:SET ratio.
 */
import assert from "node:assert/strict";
import { parseRatio, RequestBuilder, type Workload } from "../../../src/cli/bench_workload.ts";
import { split } from "../../../src/cli/bench_pool.ts";
import { ReplyDecoder, type RespValue } from "../../../src/resp/reply_decoder.ts";

const text = new TextDecoder();

function build(workload: Partial<Workload>, count: number): string[][] {
  const pipeline = Math.min(count, 16);
  const builder = new RequestBuilder({
    test: "set",
    dataSize: 3,
    keyspace: 0,
    zipf: 0,
    getShare: 0.5,
    ...workload,
  }, pipeline);
  const decoder = new ReplyDecoder();
  for (let left = count; left > 0; left -= pipeline) {
    decoder.push(builder.next(Math.min(pipeline, left)).slice());
  }
  const commands: string[][] = [];
  for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) {
    commands.push((frame as RespValue[]).map((arg) => text.decode(arg as Uint8Array)));
  }
  return commands;
}

Deno.test("without a key space every request uses redis-benchmark's literal key", () => {
  const commands = build({ test: "set", dataSize: 5 }, 3);
  assert.deepEqual(commands, Array(3).fill(["SET", "key:__rand_int__", "xxxxx"]));
  assert.deepEqual(build({ test: "incr" }, 1), [["INCR", "counter:__rand_int__"]]);
  assert.deepEqual(build({ test: "ping" }, 2), [["PING"], ["PING"]]);
});

Deno.test("with -r every key is a 12-digit number below the key space, MSET has 10 keys", () => {
  const commands = build({ test: "mset", keyspace: 1000 }, 200);
  assert.equal(commands.length, 200);
  const seen = new Set<string>();
  for (const command of commands) {
    assert.equal(command.length, 21);
    for (let i = 1; i < 21; i += 2) {
      assert.match(command[i], /^key:\d{12}$/);
      assert.ok(Number(command[i].slice(4)) < 1000);
      seen.add(command[i]);
    }
  }
  assert.ok(seen.size > 500, "keys are spread over the key space");
});

Deno.test("Zipf keys concentrate on the first ranks", () => {
  // With s = 1.2 over 10,000 keys the 10 hottest take 51.4% of the draws (0.1% if uniform).
  // 50,000 draws put 49% about 11 standard deviations below that: a miss is a real fault.
  const draws = 50_000;
  const commands = build({ test: "get", keyspace: 10_000, zipf: 1.2 }, draws);
  const hot = commands.filter((c) => Number(c[1].slice(4)) < 10).length;
  assert.ok(hot > 0.49 * draws, `${hot} of ${draws} requests hit the 10 hottest keys`);
});

Deno.test("the mixed test follows --ratio", () => {
  const share = parseRatio("9:1");
  assert.equal(share, 0.9);
  const commands = build({ test: "mixed", getShare: share ?? 0 }, 10_000);
  const gets = commands.filter((c) => c[0] === "GET").length;
  assert.ok(gets > 8700 && gets < 9300, `${gets} GETs`);
  assert.equal(parseRatio("1:0"), 1);
  assert.equal(parseRatio("0:0"), null);
  assert.equal(parseRatio("x"), null);
});

Deno.test("connections and requests split across threads add up exactly", () => {
  assert.deepEqual(split(50, 3), [17, 17, 16]);
  assert.deepEqual(split(2, 4), [1, 1, 0, 0]);
});
