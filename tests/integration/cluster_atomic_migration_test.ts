/**
 * Atomic slot migration (CLUSTER MIGRATESLOTS) on one gocache cluster of real processes: three
 * masters made by `redis-cli --cluster create`, a fourth empty master (AOF on, restartable) and a
 * replica. Bad input is refused with Redis-style errors and changes nothing; 1000 slots with 20k
 * keys move under an ioredis Cluster write load with no -ASK/-TRYAGAIN anywhere, every
 * acknowledged write on the new owner with its TTL and no key left on the source; keys expired
 * but not yet removed are neither sent nor left behind; a migration
 * cancelled mid-way (target SIGSTOPped) and one whose target is SIGKILLed mid-way leave the source
 * the owner of every key, and the restarted target's leftovers are cleaned by the next migration.
 * Redis's path too: a target SIGKILLed between two MIGRATEs of a slot makes the second answer
 * -IOERR with the source keeping every key not acknowledged; the restarted target (AOF) keeps those
 * it acknowledged, and `redis-cli --cluster fix` closes the slot with every key once.
 * Durations (atomic and `redis-cli --cluster reshard` of the same slots) go to stderr.
 */
import assert from "node:assert/strict";
import { Cluster as IoCluster } from "ioredis";
import {
  ask,
  parseClusterNodes,
  runTool,
  slotsClaimedTwice,
  startClusterNode,
  waitForClusterOk,
} from "../support/cluster.ts";
import type { ServerProcess } from "../support/server.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import {
  countInSlots,
  fill,
  keysInRange,
  lastMigrationEnded,
  Load,
  type MigrationEntry,
  migrations,
  ownersIn,
  redirectsCounted,
  slotOf,
  verifyAcked,
} from "../support/migration.ts";
import { waitFor } from "../support/wait_for.ts";

const ARGS = ["--cluster-node-timeout", "5000"];
/** The fourth master: restartable with what it restored (every write on disk before its reply). */
const AOF = [...ARGS, "--appendonly", "yes", "--appendfsync", "always"];

function note(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(`[atomic-migration] ${line}\n`));
}

/** Every node's view gives slots [from, to] to the node on `port`, and no slot twice. */
async function assertOwner(ports: readonly number[], from: number, to: number, port: number) {
  for (const p of ports) {
    const owners = await ownersIn(p);
    for (let slot = from; slot <= to; slot++) {
      assert.equal(owners[slot], port, `slot ${slot} in ${p}'s view`);
    }
    const twice = slotsClaimedTwice(parseClusterNodes(await ask(p, "CLUSTER", "NODES")));
    assert.deepEqual(twice, [], `slots claimed twice in ${p}'s view`);
  }
}

/** Acknowledged writes of `load` in slots [from, to]. */
function ackedIn(load: Load, from: number, to: number): number {
  let n = 0;
  for (const key of load.acked.keys()) if (slotOf(key) >= from && slotOf(key) <= to) n++;
  return n;
}

/**
 * Starts MIGRATESLOTS on `source` and returns with the target SIGSTOPped mid-way: holding more
 * than 1000 of the keys while the job still streams. The target runs only in windows while the
 * source is stopped, so each window applies at most what the source had in flight (its window
 * of 8000 commands) and the job cannot reach its handoff (which can no longer be cancelled)
 * meanwhile: polled freely, a loaded machine let a migration finish between two looks.
 */
async function startMidway(
  source: ServerProcess,
  from: number,
  to: number,
  target: ServerProcess,
) {
  const id = await ask(target.port, "CLUSTER", "MYID");
  const before = Number(await ask(target.port, "DBSIZE"));
  await using conn = await RespConn.connect(target.port);
  Deno.kill(target.pid, "SIGSTOP");
  try {
    assert.equal(
      await ask(source.port, "CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", from, to, "NODE", id),
      "OK",
    );
    for (let window = 0;; window++) {
      Deno.kill(source.pid, "SIGSTOP");
      Deno.kill(target.pid, "SIGCONT");
      let held: number;
      try {
        held = Number(plain(await conn.call("DBSIZE")));
      } finally {
        Deno.kill(target.pid, "SIGSTOP");
        Deno.kill(source.pid, "SIGCONT");
      }
      const { state } = (await migrations(source.port)).at(-1) as MigrationEntry;
      assert.ok(
        state === "connecting" || state === "streaming",
        `the migration is ${state} after ${window} windows, before mid-way`,
      );
      if (held - before > 1000) return;
    }
  } catch (e) {
    Deno.kill(target.pid, "SIGCONT");
    throw e;
  }
}

function hotTags(from: number, to: number): string[] {
  return keysInRange("h", from, to, 64).map((k) => `{${k}}`);
}

Deno.test("CLUSTER MIGRATESLOTS moves slots atomically, cancels and survives a dead target", async (t) => {
  const nodes: ServerProcess[] = [];
  const dir4 = await Deno.makeTempDir({ prefix: "gocache-asm-" });
  let client: IoCluster | null = null;
  try {
    nodes.push(...await Promise.all([0, 1, 2].map(() => startClusterNode({ args: ARGS }))));
    nodes.push(await startClusterNode({ dir: dir4, args: AOF }));
    nodes.push(await startClusterNode({ args: ARGS }));
    const [g1, g2, g3, g4, g5] = nodes;
    const create = await runTool("redis-cli", [
      "--cluster",
      "create",
      ...[g1, g2, g3].map((n) => `127.0.0.1:${n.port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    assert.equal(create.code, 0, create.out + create.err);
    const [id1, id2, id3, id4] = await Promise.all(
      [g1, g2, g3, g4].map((n) => ask(n.port, "CLUSTER", "MYID")),
    );
    for (const n of [g4, g5]) await ask(g1.port, "CLUSTER", "MEET", "127.0.0.1", n.port);
    const ports = nodes.map((n) => n.port);
    await waitFor(async () => (await ask(g5.port, "CLUSTER", "NODES")).includes(id3));
    assert.equal(await ask(g5.port, "CLUSTER", "REPLICATE", id3), "OK");
    await waitForClusterOk(ports);
    client = new IoCluster([{ host: "127.0.0.1", port: g1.port }], { lazyConnect: true });
    client.on("error", () => {});
    await client.connect();
    const io = client;

    await t.step("bad input gets Redis-style errors and changes nothing", async () => {
      const before = await ask(g1.port, "CLUSTER", "NODES");
      const migrate = (port: number, ...args: (string | number)[]) =>
        ask(port, "CLUSTER", "MIGRATESLOTS", ...args);
      const unknown = "f".repeat(40);
      assert.equal(
        await migrate(g1.port, "SLOTSRANGE", 0, 10, "NODE", unknown),
        `-ERR Unknown node ${unknown}`,
      );
      assert.equal(
        await migrate(g1.port, "SLOTSRANGE", 0, 16384, "NODE", id2),
        "-ERR Invalid or out of range slot",
      );
      assert.equal(
        await migrate(g1.port, "SLOTSRANGE", 16000, 16010, "NODE", id2),
        "-ERR I'm not the owner of hash slot 16000",
      );
      assert.equal(
        await migrate(g5.port, "SLOTSRANGE", 11000, 11001, "NODE", id2),
        "-ERR Please use MIGRATESLOTS only with masters.",
      );
      assert.equal(
        await migrate(g1.port, "SLOTSRANGE", 0, 1, "NODE", id1),
        "-ERR Can't migrate slots to myself",
      );
      assert.equal(
        await migrate(g1.port, "SLOTSRANGE", 0, "NODE", id2),
        "-ERR syntax error",
      );
      assert.deepEqual(await migrations(g1.port), []);
      const strip = (text: string) => parseClusterNodes(text).map((n) => [n.id, n.slots]);
      assert.deepEqual(strip(await ask(g1.port, "CLUSTER", "NODES")), strip(before));
    });

    await t.step("1000 slots with 20k keys move under load, without -ASK", async () => {
      const preload = keysInRange("pre", 0, 999, 20_000);
      await fill(g1.port, preload, 100);
      const redirects = await redirectsCounted(ports);
      await using load = new Load(io, hotTags(0, 999));
      await waitFor(() => load.acked.size >= 20, { what: "the load's first writes" });
      const started = performance.now();
      assert.equal(
        await ask(g1.port, "CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", 0, 999, "NODE", id2),
        "OK",
      );
      const job: MigrationEntry = await lastMigrationEnded(g1.port);
      const took = performance.now() - started;
      const during = load.acked.size;
      await waitFor(() => load.acked.size >= during + 20, { what: "writes after the handoff" });
      await load.stop();
      assert.equal(job.state, "success", job.message);
      note(
        `atomic: 1000 slots, ${job.keys_sent} keys, ${job.bytes_sent} bytes, ` +
          `${job.writes_forwarded} writes forwarded in ${took.toFixed(0)} ms ` +
          `(write pause ${job.pause_ms} ms)`,
      );
      await assertOwner(ports, 0, 999, g2.port);
      assert.equal(await countInSlots(g1.port, 0, 999), 0, "no key left on the source");
      assert.equal(await countInSlots(g2.port, 0, 999), 20_000 + ackedIn(load, 0, 999));
      assert.equal(await redirectsCounted(ports) - redirects, 0, "-ASK/-TRYAGAIN replies");
      assert.deepEqual(load.errors, []);
      const pre = new Map(
        preload.map((k, i) => [k, { value: `${k}=${"x".repeat(100)}`, ttl: i % 3 === 0 }]),
      );
      const checked = await verifyAcked(g1.port, load) + await verifyAcked(g1.port, { acked: pre });
      note(`verified ${checked} writes (${load.acked.size} acknowledged under load)`);
    });

    await t.step("keys expired but not yet removed are not moved, and end nowhere", async () => {
      const live = keysInRange("live", 5000, 5009, 200);
      const dying = keysInRange("dying", 5000, 5009, 300);
      await fill(g1.port, live, 10, 1_000_000);
      {
        await using conn = await RespConn.connect(g1.port);
        for (const key of dying) await conn.send("SET", key, "v", "PX", "1");
        for (const _ of dying) assert.equal(plain(await conn.read()), "OK");
      }
      // Expired now; the source's active expiry (10 times a second) has removed few of them yet.
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(
        await ask(g1.port, "CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", 5000, 5009, "NODE", id2),
        "OK",
      );
      const job: MigrationEntry = await lastMigrationEnded(g1.port);
      assert.equal(job.state, "success", job.message);
      assert.equal(Number(job.keys_sent), live.length);
      assert.equal(await countInSlots(g1.port, 5000, 5009), 0, "keys left on the source");
      assert.equal(await countInSlots(g2.port, 5000, 5009), live.length, "keys on the target");
    });

    await t.step("redis-cli --cluster reshard of the same 1000 slots, for comparison", async () => {
      const started = performance.now();
      const out = await runTool("redis-cli", [
        "--cluster",
        "reshard",
        `127.0.0.1:${g1.port}`,
        "--cluster-from",
        id2,
        "--cluster-to",
        id1,
        "--cluster-slots",
        "1000",
        "--cluster-yes",
      ]);
      const took = performance.now() - started;
      assert.equal(out.code, 0, out.out + out.err);
      await waitForClusterOk(ports);
      const owners = await ownersIn(g1.port);
      const moved = Array.from({ length: 1000 }, (_, s) => owners[s] === g1.port).filter(Boolean);
      note(
        `redis-cli --cluster reshard: 1000 slots (${moved.length} of 0-999) in ${
          took.toFixed(0)
        } ms`,
      );
    });

    await t.step("a migration cancelled mid-way leaves every key on the source", async () => {
      const keys = keysInRange("big", 1000, 1999, 20_000);
      await fill(g1.port, keys, 2000);
      await using load = new Load(io, hotTags(1000, 1999));
      await startMidway(g1, 1000, 1999, g4);
      Deno.kill(g4.pid, "SIGSTOP");
      try {
        const running = (await migrations(g1.port)).at(-1) as MigrationEntry;
        assert.equal(running.end_time, "0", "the migration is still running once the target stops");
        assert.equal(
          running.state,
          "streaming",
          "the migration still streams once the target stops",
        );
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(await ask(g1.port, "CLUSTER", "CANCELSLOTMIGRATIONS"), "1");
        assert.equal((await lastMigrationEnded(g1.port)).state, "cancelled");
      } finally {
        Deno.kill(g4.pid, "SIGCONT");
      }
      await waitFor(async () => await countInSlots(g4.port, 1000, 1999) === 0, {
        what: "the target to drop its partial keys",
      });
      await load.stop();
      assert.ok(g4.logs.some((l) => /Import of slots .*1000-1999.*cancelled/.test(l)));
      await assertOwner(ports, 1000, 1999, g1.port);
      assert.equal(await countInSlots(g1.port, 1000, 1999), 20_000 + ackedIn(load, 1000, 1999));
      await verifyAcked(g1.port, load);
    });

    await t.step(
      "a target killed mid-way: the source keeps all, the next starts clean",
      async () => {
        const keys = keysInRange("big", 1000, 1999, 20_000);
        await startMidway(g1, 1000, 1999, g4);
        await g4.stop("SIGKILL");
        assert.equal((await lastMigrationEnded(g1.port)).state, "failed");
        await assertOwner(ports.filter((p) => p !== g4.port), 1000, 1999, g1.port);
        const held = await countInSlots(g1.port, 1000, 1999);
        assert.ok(held >= 20_000);
        nodes[3] = await startClusterNode({ dir: dir4, port: g4.port, args: AOF });
        await waitForClusterOk(ports);
        const leftovers = await countInSlots(nodes[3].port, 1000, 1999);
        note(`restarted target holds ${leftovers} keys of slots it does not serve`);
        assert.ok(leftovers > 1000, "the killed target's partial keys survive its restart");
        assert.match(await ask(g4.port, "GET", keys[0]), /^-MOVED /, "leftovers are not served");
        const stale = keys.slice(0, 2000);
        await using conn = await RespConn.connect(g1.port);
        for (const key of stale) await conn.call("DEL", key);
        assert.equal(
          await ask(g1.port, "CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", 1000, 1999, "NODE", id4),
          "OK",
        );
        assert.equal((await lastMigrationEnded(g1.port)).state, "success");
        await assertOwner(ports, 1000, 1999, g4.port);
        assert.equal(await countInSlots(g4.port, 1000, 1999), held - stale.length);
        assert.equal(await countInSlots(g1.port, 1000, 1999), 0);
        for (const key of stale.slice(0, 50)) assert.equal(await ask(g4.port, "EXISTS", key), "0");
      },
    );

    await t.step(
      "Redis's path, target killed between two MIGRATEs: IOERR, nothing lost, fix closes the slot",
      async () => {
        // Slots 2000-2009 of g1, moved as redis-cli moves a slot, to g4 (AOF, fsync always).
        const keys = keysInRange("rp", 2000, 2009, 400);
        await fill(g1.port, keys, 50);
        const slot = slotOf(keys[0]);
        const inSlot = keys.filter((k) => slotOf(k) === slot);
        assert.ok(inSlot.length >= 20, `${inSlot.length} keys in slot ${slot}`);
        const digest = async (port: number, list: readonly string[]) => {
          const out: string[] = [];
          for (const key of list) out.push(await ask(port, "GET", key));
          return out;
        };
        assert.equal(await ask(g4.port, "CLUSTER", "SETSLOT", slot, "IMPORTING", id1), "OK");
        assert.equal(await ask(g1.port, "CLUSTER", "SETSLOT", slot, "MIGRATING", id4), "OK");
        const first = inSlot.slice(0, 10);
        const migrate = (batch: readonly string[]) =>
          ask(g1.port, "MIGRATE", "127.0.0.1", g4.port, "", 0, 2000, "KEYS", ...batch);
        assert.equal(await migrate(first), "OK");
        // The previous step restarted the fourth master: this is its current process.
        await nodes[3].stop("SIGKILL");
        const rest = inSlot.slice(10);
        assert.match(await migrate(rest), /^-IOERR /);
        assert.equal(
          Number(await ask(g1.port, "CLUSTER", "COUNTKEYSINSLOT", slot)),
          rest.length,
          "the source keeps every key the dead target did not acknowledge",
        );
        assert.deepEqual(await digest(g1.port, rest), rest.map((k) => `${k}=${"x".repeat(50)}`));
        assert.match(await ask(g1.port, "GET", first[0]), /^-ASK /, "moved keys are asked for");
        nodes[3] = await startClusterNode({ dir: dir4, port: g4.port, args: AOF });
        // The slot is still open (views differ by its [->-] and [-<-] marks): every node up.
        await waitFor(async () => {
          for (const p of ports) {
            if (!(await ask(p, "CLUSTER", "INFO")).includes("cluster_state:ok")) return false;
          }
          return true;
        }, { what: "every node up with the slot still open" });
        assert.equal(
          Number(await ask(g4.port, "CLUSTER", "COUNTKEYSINSLOT", slot)),
          first.length,
          "the restarted target kept what it acknowledged (AOF)",
        );
        const fix = await runTool("redis-cli", [
          "--cluster",
          "fix",
          `127.0.0.1:${g1.port}`,
          "--cluster-yes",
        ]);
        assert.equal(fix.code, 0, fix.out + fix.err);
        // redis-cli picks the node with the most keys of the slot as its owner (the source
        // here) and moves the target's keys back to it.
        assert.match(fix.out, /Moving all the \d+ slot keys to its owner/);
        await waitForClusterOk(ports);
        await assertOwner(ports, slot, slot, g1.port);
        assert.equal(await ask(g4.port, "CLUSTER", "COUNTKEYSINSLOT", slot), "0");
        assert.equal(Number(await ask(g1.port, "CLUSTER", "COUNTKEYSINSLOT", slot)), inSlot.length);
        assert.deepEqual(
          await digest(g1.port, inSlot),
          inSlot.map((k) => `${k}=${"x".repeat(50)}`),
          "every key exactly once, on the slot's one owner, with its value",
        );
        const check = await runTool("redis-cli", ["--cluster", "check", `127.0.0.1:${g1.port}`]);
        assert.equal(check.code, 0, check.out);
        assert.doesNotMatch(check.out, /WARNING|ERR/);
      },
    );
  } finally {
    client?.disconnect();
    for (const node of nodes) await node[Symbol.asyncDispose]();
    await Deno.remove(dir4, { recursive: true }).catch(() => {});
  }
});
