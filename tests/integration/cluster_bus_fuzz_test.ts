/**
 * Bad input on the cluster bus: one gocache cluster node takes 100,000 hostile frames on its bus
 * port (port + 10000) and must drop exactly the links that sent a malformed frame, log each drop
 * at warn level with its reason, ignore well-framed messages from nodes it does not know, and
 * keep serving clients throughout.
 *
 * The link is dropped at the first malformed frame (as Redis drops a link on a bad signature or
 * length), so each connection carries one: several well-framed but hostile frames from unknown
 * senders (PINGs with forged gossip, FAILs, UPDATEs claiming every slot, PUBLISHes, votes,
 * module messages), the last of them a PING whose PONG proves the node read them all and kept
 * the link, then one malformed frame, the kinds in turn with random details (short or oversized
 * length, bad signature, version or type, random bytes, a body that does not fit its type, a
 * truncated frame running into the next), after which the node must close the socket. Frames
 * come from a seeded PRNG; the seed is in the test's name and GOCACHE_FUZZ_SEED=N replays it. */
import assert from "node:assert/strict";
import {
  type BusHeader,
  decodeMessage,
  encodeFail,
  encodeHeaderOnly,
  encodePing,
  encodePublish,
  encodeUpdate,
  type GossipEntry,
  HEADER_SIZE,
} from "../../src/cluster/bus_codec.ts";
import { NodeFlag } from "../../src/cluster/node.ts";
import { MessageType } from "../../src/cluster/state.ts";
import { mulberry32 } from "../../src/util/prng.ts";
import { ask, infoField, startClusterNode } from "../support/cluster.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import type { ServerProcess } from "../support/server.ts";
import { waitFor } from "../support/wait_for.ts";

/** Connections, each ending with one malformed frame. */
const LINKS = 25_000;
/** Well-framed hostile frames per connection before the malformed one (the last is a PING). */
const HOSTILE_PER_LINK = 3;
const CONCURRENCY = 32;
/** A guard against a hang, not a speed check: the flood takes about 7 s on 2 busy cores. */
const FLOOD_LIMIT_MS = 50_000;
/** How long a reply or a close that must come may take. */
const MUST_MS = 5000;
const CHANNEL = "fuzz-channel";

// ---------------------------------------------------------------------------------------------
// Seeded frames

class Rng {
  readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }

  id(): string {
    let id = "";
    while (id.length < 40) id += Math.floor(this.next() * 16).toString(16);
    return id;
  }
}

const ALL_SLOTS = new Uint8Array(2048).fill(0xff);
const NO_SLOTS = new Uint8Array(2048);

/** A header from a node the target does not know, with random claims in every field. */
function strangerHeader(rng: Rng, type: number): BusHeader {
  return {
    type,
    port: rng.int(0, 65535),
    currentEpoch: rng.int(0, 2 ** 40),
    configEpoch: rng.int(0, 2 ** 40),
    offset: rng.int(0, 2 ** 40),
    sender: rng.id(),
    slots: rng.pick([ALL_SLOTS, NO_SLOTS]),
    replicaOf: rng.pick([null, rng.id()]),
    ip: rng.pick(["", "127.0.0.1", `10.${rng.int(0, 255)}.${rng.int(0, 255)}.1`, "::1"]),
    pport: rng.int(0, 65535),
    cport: rng.int(0, 65535),
    flags: rng.int(0, 0xffff),
    state: rng.int(0, 1),
    mflags: rng.int(0, 7),
  };
}

function forgedGossip(rng: Rng, nodeId: string, min = 0): GossipEntry[] {
  return Array.from({ length: rng.int(min, 3) }, () => ({
    id: rng.pick([rng.id(), nodeId]),
    pingSent: rng.int(0, 0xffffffff),
    pongReceived: rng.int(0, 0xffffffff),
    ip: rng.pick(["127.0.0.1", "", "10.9.8.7"]),
    port: rng.int(0, 65535),
    cport: rng.int(0, 65535),
    flags: rng.pick([NodeFlag.FAIL, NodeFlag.PFAIL, NodeFlag.MASTER, rng.int(0, 0xffff)]),
    pport: 0,
  }));
}

/** A well-framed message the node must read and ignore (or answer) without dropping the link. */
function hostileFrame(rng: Rng, nodeId: string): Uint8Array {
  switch (rng.int(0, 6)) {
    case 0:
      return encodePing(
        strangerHeader(rng, rng.pick([MessageType.PING, MessageType.PONG])),
        forgedGossip(rng, nodeId),
        "x".repeat(rng.int(0, 20)),
      );
    case 1:
      return encodeFail(strangerHeader(rng, MessageType.FAIL), rng.pick([nodeId, rng.id()]));
    case 2:
      return encodeUpdate(strangerHeader(rng, MessageType.UPDATE), {
        configEpoch: 2 ** 50,
        id: nodeId,
        slots: ALL_SLOTS,
      });
    case 3:
      return encodePublish(
        strangerHeader(rng, rng.pick([MessageType.PUBLISH, MessageType.PUBLISHSHARD])),
        new TextEncoder().encode(CHANNEL),
        rng.bytes(rng.int(0, 64)),
      );
    case 4:
      return encodeHeaderOnly(
        strangerHeader(
          rng,
          rng.pick([
            MessageType.FAILOVER_AUTH_REQUEST,
            MessageType.FAILOVER_AUTH_ACK,
            MessageType.MFSTART,
          ]),
        ),
      );
    case 5: {
      const payload = rng.bytes(rng.int(0, 64));
      const frame = new Uint8Array(HEADER_SIZE + 13 + payload.length);
      frame.set(encodeHeaderOnly(strangerHeader(rng, MessageType.MODULE)));
      const view = new DataView(frame.buffer);
      view.setUint32(4, frame.length);
      view.setUint32(HEADER_SIZE + 8, payload.length);
      frame.set(payload, HEADER_SIZE + 13);
      return frame;
    }
    default:
      return encodePing(strangerHeader(rng, MessageType.PING), forgedGossip(rng, nodeId), "");
  }
}

/** What the node's log must give as the reason, by class. */
const REASONS = {
  short: /^message length \d+ is too short$/,
  long: /^message length \d+ is too long$/,
  signature: /^bad signature/,
  version: /^unknown version \d+$/,
  type: /^unknown message type \d+$/,
  body:
    /gossip entries exceed|extension|message of length \d+, expected \d+|short (publish|module)/,
} as const;
type Reason = keyof typeof REASONS;

const KINDS = [
  "short",
  "oversized",
  "signature",
  "version",
  "type",
  "random",
  "body",
  "truncated",
] as const;
type Kind = typeof KINDS[number];

function setTotlen(frame: Uint8Array, length: number): Uint8Array {
  new DataView(frame.buffer, frame.byteOffset).setUint32(4, length);
  return frame;
}

/** A frame the node must refuse, and the class of reason it must log. */
function malformedFrame(
  rng: Rng,
  kind: Kind,
  maxFrame: number,
): { frame: Uint8Array; reason: Reason } {
  const ping = () => encodePing(strangerHeader(rng, MessageType.PING), [], "");
  switch (kind) {
    case "short": {
      const frame = rng.bytes(rng.int(8, HEADER_SIZE));
      frame.set([0x52, 0x43, 0x6d, 0x62]);
      return { frame: setTotlen(frame, rng.int(0, HEADER_SIZE - 1)), reason: "short" };
    }
    case "oversized":
      return { frame: setTotlen(ping(), rng.int(maxFrame + 1, 0xffffffff)), reason: "long" };
    case "signature": {
      const frame = ping();
      const at = rng.int(0, 3);
      frame[at] = (frame[at] + rng.int(1, 255)) & 0xff;
      return { frame, reason: "signature" };
    }
    case "version": {
      const frame = ping();
      new DataView(frame.buffer).setUint16(8, rng.pick([0, 2, rng.int(3, 0xffff)]));
      return { frame, reason: "version" };
    }
    case "type": {
      const frame = encodeHeaderOnly(strangerHeader(rng, rng.int(11, 0xffff)));
      return { frame, reason: "type" };
    }
    case "random": {
      const frame = rng.bytes(rng.int(8, 4096));
      if (frame[0] === 0x52) frame[0] = 0;
      return { frame, reason: "signature" };
    }
    case "body": {
      // A right header with a body that does not fit its type.
      const header = strangerHeader(rng, MessageType.PING);
      const frame = rng.pick([
        () => {
          const f = encodePing(header, [], "");
          new DataView(f.buffer).setUint16(14, rng.int(1, 0xffff));
          return f;
        },
        () => {
          const f = encodePing(header, [], "host");
          new DataView(f.buffer).setUint32(HEADER_SIZE, rng.pick([0, 4, 9, 0xffffffff]));
          return f;
        },
        () => {
          const f = encodeFail({ ...header, type: MessageType.FAIL }, rng.id());
          const out = new Uint8Array(f.length + rng.pick([-1, 1, 40]));
          out.set(f.subarray(0, out.length));
          return setTotlen(out, out.length);
        },
        () => {
          const f = encodePublish(
            { ...header, type: MessageType.PUBLISH },
            rng.bytes(3),
            rng.bytes(3),
          );
          new DataView(f.buffer).setUint32(HEADER_SIZE, rng.int(4, 0xffffffff));
          return f;
        },
        () => {
          const f = encodeHeaderOnly({ ...header, type: MessageType.FAILOVER_AUTH_ACK });
          const out = new Uint8Array(f.length + rng.int(1, 200));
          out.set(f);
          return setTotlen(out, out.length);
        },
        () => {
          const f = encodeUpdate({ ...header, type: MessageType.UPDATE }, {
            configEpoch: 1,
            id: rng.id(),
            slots: NO_SLOTS,
          });
          return setTotlen(f.slice(0, f.length - 8), f.length - 8);
        },
      ])();
      return { frame, reason: "body" };
    }
    case "truncated": {
      // A PING cut short and the next frame right behind it: the cut frame takes the next
      // one's first bytes to fill its declared length, so the next starts mid-frame.
      // At least one gossip entry and no hostname: the cut (under 104 bytes) and the bytes
      // taken from the next frame stay inside the last gossip entry.
      const gossip = forgedGossip(rng, rng.id(), 1);
      const whole = encodePing(strangerHeader(rng, MessageType.PING), gossip, "");
      const cut = whole.subarray(0, whole.length - rng.int(1, 100));
      return { frame: concat([cut, ping()]), reason: "signature" };
    }
  }
}

/** Everything one connection sends. */
function linkPlan(seed: number, index: number, nodeId: string, maxFrame: number) {
  const rng = new Rng(seed ^ Math.imul(index + 1, 0x9e3779b1));
  const hostile: Uint8Array[] = [];
  for (let i = 0; i < HOSTILE_PER_LINK - 1; i++) hostile.push(hostileFrame(rng, nodeId));
  hostile.push(encodePing(strangerHeader(rng, MessageType.PING), forgedGossip(rng, nodeId), ""));
  const kind = KINDS[index % KINDS.length];
  const { frame, reason } = malformedFrame(rng, kind, maxFrame);
  return { hostile: concat(hostile), malformed: frame, kind, reason };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Socket helpers

/** Reads with a deadline: bytes read, "eof" when the peer closed (or reset), or "timeout". */
async function readWithin(
  conn: Deno.Conn,
  buf: Uint8Array,
  ms: number,
): Promise<number | "eof" | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const read = conn.read(buf).then((n) => n ?? "eof" as const, () => "eof" as const);
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(resolve, ms, "timeout")));
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<boolean> {
  try {
    let written = 0;
    while (written < bytes.length) written += await conn.write(bytes.subarray(written));
    return true;
  } catch {
    return false; // The node closed the link before taking everything: that is allowed.
  }
}

/** Reads one whole bus frame; throws if the link closes or stays silent first. */
async function readFrame(conn: Deno.Conn, buf: Uint8Array): Promise<Uint8Array> {
  let filled = 0;
  while (true) {
    if (filled >= 8) {
      const length = new DataView(buf.buffer, buf.byteOffset).getUint32(4);
      if (length > buf.length) throw new Error(`a ${length}-byte reply frame`);
      if (filled >= length) return buf.slice(0, length);
    }
    const n = await readWithin(conn, buf.subarray(filled), MUST_MS);
    if (n === "eof") throw new Error(`link closed after ${filled} bytes of a reply`);
    if (n === "timeout") throw new Error(`no reply within ${MUST_MS} ms`);
    filled += n;
  }
}

/** Resolves as `promise` does, or rejects after MUST_MS naming what did not come. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${MUST_MS} ms`)), MUST_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether the node closes the link within the deadline (bytes still arriving are drained). */
async function closedByNode(conn: Deno.Conn, buf: Uint8Array): Promise<boolean> {
  const deadline = Date.now() + MUST_MS;
  while (Date.now() < deadline) {
    const n = await readWithin(conn, buf, deadline - Date.now());
    if (n === "eof") return true;
    if (n === "timeout") return false;
  }
  return false;
}

/** The warn-level "Cluster bus link ... closed: <reason>" records in a node's log. */
function droppedLinks(logs: readonly string[]): string[] {
  const reasons: string[] = [];
  for (const line of logs) {
    if (!line.includes("Cluster bus link")) continue;
    const record = JSON.parse(line);
    if (record.level !== "WARN" || !/^Cluster bus link .* closed: /.test(record.message)) continue;
    reasons.push(String(record.properties.error));
  }
  return reasons;
}

async function maxFrameOf(port: number): Promise<number> {
  await using conn = await RespConn.connect(port);
  const [, value] = plain(await conn.call("CONFIG", "GET", "proto-max-bulk-len")) as string[];
  return 2 * Number(value) + 8192;
}

async function assertServing(node: ServerProcess, what: string): Promise<void> {
  assert.equal(await ask(node.port, "PING"), "PONG", `PING ${what}`);
  const info = await ask(node.port, "CLUSTER", "INFO");
  assert.ok(infoField(info, "cluster_state") !== undefined, `CLUSTER INFO ${what}: ${info}`);
}

// ---------------------------------------------------------------------------------------------
// Tests

function seedFromEnv(): number {
  const text = Deno.env.get("GOCACHE_FUZZ_SEED");
  if (text !== undefined && text !== "") return Number(text) >>> 0;
  return (Date.now() ^ Math.floor(Math.random() * 0x100000000)) >>> 0;
}

const seed = seedFromEnv();

Deno.test(
  `the bus drops and logs every link that sends one of ${LINKS} malformed frames among ${
    LINKS * (HOSTILE_PER_LINK + 1)
  } hostile frames, and the node keeps serving (seed ${seed}; GOCACHE_FUZZ_SEED=${seed} replays it)`,
  async () => {
    const rerun = `(seed ${seed}; rerun with GOCACHE_FUZZ_SEED=${seed})`;
    await using node = await startClusterNode();
    const bus = node.port + 10000;
    const nodeId = await ask(node.port, "CLUSTER", "MYID");
    const maxFrame = await maxFrameOf(node.port);
    await using subscriber = await RespConn.connect(node.port);
    await subscriber.call("SUBSCRIBE", CHANNEL);

    const started = Date.now();
    const failures: string[] = [];
    const expected = new Map<Reason, number>();
    let framesSent = 0;
    let next = 0;
    const worker = async () => {
      const buf = new Uint8Array(64 * 1024);
      while (next < LINKS && failures.length < 10) {
        if (Date.now() - started > FLOOD_LIMIT_MS) {
          failures.push(`only ${next} of ${LINKS} links done after ${FLOOD_LIMIT_MS} ms`);
          break;
        }
        const index = next++;
        const plan = linkPlan(seed, index, nodeId, maxFrame);
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: bus });
        try {
          assert.ok(await writeAll(conn, plan.hostile), "the node closed a link before its PONG");
          const pong = decodeMessage(await readFrame(conn, buf));
          assert.equal(pong.header.type, MessageType.PONG);
          assert.equal(pong.header.sender, nodeId);
          await writeAll(conn, plan.malformed);
          framesSent += HOSTILE_PER_LINK + 1;
          expected.set(plan.reason, (expected.get(plan.reason) ?? 0) + 1);
          if (!(await closedByNode(conn, buf))) {
            failures.push(`link ${index} (${plan.kind}) still open ${MUST_MS} ms after it`);
          }
        } catch (e) {
          failures.push(`link ${index} (${plan.kind}): ${e}`);
        } finally {
          conn.close();
        }
        if (index % 2000 === 0) {
          // Clients are served while the bus is flooded.
          assert.equal(await ask(node.port, "PING"), "PONG");
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    assert.deepEqual(failures, [], `failed links ${rerun}`);
    assert.ok(framesSent >= 100_000, `${framesSent} frames sent`);

    // Every malformed frame dropped exactly one link, logged at warn with the right reason.
    const reasons = await waitFor(() => {
      const found = droppedLinks(node.logs);
      return found.length >= LINKS ? found : null;
    }, { timeoutMs: 15_000, what: `${LINKS} dropped links in the log` });
    assert.equal(reasons.length, LINKS, `dropped links logged ${rerun}`);
    const counted = new Map<Reason, number>();
    for (const reason of reasons) {
      const kind = (Object.keys(REASONS) as Reason[]).find((k) => REASONS[k].test(reason));
      assert.ok(kind !== undefined, `unexpected reason '${reason}' ${rerun}`);
      counted.set(kind, (counted.get(kind) ?? 0) + 1);
    }
    assert.deepEqual(
      Object.fromEntries(counted),
      Object.fromEntries(expected),
      `reasons logged vs frames sent ${rerun}`,
    );

    // The node kept serving, and nothing from the unknown senders changed its view.
    await assertServing(node, "after the flood");
    const info = await ask(node.port, "CLUSTER", "INFO");
    assert.equal(infoField(info, "cluster_known_nodes"), "1", info);
    assert.equal(infoField(info, "cluster_current_epoch"), "0", info);
    assert.equal(infoField(info, "cluster_slots_assigned"), "0", info);
    assert.ok(Number(infoField(info, "cluster_stats_messages_ping_received")) >= LINKS, info);
    assert.ok(Number(infoField(info, "cluster_stats_messages_pong_sent")) >= LINKS, info);
    const nodes = (await ask(node.port, "CLUSTER", "NODES")).trim().split("\n");
    assert.equal(nodes.length, 1, nodes.join("\n"));
    assert.match(nodes[0], new RegExp(`^${nodeId} .* myself,master - 0 0 0 connected$`));
    // PUBLISH from a node it does not know is not delivered (Redis ignores it too).
    assert.deepEqual(plain(await subscriber.call("PING")), ["pong", ""]);
  },
);

Deno.test("a MEET or PING from an unknown node gets a PONG with the node's id, and the handshake completes", async () => {
  await using node = await startClusterNode();
  const bus = node.port + 10000;
  const nodeId = await ask(node.port, "CLUSTER", "MYID");
  const rng = new Rng(7);
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const fakeCport = (listener.addr as Deno.NetAddr).port;
  const fakeId = rng.id();
  const fake = (type: number, id = fakeId): BusHeader => ({
    ...strangerHeader(rng, type),
    sender: id,
    port: 4242,
    cport: fakeCport,
    ip: "",
    flags: NodeFlag.MASTER,
    slots: NO_SLOTS,
    replicaOf: null,
    currentEpoch: 0,
    configEpoch: 0,
  });
  const buf = new Uint8Array(64 * 1024);
  const assertPong = (frame: Uint8Array) => {
    const pong = decodeMessage(frame);
    assert.equal(pong.header.type, MessageType.PONG);
    assert.equal(pong.header.sender, nodeId);
    assert.equal(pong.header.port, node.port);
    assert.equal(pong.header.cport, bus);
    assert.ok(pong.header.flags & NodeFlag.MASTER);
    return pong;
  };

  // A PING from a stranger, written in pieces: answered, and nothing is learned from it.
  using inbound = await Deno.connect({ hostname: "127.0.0.1", port: bus });
  const ping = encodePing(fake(MessageType.PING, rng.id()), [], "");
  for (const [a, b] of [[0, 3], [3, 9], [9, 2000], [2000, ping.length]]) {
    await writeAll(inbound, ping.subarray(a, b));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assertPong(await readFrame(inbound, buf));
  assert.equal(infoField(await ask(node.port, "CLUSTER", "INFO"), "cluster_known_nodes"), "1");

  // A MEET: answered, and the node starts a handshake with the address it announced.
  await writeAll(inbound, encodePing(fake(MessageType.MEET), [], "fake.example"));
  assertPong(await readFrame(inbound, buf));
  using outbound = await within(listener.accept(), "the node's connection to the fake bus port");
  const hello = decodeMessage(await readFrame(outbound, buf));
  assert.equal(hello.header.type, MessageType.PING, "the node's first message on its link");
  assert.equal(hello.header.sender, nodeId);
  await writeAll(outbound, encodePing(fake(MessageType.PONG), [], "fake.example"));
  const line = await waitFor(async () => {
    const nodes = await ask(node.port, "CLUSTER", "NODES");
    return nodes.split("\n").find((l) => l.startsWith(`${fakeId} `) && !l.includes("handshake"));
  }, { what: "the fake node in CLUSTER NODES", timeoutMs: 5000 });
  assert.match(
    line,
    new RegExp(`^${fakeId} 127\\.0\\.0\\.1:4242@${fakeCport}(,fake\\.example)? master `),
  );
  // Now known, the fake node's PINGs are still answered on its own link.
  await writeAll(inbound, encodePing(fake(MessageType.PING), [], "fake.example"));
  assertPong(await readFrame(inbound, buf));
  await assertServing(node, "after the handshake");
});

Deno.test("headers declaring huge lengths reserve no memory ahead of the bytes, and large frames still reassemble", async () => {
  await using node = await startClusterNode();
  const bus = node.port + 10000;
  const nodeId = await ask(node.port, "CLUSTER", "MYID");
  const maxFrame = await maxFrameOf(node.port);
  const vmSize = async () => {
    const status = await Deno.readTextFile(`/proc/${node.pid}/status`);
    return Number(/VmSize:\s+(\d+) kB/.exec(status)![1]) * 1024;
  };
  const rng = new Rng(11);
  const before = await vmSize();
  const conns: Deno.Conn[] = [];
  const buf = new Uint8Array(64 * 1024);
  try {
    for (let i = 0; i < 40; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: bus });
      conns.push(conn);
      // A PUBLISH header declaring just under the limit, then nothing more.
      const header = encodeHeaderOnly(strangerHeader(rng, MessageType.PUBLISH));
      await writeAll(conn, setTotlen(header, maxFrame - i));
    }
    // A link opened after them is refused only once the node has read what came before it.
    using sentinel = await Deno.connect({ hostname: "127.0.0.1", port: bus });
    await writeAll(sentinel, rng.bytes(16).fill(0x21));
    assert.ok(await closedByNode(sentinel, buf), "the sentinel link is dropped");
    await new Promise((resolve) => setTimeout(resolve, 200));
    const grown = (await vmSize()) - before;
    // 40 links waiting for a gigabyte each would reserve 40 GB if buffers were sized up front.
    assert.ok(grown < 4 * 2 ** 30, `address space grew by ${Math.round(grown / 2 ** 20)} MB`);
    await assertServing(node, "with 40 links waiting for a gigabyte");

    // A 3 MB frame (a PUBLISH from a stranger, ignored) and a PING behind it, in 64 KB pieces.
    using big = await Deno.connect({ hostname: "127.0.0.1", port: bus });
    const publish = encodePublish(
      strangerHeader(rng, MessageType.PUBLISH),
      new TextEncoder().encode("big"),
      rng.bytes(3 * 2 ** 20),
    );
    const stream = concat([publish, encodePing(strangerHeader(rng, MessageType.PING), [], "")]);
    for (let at = 0; at < stream.length; at += 65536) {
      await writeAll(big, stream.subarray(at, at + 65536));
    }
    const pong = decodeMessage(await readFrame(big, buf));
    assert.equal(pong.header.type, MessageType.PONG);
    assert.equal(pong.header.sender, nodeId);
  } finally {
    for (const conn of conns) conn.close();
  }
  await assertServing(node, "after the large frames");
});
