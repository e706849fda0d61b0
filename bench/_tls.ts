/**
 * Test certificates made with openssl: a CA and a server certificate it signs for 127.0.0.1
 * and localhost, as PEM files. Used by `bench:compare --tls` and tests/integration/tls_test.ts.
 */

/** The files of {@link makeCertificates}. */
export interface Certificates {
  /** The CA's certificate, for clients to trust. */
  ca: string;
  /** The server's certificate. */
  cert: string;
  /** The server's private key. */
  key: string;
}

function openssl(args: string[], cwd: string): void {
  const out = new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" })
    .outputSync();
  if (out.code !== 0) {
    throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Makes a CA named `name` and a server certificate it signs, in `dir` (files `name-*`). */
export function makeCertificates(dir: string, name: string): Certificates {
  const at = (file: string) => `${dir}/${name}-${file}`;
  openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-keyout",
    at("ca.key"),
    "-out",
    at("ca.crt"),
    "-subj",
    `/CN=${name} test CA`,
  ], dir);
  openssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    at("server.key"),
    "-out",
    at("server.csr"),
    "-subj",
    "/CN=localhost",
  ], dir);
  Deno.writeTextFileSync(
    at("ext.cnf"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n" +
      "extendedKeyUsage=serverAuth,clientAuth\n",
  );
  openssl([
    "x509",
    "-req",
    "-in",
    at("server.csr"),
    "-CA",
    at("ca.crt"),
    "-CAkey",
    at("ca.key"),
    "-CAcreateserial",
    "-out",
    at("server.crt"),
    "-days",
    "2",
    "-extfile",
    at("ext.cnf"),
  ], dir);
  return { ca: at("ca.crt"), cert: at("server.crt"), key: at("server.key") };
}

/**
 * A server's flags for `certs`: its certificate and key, and the CA it trusts for client
 * certificates and peers (the same names in gocache and redis-server).
 */
export function tlsServerFlags(certs: Certificates): string[] {
  return [
    "--tls-cert-file",
    certs.cert,
    "--tls-key-file",
    certs.key,
    "--tls-ca-cert-file",
    certs.ca,
  ];
}

/**
 * Runs `body` with certificates named `name` made in a fresh temporary directory, which is
 * removed afterwards whatever happens.
 */
export async function withCertificates<T>(
  name: string,
  body: (certs: Certificates, dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: `gocache-tls-${name}-` });
  try {
    return await body(makeCertificates(dir, name), dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
