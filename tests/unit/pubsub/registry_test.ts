/**
 * The subscription registry and the hub on top of it, without sockets: fake sinks record the
 * frames a client would receive.
 */
import assert from "node:assert/strict";
import { SubscriptionRegistry } from "../../../src/pubsub/registry.ts";
import { type MessageSink, PubSubHub } from "../../../src/pubsub/hub.ts";
import {
  isSubscriber,
  outputLimitClass,
  subscriberPong,
  subscriberRefusal,
} from "../../../src/pubsub/subscriber_mode.ts";
import { pubsubCommands } from "../../../src/commands/pubsub.ts";
import { connectionCommands } from "../../../src/commands/connection.ts";
import { CommandTable } from "../../../src/commands/registry.ts";
import { encodeReply, type Protocol } from "../../../src/resp/encoder.ts";
import { ErrorReply, type Reply } from "../../../src/resp/reply.ts";
import { ByteBuffer } from "../../../src/util/bytes.ts";
import { ClientState } from "../../../src/server/client.ts";
import { bytes, text } from "../../support/bytes.ts";

/** The wire form of each reply, as the client's connection would encode it. */
function wire(replies: readonly Reply[], proto: Protocol): string[] {
  return replies.map((reply) => {
    const out = new ByteBuffer(64);
    encodeReply(out, reply, proto);
    return text(out.view());
  });
}

class FakeSink implements MessageSink {
  readonly state: ClientState;
  readonly frames: string[] = [];
  constructor(id: number) {
    this.state = new ClientState(id, "127.0.0.1:1", "127.0.0.1:2", true);
  }
  pushFrame(frame: Uint8Array): void {
    this.frames.push(text(frame));
  }
}

Deno.test("the registry indexes subscriptions both ways and forgets empty names", () => {
  const r = new SubscriptionRegistry();
  assert.equal(r.add(1, "channel", "a"), true);
  assert.equal(r.add(1, "channel", "a"), false);
  assert.equal(r.add(2, "channel", "a"), true);
  assert.equal(r.add(1, "pattern", "a*"), true);
  assert.deepEqual([...r.subscribers("channel", "a")!.ids], [1, 2]);
  assert.equal(r.countOf(1, "channel"), 1);
  assert.equal(r.countOf(1, "pattern"), 1);
  assert.equal(r.countOf(1, "shard"), 0);
  assert.equal(r.remove(1, "channel", "nope"), false);
  assert.equal(r.remove(1, "channel", "a"), true);
  assert.deepEqual([...r.subscribers("channel", "a")!.ids], [2]);
  assert.equal(r.remove(2, "channel", "a"), true);
  assert.equal(r.subscribers("channel", "a"), undefined);
  assert.equal(r.size("channel"), 0);
  assert.equal(r.has(1), true);
  r.remove(1, "pattern", "a*");
  assert.equal(r.has(1), false);
});

Deno.test("the registry keeps binary names and a client's names in subscription order", () => {
  const r = new SubscriptionRegistry();
  const name = text(new Uint8Array([0, 0xff, 13, 10]));
  r.add(7, "shard", "z");
  r.add(7, "shard", name);
  r.add(7, "shard", "a");
  assert.deepEqual(r.namesOf(7, "shard"), ["z", name, "a"]);
  assert.deepEqual([...r.subscribers("shard", name)!.bytes], [0, 0xff, 13, 10]);
});

Deno.test("the hub confirms, counts receivers and encodes per protocol", () => {
  const hub = new PubSubHub();
  const a = new FakeSink(1);
  const b = new FakeSink(2);
  b.state.proto = 3;
  hub.attach(a);
  hub.attach(b);
  const confirmedA = [
    ...hub.subscribe(a.state, "channel", [bytes("news")]),
    ...hub.subscribe(a.state, "pattern", [bytes("n*")]),
  ];
  const confirmedB = hub.subscribe(b.state, "channel", [bytes("news")]);
  assert.deepEqual(wire(confirmedA, 2), [
    "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n",
    "*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:2\r\n",
  ]);
  assert.deepEqual(wire(confirmedB, 3), [">3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"]);
  assert.deepEqual(a.frames, [], "confirmations are replies, not out-of-band frames");
  assert.equal(a.state.subscribedChannels, 1);
  assert.equal(a.state.subscribedPatterns, 1);
  assert.equal(hub.publish("channel", bytes("news"), bytes("hi")), 3);
  assert.equal(a.frames.at(-2), "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n");
  assert.equal(a.frames.at(-1), "*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n");
  assert.equal(b.frames.at(-1), ">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n");
  assert.equal(hub.publish("shard", bytes("news"), bytes("x")), 0, "shard space is separate");
  assert.equal(hub.subscriberCount("channel", bytes("news")), 2);
  assert.equal(hub.patternCount, 1);
  assert.deepEqual(hub.channels("channel", bytes("x*")), []);
  hub.detach(b.state);
  assert.equal(hub.subscriberCount("channel", bytes("news")), 1);
  const unsubscribed = [
    ...hub.unsubscribe(a.state, "channel", []),
    ...hub.unsubscribe(a.state, "pattern", []),
    ...hub.unsubscribe(a.state, "pattern", []),
  ];
  assert.deepEqual(wire(unsubscribed, 2), [
    "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:1\r\n",
    "*3\r\n$12\r\npunsubscribe\r\n$2\r\nn*\r\n:0\r\n",
    "*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n",
  ]);
  assert.equal(isSubscriber(a.state), false);
});

Deno.test("subscriber mode refuses commands only under RESP2 and changes PING and the limit class", () => {
  const table = new CommandTable([...connectionCommands, ...pubsubCommands]);
  const hub = new PubSubHub();
  const sink = new FakeSink(1);
  hub.attach(sink);
  const client = sink.state;
  const publish = table.get("publish")!;
  assert.equal(subscriberRefusal(client, publish), null);
  assert.equal(outputLimitClass(client), "normal");
  hub.subscribe(client, "shard", [bytes("s")]);
  const refusal = subscriberRefusal(client, publish);
  assert.ok(refusal instanceof ErrorReply);
  assert.equal(
    refusal.message,
    "ERR Can't execute 'publish': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET " +
      "are allowed in this context",
  );
  const numpat = table.get("pubsub")!.subcommandIndex!.get(bytes("numpat"))!;
  assert.match((subscriberRefusal(client, numpat) as ErrorReply).message, /'pubsub\|numpat'/);
  for (const name of ["ping", "quit", "reset", "subscribe", "sunsubscribe", "punsubscribe"]) {
    assert.equal(subscriberRefusal(client, table.get(name)!), null, name);
  }
  assert.deepEqual(subscriberPong(client, [bytes("ping")]), ["pong", ""]);
  assert.equal(outputLimitClass(client), "pubsub");
  client.proto = 3;
  assert.equal(subscriberRefusal(client, publish), null);
  assert.equal(subscriberPong(client, [bytes("ping")]), null);
  hub.dropAll(client);
  assert.equal(outputLimitClass(client), "normal");
  assert.equal(sink.frames.length, 0, "dropAll sends no confirmations");
});
