/**
 * config/grafana/gocache-dashboard.json and config/prometheus.yml: the dashboard is valid JSON
 * whose expressions name only metrics a running server exports, and Prometheus's configuration
 * scrapes the metrics port of every example node and passes `promtool check config`.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { RespConn } from "../support/resp_conn.ts";
import { freePort } from "../support/redis_server.ts";
import { familyNames, promqlMetricNames as metricNames, scrape } from "../support/prometheus.ts";
import { startServer } from "../support/server.ts";
import { PROMTOOL, requireTools } from "../support/tools.ts";

const CONFIG = new URL("../../config/", import.meta.url);

interface Panel {
  id: number;
  title: string;
  targets: { expr: string }[];
}

Deno.test("metric names are found in PromQL expressions, and only they", () => {
  assert.deepEqual(
    metricNames(
      'histogram_quantile(0.99, sum by (le, command) (rate(a_bucket{instance=~"$i"}[5m])))',
    ),
    ["a_bucket"],
  );
  assert.deepEqual(metricNames('sum(rate(x_total[1m])) / (y + z{a="b"}) > 0'), [
    "x_total",
    "y",
    "z",
  ]);
  assert.deepEqual(metricNames("time() - last_save_seconds"), ["last_save_seconds"]);
});

Deno.test("every metric the dashboard queries is exported by a running server", async () => {
  const dashboard = JSON.parse(
    await Deno.readTextFile(new URL("grafana/gocache-dashboard.json", CONFIG)),
  );
  const panels = dashboard.panels as Panel[];
  assert.ok(panels.length >= 10, "a panel for each topic");
  assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, "panel ids are unique");
  const used = new Map<string, string>();
  for (const panel of panels) {
    assert.ok(panel.targets.length > 0, `${panel.title} has queries`);
    for (const { expr } of panel.targets) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `${panel.title}: ${expr} selects a metric`);
      for (const name of names) used.set(name, panel.title);
    }
  }
  for (const variable of dashboard.templating.list) {
    const m = /label_values\((\w+),/.exec(variable.query?.query ?? "");
    if (m !== null) used.set(m[1], `variable ${variable.name}`);
  }

  const metricsPort = freePort();
  await using server = await startServer({
    args: ["--metrics-port", String(metricsPort), "--appendonly", "yes"],
  });
  await using conn = await RespConn.connect(server.port);
  await conn.call("SET", "a", "1", "EX", "100");
  await conn.call("GET", "a");
  await conn.call("GET", "missing");
  await conn.call("NOSUCH");
  const text = await scrape(metricsPort);
  const families = familyNames(text);
  const histograms = new Set(
    text.split("\n").filter((l) => l.startsWith("# TYPE ") && l.endsWith(" histogram"))
      .map((l) => l.split(" ")[2]),
  );
  for (const [name, where] of used) {
    const base = name.replace(/_(bucket|sum|count)$/, "");
    const known = families.has(name) || (base !== name && histograms.has(base));
    assert.ok(known, `${where} queries ${name}, which the server does not export`);
  }
});

Deno.test("prometheus.yml scrapes the metrics port of every example node", async () => {
  const text = await Deno.readTextFile(new URL("prometheus.yml", CONFIG));
  const config = parse(text);
  const targets: string[] = config.scrape_configs.flatMap((job: {
    static_configs: { targets: string[] }[];
  }) => job.static_configs.flatMap((s) => s.targets));
  const nodes: number[] = [];
  for await (const entry of Deno.readDir(CONFIG)) {
    if (!entry.isFile || !entry.name.endsWith(".yaml")) continue;
    const node = parse(await Deno.readTextFile(new URL(entry.name, CONFIG)));
    const metricsPort = node["metrics-port"] > 0 ? node["metrics-port"] : 9700 + node.port - 7000;
    nodes.push(metricsPort);
  }
  assert.ok(nodes.length > 0);
  assert.deepEqual(
    targets.map((t) => Number(t.split(":")[1])).sort(),
    nodes.sort(),
    "one target per example node, at 9700 + (port - 7000) unless it sets metrics-port",
  );
});

Deno.test({
  name: "promtool check config accepts prometheus.yml",
  ...requireTools(PROMTOOL, async () => {
    const out = await new Deno.Command("promtool", {
      args: ["check", "config", new URL("prometheus.yml", CONFIG).pathname],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  }),
});
