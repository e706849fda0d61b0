/**
 * Redis 7.0's cluster bus messages (`clusterMsg` in Redis's src/cluster.h), byte for byte: a
 * 2256-byte header (`RCmb`, total length, version 1, ports, type, count, epochs, offset, sender,
 * slot bitmap, master, ip, flags, state) and a body by type: gossip entries of 104 bytes plus
 * 8-byte-aligned extensions (the hostname) for PING/PONG/MEET, a node name for FAIL, channel
 * and message for PUBLISH, an epoch, name and bitmap for UPDATE. Integers are big-endian.
 * Decoding checks every length against the type, so a short, long or garbled frame is an error
 * and never a partial message.
 */
import { CLUSTER_SLOTS } from "./key_slot.ts";
import { MESSAGE_TYPE_COUNT, MessageType } from "./state.ts";

/** The header's size: where the body starts (CLUSTERMSG_MIN_LEN). */
export const HEADER_SIZE = 2256;
/** One gossip entry's size. */
export const GOSSIP_SIZE = 104;
/** The bus protocol version. */
export const PROTOCOL_VERSION = 1;
/**
 * Message flag: the sender, a master in a manual failover, has paused its clients' writes, so
 * the offset in this header is final (Redis's CLUSTERMSG_FLAG0_PAUSED).
 */
export const MFLAG_PAUSED = 1;
/** Message flag: vote even though the master is up (CLUSTER FAILOVER FORCE). */
export const MFLAG_FORCEACK = 2;
/** Message flag: the message may carry extensions (set by Redis 7 on every PING/PONG/MEET). */
export const MFLAG_EXT_DATA = 4;
/** Extension type of the announced hostname. */
const EXT_HOSTNAME = 0;
const NAME_LEN = 40;
const IP_LEN = 46;
const SLOT_BYTES = CLUSTER_SLOTS / 8;
const SIGNATURE = [0x52, 0x43, 0x6d, 0x62]; // "RCmb"
const PRIORITY_TAG = 0x47437072; // "GCpr", big-endian, in notused1 at 2216
const PRIORITY_AT = 2216;

/** The header fields of every message. */
export interface BusHeader {
  /** Message type ({@link MessageType}). */
  type: number;
  /** Sender's client port. */
  port: number;
  /** Sender's current epoch. */
  currentEpoch: number;
  /** Config epoch of the sender (a master) or of its master. */
  configEpoch: number;
  /** Sender's replication offset. */
  offset: number;
  /** Sender's node id. */
  sender: string;
  /** Slots of the sender's shard (bitmap of 2048 bytes). */
  slots: Uint8Array;
  /** Id of the master the sender replicates, or null. */
  replicaOf: string | null;
  /** The IP the sender announces, or "" (then the receiver uses the socket's address). */
  ip: string;
  /** Plain-text client port when the client port is TLS, or 0. */
  pport: number;
  /** Sender's bus port. */
  cport: number;
  /** Sender's node flags. */
  flags: number;
  /** The cluster's state as the sender sees it: 0 ok, 1 fail. */
  state: number;
  /** Message flags (mflags[0]). */
  mflags: number;
  /**
   * The sender's `replica-priority`, when the sender is a gocache node: carried in the first 8
   * of the header's 30 reserved bytes (`notused1`) behind the tag "GCpr", which Redis ignores
   * (an unknown ping extension would make it log a warning per message). Absent from Redis's
   * messages.
   */
  priority?: number;
}

/** One gossip entry: what the sender knows of another node. */
export interface GossipEntry {
  /** The node's id. */
  id: string;
  /** When the sender last pinged it (seconds). */
  pingSent: number;
  /** When the sender last heard its PONG (seconds). */
  pongReceived: number;
  /** Its IP. */
  ip: string;
  /** Its client port. */
  port: number;
  /** Its bus port. */
  cport: number;
  /** Its flags as the sender sees them. */
  flags: number;
  /** Its plain-text port. */
  pport: number;
}

/** A decoded message. */
export interface BusMessage {
  /** The header. */
  header: BusHeader;
  /** PING/PONG/MEET: the gossip entries. */
  gossip: GossipEntry[];
  /** PING/PONG/MEET: the hostname extension, when present. */
  hostname: string | null;
  /** FAIL: the failed node's id. */
  failed: string | null;
  /** PUBLISH/PUBLISHSHARD: channel and message. */
  publish: { channel: Uint8Array; message: Uint8Array } | null;
  /** UPDATE: a node's slots at a config epoch. */
  update: { configEpoch: number; id: string; slots: Uint8Array } | null;
}

/** A frame that is not a valid bus message; the link that sent it is dropped. */
export class BusProtocolError extends Error {
  /** Creates the error with the reason. */
  constructor(reason: string) {
    super(reason);
    this.name = "BusProtocolError";
  }
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function readName(bytes: Uint8Array, at: number, length: number): string {
  let end = at;
  while (end < at + length && bytes[end] !== 0) end++;
  return decoder.decode(bytes.subarray(at, end));
}

function writeName(bytes: Uint8Array, at: number, length: number, text: string): void {
  const encoded = encoder.encode(text);
  bytes.set(encoded.subarray(0, Math.min(length, encoded.length)), at);
}

function u64(view: DataView, at: number): number {
  const value = view.getBigUint64(at);
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

/**
 * The total length the frame starting at `bytes[0]` declares, once 8 bytes are there, or -1
 * if fewer arrived; throws if the signature is wrong or the length is below the header's size
 * or above `maxLength`.
 */
export function frameLength(bytes: Uint8Array, maxLength: number): number {
  if (bytes.length < 8) return -1;
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== SIGNATURE[i]) throw new BusProtocolError("bad signature (not RCmb)");
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(4);
  if (length < HEADER_SIZE) throw new BusProtocolError(`message length ${length} is too short`);
  if (length > maxLength) throw new BusProtocolError(`message length ${length} is too long`);
  return length;
}

/** Decodes one whole frame (exactly its declared length); throws {@link BusProtocolError}. */
export function decodeMessage(frame: Uint8Array): BusMessage {
  const length = frameLength(frame, Number.MAX_SAFE_INTEGER);
  if (length !== frame.length) throw new BusProtocolError("frame length mismatch");
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const version = view.getUint16(8);
  if (version !== PROTOCOL_VERSION) throw new BusProtocolError(`unknown version ${version}`);
  const type = view.getUint16(12);
  if (type >= MESSAGE_TYPE_COUNT) throw new BusProtocolError(`unknown message type ${type}`);
  const count = view.getUint16(14);
  const replicaOf = readName(frame, 2128, NAME_LEN);
  const header: BusHeader = {
    type,
    port: view.getUint16(10),
    currentEpoch: u64(view, 16),
    configEpoch: u64(view, 24),
    offset: u64(view, 32),
    sender: readName(frame, 40, NAME_LEN),
    slots: frame.slice(80, 80 + SLOT_BYTES),
    replicaOf: replicaOf === "" ? null : replicaOf,
    // Redis keeps 45 bytes of the 46 (it puts a NUL at the last), so does the reader.
    ip: readName(frame, 2168, IP_LEN - 1),
    pport: view.getUint16(2246),
    cport: view.getUint16(2248),
    flags: view.getUint16(2250),
    state: frame[2252],
    mflags: frame[2253],
  };
  if (view.getUint32(PRIORITY_AT) === PRIORITY_TAG) {
    header.priority = view.getUint32(PRIORITY_AT + 4);
  }
  const message: BusMessage = {
    header,
    gossip: [],
    hostname: null,
    failed: null,
    publish: null,
    update: null,
  };
  const expect = (wanted: number) => {
    if (length !== wanted) {
      throw new BusProtocolError(`${type} message of length ${length}, expected ${wanted}`);
    }
  };
  switch (type) {
    case MessageType.PING:
    case MessageType.PONG:
    case MessageType.MEET: {
      let at = HEADER_SIZE + count * GOSSIP_SIZE;
      if (at > length) throw new BusProtocolError(`${count} gossip entries exceed the message`);
      for (let g = 0; g < count; g++) {
        const base = HEADER_SIZE + g * GOSSIP_SIZE;
        message.gossip.push({
          id: readName(frame, base, NAME_LEN),
          pingSent: view.getUint32(base + 40),
          pongReceived: view.getUint32(base + 44),
          ip: readName(frame, base + 48, IP_LEN - 1),
          port: view.getUint16(base + 94),
          cport: view.getUint16(base + 96),
          flags: view.getUint16(base + 98),
          pport: view.getUint16(base + 100),
        });
      }
      let extensions = view.getUint16(2214);
      if (header.mflags & MFLAG_EXT_DATA) {
        while (extensions-- > 0) {
          if (at + 8 > length) throw new BusProtocolError("extension header past the end");
          const extLength = view.getUint32(at);
          const extType = view.getUint16(at + 4);
          if (extLength % 8 !== 0 || extLength < 8 || at + extLength > length) {
            throw new BusProtocolError(`bad extension length ${extLength}`);
          }
          if (extType === EXT_HOSTNAME) message.hostname = readName(frame, at + 8, extLength - 8);
          at += extLength;
        }
      }
      expect(at);
      break;
    }
    case MessageType.FAIL:
      expect(HEADER_SIZE + NAME_LEN);
      message.failed = readName(frame, HEADER_SIZE, NAME_LEN);
      break;
    case MessageType.PUBLISH:
    case MessageType.PUBLISHSHARD: {
      if (length < HEADER_SIZE + 8) throw new BusProtocolError("short publish message");
      const channelLength = view.getUint32(HEADER_SIZE);
      const messageLength = view.getUint32(HEADER_SIZE + 4);
      expect(HEADER_SIZE + 8 + channelLength + messageLength);
      const start = HEADER_SIZE + 8;
      message.publish = {
        channel: frame.slice(start, start + channelLength),
        message: frame.slice(start + channelLength, start + channelLength + messageLength),
      };
      break;
    }
    case MessageType.UPDATE:
      expect(HEADER_SIZE + 8 + NAME_LEN + SLOT_BYTES);
      message.update = {
        configEpoch: u64(view, HEADER_SIZE),
        id: readName(frame, HEADER_SIZE + 8, NAME_LEN),
        slots: frame.slice(HEADER_SIZE + 8 + NAME_LEN, HEADER_SIZE + 8 + NAME_LEN + SLOT_BYTES),
      };
      break;
    case MessageType.MODULE:
      // clusterMsgModule: module_id (8), len (4), type (1), then len payload bytes; the
      // payload is not used, but the lengths must agree as Redis checks them.
      if (length < HEADER_SIZE + 13) throw new BusProtocolError("short module message");
      expect(HEADER_SIZE + 13 + view.getUint32(HEADER_SIZE + 8));
      break;
    default:
      expect(HEADER_SIZE);
  }
  return message;
}

function headerInto(frame: Uint8Array, header: BusHeader, count: number, extensions: number) {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  frame.set(SIGNATURE, 0);
  view.setUint32(4, frame.length);
  view.setUint16(8, PROTOCOL_VERSION);
  view.setUint16(10, header.port);
  view.setUint16(12, header.type);
  view.setUint16(14, count);
  view.setBigUint64(16, BigInt(header.currentEpoch));
  view.setBigUint64(24, BigInt(header.configEpoch));
  view.setBigUint64(32, BigInt(header.offset));
  writeName(frame, 40, NAME_LEN, header.sender);
  frame.set(header.slots, 80);
  if (header.replicaOf !== null) writeName(frame, 2128, NAME_LEN, header.replicaOf);
  writeName(frame, 2168, IP_LEN - 1, header.ip);
  view.setUint16(2214, extensions);
  view.setUint16(2246, header.pport);
  view.setUint16(2248, header.cport);
  view.setUint16(2250, header.flags);
  frame[2252] = header.state;
  frame[2253] = header.mflags;
  if (header.priority !== undefined) {
    view.setUint32(PRIORITY_AT, PRIORITY_TAG);
    view.setUint32(PRIORITY_AT + 4, header.priority >>> 0);
  }
  return view;
}

/** Encodes a PING, PONG or MEET with its gossip entries and, if given, the hostname extension. */
export function encodePing(
  header: BusHeader,
  gossip: readonly GossipEntry[],
  hostname: string,
): Uint8Array {
  const name = encoder.encode(hostname);
  const extLength = name.length === 0 ? 0 : 8 + Math.ceil((name.length + 1) / 8) * 8;
  const frame = new Uint8Array(HEADER_SIZE + gossip.length * GOSSIP_SIZE + extLength);
  const view = headerInto(
    frame,
    { ...header, mflags: header.mflags | MFLAG_EXT_DATA },
    gossip.length,
    extLength === 0 ? 0 : 1,
  );
  for (let g = 0; g < gossip.length; g++) {
    const base = HEADER_SIZE + g * GOSSIP_SIZE;
    const entry = gossip[g];
    writeName(frame, base, NAME_LEN, entry.id);
    view.setUint32(base + 40, entry.pingSent >>> 0);
    view.setUint32(base + 44, entry.pongReceived >>> 0);
    writeName(frame, base + 48, IP_LEN - 1, entry.ip);
    view.setUint16(base + 94, entry.port);
    view.setUint16(base + 96, entry.cport);
    view.setUint16(base + 98, entry.flags);
    view.setUint16(base + 100, entry.pport);
  }
  if (extLength > 0) {
    const at = HEADER_SIZE + gossip.length * GOSSIP_SIZE;
    view.setUint32(at, extLength);
    view.setUint16(at + 4, EXT_HOSTNAME);
    frame.set(name, at + 8);
  }
  return frame;
}

/** Encodes a FAIL about node `failed`. */
export function encodeFail(header: BusHeader, failed: string): Uint8Array {
  const frame = new Uint8Array(HEADER_SIZE + NAME_LEN);
  headerInto(frame, header, 0, 0);
  writeName(frame, HEADER_SIZE, NAME_LEN, failed);
  return frame;
}

/** Encodes a PUBLISH or PUBLISHSHARD. */
export function encodePublish(
  header: BusHeader,
  channel: Uint8Array,
  message: Uint8Array,
): Uint8Array {
  const frame = new Uint8Array(HEADER_SIZE + 8 + channel.length + message.length);
  const view = headerInto(frame, header, 0, 0);
  view.setUint32(HEADER_SIZE, channel.length);
  view.setUint32(HEADER_SIZE + 4, message.length);
  frame.set(channel, HEADER_SIZE + 8);
  frame.set(message, HEADER_SIZE + 8 + channel.length);
  return frame;
}

/** Encodes an UPDATE telling the receiver node `id` serves `slots` at `configEpoch`. */
export function encodeUpdate(
  header: BusHeader,
  update: { configEpoch: number; id: string; slots: Uint8Array },
): Uint8Array {
  const frame = new Uint8Array(HEADER_SIZE + 8 + NAME_LEN + SLOT_BYTES);
  const view = headerInto(frame, header, 0, 0);
  view.setBigUint64(HEADER_SIZE, BigInt(update.configEpoch));
  writeName(frame, HEADER_SIZE + 8, NAME_LEN, update.id);
  frame.set(update.slots, HEADER_SIZE + 8 + NAME_LEN);
  return frame;
}

/** Encodes a message that is only a header (FAILOVER_AUTH_REQUEST/ACK, MFSTART). */
export function encodeHeaderOnly(header: BusHeader): Uint8Array {
  const frame = new Uint8Array(HEADER_SIZE);
  headerInto(frame, header, 0, 0);
  return frame;
}
