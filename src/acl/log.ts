/**
 * The ACL LOG (Redis 7.0's ACLLog): refused commands, keys, channels and failed AUTHs, newest
 * first. A refusal like one of the 10 newest entries (same reason, context, object and user,
 * within 60 seconds) updates that entry's count instead of adding one.
 */
import { DoubleReply, MapReply, type Reply } from "../resp/reply.ts";
import { DENIED_AUTH, DENIED_CHANNEL, DENIED_CMD, DENIED_KEY } from "./check.ts";

/** Where a refusal happened: a client's own command, MULTI, a script. */
export type LogContext = "toplevel" | "multi" | "lua";

/** One entry. */
export interface AclLogEntry {
  /** Times this refusal happened. */
  count: number;
  /** DENIED_* reason. */
  readonly reason: number;
  /** Where it happened. */
  readonly context: LogContext;
  /** The command, key or channel refused (AUTH: the command name as sent). */
  readonly object: string;
  /** The user (AUTH: the name tried). */
  readonly username: string;
  /** Last time it happened (ms since epoch). */
  time: number;
  /** CLIENT INFO of the client, the last time. */
  clientInfo: string;
}

const GROUPING_MS = 60000;
const REASONS: Record<number, string> = {
  [DENIED_CMD]: "command",
  [DENIED_KEY]: "key",
  [DENIED_CHANNEL]: "channel",
  [DENIED_AUTH]: "auth",
};

/** See the module comment. */
export class AclLog {
  #entries: AclLogEntry[] = [];

  /** Entries, newest first. */
  get entries(): readonly AclLogEntry[] {
    return this.#entries;
  }

  /** Records a refusal; keeps at most `maxLen` entries. */
  add(entry: Omit<AclLogEntry, "count">, maxLen: number): void {
    const scan = Math.min(10, this.#entries.length);
    for (let i = 0; i < scan; i++) {
      const e = this.#entries[i];
      if (
        e.reason === entry.reason && e.context === entry.context &&
        Math.abs(e.time - entry.time) <= GROUPING_MS && e.object === entry.object &&
        e.username === entry.username
      ) {
        this.#entries.splice(i, 1);
        this.#entries.unshift(e);
        e.count++;
        e.time = entry.time;
        e.clientInfo = entry.clientInfo;
        return;
      }
    }
    this.#entries.unshift({ ...entry, count: 1 });
    if (this.#entries.length > maxLen) this.#entries.length = maxLen;
  }

  /** ACL LOG RESET. */
  reset(): void {
    this.#entries = [];
  }

  /** The reply to ACL LOG [count]: Redis 7.0's seven fields per entry. */
  reply(count: number, at: number): Reply {
    return this.#entries.slice(0, Math.max(0, count)).map((e) =>
      new MapReply([
        "count",
        e.count,
        "reason",
        REASONS[e.reason],
        "context",
        e.context,
        "object",
        e.object,
        "username",
        e.username,
        "age-seconds",
        new DoubleReply((at - e.time) / 1000),
        "client-info",
        e.clientInfo,
      ])
    );
  }
}
