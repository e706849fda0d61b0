/**
 * The client's three kinds of failure, as distinct classes so callers can branch on them: the
 * server answered with an error (ReplyError: the command reached it and was refused), the
 * connection could not be made or broke (ConnectionError: whether the command ran is unknown),
 * or no answer came in time (TimeoutError).
 *
 * @module
 */

/** Base class of every error the client throws, for a single `instanceof` check. */
export class ClientError extends Error {
  /** Creates the error; `cause` keeps the underlying error, if any. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ClientError";
  }
}

/**
 * An error reply (`-ERR ...`, `-WRONGTYPE ...`, RESP3 `!`). `code` is its first word, which is
 * what callers branch on (`ERR`, `WRONGTYPE`, `NOAUTH`, `EXECABORT`, `MOVED`, `ASK`). The client
 * does not follow `MOVED`/`ASK` redirections (there is no cluster support yet).
 */
export class ReplyError extends ClientError {
  /** The first word of the server's message, e.g. `WRONGTYPE`. */
  readonly code: string;

  /** Wraps the server's error text (without the leading `-`). */
  constructor(readonly reply: string) {
    super(reply);
    this.name = "ReplyError";
    const space = reply.indexOf(" ");
    this.code = space < 0 ? reply : reply.slice(0, space);
  }
}

/**
 * Connecting failed (refused, unreachable, name not found), the connection was closed (by the
 * server, by a protocol error, or by `close()`) while replies were outstanding, or a command was
 * sent on a closed client. Commands in flight may or may not have run.
 */
export class ConnectionError extends ClientError {
  /** Creates the error; `cause` keeps the socket error, if any. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectionError";
  }
}

/**
 * Connecting or waiting for a reply took longer than the client's `timeoutMs`. The connection
 * stays usable: a reply that arrives late is matched to its command and dropped.
 */
export class TimeoutError extends ClientError {
  /** Creates the error with a message naming what timed out. */
  constructor(message: string) {
    super(message);
    this.name = "TimeoutError";
  }
}

/** The message of any thrown value, for wrapping it. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
