import assert from "node:assert/strict";
import { Cluster } from "../../../src/cluster/cluster.ts";
import { keySlotOfBinary } from "../../../src/cluster/key_slot.ts";
import { deleteKeysInSlots } from "../../../src/cluster/slot_keys.ts";
import { Config, defaultValues } from "../../../src/config/config.ts";
import { RequestParser } from "../../../src/resp/request_parser.ts";
import { Server } from "../../../src/server/server.ts";
import { toBinaryString } from "../../../src/util/bytes.ts";

/** A server in cluster mode (no bus) whose database 0 indexes its keys by slot. */
function clusterServer(): Server & Disposable {
  const dir = Deno.makeTempDirSync({ prefix: "slot-keys-test-" });
  const server = new Server(new Config({ ...defaultValues(), dir, "cluster-enabled": true }));
  server.cluster = Cluster.open({ ctx: server, deliver: () => {} });
  return Object.assign(server, {
    [Symbol.dispose]() {
      server.cluster?.close();
      Deno.removeSync(dir, { recursive: true });
    },
  });
}

/** The commands `chunks` of the propagation stream hold, as text arguments. */
function decode(chunks: Uint8Array[]): string[][] {
  const parser = new RequestParser(1 << 20);
  const out: string[][] = [];
  for (const chunk of chunks) {
    for (let pos = 0; pos < chunk.length;) {
      pos = parser.parse(chunk, pos, chunk.length);
      if (parser.command === null) break;
      out.push(parser.command.map((a) => toBinaryString(a)));
    }
  }
  return out;
}

Deno.test("deleteKeysInSlots deletes exactly the keys of the lost slots, each sent down the stream as a DEL", () => {
  using server = clusterServer();
  const db = server.keyspace.db(0);
  // Keys of two slots (hash tags), one of them with a TTL, and keys of other slots.
  const lost = [keySlotOfBinary("{a}"), keySlotOfBinary("{b}")];
  const gone = ["{a}1", "{a}2", "{a}3", "{b}x"];
  const kept = ["{c}1", "{d}1", "plain"];
  for (const key of [...gone, ...kept]) db.set(key, `value of ${key}`);
  db.setExpireAt("{a}2", Date.now() + 60_000);
  const chunks: Uint8Array[] = [];
  server.propagator.addSink((chunk) => chunks.push(chunk.slice()));
  assert.equal(deleteKeysInSlots(server, new Set(lost)), gone.length);
  server.propagator.flush();
  const dels = decode(chunks).filter(([name]) => name === "DEL").map(([, key]) => key);
  assert.deepEqual(dels.toSorted(), gone.toSorted());
  for (const key of gone) assert.equal(db.has(key, Date.now()), false, key);
  for (const key of kept) assert.equal(db.get(key, Date.now()), `value of ${key}`, key);
  for (const slot of lost) assert.equal(db.countKeysInSlot(slot), 0);
  assert.equal(db.size, kept.length);
});

Deno.test("deleteKeysInSlots without anyone reading the stream deletes the same keys", () => {
  using server = clusterServer();
  const db = server.keyspace.db(0);
  const slot = keySlotOfBinary("{z}");
  for (let i = 0; i < 500; i++) db.set(`{z}${i}`, "v");
  db.set("other", "v");
  assert.equal(server.propagator.active, false);
  assert.equal(deleteKeysInSlots(server, new Set([slot])), 500);
  assert.equal(db.countKeysInSlot(slot), 0);
  assert.deepEqual(db.keysInSlot(keySlotOfBinary("other"), 10), ["other"]);
});
