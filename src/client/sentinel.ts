/**
 * Finding a leader through Sentinel's client API: {@link connectToLeader} asks each sentinel in
 * turn (a gocache group's members answer as sentinels for their group; real redis-sentinel
 * processes work too) for `SENTINEL GET-MASTER-ADDR-BY-NAME <name>`, connects to the address
 * named and checks with ROLE that it leads. After a failover, the connection to the old leader
 * fails (or its writes get `READONLY`/`NOREPLICAS`): connect again to reach the new one.
 *
 * @module
 */
import { RespError } from "../resp/reply_decoder.ts";
import { type Client, type ClientOptions, connect } from "./client.ts";
import { RespConnection } from "./connection.ts";
import { ConnectionError } from "./errors.ts";

/** A sentinel's address (for a gocache group: a member's client port). */
export interface SentinelAddress {
  /** Host name or address. */
  host: string;
  /** Port. */
  port: number;
}

/** Options of {@link connectToLeader}: the client's, plus where to ask. */
export interface LeaderOptions extends Omit<ClientOptions, "host" | "port"> {
  /** Sentinels to ask, in order. */
  sentinels: readonly SentinelAddress[];
  /** The group's (Sentinel's master) name. */
  name: string;
}

const decoder = new TextDecoder();

/**
 * The leader's address as the first sentinel that knows the group names it. Rejects with
 * ConnectionError when no sentinel answers with an address.
 */
export async function discoverLeader(
  options: Pick<LeaderOptions, "sentinels" | "name" | "timeoutMs">,
): Promise<SentinelAddress> {
  const problems: string[] = [];
  for (const sentinel of options.sentinels) {
    let conn: RespConnection | null = null;
    try {
      conn = await RespConnection.open({ ...sentinel, timeoutMs: options.timeoutMs ?? 2000 });
      const reply = await conn.call(["SENTINEL", "GET-MASTER-ADDR-BY-NAME", options.name]);
      if (Array.isArray(reply) && reply.length === 2) {
        const [host, port] = reply.map((v) => v instanceof Uint8Array ? decoder.decode(v) : "");
        if (host !== "" && Number(port) > 0) return { host, port: Number(port) };
      }
      problems.push(
        `${sentinel.host}:${sentinel.port}: ${
          reply instanceof RespError ? reply.message : "no leader known"
        }`,
      );
    } catch (e) {
      problems.push(`${sentinel.host}:${sentinel.port}: ${e instanceof Error ? e.message : e}`);
    } finally {
      await conn?.close();
    }
  }
  throw new ConnectionError(
    `No sentinel named a leader for ${options.name}: ${problems.join("; ")}`,
  );
}

/**
 * Connects to the group's current leader: discovers it ({@link discoverLeader}), connects, and
 * checks that it reports itself as master (a node named during a failover may not be yet).
 */
export async function connectToLeader(options: LeaderOptions): Promise<Client> {
  const { sentinels: _sentinels, name: _name, ...clientOptions } = options;
  const leader = await discoverLeader(options);
  const client = await connect({ ...clientOptions, ...leader });
  try {
    const role = await client.send("ROLE");
    const first = Array.isArray(role) && role[0] instanceof Uint8Array
      ? decoder.decode(role[0])
      : "";
    if (first !== "master") {
      throw new ConnectionError(`${leader.host}:${leader.port} is not the leader (role ${first})`);
    }
    return client;
  } catch (e) {
    await client.close();
    throw e;
  }
}
