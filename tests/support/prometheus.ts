/**
 * Reading the metrics endpoint in tests: fetch a scrape, parse its samples, find one by name and
 * labels, and run `promtool check metrics` on it (tests that need promtool say so with
 * `requireTools(PROMTOOL, ...)` from tools.ts); and the metric names a dashboard's PromQL
 * queries select, to compare with those a scrape exposes.
 */

/** One sample line of a scrape. */
export interface Sample {
  /** Metric name, suffix included (`..._bucket`). */
  name: string;
  /** Its labels. */
  labels: Record<string, string>;
  /** Its value. */
  value: number;
}

/** GETs `path` from the endpoint on `port`; returns status and body. */
export async function httpGet(
  port: number,
  path: string,
): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

/** The `/metrics` text, asserting a 200 answer in the 0.0.4 format. */
export async function scrape(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  const body = await response.text();
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}: ${body}`);
  const type = response.headers.get("content-type") ?? "";
  if (!type.startsWith("text/plain; version=0.0.4")) throw new Error(`content-type ${type}`);
  return body;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of a scrape (comment lines skipped). */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (m === null) throw new Error(`Not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(LABEL)) labels[k] = v;
    const value = m[3] === "+Inf" ? Infinity : m[3] === "-Inf" ? -Infinity : Number(m[3]);
    out.push({ name: m[1], labels, value });
  }
  return out;
}

/** Family names declared by `# TYPE` lines. */
export function familyNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split("\n")) {
    if (line.startsWith("# TYPE ")) out.add(line.split(" ")[2]);
  }
  return out;
}

/** The value of the one sample with this name whose labels include `labels`; throws if none. */
export function valueOf(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  const found = samples.filter((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
  if (found.length !== 1) {
    throw new Error(`${found.length} samples ${name}${JSON.stringify(labels)}`);
  }
  return found[0].value;
}

/** Runs `promtool check metrics` on `text`; returns its exit code and output. */
export async function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  const child = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

/** PromQL words that are not metric names (aggregations, keywords). */
const PROMQL_WORDS = new Set(["by", "without", "on", "ignoring", "bool", "and", "or", "unless"]);

/**
 * The metric names a PromQL expression selects: identifiers left after label matchers, ranges,
 * grouping clauses, strings and $variables are removed, that are not functions (followed by
 * `(`), keywords or numbers.
 */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, " ")
    .replace(/\$\w+/g, " ");
  const names: string[] = [];
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?/g)) {
    if (m[1] !== undefined || PROMQL_WORDS.has(m[0])) continue;
    names.push(m[0]);
  }
  return names;
}

/**
 * The metric names a scrape exposes, as queries may name them: every family of a `# TYPE` line,
 * and for histograms also their `_bucket`, `_sum` and `_count` series.
 */
export function exposedNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("# TYPE ")) continue;
    const [, , name, type] = line.split(" ");
    out.add(name);
    if (type === "histogram") {
      for (const suffix of ["_bucket", "_sum", "_count"]) out.add(name + suffix);
    }
  }
  return out;
}
