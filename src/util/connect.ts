/**
 * TCP and TLS connections with a deadline, for every outgoing connection that must not wait
 * forever (the client library, `gocache bench`, a slot migration's link to its target, MIGRATE).
 */

/** TLS for an outgoing connection. */
export interface ConnectTls {
  /** CA certificates (PEM) to verify the server with; the system's roots when absent. */
  caCerts?: string[];
  /** A client certificate (PEM) to present, with {@link key}. */
  cert?: string;
  /** The client certificate's private key (PEM). */
  key?: string;
}

/** Opens a TCP connection, or a TLS one when `tls` is given. */
export function connectSocket(
  hostname: string,
  port: number,
  tls?: ConnectTls,
): Promise<Deno.Conn> {
  if (tls === undefined) return Deno.connect({ hostname, port });
  const withCert = tls.cert !== undefined && tls.key !== undefined;
  return Deno.connectTls({
    hostname,
    port,
    caCerts: tls.caCerts,
    ...(withCert ? { cert: tls.cert, key: tls.key } : {}),
  });
}

/** The connection was not established within the deadline. */
export class ConnectTimeout extends Error {
  /** Creates the error for `address` and the deadline it missed. */
  constructor(address: string, timeoutMs: number) {
    super(`Connecting to ${address} timed out after ${timeoutMs} ms`);
    this.name = "ConnectTimeout";
  }
}

/**
 * Connects to `hostname`:`port` (over TLS with `tls`) with Nagle's algorithm off where the
 * connection has the switch. Rejects with {@link ConnectTimeout} after `timeoutMs` (0: no
 * deadline) or with the connect error (a TLS handshake failure included); a connection that
 * completes after the deadline is closed.
 */
export async function connectWithin(
  hostname: string,
  port: number,
  timeoutMs: number,
  tls?: ConnectTls,
): Promise<Deno.Conn> {
  const connecting = connectSocket(hostname, port, tls).then(async (conn) => {
    if (tls === undefined) (conn as Deno.TcpConn).setNoDelay(true);
    else await handshakeOrClose(conn as Deno.TlsConn);
    return conn;
  });
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
    return await Promise.race([connecting, timeout]);
  } catch (e) {
    connecting.then((late) => late.close(), () => {});
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** Completes a TLS handshake now (so its failure is the connect's); closes the connection if it fails. */
async function handshakeOrClose(conn: Deno.TlsConn): Promise<void> {
  try {
    await conn.handshake();
  } catch (e) {
    conn.close();
    throw e;
  }
}
