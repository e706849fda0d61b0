/**
 * The hash commands that walk or sample a hash rather than address fields: HRANDFIELD (Redis's
 * `hrandfieldCommand`, its argument checks and reply shapes: a flat field/value array in RESP2,
 * an array of pairs in RESP3) and HSCAN (Redis's `hscanCommand` / `scanGenericCommand`: a small
 * listpack hash comes back whole with cursor 0; see `HashValue.scan` for the hashtable cursor).
 */
import type { Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import type { HashEntry } from "../store/hash_value.ts";
import { toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import { globMatch } from "../util/glob.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import { readHash } from "./hashes_access.ts";
import { INT64_MAX, intArg, isWord } from "./_values.ts";

const SYNTAX_ERROR = "ERR syntax error";
/** The largest count WITHVALUES accepts (C's LONG_MAX / 2). */
const WITHVALUES_MAX = INT64_MAX / 2n;

/**
 * The most fields a negative count may ask for. Redis streams any number (until the client's
 * output limit closes it); gocache builds the reply first, so it refuses a count whose reply
 * could exhaust the heap rather than crash.
 */
const MAX_REPEATED_SAMPLE = 1 << 24;

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
  const count = BigInt(intArg(argv[2]));
  if (count < -INT64_MAX) {
    throw new CommandError(
      `ERR value is out of range, value must between ${-INT64_MAX} and ${INT64_MAX}`,
    );
  }
  if (argv.length > 4 || (argv.length === 4 && !isWord(argv[3], "withvalues"))) {
    throw new CommandError(SYNTAX_ERROR);
  }
  const withValues = argv.length === 4;
  if (withValues && (count < -WITHVALUES_MAX || count > WITHVALUES_MAX)) {
    throw new CommandError("ERR value is out of range");
  }
  const hash = readHash(ctx, client, argv[1], now());
  if (hash === undefined || count === 0n) return [];
  const wanted = Number(count < 0n ? -count : count);
  if (count < 0n && wanted > MAX_REPEATED_SAMPLE) {
    throw new CommandError("ERR value is out of range");
  }
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

const ULONG_MAX = 18446744073709551615n;

/**
 * A scan cursor as Redis's `parseScanCursorOrReply` (C's `strtoul`) reads it: optional sign
 * and decimal digits only, a negative number wrapping around, empty as 0; null where Redis
 * answers "invalid cursor".
 */
function parseCursor(arg: Uint8Array): bigint | null {
  const text = toBinaryString(arg);
  if (text === "") return 0n;
  if (!/^[+-]?[0-9]+$/.test(text)) return null;
  const magnitude = BigInt(text.replace(/^[+-]/, ""));
  if (magnitude > ULONG_MAX) return null;
  return text[0] === "-" && magnitude !== 0n ? ULONG_MAX + 1n - magnitude : magnitude;
}

/** HSCAN's options. */
interface ScanOptions {
  count: number;
  /** The MATCH pattern, or null for none (a lone `*` is none too, as in Redis). */
  pattern: Uint8Array | null;
}

/** Parses HSCAN's COUNT and MATCH options as Redis's `scanGenericCommand` (TYPE is SCAN's). */
function scanOptions(argv: Uint8Array[]): ScanOptions {
  const options: ScanOptions = { count: 10, pattern: null };
  for (let i = 3; i < argv.length; i += 2) {
    const hasValue = argv.length - i >= 2;
    if (hasValue && isWord(argv[i], "count")) {
      const count = intArg(argv[i + 1]);
      if (count < 1) throw new CommandError(SYNTAX_ERROR);
      options.count = Number(count);
    } else if (hasValue && isWord(argv[i], "match")) {
      const pattern = argv[i + 1];
      options.pattern = pattern.length === 1 && pattern[0] === 0x2a ? null : pattern;
    } else throw new CommandError(SYNTAX_ERROR);
  }
  return options;
}

/** Scratch bytes for matching fields against a pattern without allocating per field. */
let scratch = new Uint8Array(256);

/** Whether a field (a binary string) matches a glob pattern. */
function fieldMatches(pattern: Uint8Array, field: string): boolean {
  if (field.length > scratch.length) scratch = new Uint8Array(field.length * 2);
  for (let i = 0; i < field.length; i++) scratch[i] = field.charCodeAt(i);
  return globMatch(pattern, scratch.subarray(0, field.length));
}

/**
 * HSCAN key cursor [MATCH pattern] [COUNT count]: the cursor is checked first, a missing key
 * answers an empty scan before any option is read, then WRONGTYPE, then the options.
 */
export function hscan(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const cursor = parseCursor(argv[2]);
  if (cursor === null) throw new CommandError("ERR invalid cursor");
  const hash = readHash(ctx, client, argv[1], now());
  if (hash === undefined) return ["0", []];
  const { count, pattern } = scanOptions(argv);
  const out: string[] = [];
  const next = hash.scan(Number(cursor), count, (field, value) => {
    if (pattern === null || fieldMatches(pattern, field)) out.push(field, value);
  });
  return [String(next), out];
}
