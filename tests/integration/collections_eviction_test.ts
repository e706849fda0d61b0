/**
 * Collections count in `used_memory` and are evicted like strings: under `maxmemory` with an
 * allkeys policy, filling hashes, lists, sets and sorted sets far past the limit evicts whole
 * keys, keeps `used_memory` near the limit, and leaves the remaining keys intact.
 */
import assert from "node:assert/strict";
import { startServer } from "../support/server.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import { pipelined } from "../support/replication.ts";

function infoField(info: string, name: string): number {
  const match = info.match(new RegExp(`^${name}:(\\d+)`, "m"));
  assert.ok(match, name);
  return Number(match[1]);
}

Deno.test("collections are counted in used_memory and evicted whole under maxmemory", async () => {
  await using server = await startServer({ args: ["--maxmemory-policy", "allkeys-lru"] });
  await using c = await RespConn.connect(server.port);
  // The limit sits 1 MB above what the empty server already counts.
  const base = infoField(String(plain(await c.call("INFO", "memory"))), "used_memory");
  await c.call("CONFIG", "SET", "maxmemory", base + 1024 * 1024);
  const commands: (string | number)[][] = [];
  for (let k = 0; k < 4000; k++) {
    const fields: (string | number)[] = [];
    for (let i = 0; i < 20; i++) fields.push(`member-${i}`, `value-${k}-${i}`);
    const kind = k % 4;
    if (kind === 0) commands.push(["HSET", `h:${k}`, ...fields]);
    else if (kind === 1) commands.push(["RPUSH", `l:${k}`, ...fields]);
    else if (kind === 2) commands.push(["SADD", `s:${k}`, ...fields]);
    else commands.push(["ZADD", `z:${k}`, ...fields.map((f, i) => (i % 2 === 0 ? i : f))]);
  }
  const replies = await pipelined(c, commands);
  assert.ok(replies.every((r) => typeof r === "number"), "no write refused: keys are evicted");
  const info = String(plain(await c.call("INFO", "everything")));
  assert.ok(infoField(info, "evicted_keys") > 0, "keys were evicted");
  const used = infoField(info, "used_memory");
  assert.ok(used <= 1024 * 1024 + base, `used_memory ${used} stays within the limit`);
  const size = plain(await c.call("DBSIZE")) as number;
  assert.ok(size > 0 && size < 4000, `some keys remain (${size})`);
  // The survivors are whole: 20 fields or members (hashes, sorted sets), 40 items (lists, sets).
  const keys = plain(await c.call("KEYS", "*")) as string[];
  for (const key of keys.slice(0, 50)) {
    const type = plain(await c.call("TYPE", key));
    const length = type === "hash"
      ? await c.call("HLEN", key)
      : type === "list"
      ? await c.call("LLEN", key)
      : type === "set"
      ? await c.call("SCARD", key)
      : await c.call("ZCARD", key);
    assert.equal(plain(length), type === "hash" || type === "zset" ? 20 : 40, key);
  }
  // MEMORY USAGE of a collection grows with its elements.
  const small = plain(await c.call("MEMORY", "USAGE", keys[0])) as number;
  await c.call("DEL", "big");
  await c.call("RPUSH", "big", ...Array.from({ length: 200 }, (_, i) => `item-${i}`));
  assert.ok((plain(await c.call("MEMORY", "USAGE", "big")) as number) > small);
});
