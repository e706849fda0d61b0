/**
 * MONITOR's feed (Redis's `replicationFeedMonitors`): every command that ran, as one status line
 * per command sent to each monitoring client, in Redis's format
 * `+1339518083.107412 [0 127.0.0.1:60866] "keys" "*"`. Arguments are quoted as Redis's
 * `sdscatrepr` quotes them, and secrets (AUTH, HELLO AUTH, ACL SETUSER rules, CONFIG SET
 * requirepass) are shown as
 * `(redacted)`, as Redis 7 does.
 */
import type { Command } from "../commands/registry.ts";
import type { ClientState } from "./client.ts";
import type { ClientTable } from "./client_table.ts";
import { asciiLower } from "../util/bytes.ts";

const REDACTED = new TextEncoder().encode("(redacted)");
const encoder = new TextEncoder();
/** Parameters whose values CONFIG SET hides (Redis's SENSITIVE_CONFIG). */
const SENSITIVE_PARAMS = new Set(["requirepass", "masterauth"]);

/**
 * The arguments as MONITOR and SLOWLOG show them: secrets replaced by `(redacted)`, as Redis's
 * `redactClientCommandArgument` does. Returns `argv` itself when nothing is secret.
 */
export function displayedArguments(cmd: Command, argv: readonly Uint8Array[]): Uint8Array[] {
  const shown = argv as Uint8Array[];
  if (cmd.fullName === "auth") return [argv[0], ...argv.slice(1).map(() => REDACTED)];
  if (cmd.fullName === "hello") {
    for (let i = 2; i < argv.length; i++) {
      if (asciiLower(argv[i]) === "auth") {
        const out = [...argv];
        for (let j = i + 1; j <= i + 2 && j < out.length; j++) out[j] = REDACTED;
        return out;
      }
    }
  } else if (cmd.fullName === "acl|setuser") {
    // Every rule may hold a password (`>pw`, `#hash`): Redis shows none of them, nor the name.
    return [...argv.slice(0, 2), ...argv.slice(2).map(() => REDACTED)];
  } else if (cmd.fullName === "config|set") {
    let out: Uint8Array[] | null = null;
    for (let i = 2; i + 1 < argv.length; i += 2) {
      if (SENSITIVE_PARAMS.has(asciiLower(argv[i]))) (out ??= [...argv])[i + 1] = REDACTED;
    }
    return out ?? shown;
  }
  return shown;
}

/** `bytes` quoted as Redis's `sdscatrepr` does. */
export function quoteArgument(bytes: Uint8Array): string {
  let out = '"';
  for (const b of bytes) {
    if (b === 0x5c) out += "\\\\";
    else if (b === 0x22) out += '\\"';
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b === 0x09) out += "\\t";
    else if (b === 0x07) out += "\\a";
    else if (b === 0x08) out += "\\b";
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return out + '"';
}

/** The monitoring clients and the feed to them; see the module comment. */
export class MonitorFeed {
  readonly #ids = new Set<number>();

  /** Monitoring clients (the observer feeds them only when there are some). */
  get size(): number {
    return this.#ids.size;
  }

  /** Starts feeding `client` (MONITOR). */
  add(client: ClientState): void {
    this.#ids.add(client.id);
  }

  /** Stops feeding `client` (RESET, disconnect). */
  remove(client: ClientState): void {
    this.#ids.delete(client.id);
  }

  /**
   * Sends one command, run by `client` in its current database at `micros` (µs since the
   * epoch), to every monitoring client still connected.
   */
  feed(
    clients: ClientTable,
    client: ClientState,
    argv: readonly Uint8Array[],
    micros: number,
  ): void {
    const seconds = Math.floor(micros / 1e6);
    const fraction = String(Math.floor(micros % 1e6)).padStart(6, "0");
    let line = `+${seconds}.${fraction} [${client.db} ${client.addr}]`;
    for (const arg of argv) line += " " + quoteArgument(arg);
    const frame = encoder.encode(line + "\r\n");
    for (const id of this.#ids) {
      const handle = clients.get(id);
      if (handle === undefined) this.#ids.delete(id);
      else if (handle.state === client) (client.ownMonitorLines ??= []).push(frame);
      else handle.pushFrame(frame);
    }
  }
}
