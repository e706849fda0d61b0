import assert from "node:assert/strict";
import { CLUSTER_SLOTS } from "../../../src/cluster/key_slot.ts";
import { ClusterNode, NodeFlag } from "../../../src/cluster/node.ts";
import {
  describeNode,
  formatNodesConf,
  NodesConfError,
  NodesConfFile,
  parseNodesConf,
} from "../../../src/cluster/nodes_conf.ts";
import { ClusterState } from "../../../src/cluster/state.ts";
import { infoField, type RedisClusterNode, startRedisClusterNode } from "../../support/cluster.ts";
import { plain, RespConn } from "../../support/resp_conn.ts";
import { waitFor } from "../../support/wait_for.ts";

const A = "a".repeat(40);
const B = "b".repeat(39) + "1";
const C = "c0ffee".padEnd(40, "0");
const D = "d".repeat(40);
const E = "e".repeat(40);
const F = "f".repeat(40);
const G = "0123456789abcdef0123456789abcdef01234567";
const H = "9".repeat(40);

/** A nodes.conf in Redis 7.0's format: hostname, IPv6, replicas, migrating and importing slots. */
const SAMPLE = [
  `${A} 127.0.0.1:7000@17000,node-a.example myself,master - 0 0 1 connected 0-5460 [7->-${B}] [5470-<-${B}]`,
  `${B} 127.0.0.1:7001@17001 master - 0 1700000000000 2 connected 5461-10922`,
  `${C} 127.0.0.1:7002@17002 master - 0 1700000000000 3 connected 10923-16383`,
  `${D} 127.0.0.1:7003@17003 slave ${A} 0 1700000000000 1 connected`,
  `${E} ::1:7004@17004 slave,nofailover ${B} 0 0 2 connected`,
  `${F} 127.0.0.1:7005@17005 slave,fail? ${C} 1700000000000 1700000000000 3 disconnected`,
  `vars currentEpoch 6 lastVoteEpoch 4`,
  ``,
].join("\n");

/** Everything nodes.conf records about a state, in a form deepEqual can compare. */
function summary(state: ClusterState) {
  const nodes = [...state.nodes.values()].sort((x, y) => (x.id < y.id ? -1 : 1)).map((n) => ({
    id: n.id,
    ip: n.ip,
    port: n.port,
    cport: n.cport,
    hostname: n.hostname,
    flags: n.flags,
    master: n.master?.id ?? null,
    replicas: n.replicas.map((r) => r.id).sort(),
    configEpoch: n.configEpoch,
    slots: n.slotRanges(),
  }));
  const moving: string[] = [];
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    if (state.owners[slot] !== null && !state.owners[slot]!.hasSlot(slot)) {
      moving.push(`owner of ${slot} lacks its bit`);
    }
    if (state.migratingTo[slot]) moving.push(`${slot}->${state.migratingTo[slot]!.id}`);
    if (state.importingFrom[slot]) moving.push(`${slot}<-${state.importingFrom[slot]!.id}`);
  }
  return {
    myself: state.myself.id,
    nodes,
    moving,
    currentEpoch: state.currentEpoch,
    lastVoteEpoch: state.lastVoteEpoch,
  };
}

function node(state: ClusterState, id: string, flags: number, address: [string, number]) {
  const n = new ClusterNode(id, flags, 0);
  [n.ip, n.port] = address;
  n.cport = address[1] + 10000;
  state.add(n);
  return n;
}

/** A state with every kind of line nodes.conf holds. */
function richState(): ClusterState {
  const myself = new ClusterNode(A, NodeFlag.MYSELF | NodeFlag.MASTER, 0);
  myself.ip = "10.0.0.1";
  myself.port = 6379;
  myself.cport = 16379;
  myself.hostname = "a.example.com";
  myself.configEpoch = 7;
  const state = new ClusterState(myself);
  const b = node(state, B, NodeFlag.MASTER, ["10.0.0.2", 6380]);
  b.hostname = "b-host";
  b.configEpoch = 8;
  const c = node(state, C, NodeFlag.MASTER | NodeFlag.PFAIL, ["fe80::1", 6381]);
  c.configEpoch = 9;
  const d = node(state, D, NodeFlag.SLAVE, ["10.0.0.4", 6382]);
  state.setReplicaRole(d, myself);
  d.configEpoch = myself.configEpoch;
  const e = node(state, E, NodeFlag.SLAVE | NodeFlag.NOFAILOVER, ["10.0.0.5", 6383]);
  state.setReplicaRole(e, b);
  e.configEpoch = b.configEpoch;
  const f = node(state, F, NodeFlag.SLAVE | NodeFlag.FAIL, ["10.0.0.6", 6384]);
  state.setReplicaRole(f, b);
  f.configEpoch = b.configEpoch;
  const g = node(state, G, NodeFlag.MASTER | NodeFlag.FAIL | NodeFlag.NOADDR, ["", 0]);
  g.cport = 0;
  g.configEpoch = 3;
  // A handshake node is not written (Redis skips them too).
  node(state, H, NodeFlag.HANDSHAKE, ["10.0.0.9", 6390]);
  for (let slot = 0; slot < 5000; slot++) state.addSlot(myself, slot);
  state.addSlot(myself, 6000);
  for (let slot = 5000; slot < 6000; slot++) state.addSlot(b, slot);
  for (let slot = 6001; slot < 12000; slot += 2) state.addSlot(b, slot);
  for (let slot = 12000; slot < CLUSTER_SLOTS; slot++) state.addSlot(c, slot);
  state.addSlot(c, 6002);
  state.setMigrating(10, b);
  state.setMigrating(6000, c);
  state.setImporting(5001, b);
  state.setImporting(12001, c);
  state.currentEpoch = 12;
  state.lastVoteEpoch = 11;
  return state;
}

Deno.test("parseNodesConf(formatNodesConf(state)) gives back every node, slot and epoch", () => {
  const state = richState();
  const text = formatNodesConf(state);
  assert.ok(!text.includes(H), "handshake nodes are not saved");
  assert.match(text, /\nvars currentEpoch 12 lastVoteEpoch 11\n$/);
  assert.ok(
    text.includes(`${A} 10.0.0.1:6379@16379,a.example.com myself,master - 0 0 7 connected`),
  );
  assert.ok(text.includes(`${E} 10.0.0.5:6383@16383 slave,nofailover ${B} 0 0 8 disconnected`));
  assert.ok(text.includes(`${G} :0@0 master,fail,noaddr - 0 0 3 disconnected\n`));
  assert.ok(text.includes(`[10->-${B}] [5001-<-${B}] [6000->-${C}] [12001-<-${C}]`));
  const parsed = parseNodesConf(text, "nodes.conf", 0);
  const expected = summary(state);
  expected.nodes = expected.nodes.filter((n) => n.id !== H);
  assert.deepEqual(summary(parsed), expected);
  assert.equal(parsed.myself.isMyself, true);
  assert.equal(parsed.lookup(D)!.master, parsed.myself, "replicas point at the parsed master");
  assert.equal(parsed.dirty, false, "a freshly loaded state has nothing to save");
  assert.equal(formatNodesConf(parsed), text, "formatting again gives the same file");
});

Deno.test("NodesConfFile writes in place, shrinking and growing, and atomically when durable", () => {
  const dir = Deno.makeTempDirSync({ prefix: "nodes-conf-" });
  try {
    const path = `${dir}/nodes.conf`;
    const file = new NodesConfFile(path);
    const rich = richState();
    const small = parseNodesConf(SAMPLE, "nodes.conf", 0);
    const inode = () => Deno.statSync(path).ino;
    file.write(rich, true);
    assert.equal(Deno.readTextFileSync(path), formatNodesConf(rich));
    const first = inode();
    file.write(small, false);
    assert.equal(Deno.readTextFileSync(path), formatNodesConf(small), "shrunk, no padding left");
    assert.equal(inode(), first, "a change without an epoch is written in place");
    file.write(rich, false);
    assert.equal(Deno.readTextFileSync(path), formatNodesConf(rich), "grown in place");
    file.write(small, true);
    assert.equal(Deno.readTextFileSync(path), formatNodesConf(small));
    assert.notEqual(inode(), first, "a durable write replaces the file");
    file.write(rich, false);
    assert.equal(Deno.readTextFileSync(path), formatNodesConf(rich), "in place in the new file");
    file.close();
    file.write(small, false);
    assert.equal(Deno.readTextFileSync(path), formatNodesConf(small), "a write after close");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["nodes.conf"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a nodes.conf cut short of its padding (a kill between write and truncate) loads", () => {
  // The in-place write pads the new text with newlines to the old length before truncating.
  const text = formatNodesConf(richState());
  const padded = text + "\n".repeat(4000);
  assert.deepEqual(
    summary(parseNodesConf(padded, "nodes.conf", 0)),
    summary(parseNodesConf(text, "nodes.conf", 0)),
  );
});

Deno.test("slotRanges gives the runs of a node's slot bitmap, as a slot-by-slot scan does", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let round = 0; round < 200; round++) {
    const node = new ClusterNode(A, NodeFlag.MASTER, 0);
    const density = random();
    const runLength = 1 + Math.floor(random() * 40);
    for (let slot = 0; slot < CLUSTER_SLOTS; slot += runLength) {
      if (random() < density) {
        for (let s = slot; s < Math.min(slot + runLength, CLUSTER_SLOTS); s++) node.setSlotBit(s);
      }
    }
    const expected: [number, number][] = [];
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      if (!node.hasSlot(slot)) continue;
      const last = expected[expected.length - 1];
      if (last !== undefined && last[1] === slot - 1) last[1] = slot;
      else expected.push([slot, slot]);
    }
    assert.deepEqual(node.slotRanges(), expected);
  }
});

Deno.test("the sample nodes.conf in Redis's format parses, tolerating blank lines and CRLF", () => {
  const state = parseNodesConf(SAMPLE, "nodes.conf", 0);
  assert.equal(state.myself.id, A);
  assert.equal(state.myself.hostname, "node-a.example");
  assert.equal(state.nodes.size, 6);
  assert.deepEqual(state.myself.slotRanges(), [[0, 5460]]);
  assert.equal(state.owners[16383]!.id, C);
  assert.equal(state.migratingTo[7]!.id, B);
  assert.equal(state.importingFrom[5470]!.id, B);
  const e = state.lookup(E)!;
  assert.deepEqual([e.ip, e.port, e.cport, e.flagNames()], [
    "::1",
    7004,
    17004,
    "slave,nofailover",
  ]);
  assert.equal(e.master!.id, B);
  assert.equal(state.lookup(F)!.flagNames(), "slave,fail?");
  assert.deepEqual([state.currentEpoch, state.lastVoteEpoch], [6, 4]);
  const crlf = "\r\n\r\n" + SAMPLE.replaceAll("\n", "\r\n");
  assert.deepEqual(summary(parseNodesConf(crlf, "nodes.conf", 0)), summary(state));
});

/** Replaces line `n` (1-based) of SAMPLE. */
function withLine(n: number, edit: (line: string) => string, text = SAMPLE): string {
  const lines = text.split("\n");
  lines[n - 1] = edit(lines[n - 1]);
  return lines.join("\n");
}

function assertRefused(text: string, line: number, reason: RegExp, what: string): void {
  let error: unknown;
  try {
    parseNodesConf(text, "/data/nodes.conf", 0);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof NodesConfError, `${what}: expected a NodesConfError, got ${error}`);
  const message = (error as Error).message;
  assert.match(message, new RegExp(`^/data/nodes\\.conf line ${line}: `), `${what}: ${message}`);
  assert.match(message, reason, `${what}: ${message}`);
}

Deno.test("a damaged nodes.conf is refused with a message naming the bad line", () => {
  const cases: [string, string, number, RegExp][] = [
    ["truncated line", withLine(3, (l) => l.split(" ").slice(0, 5).join(" ")), 3, /8 fields/],
    ["file cut inside a line", SAMPLE.slice(0, SAMPLE.indexOf(`${D} 127.0.0.1:70`) + 50), 4, /8/],
    ["bad id", withLine(2, (l) => l.replace(B, "xyz")), 2, /'xyz' is not a node id/],
    ["short id", withLine(2, (l) => l.replace(B, B.slice(1))), 2, /not a node id/],
    ["upper-case id", withLine(5, (l) => l.replace(E, E.toUpperCase())), 5, /not a node id/],
    ["port past 65535", withLine(3, (l) => l.replace(":7002@", ":70000@")), 3, /bad port/],
    ["port not a number", withLine(3, (l) => l.replace(":7002@", ":x@")), 3, /bad port/],
    ["no bus port", withLine(3, (l) => l.replace("@17002", "")), 3, /ip:port@cport/],
    ["bus port not a number", withLine(2, (l) => l.replace("@17001", "@-1")), 2, /bad port/],
    ["unknown flag", withLine(4, (l) => l.replace(" slave ", " slave,bogus ")), 4, /'bogus'/],
    ["slot 16384", withLine(3, (l) => l.replace("10923-16383", "10923-16384")), 3, /16384/],
    ["single slot 16384", withLine(2, (l) => `${l} 16384`), 2, /16384/],
    ["reversed range", withLine(2, (l) => l.replace("5461-10922", "10922-5461")), 2, /range/],
    ["not a slot", withLine(2, (l) => `${l} 12a`), 2, /not a slot/],
    ["a slot twice", withLine(3, (l) => `${l} 5460`), 3, /slot 5460 is assigned twice/],
    ["a range overlapping", withLine(2, (l) => `${l} 10900-10930`), 2, /assigned twice/],
    ["two myself", withLine(5, (l) => l.replace("slave,", "myself,slave,")), 5, /myself/],
    ["no myself", withLine(1, (l) => l.replace("myself,", "")), 7, /no node is marked myself/],
    ["vars value", withLine(7, (l) => l.replace("6", "six")), 7, /bad value 'six'/],
    ["vars missing value", withLine(7, (l) => l.replace(" 4", "")), 7, /pairs/],
    ["vars unknown name", withLine(7, (l) => l.replace("lastVote", "next")), 7, /unknown/],
    ["bad master id", withLine(4, (l) => l.replace(` ${A} `, " 1234 ")), 4, /master id/],
    ["bad epoch", withLine(2, (l) => l.replace(" 2 connected", " two connected")), 2, /numbers/],
    ["negative ping", withLine(6, (l) => l.replace(/ 1700000000000 /, " -1 ")), 6, /numbers/],
    ["bad link state", withLine(2, (l) => l.replace("connected", "linked")), 2, /link state/],
    ["a node twice", withLine(6, (l) => l.replace(F, B)), 6, /appears twice/],
    ["migrating slot 16384", withLine(1, (l) => l.replace("[7->-", "[16384->-")), 1, /slot/],
    ["migrating bad id", withLine(1, (l) => l.replace(`[7->-${B}]`, "[7->-b]")), 1, /slot/],
    ["migrating elsewhere", withLine(2, (l) => `${l} [9->-${A}]`), 2, /other than myself/],
  ];
  for (const [what, text, line, reason] of cases) assertRefused(text, line, reason, what);
  // Line numbers count blank lines and survive CRLF endings.
  const padded = "\n\n" +
    withLine(3, (l) => l.replace(":7002@", ":99999@")).replaceAll("\n", "\r\n");
  assertRefused(padded, 5, /bad port/, "bad port after two blank lines");
  // Without the final newline the last line is still the one named.
  assertRefused(withLine(1, (l) => l.replace("myself,", "")).trimEnd(), 7, /myself/, "no newline");
  assertRefused("", 1, /no node is marked myself/, "empty file");
});

async function call(port: number, ...args: string[]): Promise<unknown> {
  await using conn = await RespConn.connect(port);
  return plain(await conn.call(...args));
}

Deno.test("a nodes.conf written by redis-server 7.0 parses to what its CLUSTER NODES says", async () => {
  const nodes: RedisClusterNode[] = [];
  try {
    for (let i = 0; i < 6; i++) {
      nodes.push(
        await startRedisClusterNode(i === 0 ? ["--cluster-announce-hostname", "node-0.test"] : []),
      );
    }
    const created = await new Deno.Command("redis-cli", {
      args: [
        "--cluster",
        "create",
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        "--cluster-replicas",
        "1",
        "--cluster-yes",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(created.code, 0, new TextDecoder().decode(created.stdout));
    const [first, second] = nodes.map((n) => n.port);
    // Replicas and the hostname reach every view by gossip.
    await waitFor(async () => {
      for (const port of [first, second]) {
        const text = String(await call(port, "CLUSTER", "NODES"));
        if (text.split("\n").filter((l) => / (myself,)?slave /.test(l)).length !== 3) return false;
        if (!text.includes(",node-0.test ")) return false;
      }
      return true;
    }, { timeoutMs: 15_000, what: "3 replicas and the hostname in both views" });
    // A slot moving out of the first node and another moving in, as resharding leaves them.
    const owner = async (port: number, slot: number) => {
      const lines = String(await call(port, "CLUSTER", "NODES")).split("\n");
      const line = lines.find((l) =>
        / master /.test(l) && l.split(" ").slice(8).some((r) => {
          const [a, b] = r.split("-").map(Number);
          return slot >= a && slot <= (b ?? a);
        })
      )!;
      return line.split(" ")[0];
    };
    const other = await owner(first, 16000);
    assert.equal(await call(first, "CLUSTER", "SETSLOT", "100", "MIGRATING", other), "OK");
    assert.equal(await call(first, "CLUSTER", "SETSLOT", "16001", "IMPORTING", other), "OK");
    for (const port of [first, second]) {
      assert.equal(await call(port, "CLUSTER", "SAVECONFIG"), "OK");
      const [, dir] = await call(port, "CONFIG", "GET", "dir") as string[];
      const [, name] = await call(port, "CONFIG", "GET", "cluster-config-file") as string[];
      const text = await Deno.readTextFile(`${dir}/${name}`);
      const view = String(await call(port, "CLUSTER", "NODES"));
      const info = String(await call(port, "CLUSTER", "INFO"));
      const state = parseNodesConf(text, name, Date.now());
      assert.equal(state.myself.id, await call(port, "CLUSTER", "MYID"));
      assert.equal(String(state.currentEpoch), infoField(info, "cluster_current_epoch"));
      assert.equal(state.lastVoteEpoch, 0);
      assert.equal(state.nodes.size, 6);
      // Every field but the live ones (ping/pong times, link state) as CLUSTER NODES shows it.
      const stable = (line: string) => {
        const f = line.split(" ");
        return [...f.slice(0, 4), f[6], ...f.slice(8)].join(" ");
      };
      const ours = [...state.nodes.values()].map((n) => stable(describeNode(state, n))).sort();
      const theirs = view.split("\n").filter((l) => l !== "").map(stable).sort();
      assert.deepEqual(ours, theirs, `nodes.conf of ${port}:\n${text}`);
      if (port === first) {
        assert.ok(text.includes(`[100->-${other}]`) && text.includes(`[16001-<-${other}]`));
        assert.equal(state.migratingTo[100]!.id, other);
        assert.equal(state.importingFrom[16001]!.id, other);
      }
      let assigned = 0;
      for (let slot = 0; slot < CLUSTER_SLOTS; slot++) if (state.owners[slot] !== null) assigned++;
      assert.equal(assigned, CLUSTER_SLOTS);
    }
  } finally {
    for (const n of nodes) await n.stop();
  }
});
