/**
 * A running cluster as `gocache cluster` sees it: the nodes one node's `CLUSTER NODES` lists,
 * a connection to each that answers, and the helpers every management command uses (commands
 * that fail naming the node, progress lines on stderr, waiting for a condition).
 */
import { connect } from "../client/mod.ts";
import type { Client } from "../client/client.ts";
import type { CommandArg } from "../resp/command_writer.ts";
import { RespError, type RespValue } from "../resp/reply_decoder.ts";
import { printErr } from "./output.ts";
import { parseAddress } from "./cluster_topology.ts";

/** One node of a `CLUSTER NODES` view. */
export interface NodeInfo {
  /** The node id. */
  id: string;
  /** The address clients (and this tool) use. */
  host: string;
  /** Client port. */
  port: number;
  /** Cluster bus port. */
  cport: number;
  /** `host:port`. */
  address: string;
  /** Flags without `myself` (`master`, `slave`, `fail?`, `fail`, `handshake`, `noaddr`...). */
  flags: string[];
  /** Whether this line is the viewing node itself. */
  myself: boolean;
  /** The master's id for a replica, else null. */
  master: string | null;
  /** Config epoch. */
  configEpoch: number;
  /** Every slot it claims. */
  slots: number[];
  /** Slots it is importing: `[slot, from id]`. */
  importing: [number, string][];
  /** Slots it is migrating: `[slot, to id]`. */
  migrating: [number, string][];
}

/** Parses a `CLUSTER NODES` reply. */
export function parseNodes(text: string): NodeInfo[] {
  return text.split("\n").filter((l) => l.trim() !== "").map((line) => {
    const f = line.trim().split(" ");
    const endpoint = /^(.*):(\d+)@(\d+)/.exec(f[1]) ?? ["", "", "0", "0"];
    const flags = f[2].split(",");
    const node: NodeInfo = {
      id: f[0],
      host: endpoint[1],
      port: Number(endpoint[2]),
      cport: Number(endpoint[3]),
      address: `${endpoint[1]}:${endpoint[2]}`,
      flags: flags.filter((x) => x !== "myself"),
      myself: flags.includes("myself"),
      master: f[3] === "-" ? null : f[3],
      configEpoch: Number(f[6]),
      slots: [],
      importing: [],
      migrating: [],
    };
    for (const item of f.slice(8)) {
      const open = /^\[(\d+)-([<>])-([0-9a-f]+)\]$/.exec(item);
      if (open !== null) {
        (open[2] === "<" ? node.importing : node.migrating).push([Number(open[1]), open[3]]);
        continue;
      }
      const [a, b] = item.split("-").map(Number);
      for (let slot = a; slot <= (b ?? a); slot++) node.slots.push(slot);
    }
    return node;
  });
}

/** Whether a node of a view is a master. */
export function isMaster(node: NodeInfo): boolean {
  return node.flags.includes("master");
}

/** Whether a view says the node is down, suspected, or not a full member yet. */
export function isFailing(node: NodeInfo): boolean {
  return node.flags.some((f) => ["fail", "fail?", "handshake", "noaddr"].includes(f));
}

/** A reply as text (bulk strings decoded as UTF-8); an error reply throws. */
export function asText(value: RespValue): string {
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  if (value instanceof RespError) throw new Error(value.message);
  if (value !== null && typeof value === "object" && "text" in value) {
    return String((value as { text: unknown }).text);
  }
  return String(value);
}

/** A field of an `INFO` or `CLUSTER INFO` text. */
export function infoField(info: string, name: string): string | undefined {
  const line = info.split(/\r?\n/).find((l) => l.startsWith(`${name}:`));
  return line?.slice(name.length + 1);
}

/** Prints a progress line on stderr (the plan and results go to stdout). */
export function progress(text: string): void {
  printErr(text);
}

/**
 * Polls `check` (done, total) every 100 ms, printing `what: done/total` whenever it changes,
 * until done equals total; throws `timed out: ...` after `deadline` (ms since the epoch).
 */
export async function waitUntil(
  what: string,
  deadline: number,
  check: () => Promise<[number, number]>,
): Promise<void> {
  let last = "";
  while (true) {
    const [done, total] = await check();
    const line = `${what}: ${done}/${total}`;
    if (line !== last) progress(line);
    last = line;
    if (done === total) return;
    if (Date.now() > deadline) throw new Error(`timed out: ${line}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A connection to one node, naming it in the errors of the commands it sends. */
export class NodeLink {
  /** `host:port`. */
  readonly address: string;
  readonly #client: Client;

  /** Use {@link openNode}. */
  constructor(address: string, client: Client) {
    this.address = address;
    this.#client = client;
  }

  /** Sends a command; an error reply (or a lost connection) throws naming the node. */
  async raw(...args: CommandArg[]): Promise<RespValue> {
    try {
      const reply = await this.#client.send(...args);
      if (reply instanceof RespError) throw new Error(reply.message);
      return reply;
    } catch (e) {
      const shown = args.slice(0, 6).map((a) => typeof a === "object" ? "<key>" : a).join(" ");
      throw new Error(`${this.address}: ${shown}: ${e instanceof Error ? e.message : e}`);
    }
  }

  /** Sends a command and returns its reply as text. */
  async call(...args: CommandArg[]): Promise<string> {
    return asText(await this.raw(...args));
  }

  /** This node's `CLUSTER NODES` view. */
  async view(): Promise<NodeInfo[]> {
    return parseNodes(await this.call("CLUSTER", "NODES"));
  }

  /** Closes the connection. */
  close(): Promise<void> {
    return this.#client.close().catch(() => {});
  }
}

/** Connects to HOST:PORT and checks that it runs in cluster mode. */
export async function openNode(address: string, password?: string): Promise<NodeLink> {
  const { host, port } = parseAddress(address);
  let client: Client;
  try {
    client = await connect({ host, port, password, timeoutMs: 10_000 });
  } catch (e) {
    throw new Error(`cannot reach ${address}: ${e instanceof Error ? e.message : e}`);
  }
  const link = new NodeLink(address, client);
  try {
    if (infoField(await link.call("INFO", "cluster"), "cluster_enabled") !== "1") {
      throw new Error(`${address} is not in cluster mode`);
    }
  } catch (e) {
    await link.close();
    throw e;
  }
  return link;
}

/** The IP a host name stands for (CLUSTER MEET needs an address). */
export async function addressOf(host: string): Promise<string> {
  if (/^[\d.]+$/.test(host) || host.includes(":")) return host;
  if (host === "localhost") return "127.0.0.1";
  const found = await Deno.resolveDns(host, "A");
  if (found.length === 0) throw new Error(`cannot resolve ${host}`);
  return found[0];
}

/** A running cluster: the seed node's view and a link to every node that answers. */
export class LiveCluster {
  /** The node given with `--node`. */
  readonly seed: NodeLink;
  /** The nodes of the seed's view, the seed's own line included. */
  nodes: NodeInfo[];
  /** Shard names given with `--names` (a topology file's), tried when naming shards. */
  names: string[] = [];
  /** Nodes of the view this tool could not connect to, with why. */
  readonly unreachable = new Map<string, string>();
  readonly #links = new Map<string, NodeLink>();
  readonly #password: string | undefined;

  private constructor(seed: NodeLink, nodes: NodeInfo[], password: string | undefined) {
    this.seed = seed;
    this.nodes = nodes;
    this.#password = password;
  }

  /** Connects to the seed, reads its view, and connects to every other node in it. */
  static async open(address: string, password?: string): Promise<LiveCluster> {
    const seed = await openNode(address, password);
    let nodes: NodeInfo[];
    try {
      nodes = await seed.view();
    } catch (e) {
      await seed.close();
      throw e;
    }
    const cluster = new LiveCluster(seed, nodes, password);
    for (const node of cluster.nodes) {
      if (node.myself) cluster.#links.set(node.id, seed);
      else await cluster.connectTo(node);
    }
    return cluster;
  }

  /** Opens a link to a node of the view (recorded as unreachable when it does not answer). */
  async connectTo(node: NodeInfo): Promise<void> {
    if (this.#links.has(node.id)) return;
    try {
      this.#links.set(node.id, await openNode(node.address, this.#password));
      this.unreachable.delete(node.id);
    } catch (e) {
      this.unreachable.set(node.id, e instanceof Error ? e.message : String(e));
    }
  }

  /** Reads the seed's view again (after MEET, REPLICATE, moves). */
  async refresh(): Promise<void> {
    this.nodes = await this.seed.view();
  }

  /** The link to node `id`; throws when it is not connected. */
  link(id: string): NodeLink {
    const link = this.#links.get(id);
    if (link === undefined) throw new Error(`node ${id} is not reachable`);
    return link;
  }

  /** Whether node `id` is connected. */
  has(id: string): boolean {
    return this.#links.has(id);
  }

  /** Adds a link opened elsewhere (a new node) under its id. */
  adopt(id: string, link: NodeLink): void {
    this.#links.set(id, link);
  }

  /** The node `id` of the view. */
  node(id: string): NodeInfo | undefined {
    return this.nodes.find((n) => n.id === id);
  }

  /** The masters of the view that hold at least one slot: the cluster's shards. */
  shardMasters(): NodeInfo[] {
    return this.nodes.filter((n) => isMaster(n) && n.slots.length > 0);
  }

  /** The replicas of master `id` in the view. */
  replicasOf(id: string): NodeInfo[] {
    return this.nodes.filter((n) => n.master === id && !isMaster(n));
  }

  /** Closes every link. */
  async close(): Promise<void> {
    for (const link of new Set(this.#links.values())) await link.close();
    this.#links.clear();
  }
}
