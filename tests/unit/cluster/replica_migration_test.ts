/**
 * Replica migration's decision (Redis's clusterHandleSlaveMigration) on a cluster state with
 * the move replaced by a recorder: only the replica with the smallest id of the master with the
 * most working replicas moves, only to a master that had replicas (MIGRATE_TO), only past the
 * migration barrier and after the orphan stayed orphaned for more than 5 s.
 */
import assert from "node:assert/strict";
import type { Cluster } from "../../../src/cluster/cluster.ts";
import { ClusterNode, NodeFlag } from "../../../src/cluster/node.ts";
import {
  handleReplicaMigration,
  MIGRATION_DELAY_MS,
} from "../../../src/cluster/replica_migration.ts";
import { ClusterState } from "../../../src/cluster/state.ts";

const id = (digit: string) => digit.repeat(40);

/** Master a (ids 1..) with replicas `myself` and a sibling; master b whose replica failed. */
function setup(options: { myId?: string; barrier?: number; allow?: boolean } = {}) {
  const myself = new ClusterNode(options.myId ?? id("2"), NodeFlag.MYSELF | NodeFlag.SLAVE, 0);
  const state = new ClusterState(myself);
  const a = new ClusterNode(id("a"), NodeFlag.MASTER, 0);
  const sibling = new ClusterNode(id("3"), NodeFlag.SLAVE, 0);
  const b = new ClusterNode(id("b"), NodeFlag.MASTER, 0);
  const lost = new ClusterNode(id("4"), NodeFlag.SLAVE, 0);
  for (const node of [a, sibling, b, lost]) state.add(node);
  state.setReplicaRole(myself, a);
  state.setReplicaRole(sibling, a);
  state.setReplicaRole(lost, b);
  for (let slot = 0; slot < 100; slot++) state.addSlot(a, slot);
  for (let slot = 100; slot < 200; slot++) state.addSlot(b, slot);
  state.ok = true;
  const moves: string[] = [];
  const cluster = {
    state,
    host: {
      ctx: {
        config: {
          values: {
            "cluster-allow-replica-migration": options.allow ?? true,
            "cluster-migration-barrier": options.barrier ?? 1,
          },
        },
      },
    },
    setMaster: (node: ClusterNode) => moves.push(node.id),
  } as unknown as Cluster;
  return { state, myself, a, b, lost, cluster, moves };
}

Deno.test("the replica with the smallest id moves to an orphaned master after the delay", () => {
  const { cluster, lost, b, moves } = setup();
  handleReplicaMigration(cluster, 1000);
  assert.deepEqual(moves, [], "b has a working replica");
  lost.flags |= NodeFlag.FAIL;
  handleReplicaMigration(cluster, 2000);
  handleReplicaMigration(cluster, 2000 + MIGRATION_DELAY_MS);
  assert.deepEqual(moves, [], "not before b was orphaned for the delay");
  handleReplicaMigration(cluster, 2001 + MIGRATION_DELAY_MS);
  assert.deepEqual(moves, [b.id]);
});

Deno.test("no migration for a sibling with a larger id, past the barrier, or when disallowed", () => {
  for (
    const options of [{ myId: id("5") }, { barrier: 2 }, { allow: false }]
  ) {
    const { cluster, lost, moves } = setup(options);
    lost.flags |= NodeFlag.FAIL;
    handleReplicaMigration(cluster, 1000);
    handleReplicaMigration(cluster, 1000 + 2 * MIGRATION_DELAY_MS);
    assert.deepEqual(moves, [], JSON.stringify(options));
  }
});

Deno.test("a master that never had a replica is not an orphan; a failed-over one is", () => {
  const { cluster, state, b, lost, moves } = setup();
  state.remove(lost);
  b.flags &= ~NodeFlag.MIGRATE_TO;
  handleReplicaMigration(cluster, 1000);
  handleReplicaMigration(cluster, 1000 + 2 * MIGRATION_DELAY_MS);
  assert.deepEqual(moves, [], "b never had a replica");
  // A replica promoted in b's place is expected to have replicas, as Redis marks it.
  const old = new ClusterNode(id("7"), NodeFlag.MASTER, 0);
  const promoted = new ClusterNode(id("6"), NodeFlag.SLAVE, 0);
  state.add(old);
  state.add(promoted);
  state.setReplicaRole(promoted, old);
  state.setMasterRole(promoted);
  for (let slot = 200; slot < 300; slot++) state.addSlot(promoted, slot);
  handleReplicaMigration(cluster, 30_000);
  handleReplicaMigration(cluster, 30_001 + MIGRATION_DELAY_MS);
  assert.deepEqual(moves, [promoted.id]);
});
