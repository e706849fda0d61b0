/**
 * The client's pub/sub: subscriptions on their own connection, messages through an async
 * iterator (RESP2 arrays and RESP3 pushes alike), patterns, binary payloads, and closing.
 */
import assert from "node:assert/strict";
import { connect, PubSubMessage } from "../../src/client/mod.ts";
import { startServer } from "../support/server.ts";
import { waitFor } from "../support/wait_for.ts";

for (const protocol of [2, 3] as const) {
  Deno.test(`subscribe yields published messages in order (RESP${protocol})`, async () => {
    await using server = await startServer();
    await using client = await connect({ port: server.port, protocol });
    await using sub = await client.subscribe("news", "sport");
    assert.equal(await client.publish("news", "first"), 1);
    await client.publish("sport", new Uint8Array([0, 255, 13, 10]));
    await client.publish("news", "third");
    const received: PubSubMessage[] = [];
    for await (const message of sub) {
      received.push(message);
      if (received.length === 3) break;
    }
    assert.deepEqual(received.map((m) => m.channel), ["news", "sport", "news"]);
    assert.equal(received[0].text, "first");
    assert.deepEqual(received[1].data, new Uint8Array([0, 255, 13, 10]));
    assert.equal(received[2].text, "third");
    assert.equal(await client.ping(), "PONG", "the client itself is not in subscriber mode");
  });
}

Deno.test("psubscribe delivers pattern messages with the pattern; unsubscribe stops delivery", async () => {
  await using server = await startServer();
  await using client = await connect({ port: server.port });
  await using patterns = await client.psubscribe("ch:*");
  assert.equal(await client.publish("ch:1", "one"), 1);
  const iterator = patterns[Symbol.asyncIterator]();
  const first = await iterator.next();
  assert.equal(first.done, false);
  assert.equal(first.value.pattern, "ch:*");
  assert.equal(first.value.channel, "ch:1");
  await using plain = await client.subscribe("a");
  await plain.subscribe("b");
  assert.equal(await client.publish("b", "x"), 1);
  await plain.unsubscribe("a", "b");
  assert.equal(await client.publish("b", "y"), 0);
});

Deno.test("closing a subscription ends its iterator and the server drops its subscriber", async () => {
  await using server = await startServer();
  await using client = await connect({ port: server.port });
  const sub = await client.subscribe("c");
  const consumed = (async () => {
    let n = 0;
    for await (const _ of sub) n++;
    return n;
  })();
  await client.publish("c", "m");
  await waitFor(async () => {
    const reply = await client.send("PUBSUB", "NUMSUB", "c");
    return Array.isArray(reply) && reply[1] === 1;
  });
  await sub.close();
  assert.ok((await consumed) <= 1);
  await waitFor(async () => (await client.publish("c", "gone")) === 0, {
    what: "the subscriber to disappear",
  });
});
