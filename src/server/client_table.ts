/**
 * All connected clients, by id. Commands use it to list and kill clients; the server uses it for
 * `maxclients`, idle timeouts and shutdown. Killing only flags the client and asks its connection
 * to close, so no handler ever touches a socket.
 */
import { ClientState } from "./client.ts";
import { logger } from "../util/logger.ts";

const log = logger("clients");

/** What the table needs from a live connection. */
export interface ClientHandle {
  /** The client's state. */
  readonly state: ClientState;
  /** Closes the connection as soon as possible (pending replies are dropped). */
  kill(): void;
  /**
   * Appends encoded bytes to the client's output, in order with its replies, under its output
   * buffer limit: how pub/sub messages, MONITOR lines and a follower's replication stream reach
   * it. A `transfer` (a follower's copy of the dataset) does not count towards the limit.
   */
  pushFrame(frame: Uint8Array, transfer?: boolean): void;
  /** Bytes produced for the client and not yet accepted by its socket. */
  readonly pendingOutputBytes: number;
}

/** The table of connected clients. */
export class ClientTable {
  #clients = new Map<number, ClientHandle>();
  #nextId = 1;

  /** Allocates the next client id. */
  nextId(): number {
    return this.#nextId++;
  }

  /** Number of connected clients. */
  get size(): number {
    return this.#clients.size;
  }

  /** Registers a connection. */
  add(handle: ClientHandle): void {
    this.#clients.set(handle.state.id, handle);
  }

  /** Forgets a closed connection. */
  remove(id: number): void {
    this.#clients.delete(id);
  }

  /** The client with this id, if connected. */
  get(id: number): ClientHandle | undefined {
    return this.#clients.get(id);
  }

  /** Every connected client, in connection order. */
  all(): IterableIterator<ClientHandle> {
    return this.#clients.values();
  }

  /**
   * Kills one client. A client killing itself is closed after its reply is written, as in
   * Redis; any other is closed at once.
   */
  kill(target: ClientHandle, by: ClientState): void {
    log.info("Client {id} ({addr}) killed by client {by} ({byAddr})", {
      id: target.state.id,
      addr: target.state.addr,
      name: target.state.name,
      by: by.id,
      byAddr: by.addr,
    });
    if (target.state === by) {
      by.closeAfterReply = true;
      return;
    }
    target.state.killed = true;
    target.kill();
  }
}
