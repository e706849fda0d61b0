/**
 * Prometheus's text exposition format, version 0.0.4: `# HELP` and `# TYPE` lines, then one
 * line per sample, `name{label="value"} number`. Collectors write families through
 * {@link Exposition}, which escapes help texts and label values as the format requires and
 * refuses a family written twice (Prometheus rejects such a scrape).
 *
 * Why not prom-client: recording a command through its labelled Counter and Histogram costs
 * 300-550 ns (`deno task bench:metrics`, bench/metrics_recording.ts; bound label children
 * are no faster) against 5-8 ns for the typed arrays in latency.ts, while the whole in-process
 * path of a GET is 700-900 ns (bench:path): it would cost far more than the 3% of throughput
 * the metrics may take. So commands are counted in
 * plain fields and typed arrays, and this module renders them on scrape; a scrape is rare, a
 * command is not.
 */

/** The content type of the format, for the HTTP response. */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Metric types the format knows (those gocache uses). */
export type MetricType = "counter" | "gauge" | "histogram";

/** Label names and values of one sample. */
export type Labels = Readonly<Record<string, string>>;

/** A label value with `\`, `"` and line feeds escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** A help text with `\` and line feeds escaped. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A sample value as the format spells numbers (`+Inf`, `-Inf`, `NaN`, else JS's text). */
export function formatValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  if (Number.isNaN(value)) return "NaN";
  return String(value);
}

function labelText(labels: Labels | undefined): string {
  if (labels === undefined) return "";
  const parts: string[] = [];
  for (const name in labels) parts.push(`${name}="${escapeLabelValue(labels[name])}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** A scrape's text being built; see the module comment. */
export class Exposition {
  readonly #lines: string[] = [];
  readonly #families: string[] = [];
  #family = "";
  #type: MetricType = "gauge";

  /** A point to {@link rollback} to: what has been written so far. */
  mark(): { lines: number; families: number } {
    return { lines: this.#lines.length, families: this.#families.length };
  }

  /** Drops everything written after `mark` (a collector that failed half-way). */
  rollback(mark: { lines: number; families: number }): void {
    this.#lines.length = mark.lines;
    this.#families.length = mark.families;
    this.#family = "";
  }

  /** Starts a family: its HELP and TYPE lines. Its samples must follow before the next one. */
  family(name: string, type: MetricType, help: string): this {
    if (!NAME.test(name)) throw new Error(`Invalid metric name '${name}'`);
    if (this.#families.includes(name)) {
      throw new Error(`Metric family '${name}' is written twice`);
    }
    this.#families.push(name);
    this.#family = name;
    this.#type = type;
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    return this;
  }

  /**
   * One sample of the current family. `suffix` is appended to the family's name (`_bucket`,
   * `_sum`, `_count` for a histogram).
   */
  sample(value: number, labels?: Labels, suffix = ""): this {
    if (this.#family === "") throw new Error("A sample needs a family first");
    this.#lines.push(`${this.#family}${suffix}${labelText(labels)} ${formatValue(value)}`);
    return this;
  }

  /** A family with a single unlabelled sample. */
  single(name: string, type: MetricType, help: string, value: number): this {
    return this.family(name, type, help).sample(value);
  }

  /**
   * The samples of one histogram series: cumulative buckets from per-bucket `counts` (the last
   * one `+Inf`) over `bounds`, then `_sum` and `_count`. The family must be a histogram.
   */
  histogram(
    labels: Labels,
    bounds: readonly number[],
    counts: (slot: number) => number,
    sum: number,
  ): this {
    if (this.#type !== "histogram") throw new Error(`'${this.#family}' is not a histogram`);
    let cumulative = 0;
    for (let slot = 0; slot <= bounds.length; slot++) {
      cumulative += counts(slot);
      const le = slot === bounds.length ? "+Inf" : String(bounds[slot]);
      this.sample(cumulative, { ...labels, le }, "_bucket");
    }
    this.sample(sum, labels, "_sum");
    return this.sample(cumulative, labels, "_count");
  }

  /** The text, ending with a line feed. */
  text(): string {
    return this.#lines.length === 0 ? "" : this.#lines.join("\n") + "\n";
  }
}
