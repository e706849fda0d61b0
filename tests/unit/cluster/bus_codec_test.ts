import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type BusHeader,
  type BusMessage,
  BusProtocolError,
  decodeMessage,
  encodeFail,
  encodeHeaderOnly,
  encodePing,
  encodePublish,
  encodeUpdate,
  frameLength,
  GOSSIP_SIZE,
  type GossipEntry,
  HEADER_SIZE,
  MFLAG_EXT_DATA,
} from "../../../src/cluster/bus_codec.ts";
import { MessageType } from "../../../src/cluster/state.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Redis's clusterMsgModule without its 3 bulk_data bytes: module_id u64, len u32, type u8. */
const MODULE_BODY = 13;
const PING_TYPES = [MessageType.PING, MessageType.PONG, MessageType.MEET];
const HEADER_ONLY_TYPES = [
  MessageType.FAILOVER_AUTH_REQUEST,
  MessageType.FAILOVER_AUTH_ACK,
  MessageType.MFSTART,
];

function hexId(seed: number): string {
  let id = "";
  for (let i = 0; id.length < 40; i++) id += ((seed * 2654435761 + i * 40503) >>> 0).toString(16);
  return id.slice(0, 40);
}

function slotBitmap(...slots: number[]): Uint8Array {
  const bitmap = new Uint8Array(2048);
  for (const slot of slots) bitmap[slot >> 3] |= 1 << (slot & 7);
  return bitmap;
}

/** A header with a distinct value in every field, so a field at a wrong offset shows. */
function sampleHeader(type: number, overrides: Partial<BusHeader> = {}): BusHeader {
  return {
    type,
    port: 0x1a2b,
    currentEpoch: 0x0102030405,
    configEpoch: 0x060708090a,
    offset: 0x0b0c0d0e0f10,
    sender: hexId(1),
    slots: slotBitmap(0, 9, 5460, 16383),
    replicaOf: hexId(2),
    ip: "fe80::1:2:3:4",
    pport: 0x3c4d,
    cport: 0x5e6f,
    flags: 0x0203,
    state: 1,
    mflags: 0,
    ...overrides,
  };
}

function sampleGossip(n: number): GossipEntry {
  return {
    id: hexId(100 + n),
    pingSent: 0x11223344 + n,
    pongReceived: 0x55667788 + n,
    ip: `10.0.${n}.${200 + n}`,
    port: 7000 + n,
    cport: 17000 + n,
    flags: 0x0101 + n,
    pport: 0x2020 + n,
  };
}

/** One valid frame of every message type (the ping kinds with gossip and a hostname). */
function sampleFrames(): { name: string; frame: Uint8Array }[] {
  const frames = [
    ...PING_TYPES.map((type) => ({
      name: `type ${type} with gossip and hostname`,
      frame: encodePing(sampleHeader(type), [sampleGossip(1), sampleGossip(2)], "node-a.example"),
    })),
    {
      name: "PING without gossip or hostname",
      frame: encodePing(sampleHeader(MessageType.PING), [], ""),
    },
    { name: "FAIL", frame: encodeFail(sampleHeader(MessageType.FAIL), hexId(9)) },
    ...[MessageType.PUBLISH, MessageType.PUBLISHSHARD].map((type) => ({
      name: `publish type ${type}`,
      frame: encodePublish(sampleHeader(type), encoder.encode("chan"), encoder.encode("hello")),
    })),
    {
      name: "UPDATE",
      frame: encodeUpdate(sampleHeader(MessageType.UPDATE), {
        configEpoch: 42,
        id: hexId(3),
        slots: slotBitmap(1, 2, 3),
      }),
    },
    ...HEADER_ONLY_TYPES.map((type) => ({
      name: `header-only type ${type}`,
      frame: encodeHeaderOnly(sampleHeader(type)),
    })),
    { name: "MODULE", frame: moduleFrame(new Uint8Array([1, 2, 3, 4, 5])) },
  ];
  return frames;
}

/** A MODULE message as Redis's clusterSendModule builds it (no encoder: gocache never sends one). */
function moduleFrame(payload: Uint8Array): Uint8Array {
  const header = encodeHeaderOnly(sampleHeader(MessageType.MODULE));
  const frame = new Uint8Array(HEADER_SIZE + MODULE_BODY + payload.length);
  frame.set(header);
  const view = new DataView(frame.buffer);
  view.setUint32(4, frame.length);
  view.setBigUint64(HEADER_SIZE, 0x1234n);
  view.setUint32(HEADER_SIZE + 8, payload.length);
  frame[HEADER_SIZE + 12] = 7;
  frame.set(payload, HEADER_SIZE + MODULE_BODY);
  return frame;
}

/** Decodes and fails unless decoding throws a BusProtocolError (any other error fails too). */
function assertRejected(frame: Uint8Array, what: string): BusProtocolError {
  try {
    decodeMessage(frame);
  } catch (e) {
    if (e instanceof BusProtocolError) return e;
    throw new Error(`${what}: threw ${e} instead of a BusProtocolError`);
  }
  assert.fail(`${what}: a frame of ${frame.length} bytes was accepted`);
}

/** Decodes; a rejection must be a BusProtocolError, anything else is rethrown. */
function decodeOrProtocolError(frame: Uint8Array): BusMessage | null {
  try {
    return decodeMessage(frame);
  } catch (e) {
    if (e instanceof BusProtocolError) return null;
    throw e;
  }
}

function withTotlen(frame: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set(frame.subarray(0, Math.min(length, frame.length)));
  new DataView(out.buffer).setUint32(4, length);
  return out;
}

function patched(frame: Uint8Array, edit: (view: DataView, bytes: Uint8Array) => void) {
  const out = frame.slice();
  edit(new DataView(out.buffer), out);
  return out;
}

function text(bytes: Uint8Array, at: number, length: number): string {
  const field = bytes.subarray(at, at + length);
  const end = field.indexOf(0);
  return decoder.decode(end < 0 ? field : field.subarray(0, end));
}

Deno.test("a PING's header fields sit at Redis 7.0's clusterMsg offsets, big-endian", () => {
  const header = sampleHeader(MessageType.PING);
  const frame = encodePing(header, [sampleGossip(1)], "abcdefg");
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  assert.equal(HEADER_SIZE, 2256);
  assert.deepEqual([...frame.subarray(0, 4)], [0x52, 0x43, 0x6d, 0x62], "sig is RCmb");
  assert.equal(view.getUint32(4), frame.length, "totlen");
  assert.equal(frame.length, 2256 + 104 + 16);
  assert.equal(view.getUint16(8), 1, "ver");
  assert.equal(view.getUint16(10), 0x1a2b, "port");
  assert.equal(view.getUint16(12), MessageType.PING, "type");
  assert.equal(view.getUint16(14), 1, "count");
  assert.equal(view.getBigUint64(16), 0x0102030405n, "currentEpoch");
  assert.equal(view.getBigUint64(24), 0x060708090an, "configEpoch");
  assert.equal(view.getBigUint64(32), 0x0b0c0d0e0f10n, "offset");
  assert.equal(decoder.decode(frame.subarray(40, 80)), hexId(1), "sender");
  assert.deepEqual(frame.subarray(80, 2128), header.slots, "myslots");
  assert.equal(frame[80] & 1, 1, "slot 0 is bit 0 of byte 0");
  assert.equal(frame[81] & 2, 2, "slot 9 is bit 1 of byte 1");
  assert.equal(frame[80 + 2047] & 0x80, 0x80, "slot 16383 is bit 7 of the last byte");
  assert.equal(decoder.decode(frame.subarray(2128, 2168)), hexId(2), "slaveof");
  assert.equal(text(frame, 2168, 46), "fe80::1:2:3:4", "myip");
  assert.equal(frame[2168 + "fe80::1:2:3:4".length], 0, "myip is NUL-terminated");
  assert.equal(view.getUint16(2214), 1, "extensions");
  assert.ok(frame.subarray(2216, 2246).every((b) => b === 0), "notused1 is zero");
  assert.equal(view.getUint16(2246), 0x3c4d, "pport");
  assert.equal(view.getUint16(2248), 0x5e6f, "cport");
  assert.equal(view.getUint16(2250), 0x0203, "flags");
  assert.equal(frame[2252], 1, "state");
  assert.equal(frame[2253], MFLAG_EXT_DATA, "mflags[0] says extensions may follow");
  assert.equal(MFLAG_EXT_DATA, 4);
  assert.deepEqual([frame[2254], frame[2255]], [0, 0], "mflags[1..2]");

  const g = 2256;
  assert.equal(GOSSIP_SIZE, 104);
  assert.equal(decoder.decode(frame.subarray(g, g + 40)), hexId(101), "gossip nodename");
  assert.equal(view.getUint32(g + 40), 0x11223345, "gossip ping_sent");
  assert.equal(view.getUint32(g + 44), 0x55667789, "gossip pong_received");
  assert.equal(text(frame, g + 48, 46), "10.0.1.201", "gossip ip");
  assert.equal(view.getUint16(g + 94), 7001, "gossip port");
  assert.equal(view.getUint16(g + 96), 17001, "gossip cport");
  assert.equal(view.getUint16(g + 98), 0x0102, "gossip flags");
  assert.equal(view.getUint16(g + 100), 0x2021, "gossip pport");
  assert.deepEqual([frame[g + 102], frame[g + 103]], [0, 0], "gossip notused1");

  const ext = g + 104;
  assert.equal(view.getUint32(ext), 16, "extension length covers its 8-byte header");
  assert.equal(view.getUint16(ext + 4), 0, "extension type 0 is the hostname");
  assert.equal(view.getUint16(ext + 6), 0, "extension padding");
  assert.deepEqual([...frame.subarray(ext + 8, ext + 16)], [...encoder.encode("abcdefg"), 0]);
});

Deno.test("a FAIL, PUBLISH, UPDATE and header-only message have Redis's body layouts", () => {
  const fail = encodeFail(sampleHeader(MessageType.FAIL), hexId(7));
  assert.equal(fail.length, 2256 + 40);
  assert.equal(new DataView(fail.buffer).getUint32(4), 2296);
  assert.equal(decoder.decode(fail.subarray(2256)), hexId(7));

  const publish = encodePublish(
    sampleHeader(MessageType.PUBLISH),
    new Uint8Array([0, 0xff, 0x0d]),
    new Uint8Array([0x0a, 0, 1, 2]),
  );
  const pv = new DataView(publish.buffer);
  assert.equal(publish.length, 2256 + 8 + 3 + 4);
  assert.equal(pv.getUint32(4), publish.length);
  assert.equal(pv.getUint32(2256), 3, "channel_len");
  assert.equal(pv.getUint32(2260), 4, "message_len");
  assert.deepEqual([...publish.subarray(2264)], [0, 0xff, 0x0d, 0x0a, 0, 1, 2], "bulk_data");

  const update = encodeUpdate(sampleHeader(MessageType.UPDATE), {
    configEpoch: 0x0a0b0c0d0e,
    id: hexId(8),
    slots: slotBitmap(100, 16383),
  });
  const uv = new DataView(update.buffer);
  assert.equal(update.length, 2256 + 8 + 40 + 2048);
  assert.equal(uv.getUint32(4), update.length);
  assert.equal(uv.getBigUint64(2256), 0x0a0b0c0d0en, "nodecfg.configEpoch");
  assert.equal(decoder.decode(update.subarray(2264, 2304)), hexId(8), "nodecfg.nodename");
  assert.deepEqual(update.subarray(2304), slotBitmap(100, 16383), "nodecfg.slots");

  for (const type of HEADER_ONLY_TYPES) {
    const frame = encodeHeaderOnly(sampleHeader(type));
    assert.equal(frame.length, 2256);
    assert.equal(new DataView(frame.buffer).getUint16(12), type);
    assert.equal(new DataView(frame.buffer).getUint16(14), 0, "count");
  }
  // A master (no slaveof) leaves the field zero, as Redis's memset header does.
  const master = encodeHeaderOnly(sampleHeader(MessageType.MFSTART, { replicaOf: null }));
  assert.ok(master.subarray(2128, 2168).every((b) => b === 0));
});

Deno.test("the hostname extension is NUL-terminated and padded to 8 bytes for every length", () => {
  for (const length of [0, 1, 6, 7, 8, 9, 15, 16, 17, 63, 255]) {
    const hostname = "h".repeat(length);
    const frame = encodePing(sampleHeader(MessageType.PING), [sampleGossip(0)], hostname);
    const view = new DataView(frame.buffer);
    const ext = HEADER_SIZE + GOSSIP_SIZE;
    const extLength = length === 0 ? 0 : 8 + Math.ceil((length + 1) / 8) * 8;
    assert.equal(frame.length, ext + extLength, `frame length for a ${length}-byte hostname`);
    assert.equal(view.getUint32(4), frame.length);
    assert.equal(view.getUint16(2214), length === 0 ? 0 : 1, "extensions count");
    if (length > 0) {
      assert.equal(view.getUint32(ext), extLength);
      assert.equal(extLength % 8, 0);
      assert.equal(view.getUint16(ext + 4), 0);
      assert.equal(text(frame, ext + 8, extLength - 8), hostname);
      assert.ok(frame.subarray(ext + 8 + length).every((b) => b === 0), "NUL and padding");
    }
    const decoded = decodeMessage(frame);
    assert.equal(decoded.hostname, length === 0 ? null : hostname);
    assert.equal(decoded.gossip.length, 1);
  }
  assert.equal(encodePing(sampleHeader(0), [], "abcdefg").length, HEADER_SIZE + 16);
  assert.equal(encodePing(sampleHeader(0), [], "abcdefgh").length, HEADER_SIZE + 24);
});

Deno.test("extensions of unknown types are skipped and the hostname among them is found", () => {
  const base = encodePing(sampleHeader(MessageType.PONG), [sampleGossip(3)], "");
  const unknown = new Uint8Array(24);
  new DataView(unknown.buffer).setUint32(0, 24);
  new DataView(unknown.buffer).setUint16(4, 1); // Redis 7.2's forgotten-node extension.
  unknown.fill(0xee, 8);
  const host = new Uint8Array(16);
  new DataView(host.buffer).setUint32(0, 16);
  host.set(encoder.encode("redis-7"), 8);
  const frame = new Uint8Array(base.length + unknown.length + host.length);
  frame.set(base);
  frame.set(unknown, base.length);
  frame.set(host, base.length + unknown.length);
  const view = new DataView(frame.buffer);
  view.setUint32(4, frame.length);
  view.setUint16(2214, 2);
  frame[2253] |= MFLAG_EXT_DATA;
  const decoded = decodeMessage(frame);
  assert.equal(decoded.hostname, "redis-7");
  assert.equal(decoded.gossip[0].id, hexId(103));
  // Without MFLAG_EXT_DATA the extension count is ignored, as Redis does, so the bytes are extra.
  assertRejected(patched(frame, (_, b) => (b[2253] = 0)), "extensions without the flag");
});

Deno.test("every message type round-trips through encode and decode", () => {
  const id = fc.stringMatching(/^[0-9a-f]{40}$/);
  const u16 = fc.integer({ min: 0, max: 0xffff });
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const u64 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
  const ip = fc.oneof(fc.ipV4(), fc.ipV6().map((a) => a.slice(0, 45)), fc.constant(""));
  const slots = fc.uint8Array({ minLength: 2048, maxLength: 2048 });
  const header = (types: readonly number[]) =>
    fc.record({
      type: fc.constantFrom(...types),
      port: u16,
      currentEpoch: u64,
      configEpoch: u64,
      offset: u64,
      sender: id,
      slots,
      replicaOf: fc.option(id),
      ip,
      pport: u16,
      cport: u16,
      flags: u16,
      state: fc.integer({ min: 0, max: 1 }),
      mflags: fc.integer({ min: 0, max: 3 }),
    }).map((h): BusHeader => ({ ...h }));
  const gossip = fc.record({
    id,
    pingSent: u32,
    pongReceived: u32,
    ip,
    port: u16,
    cport: u16,
    flags: u16,
    pport: u16,
  }).map((g): GossipEntry => ({ ...g }));
  const hostname = fc.oneof(
    fc.constant(""),
    fc.stringMatching(/^[a-z0-9.-]{1,64}$/),
    fc.integer({ min: 1, max: 40 }).map((n) => "x".repeat(n)),
  );
  /** Decoding from a view at an odd offset into a larger buffer must not matter. */
  const decodeAtOffset = (frame: Uint8Array) => {
    const big = new Uint8Array(frame.length + 7);
    big.set(frame, 3);
    return decodeMessage(big.subarray(3, 3 + frame.length));
  };

  fc.assert(
    fc.property(
      header(PING_TYPES),
      fc.array(gossip, { maxLength: 6 }),
      hostname,
      (h, entries, name) => {
        const decoded = decodeAtOffset(encodePing(h, entries, name));
        assert.deepEqual(decoded.header, { ...h, mflags: h.mflags | MFLAG_EXT_DATA });
        assert.deepEqual(decoded.gossip, entries);
        assert.equal(decoded.hostname, name === "" ? null : name);
        assert.equal(decoded.failed, null);
        assert.equal(decoded.publish, null);
        assert.equal(decoded.update, null);
      },
    ),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(header([MessageType.FAIL]), id, (h, failed) => {
      const decoded = decodeAtOffset(encodeFail(h, failed));
      assert.deepEqual(decoded.header, h);
      assert.equal(decoded.failed, failed);
      assert.deepEqual(decoded.gossip, []);
    }),
    { numRuns: 100 },
  );
  fc.assert(
    fc.property(
      header([MessageType.PUBLISH, MessageType.PUBLISHSHARD]),
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 3000 }),
      (h, channel, message) => {
        const decoded = decodeAtOffset(encodePublish(h, channel, message));
        assert.deepEqual(decoded.header, h);
        assert.deepEqual(decoded.publish, { channel, message });
      },
    ),
    { numRuns: 200 },
  );
  fc.assert(
    fc.property(header([MessageType.UPDATE]), u64, id, slots, (h, configEpoch, node, bitmap) => {
      const decoded = decodeAtOffset(encodeUpdate(h, { configEpoch, id: node, slots: bitmap }));
      assert.deepEqual(decoded.header, h);
      assert.deepEqual(decoded.update, { configEpoch, id: node, slots: bitmap });
    }),
    { numRuns: 100 },
  );
  fc.assert(
    fc.property(header(HEADER_ONLY_TYPES), (h) => {
      const decoded = decodeAtOffset(encodeHeaderOnly(h));
      assert.deepEqual(decoded.header, h);
      assert.deepEqual(decoded.gossip, []);
      assert.equal(decoded.hostname, null);
    }),
    { numRuns: 100 },
  );
  // A large PUBLISH and a MODULE message (decoded for its header only; its body is ignored).
  const big = new Uint8Array(200_000).map((_, i) => i * 7);
  const decoded = decodeMessage(encodePublish(sampleHeader(MessageType.PUBLISH), big, big));
  assert.deepEqual(decoded.publish, { channel: big, message: big });
  assert.deepEqual(decodeMessage(moduleFrame(big)).header, sampleHeader(MessageType.MODULE));
  assert.deepEqual(
    decodeMessage(moduleFrame(new Uint8Array(0))).header,
    sampleHeader(MessageType.MODULE),
  );
});

Deno.test("frameLength waits for 8 bytes, then checks the signature and the length bounds", () => {
  const frame = encodeHeaderOnly(sampleHeader(MessageType.MFSTART));
  for (let n = 0; n < 8; n++) assert.equal(frameLength(frame.subarray(0, n), 1 << 20), -1);
  assert.equal(frameLength(frame.subarray(0, 8), 1 << 20), HEADER_SIZE);
  assert.equal(frameLength(frame, HEADER_SIZE), HEADER_SIZE);
  assert.throws(() => frameLength(frame, HEADER_SIZE - 1), BusProtocolError);
  assert.throws(() => frameLength(withTotlen(frame, 8), 1 << 20), /too short/);
  assert.throws(() => frameLength(withTotlen(frame, HEADER_SIZE - 1), 1 << 20), /too short/);
  const huge = patched(frame, (v) => v.setUint32(4, 0xffffffff));
  assert.throws(() => frameLength(huge, 1 << 30), /too long/);
  for (let i = 0; i < 4; i++) {
    const bad = patched(frame, (_, b) => (b[i] ^= 0x20));
    assert.throws(() => frameLength(bad, 1 << 20), /signature/);
  }
});

Deno.test("every truncated prefix of every message type is rejected", () => {
  for (const { name, frame } of sampleFrames()) {
    for (let n = 0; n < frame.length; n++) {
      assertRejected(frame.subarray(0, n), `${name} cut to ${n} bytes`);
    }
    assert.ok(decodeMessage(frame), `${name} whole`);
  }
});

Deno.test("every declared length but the right one is rejected, for every message type", () => {
  for (const { name, frame } of sampleFrames()) {
    for (let length = HEADER_SIZE; length <= frame.length + 2 * GOSSIP_SIZE; length++) {
      if (length === frame.length) continue;
      // Cut or zero-padded to `length`, and declaring it: the body no longer fits the type.
      assertRejected(withTotlen(frame, length), `${name} resized to ${length}`);
    }
    // Declaring one length and carrying another.
    assertRejected(withTotlen(frame, frame.length).subarray(0, frame.length - 1), name);
    assertRejected(
      patched(frame, (v) => v.setUint32(4, frame.length + 1)),
      `${name} declaring a byte more`,
    );
    const longer = new Uint8Array(frame.length + 1);
    longer.set(frame);
    assertRejected(longer, `${name} with a byte more than it declares`);
  }
});

Deno.test("a bad signature, version or type and inconsistent body lengths are rejected", () => {
  const ping = encodePing(sampleHeader(MessageType.PING), [sampleGossip(1)], "abcdefg");
  for (let i = 0; i < 4; i++) {
    const e = assertRejected(patched(ping, (_, b) => (b[i] = 0)), `signature byte ${i}`);
    assert.match(e.message, /signature/);
  }
  for (const version of [0, 2, 0x0100, 0xffff]) {
    const e = assertRejected(patched(ping, (v) => v.setUint16(8, version)), `version ${version}`);
    assert.match(e.message, /version/);
  }
  for (const type of [11, 12, 100, 0x0100, 0xffff]) {
    const header = encodeHeaderOnly(sampleHeader(MessageType.MFSTART, { type }));
    assert.match(assertRejected(header, `type ${type}`).message, /type/);
  }
  // Gossip counts past the end of the frame.
  for (const count of [2, 3, 100, 0xffff]) {
    const e = assertRejected(patched(ping, (v) => v.setUint16(14, count)), `count ${count}`);
    assert.match(e.message, /gossip|extension|length/);
  }
  const noExtras = encodePing(sampleHeader(MessageType.PING), [], "");
  assertRejected(patched(noExtras, (v) => v.setUint16(14, 1)), "one gossip entry in none");
  // Extension lengths that are not multiples of 8, too small, or past the end; a missing one.
  const ext = HEADER_SIZE + GOSSIP_SIZE;
  for (const length of [0, 4, 7, 9, 15, 17, 24, 0x80000000, 0xffffffff]) {
    const e = assertRejected(patched(ping, (v) => v.setUint32(ext, length)), `ext ${length}`);
    assert.match(e.message, /extension/);
  }
  assertRejected(patched(ping, (v) => v.setUint16(2214, 2)), "two extensions, one present");
  assertRejected(patched(ping, (v) => v.setUint16(2214, 0)), "extension bytes not announced");
  // PUBLISH lengths that do not add up to the frame.
  const publish = encodePublish(
    sampleHeader(MessageType.PUBLISH),
    encoder.encode("ch"),
    encoder.encode("msg"),
  );
  for (
    const [channel, message] of [[3, 3], [2, 2], [0, 0], [0xffffffff, 0xffffffff], [6, 0], [0, 6]]
  ) {
    assertRejected(
      patched(publish, (v) => {
        v.setUint32(HEADER_SIZE, channel);
        v.setUint32(HEADER_SIZE + 4, message);
      }),
      `publish lengths ${channel}+${message}`,
    );
  }
  assertRejected(withTotlen(publish, HEADER_SIZE + 7), "publish without its length fields");
  // MODULE: the declared payload length must match the frame.
  const module = moduleFrame(new Uint8Array(10));
  for (const len of [0, 9, 11, 0xffffffff]) {
    assertRejected(patched(module, (v) => v.setUint32(HEADER_SIZE + 8, len)), `module ${len}`);
  }
  assertRejected(withTotlen(module, HEADER_SIZE + 12), "module without its length field");
});

Deno.test("random bytes are rejected with a BusProtocolError and nothing else", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 6000 }), (bytes) => {
      assertRejected(bytes, "random bytes");
    }),
    { numRuns: 2000 },
  );
  // Random bodies behind a plausible header: any type, count and extension count.
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 14 }),
      fc.integer({ min: 0, max: 4 }),
      fc.integer({ min: 0, max: 3 }),
      fc.uint8Array({ maxLength: 3000 }),
      fc.uint8Array({ minLength: HEADER_SIZE - 8, maxLength: HEADER_SIZE - 8 }),
      (type, count, extensions, body, rest) => {
        const frame = new Uint8Array(HEADER_SIZE + body.length);
        frame.set([0x52, 0x43, 0x6d, 0x62]);
        frame.set(rest, 8);
        frame.set(body, HEADER_SIZE);
        const view = new DataView(frame.buffer);
        view.setUint32(4, frame.length);
        view.setUint16(8, 1);
        view.setUint16(12, type);
        view.setUint16(14, count);
        view.setUint16(2214, extensions);
        decodeOrProtocolError(frame);
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("valid frames with random bytes overwritten decode or throw a BusProtocolError only", () => {
  const frames = sampleFrames().map((s) => s.frame);
  // Offsets where a change alters how the rest is read: lengths, version, type, counts, flags.
  const sensitive = [4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 2214, 2215, 2253];
  for (const frame of frames) {
    if (frame.length > HEADER_SIZE) {
      sensitive.push(...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => i + 2256));
    }
  }
  let decoded = 0;
  fc.assert(
    fc.property(
      fc.constantFrom(...frames),
      fc.array(
        fc.tuple(
          fc.oneof(fc.constantFrom(...sensitive), fc.nat()),
          fc.integer({ min: 0, max: 255 }),
        ),
        { minLength: 1, maxLength: 4 },
      ),
      (frame, edits) => {
        const mutated = frame.slice();
        for (const [at, value] of edits) mutated[at % mutated.length] = value;
        if (decodeOrProtocolError(mutated) !== null) decoded++;
      },
    ),
    { numRuns: 5000 },
  );
  // Most edits land in names, bitmaps and payloads and still decode: both paths ran.
  assert.ok(decoded > 0 && decoded < 5000, `${decoded} of 5000 mutated frames decoded`);
});

Deno.test("gocache's replica-priority rides in notused1 behind a tag, and is absent otherwise", () => {
  const plain = encodePing(sampleHeader(MessageType.PING), [], "");
  assert.ok(plain.subarray(2216, 2246).every((b) => b === 0), "Redis's messages: all zero");
  assert.equal(decodeMessage(plain).header.priority, undefined);
  const tagged = encodePing({ ...sampleHeader(MessageType.PING), priority: 10 }, [], "");
  assert.equal(decoder.decode(tagged.subarray(2216, 2220)), "GCpr");
  assert.equal(new DataView(tagged.buffer).getUint32(2220), 10);
  assert.ok(tagged.subarray(2224, 2246).every((b) => b === 0), "the rest stays zero");
  assert.equal(decodeMessage(tagged).header.priority, 10);
  // Only the tag makes the bytes a priority: other non-zero bytes there are ignored.
  const other = tagged.slice();
  other[2216] = 0x41;
  assert.equal(decodeMessage(other).header.priority, undefined);
});
