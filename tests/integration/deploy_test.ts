/**
 * The deployment files against the real tools and a real server, with no Docker engine: the
 * compose files pass `docker-compose config -q`; every Prometheus config under config/ passes
 * `promtool check config`; `gocache serve` runs the containers' node configurations under exactly
 * the permission flags and V8 settings the executable is compiled with (deploy/compile.ts),
 * serves PING, SAVE, CONFIG REWRITE, /metrics and /healthz, and the Dockerfile's HEALTHCHECK command tells a live
 * node from a dead one; and the Grafana dashboard's queries name only metrics that the demos'
 * cluster and group nodes export. Structural checks are in tests/unit/deploy_test.ts.
 */
import { waitFor } from "../support/wait_for.ts";
import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import { PERMISSIONS, v8FlagsArg } from "../../deploy/compile.ts";
import { freeClusterPort } from "../support/cluster.ts";
import { execForm, readDockerfile, repoPath, ROOT } from "../support/deploy.ts";
import { exposedNames, httpGet, promqlMetricNames, scrape } from "../support/prometheus.ts";
import { freePort } from "../support/redis_server.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import { MAIN, type ServerProcess, spawnServer } from "../support/server.ts";
import { DOCKER_COMPOSE, PROMTOOL, requireTools, runTool } from "../support/tools.ts";

for (const file of ["docker-compose.yml", "docker-compose.cluster.yml"]) {
  Deno.test({
    name: `docker-compose accepts ${file}`,
    ...requireTools(DOCKER_COMPOSE, async () => {
      const out = await new Deno.Command("docker-compose", {
        args: ["-f", file, "config", "-q"],
        cwd: ROOT,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const dec = new TextDecoder();
      assert.equal(out.code, 0, dec.decode(out.stdout) + dec.decode(out.stderr));
    }),
  });
}

/** The Prometheus configurations under config/: the YAML files with `scrape_configs`. */
async function prometheusConfigs(dir = "config/"): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(repoPath(dir))) {
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory) out.push(...await prometheusConfigs(`${path}/`));
    else if (/\.ya?ml$/.test(entry.name)) {
      const doc = parse(await Deno.readTextFile(repoPath(path)));
      if (doc !== null && typeof doc === "object" && "scrape_configs" in doc) out.push(path);
    }
  }
  return out.sort();
}

Deno.test({
  name: "promtool check config accepts every Prometheus configuration under config/",
  ...requireTools(PROMTOOL, async () => {
    const files = await prometheusConfigs();
    for (
      const demo of [
        "config/prometheus.yml",
        "config/group/prometheus.yml",
        "config/cluster/prometheus.yml",
      ]
    ) {
      assert.ok(files.includes(demo), `${demo} is among ${files.join(", ")}`);
    }
    for (const file of files) {
      // In a directory of its own, so that relative paths in it could not resolve by chance.
      const dir = await Deno.makeTempDir({ prefix: "gocache-promtool-" });
      try {
        await Deno.copyFile(repoPath(file), `${dir}/prometheus.yml`);
        const out = await new Deno.Command("promtool", {
          args: ["check", "config", "prometheus.yml"],
          cwd: dir,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).output();
        const dec = new TextDecoder();
        assert.equal(out.code, 0, `${file}: ${dec.decode(out.stdout)}${dec.decode(out.stderr)}`);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  }),
});

/** A node started from a container configuration, on loopback, under the compiled permissions. */
interface DemoNode {
  node: ServerProcess;
  metricsPort: number;
  configFile: string;
}

/**
 * Runs `deno run <PERMISSIONS> <V8 flags> main.ts serve --config <copy of file>`: the
 * repository's node YAML with its addresses moved to 127.0.0.1 on free ports, its data directory
 * to a temporary one, and `overrides` applied, written to a temporary file (CONFIG REWRITE may
 * write it).
 */
async function startDemoNode(
  file: string,
  overrides: Record<string, unknown> = {},
): Promise<DemoNode> {
  const dir = await Deno.makeTempDir({ prefix: "gocache-deploy-" });
  const metricsPort = freePort();
  const values = {
    ...parse(await Deno.readTextFile(repoPath(file))),
    bind: "127.0.0.1",
    "metrics-bind": "127.0.0.1",
    "metrics-port": metricsPort,
    port: 0,
    dir,
    "log-format": "json",
    ...overrides,
  };
  const configFile = `${dir}/node.yaml`;
  await Deno.writeTextFile(configFile, stringify(values));
  const node = await spawnServer({
    args: ["run", ...PERMISSIONS, v8FlagsArg(), MAIN, "serve", "--config", configFile],
    dir,
  });
  return { node, metricsPort, configFile };
}

/** The overrides that run a container configuration alone on loopback. */
function alone(file: string): Record<string, unknown> {
  if (file.includes("/group/")) {
    const port = freeClusterPort();
    return { port, "group-members": `127.0.0.1:${port}` };
  }
  if (file.includes("/cluster/")) return { port: freeClusterPort() };
  return {};
}

/** The Dockerfile's HEALTHCHECK command, asking the metrics endpoint on `port` instead. */
async function healthcheck(port: number): Promise<string[]> {
  const check = (await readDockerfile()).find((i) => i.keyword === "HEALTHCHECK");
  assert.ok(check !== undefined, "the Dockerfile has a HEALTHCHECK");
  const command = execForm(check.args.slice(check.args.indexOf("CMD ") + 4));
  const image = parse(await Deno.readTextFile(repoPath("config/docker/node.yaml")));
  const from = `/dev/tcp/127.0.0.1/${image["metrics-port"]}`;
  assert.ok(command.some((arg) => arg.includes(from)), `the check connects to ${from}`);
  return command.map((arg) => arg.replace(from, `/dev/tcp/127.0.0.1/${port}`));
}

const CONTAINER_CONFIGS = [
  "config/docker/node.yaml",
  "config/cluster/node.yaml",
  "config/group/node.yaml",
];

Deno.test("gocache serve runs the container configurations under the compiled permission flags", async (t) => {
  for (const file of CONTAINER_CONFIGS) {
    await t.step(file, async () => {
      const { node, metricsPort, configFile } = await startDemoNode(file, alone(file));
      await using _node = node;
      {
        await using conn = await RespConn.connect(node.port);
        assert.equal(plain(await conn.call("PING")), "PONG");
        if (!file.includes("/cluster/")) {
          // A group member alone leads its group; a cluster node without slots takes no keys.
          await waitUntilWrites(conn);
        }
        assert.equal(plain(await conn.call("SAVE")), "OK", "writes the snapshot in dir");
        await conn.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
        assert.equal(plain(await conn.call("CONFIG", "REWRITE")), "OK", "rewrites the YAML");
        assert.match(String(plain(await conn.call("INFO", "server"))), /executable:/);
      }
      assert.match(await Deno.readTextFile(configFile), /^maxmemory-policy: allkeys-lru$/m);
      const health = await httpGet(metricsPort, "/healthz");
      assert.equal(health.status, 200);
      assert.equal((await httpGet(metricsPort, "/readyz")).status, 200);
      const metrics = await scrape(metricsPort);
      // Deno lets only --allow-all read /proc/self: process_open_fds, process_max_fds and
      // process_virtual_memory_bytes are left out (the dashboard uses none of them).
      assert.match(metrics, /^process_resident_memory_bytes \d+/m);
      assert.match(metrics, /^gocache_commands_processed_total\{/m);
      const [cmd, ...args] = await healthcheck(metricsPort);
      const ok = await runTool(cmd, args);
      assert.equal(ok.code, 0, `the HEALTHCHECK passes on a live node: ${ok.err}`);
      assert.deepEqual(
        node.logs.filter((l) => /NotCapable|Requires \w+ access/.test(l)),
        [],
        "no permission was refused",
      );
    });
  }
});

/** Sets a key, waiting out a group leader's first seconds without writes. */
async function waitUntilWrites(conn: RespConn): Promise<void> {
  await waitFor(async () => plain(await conn.call("SET", "deploy:key", "1")) === "OK", {
    timeoutMs: 10_000,
    what: "the node to take writes",
  });
}

Deno.test("the Dockerfile's HEALTHCHECK fails when nothing answers on the metrics port", async () => {
  const [cmd, ...args] = await healthcheck(freePort());
  const out = await runTool(cmd, args);
  assert.notEqual(out.code, 0);
});

interface Panel {
  title: string;
  targets: { expr: string }[];
}

Deno.test("the dashboard's queries name only metrics the demos' cluster and group nodes export", async () => {
  const dashboard = JSON.parse(
    await Deno.readTextFile(repoPath("config/grafana/gocache-dashboard.json")),
  );
  const used = new Map<string, string>();
  for (const panel of dashboard.panels as Panel[]) {
    for (const { expr } of panel.targets) {
      for (const name of promqlMetricNames(expr)) used.set(name, panel.title);
    }
  }
  for (const variable of dashboard.templating.list) {
    const m = /label_values\((\w+),/.exec(variable.query?.query ?? "");
    if (m !== null) used.set(m[1], `variable ${variable.name}`);
  }
  assert.ok(used.size > 20, "the dashboard queries many metrics");
  assert.ok(used.has("gocache_cluster_state") && used.has("gocache_failover_elections_total"));
  for (const file of ["config/cluster/node.yaml", "config/group/node.yaml"]) {
    const { node, metricsPort } = await startDemoNode(file, alone(file));
    await using _node = node;
    {
      await using conn = await RespConn.connect(node.port);
      await conn.call("SET", "a", "1", "EX", "100");
      await conn.call("GET", "a");
      await conn.call("NOSUCH");
    }
    const exposed = exposedNames(await scrape(metricsPort));
    const missing = [...used].filter(([name]) => !exposed.has(name))
      .map(([name, where]) => `${where}: ${name}`);
    assert.deepEqual(missing, [], `${file}'s node does not export what the dashboard queries`);
  }
});
