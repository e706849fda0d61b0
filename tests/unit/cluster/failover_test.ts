/**
 * A master's answer to FAILOVER_AUTH_REQUEST and the counting of votes, against forged and stale
 * requests: a vote is granted once per epoch, only to a replica of a failed master whose slots
 * are not served at a newer config epoch, and written to nodes.conf before it is sent; in a group
 * every member votes. Runs the real handlers on a cluster state with the bus replaced by a
 * recorder.
 */
import assert from "node:assert/strict";
import type { BusHeader } from "../../../src/cluster/bus_codec.ts";
import type { BusLink } from "../../../src/cluster/bus_link.ts";
import type { Cluster } from "../../../src/cluster/cluster.ts";
import { Election, handleAuthAck, handleAuthRequest } from "../../../src/cluster/failover.ts";
import { ManualFailover } from "../../../src/cluster/manual_failover.ts";
import { ClusterNode, NodeFlag, randomNodeId } from "../../../src/cluster/node.ts";
import { ClusterState, MessageType } from "../../../src/cluster/state.ts";

/** A master owning slots 0..99 (myself, the voter), a failed master owning 100..199 and its replica. */
function setup(options: { group?: boolean } = {}) {
  const myself = new ClusterNode(randomNodeId(), NodeFlag.MYSELF | NodeFlag.MASTER, 0);
  const state = new ClusterState(myself);
  const failed = new ClusterNode(randomNodeId(), NodeFlag.MASTER | NodeFlag.FAIL, 0);
  const replica = new ClusterNode(randomNodeId(), NodeFlag.SLAVE, 0);
  state.add(failed);
  state.add(replica);
  state.setReplicaRole(replica, failed);
  for (let slot = 0; slot < 100; slot++) state.addSlot(myself, slot);
  for (let slot = 100; slot < 200; slot++) state.addSlot(failed, slot);
  myself.configEpoch = 1;
  failed.configEpoch = 2;
  state.currentEpoch = 5;
  const events: string[] = [];
  const election = new Election();
  const cluster = {
    state,
    election,
    manualFailover: new ManualFailover(),
    group: options.group ? {} : null,
    nodeTimeout: 1000,
    quorum: options.group ? 2 : Math.floor(2 / 2) + 1,
    votes: (node: ClusterNode) =>
      options.group ? !node.inHandshake : node.isMaster && node.slotCount > 0,
    saveConfig: () => events.push(`saved lastVoteEpoch=${state.lastVoteEpoch}`),
    sendHeaderOnly: (_link: BusLink, type: number) => events.push(`sent ${type}`),
    host: { ctx: { config: { values: {} }, replication: { leader: { offset: 0 } } } },
  } as unknown as Cluster;
  const link = {} as BusLink;
  return { state, myself, failed, replica, cluster, link, events, election };
}

/** A request from `replica` for epoch `epoch`, claiming its master's slots at `configEpoch`. */
function request(replica: ClusterNode, epoch: number, configEpoch = 2, mflags = 0): BusHeader {
  const slots = new Uint8Array(2048);
  for (let slot = 100; slot < 200; slot++) slots[slot >> 3] |= 1 << (slot & 7);
  return {
    type: MessageType.FAILOVER_AUTH_REQUEST,
    port: 7000,
    currentEpoch: epoch,
    configEpoch,
    offset: 0,
    sender: replica.id,
    slots,
    replicaOf: replica.master?.id ?? null,
    ip: "",
    pport: 0,
    cport: 17000,
    flags: replica.flags,
    state: 0,
    mflags,
  };
}

Deno.test("a vote is granted once per epoch, saved to nodes.conf before it is sent", () => {
  const { cluster, link, replica, events, state } = setup();
  state.currentEpoch = 6;
  handleAuthRequest(cluster, link, replica, request(replica, 6));
  assert.deepEqual(events, ["saved lastVoteEpoch=6", `sent ${MessageType.FAILOVER_AUTH_ACK}`]);
  handleAuthRequest(cluster, link, replica, request(replica, 6));
  assert.equal(events.length, 2, "a second request in the same epoch gets no vote");
});

Deno.test("stale, forged and premature requests are refused and change nothing", () => {
  const cases: [string, (s: ReturnType<typeof setup>) => BusHeader][] = [
    ["an epoch older than ours", (s) => request(s.replica, 4)],
    ["a master asking", (s) => {
      s.state.setMasterRole(s.replica);
      return request(s.replica, 5);
    }],
    ["a replica of a master that has not failed", (s) => {
      s.failed.flags &= ~NodeFlag.FAIL;
      return request(s.replica, 5);
    }],
    ["slots claimed at an older config epoch than their owner's", (s) => request(s.replica, 5, 1)],
    ["a second failover of one master within two timeouts", (s) => {
      s.failed.votedTime = Date.now();
      return request(s.replica, 5);
    }],
  ];
  for (const [what, build] of cases) {
    const s = setup();
    const header = build(s);
    const before = { epoch: s.state.currentEpoch, vote: s.state.lastVoteEpoch };
    handleAuthRequest(s.cluster, s.link, s.replica, header);
    assert.deepEqual(s.events, [], what);
    assert.deepEqual({ epoch: s.state.currentEpoch, vote: s.state.lastVoteEpoch }, before, what);
  }
});

Deno.test("a replica votes in a group, not in a cluster", () => {
  for (const group of [false, true]) {
    const s = setup({ group });
    s.state.setReplicaRole(s.myself, s.failed);
    for (let slot = 0; slot < 100; slot++) s.state.delSlot(slot);
    handleAuthRequest(s.cluster, s.link, s.replica, request(s.replica, 5));
    assert.equal(s.events.length, group ? 2 : 0, group ? "group" : "cluster");
  }
});

Deno.test("only votes for the epoch asked, from voters, are counted", () => {
  const s = setup();
  s.election.epoch = 7;
  s.election.startsAt = Date.now() + 60_000;
  const stranger = new ClusterNode(randomNodeId(), NodeFlag.SLAVE, 0);
  handleAuthAck(s.cluster, stranger, request(stranger, 7));
  assert.equal(s.election.votes, 0, "a replica's ACK does not count in a cluster");
  handleAuthAck(s.cluster, s.myself, request(s.myself, 6));
  assert.equal(s.election.votes, 0, "an ACK for an older epoch does not count");
  handleAuthAck(s.cluster, s.myself, request(s.myself, 7));
  assert.equal(s.election.votes, 1);
});
