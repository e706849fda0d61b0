/**
 * A server whose V8 heap is nearly full refuses writes that grow memory with -OOM instead of
 * aborting (V8's "Fatal JavaScript out of memory" ended a default server after 4013 RPUSHes of
 * 1 MB, every key lost). A 256 MB heap limit makes the limit reachable in a test.
 */
import assert from "node:assert/strict";
import { plain, RespConn } from "../support/resp_conn.ts";
import { startServer } from "../support/server.ts";

Deno.test("near the JavaScript heap's limit, growing commands get -OOM and the data stays", async () => {
  await using server = await startServer({
    v8Flags: ["--max-semi-space-size=8", "--max-old-space-size=256"],
  });
  await using conn = await RespConn.connect(server.port);
  const item = new Uint8Array(1 << 20).map((_, i) => (i * 7919) % 251);
  let pushed = 0;
  let refusal = "";
  // 256 MB cannot hold 400 items of 1 MB: the guard must answer before V8 gives up.
  for (; pushed < 400; pushed++) {
    const reply = plain(await conn.call("RPUSH", `list${pushed % 4}`, item));
    if (typeof reply === "string" && reply.startsWith("-")) {
      refusal = reply;
      break;
    }
    assert.equal(reply, Math.floor(pushed / 4) + 1);
  }
  assert.equal(
    refusal,
    "-OOM command not allowed when used memory is near the JavaScript heap's limit",
  );
  assert.ok(pushed > 100, `refused after only ${pushed} items`);
  // Still serving, every acknowledged item kept; commands that do not grow memory run.
  assert.equal(plain(await conn.call("PING")), "PONG");
  let held = 0;
  for (let i = 0; i < 4; i++) held += plain(await conn.call("LLEN", `list${i}`)) as number;
  assert.equal(held, pushed);
  const first = await conn.call("LINDEX", "list0", 0);
  assert.deepEqual(first, item);
  assert.ok(server.logs.some((line) => line.includes("refusing commands that grow memory")));
  assert.equal(plain(await conn.call("DEL", "list0", "list1", "list2", "list3")), 4);
});
