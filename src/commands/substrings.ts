/**
 * Commands on parts of a string value: APPEND, STRLEN, GETRANGE, SUBSTR, SETRANGE and LCS, with
 * Redis 7.0's replies and error texts, including its limit on the length of a built string.
 */
import type { Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { flatten, toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import { NOTIFY_STRING, notifyKeyspaceEvent } from "../pubsub/keyspace_events.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import { lcs } from "./lcs.ts";
import type { CommandDef } from "./registry.ts";
import { database, roundedIntArg, stringValue } from "./_values.ts";

const ONE_KEY = { first: 1, last: 1, step: 1 };
const TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
/**
 * Longest string V8 can build ((1 << 29) - 24 characters on 64-bit), a little under Redis's
 * 512 MB default `proto-max-bulk-len`: longer results get the proto-max-bulk-len error too.
 */
const MAX_JS_STRING = (1 << 29) - 24;

/** Throws Redis's `checkStringLength` error when a result would be longer than allowed. */
function checkStringLength(ctx: ServerContext, size: number): void {
  if (size > ctx.config.values["proto-max-bulk-len"] || size > MAX_JS_STRING) {
    throw new CommandError(TOO_LONG);
  }
}

function append(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const db = database(ctx, client);
  const key = toBinaryString(argv[1]);
  const t = now();
  const current = stringValue(db.get(key, t));
  if (current === undefined) {
    const value = toBinaryString(argv[2]);
    db.set(key, value, false, t);
    notifyKeyspaceEvent(ctx, NOTIFY_STRING, "append", key, client.db);
    return value.length;
  }
  checkStringLength(ctx, current.length + argv[2].length);
  const value = flatten(current + toBinaryString(argv[2]));
  db.set(key, value, true, t);
  notifyKeyspaceEvent(ctx, NOTIFY_STRING, "append", key, client.db);
  return value.length;
}

function strlen(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const value = stringValue(
    database(ctx, client).read(toBinaryString(argv[1]), now(), client.noTouch),
  );
  return value === undefined ? 0 : value.length;
}

function getrange(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  let start = roundedIntArg(argv[2]);
  let end = roundedIntArg(argv[3]);
  const value = stringValue(
    database(ctx, client).read(toBinaryString(argv[1]), now(), client.noTouch),
  );
  if (value === undefined) return "";
  const length = value.length;
  if (start < 0 && end < 0 && start > end) return "";
  if (start < 0) start = Math.max(0, length + start);
  if (end < 0) end = Math.max(0, length + end);
  if (end >= length) end = length - 1;
  if (start > end || length === 0) return "";
  return value.slice(start, end + 1);
}

function setrange(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const offset = roundedIntArg(argv[2]);
  if (offset < 0) throw new CommandError("ERR offset is out of range");
  const db = database(ctx, client);
  const key = toBinaryString(argv[1]);
  const patch = argv[3];
  const t = now();
  const current = stringValue(db.get(key, t));
  if (patch.length === 0) return current === undefined ? 0 : current.length;
  checkStringLength(ctx, offset + patch.length);
  const old = current ?? "";
  const head = offset <= old.length ? old.slice(0, offset) : old + "\0".repeat(offset - old.length);
  const value = flatten(head + toBinaryString(patch) + old.slice(offset + patch.length));
  db.set(key, value, true, t);
  notifyKeyspaceEvent(ctx, NOTIFY_STRING, "setrange", key, client.db);
  return value.length;
}

const SUBSTRING_COMPLEXITY =
  "O(N) where N is the length of the returned string. The complexity is ultimately determined " +
  "by the returned length, but because creating a substring from an existing string is very " +
  "cheap, it can be considered O(1) for small strings.";

/** Substring command declarations (arity, flags and key positions as Redis 7.0 declares them). */
export const substringCommands: readonly CommandDef[] = [
  {
    name: "append",
    arity: 3,
    flags: ["write", "denyoom", "fast"],
    keys: ONE_KEY,
    group: "string",
    summary: "Append a value to a key",
    since: "2.0.0",
    complexity: "O(1). The amortized time complexity is O(1) assuming the appended value is " +
      "small and the already present value is of any size, since the dynamic string library " +
      "used by Redis will double the free space available on every reallocation.",
    handler: append,
  },
  {
    name: "strlen",
    arity: 2,
    flags: ["readonly", "fast"],
    keys: ONE_KEY,
    group: "string",
    summary: "Get the length of the value stored in a key",
    since: "2.2.0",
    complexity: "O(1)",
    handler: strlen,
  },
  {
    name: "getrange",
    arity: 4,
    flags: ["readonly"],
    keys: ONE_KEY,
    group: "string",
    summary: "Get a substring of the string stored at a key",
    since: "2.4.0",
    complexity: SUBSTRING_COMPLEXITY,
    handler: getrange,
  },
  {
    name: "substr",
    arity: 4,
    flags: ["readonly"],
    keys: ONE_KEY,
    group: "string",
    summary: "Get a substring of the string stored at a key",
    since: "1.0.0",
    complexity: SUBSTRING_COMPLEXITY,
    handler: getrange,
  },
  {
    name: "setrange",
    arity: 4,
    flags: ["write", "denyoom"],
    keys: ONE_KEY,
    group: "string",
    summary: "Overwrite part of a string at key starting at the specified offset",
    since: "2.2.0",
    complexity: "O(1), not counting the time taken to copy the new string in place. Usually, " +
      "this string is very small so the amortized complexity is O(1). Otherwise, complexity is " +
      "O(M) with M being the length of the value argument.",
    handler: setrange,
  },
  {
    name: "lcs",
    arity: -3,
    flags: ["readonly"],
    keys: { first: 1, last: 2, step: 1 },
    group: "string",
    summary: "Find longest common substring",
    since: "7.0.0",
    complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively",
    handler: lcs,
  },
];
