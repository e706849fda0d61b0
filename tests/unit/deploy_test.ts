/**
 * The deployment files agree with the code and with each other, read without running anything:
 * every node YAML under config/ loads with gocache's own config loader; the Dockerfile builds
 * through `deno task compile` (the one definition of the permission flags, deploy/compile.ts)
 * and exposes the ports its configuration serves; the compose demos' commands, members, hosts,
 * scrape targets and Grafana mounts match; the Kubernetes manifests parse, are all listed by the
 * kustomization, and their ports, probes, per-pod flags and cluster-init node list follow from
 * the ConfigMap and the StatefulSet; the release workflow builds the five targets and CI runs
 * .ci/run. tests/integration/deploy_test.ts runs what needs tools or a server.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import type { Config } from "../../src/config/config.ts";
import { compileArgs, INCLUDES, outputPath, PERMISSIONS, TARGETS } from "../../deploy/compile.ts";
import {
  busPort,
  ciDenoVersion,
  type ComposeFile,
  type ComposeService,
  dependencies,
  execForm,
  type Instruction,
  loadNodeConfig,
  mountedFile,
  parseDocuments,
  parseServe,
  readCompose,
  readDockerfile,
  repoPath,
  type ServeCommand,
} from "../support/deploy.ts";

/** Node configurations are the `.yaml` files under config/, but for cluster topologies. */
async function nodeYamlFiles(dir = "config/"): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(repoPath(dir))) {
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory && path !== "config/topology") {
      out.push(...await nodeYamlFiles(`${path}/`));
    } else if (entry.isFile && entry.name.endsWith(".yaml")) out.push(path);
  }
  return out.sort();
}

Deno.test("every node YAML under config/ loads with gocache's config loader", async () => {
  const files = await nodeYamlFiles();
  for (
    const expected of [
      "config/node.yaml",
      "config/docker/node.yaml",
      "config/group/node.yaml",
      "config/cluster/node.yaml",
    ]
  ) {
    assert.ok(files.includes(expected), `${expected} is among ${files.join(", ")}`);
  }
  for (const file of files) {
    await assert.doesNotReject(loadNodeConfig(repoPath(file)), `${file} loads`);
  }
});

// --- Dockerfile and the compile task ---------------------------------------------------------

/** The Dockerfile's stages: each FROM and the instructions after it. */
function stages(instructions: Instruction[]): { from: string; body: Instruction[] }[] {
  const out: { from: string; body: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") out.push({ from: instruction.args, body: [] });
    else out.at(-1)?.body.push(instruction);
  }
  return out;
}

function only(body: Instruction[], keyword: string): Instruction {
  const found = body.filter((i) => i.keyword === keyword);
  assert.equal(found.length, 1, `one ${keyword} in the runtime stage`);
  return found[0];
}

/** The runtime stage's default configuration (the file CMD passes to --config). */
async function imageConfig(): Promise<Config> {
  return await loadNodeConfig(repoPath("config/docker/node.yaml"));
}

Deno.test("the Dockerfile compiles with deno task compile in Deno's image of the CI version", async () => {
  const instructions = await readDockerfile();
  const [build, runtime, ...more] = stages(instructions);
  assert.equal(more.length, 0, "two stages: build and runtime");
  assert.equal(build.from, `denoland/deno:${await ciDenoVersion()} AS build`);
  assert.ok(
    build.body.some((i) => i.keyword === "RUN" && /\bdeno task compile\b/.test(i.args)),
    "the build stage runs deno task compile",
  );
  const flags = instructions.filter((i) => /--allow-|\s-A\b/.test(i.args));
  assert.deepEqual(flags, [], "permission flags are defined in deploy/compile.ts only");
  assert.ok(!runtime.from.startsWith("denoland/deno"), "the runtime image has no Deno toolchain");
  const copies = runtime.body.filter((i) => i.keyword === "COPY").map((i) => i.args.split(/\s+/));
  assert.ok(
    copies.some((c) =>
      c[0] === "--from=build" && c[1].endsWith(`/${outputPath()}`) &&
      c[2] === "/usr/local/bin/gocache"
    ),
    `the runtime stage takes ${outputPath()} from the build stage onto the PATH`,
  );
  assert.ok(
    copies.some((c) => c[0] === "config/docker/node.yaml" && c[1] === "/etc/gocache/node.yaml"),
    "the default configuration is config/docker/node.yaml",
  );
});

Deno.test("the image runs gocache serve unprivileged on the ports and volume its config names", async () => {
  const runtime = stages(await readDockerfile())[1].body;
  const config = await imageConfig();
  const v = config.values;
  assert.deepEqual(execForm(only(runtime, "ENTRYPOINT").args), ["gocache"]);
  assert.deepEqual(execForm(only(runtime, "CMD").args), [
    "serve",
    "--config",
    "/etc/gocache/node.yaml",
  ]);
  const [uid, gid] = only(runtime, "USER").args.split(":");
  assert.ok(
    /^\d+$/.test(uid) && uid !== "0",
    `USER ${uid}: numeric (runAsNonRoot can check it), not root`,
  );
  assert.equal(gid, uid, "with its own group");
  const useradd = runtime.find((i) => i.keyword === "RUN" && /\buseradd\b/.test(i.args));
  assert.match(useradd?.args ?? "", new RegExp(`groupadd --system --gid ${gid}\\b`));
  assert.match(
    useradd?.args ?? "",
    new RegExp(`--uid ${uid} --gid ${gid}\\b`),
    "created as a user",
  );
  assert.deepEqual(
    execForm(only(runtime, "VOLUME").args),
    [v.dir],
    "the data directory is the volume",
  );
  assert.equal(v.bind, "0.0.0.0", "the node listens on the container's interfaces");
  assert.equal(v["metrics-bind"], "0.0.0.0", "the metrics endpoint too");
  const exposed = only(runtime, "EXPOSE").args.split(/\s+/).map(Number).sort();
  assert.deepEqual(exposed, [v.port, busPort(config), v["metrics-port"]].sort(), "EXPOSE");
  const check = only(runtime, "HEALTHCHECK").args;
  const command = execForm(check.slice(check.indexOf("CMD ") + 4));
  assert.equal(command[0], "bash", "the check needs no HTTP client in the image");
  assert.match(command.join(" "), new RegExp(`/dev/tcp/127\\.0\\.0\\.1/${v["metrics-port"]}\\b`));
  assert.match(command.join(" "), /GET \/healthz /);
});

/** A .dockerignore pattern as a regular expression over context paths. */
function ignorePattern(pattern: string): RegExp {
  const body = pattern.replace(/^\/|\/$/g, "").split("").map((c, i, all) => {
    if (c === "*" && all[i + 1] === "*") return "";
    if (c === "*" && all[i - 1] === "*") return all[i + 1] === "/" ? "(?:.*/)?" : ".*";
    if (c === "/" && all[i - 1] === "*" && all[i - 2] === "*") return "";
    if (c === "*") return "[^/]*";
    if (c === "?") return "[^/]";
    return c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }).join("");
  return new RegExp(`^${body}$`);
}

Deno.test(".dockerignore keeps every file the Dockerfile copies in the build context", async () => {
  const patterns = (await Deno.readTextFile(repoPath(".dockerignore"))).split("\n")
    .map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
  assert.ok(ignorePattern("**/*.rdb").test("tests/fixtures/a.rdb"));
  assert.ok(ignorePattern("**/*.rdb").test("a.rdb"));
  assert.ok(ignorePattern("data/").test("data"));
  const excluded = (path: string) => {
    const parts = path.replace(/\/$/, "").split("/");
    return patterns.some((p) =>
      parts.some((_, i) => ignorePattern(p).test(parts.slice(0, i + 1).join("/")))
    );
  };
  for (const path of [".git", "dist", "data", "tests", "node_modules"]) {
    assert.ok(excluded(path), `${path} is left out of the context`);
  }
  const sources = (await readDockerfile())
    .filter((i) => i.keyword === "COPY" && !i.args.startsWith("--from"))
    .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
  assert.ok(sources.length >= 4);
  for (const source of sources) {
    assert.ok(!excluded(source), `${source} is copied, so .dockerignore must keep it`);
    await Deno.stat(repoPath(source));
  }
});

Deno.test("deno task compile runs deploy/compile.ts, which holds the narrow permission set", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(repoPath("deno.json"))).tasks;
  assert.match(tasks.compile, /^deno run .*\bdeploy\/compile\.ts$/);
  // What the server needs (tests/integration/deploy_test.ts serves with exactly these): no
  // --allow-all, no subprocesses, FFI or system information, two environment variables.
  assert.deepEqual(PERMISSIONS, [
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-env=LOG_TOKENS,LOG_STREAM",
  ]);
  const args = compileArgs();
  assert.deepEqual(args.slice(0, PERMISSIONS.length + 2), [
    "compile",
    ...PERMISSIONS,
    "--v8-flags=--max-semi-space-size=8",
  ]);
  assert.match(tasks.serve, /--v8-flags=--max-semi-space-size=8 main\.ts serve$/);
  assert.deepEqual(args.slice(-3), ["--output", "dist/gocache", "main.ts"]);
  for (const file of INCLUDES) {
    await Deno.stat(repoPath(file));
    assert.ok(args.join(" ").includes(`--include ${file}`));
  }
  assert.deepEqual(compileArgs("aarch64-apple-darwin").slice(-5), [
    "--target",
    "aarch64-apple-darwin",
    "--output",
    "dist/gocache-aarch64-apple-darwin",
    "main.ts",
  ]);
  assert.equal(outputPath("x86_64-pc-windows-msvc"), "dist/gocache-x86_64-pc-windows-msvc.exe");
});

// --- compose ---------------------------------------------------------------------------------

/** A gocache node of a compose file: its service and what its command loads. */
interface ComposeNode {
  name: string;
  service: ComposeService;
  serve: ServeCommand;
  config: Config;
}

/** The services of a compose file that run `gocache serve`, their configurations loaded. */
async function composeNodes(compose: ComposeFile): Promise<ComposeNode[]> {
  const nodes: ComposeNode[] = [];
  for (const [name, service] of Object.entries(compose.services)) {
    if (!service.image?.startsWith("gocache:") || service.entrypoint !== undefined) continue;
    const serve = parseServe(service.command ?? []);
    assert.ok(serve !== null && serve.config !== undefined, `${name} runs serve --config`);
    const file = mountedFile(service, serve.config);
    assert.ok(file !== undefined, `${name} mounts its --config file from the repository`);
    const config = await loadNodeConfig(repoPath(file), serve.flags);
    nodes.push({ name, service, serve, config });
  }
  return nodes;
}

/** Checks what every demo shares: image, volumes, published ports, Prometheus and Grafana. */
async function checkDemo(compose: ComposeFile, nodes: ComposeNode[]): Promise<void> {
  for (const { name, service, config } of nodes) {
    const v = config.values;
    assert.equal(service.build, ".", `${name} is built from the Dockerfile`);
    assert.equal(v.bind, "0.0.0.0", `${name} listens on the network`);
    assert.equal(v["metrics-bind"], "0.0.0.0", `${name}'s metrics reach Prometheus`);
    assert.ok(v["metrics-port"] > 0, `${name} serves metrics`);
    assert.equal(v["cluster-announce-hostname"], name, `${name} announces its service name`);
    assert.ok(
      (service.volumes ?? []).includes(`${name}:${v.dir}`) && compose.volumes?.[name] !== undefined,
      `${name} keeps ${v.dir} in its own named volume`,
    );
    for (const port of service.ports ?? []) {
      assert.equal(Number(port.split(":").at(-1)), v.port, `${name} publishes its client port`);
    }
  }
  const prometheus = compose.services.prometheus;
  const promFile = mountedFile(prometheus, "/etc/prometheus/prometheus.yml");
  assert.ok(promFile !== undefined, "Prometheus loads a repository config");
  const scrape = parse(await Deno.readTextFile(repoPath(promFile)));
  const targets = scrape.scrape_configs.flatMap((
    job: { static_configs: { targets: string[] }[] },
  ) => job.static_configs.flatMap((s) => s.targets));
  assert.deepEqual(
    [...targets].sort(),
    nodes.map((n) => `${n.name}:${n.config.values["metrics-port"]}`).sort(),
    `${promFile} scrapes every node`,
  );
  const grafana = compose.services.grafana;
  const datasources = mountedFile(grafana, "/etc/grafana/provisioning/datasources");
  const dashboards = mountedFile(grafana, "/etc/grafana/provisioning/dashboards");
  assert.equal(datasources, "config/grafana/provisioning/datasources");
  assert.equal(dashboards, "config/grafana/provisioning/dashboards");
  const source = parse(await Deno.readTextFile(repoPath(`${datasources}/prometheus.yml`)));
  assert.equal(source.datasources[0].type, "prometheus");
  assert.equal(source.datasources[0].url, "http://prometheus:9090", "the Prometheus service");
  assert.equal(source.datasources[0].isDefault, true, "the dashboard's datasource variable");
  const provider = parse(await Deno.readTextFile(repoPath(`${dashboards}/gocache.yml`)));
  const dashboardDir = provider.providers[0].options.path;
  assert.equal(
    mountedFile(grafana, `${dashboardDir}/gocache-dashboard.json`),
    "config/grafana/gocache-dashboard.json",
    "Grafana finds the dashboard where its provider looks",
  );
  assert.deepEqual(dependencies(prometheus).sort(), nodes.map((n) => n.name).sort());
}

Deno.test("docker-compose.yml runs a leader and two followers that form one group", async () => {
  const compose = await readCompose("docker-compose.yml");
  const nodes = await composeNodes(compose);
  assert.equal(nodes.length, 3);
  const [first] = nodes;
  const group = first.config.values["group-name"];
  assert.notEqual(group, "", "group mode");
  const leaders = nodes.filter((n) => n.config.values.replicaof === null);
  assert.deepEqual(leaders.map((n) => n.name), [first.name], "one first leader");
  for (const { name, config } of nodes) {
    const v = config.values;
    assert.equal(v["group-name"], group);
    assert.deepEqual(
      v["group-members"].map((m) => `${m.host}:${m.port}@${m.busPort}`).sort(),
      nodes.map((n) => `${n.name}:${n.config.values.port}@${busPort(n.config)}`).sort(),
      `${name}'s group-members are the services, at their ports`,
    );
    if (name !== first.name) {
      assert.deepEqual(v.replicaof, { host: first.name, port: first.config.values.port });
    }
  }
  await checkDemo(compose, nodes);
  assert.deepEqual(compose.services.cli.profiles, ["tools"], "the cli helper is not started");
});

Deno.test("docker-compose.cluster.yml forms 3 shards x 1 replica with a one-shot cluster-init", async () => {
  const compose = await readCompose("docker-compose.cluster.yml");
  const nodes = await composeNodes(compose);
  assert.equal(nodes.length, 6);
  for (const { name, config } of nodes) {
    assert.equal(config.values["cluster-enabled"], true, `${name} is a cluster node`);
    assert.equal(config.values["cluster-preferred-endpoint-type"], "hostname");
  }
  await checkDemo(compose, nodes);
  const init = compose.services["cluster-init"];
  assert.equal(init.image, nodes[0].service.image, "cluster-init runs the gocache image");
  assert.deepEqual(init.entrypoint, ["bash", "-c"]);
  assert.equal(init.healthcheck?.disable, true, "a one-shot has no health to check");
  assert.ok(/^on-failure/.test(String((init as { restart?: string }).restart)));
  const script = (init.command ?? []).join(" ");
  const words = script.slice(script.indexOf("gocache cluster-init")).split(/[\s;]+/);
  const flag = (name: string) => words[words.indexOf(name) + 1];
  const addresses = nodes.map((n) => `${n.name}:${n.config.values.port}`);
  assert.deepEqual(flag("--nodes").split(","), addresses, "cluster-init names every node");
  const replicas = Number(flag("--replicas"));
  assert.equal(replicas, 1);
  assert.equal(nodes.length / (replicas + 1), 3, "three shards");
  assert.ok(words.includes("--yes"), "it does not wait for an answer");
  assert.ok(
    script.startsWith(`gocache cluster check --node ${addresses[0]} `),
    "on a formed cluster it stops at the check",
  );
  const deps = init.depends_on as Record<string, { condition: string }>;
  for (const { name } of nodes) assert.equal(deps[name]?.condition, "service_healthy");
});

// --- Kubernetes ------------------------------------------------------------------------------

const K8S = "deploy/kubernetes/";

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: unknown;
  data?: Record<string, string>;
}

interface EnvVar {
  name: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}

interface Probe {
  httpGet: { path: string; port: string | number };
}

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string }[];
}

interface PodSpec {
  securityContext?: { runAsUser?: number; runAsNonRoot?: boolean; fsGroup?: number };
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string } }[];
}

interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: PodSpec;
}

interface StatefulSet extends Manifest {
  spec: {
    serviceName: string;
    replicas: number;
    podManagementPolicy: string;
    selector: { matchLabels: Record<string, string> };
    template: PodTemplate;
    volumeClaimTemplates: { metadata: { name: string } }[];
  };
}

interface Service extends Manifest {
  spec: {
    clusterIP?: string;
    publishNotReadyAddresses?: boolean;
    selector: Record<string, string>;
    ports: { name: string; port: number; targetPort: string | number }[];
  };
}

async function manifests(): Promise<Map<string, Manifest[]>> {
  const out = new Map<string, Manifest[]>();
  for await (const entry of Deno.readDir(repoPath(K8S))) {
    if (!entry.isFile) continue;
    const docs = parseDocuments(await Deno.readTextFile(repoPath(K8S + entry.name)));
    out.set(entry.name, docs as Manifest[]);
  }
  return out;
}

async function resources(): Promise<Manifest[]> {
  const all = await manifests();
  all.delete("kustomization.yaml");
  return [...all.values()].flat();
}

function one<T extends Manifest>(all: Manifest[], kind: string, name?: string): T {
  const found = all.filter((m) =>
    m.kind === kind && (name === undefined || m.metadata.name === name)
  );
  assert.equal(found.length, 1, `one ${kind}${name ? ` ${name}` : ""}`);
  return found[0] as T;
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Kubernetes's `$(VAR)` references in a container's command and args. */
function references(container: Container): string[] {
  const text = [...(container.command ?? []), ...(container.args ?? [])].join(" ");
  return [...text.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)].map((m) => m[1]);
}

/** Sample values for the downward API fields the manifests use. */
const DOWNWARD: Record<string, string> = {
  "metadata.name": "gocache-0",
  "metadata.namespace": "ns",
};

/** `$(VAR)` replaced as the kubelet would, from the env's downward API fields. */
function expand(container: Container, text: string): string {
  return text.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_, name: string) => {
    const field = container.env?.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath;
    return DOWNWARD[field ?? ""] ?? `$(${name})`;
  });
}

Deno.test("the Kubernetes manifests parse and the kustomization lists exactly them", async () => {
  const all = await manifests();
  const kustomization = (all.get("kustomization.yaml") ?? [])[0] as Manifest & {
    resources: string[];
  };
  assert.equal(kustomization.kind, "Kustomization");
  assert.equal(new Set(kustomization.resources).size, kustomization.resources.length, "no twice");
  assert.deepEqual(
    [...kustomization.resources].sort(),
    [...all.keys()].filter((f) => f !== "kustomization.yaml").sort(),
  );
  for (const [file, docs] of all) {
    assert.ok(docs.length > 0, `${file} has a document`);
    for (const doc of docs) {
      assert.ok(doc.apiVersion && doc.kind, `${file}: apiVersion and kind`);
      if (doc.kind !== "Kustomization") assert.ok(doc.metadata?.name, `${file}: a name`);
    }
  }
  const kinds = [...all.values()].flat().map((m) => m.kind).sort();
  assert.deepEqual(kinds, [
    "ConfigMap",
    "Job",
    "Kustomization",
    "PodDisruptionBudget",
    "Service",
    "Service",
    "StatefulSet",
  ]);
});

/** The StatefulSet, its container, and the configuration the container loads. */
async function statefulNode(all: Manifest[]) {
  const sts = one<StatefulSet>(all, "StatefulSet");
  const container = sts.spec.template.spec.containers[0];
  const serve = parseServe((container.args ?? []).map((a) => expand(container, a)));
  assert.ok(serve !== null && serve.config !== undefined, "the pods run serve --config");
  const mount = container.volumeMounts?.find((m) => serve.config?.startsWith(`${m.mountPath}/`));
  assert.ok(mount !== undefined, "the --config file is on a mounted volume");
  const volume = sts.spec.template.spec.volumes?.find((v) => v.name === mount.name);
  const map = one(all, "ConfigMap", volume?.configMap?.name);
  const key = serve.config.slice(mount.mountPath.length + 1);
  const text = map.data?.[key];
  assert.ok(text !== undefined, `the ConfigMap has ${key}`);
  const dir = await Deno.makeTempDir({ prefix: "gocache-k8s-" });
  try {
    await Deno.writeTextFile(`${dir}/${key}`, text);
    const config = await loadNodeConfig(`${dir}/${key}`, serve.flags);
    return { sts, container, serve, config };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the StatefulSet's pods load the ConfigMap's node YAML and serve on its ports", async () => {
  const all = await resources();
  const { sts, container, serve, config } = await statefulNode(all);
  const v = config.values;
  assert.equal(sts.spec.podManagementPolicy, "Parallel");
  assert.ok(matches(sts.spec.selector.matchLabels, sts.spec.template.metadata.labels));
  assert.equal(v["cluster-enabled"], true);
  assert.equal(v.bind, "0.0.0.0");
  assert.equal(v["metrics-bind"], "0.0.0.0");
  const ports = Object.fromEntries((container.ports ?? []).map((p) => [p.name, p.containerPort]));
  assert.deepEqual(ports, { client: v.port, bus: busPort(config), metrics: v["metrics-port"] });
  const probePort = (probe?: Probe) => {
    const port = probe?.httpGet.port;
    return typeof port === "string"
      ? container.ports?.find((p) => p.name === port)?.containerPort
      : port;
  };
  assert.equal(container.livenessProbe?.httpGet.path, "/healthz");
  assert.equal(container.readinessProbe?.httpGet.path, "/readyz");
  assert.equal(probePort(container.livenessProbe), v["metrics-port"]);
  assert.equal(probePort(container.readinessProbe), v["metrics-port"]);
  const data = container.volumeMounts?.find((m) => m.mountPath === v.dir);
  assert.ok(
    data !== undefined && sts.spec.volumeClaimTemplates.some((t) => t.metadata.name === data.name),
    "the data directory is the pod's own volume",
  );
  const annotations = (sts.spec.template.metadata as { annotations?: Record<string, string> })
    .annotations;
  assert.equal(annotations?.["prometheus.io/port"], String(v["metrics-port"]));

  // Per-pod values come from the downward API through $(VAR), and only as flags.
  for (const name of references(container)) {
    const field = container.env?.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath;
    assert.ok(field !== undefined && field in DOWNWARD, `$(${name}) is a downward API field`);
  }
  assert.equal(v["cluster-preferred-endpoint-type"], "hostname");
  assert.equal(
    serve.flags["cluster-announce-hostname"],
    `gocache-0.${sts.spec.serviceName}.ns.svc.cluster.local`,
    "each pod announces its own DNS name",
  );

  const version = JSON.parse(await Deno.readTextFile(repoPath("deno.json"))).version;
  assert.equal(container.image, `gocache:${version}`, "the image of this version");
  const dockerfile = await Deno.readTextFile(repoPath("Dockerfile"));
  const uid = Number(/useradd\b.*--uid (\d+)/.exec(dockerfile)?.[1]);
  const security = sts.spec.template.spec.securityContext;
  assert.equal(security?.runAsUser, uid, "the image's user");
  assert.equal(security?.fsGroup, uid, "the volume is writable by it");
  assert.equal(security?.runAsNonRoot, true);
});

Deno.test("the Services and the PodDisruptionBudget select the nodes, the Job's pod apart", async () => {
  const all = await resources();
  const { sts, container } = await statefulNode(all);
  const labels = sts.spec.template.metadata.labels;
  const job = one<Manifest & { spec: { template: PodTemplate } }>(all, "Job");
  const jobLabels = job.spec.template.metadata.labels;
  const names = new Set((container.ports ?? []).map((p) => p.name));
  const headless = one<Service>(all, "Service", sts.spec.serviceName);
  assert.equal(headless.spec.clusterIP, "None");
  assert.equal(headless.spec.publishNotReadyAddresses, true, "DNS names before readiness");
  const services = all.filter((m) => m.kind === "Service") as Service[];
  assert.ok(services.some((s) => s.spec.clusterIP !== "None"), "a client Service");
  for (const service of services) {
    assert.ok(matches(service.spec.selector, labels), `${service.metadata.name} selects the nodes`);
    assert.ok(!matches(service.spec.selector, jobLabels), "not the Job's pod");
    for (const port of service.spec.ports) {
      assert.ok(names.has(String(port.targetPort)), `${port.targetPort} is a container port`);
      const number = container.ports?.find((p) => p.name === port.targetPort)?.containerPort;
      assert.equal(port.port, number, `${service.metadata.name} ${port.name} keeps the number`);
    }
  }
  const pdb = one<Manifest & { spec: { selector: { matchLabels: Record<string, string> } } }>(
    all,
    "PodDisruptionBudget",
  );
  assert.ok(matches(pdb.spec.selector.matchLabels, labels));
  assert.ok(!matches(pdb.spec.selector.matchLabels, jobLabels));
});

Deno.test("the Job runs gocache cluster-init against every pod's DNS name", async () => {
  const all = await resources();
  const { sts, config } = await statefulNode(all);
  const job = one<Manifest & { spec: { template: PodTemplate } }>(all, "Job");
  const container = job.spec.template.spec.containers[0];
  assert.equal(container.image, sts.spec.template.spec.containers[0].image);
  for (const name of references(container)) {
    const field = container.env?.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath;
    assert.ok(field !== undefined && field in DOWNWARD, `$(${name}) is a downward API field`);
  }
  const script = expand(
    container,
    [...(container.command ?? []), ...(container.args ?? [])].join(" "),
  );
  const words = script.slice(script.indexOf("gocache cluster-init")).split(/[\s;]+/);
  const flag = (name: string) => words[words.indexOf(name) + 1];
  const pods = Array.from(
    { length: sts.spec.replicas },
    (_, i) =>
      `${sts.metadata.name}-${i}.${sts.spec.serviceName}.ns.svc.cluster.local:${config.values.port}`,
  );
  assert.deepEqual(flag("--nodes").split(","), pods);
  const replicas = Number(flag("--replicas"));
  assert.ok(replicas >= 1 && sts.spec.replicas % (replicas + 1) === 0);
  assert.ok(sts.spec.replicas / (replicas + 1) >= 3, "at least three masters");
  assert.ok(words.includes("--yes"));
  assert.match(
    script,
    new RegExp(`gocache cluster check --node ${pods[0].replace(/\./g, "\\.")} `),
  );
});

// --- workflows -------------------------------------------------------------------------------

interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, {
    strategy?: { matrix: { target?: string[] } };
    steps: { uses?: string; run?: string; with?: Record<string, string> }[];
  }>;
}

async function workflow(name: string): Promise<Workflow> {
  return parse(await Deno.readTextFile(repoPath(`.github/workflows/${name}`))) as Workflow;
}

Deno.test("the release workflow compiles the five targets on a v* tag, with SHA-256 sums", async () => {
  const release = await workflow("release.yml");
  assert.deepEqual((release.on.push as { tags: string[] }).tags, ["v*"]);
  const steps = Object.values(release.jobs).flatMap((j) => j.steps);
  const targets = Object.values(release.jobs).flatMap((j) => j.strategy?.matrix.target ?? []);
  assert.deepEqual([...targets].sort(), [...TARGETS].sort());
  for (
    const target of [
      "x86_64-unknown-linux-gnu",
      "aarch64-unknown-linux-gnu",
      "x86_64-apple-darwin",
      "aarch64-apple-darwin",
      "x86_64-pc-windows-msvc",
    ]
  ) {
    assert.ok(targets.includes(target), target);
  }
  const runs = steps.map((s) => s.run ?? "").join("\n");
  assert.match(runs, /deno task compile --target \$\{\{ matrix\.target \}\}/);
  assert.match(runs, /sha256sum gocache-\* > SHA256SUMS/);
  assert.match(runs, /gh release create "\$GITHUB_REF_NAME" dist\/gocache-\* dist\/SHA256SUMS/);
  const deno = steps.find((s) => s.uses?.startsWith("denoland/setup-deno@"));
  assert.equal(deno?.with?.["deno-version"], `v${await ciDenoVersion()}`);
});

Deno.test("the CI workflow runs .ci/run", async () => {
  const ci = await workflow("ci.yml");
  const runs = Object.values(ci.jobs).flatMap((j) => j.steps).map((s) => s.run ?? "");
  assert.ok(runs.some((run) => /(^|\s)(bash )?\.ci\/run$/.test(run.trim())), runs.join(" | "));
  assert.ok("pull_request" in ci.on && "push" in ci.on);
});
