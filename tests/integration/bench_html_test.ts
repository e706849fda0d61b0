/**
 * `gocache bench --html`: headless Chromium loads the report from disk (no network) and its DOM
 * holds both charts with one drawn line per test, and a screenshot is taken. Needs Chromium:
 * ignored without it, except in CI (`CI=true`) where that is a failure (.ci/run installs it).
 */
import assert from "node:assert/strict";
import { runCli, startServer } from "../support/server.ts";
import { CHROMIUM, requireTools } from "../support/tools.ts";

async function chromium(args: string[]): Promise<string> {
  const out = await new Deno.Command(CHROMIUM.command, {
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

/** The `points` of every polyline inside the SVG element with this id. */
function seriesOf(dom: string, id: string): string[] {
  const start = dom.indexOf(`<svg id="${id}"`);
  assert.ok(start >= 0, `no svg#${id} in the DOM`);
  const svg = dom.slice(start, dom.indexOf("</svg>", start));
  return [...svg.matchAll(/<polyline[^>]* points="([^"]*)"/g)].map((m) => m[1]);
}

Deno.test({
  name: "the HTML report renders in Chromium with a throughput and a latency chart",
  ...requireTools(CHROMIUM, async () => {
    await using server = await startServer();
    const dir = await Deno.makeTempDir({ prefix: "gocache-bench-html-" });
    try {
      const file = `${dir}/report.html`;
      const { code, stderr } = await runCli([
        "bench",
        "-p",
        String(server.port),
        "-c",
        "4",
        "--duration",
        "0.5",
        "-t",
        "set,get",
        "--html",
        file,
        "-q",
      ]);
      assert.equal(code, 0, stderr);
      const html = await Deno.readTextFile(file);
      assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/, "self-contained");
      const dom = await chromium([
        `--user-data-dir=${dir}/profile`,
        "--dump-dom",
        `file://${file}`,
      ]);
      for (const id of ["throughput-chart", "latency-chart"]) {
        const series = seriesOf(dom, id);
        assert.equal(series.length, 2, `${id}: one line per test`);
        for (const points of series) {
          const pairs = points.trim().split(" ");
          assert.ok(pairs.length >= 2, `${id}: a line has points`);
          for (const pair of pairs) assert.match(pair, /^\d+(\.\d+)?,\d+(\.\d+)?$/);
        }
      }
      assert.match(dom, /<pre id="results">[^<]*SET[^<]*GET/);
      await chromium([
        `--user-data-dir=${dir}/profile`,
        `--screenshot=${dir}/report.png`,
        "--window-size=900,1100",
        `file://${file}`,
      ]);
      assert.ok((await Deno.stat(`${dir}/report.png`)).size > 10_000, "a screenshot was drawn");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }),
});
