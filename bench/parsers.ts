/**
 * Cost of the parsers on inputs built to be expensive, which the unit tests check for results
 * only (tests/unit/resp/reply_decoder_test.ts, tests/unit/persistence/rdb/reader_test.ts,
 * tests/unit/util/glob_test.ts): a time limit in a unit test fails falsely on a loaded machine
 * and says nothing on a fast one, so the times are printed here instead.
 *
 * - RESP reply decoder: a bulk string arriving in 64 KB chunks, and a long array followed by a
 *   long line arriving in 1 KB chunks, each at three sizes doubling. Linear work takes about 2x
 *   per doubling (the `x2` column); a decoder that re-scans what it buffered on every push shows
 *   about 4x.
 * - RDB reader: tiny files whose string lengths claim gigabytes must be refused at once, without
 *   allocating what they claim: the time of each refusal and the ArrayBuffer bytes (V8's
 *   `external` memory) that appeared during it.
 * - Glob matcher (KEYS, SCAN MATCH, pub/sub patterns): star-heavy patterns that backtrack
 *   exponentially in a naive matcher, on subjects of three sizes doubling.
 *
 * Each time is the median of `--runs` runs.
 *
 *   deno task bench:parsers [--runs 5] [--scale 1]
 *
 * `--scale` multiplies every input size (0.25 for a quick look).
 */
import { parseArgs } from "node:util";
import { Crc64 } from "../src/persistence/rdb/crc64.ts";
import { RdbError } from "../src/persistence/rdb/errors.ts";
import { type RdbSource, readRdb, type ReadRdbOptions } from "../src/persistence/rdb/reader.ts";
import { ReplyDecoder, RespSimple } from "../src/resp/reply_decoder.ts";
import { fromBinaryString } from "../src/util/bytes.ts";
import { globMatch } from "../src/util/glob.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    scale: { type: "string", default: "1" },
  },
});
const RUNS = Math.max(1, Number(values.runs));
const SCALE = Number(values.scale);
const encoder = new TextEncoder();
/** Largest glob subject: 40 times the unit test's, so that times are well above timer noise. */
const GLOB_BYTES = 400_000;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median milliseconds of `RUNS` calls of `fn` (garbage collected before each). */
async function timeIt(fn: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    gc();
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return median(times);
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`Wrong result: ${what}`);
}

/** One output line: what ran, on what size, its median time, and a note. */
const rows: [string, string, number, string][] = [];

/** Times `run(size)` at a quarter, half and all of `full`; one output line per size. */
async function doubling(
  label: string,
  full: number,
  unit: (size: number) => string,
  run: (size: number) => unknown,
): Promise<void> {
  await run(Math.round(full / 4)); // Warm-up: compiled code, not the first run's, is timed.
  let previous = 0;
  for (const size of [full / 4, full / 2, full].map(Math.round)) {
    const t = await timeIt(() => run(size));
    rows.push([label, unit(size), t, previous > 0 ? `x2 ${(t / previous).toFixed(1)}` : ""]);
    previous = t;
  }
}

// ---------------------------------------------------------------------------------------------
// RESP reply decoder

/** A bulk string of `size` bytes pushed in 64 KB chunks, then read whole. */
function bulkInChunks(size: number): void {
  const chunk = new Uint8Array(64 * 1024);
  const decoder = new ReplyDecoder();
  decoder.push(encoder.encode(`+before\r\n$${size}\r\n`));
  check(decoder.next() instanceof RespSimple, "+before");
  for (let sent = 0, i = 0; sent < size; sent += chunk.length, i++) {
    const n = Math.min(chunk.length, size - sent);
    chunk.fill(i & 0xff);
    decoder.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    check(decoder.next() === undefined, "no value before the end");
  }
  decoder.push(encoder.encode("\r\n:7\r\n"));
  check((decoder.next() as Uint8Array).length === size, "bulk length");
  check(decoder.next() === 7, ":7");
}

/** An array of `count` integers and a line of `count * 14` bytes, pushed in 1 KB chunks. */
function arrayAndLineInChunks(count: number): void {
  const lineBytes = count * 14;
  const input = encoder.encode(
    `*${count}\r\n` + ":12345\r\n".repeat(count) + `+${"y".repeat(lineBytes)}\r\n`,
  );
  const decoder = new ReplyDecoder();
  const out: unknown[] = [];
  for (let at = 0; at < input.length; at += 1024) {
    decoder.push(input.slice(at, at + 1024));
    for (let v = decoder.next(); v !== undefined; v = decoder.next()) out.push(v);
  }
  check(out.length === 2 && (out[0] as number[]).length === count, "array length");
  check((out[1] as RespSimple).value.length === lineBytes, "line length");
}

await doubling(
  "reply decoder: bulk string in 64 KB chunks",
  100 * 1024 * 1024 * SCALE,
  (n) => `${(n / 1024 / 1024).toFixed(1)} MB`,
  bulkInChunks,
);
await doubling(
  "reply decoder: array + long line in 1 KB chunks",
  300_000 * SCALE,
  (n) => `${n} items`,
  arrayAndLineInChunks,
);

// ---------------------------------------------------------------------------------------------
// RDB reader

/** `REDIS0010`, the body, EOF and a CRC-64 trailer. */
function rdbFile(body: number[]): Uint8Array {
  const main = new Uint8Array([...encoder.encode("REDIS0010"), ...body, 0xff]);
  const crc = new Crc64().update(main).toBytesLE();
  const out = new Uint8Array(main.length + crc.length);
  out.set(main);
  out.set(crc, main.length);
  return out;
}

function* inPieces(data: Uint8Array, size: number): Generator<Uint8Array> {
  for (let at = 0; at < data.length; at += size) yield data.slice(at, at + size);
}

/** Reads `source`, which must be refused with an RdbError. */
async function refused(source: RdbSource, options?: ReadRdbOptions): Promise<void> {
  try {
    await readRdb(source, { entry: () => {} }, options);
  } catch (e) {
    if (e instanceof RdbError) return;
    throw e;
  }
  throw new Error("Wrong result: the file was read");
}

const gigabyteClaims: [string, number[]][] = [
  ["string length 2^32-1", [0x80, 0xff, 0xff, 0xff, 0xff]],
  ["string length 16 GiB (64-bit)", [0x81, 0, 0, 0, 4, 0, 0, 0, 0]],
  ["length past 2^53", [0x81, 0xff, 0, 0, 0, 0, 0, 0, 0]],
  ["LZF string claiming 256 MiB", [0xc3, 0x01, 0x80, 0x10, 0, 0, 0, 0]],
  ["LZF compressed length 2^32-1", [0xc3, 0x80, 0xff, 0xff, 0xff, 0xff, 0x05, 0]],
];
const unlimited = { maxStringBytes: Number.MAX_SAFE_INTEGER };
const rdbCases: [string, () => Promise<void>][] = [];
for (const [name, key] of gigabyteClaims) {
  const file = rdbFile([0xfe, 0x00, 0x00, ...key, ...new Array(10).fill(0x61)]);
  rdbCases.push([name, () => refused(file)]);
  rdbCases.push([`${name}, in 3-byte pieces`, () => refused(inPieces(file, 3))]);
}
const claim = rdbFile([0xfe, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0xff, 0x61]);
rdbCases.push(["2^32-1 with no string limit", () => refused(claim, unlimited)]);
rdbCases.push([
  "2^32-1 with no limit, in 2-byte pieces",
  () => refused(inPieces(claim, 2), unlimited),
]);

for (const [name, run] of rdbCases) {
  await run();
  const t = await timeIt(run);
  gc();
  const before = Deno.memoryUsage().external;
  await run();
  const grown = Math.max(0, Deno.memoryUsage().external - before);
  rows.push([
    `RDB reader refuses: ${name}`,
    "",
    t,
    `${(grown / 1024 / 1024).toFixed(1)} MB of ArrayBuffers appeared`,
  ]);
}

// ---------------------------------------------------------------------------------------------
// Glob matcher

/** Pattern, how it is shown, and whether it matches a subject of only `a`s. */
const globCases: [string, string, boolean][] = [
  ["a*a*a*a*a*a*a*a*b", "a*a*a*a*a*a*a*a*b", false],
  ["a*a*a*a*a*a*a*a*a", "a*a*a*a*a*a*a*a*a", true],
  ["*[a]*[a]*[a]*[a]*[a]*[a]*[a]*[a]*[b]", "*[a]*[a]*[a]*[a]*[a]*[a]*[a]*[a]*[b]", false],
  ["*?*?*?*?*?*?*?*?*b", "*?*?*?*?*?*?*?*?*b", false],
  ["*a".repeat(500) + "b", '"*a" x 500, then b', false],
];
const subjects = new Map<number, Uint8Array>();
for (const [pattern, shown, expected] of globCases) {
  const p = fromBinaryString(pattern);
  await doubling(`glob: ${shown}`, GLOB_BYTES * SCALE, (n) => `${n} bytes`, (n) => {
    let subject = subjects.get(n);
    if (subject === undefined) subjects.set(n, subject = fromBinaryString("a".repeat(n)));
    check(globMatch(p, subject) === expected, pattern);
  });
}

const widths = [0, 1].map((i) => Math.max(...rows.map((row) => String(row[i]).length)));
const header = `${"case".padEnd(widths[0])}  ${"size".padStart(widths[1])}  ` +
  `ms (median of ${RUNS})`;
const lines = rows.map(([what, size, t, note]) =>
  `${what.padEnd(widths[0])}  ${size.padStart(widths[1])}  ` +
  `${t.toFixed(t < 10 ? 2 : 0).padStart(10)}  ${note}`.trimEnd()
);
Deno.stdout.writeSync(encoder.encode([header, ...lines].join("\n") + "\n"));
