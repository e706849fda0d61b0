import assert from "node:assert/strict";
import { ask, startClusterNode, waitForClusterOk } from "../support/cluster.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import { waitFor } from "../support/wait_for.ts";

/** CLUSTER KEYSLOT of every `{t}...` key below. */
const SLOT = 15891;

/** A command's reply as plain values (arrays as arrays). */
async function call(port: number, ...args: (string | number)[]): Promise<unknown> {
  await using conn = await RespConn.connect(port);
  return plain(await conn.call(...args.map(String)));
}

/** The keys of `slot` as GETKEYSINSLOT lists them, and COUNTKEYSINSLOT. */
async function slotKeys(port: number, slot: number): Promise<{ keys: string[]; count: number }> {
  const keys = await call(port, "CLUSTER", "GETKEYSINSLOT", slot, 1000) as string[];
  const count = Number(await ask(port, "CLUSTER", "COUNTKEYSINSLOT", slot));
  return { keys, count };
}

Deno.test("a cluster node restarted from its AOF or its RDB knows each slot's keys", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-slot-index-" });
  try {
    const args = ["--appendonly", "yes", "--appendfsync", "always"];
    let before: { keys: string[]; count: number };
    {
      await using node = await startClusterNode({ dir, args });
      assert.equal(await ask(node.port, "CLUSTER", "KEYSLOT", "{t}"), String(SLOT));
      assert.equal(await ask(node.port, "CLUSTER", "ADDSLOTSRANGE", "0", "16383"), "OK");
      await waitForClusterOk([node.port], 1);
      for (let i = 0; i < 50; i++) assert.equal(await ask(node.port, "SET", `{t}${i}`, "v"), "OK");
      for (let i = 0; i < 50; i += 5) await ask(node.port, "DEL", `{t}${i}`);
      await ask(node.port, "SET", "{t}1", "a longer value, written in place");
      await ask(node.port, "SET", "{t}gone", "v", "PX", "1");
      await ask(node.port, "SET", "other", "v");
      await waitFor(async () => (await call(node.port, "GET", "{t}gone")) === null, {
        what: "{t}gone to expire",
      });
      before = await slotKeys(node.port, SLOT);
      assert.equal(before.count, 40);
      assert.equal(before.keys.length, 40);
      assert.equal(before.keys[0], "{t}49", "newest first");
      assert.equal(await ask(node.port, "SAVE"), "OK");
    }
    {
      // The AOF replays the writes in order: the same keys, in the same order.
      await using node = await startClusterNode({ dir, args });
      assert.deepEqual(await slotKeys(node.port, SLOT), before);
      assert.equal(await ask(node.port, "CLUSTER", "COUNTKEYSINSLOT", 11361), "1"); // other
    }
    {
      await using node = await startClusterNode({ dir });
      const loaded = await slotKeys(node.port, SLOT);
      assert.equal(loaded.count, 40);
      assert.deepEqual(new Set(loaded.keys), new Set(before.keys));
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a master whose slot is taken at a newer epoch deletes only that slot's keys", async () => {
  await using a = await startClusterNode();
  await using b = await startClusterNode();
  assert.equal(await ask(a.port, "CLUSTER", "ADDSLOTSRANGE", "0", "16383"), "OK");
  assert.equal(await ask(b.port, "CLUSTER", "MEET", "127.0.0.1", String(a.port)), "OK");
  await waitForClusterOk([a.port, b.port], 2);
  for (let i = 0; i < 30; i++) assert.equal(await ask(a.port, "SET", `{t}${i}`, "v"), "OK");
  for (let i = 0; i < 20; i++) assert.equal(await ask(a.port, "SET", `{u}${i}`, "v"), "OK");
  const otherSlot = Number(await ask(a.port, "CLUSTER", "KEYSLOT", "{u}"));
  const idA = (await ask(a.port, "CLUSTER", "MYID")).trim();
  const idB = (await ask(b.port, "CLUSTER", "MYID")).trim();
  assert.equal(await ask(b.port, "CLUSTER", "SETSLOT", SLOT, "IMPORTING", idA), "OK");
  assert.equal(await ask(b.port, "CLUSTER", "SETSLOT", SLOT, "NODE", idB), "OK");
  await waitFor(async () => (await ask(a.port, "CLUSTER", "COUNTKEYSINSLOT", SLOT)) === "0", {
    what: "A to drop the keys of the slot B took",
  });
  assert.deepEqual(await slotKeys(a.port, SLOT), { keys: [], count: 0 });
  assert.equal((await slotKeys(a.port, otherSlot)).count, 20);
  assert.equal(await ask(a.port, "DBSIZE"), "20");
});

Deno.test("a replica knows each slot's keys after a full sync", async () => {
  await using a = await startClusterNode();
  await using b = await startClusterNode();
  assert.equal(await ask(a.port, "CLUSTER", "ADDSLOTSRANGE", "0", "16383"), "OK");
  assert.equal(await ask(b.port, "CLUSTER", "MEET", "127.0.0.1", String(a.port)), "OK");
  await waitForClusterOk([a.port, b.port], 2);
  for (let i = 0; i < 30; i++) assert.equal(await ask(a.port, "SET", `{t}${i}`, "v"), "OK");
  const idA = (await ask(a.port, "CLUSTER", "MYID")).trim();
  assert.equal(await ask(b.port, "CLUSTER", "REPLICATE", idA), "OK");
  await waitFor(async () => (await ask(b.port, "CLUSTER", "COUNTKEYSINSLOT", SLOT)) === "30", {
    what: "the replica to load the master's keys",
  });
  await ask(a.port, "DEL", "{t}0");
  await ask(a.port, "SET", "{t}new", "v");
  await waitFor(async () =>
    (await ask(b.port, "DBSIZE")) === "30" &&
    (await slotKeys(b.port, SLOT)).keys[0] === "{t}new", {
    what: "the replica to apply the stream",
  });
  assert.deepEqual(
    new Set((await slotKeys(b.port, SLOT)).keys),
    new Set((await slotKeys(a.port, SLOT)).keys),
  );
});
