/**
 * Redis's node description lines, the one text form of the cluster for both CLUSTER NODES and
 * the nodes.conf file: `<id> <ip>:<port>@<cport>[,<hostname>] <flags> <master|-> <ping-sent>
 * <pong-received> <config-epoch> <connected|disconnected> <slot ranges...>`, plus, in the file, a
 * last line `vars currentEpoch N lastVoteEpoch N`. Parsing checks every field and names the line
 * that is wrong, so a damaged file stops the start with a message instead of a half-loaded state.
 */
import { writeAtomicallySync } from "../persistence/atomic_file.ts";
import { CLUSTER_SLOTS } from "./key_slot.ts";
import { ClusterNode, isNodeId, NodeFlag } from "./node.ts";
import { ClusterState } from "./state.ts";

/**
 * One node's line (without the newline), as CLUSTER NODES prints it; `usePport` shows the
 * plain port of a `tls-cluster` node (to a client of the plain port, as Redis 7.0).
 */
export function describeNode(state: ClusterState, node: ClusterNode, usePport = false): string {
  const port = usePport && node.pport !== 0 ? node.pport : node.port;
  const address = `${node.ip}:${port}@${node.cport}` +
    (node.hostname !== "" ? `,${node.hostname}` : "");
  const master = node.master !== null ? node.master.id : "-";
  const linked = node.isMyself || node.link !== null ? "connected" : "disconnected";
  const epoch = node.isMaster ? node.configEpoch : (node.master?.configEpoch ?? node.configEpoch);
  const parts = [
    node.id,
    address,
    node.flagNames(),
    master,
    String(node.pingSent),
    String(node.pongReceived),
    String(epoch),
    linked,
  ];
  if (node.isMaster) {
    for (const [a, b] of node.slotRanges()) parts.push(a === b ? `${a}` : `${a}-${b}`);
  }
  if (node.isMyself && state.slotsInFlux.size > 0) {
    for (const slot of [...state.slotsInFlux].sort((a, b) => a - b)) {
      const to = state.migratingTo[slot];
      if (to !== null) parts.push(`[${slot}->-${to.id}]`);
      const from = state.importingFrom[slot];
      if (from !== null) parts.push(`[${slot}-<-${from.id}]`);
    }
  }
  return parts.join(" ");
}

/**
 * Every node's line, newline-terminated (CLUSTER NODES; handshake nodes too unless filtered;
 * `usePport` as {@link describeNode}).
 */
export function describeNodes(
  state: ClusterState,
  skipHandshake = false,
  usePport = false,
): string {
  let text = "";
  for (const node of state.nodes.values()) {
    if (skipHandshake && node.inHandshake) continue;
    text += describeNode(state, node, usePport) + "\n";
  }
  return text;
}

/** The whole nodes.conf text. */
export function formatNodesConf(state: ClusterState): string {
  return describeNodes(state, true) +
    `vars currentEpoch ${state.currentEpoch} lastVoteEpoch ${state.lastVoteEpoch}\n`;
}

/** A nodes.conf that cannot be loaded; the message names the line. */
export class NodesConfError extends Error {
  /** Creates the error for 1-based line `line`. */
  constructor(file: string, line: number, reason: string) {
    super(`${file} line ${line}: ${reason}`);
    this.name = "NodesConfError";
  }
}

const FLAG_BITS: Record<string, number> = {
  myself: NodeFlag.MYSELF,
  master: NodeFlag.MASTER,
  slave: NodeFlag.SLAVE,
  "fail?": NodeFlag.PFAIL,
  fail: NodeFlag.FAIL,
  handshake: NodeFlag.HANDSHAKE,
  noaddr: NodeFlag.NOADDR,
  nofailover: NodeFlag.NOFAILOVER,
  noflags: 0,
};

function parseEpoch(text: string): number | null {
  if (!/^\d{1,15}$/.test(text)) return null;
  return Number(text);
}

function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port <= 65535 ? port : null;
}

function parseSlot(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const slot = Number(text);
  return slot < CLUSTER_SLOTS ? slot : null;
}

/**
 * Parses a nodes.conf. `now` stamps the nodes' creation; the file must hold exactly one
 * `myself` node. Throws {@link NodesConfError} naming the first bad line.
 */
export function parseNodesConf(text: string, file: string, now: number): ClusterState {
  interface Pending {
    node: ClusterNode;
    masterId: string | null;
    slots: string[];
    line: number;
  }
  const pending: Pending[] = [];
  let currentEpoch = 0;
  let lastVoteEpoch = 0;
  let myself: ClusterNode | null = null;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i].trim();
    if (line === "") continue;
    const fields = line.split(/\s+/);
    const fail = (reason: string): never => {
      throw new NodesConfError(file, lineNo, reason);
    };
    if (fields[0] === "vars") {
      if (fields.length % 2 !== 1) fail("'vars' needs name and value pairs");
      for (let f = 1; f < fields.length; f += 2) {
        const value = parseEpoch(fields[f + 1]);
        if (value === null) fail(`bad value '${fields[f + 1]}' for ${fields[f]}`);
        if (fields[f] === "currentEpoch") currentEpoch = value as number;
        else if (fields[f] === "lastVoteEpoch") lastVoteEpoch = value as number;
        else fail(`unknown variable '${fields[f]}'`);
      }
      continue;
    }
    if (fields.length < 8) fail(`a node line needs at least 8 fields, found ${fields.length}`);
    const [id, address, flagText, masterText, pingText, pongText, epochText, linkText] = fields;
    if (!isNodeId(id)) fail(`'${id}' is not a node id (40 hex characters)`);
    const at = address.lastIndexOf("@");
    const colon = address.lastIndexOf(":", at);
    if (at < 0 || colon < 0) fail(`address '${address}' is not ip:port@cport`);
    const comma = address.indexOf(",", at);
    const port = parsePort(address.slice(colon + 1, at));
    const cport = parsePort(address.slice(at + 1, comma < 0 ? undefined : comma));
    if (port === null || cport === null) fail(`address '${address}' has a bad port`);
    let flags = 0;
    for (const name of flagText.split(",")) {
      const bit = FLAG_BITS[name];
      if (bit === undefined) fail(`unknown flag '${name}'`);
      flags |= bit;
    }
    if (masterText !== "-" && !isNodeId(masterText)) fail(`'${masterText}' is not a master id`);
    const ping = parseEpoch(pingText);
    const pong = parseEpoch(pongText);
    const epoch = parseEpoch(epochText);
    if (ping === null || pong === null || epoch === null) {
      fail("ping, pong and epoch must be numbers");
    }
    if (linkText !== "connected" && linkText !== "disconnected") {
      fail(`link state '${linkText}' is neither connected nor disconnected`);
    }
    const node = new ClusterNode(id, flags, now);
    node.ip = address.slice(0, colon);
    node.port = port as number;
    node.cport = cport as number;
    node.hostname = comma < 0 ? "" : address.slice(comma + 1);
    node.configEpoch = epoch as number;
    if (flags & NodeFlag.MYSELF) {
      if (myself !== null) fail("a second node is marked myself");
      myself = node;
    }
    pending.push({
      node,
      masterId: masterText === "-" ? null : masterText,
      slots: fields.slice(8),
      line: lineNo,
    });
  }
  if (myself === null) {
    // Named at the file's last line (the split leaves an empty string after a final newline).
    const last = lines.length > 1 && lines[lines.length - 1] === ""
      ? lines.length - 1
      : lines.length;
    throw new NodesConfError(file, last, "no node is marked myself");
  }
  const state = new ClusterState(myself);
  for (const p of pending) {
    if (state.nodes.has(p.node.id) && p.node !== myself) {
      throw new NodesConfError(file, p.line, `node ${p.node.id} appears twice`);
    }
    state.nodes.set(p.node.id, p.node);
  }
  for (const p of pending) {
    const fail = (reason: string): never => {
      throw new NodesConfError(file, p.line, reason);
    };
    if (p.masterId !== null) {
      let master = state.lookup(p.masterId);
      if (master === undefined) {
        master = new ClusterNode(p.masterId, NodeFlag.MASTER | NodeFlag.NOADDR, now);
        state.nodes.set(master.id, master);
      }
      p.node.master = master;
      master.addReplica(p.node);
    }
    for (const text of p.slots) {
      const open = /^\[(\d+)-([<>])-([0-9a-f]{40})\]$/.exec(text);
      if (open !== null) {
        const slot = parseSlot(open[1]);
        if (slot === null) fail(`bad slot in '${text}'`);
        if (p.node !== myself) fail(`'${text}' on a node other than myself`);
        let peer = state.lookup(open[3]);
        if (peer === undefined) {
          peer = new ClusterNode(open[3], NodeFlag.NOADDR, now);
          state.nodes.set(peer.id, peer);
        }
        if (open[2] === ">") state.setMigrating(slot as number, peer);
        else state.setImporting(slot as number, peer);
        continue;
      }
      const range = /^(\d+)(?:-(\d+))?$/.exec(text);
      if (range === null) fail(`'${text}' is not a slot or slot range`);
      const start = parseSlot((range as RegExpExecArray)[1]);
      const end = parseSlot((range as RegExpExecArray)[2] ?? (range as RegExpExecArray)[1]);
      if (start === null || end === null || end < start) fail(`bad slot range '${text}'`);
      for (let slot = start as number; slot <= (end as number); slot++) {
        if (state.owners[slot] !== null) fail(`slot ${slot} is assigned twice`);
        state.addSlot(p.node, slot);
      }
    }
  }
  state.currentEpoch = currentEpoch;
  state.lastVoteEpoch = lastVoteEpoch;
  state.dirty = false;
  return state;
}

/** Reads and parses a nodes.conf; null when there is none (or it is empty). */
export function readNodesConf(file: string, now: number): ClusterState | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  return text.trim() === "" ? null : parseNodesConf(text, file, now);
}

/**
 * nodes.conf on disk, written by one cluster node. A change that touches an epoch (a vote, a
 * config epoch) is written durably and atomically: a temporary file, fsynced, renamed over the
 * old one, the directory fsynced, before the vote or the claim leaves (Redis fsyncs then too).
 * Any other change (a slot moved by SETSLOT, a peer's address or flags) is written in place
 * like Redis 7.0's clusterSaveConfig: the new text padded with newlines to the old length in one
 * write, then the file cut to the new length, so a process killed between the two leaves valid
 * text followed by blank lines, which the parser skips. Renaming over an existing file costs
 * ~230 us on ext4 (it starts the writeback of the new data: auto_da_alloc) against ~10 us for
 * the write in place; `redis-cli --cluster rebalance` sends four such changes per slot moved.
 */
export class NodesConfFile {
  /** The file, kept open for writes in place; reopened after each atomic replacement. */
  #handle: Deno.FsFile | null = null;
  /** Its length as last written or found. */
  #length = 0;
  /** Set by {@link close}: a late write (a link's last message) opens no handle to keep. */
  #closed = false;
  readonly #encoder = new TextEncoder();

  /** Writes to `path`. */
  constructor(readonly path: string) {}

  /** Writes the state: durably and atomically when `durable`, else in place (see the class). */
  write(state: ClusterState, durable: boolean): void {
    const text = this.#encoder.encode(formatNodesConf(state));
    if (durable || this.#closed) {
      this.#handle?.close();
      this.#handle = null;
      writeAtomicallySync(this.path, text, durable);
      return;
    }
    if (this.#handle === null) {
      this.#handle = Deno.openSync(this.path, { write: true, create: true });
      this.#length = this.#handle.statSync().size;
    }
    const file = this.#handle;
    let bytes = text;
    if (this.#length > text.length) {
      bytes = new Uint8Array(this.#length).fill(0x0a);
      bytes.set(text);
    }
    file.seekSync(0, Deno.SeekMode.Start);
    let written = 0;
    while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
    if (bytes.length !== text.length) file.truncateSync(text.length);
    this.#length = text.length;
  }

  /** Closes the handle kept for writes in place; later writes replace the file. */
  close(): void {
    this.#handle?.close();
    this.#handle = null;
    this.#closed = true;
  }
}
