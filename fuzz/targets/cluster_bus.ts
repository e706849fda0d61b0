/**
 * Target `cluster-bus`: the cluster bus message decoder (src/cluster/bus_codec.ts), fed the
 * way a bus link reads its socket: frames cut from a byte stream by `frameLength` (with the
 * server's default limit), each decoded by `decodeMessage`. The input is also decoded as one
 * frame with its signature and length field repaired, so that mutations reach the body checks.
 *
 * Crash: an exception other than BusProtocolError, or a broken invariant: a decoded message
 * that, encoded again by the project's encoder for its type and decoded, differs (compared for
 * messages whose names are ASCII; an IP is compared on its first 45 bytes, what the encoder
 * writes).
 *
 * @module
 */
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
  type GossipEntry,
  HEADER_SIZE,
  MFLAG_EXT_DATA,
} from "../../src/cluster/bus_codec.ts";
import { MessageType } from "../../src/cluster/state.ts";
import { check, concat, type FuzzTarget, latin1, toHex } from "../target.ts";

/** The limit a node puts on frames by default: 2 * proto-max-bulk-len + 8192. */
const MAX_FRAME = 2 * 512 * 1024 * 1024 + 8192;
const IP_BYTES = 45;

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** The message as the encoder can write it, as comparable text; null when not comparable. */
function comparable(message: BusMessage): string | null {
  const h = message.header;
  const names = [h.sender, h.replicaOf ?? "", h.ip, message.hostname ?? "", message.failed ?? ""];
  for (const g of message.gossip) names.push(g.id, g.ip);
  if (message.update !== null) names.push(message.update.id);
  if (!names.every(isAscii)) return null;
  const ping = h.type === MessageType.PING || h.type === MessageType.PONG ||
    h.type === MessageType.MEET;
  return JSON.stringify({
    ...h,
    slots: toHex(h.slots),
    ip: h.ip.slice(0, IP_BYTES),
    mflags: ping ? h.mflags | MFLAG_EXT_DATA : h.mflags,
    gossip: message.gossip.map((g) => ({ ...g, ip: g.ip.slice(0, IP_BYTES) })),
    hostname: message.hostname === "" ? null : message.hostname,
    failed: message.failed,
    publish: message.publish && [toHex(message.publish.channel), toHex(message.publish.message)],
    update: message.update && { ...message.update, slots: toHex(message.update.slots) },
  });
}

/** The message encoded again, or null for a type without an encoder (MODULE). */
function reencode(message: BusMessage): Uint8Array | null {
  const h = message.header;
  switch (h.type) {
    case MessageType.PING:
    case MessageType.PONG:
    case MessageType.MEET:
      return encodePing(h, message.gossip, message.hostname ?? "");
    case MessageType.FAIL:
      return encodeFail(h, message.failed ?? "");
    case MessageType.PUBLISH:
    case MessageType.PUBLISHSHARD:
      if (message.publish === null) return null;
      return encodePublish(h, message.publish.channel, message.publish.message);
    case MessageType.UPDATE:
      return message.update === null ? null : encodeUpdate(h, message.update);
    case MessageType.MODULE:
      return null;
    default:
      return encodeHeaderOnly(h);
  }
}

function decodeAndCheck(frame: Uint8Array): void {
  let message: BusMessage;
  try {
    message = decodeMessage(frame);
  } catch (e) {
    if (e instanceof BusProtocolError) return;
    throw e;
  }
  const before = comparable(message);
  if (before === null) return;
  const again = reencode(message);
  if (again === null) return;
  let after: string | null;
  try {
    after = comparable(decodeMessage(again));
  } catch (e) {
    throw new Error(`a re-encoded message does not decode: ${e}`);
  }
  check(before === after, () => `decoded:\n${before}\nre-encoded and decoded:\n${after}`);
}

const SLOTS = new Uint8Array(2048);
SLOTS.fill(0xff, 0, 512);

function header(type: number, overrides: Partial<BusHeader> = {}): BusHeader {
  return {
    type,
    port: 7000,
    currentEpoch: 5,
    configEpoch: 3,
    offset: 123456,
    sender: "a".repeat(40),
    slots: SLOTS,
    replicaOf: null,
    ip: "127.0.0.1",
    pport: 0,
    cport: 17000,
    flags: 1,
    state: 0,
    mflags: 0,
    ...overrides,
  };
}

const GOSSIP: GossipEntry[] = [
  {
    id: "b".repeat(40),
    pingSent: 1,
    pongReceived: 2,
    ip: "10.0.0.2",
    port: 7001,
    cport: 17001,
    flags: 8,
    pport: 0,
  },
  {
    id: "c".repeat(40),
    pingSent: 0,
    pongReceived: 0,
    ip: "::1",
    port: 7002,
    cport: 17002,
    flags: 2,
    pport: 0,
  },
];

function moduleFrame(): Uint8Array {
  const frame = encodeHeaderOnly(header(MessageType.MODULE));
  const body = new Uint8Array(13 + 5);
  new DataView(body.buffer).setUint32(8, 5);
  const out = concat([frame, body]);
  new DataView(out.buffer).setUint32(4, out.length);
  return out;
}

/** The cluster-bus target. */
export const clusterBusTarget: FuzzTarget = {
  name: "cluster-bus",
  description: "frameLength + decodeMessage: BusProtocolError only, messages re-encode the same",
  maxLength: 8 * 1024,
  corpus: () => {
    const ping = encodePing(header(MessageType.PING), GOSSIP, "node-1.example");
    const meet = encodePing(header(MessageType.MEET, { priority: 100 }), [GOSSIP[0]], "");
    const pong = encodePing(
      header(MessageType.PONG, { replicaOf: "d".repeat(40), flags: 2 }),
      [],
      "h",
    );
    return [
      ping,
      meet,
      pong,
      encodeFail(header(MessageType.FAIL), "b".repeat(40)),
      encodePublish(header(MessageType.PUBLISH), latin1("chan"), latin1("message")),
      encodeUpdate(header(MessageType.UPDATE), {
        configEpoch: 9,
        id: "e".repeat(40),
        slots: SLOTS,
      }),
      encodeHeaderOnly(header(MessageType.FAILOVER_AUTH_REQUEST)),
      moduleFrame(),
      concat([ping, pong]),
    ];
  },
  dictionary: ["RCmb", "\x00\x00\x08\xd0", "\x00\x01", "\x00\x00", "\xff\xff"].map(latin1),
  run(input: Uint8Array): void {
    // As a stream of frames.
    let at = 0;
    try {
      while (at < input.length) {
        const view = input.subarray(at);
        const length = frameLength(view, MAX_FRAME);
        if (length < 0 || view.length < length) break;
        check(length >= HEADER_SIZE, () => `frame length ${length} below the header's size`);
        decodeAndCheck(view.subarray(0, length));
        at += length;
      }
    } catch (e) {
      if (!(e instanceof BusProtocolError)) throw e;
    }
    // As one frame whose signature and length are right.
    if (input.length >= 8) {
      const frame = input.slice();
      frame.set(latin1("RCmb"), 0);
      new DataView(frame.buffer).setUint32(4, frame.length);
      decodeAndCheck(frame);
    }
  },
};
