/**
 * Failover time of a leader/follower group as a client sees it, gocache's built-in failover next
 * to redis-server with three redis-sentinel processes, in one run. Both groups are one leader
 * and two followers; gocache's `group-election-timeout` and Sentinel's `down-after-milliseconds`
 * are both `--timeout` (1000 ms). In each run a client writes every 10 ms to the leader it was
 * told of, the leader is killed with SIGKILL, and the client asks the group (gocache's members
 * or the sentinels: the same `SENTINEL GET-MASTER-ADDR-BY-NAME`) for the leader after every
 * failed write, until a SET sent after the kill succeeds on another node: the seconds from the
 * kill to that reply are the run's figure. The killed node is restarted on its files (gocache:
 * it rejoins as a follower by itself; Redis: the sentinels reconfigure it) before the next run.
 * Prints every run, the median, minimum and maximum per kind and the ratio of the medians, and
 * the goal: a median of at most the timeout + 1 s, and below Sentinel's.
 *
 *   deno task bench:group-failover [--runs 5] [--timeout 1000] [--only gocache,redis]
 */
import { parseArgs } from "node:util";
import {
  clusterPortRange,
  median,
  say,
  type ServerKind,
  sleep,
  spawnServer,
  until,
  waitForPing,
} from "./_support.ts";
import { replyText, TimedConn } from "./_cluster_client.ts";
import { RespMap, type RespValue } from "../src/resp/reply_decoder.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    timeout: { type: "string", default: "1000" },
    only: { type: "string", default: "gocache,redis" },
  },
});
const RUNS = Number(values.runs);
const TIMEOUT = Number(values.timeout);
const LIMIT_MS = 30_000;
const WRITE_EVERY_MS = 10;

/** A reply as text, arrays (and Sentinel's maps) flattened to words. */
function text(value: RespValue): string {
  if (Array.isArray(value)) return value.map(text).join(" ");
  if (value instanceof RespMap) {
    return value.entries.map(([k, v]: [RespValue, RespValue]) => `${text(k)} ${text(v)}`).join(" ");
  }
  return replyText(value);
}

/** One reply as text, or the error's text; never throws. */
async function ask(port: number, args: string[], timeoutMs = 300): Promise<string> {
  let conn: TimedConn | null = null;
  try {
    conn = await TimedConn.connect(port, timeoutMs);
    return text(await conn.call(args, timeoutMs));
  } catch (e) {
    return `-${e instanceof Error ? e.message : e}`;
  } finally {
    conn?.close();
  }
}

/** A group of one kind: three data nodes and where clients ask for the leader. */
class Group {
  readonly dir = Deno.makeTempDirSync({ prefix: "bench-group-failover-" });
  readonly children = new Map<number, Deno.ChildProcess>();
  readonly ports: number[];
  /** Where SENTINEL GET-MASTER-ADDR-BY-NAME is asked: the members, or the sentinels. */
  readonly askers: number[];

  constructor(readonly kind: ServerKind) {
    const base = clusterPortRange(6);
    this.ports = [base, base + 1, base + 2];
    this.askers = kind === "gocache" ? this.ports : [base + 3, base + 4, base + 5];
  }

  #flags(port: number): string[] {
    const leader = this.ports[0];
    const follow = port === leader ? [] : ["--replicaof", `127.0.0.1 ${leader}`];
    if (this.kind === "redis") return follow;
    return [
      "--bind",
      "127.0.0.1",
      "--group-name",
      "mymaster",
      "--group-members",
      this.ports.map((p) => `127.0.0.1:${p}`).join(" "),
      "--group-election-timeout",
      String(TIMEOUT),
      "--group-heartbeat-period",
      String(Math.max(10, Math.floor(TIMEOUT / 5))),
      ...follow,
    ];
  }

  /** Starts (or restarts, on its files) the data node on `port`. */
  async start(port: number, first: boolean): Promise<void> {
    const sub = `${this.dir}/${port}`;
    Deno.mkdirSync(sub, { recursive: true });
    // A restarted Redis node comes back as it was configured; its sentinels turn it into a
    // follower. A restarted gocache node reads its role from nodes.conf.
    const flags = first || this.kind === "gocache" ? this.#flags(port) : [];
    this.children.set(port, spawnServer(this.kind, port, sub, flags));
    await waitForPing(port);
  }

  /** Starts the sentinels (Redis only), each with its own config file. */
  startSentinels(): void {
    if (this.kind !== "redis") return;
    for (const port of this.askers) {
      const file = `${this.dir}/sentinel-${port}.conf`;
      Deno.writeTextFileSync(
        file,
        [
          `port ${port}`,
          "bind 127.0.0.1",
          `dir ${this.dir}`,
          `sentinel monitor mymaster 127.0.0.1 ${this.ports[0]} 2`,
          `sentinel down-after-milliseconds mymaster ${TIMEOUT}`,
          `sentinel failover-timeout mymaster ${Math.max(3000, TIMEOUT * 3)}`,
          "",
        ].join("\n"),
      );
      const child = new Deno.Command("redis-sentinel", {
        args: [file],
        stdout: "null",
        stderr: "null",
      }).spawn();
      this.children.set(port, child);
    }
  }

  async kill(port: number): Promise<void> {
    const child = this.children.get(port);
    if (child === undefined) return;
    this.children.delete(port);
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
  }

  async stop(): Promise<void> {
    for (const port of [...this.children.keys()]) await this.kill(port);
    Deno.removeSync(this.dir, { recursive: true });
  }

  /** The leader's port as the first asker that answers names it, or 0. */
  async leader(): Promise<number> {
    for (const port of this.askers) {
      const reply = await ask(port, ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"]);
      const m = /^[\d.]+ (\d+)$/.exec(reply);
      if (m !== null && this.ports.includes(Number(m[1]))) return Number(m[1]);
    }
    return 0;
  }

  /** Every data node up, one leader named by all askers, followers linked to it. */
  async settled(): Promise<boolean> {
    const leader = await this.leader();
    if (leader === 0 || !(await ask(leader, ["ROLE"])).includes("master")) return false;
    for (const port of this.askers) {
      const reply = await ask(port, ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"]);
      if (!reply.includes(String(leader))) return false;
    }
    if (this.kind === "redis") {
      const replicas = await ask(this.askers[0], ["SENTINEL", "REPLICAS", "mymaster"]);
      const seen = (replicas.match(/\bflags slave\b/g) ?? []).length;
      if (seen < 2) return false;
    }
    for (const port of this.ports) {
      if (port === leader) continue;
      const info = await ask(port, ["INFO", "replication"]);
      if (!info.includes("master_link_status:up") || !info.includes(`master_port:${leader}`)) {
        return false;
      }
    }
    return (await ask(leader, ["SET", "bench:settled", "1"])) === "OK";
  }
}

/** One run: seconds from the kill to the first successful SET sent after it. */
async function oneRun(group: Group): Promise<{ seconds: number; failed: number }> {
  await until(() => group.settled(), "the group to settle");
  const leader = await group.leader();
  let target = leader;
  let failed = 0;
  const killedAt = performance.now();
  await group.kill(leader);
  const deadline = Date.now() + LIMIT_MS;
  for (let i = 0; Date.now() < deadline; i++) {
    const sentAt = performance.now();
    const reply = await ask(target, ["SET", `g:${i}`, String(i)]);
    if (reply === "OK" && target !== leader) {
      return { seconds: (performance.now() - killedAt) / 1000, failed };
    }
    failed++;
    const named = await group.leader();
    if (named !== 0) target = named;
    const left = WRITE_EVERY_MS - (performance.now() - sentAt);
    if (left > 0) await sleep(left);
  }
  throw new Error("no write succeeded within the limit");
}

async function measure(kind: ServerKind): Promise<number[]> {
  const group = new Group(kind);
  live.add(group);
  try {
    for (const port of group.ports) await group.start(port, true);
    group.startSentinels();
    const seconds: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await until(() => group.settled(), "the group to settle");
      const leader = await group.leader();
      const result = await oneRun(group);
      seconds.push(result.seconds);
      await group.start(leader, false);
      say(
        `${kind.padEnd(8)} run ${String(i + 1).padStart(2)}  killed ${leader}  ` +
          `write ok after ${result.seconds.toFixed(3)} s  (${result.failed} failed writes)`,
      );
    }
    return seconds;
  } finally {
    live.delete(group);
    await group.stop();
  }
}

const live = new Set<Group>();
const onInterrupt = () => {
  void Promise.all([...live].map((g) => g.stop())).finally(() => Deno.exit(130));
};
Deno.addSignalListener("SIGINT", onInterrupt);

const kinds = values.only.split(",") as ServerKind[];
say(
  `# group failover seen by a client: leader + 2 followers, timeout ${TIMEOUT} ms ` +
    `(gocache group-election-timeout; redis: 3 sentinels, down-after-milliseconds), ` +
    `SIGKILL of the leader; ${RUNS} runs`,
);
const results = new Map<ServerKind, number[]>();
try {
  for (const kind of kinds) results.set(kind, await measure(kind));
} finally {
  Deno.removeSignalListener("SIGINT", onInterrupt);
}
say("");
say("server    median s  min s     max s     runs (s)");
for (const [kind, xs] of results) {
  say(
    [
      kind.padEnd(8),
      median(xs).toFixed(3).padEnd(8),
      Math.min(...xs).toFixed(3).padEnd(8),
      Math.max(...xs).toFixed(3).padEnd(8),
      xs.map((x) => x.toFixed(2)).join(" "),
    ].join("  "),
  );
}
const g = results.get("gocache");
const r = results.get("redis");
if (g !== undefined && r !== undefined) {
  const goal = (TIMEOUT + 1000) / 1000;
  const gm = median(g);
  const rm = median(r);
  say(`ratio gocache/redis+sentinel (medians): ${(gm / rm).toFixed(2)}`);
  say(
    `goal: median <= timeout + 1 s = ${goal.toFixed(1)} s: ${gm <= goal ? "met" : "missed"}` +
      `; below Sentinel's ${rm.toFixed(3)} s: ${gm < rm ? "met" : "missed"}`,
  );
}
