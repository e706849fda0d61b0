/**
 * TLS on the client port (`tls-port`) and on follower links (`tls-replication`), with Deno's
 * TLS (rustls: TLS 1.2 and 1.3). Certificates are read from `tls-cert-file` and `tls-key-file`
 * (PEM) when the listeners open, and again when CONFIG SET changes either: the TLS listeners
 * are reopened on the same port, connections already made keep their session.
 *
 * Deno's TLS server cannot ask clients for certificates, so `tls-auth-clients` can only be
 * `no`: `yes` or `optional` (Redis's default is `yes`) stop the start with an error saying so,
 * rather than accepting clients Redis would refuse.
 */
import type { ConfigValues } from "../config/schema.ts";
import { bindAddresses } from "./bind.ts";

/** Why the TLS configuration cannot be used, or null. */
export function tlsConfigError(values: ConfigValues): string | null {
  if (values["tls-port"] === 0 && !values["tls-replication"]) return null;
  if (values["tls-auth-clients"] !== "no") {
    return `tls-auth-clients ${values["tls-auth-clients"]} is not supported: Deno's TLS ` +
      "server cannot request client certificates; set tls-auth-clients no";
  }
  if (values["tls-port"] > 0 && (values["tls-cert-file"] === "" || values["tls-key-file"] === "")) {
    return "tls-port needs tls-cert-file and tls-key-file";
  }
  return null;
}

/** The server's certificate and key (PEM), read from their files now. */
function certifiedKey(values: ConfigValues): Deno.TlsCertifiedKeyPem {
  try {
    return {
      cert: Deno.readTextFileSync(values["tls-cert-file"]),
      key: Deno.readTextFileSync(values["tls-key-file"]),
    };
  } catch (e) {
    throw new Error(`cannot read the TLS certificate or key: ${(e as Error).message}`);
  }
}

/**
 * Opens a TLS listener on `port` at every `bind` address (optional ones may fail), with the
 * certificate files as they are now. Throws when a required address or the files fail.
 */
export function openTlsListeners(values: ConfigValues, port: number): Deno.TlsListener[] {
  const pem = certifiedKey(values);
  const listeners: Deno.TlsListener[] = [];
  for (const address of bindAddresses(values.bind)) {
    try {
      listeners.push(Deno.listenTls({ hostname: address.hostname, port, ...pem }));
    } catch (e) {
      if (address.optional) continue;
      for (const listener of listeners) listener.close();
      throw e;
    }
  }
  if (listeners.length === 0) {
    throw new Error(`could not listen with TLS on any of: ${values.bind}`);
  }
  return listeners;
}

/**
 * Connects to a leader at `hostname:port`, over TLS when `tls-replication` is on (verifying
 * the leader's certificate against `tls-ca-cert-file`, or the system's roots when it is empty).
 */
export function connectToLeader(
  values: ConfigValues,
  hostname: string,
  port: number,
): Promise<Deno.Conn> {
  if (!values["tls-replication"]) return Deno.connect({ hostname, port });
  const ca = values["tls-ca-cert-file"];
  return Deno.connectTls({
    hostname,
    port,
    caCerts: ca === "" ? undefined : [Deno.readTextFileSync(ca)],
  });
}

/**
 * Turns Nagle's algorithm off on a plain TCP connection (replies are written whole); a TLS
 * connection has no such switch in Deno and is left as it is.
 */
export function setNoDelay(conn: Deno.Conn): void {
  if ("setNoDelay" in conn && typeof conn.setNoDelay === "function") {
    (conn as Deno.TcpConn).setNoDelay(true);
  }
}
