/**
 * The V8 settings gocache runs with: baked into the executable by `deno task compile`
 * (deploy/compile.ts), passed by `deno task serve`, by `gocache cluster-init --local` to the
 * nodes it starts from a checkout, and by the benchmarks.
 *
 * @module
 */

/**
 * The V8 settings of every gocache process (see the module comment).
 * `--max-semi-space-size=8` caps V8's young generation at two 8 MB halves. This Deno sizes it
 * larger on its own, and the young generation stays committed under a store that keeps
 * allocating. `deno task bench:memory-types` (2026-12-07) measured 368-388 MB of RSS without the
 * cap against 324-343 MB with 4-8 MB halves: redis-server holds 262 MB, so the ratio is
 * 1.40-1.48 without the cap and 1.24-1.31 with it. Speed did not change: `-P 16` server CPU per
 * request, SET/GET/LPUSH/HSET/ZADD, was within the run-to-run noise, and so was `bench:path`.
 * 2 MB halves and `--optimize-for-size` save as much memory but slow commands by 10-40%.
 */
export const V8_FLAGS: readonly string[] = ["--max-semi-space-size=8"];

/** {@link V8_FLAGS} as the one `deno run`/`deno compile` argument that passes them. */
export function v8FlagsArg(): string {
  return `--v8-flags=${V8_FLAGS.join(",")}`;
}
