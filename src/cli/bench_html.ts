/**
 * `gocache bench --html FILE`: a self-contained HTML report (inline CSS and SVG, no scripts, no
 * network) with the results table, a throughput-over-time chart and a latency-distribution
 * chart (the percentile spectrum: latency against percentile on a log scale, as HdrHistogram's
 * plots show it, so the tail is as visible as the median). The charts are drawn here as SVG so
 * the file renders anywhere, even with scripts disabled.
 *
 * @module
 */
import type { Histogram } from "../util/histogram.ts";
import type { TestOutcome } from "./bench_pool.ts";
import { type Comparison, formatText, type Summary } from "./bench_report.ts";

const WIDTH = 760;
const HEIGHT = 320;
const MARGIN = { left: 70, right: 170, top: 20, bottom: 44 };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"];

/** A named line to draw. */
interface Series {
  name: string;
  points: [number, number][];
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** Round tick values from 0 to the first at or above `max`. */
function ticks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const out: number[] = [0];
  while (out[out.length - 1] < max) out.push(Number((out.length * step).toPrecision(12)));
  return out;
}

function label(v: number): string {
  if (v >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (v >= 1e3) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

/** An SVG line chart; `xTicks` may name positions (e.g. percentiles). */
function chart(
  id: string,
  title: string,
  xTitle: string,
  yTitle: string,
  series: Series[],
  xTicks?: [number, string][],
): string {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1e-9, ...all.map((p) => p[0]), ...(xTicks ?? []).map((t) => t[0]));
  const yTickValues = ticks(Math.max(...all.map((p) => p[1]), 0));
  const yMax = Math.max(1e-9, yTickValues[yTickValues.length - 1]);
  const x = (v: number) => MARGIN.left + (v / xMax) * plotW;
  const y = (v: number) => MARGIN.top + plotH - (v / yMax) * plotH;
  const parts: string[] = [
    `<svg id="${id}" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" ` +
    `viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escape(title)}">`,
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" ` +
    `fill="#fff" stroke="#999"/>`,
  ];
  for (const v of yTickValues) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y(v)}" y2="${y(v)}" ` +
        `stroke="#eee"/>`,
      `<text x="${MARGIN.left - 6}" y="${y(v) + 4}" text-anchor="end">${label(v)}</text>`,
    );
  }
  const xt = xTicks ??
    ticks(xMax).filter((v) => v <= xMax).map((v) => [v, label(v)] as [number, string]);
  for (const [v, text] of xt) {
    parts.push(
      `<line x1="${x(v)}" x2="${x(v)}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" ` +
        `stroke="#eee"/>`,
      `<text x="${x(v)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${text}</text>`,
    );
  }
  parts.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 6}" text-anchor="middle">` +
      `${escape(xTitle)}</text>`,
    `<text transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" ` +
      `text-anchor="middle">${escape(yTitle)}</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const points = s.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`);
    parts.push(
      `<polyline class="series" data-series="${escape(s.name)}" fill="none" stroke="${color}" ` +
        `stroke-width="2" points="${points.join(" ")}"/>`,
      `<rect x="${WIDTH - MARGIN.right + 12}" y="${MARGIN.top + i * 18}" width="12" ` +
        `height="12" fill="${color}"/>`,
      `<text x="${WIDTH - MARGIN.right + 30}" y="${MARGIN.top + i * 18 + 10}">` +
        `${escape(s.name)}</text>`,
    );
  });
  parts.push("</svg>");
  return `<figure><figcaption>${escape(title)}</figcaption>${parts.join("\n")}</figure>`;
}

/** Percentiles sampled for the spectrum, and where to label the axis. */
const SPECTRUM = Array.from({ length: 81 }, (_, i) => 100 * (1 - 10 ** (-i / 20)));
const SPECTRUM_TICKS: [number, string][] = [
  [0, "0%"],
  [1, "90%"],
  [2, "99%"],
  [3, "99.9%"],
  [4, "99.99%"],
];

function spectrum(histogram: Histogram): [number, number][] {
  return SPECTRUM.map((p) => [-Math.log10(1 - p / 100), histogram.percentile(p) / 1000]);
}

/** The whole report as an HTML document. */
export function renderHtml(
  title: string,
  parameters: string,
  outcomes: TestOutcome[],
  summaries: Summary[],
  comparisons: Comparison[],
): string {
  const servers = new Set(outcomes.map((o) => o.server));
  const name = (o: TestOutcome) =>
    servers.size > 1 ? `${o.test.toUpperCase()} @ ${o.server}` : o.test.toUpperCase();
  const throughput = chart(
    "throughput-chart",
    "Throughput over time",
    "seconds since the test started",
    "requests per second",
    outcomes.map((o) => ({ name: name(o), points: o.timeline.map((p) => [p.t, p.rps]) })),
  );
  const latency = chart(
    "latency-chart",
    "Latency distribution (percentile spectrum)",
    "percentile",
    "latency (ms)",
    outcomes.map((o) => ({ name: name(o), points: spectrum(o.histogram) })),
    SPECTRUM_TICKS,
  );
  const ratios = comparisons.map((c) =>
    `<li>${escape(c.test.toUpperCase())}: ${c.b.rps.toFixed(0)} / ${c.a.rps.toFixed(0)} req/s ` +
    `= <b>${c.ratio.toFixed(3)}</b></li>`
  ).join("");
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
figure { margin: 16px 0; } figcaption { font-weight: 600; margin-bottom: 4px; }
pre { background: #f6f6f6; padding: 12px; overflow-x: auto; }
</style></head><body>
<h1>${escape(title)}</h1>
<p>${escape(parameters)}</p>
<pre id="results">${escape(formatText(summaries))}</pre>
${ratios === "" ? "" : `<h2>Comparison</h2><ul id="ratios">${ratios}</ul>`}
${throughput}
${latency}
</body></html>
`;
}
