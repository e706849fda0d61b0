/**
 * What replication tests share: INFO fields, waiting for a follower to catch up, and a digest of
 * a server's whole dataset (every key of every database with its value and absolute expiry),
 * so that a leader and a follower can be compared as Redis's own tests compare them.
 */
import { plain, RespConn } from "./resp_conn.ts";
import { waitFor } from "./wait_for.ts";

/** One INFO field of `section` as text (undefined when absent). */
export async function infoField(
  port: number,
  section: string,
  field: string,
): Promise<string | undefined> {
  await using conn = await RespConn.connect(port);
  const text = plain(await conn.call("INFO", section)) as string;
  const match = new RegExp(`^${field}:(.*)\\r?$`, "m").exec(text);
  return match?.[1]?.trim();
}

/** Waits until the follower on `follower` has applied everything the leader on `leader` sent. */
export async function waitForCatchUp(
  leader: number,
  follower: number,
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(async () => {
    if (await infoField(follower, "replication", "master_link_status") !== "up") return false;
    const sent = await infoField(leader, "replication", "master_repl_offset");
    const applied = await infoField(follower, "replication", "master_repl_offset");
    return sent !== undefined && sent === applied;
  }, { timeoutMs, intervalMs: 50, what: `follower ${follower} to catch up with ${leader}` });
}

/** Sends `commands` pipelined in batches of 1000 and returns their replies as plain data. */
export async function pipelined(
  conn: RespConn,
  commands: (string | number)[][],
): Promise<unknown[]> {
  const replies: unknown[] = [];
  for (let start = 0; start < commands.length; start += 1000) {
    const batch = commands.slice(start, start + 1000);
    for (const command of batch) await conn.send(...command);
    for (let i = 0; i < batch.length; i++) replies.push(plain(await conn.read()));
  }
  return replies;
}

/** The command that reads a whole value of each type. */
const READERS: Record<string, (key: string) => (string | number)[]> = {
  string: (k) => ["GET", k],
  list: (k) => ["LRANGE", k, 0, -1],
  set: (k) => ["SMEMBERS", k],
  zset: (k) => ["ZRANGE", k, 0, -1, "WITHSCORES"],
  hash: (k) => ["HGETALL", k],
};

/** A value's reply in a form equal for equal values (set members and hash fields sorted). */
function canonicalValue(type: string, reply: unknown): string {
  if (!Array.isArray(reply)) return String(reply);
  if (type === "set") return JSON.stringify([...reply].sort());
  if (type === "hash") {
    const pairs: string[] = [];
    for (let i = 0; i < reply.length; i += 2) pairs.push(JSON.stringify([reply[i], reply[i + 1]]));
    return pairs.sort().join(",");
  }
  return JSON.stringify(reply);
}

/**
 * Keys per database and a SHA-256 of every key, its type, value and absolute expiry, sorted.
 * Values of every type are compared: strings, lists (in order), sets and hashes (as sets),
 * sorted sets (in order, with scores).
 */
export async function datasetDigest(port: number): Promise<{ keys: number[]; digest: string }> {
  await using conn = await RespConn.connect(port);
  const lines: string[] = [];
  const keys: number[] = [];
  for (let db = 0; db < 16; db++) {
    await conn.call("SELECT", db);
    const names: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = plain(await conn.call("SCAN", cursor, "COUNT", 1000)) as [
        string,
        string[],
      ];
      names.push(...batch);
      cursor = next;
    } while (cursor !== "0");
    const unique = [...new Set(names)].sort();
    const types = await pipelined(conn, unique.map((k) => ["TYPE", k])) as string[];
    const commands = unique.flatMap((k, i) => [
      (READERS[types[i]] ?? READERS.string)(k),
      ["PEXPIRETIME", k],
    ]);
    const replies = await pipelined(conn, commands);
    let present = 0;
    for (let i = 0; i < unique.length; i++) {
      const value = replies[2 * i];
      // A key that expired between SCAN and the read is not part of either dataset.
      if (types[i] === "none" || value === null) continue;
      present++;
      const shown = canonicalValue(types[i], value);
      lines.push(`${db}\0${unique[i]}\0${types[i]}\0${shown}\0${replies[2 * i + 1]}`);
    }
    keys.push(present);
  }
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(lines.join("\n")));
  const digest = Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, "0")).join("");
  return { keys, digest };
}

/**
 * Waits until two servers hold the same dataset. Compared repeatedly because keys with short
 * TTLs may expire between reading one server and the other.
 */
export async function waitForSameData(a: number, b: number, timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => {
    const [x, y] = await Promise.all([datasetDigest(a), datasetDigest(b)]);
    return x.digest === y.digest && x.keys.every((n, i) => n === y.keys[i]);
  }, { timeoutMs, intervalMs: 100, what: `servers ${a} and ${b} to hold the same data` });
}
