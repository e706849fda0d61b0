/**
 * TLS on the client port (`tls-port`), on follower links (`tls-replication`) and on the
 * cluster bus (`tls-cluster`), with Redis's settings: `tls-cert-file`, `tls-key-file`,
 * `tls-ca-cert-file`, `tls-auth-clients yes|no|optional` and `tls-protocols`.
 *
 * Listening sides have two implementations, both rustls underneath:
 * - `Deno.listenTls` when clients need no certificate (`tls-auth-clients no`) and both
 *   versions are allowed: it is the faster one (about 15-20% more SET/GET at `-P 16`,
 *   measured side by side with redis-benchmark --tls; README "TLS");
 * - `node:tls`, wrapped as `Deno.Conn` by {@link TlsSocketConn}, otherwise: Deno's own TLS
 *   server cannot ask clients for certificates nor pin protocol versions, and both are Redis
 *   behaviours (client certificates are even its default).
 * Connecting sides use `Deno.connectTls`, presenting `tls-cert-file` as the client
 * certificate as Redis does, and trusting `tls-ca-cert-file`.
 *
 * rustls implements TLSv1.2 and TLSv1.3 only, so those are what `tls-protocols` may name.
 */
import tls from "node:tls";
import type { ConfigValues } from "../config/schema.ts";
import { tlsProtocolRange } from "../config/tls_protocols.ts";
import { bindAddresses } from "./bind.ts";
import { TlsSocketConn } from "./tls_socket.ts";
import { connectSocket, type ConnectTls } from "../util/connect.ts";

/** True when some listener or link uses TLS, so the TLS settings must be usable. */
function tlsInUse(values: ConfigValues): boolean {
  return values["tls-port"] > 0 || values["tls-replication"] || values["tls-cluster"];
}

/** Why the TLS configuration cannot be used, or null. */
export function tlsConfigError(values: ConfigValues): string | null {
  if (!tlsInUse(values)) return null;
  const listens = values["tls-port"] > 0 || values["tls-cluster"];
  if (listens && (values["tls-cert-file"] === "" || values["tls-key-file"] === "")) {
    return values["tls-cluster"]
      ? "tls-cluster needs tls-cert-file and tls-key-file"
      : "tls-port needs tls-cert-file and tls-key-file";
  }
  if (listens && values["tls-auth-clients"] !== "no" && values["tls-ca-cert-file"] === "") {
    return `tls-auth-clients ${values["tls-auth-clients"]} needs tls-ca-cert-file ` +
      "(the CA that signs client certificates); or set tls-auth-clients no";
  }
  return null;
}

/**
 * Why a TLS listener could not open with the settings as they are now (combination, files,
 * PEM contents), or null; checked before listeners are reopened so a mistake keeps the old ones.
 */
export function tlsListenerSettingsError(values: ConfigValues): string | null {
  const problem = tlsConfigError(values);
  if (problem !== null) return problem;
  try {
    tls.createSecureContext(serverOptions(values));
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Reads a PEM file named by a setting, with an error that names the setting. */
function readPem(
  values: ConfigValues,
  name: "tls-cert-file" | "tls-key-file" | "tls-ca-cert-file",
) {
  try {
    return Deno.readTextFileSync(values[name]);
  } catch (e) {
    throw new Error(`cannot read ${name} ${values[name]}: ${(e as Error).message}`);
  }
}

/** `node:tls` server options from the settings as they are now. */
function serverOptions(values: ConfigValues): tls.TlsOptions {
  const auth = values["tls-auth-clients"];
  const range = tlsProtocolRange(values["tls-protocols"]);
  if (typeof range === "string") throw new Error(range);
  const { min, max } = range;
  return {
    cert: readPem(values, "tls-cert-file"),
    key: readPem(values, "tls-key-file"),
    ca: values["tls-ca-cert-file"] === "" ? undefined : readPem(values, "tls-ca-cert-file"),
    requestCert: auth !== "no",
    // `optional` accepts a client without a certificate, but not one with a bad certificate:
    // that check is in the connection handler.
    rejectUnauthorized: auth === "yes",
    minVersion: min,
    maxVersion: max,
  };
}

/** A TLS listening socket: accepted connections, handshake done and client checked. */
export interface TlsListener {
  /** The next client that completed its handshake; rejects with BadResource once closed. */
  accept(): Promise<Deno.Conn>;
  /** Stops listening; connections already accepted go on. */
  close(): void;
}

/** Whether the listener needs `node:tls` (client certificates or pinned versions). */
function needsNodeTls(values: ConfigValues): boolean {
  if (values["tls-auth-clients"] !== "no") return true;
  const range = tlsProtocolRange(values["tls-protocols"]);
  return typeof range === "string" || range.min !== "TLSv1.2" || range.max !== "TLSv1.3";
}

/** A listener of `Deno.listenTls`. */
function denoTlsListener(values: ConfigValues, hostname: string, port: number): TlsListener {
  return Deno.listenTls({
    hostname,
    port,
    cert: readPem(values, "tls-cert-file"),
    key: readPem(values, "tls-key-file"),
  });
}

/** A listener of `node:tls`; see the module comment. */
class NodeTlsListener implements TlsListener {
  readonly #server: tls.Server;
  readonly #ready: Deno.Conn[] = [];
  readonly #waiting: { resolve: (conn: Deno.Conn) => void; reject: (e: Error) => void }[] = [];
  #closed = false;

  private constructor(server: tls.Server, optional: boolean) {
    this.#server = server;
    server.on("secureConnection", (socket: tls.TLSSocket) => {
      if (optional && !socket.authorized && hasPeerCertificate(socket)) {
        socket.destroy();
        return;
      }
      const conn = new TlsSocketConn(socket);
      const waiter = this.#waiting.shift();
      if (waiter !== undefined) waiter.resolve(conn);
      else this.#ready.push(conn);
    });
    // A failed handshake (no or a bad client certificate, an unknown CA, an old protocol)
    // concerns only that peer.
    server.on("tlsClientError", () => {});
  }

  /** Listens on `hostname:port` with the settings as they are now. */
  static open(values: ConfigValues, hostname: string, port: number): Promise<NodeTlsListener> {
    const server = tls.createServer(serverOptions(values));
    const listener = new NodeTlsListener(server, values["tls-auth-clients"] === "optional");
    return new Promise((resolve, reject) => {
      const failed = (e: Error & { code?: string }) => {
        server.close();
        reject(e.code === "EADDRINUSE" ? new Deno.errors.AddrInUse(e.message) : e);
      };
      server.once("error", failed);
      server.listen(port, hostname, () => {
        server.off("error", failed);
        server.on("error", () => {});
        resolve(listener);
      });
    });
  }

  /** See {@link TlsListener.accept}. */
  accept(): Promise<Deno.Conn> {
    const conn = this.#ready.shift();
    if (conn !== undefined) return Promise.resolve(conn);
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("TLS listener closed"));
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** See {@link TlsListener.close}. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    for (const conn of this.#ready.splice(0)) conn.close();
    for (const waiter of this.#waiting.splice(0)) {
      waiter.reject(new Deno.errors.BadResource("TLS listener closed"));
    }
  }
}

/** True when the peer sent a certificate (node reports none as undefined or `{}`). */
function hasPeerCertificate(socket: tls.TLSSocket): boolean {
  const cert = socket.getPeerCertificate();
  return cert !== undefined && cert !== null && Object.keys(cert).length > 0;
}

/** Opens one TLS listener on `hostname:port` (the cluster bus's), with the settings as they are now. */
export function openTlsListener(
  values: ConfigValues,
  hostname: string,
  port: number,
): Promise<TlsListener> {
  return needsNodeTls(values)
    ? NodeTlsListener.open(values, hostname, port)
    : Promise.resolve(denoTlsListener(values, hostname, port));
}

/**
 * Opens a TLS listener on `port` at every `bind` address (optional ones may fail), with the
 * certificate files as they are now. Throws when a required address or the files fail.
 */
export async function openTlsListeners(values: ConfigValues, port: number): Promise<TlsListener[]> {
  const listeners: TlsListener[] = [];
  for (const address of bindAddresses(values.bind)) {
    try {
      listeners.push(await openTlsListener(values, address.hostname, port));
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
 * Connects to a peer (a leader, a cluster node) over TLS: verifies its certificate against
 * `tls-ca-cert-file` (the system's roots when empty) and presents `tls-cert-file` as the
 * client certificate when one is set, as Redis does.
 */
export function connectTlsPeer(
  values: ConfigValues,
  hostname: string,
  port: number,
): Promise<Deno.Conn> {
  return connectSocket(hostname, port, peerTls(values));
}

/** The TLS options of {@link connectTlsPeer}, read from the files now. */
function peerTls(values: ConfigValues): ConnectTls {
  const withCert = values["tls-cert-file"] !== "" && values["tls-key-file"] !== "";
  return {
    caCerts: values["tls-ca-cert-file"] === "" ? undefined : [readPem(values, "tls-ca-cert-file")],
    ...(withCert
      ? { cert: readPem(values, "tls-cert-file"), key: readPem(values, "tls-key-file") }
      : {}),
  };
}

/**
 * The TLS options for a connection to another cluster node's client port (MIGRATE, an atomic
 * slot migration's link): TLS under `tls-cluster`, as Redis's connTypeOfCluster; none otherwise.
 */
export function clusterPeerTls(values: ConfigValues): ConnectTls | undefined {
  return values["tls-cluster"] ? peerTls(values) : undefined;
}

/** Connects to a leader at `hostname:port`, over TLS when `tls-replication` is on. */
export function connectToLeader(
  values: ConfigValues,
  hostname: string,
  port: number,
): Promise<Deno.Conn> {
  if (!values["tls-replication"]) return Deno.connect({ hostname, port });
  return connectTlsPeer(values, hostname, port);
}

/**
 * Turns Nagle's algorithm off (replies are written whole), on a TCP connection or a TLS
 * one accepted by {@link TlsListener}; Deno's own TLS connections have no such switch.
 */
export function setNoDelay(conn: Deno.Conn): void {
  if ("setNoDelay" in conn && typeof conn.setNoDelay === "function") {
    (conn as Deno.TcpConn).setNoDelay(true);
  }
}
