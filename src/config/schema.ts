/**
 * Every configuration parameter gocache knows: its Redis name, default, whether CONFIG SET may
 * change it on a running server, and how its text form is parsed and printed. The YAML loader,
 * the command-line flags, CONFIG GET/SET and config/node.yaml all derive from this one table.
 */
import { parseInteger, parseMemory } from "./units.ts";
import { formatKeyspaceEvents, parseKeyspaceEvents } from "../pubsub/keyspace_events.ts";
import { tlsProtocolRange } from "./tls_protocols.ts";

/** A value that failed to parse; the message is Redis's reason text (`argument must be ...`). */
export class ConfigValueError extends Error {
  /** Creates the error with a Redis-style reason. */
  constructor(reason: string) {
    super(reason);
    this.name = "ConfigValueError";
  }
}

/** One `rename-command` entry: a command's name and its new one ("" disables it). */
export interface CommandRename {
  /** The command's own name, lower case. */
  from: string;
  /** The name clients must use, lower case; "" when the command is disabled. */
  to: string;
}

/**
 * Parses `rename-command`: one `NAME NEWNAME` per line, as redis.conf's lines (`""` for no
 * name, which disables the command). Whether the names exist is checked against the command
 * table when the server builds it.
 */
function parseRenames(text: string): CommandRename[] {
  const renames: CommandRename[] = [];
  for (const line of text.split("\n")) {
    const words = line.trim().split(/\s+/).filter((w) => w !== "");
    if (words.length === 0) continue;
    if (words.length > 2) {
      throw new ConfigValueError(
        `'${line.trim()}' must be a command name and its new name ("" to disable it)`,
      );
    }
    const to = words[1] === undefined || words[1] === '""' ? "" : words[1];
    renames.push({ from: words[0].toLowerCase(), to: to.toLowerCase() });
  }
  return renames;
}

/** Output buffer limits for one client class, as `client-output-buffer-limit` spells them. */
export interface OutputBufferLimit {
  /** Hard limit in bytes (0 = none): the client is closed as soon as it is reached. */
  hard: number;
  /** Soft limit in bytes (0 = none): the client is closed if it stays over it `softSeconds`. */
  soft: number;
  /** How long the soft limit may be exceeded, in seconds. */
  softSeconds: number;
}

/** The client classes `client-output-buffer-limit` configures. */
export type ClientClass = "normal" | "replica" | "pubsub";

/** Output buffer limits for every client class. */
export type OutputBufferLimits = Record<ClientClass, OutputBufferLimit>;

/** Log verbosity; Redis's names (`verbose`, `notice`, `warning`, `nothing`) are accepted too. */
export const LOG_LEVELS = [
  "debug",
  "verbose",
  "info",
  "notice",
  "warn",
  "warning",
  "error",
  "nothing",
] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevelName = typeof LOG_LEVELS[number];

/** The typed values of all parameters. */
export interface ConfigValues {
  port: number;
  bind: string;
  dir: string;
  loglevel: LogLevelName;
  "log-format": "text" | "json";
  logfile: string;
  "slowlog-log-slower-than": number;
  "slowlog-max-len": number;
  "metrics-port": number;
  "metrics-bind": string;
  "metrics-token": string;
  maxclients: number;
  "connection-limit-per-ip": number;
  timeout: number;
  "client-query-timeout": number;
  "busy-reply-threshold": number;
  "proto-max-bulk-len": number;
  "client-query-buffer-limit": number;
  "client-output-buffer-limit": OutputBufferLimits;
  requirepass: string;
  aclfile: string;
  users: string[];
  "acllog-max-len": number;
  "protected-mode": boolean;
  "tls-port": number;
  "tls-cert-file": string;
  "tls-key-file": string;
  "tls-ca-cert-file": string;
  "tls-auth-clients": "no" | "yes" | "optional";
  "tls-replication": boolean;
  "tls-cluster": boolean;
  "tls-protocols": string;
  "enable-protected-configs": "no" | "yes" | "local";
  "enable-debug-command": "no" | "yes" | "local";
  "rename-command": CommandRename[];
  hz: number;
  databases: number;
  maxmemory: number;
  "maxmemory-policy": string;
  "maxmemory-samples": number;
  maxkeys: number;
  "notify-keyspace-events": number;
  "hash-max-listpack-entries": number;
  "hash-max-listpack-value": number;
  "list-max-listpack-size": number;
  "list-compress-depth": number;
  "set-max-intset-entries": number;
  "zset-max-listpack-entries": number;
  "zset-max-listpack-value": number;
  appendonly: boolean;
  appendfilename: string;
  appendfsync: "always" | "everysec" | "no";
  "aof-load-truncated": boolean;
  "auto-aof-rewrite-percentage": number;
  "auto-aof-rewrite-min-size": number;
  dbfilename: string;
  save: SaveRule[];
  rdbcompression: boolean;
  rdbchecksum: boolean;
  replicaof: ReplicaOf | null;
  masterauth: string;
  masteruser: string;
  "replica-read-only": boolean;
  "replica-serve-stale-data": boolean;
  "replica-priority": number;
  "repl-backlog-size": number;
  "repl-ping-replica-period": number;
  "repl-timeout": number;
  "min-replicas-to-write": number;
  "min-replicas-max-lag": number;
  "cluster-enabled": boolean;
  "cluster-config-file": string;
  "cluster-node-timeout": number;
  "cluster-port": number;
  "cluster-announce-ip": string;
  "cluster-announce-hostname": string;
  "cluster-announce-port": number;
  "cluster-announce-bus-port": number;
  "cluster-preferred-endpoint-type": "ip" | "hostname" | "unknown-endpoint";
  "cluster-require-full-coverage": boolean;
  "cluster-allow-reads-when-down": boolean;
  "cluster-link-sendbuf-limit": number;
  "cluster-replica-validity-factor": number;
  "cluster-migration-barrier": number;
  "cluster-allow-replica-migration": boolean;
  "cluster-replica-no-failover": boolean;
  "group-name": string;
  "group-members": GroupMember[];
  "group-election-timeout": number;
  "group-heartbeat-period": number;
}

/** One member of a leader/follower group, as `group-members` names it. */
export interface GroupMember {
  /** Address or hostname the member is reached (and announces itself) at. */
  host: string;
  /** Its client port. */
  port: number;
  /** Its bus port (port + 10000 unless written as `host:port@busport`). */
  busPort: number;
}

/** Parses `group-members`: `host:port[@busport]` entries separated by spaces or commas. */
export function parseGroupMembers(text: string): GroupMember[] {
  const members: GroupMember[] = [];
  for (const word of text.split(/[\s,]+/).filter((w) => w !== "")) {
    const match = /^(.+):(\d+)(?:@(\d+))?$/.exec(word);
    const port = match === null ? null : parseInteger(match[2]);
    const busPort = match === null || match[3] === undefined
      ? (port ?? 0) + 10000
      : parseInteger(match[3]);
    if (
      match === null || port === null || port < 1 || port > 65535 || busPort === null ||
      busPort < 1 || busPort > 65535
    ) {
      throw new ConfigValueError(`group member '${word}' must be host:port or host:port@busport`);
    }
    if (members.some((m) => m.host === match[1] && m.port === port)) {
      throw new ConfigValueError(`group member '${word}' is named twice`);
    }
    members.push({ host: match[1], port, busPort });
  }
  return members;
}

/** The leader a node follows (`replicaof <host> <port>`). */
export interface ReplicaOf {
  /** Leader's host name or address. */
  host: string;
  /** Leader's port. */
  port: number;
}

/** Parses `replicaof`: "<host> <port>", or "" (or "no one") for none. */
export function parseReplicaOf(text: string): ReplicaOf | null {
  const words = text.trim().split(/\s+/).filter((w) => w !== "");
  if (words.length === 0) return null;
  if (words.length === 2 && `${words[0]} ${words[1]}`.toLowerCase() === "no one") return null;
  const port = words.length === 2 ? parseInteger(words[1]) : null;
  if (port === null || port < 1 || port > 65535) {
    throw new ConfigValueError("replicaof must be '<host> <port>'");
  }
  return { host: words[0], port };
}

/** One `save <seconds> <changes>` rule: snapshot when both have been reached. */
export interface SaveRule {
  /** Seconds since the last successful save. */
  seconds: number;
  /** Changes since then. */
  changes: number;
}

/** Parses Redis's `save` value: pairs of seconds and changes, or "" for none. */
export function parseSaveRules(text: string): SaveRule[] {
  const words = text.trim().split(/\s+/).filter((w) => w !== "");
  if (words.length % 2 !== 0) throw new ConfigValueError("Invalid save parameters");
  const rules: SaveRule[] = [];
  for (let i = 0; i < words.length; i += 2) {
    const seconds = parseInteger(words[i]);
    const changes = parseInteger(words[i + 1]);
    if (seconds === null || changes === null || seconds < 1 || changes < 0) {
      throw new ConfigValueError("Invalid save parameters");
    }
    rules.push({ seconds, changes });
  }
  return rules;
}

/** A parameter name. */
export type ConfigName = keyof ConfigValues;

/** How one parameter is described, parsed and printed. */
export interface ParamSpec<K extends ConfigName = ConfigName> {
  /** Redis's parameter name (also the YAML key and the `--flag`). */
  name: K;
  /** Default in its text form, exactly as config/node.yaml documents it. */
  default: string;
  /** Whether CONFIG SET may change it while the server runs. */
  mutable: boolean;
  /** One-line description for --help and config/node.yaml. */
  doc: string;
  /**
   * Text to value; throws {@link ConfigValueError} with Redis's reason. `current` is the value
   * being replaced, for parameters whose text may change only part of it.
   */
  parse(text: string, current?: ConfigValues[K]): ConfigValues[K];
  /** Value to the text CONFIG GET prints. */
  format(value: ConfigValues[K]): string;
  /**
   * Whether the flag may be given several times on the command line, each one a line of the
   * value (as redis.conf repeats `rename-command` and `user`).
   */
  repeatable?: boolean;
}

function intParam<K extends ConfigName>(
  name: K,
  def: number,
  min: number,
  max: number,
  mutable: boolean,
  doc: string,
  clamp?: { min: number; max: number },
): ParamSpec<K> {
  return {
    name,
    default: String(def),
    mutable,
    doc,
    parse(text) {
      const value = parseInteger(text);
      if (value === null) throw new ConfigValueError("argument couldn't be parsed into an integer");
      if (value < min || value > max) {
        throw new ConfigValueError(`argument must be between ${min} and ${max} inclusive`);
      }
      const clamped = clamp ? Math.min(clamp.max, Math.max(clamp.min, value)) : value;
      return clamped as ConfigValues[K];
    },
    format: (value) => String(value),
  };
}

/** Redis's upper bound for memory parameters (LONG_MAX), as its range errors print it. */
const LONG_MAX = "9223372036854775807";

function memoryParam<K extends ConfigName>(
  name: K,
  def: string,
  min: number,
  mutable: boolean,
  doc: string,
): ParamSpec<K> {
  return {
    name,
    default: def,
    mutable,
    doc,
    parse(text) {
      const value = parseMemory(text);
      if (value === null) throw new ConfigValueError("argument must be a memory value");
      if (value < min) {
        throw new ConfigValueError(`argument must be between ${min} and ${LONG_MAX} inclusive`);
      }
      return value as ConfigValues[K];
    },
    format: (value) => String(value),
  };
}

/** A live integer parameter with Redis's `long long` range above `min` (as its errors print it). */
function longParam<K extends ConfigName>(
  name: K,
  def: number,
  min: number,
  doc: string,
): ParamSpec<K> {
  return {
    name,
    default: String(def),
    mutable: true,
    doc,
    parse(text) {
      const value = parseInteger(text);
      if (value === null) throw new ConfigValueError("argument couldn't be parsed into an integer");
      if (value < min) {
        throw new ConfigValueError(`argument must be between ${min} and ${LONG_MAX} inclusive`);
      }
      return value as ConfigValues[K];
    },
    format: (value) => String(value),
  };
}

function enumParam<K extends ConfigName>(
  name: K,
  def: string,
  values: readonly string[],
  mutable: boolean,
  doc: string,
): ParamSpec<K> {
  return {
    name,
    default: def,
    mutable,
    doc,
    parse(text) {
      const lower = text.toLowerCase();
      if (!values.includes(lower)) {
        throw new ConfigValueError(
          `argument(s) must be one of the following: ${values.join(", ")}`,
        );
      }
      return lower as ConfigValues[K];
    },
    format: (value) => String(value),
  };
}

function boolParam<K extends ConfigName>(
  name: K,
  def: boolean,
  mutable: boolean,
  doc: string,
): ParamSpec<K> {
  return {
    name,
    default: def ? "yes" : "no",
    mutable,
    doc,
    parse(text) {
      const lower = text.toLowerCase();
      if (lower !== "yes" && lower !== "no") {
        throw new ConfigValueError("argument must be 'yes' or 'no'");
      }
      return (lower === "yes") as ConfigValues[K];
    },
    format: (value) => (value ? "yes" : "no"),
  };
}

function stringParam<K extends ConfigName>(
  name: K,
  def: string,
  mutable: boolean,
  doc: string,
): ParamSpec<K> {
  return {
    name,
    default: def,
    mutable,
    doc,
    parse: (text) => text as ConfigValues[K],
    format: (value) => String(value),
  };
}

/**
 * Parses `client-output-buffer-limit` in Redis's syntax: one or more groups of
 * `<class> <hard> <soft> <soft seconds>`; classes not named keep their current limits.
 */
export function parseOutputBufferLimits(
  text: string,
  base: OutputBufferLimits = DEFAULT_OUTPUT_BUFFER_LIMITS,
): OutputBufferLimits {
  const words = text.trim().split(/\s+/).filter((w) => w.length > 0);
  // As in Redis, an empty value names no class and so changes nothing.
  if (words.length % 4 !== 0) {
    throw new ConfigValueError("Wrong number of arguments in buffer limit configuration.");
  }
  const result: OutputBufferLimits = {
    normal: { ...base.normal },
    replica: { ...base.replica },
    pubsub: { ...base.pubsub },
  };
  for (let i = 0; i < words.length; i += 4) {
    const name = words[i].toLowerCase();
    const cls = name === "slave" ? "replica" : name;
    if (cls !== "normal" && cls !== "replica" && cls !== "pubsub") {
      throw new ConfigValueError("Invalid client class specified in buffer limit configuration.");
    }
    const hard = parseMemory(words[i + 1]);
    const soft = parseMemory(words[i + 2]);
    const seconds = parseInteger(words[i + 3]);
    if (hard === null || soft === null || seconds === null || seconds < 0) {
      throw new ConfigValueError(
        "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
      );
    }
    result[cls] = { hard, soft, softSeconds: seconds };
  }
  return result;
}

/** Formats output buffer limits as CONFIG GET prints them (bytes, Redis's class order). */
export function formatOutputBufferLimits(limits: OutputBufferLimits): string {
  return (["normal", "replica", "pubsub"] as const)
    .map((cls) => {
      const l = limits[cls];
      return `${cls === "replica" ? "slave" : cls} ${l.hard} ${l.soft} ${l.softSeconds}`;
    })
    .join(" ");
}

/** Redis's default output buffer limits. */
export const DEFAULT_OUTPUT_BUFFER_LIMITS: OutputBufferLimits = {
  normal: { hard: 0, soft: 0, softSeconds: 0 },
  replica: { hard: 256 * 1024 * 1024, soft: 64 * 1024 * 1024, softSeconds: 60 },
  pubsub: { hard: 32 * 1024 * 1024, soft: 8 * 1024 * 1024, softSeconds: 60 },
};

/** Redis's eviction policies. */
export const MAXMEMORY_POLICIES = [
  "volatile-lru",
  "allkeys-lru",
  "volatile-lfu",
  "allkeys-lfu",
  "volatile-random",
  "allkeys-random",
  "volatile-ttl",
  "noeviction",
] as const;

/** The parameter table, in the order config/node.yaml and --help list them. */
export const PARAMS: readonly ParamSpec[] = [
  intParam("port", 7000, 0, 65535, false, "TCP port to listen on (0 picks a free port)."),
  stringParam(
    "bind",
    "127.0.0.1",
    false,
    "Addresses to listen on, space-separated; * all IPv4, ::* all IPv6, -addr may be missing.",
  ),
  boolParam(
    "protected-mode",
    true,
    true,
    "While the default user has no password, refuse clients not from 127.0.0.1 or ::1.",
  ),
  intParam("tls-port", 0, 0, 65535, false, "TLS client port (0: none); needs the two files below."),
  stringParam("tls-cert-file", "", true, "Server certificate (PEM); CONFIG SET reloads it."),
  stringParam("tls-key-file", "", true, "Server private key (PEM); CONFIG SET reloads it."),
  stringParam(
    "tls-ca-cert-file",
    "",
    true,
    "CA certificates (PEM): checks client certificates and the peers gocache connects to.",
  ),
  enumParam(
    "tls-auth-clients",
    "yes",
    ["no", "yes", "optional"],
    true,
    "Client certificates on the TLS port: required (yes), checked if sent (optional), or no.",
  ),
  {
    name: "tls-protocols",
    default: "",
    mutable: true,
    doc: "TLS versions accepted: TLSv1.2 and/or TLSv1.3 (empty: both).",
    parse(text) {
      const range = tlsProtocolRange(text);
      if (typeof range === "string") throw new ConfigValueError(range);
      return text;
    },
    format: (value) => value,
  },
  boolParam("tls-replication", false, true, "A follower connects to its leader over TLS."),
  boolParam("tls-cluster", false, false, "The cluster bus speaks TLS (port + 10000, as Redis)."),
  enumParam(
    "enable-protected-configs",
    "no",
    ["no", "yes", "local"],
    false,
    "Whether CONFIG SET may change dir and dbfilename: no, yes, local (from 127.0.0.1/::1).",
  ),
  enumParam(
    "enable-debug-command",
    "no",
    ["no", "yes", "local"],
    false,
    "Whether DEBUG may run: no, yes, local (from 127.0.0.1/::1).",
  ),
  {
    name: "rename-command",
    default: "",
    mutable: false,
    doc: 'Commands renamed or (to "") disabled, one \'NAME NEWNAME\' each, e.g. {FLUSHALL: ""}.',
    parse: parseRenames,
    repeatable: true,
    format: (renames) => renames.map((r) => `${r.from} ${r.to === "" ? '""' : r.to}`).join("\n"),
  } satisfies ParamSpec<"rename-command">,
  stringParam("dir", "./data", false, "Directory for data files; created if missing."),
  enumParam(
    "loglevel",
    "info",
    LOG_LEVELS,
    true,
    "Log verbosity: debug, info, warn, error (Redis's verbose, notice, warning, nothing too).",
  ),
  enumParam("log-format", "text", ["text", "json"], true, "Log line format: text or json."),
  stringParam("logfile", "", false, "Log file path; empty logs to standard output."),
  longParam(
    "slowlog-log-slower-than",
    10000,
    -1,
    "Log commands that run at least this many microseconds (SLOWLOG); -1 disables the log.",
  ),
  longParam("slowlog-max-len", 128, 0, "Entries the slow log keeps (the oldest are dropped)."),
  intParam(
    "metrics-port",
    0,
    0,
    65535,
    false,
    "Port of the HTTP endpoint for Prometheus (/metrics, /healthz, /readyz); 0 = off.",
  ),
  stringParam("metrics-bind", "127.0.0.1", false, "Address the metrics endpoint listens on."),
  stringParam(
    "metrics-token",
    "",
    false,
    "When set, /metrics wants the header Authorization: Bearer <token>; empty: open.",
  ),
  // Redis's range (an unsigned int); it errors on values the process cannot serve, we do not.
  intParam("maxclients", 10000, 1, 4294967295, true, "Maximum number of connected clients."),
  intParam(
    "connection-limit-per-ip",
    0,
    0,
    4294967295,
    true,
    "Maximum connections from one client address (0 = no limit).",
  ),
  intParam("timeout", 0, 0, 2147483647, true, "Close a client idle this many seconds (0 = never)."),
  intParam(
    "client-query-timeout",
    0,
    0,
    2147483647,
    true,
    "Close a client that takes longer than this many seconds to send one command (0 = never).",
  ),
  intParam(
    "busy-reply-threshold",
    5000,
    0,
    2147483647,
    true,
    "Milliseconds a script runs alone before other clients get -BUSY and SCRIPT KILL works.",
  ),
  memoryParam(
    "proto-max-bulk-len",
    "512mb",
    1024 * 1024,
    true,
    "Largest bulk argument a client may send.",
  ),
  memoryParam(
    "client-query-buffer-limit",
    "1gb",
    1024 * 1024,
    true,
    "Largest unprocessed input buffered for one client; beyond it the client is closed.",
  ),
  {
    name: "client-output-buffer-limit",
    default: "normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60",
    mutable: true,
    doc: "Per client class: <class> <hard> <soft> <soft-seconds>; 0 disables a limit.",
    parse: (text, current) => parseOutputBufferLimits(text, current),
    format: formatOutputBufferLimits,
  } satisfies ParamSpec<"client-output-buffer-limit">,
  stringParam("requirepass", "", true, "Password clients must AUTH with; empty disables it."),
  stringParam(
    "aclfile",
    "",
    false,
    "ACL users file (ACL SAVE/LOAD), relative to dir; empty = none. Not together with users.",
  ),
  {
    name: "users",
    default: "",
    mutable: false,
    doc: "ACL users, one '<name> <rules>' string each, e.g. [\"alice on >secret ~app:* +@read\"].",
    parse: (text) => text.split("\n").filter((line) => line.trim() !== ""),
    format: (lines) => lines.join("\n"),
    repeatable: true,
  } satisfies ParamSpec<"users">,
  longParam("acllog-max-len", 128, 0, "Entries the ACL LOG keeps (the oldest are dropped)."),
  // Like Redis: any int is accepted and then clamped to 1..500.
  intParam(
    "hz",
    10,
    0,
    2147483647,
    true,
    "Background task frequency (idle timeouts, limits), per second; clamped to 1..500.",
    { min: 1, max: 500 },
  ),
  intParam("databases", 16, 1, 1024, false, "Number of databases (SELECT 0 .. databases-1)."),
  memoryParam(
    "maxmemory",
    "0",
    0,
    true,
    "Memory limit for the dataset (used_memory); 0 = none. Reached: maxmemory-policy applies.",
  ),
  enumParam(
    "maxmemory-policy",
    "noeviction",
    MAXMEMORY_POLICIES,
    true,
    "What happens at a limit: noeviction (writes get -OOM) or which keys are evicted.",
  ),
  intParam("maxmemory-samples", 5, 1, 64, true, "Keys compared per eviction by sampled policies."),
  intParam(
    "maxkeys",
    0,
    0,
    2147483647,
    true,
    "Limit on the number of keys across databases; 0 = none. Reached: maxmemory-policy applies.",
  ),
  {
    name: "notify-keyspace-events",
    default: "",
    mutable: true,
    doc: "Keyspace notification classes (Redis's letters: K E g $ l s h z x e t m d n A).",
    parse(text) {
      const flags = parseKeyspaceEvents(text);
      if (flags === null) {
        throw new ConfigValueError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
      }
      return flags;
    },
    format: formatKeyspaceEvents,
  },
  intParam(
    "hash-max-listpack-entries",
    512,
    0,
    2147483647,
    true,
    "Hashes with at most this many fields use the compact encoding.",
  ),
  intParam(
    "hash-max-listpack-value",
    64,
    0,
    2147483647,
    true,
    "Hashes whose fields and values are at most this long use the compact encoding.",
  ),
  intParam(
    "list-max-listpack-size",
    -2,
    -5,
    2147483647,
    true,
    "Redis's list node size (accepted; gocache's list nodes are always up to 8 KB).",
  ),
  intParam(
    "list-compress-depth",
    0,
    0,
    2147483647,
    true,
    "List nodes kept uncompressed at each end (accepted; gocache does not compress lists).",
  ),
  intParam(
    "set-max-intset-entries",
    512,
    0,
    2147483647,
    true,
    "Sets of at most this many integers use the compact integer encoding.",
  ),
  intParam(
    "zset-max-listpack-entries",
    128,
    0,
    2147483647,
    true,
    "Sorted sets with at most this many members use the compact encoding.",
  ),
  intParam(
    "zset-max-listpack-value",
    64,
    0,
    2147483647,
    true,
    "Sorted sets whose members are at most this long use the compact encoding.",
  ),
  boolParam(
    "appendonly",
    false,
    true,
    "Log every write to the append-only file in dir and replay it on start.",
  ),
  stringParam("appendfilename", "appendonly.aof", false, "Name of the append-only file in dir."),
  enumParam(
    "appendfsync",
    "everysec",
    ["always", "everysec", "no"],
    true,
    "When AOF data reaches the disk: always (before replies), everysec (background), no (OS).",
  ),
  boolParam(
    "aof-load-truncated",
    true,
    true,
    "Start from a truncated AOF (a torn last write), cutting the partial command off.",
  ),
  intParam(
    "auto-aof-rewrite-percentage",
    100,
    0,
    2147483647,
    true,
    "Rewrite the AOF when it grew by this % since the last rewrite; 0 = never automatically.",
  ),
  memoryParam(
    "auto-aof-rewrite-min-size",
    "64mb",
    0,
    true,
    "Smallest AOF size at which automatic rewrites happen.",
  ),
  stringParam("dbfilename", "dump.rdb", true, "Name of the RDB snapshot file in dir."),
  {
    name: "save",
    default: "3600 1 300 100 60 10000",
    mutable: true,
    doc: 'Snapshot (BGSAVE) after <seconds> if <changes> writes: pairs; "" for never.',
    parse: (text) => parseSaveRules(text),
    format: (rules) => rules.map((r) => `${r.seconds} ${r.changes}`).join(" "),
  } satisfies ParamSpec<"save">,
  boolParam("rdbcompression", true, true, "LZF-compress long strings in RDB snapshots."),
  boolParam("rdbchecksum", true, true, "End RDB snapshots with a CRC64 checksum."),
  {
    name: "replicaof",
    default: "",
    mutable: false,
    doc: 'Follow the leader at "<host> <port>" (REPLICAOF changes it at runtime); "" = leader.',
    parse: (text) => parseReplicaOf(text),
    format: (r) => (r === null ? "" : `${r.host} ${r.port}`),
  } satisfies ParamSpec<"replicaof">,
  stringParam("masterauth", "", true, "Password a follower AUTHs with at its leader."),
  stringParam("masteruser", "", true, "User name a follower AUTHs with (with masterauth)."),
  boolParam("replica-read-only", true, true, "A follower refuses writes from clients (-READONLY)."),
  boolParam(
    "replica-serve-stale-data",
    true,
    true,
    "A follower whose link is down still serves reads; no = -MASTERDOWN until it resyncs.",
  ),
  intParam(
    "replica-priority",
    100,
    0,
    2147483647,
    true,
    "Failover preference: lower stands first; 0 = never promoted.",
  ),
  memoryParam(
    "repl-backlog-size",
    "1mb",
    16 * 1024,
    true,
    "Bytes of the replication stream kept so a follower that reconnects resumes (+CONTINUE).",
  ),
  intParam(
    "repl-ping-replica-period",
    10,
    1,
    2147483647,
    true,
    "Seconds between the leader's PINGs down the replication stream.",
  ),
  intParam(
    "repl-timeout",
    60,
    1,
    2147483647,
    true,
    "Seconds of silence after which a replication link is considered dead and dropped.",
  ),
  intParam(
    "min-replicas-to-write",
    0,
    0,
    2147483647,
    true,
    "Refuse writes (-NOREPLICAS) unless this many followers acked within min-replicas-max-lag.",
  ),
  intParam(
    "min-replicas-max-lag",
    10,
    0,
    2147483647,
    true,
    "Seconds since a follower's last ACK for it to count towards min-replicas-to-write.",
  ),
  boolParam("cluster-enabled", false, false, "Run as a Redis Cluster node (hash slots, bus)."),
  stringParam(
    "cluster-config-file",
    "nodes.conf",
    false,
    "The node's cluster state file in dir (Redis's nodes.conf format), rewritten on change.",
  ),
  longParam(
    "cluster-node-timeout",
    15000,
    0,
    "Milliseconds without a reply after which a cluster node is suspected to be down.",
  ),
  intParam(
    "cluster-port",
    0,
    0,
    65535,
    false,
    "Cluster bus port; 0 = port + 10000.",
  ),
  stringParam("cluster-announce-ip", "", true, "Address announced to other nodes; empty = seen."),
  stringParam(
    "cluster-announce-hostname",
    "",
    true,
    "Hostname announced to other nodes and clients (with endpoint type hostname).",
  ),
  intParam(
    "cluster-announce-port",
    0,
    0,
    65535,
    true,
    "Client port announced to other nodes; 0 = the port.",
  ),
  intParam(
    "cluster-announce-bus-port",
    0,
    0,
    65535,
    true,
    "Bus port announced to other nodes; 0 = the bus port.",
  ),
  enumParam(
    "cluster-preferred-endpoint-type",
    "ip",
    ["ip", "hostname", "unknown-endpoint"],
    true,
    "What MOVED, ASK and CLUSTER SLOTS name a node by: ip, hostname or unknown-endpoint (?).",
  ),
  boolParam(
    "cluster-require-full-coverage",
    true,
    true,
    "The cluster refuses queries (CLUSTERDOWN) while any hash slot has no working owner.",
  ),
  boolParam(
    "cluster-allow-reads-when-down",
    false,
    true,
    "Serve reads of owned slots while the cluster is down.",
  ),
  memoryParam(
    "cluster-link-sendbuf-limit",
    "0",
    0,
    true,
    "Bytes queued on one bus link past which the link is dropped; 0 = no limit.",
  ),
  intParam(
    "cluster-replica-validity-factor",
    10,
    0,
    2147483647,
    true,
    "A replica disconnected longer than factor x node-timeout does not stand; 0 = always.",
  ),
  intParam(
    "cluster-migration-barrier",
    1,
    0,
    2147483647,
    true,
    "Replicas a master keeps before one may migrate to an orphaned master.",
  ),
  boolParam(
    "cluster-allow-replica-migration",
    true,
    true,
    "Replicas may migrate to orphaned masters, and a master left without slots follows.",
  ),
  boolParam(
    "cluster-replica-no-failover",
    false,
    true,
    "This replica never starts an automatic failover.",
  ),
  stringParam(
    "group-name",
    "",
    false,
    "Leader/follower group with built-in failover (the name Sentinel clients ask for); empty = off.",
  ),
  {
    name: "group-members",
    default: "",
    mutable: false,
    doc: "The group's members, this node included: host:port[@busport], space separated.",
    parse: (text) => parseGroupMembers(text),
    format: (members) =>
      members.map((m) =>
        m.busPort === m.port + 10000 ? `${m.host}:${m.port}` : `${m.host}:${m.port}@${m.busPort}`
      ).join(" "),
  } satisfies ParamSpec<"group-members">,
  intParam(
    "group-election-timeout",
    5000,
    100,
    2147483647,
    false,
    "Milliseconds without heartbeats after which a group's followers elect a new leader.",
  ),
  intParam(
    "group-heartbeat-period",
    500,
    10,
    2147483647,
    false,
    "Milliseconds between heartbeats to each group member.",
  ),
] as readonly ParamSpec[];

/**
 * Parameters that say where files are written (Redis 7.0's PROTECTED_CONFIG): CONFIG SET
 * refuses them unless `enable-protected-configs` allows it, which closes the classic break-in
 * of pointing `dir` and `dbfilename` at `~/.ssh/authorized_keys` and running SAVE.
 */
export const PROTECTED_PARAMS: ReadonlySet<ConfigName> = new Set<ConfigName>([
  "dir",
  "dbfilename",
]);

/**
 * Other names of parameters, as Redis 7.0 keeps them (`lua-time-limit` before Redis 7 named
 * the busy threshold): CONFIG GET, CONFIG SET and the YAML file take them, and CONFIG GET with
 * a pattern lists them as well.
 */
export const PARAM_ALIASES: Readonly<Record<string, ConfigName>> = {
  "lua-time-limit": "busy-reply-threshold",
};

/** Looks a parameter up by its exact (lower-case) name. */
export function findParam(name: string): ParamSpec | undefined {
  const canonical = PARAM_ALIASES[name] ?? name;
  return PARAMS.find((p) => p.name === canonical);
}
