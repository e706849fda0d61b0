/**
 * Pub/Sub on a real server: a subscriber that never reads is closed at the `pubsub` class's hard
 * output limit while the server's memory stays bounded and a reading subscriber receives every
 * message; a subscriber's subscriptions vanish when it disconnects.
 */
import assert from "node:assert/strict";
import { RespConn } from "../support/resp_conn.ts";
import { startServer } from "../support/server.ts";
import { waitFor } from "../support/wait_for.ts";
import { encodeCommand } from "../../src/resp/reply_decoder.ts";

const MESSAGE_BYTES = 64 * 1024;
const MESSAGES = 1500; // ~94 MB published: far more than the limit and the socket buffers.
const HARD_LIMIT = 1024 * 1024;

async function infoField(conn: RespConn, section: string, field: string): Promise<number> {
  const reply = await conn.call("INFO", section);
  const text = new TextDecoder().decode(reply as Uint8Array);
  const match = text.match(new RegExp(`^${field}:(\\d+)`, "m"));
  assert.ok(match, `INFO ${section} has ${field}`);
  return Number(match[1]);
}

Deno.test("a subscriber that never reads is closed at the pubsub hard limit, others get everything", async () => {
  await using server = await startServer();
  await using admin = await RespConn.connect(server.port);
  await admin.call("CONFIG", "SET", "client-output-buffer-limit", `pubsub ${HARD_LIMIT} 0 0`);
  const heapBefore = await infoField(admin, "memory", "used_memory_heap");

  // The slow subscriber subscribes, then never reads again.
  const slow = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await slow.write(encodeCommand(["SUBSCRIBE", "feed"]));
    await using fast = await RespConn.connect(server.port);
    await fast.call("SUBSCRIBE", "feed");
    await waitFor(async () => {
      const reply = await admin.call("PUBSUB", "NUMSUB", "feed");
      return Array.isArray(reply) && reply[1] === 2;
    }, { what: "both subscribers" });

    const received = (async () => {
      for (let i = 0; i < MESSAGES; i++) {
        const frame = await fast.read(30_000);
        assert.ok(Array.isArray(frame), "a message frame");
        const payload = frame[2] as Uint8Array;
        assert.equal(payload.length, MESSAGE_BYTES);
        assert.equal(new DataView(payload.buffer, payload.byteOffset).getUint32(0), i);
      }
    })();

    await using pub = await RespConn.connect(server.port);
    const payload = new Uint8Array(MESSAGE_BYTES).fill(0x61);
    const counts: number[] = [];
    let peakHeap = 0;
    for (let i = 0; i < MESSAGES; i++) {
      new DataView(payload.buffer).setUint32(0, i);
      counts.push(Number(await pub.call("PUBLISH", "feed", payload)));
      if (i % 100 === 0) {
        peakHeap = Math.max(peakHeap, await infoField(admin, "memory", "used_memory_heap"));
      }
    }
    await received;

    assert.equal(counts[0], 2, "both subscribers counted at first");
    assert.equal(counts.at(-1), 1, "only the reading subscriber is left");
    assert.equal(await infoField(admin, "stats", "client_output_buffer_limit_disconnections"), 1);
    const published = MESSAGES * MESSAGE_BYTES;
    assert.ok(
      peakHeap - heapBefore < published / 4,
      `heap grew by ${peakHeap - heapBefore} bytes while ${published} bytes were published`,
    );
    const reply = await admin.call("PUBSUB", "NUMSUB", "feed");
    assert.deepEqual(reply, [new TextEncoder().encode("feed"), 1]);
  } finally {
    try {
      slow.close();
    } catch {
      // Closed by the server already.
    }
  }
});

Deno.test("subscriptions vanish when the subscriber disconnects", async () => {
  await using server = await startServer();
  await using admin = await RespConn.connect(server.port);
  const numsub = async () => {
    const reply = await admin.call("PUBSUB", "NUMSUB", "a");
    return Array.isArray(reply) ? Number(reply[1]) : -1;
  };
  const sub = await RespConn.connect(server.port);
  await sub.send("SUBSCRIBE", "a", "b");
  await sub.read();
  await sub.read();
  await sub.call("PSUBSCRIBE", "a*");
  await sub.call("SSUBSCRIBE", "a");
  assert.equal(await numsub(), 1);
  assert.equal(await admin.call("PUBSUB", "NUMPAT"), 1);
  sub.close();
  await waitFor(async () => (await numsub()) === 0, { what: "NUMSUB to drop to 0" });
  assert.equal(await admin.call("PUBSUB", "NUMPAT"), 0);
  assert.deepEqual(await admin.call("PUBSUB", "SHARDCHANNELS"), []);
  assert.equal(await admin.call("PUBLISH", "a", "x"), 0);
});
