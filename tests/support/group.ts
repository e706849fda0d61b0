/**
 * Leader/follower groups for tests: three (or more) gocache nodes on free port pairs (client and
 * bus), one leader and followers with `replicaof`, all naming each other in `group-members`, with
 * a short election timeout. Nodes keep their data directories, so a test can restart one on the
 * same files; the group's owner stops every node and removes the directories.
 */
import { freeClusterPort } from "./cluster.ts";
import { plain, RespConn } from "./resp_conn.ts";
import { type ServerProcess, startServer } from "./server.ts";
import { waitFor } from "./wait_for.ts";

/** Options for {@link startGroup}. */
export interface GroupOptions {
  /** Number of members (the first leads). Default 3. */
  size?: number;
  /** group-election-timeout in ms. Default 1000. */
  electionTimeout?: number;
  /** Extra flags per member index. */
  extra?: (index: number) => string[];
}

/** A running group: its members by index (a restarted member replaces its entry). */
export class TestGroup {
  /** Member processes by index; entries change when a member is restarted. */
  readonly nodes: ServerProcess[] = [];
  /** Client ports by index (fixed for the group's life). */
  readonly ports: number[];
  readonly #dirs: string[];
  readonly #args: (index: number) => string[];

  constructor(ports: number[], dirs: string[], args: (index: number) => string[]) {
    this.ports = ports;
    this.#dirs = dirs;
    this.#args = args;
  }

  /** Starts (or restarts, on its data directory and nodes.conf) member `index`. */
  async start(index: number): Promise<ServerProcess> {
    const node = await startServer({ dir: this.#dirs[index], args: this.#args(index) });
    this.nodes[index] = node;
    return node;
  }

  /** Stops every member and removes the data directories. */
  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop("SIGKILL").catch(() => {})));
    for (const dir of this.#dirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Starts a group whose member 0 leads; resolves once every follower replicates. */
export async function startGroup(options: GroupOptions = {}): Promise<TestGroup> {
  const size = options.size ?? 3;
  const ports = Array.from({ length: size }, () => freeClusterPort());
  const dirs: string[] = [];
  for (let i = 0; i < size; i++) dirs.push(await Deno.makeTempDir({ prefix: "gocache-group-" }));
  const members = ports.map((p) => `127.0.0.1:${p}`).join(" ");
  const timeout = options.electionTimeout ?? 1000;
  const args = (index: number) => [
    "--port",
    String(ports[index]),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--group-name",
    "mymaster",
    "--group-members",
    members,
    "--group-election-timeout",
    String(timeout),
    "--group-heartbeat-period",
    String(Math.max(10, Math.floor(timeout / 5))),
    ...(index === 0 ? [] : ["--replicaof", `127.0.0.1 ${ports[0]}`]),
    ...(options.extra?.(index) ?? []),
  ];
  const group = new TestGroup(ports, dirs, args);
  try {
    for (let i = 0; i < size; i++) await group.start(i);
    await waitFor(async () => {
      for (const port of ports.slice(1)) {
        if (!(await askGroup(port, "INFO", "replication")).includes("master_link_status:up")) {
          return false;
        }
      }
      return (await askGroup(ports[0], "SET", "group:ready", "1")) === "OK";
    }, { what: "followers linked and the leader taking writes", timeoutMs: 20_000 });
  } catch (e) {
    await group[Symbol.asyncDispose]();
    throw e;
  }
  return group;
}

/** One command on a fresh connection; the reply as text (`plain`). */
export async function askGroup(port: number, ...args: (string | number)[]): Promise<string> {
  await using conn = await RespConn.connect(port);
  const reply = plain(await conn.call(...args.map(String)));
  return typeof reply === "string" ? reply : JSON.stringify(reply);
}

/** The role (`master` or `slave`) a node reports in INFO replication. */
export async function roleOf(port: number): Promise<string> {
  const info = await askGroup(port, "INFO", "replication");
  return /role:(\w+)/.exec(info)?.[1] ?? "unknown";
}
