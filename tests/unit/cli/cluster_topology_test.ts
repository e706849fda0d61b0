import assert from "node:assert/strict";
import { readTopology } from "../../../src/cli/cluster_topology.ts";
import { UsageError } from "../../../src/cli/usage.ts";

const SAMPLE = new URL("../../../config/topology/cluster.yaml", import.meta.url).pathname;

Deno.test("the sample topology reads as three shards with their followers and priorities", async () => {
  const shards = await readTopology(SAMPLE);
  assert.deepEqual(shards.map((s) => s.name), ["alpha", "beta", "gamma"]);
  assert.deepEqual(shards[0], {
    name: "alpha",
    leader: "127.0.0.1:7000",
    followers: [{ address: "127.0.0.1:7003", priority: 10 }],
  });
  assert.deepEqual(shards[2].followers, [{ address: "127.0.0.1:7005", priority: undefined }]);
});

Deno.test("a topology file that cannot describe a cluster is refused naming what is wrong", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string, RegExp][] = [
      ["nodes: []", /expected a 'shards' list/],
      ["shards: [{leader: 'a:1'}, {leader: 'b:2'}]", /at least 3 shards, found 2/],
      ["shards: [{leader: 'a:1'}, {leader: 'b:2'}, {leader: 'c'}]", /'c' is not HOST:PORT/],
      [
        "shards: [{name: x, leader: 'a:1'}, {name: x, leader: 'b:2'}, {leader: 'c:3'}]",
        /shard names must differ/,
      ],
      [
        "shards: [{leader: 'a:1', followers: [{address: 'd:4', priority: -1}]}, " +
        "{leader: 'b:2'}, {leader: 'c:3'}]",
        /shards\[0\]\.followers\[0\]\.priority must be a non-negative integer/,
      ],
      ["shards: [{leader: 7}]", /shards\[0\]\.leader must be HOST:PORT/],
      ["shards: [", /cluster\.yaml/],
    ];
    for (const [text, expected] of cases) {
      await Deno.writeTextFile(`${dir}/cluster.yaml`, text);
      await assert.rejects(() => readTopology(`${dir}/cluster.yaml`), (e: unknown) => {
        assert.ok(e instanceof UsageError, String(e));
        assert.match(e.message, expected);
        return true;
      }, text);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
