/**
 * TCP connections with a deadline, for every outgoing connection that must not wait forever
 * (the client library, `gocache bench`, a slot migration's link to its target).
 */

/** The connection was not established within the deadline. */
export class ConnectTimeout extends Error {
  /** Creates the error for `address` and the deadline it missed. */
  constructor(address: string, timeoutMs: number) {
    super(`Connecting to ${address} timed out after ${timeoutMs} ms`);
    this.name = "ConnectTimeout";
  }
}

/**
 * Connects to `hostname`:`port` with Nagle's algorithm off. Rejects with {@link ConnectTimeout}
 * after `timeoutMs` (0: no deadline) or with the connect error; a connection that completes
 * after the deadline is closed.
 */
export async function connectWithin(
  hostname: string,
  port: number,
  timeoutMs: number,
): Promise<Deno.TcpConn> {
  const connecting = Deno.connect({ hostname, port });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    if (timeoutMs > 0) {
      timer = setTimeout(
        () => reject(new ConnectTimeout(`${hostname}:${port}`, timeoutMs)),
        timeoutMs,
      );
    }
  });
  try {
    const conn = await Promise.race([connecting, timeout]);
    conn.setNoDelay(true);
    return conn;
  } catch (e) {
    connecting.then((late) => late.close(), () => {});
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
