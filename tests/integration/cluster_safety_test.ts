/**
 * Safety of automatic failover in a gocache cluster (3 masters x 1 replica, node timeout 1 s,
 * append-only files on), on one cluster shared by the steps to keep the run short:
 * - no write confirmed by `WAIT 1` is lost when its master is killed with SIGKILL, over ten
 *   rounds of kill, failover and restart (the killed node comes back on its data dir and
 *   nodes.conf and rejoins as a replica; the next round kills the shard's current master); after
 *   every step the epochs rose and no node's view has two masters for one slot;
 * - a master stopped with SIGSTOP past the node timeout, once continued, refuses the write that
 *   waited in its socket while it was stopped (its write lease ended; redis-server 7.0 answers
 *   OK and drops the write later) and new ones, and follows the new master until both hold the
 *   same dataset (compared by digest).
 */
import assert from "node:assert/strict";
import type { ServerProcess } from "../support/server.ts";
import {
  ask,
  datasetDigest,
  freeClusterPort,
  infoField,
  type NodeLine,
  parseClusterNodes,
  slotsClaimedTwice,
  startClusterNode,
  waitForClusterOk,
} from "../support/cluster.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import { waitFor } from "../support/wait_for.ts";

const NODE_TIMEOUT_MS = 1000;
const ARGS = ["--cluster-node-timeout", String(NODE_TIMEOUT_MS), "--appendonly", "yes"];
const RANGES = [["0", "5460"], ["5461", "10922"], ["10923", "16383"]];
/** Hash tags of the two shards under test: slot 55 (shard 1) and slot 14562 (shard 3). */
const TAG_KILL = "lw";
const TAG_STOP = "stop";
const KILL_ROUNDS = 10;

function note(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
}

/** Sends SIGCONT (a node left stopped by a failed step would never stop on SIGTERM). */
function continueProcess(pid: number): void {
  try {
    Deno.kill(pid, "SIGCONT");
  } catch {
    // Already gone.
  }
}

/** Six nodes on fixed ports and data dirs, so that a killed node restarts as itself. */
class Nodes {
  readonly ports: number[] = [];
  readonly dirs: string[] = [];
  readonly current: ServerProcess[] = [];
  /** Every process started, for the exit check at the end. */
  readonly started: ServerProcess[] = [];

  async start(i: number): Promise<ServerProcess> {
    const node = await startClusterNode({ dir: this.dirs[i], port: this.ports[i], args: ARGS });
    this.current[i] = node;
    this.started.push(node);
    return node;
  }

  async stopAll(): Promise<void> {
    for (const node of this.current) continueProcess(node.pid);
    await Promise.all(this.current.map((n) => n.stop()));
    const problems: string[] = [];
    for (const node of this.started) await node.checkExit().catch((e) => problems.push(String(e)));
    for (const dir of this.dirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
    assert.deepEqual(problems, [], "every node ended cleanly");
  }
}

/**
 * Forms a cluster of 3 masters (`ports[0..2]`, slots in three ranges, config epochs 1-3) and
 * their replicas (`ports[3 + i]` follows `ports[i]`), and waits until every node agrees.
 */
async function formCluster(ports: readonly number[]): Promise<void> {
  for (let i = 0; i < 3; i++) {
    assert.equal(await ask(ports[i], "CLUSTER", "ADDSLOTSRANGE", ...RANGES[i]), "OK");
    assert.equal(await ask(ports[i], "CLUSTER", "SET-CONFIG-EPOCH", String(i + 1)), "OK");
  }
  for (const port of ports.slice(1)) {
    assert.equal(await ask(ports[0], "CLUSTER", "MEET", "127.0.0.1", String(port)), "OK");
  }
  await waitFor(async () => {
    for (const port of ports) {
      const info = await ask(port, "CLUSTER", "INFO");
      if (infoField(info, "cluster_known_nodes") !== String(ports.length)) return false;
    }
    return true;
  }, { what: `${ports.length} nodes to know each other` });
  for (let i = 3; i < ports.length; i++) {
    const id = await ask(ports[i - 3], "CLUSTER", "MYID");
    assert.equal(await ask(ports[i], "CLUSTER", "REPLICATE", id), "OK");
  }
  await waitForClusterOk(ports, ports.length);
}

/** Each node's CLUSTER NODES view, by port. */
async function views(ports: readonly number[]): Promise<Map<number, NodeLine[]>> {
  const out = new Map<number, NodeLine[]>();
  for (const port of ports) out.set(port, parseClusterNodes(await ask(port, "CLUSTER", "NODES")));
  return out;
}

/** Fails when some node's view has two masters claiming one slot. */
async function assertOneMasterPerSlot(ports: readonly number[], when: string): Promise<void> {
  for (const [port, view] of await views(ports)) {
    const twice = slotsClaimedTwice(view);
    assert.deepEqual(
      twice.slice(0, 3),
      [],
      `${when}: node ${port} sees ${twice.length} slots with two masters:\n` +
        (await ask(port, "CLUSTER", "NODES")),
    );
  }
}

async function currentEpoch(port: number): Promise<number> {
  return Number(infoField(await ask(port, "CLUSTER", "INFO"), "cluster_current_epoch"));
}

/** `id`'s config epoch as `port` sees it. */
async function configEpochOf(port: number, id: string): Promise<number> {
  const line = parseClusterNodes(await ask(port, "CLUSTER", "NODES")).find((n) => n.id === id);
  assert.ok(line !== undefined, `node ${port} knows ${id}`);
  return line.configEpoch;
}

/** Waits until `port` is a replica of `masterId` with its replication link up. */
async function waitForReplicaOf(port: number, masterId: string, what: string): Promise<void> {
  await waitFor(async () => {
    const me = parseClusterNodes(await ask(port, "CLUSTER", "NODES"))
      .find((n) => n.flags.includes("myself"));
    if (me === undefined || !me.flags.includes("slave") || me.master !== masterId) return false;
    return infoField(await ask(port, "INFO", "replication"), "master_link_status") === "up";
  }, { timeoutMs: 30_000, what });
}

/** The keys of `expected` that `port` does not hold with the expected value. */
async function missing(port: number, expected: Map<string, string>): Promise<string[]> {
  await using conn = await RespConn.connect(port);
  const keys = [...expected.keys()];
  const out: string[] = [];
  for (let i = 0; i < keys.length; i += 200) {
    const chunk = keys.slice(i, i + 200);
    for (const key of chunk) await conn.send("GET", key);
    for (const key of chunk) {
      const value = plain(await conn.read());
      if (value !== expected.get(key)) out.push(`${key}=${JSON.stringify(value)}`);
    }
  }
  return out;
}

/**
 * Writes `SET key value` + `WAIT 1 500` to `port` until `stopped()` or the connection fails,
 * recording in `confirmed` every write that at least one replica acknowledged.
 */
async function confirmedWrites(
  port: number,
  prefix: string,
  confirmed: Map<string, string>,
  stopped: () => boolean,
): Promise<void> {
  await using conn = await RespConn.connect(port);
  try {
    for (let i = 0; !stopped(); i++) {
      const key = `${prefix}:${i}`;
      const value = `v${i}-${prefix}`;
      await conn.send("SET", key, value);
      await conn.send("WAIT", "1", "500");
      const set = plain(await conn.read(3000));
      const acked = plain(await conn.read(3000));
      if (set === "OK" && typeof acked === "number" && acked >= 1) confirmed.set(key, value);
    }
  } catch {
    // The master was killed: the writes after the last confirmed one were never confirmed.
  }
}

Deno.test("failover loses no confirmed write and a stopped master converges", async (t) => {
  const nodes = new Nodes();
  for (let i = 0; i < 6; i++) {
    nodes.ports.push(freeClusterPort());
    nodes.dirs.push(await Deno.makeTempDir({ prefix: "gocache-safety-" }));
  }
  try {
    await Promise.all([0, 1, 2, 3, 4, 5].map((i) => nodes.start(i)));
    const ports = nodes.ports;
    await formCluster(ports);
    assert.equal(await ask(ports[0], "CLUSTER", "KEYSLOT", `{${TAG_KILL}}`), "55");
    assert.equal(await ask(ports[0], "CLUSTER", "KEYSLOT", `{${TAG_STOP}}`), "14562");

    await t.step(
      `no write confirmed by WAIT 1 is lost over ${KILL_ROUNDS} SIGKILL failovers and rejoins`,
      async () => {
        const confirmed = new Map<string, string>();
        let master = 0;
        let replica = 3;
        for (let round = 1; round <= KILL_ROUNDS; round++) {
          const masterId = await ask(ports[master], "CLUSTER", "MYID");
          const replicaId = await ask(ports[replica], "CLUSTER", "MYID");
          await waitForReplicaOf(ports[replica], masterId, `round ${round}: the replica's link`);
          const survivors = ports.filter((_, i) => i !== master);
          const epochBefore = Math.max(...await Promise.all(ports.map(currentEpoch)));
          const configBefore = await configEpochOf(ports[replica], masterId);

          // Write with WAIT, and kill the master in the middle of it.
          const before = confirmed.size;
          let stop = false;
          const writer = confirmedWrites(
            ports[master],
            `{${TAG_KILL}}:${round}`,
            confirmed,
            () => stop,
          );
          await waitFor(() => confirmed.size >= before + 30, {
            what: `round ${round}: 30 confirmed writes`,
          });
          const killedAt = Date.now();
          await nodes.current[master].stop("SIGKILL");
          stop = true;
          await writer;

          await waitFor(async () => (await ask(ports[replica], "ROLE")).startsWith("master"), {
            timeoutMs: 30_000,
            what: `round ${round}: the replica to take over`,
          });
          const failoverSeconds = (Date.now() - killedAt) / 1000;
          await waitForClusterOk(survivors, 6);
          assert.deepEqual(
            await missing(ports[replica], confirmed),
            [],
            `round ${round}: confirmed writes missing on the new master`,
          );
          const epochAfter = Math.max(...await Promise.all(survivors.map(currentEpoch)));
          assert.ok(epochAfter > epochBefore, `round ${round}: current epoch rose`);
          for (const port of survivors) {
            const epoch = await configEpochOf(port, replicaId);
            assert.ok(epoch > configBefore, `round ${round}: ${port} sees the new config epoch`);
          }
          await assertOneMasterPerSlot(survivors, `round ${round}, after the failover`);

          // The killed node comes back on its files, claiming slots at an old epoch: it must
          // not take writes for them, and must end as the new master's replica with its data.
          const restartedAt = Date.now();
          await nodes.start(master);
          const probe = await ask(ports[master], "SET", `{${TAG_KILL}}:probe`, "stale");
          assert.match(
            String(probe),
            /^-(MOVED|CLUSTERDOWN|READONLY) /,
            `round ${round}: the restarted old master took a write`,
          );
          await waitForReplicaOf(ports[master], replicaId, `round ${round}: the old master`);
          await waitForClusterOk(ports, 6);
          await waitFor(async () => {
            const [a, b] = await Promise.all([ports[replica], ports[master]].map(datasetDigest));
            return a.keys === b.keys && a.sha256 === b.sha256;
          }, { what: `round ${round}: the rejoined replica to hold its master's dataset` });
          await assertOneMasterPerSlot(ports, `round ${round}, after the rejoin`);
          assert.ok(
            (await currentEpoch(ports[master])) >= epochAfter,
            `round ${round}: the rejoined node took the new epoch`,
          );
          note(
            `round ${round}: ${confirmed.size - before} confirmed writes, replica serving after ` +
              `${failoverSeconds.toFixed(1)} s, old master rejoined in ` +
              `${((Date.now() - restartedAt) / 1000).toFixed(1)} s (probe: ${probe})`,
          );
          [master, replica] = [replica, master];
        }
        // Writes acknowledged by no replica before a kill may survive too, never fewer.
        assert.ok((await datasetDigest(ports[master])).keys >= confirmed.size);
      },
    );

    await t.step(
      "a SIGSTOPped master, continued after its failover, confirms no write and converges",
      async () => {
        const [master, replica] = [2, 5];
        const masterId = await ask(ports[master], "CLUSTER", "MYID");
        const replicaId = await ask(ports[replica], "CLUSTER", "MYID");
        await waitForReplicaOf(ports[replica], masterId, "the replica's link");
        const confirmed = new Map<string, string>();
        await confirmedWrites(
          ports[master],
          `{${TAG_STOP}}:before`,
          confirmed,
          () => confirmed.size >= 100,
        );
        const window = await stopUntilReplaced(
          ports,
          nodes.current[master].pid,
          master,
          replica,
          TAG_STOP,
        );
        for (let i = 0; i < 100; i++) {
          const key = `{${TAG_STOP}}:after:${i}`;
          assert.equal(await ask(ports[replica], "SET", key, `a${i}`), "OK");
          confirmed.set(key, `a${i}`);
        }
        const { queued, fresh } = await window.resume();
        note(
          `after SIGCONT: queued SET -> ${queued.set}, WAIT 1 -> ${queued.wait}; new SET -> ${fresh}`,
        );
        // Its write lease ended while it was stopped: the write that waited in its socket is
        // refused before any timer or bus message of the continued master has run.
        assert.match(
          String(queued.set),
          /^-(MOVED|CLUSTERDOWN|READONLY) /,
          "the continued master accepted the queued write",
        );
        assert.match(
          String(fresh),
          /^-(MOVED|CLUSTERDOWN|READONLY) /,
          "the continued master accepted a new write",
        );
        await waitForReplicaOf(ports[master], replicaId, "the continued master to follow");
        await waitForClusterOk(ports, 6);
        await waitFor(async () => {
          const [a, b] = await Promise.all([ports[replica], ports[master]].map(datasetDigest));
          return a.keys === b.keys && a.sha256 === b.sha256;
        }, { what: "the old master to hold the new master's dataset" });
        assert.deepEqual(await missing(ports[replica], confirmed), []);
        // The shard holds exactly the keys written to it: nothing from the stale master.
        assert.equal((await datasetDigest(ports[replica])).keys, confirmed.size);
        await assertOneMasterPerSlot(ports, "after the SIGSTOP failover");
      },
    );
  } finally {
    await nodes.stopAll();
  }
});

/** What a master stopped with SIGSTOP answered once continued. */
interface Resumed {
  /** The replies to `SET` and `WAIT 1 500` sent to it (on an open connection) while stopped. */
  queued: { set: unknown; wait: unknown };
  /** Its reply to a `SET` on a new connection right after it was continued. */
  fresh: string;
}

/**
 * Stops the master `ports[master]` (process `pid`) with SIGSTOP, queues a `SET` + `WAIT 1 500`
 * of a key with hash tag `tag` (one of its slots) in its socket, and waits until `ports[replica]` has taken over and the other nodes agree.
 * `resume()` continues it (SIGCONT) and reports what it answered. The process is continued on
 * any failure too.
 */
async function stopUntilReplaced(
  ports: readonly number[],
  pid: number,
  master: number,
  replica: number,
  tag: string,
): Promise<{ resume: () => Promise<Resumed> }> {
  const stale = await RespConn.connect(ports[master]);
  let stopped = false;
  const resume = async (): Promise<Resumed> => {
    if (stopped) Deno.kill(pid, "SIGCONT");
    stopped = false;
    try {
      const set = plain(await stale.read(10_000));
      const wait = plain(await stale.read(10_000));
      const fresh = await ask(ports[master], "SET", `{${tag}}:fresh`, "after-continue");
      return { queued: { set, wait }, fresh };
    } finally {
      stale.close();
    }
  };
  try {
    assert.equal(plain(await stale.call("PING")), "PONG");
    Deno.kill(pid, "SIGSTOP");
    stopped = true;
    await stale.send("SET", `{${tag}}:stale`, "written-while-stopped");
    await stale.send("WAIT", "1", "500");
    await waitFor(async () => (await ask(ports[replica], "ROLE")).startsWith("master"), {
      timeoutMs: 30_000,
      what: "the replica to take over",
    });
    await waitForClusterOk(ports.filter((_, i) => i !== master), ports.length);
    return { resume };
  } catch (e) {
    await resume().catch(() => {});
    throw e;
  }
}
