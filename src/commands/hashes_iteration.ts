/**
 * The hash commands that walk or sample a hash rather than address fields: HRANDFIELD (Redis's
 * `hrandfieldCommand`, its argument checks and reply shapes: a flat field/value array in RESP2,
 * an array of pairs in RESP3) and HSCAN (Redis's `hscanCommand` / `scanGenericCommand`: a small
 * listpack hash comes back whole with cursor 0; see `HashValue.scan` for the hashtable cursor).
 */
import type { Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import type { HashEntry } from "../store/hash_value.ts";
import { now } from "../util/clock.ts";
import type { ServerContext } from "./context.ts";
import { readHash } from "./hashes_access.ts";
import { randomCountArgs, repeatedSampleCount } from "./_values.ts";
import { binaryGlobMatch, parseCursor, parseScanOptions } from "./_scan.ts";

/** HRANDFIELD key [count [WITHVALUES]]. */
export function hrandfield(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  if (argv.length >= 3) return hrandfieldWithCount(ctx, client, argv);
  const hash = readHash(ctx, client, argv[1], now());
  return hash?.randomEntry()?.[0] ?? null;
}

/**
 * HRANDFIELD with a count, checked before the key is looked up as Redis does: the count must
 * lie in [-LONG_MAX, LONG_MAX], only WITHVALUES may follow, and with it |count| <= LONG_MAX/2.
 * A negative count allows repeats.
 */
function hrandfieldWithCount(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const { count, withValues } = randomCountArgs(argv, "withvalues");
  const hash = readHash(ctx, client, argv[1], now());
  if (hash === undefined || count === 0n) return [];
  const wanted = count < 0n ? repeatedSampleCount(count) : Number(count);
  const entries = hash.sample(wanted, count > 0n);
  return withValues ? withValuesReply(entries, client.proto) : entries.map(([field]) => field);
}

/** Fields with their values: flat in RESP2, as [field, value] pairs in RESP3. */
function withValuesReply(entries: readonly HashEntry[], proto: 2 | 3): Reply {
  if (proto === 3) return entries;
  const flat: string[] = [];
  for (const [field, value] of entries) flat.push(field, value);
  return flat;
}

/**
 * HSCAN key cursor [MATCH pattern] [COUNT count]: the cursor is checked first, a missing key
 * answers an empty scan before any option is read, then WRONGTYPE, then the options.
 */
export function hscan(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const cursor = parseCursor(argv[2]);
  const hash = readHash(ctx, client, argv[1], now());
  if (hash === undefined) return ["0", []];
  const { count, pattern } = parseScanOptions(argv, 3);
  const out: string[] = [];
  const next = hash.scan(Number(cursor), count, (field, value) => {
    if (pattern === null || binaryGlobMatch(pattern, field)) out.push(field, value);
  });
  return [String(next), out];
}
