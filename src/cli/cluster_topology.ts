/**
 * The shape of a cluster to form: shards, each with a name, a leader and followers (with
 * priorities), from a node list (spread as redis-cli spreads them) or from a topology YAML file.
 */
import { parse as parseYaml } from "yaml";
import { UsageError } from "./usage.ts";

/** A shard of the plan. */
export interface Shard {
  /** The shard's name: the key of the slot rule, stable for the cluster's life. */
  name: string;
  /** The leader's HOST:PORT. */
  leader: string;
  /** Followers' HOST:PORT, with the replica-priority to give each (if any). */
  followers: { address: string; priority?: number }[];
}

/** Splits HOST:PORT; throws a usage error naming the text otherwise. */
export function parseAddress(text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(":");
  const port = Number(text.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`gocache cluster-init: '${text}' is not HOST:PORT`);
  }
  return { host: text.slice(0, colon), port };
}

/** Groups nodes into shards like redis-cli: masters spread over hosts, replicas away from them. */
export function shardsFromNodes(addresses: string[], replicas: number): Shard[] {
  const masters = Math.floor(addresses.length / (replicas + 1));
  if (masters < 3) {
    throw new UsageError(
      `gocache cluster-init: a cluster needs at least 3 masters; ${addresses.length} nodes with ` +
        `${replicas} replicas each give ${masters}`,
    );
  }
  const byHost = new Map<string, string[]>();
  for (const a of addresses) {
    const host = parseAddress(a).host;
    byHost.set(host, [...(byHost.get(host) ?? []), a]);
  }
  const interleaved: string[] = [];
  while (interleaved.length < addresses.length) {
    for (const list of byHost.values()) {
      const next = list.shift();
      if (next !== undefined) interleaved.push(next);
    }
  }
  const shards: Shard[] = interleaved.slice(0, masters).map((leader, i) => ({
    name: `shard-${i + 1}`,
    leader,
    followers: [],
  }));
  const rest = interleaved.slice(masters, masters * (replicas + 1));
  for (let round = 0; round < replicas; round++) {
    for (const shard of shards) {
      const leaderHost = parseAddress(shard.leader).host;
      let pick = rest.findIndex((a) => parseAddress(a).host !== leaderHost);
      if (pick < 0) pick = 0;
      const [follower] = rest.splice(pick, 1);
      shard.followers.push({ address: follower });
    }
  }
  return shards;
}

/** Reads a topology file: `shards: [{ name, leader, followers: [addr | {address, priority}] }]`. */
export async function readTopology(file: string): Promise<Shard[]> {
  let doc: unknown;
  try {
    doc = parseYaml(await Deno.readTextFile(file));
  } catch (e) {
    throw new UsageError(`gocache cluster-init: ${file}: ${e instanceof Error ? e.message : e}`);
  }
  const bad = (what: string): never => {
    throw new UsageError(`gocache cluster-init: ${file}: ${what}`);
  };
  const shardsValue = (doc as { shards?: unknown } | null)?.shards;
  if (!Array.isArray(shardsValue)) bad("expected a 'shards' list");
  const shards: Shard[] = [];
  (shardsValue as unknown[]).forEach((raw, i) => {
    const s = raw as Record<string, unknown>;
    const name = typeof s?.name === "string" ? s.name : `shard-${i + 1}`;
    if (typeof s?.leader !== "string") bad(`shards[${i}].leader must be HOST:PORT`);
    parseAddress(s.leader as string);
    const followers: Shard["followers"] = [];
    const list = s.followers ?? [];
    if (!Array.isArray(list)) bad(`shards[${i}].followers must be a list`);
    (list as unknown[]).forEach((f, j) => {
      const entry = typeof f === "string" ? { address: f } : f as Record<string, unknown>;
      if (typeof entry?.address !== "string") bad(`shards[${i}].followers[${j}] needs an address`);
      parseAddress(entry.address as string);
      const priority = entry.priority;
      if (priority !== undefined && (!Number.isInteger(priority) || (priority as number) < 0)) {
        bad(`shards[${i}].followers[${j}].priority must be a non-negative integer`);
      }
      followers.push({
        address: entry.address as string,
        priority: priority as number | undefined,
      });
    });
    shards.push({ name, leader: s.leader as string, followers });
  });
  if (shards.length < 3) bad(`a cluster needs at least 3 shards, found ${shards.length}`);
  if (new Set(shards.map((s) => s.name)).size !== shards.length) bad("shard names must differ");
  return shards;
}
