/**
 * `gocache cluster <command>`: manages a running cluster through any of its nodes (`--node`):
 * `check` and `info` look, `add-shard`, `remove-shard`, `rebalance` and `reshard` move slots
 * chosen by gocache's consistent-hash scores (src/cluster/slot_plan.ts, cli/cluster_plan.ts),
 * the fewest that reach even shares, the way `redis-cli --cluster` moves them, so gocache and
 * redis-server nodes can be mixed. Exit codes: 0 done, 1 failure, 2 usage.
 */
import { parseArgs } from "node:util";
import { OutputClosed, printErr, printOut } from "./output.ts";
import type { Subcommand } from "./subcommand.ts";
import { DEFAULT_NODE_PORT, describeParseError, EXIT_FAILURE, UsageError } from "./usage.ts";
import { LiveCluster } from "./cluster_view.ts";
import { runCheck, runInfo } from "./cluster_report.ts";
import type { ManageOptions } from "./cluster_apply.ts";
import { rebalance, reshard } from "./cluster_balance.ts";
import { addShard, removeShard } from "./cluster_shards.ts";

const DEFAULT_NODE = `127.0.0.1:${DEFAULT_NODE_PORT}`;

function usage(): string {
  return [
    "Usage: gocache cluster <command> [--node HOST:PORT] [options]",
    "",
    "Manages a running cluster through any of its nodes (--node, default 127.0.0.1:7000).",
    "",
    "Commands:",
    "  check                         Slot coverage, one owner per slot in every node's view,",
    "                                open (importing/migrating) slots, all nodes agreeing",
    "  info                          Per master: shard, id, address, slots, keys, replicas",
    "  add-shard --new HOST:PORT [--replica HOST:PORT ...]",
    "                                Join empty nodes as a new shard and give it its slots",
    "  remove-shard --shard NODE     Move a shard's slots to the others, then forget its nodes",
    "  rebalance [--threshold 2%]    Even the shards' slot counts once one strays past it",
    "  reshard --slots N --from NODE --to NODE",
    "                                Move N slots between two masters",
    "",
    "NODE is HOST:PORT, a node id (or 8+ leading characters of one), or a shard name.",
    "",
    "Options:",
    "  --node HOST:PORT     A node of the cluster to start from (default 127.0.0.1:7000)",
    "  --names LIST         Shard names to recognise besides shard-K and node ids (the",
    "                       names of the topology file the cluster was formed from)",
    "  --dry-run            Print the plan, change nothing",
    "  --yes                Do not ask before moving slots",
    "  --pipeline N         Keys per GETKEYSINSLOT/MIGRATE batch (default 100)",
    "  --atomic             Move slot ranges with CLUSTER MIGRATESLOTS (gocache masters",
    "                       only): no -ASK for clients, much faster than key batches",
    "  --timeout SECONDS    Bound on each wait and on MIGRATE (default 60)",
    "  -a, --password PW    AUTH with this password on every node",
    "  -h, --help           Show this help",
    "",
    "Exit codes: 0 done (check: no problem), 1 failure (check: a problem), 2 usage.",
  ].join("\n");
}

/** Which options each command takes (beyond the common ones). */
const EXTRA: Record<string, string[]> = {
  check: [],
  info: [],
  "add-shard": ["new", "replica"],
  "remove-shard": ["shard"],
  rebalance: ["threshold"],
  reshard: ["slots", "from", "to"],
};
const MOVING = ["dry-run", "yes", "pipeline", "timeout", "atomic"];

function bad(text: string): never {
  throw new UsageError(`gocache cluster: ${text}`);
}

function address(text: string | undefined, flag: string): string {
  if (text === undefined) bad(`${flag} HOST:PORT is required`);
  const colon = text.lastIndexOf(":");
  const port = Number(text.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    bad(`${flag}: '${text}' is not HOST:PORT`);
  }
  return text;
}

function integer(text: string | undefined, flag: string, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) bad(`${flag} must be an integer >= ${min}`);
  return n;
}

/** `--threshold 2%` (or `2`) as a fraction. */
function fraction(text: string | undefined): number {
  if (text === undefined) return 0.02;
  const n = Number(text.replace(/%$/, ""));
  if (!Number.isFinite(n) || n < 0 || n >= 100) bad("--threshold must be a percentage, e.g. 2%");
  return n / 100;
}

async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        node: { type: "string" },
        names: { type: "string" },
        new: { type: "string" },
        replica: { type: "string", multiple: true },
        shard: { type: "string" },
        threshold: { type: "string" },
        slots: { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
        "dry-run": { type: "boolean" },
        yes: { type: "boolean" },
        pipeline: { type: "string" },
        atomic: { type: "boolean" },
        timeout: { type: "string" },
        password: { type: "string", short: "a" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (e) {
    bad(describeParseError(e));
  }
  const v = parsed.values;
  if (v.help) {
    printOut(usage());
    return 0;
  }
  const [command, ...extra] = parsed.positionals;
  if (command === undefined) bad("give a command: check, info, add-shard, remove-shard, ...");
  if (!(command in EXTRA)) bad(`unknown command '${command}' (see gocache cluster --help)`);
  if (extra.length > 0) bad(`unexpected argument '${extra[0]}'`);
  const allowed = ["node", "names", "password", "help", ...EXTRA[command]];
  if (command !== "check" && command !== "info") allowed.push(...MOVING);
  for (const [name, value] of Object.entries(v)) {
    if (value !== undefined && !allowed.includes(name)) bad(`${command} takes no --${name}`);
  }
  const node = address(v.node ?? DEFAULT_NODE, "--node");
  const options: ManageOptions = {
    dryRun: v["dry-run"] === true,
    yes: v.yes === true,
    password: v.password,
    timeoutMs: integer(v.timeout, "--timeout", 60, 1) * 1000,
    pipeline: integer(v.pipeline, "--pipeline", 100, 1),
    atomic: v.atomic === true,
  };
  // Every argument is checked before any node is contacted.
  let body: (cluster: LiveCluster) => Promise<number>;
  switch (command) {
    case "check":
      body = runCheck;
      break;
    case "info":
      body = runInfo;
      break;
    case "add-shard": {
      const master = address(v.new, "--new");
      const replicas = (v.replica ?? []).map((r) => address(r, "--replica"));
      body = (cluster) => addShard(cluster, master, replicas, options);
      break;
    }
    case "remove-shard": {
      const shard = v.shard ?? bad("--shard NODE is required");
      body = (cluster) => removeShard(cluster, shard, options);
      break;
    }
    case "rebalance": {
      const threshold = fraction(v.threshold);
      body = (cluster) => rebalance(cluster, threshold, options);
      break;
    }
    default: {
      const slots = integer(v.slots ?? bad("--slots N is required"), "--slots", 0, 1);
      const from = v.from ?? bad("--from NODE is required");
      const to = v.to ?? bad("--to NODE is required");
      body = (cluster) => reshard(cluster, slots, from, to, options);
    }
  }
  let cluster: LiveCluster | undefined;
  try {
    cluster = await LiveCluster.open(node, options.password);
    cluster.names = (v.names ?? "").split(",").map((n) => n.trim()).filter((n) => n !== "");
    return await body(cluster);
  } catch (e) {
    if (e instanceof UsageError || e instanceof OutputClosed) throw e;
    printErr(`gocache cluster ${command}: ${e instanceof Error ? e.message : e}`);
    return EXIT_FAILURE;
  } finally {
    await cluster?.close();
  }
}

/** The `cluster` subcommand. */
export const clusterCommand: Subcommand = {
  name: "cluster",
  summary: "Check, inspect, grow, shrink and rebalance a running cluster",
  usage,
  run,
};
