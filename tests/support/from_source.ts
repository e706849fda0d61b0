/**
 * Connections from another loopback source address (127.0.0.2), which Deno.connect cannot
 * bind: protected mode, `local` settings and per-address limits treat it as a remote client.
 */
import assert from "node:assert/strict";

/**
 * Connects from `source` (a loopback address) to 127.0.0.1:`port`, sends PING and returns what
 * the server sent before closing or within a second. Python binds the source address, which
 * Deno.connect cannot.
 */
export async function fromSource(
  source: string,
  port: number,
  request = "PING\r\n",
): Promise<string> {
  const script = `
import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
s.connect(("127.0.0.1", int(sys.argv[2])))
data = b""
try:
    # A refusing server may have closed already: what it sent is still read below.
    if sys.argv[3]:
        s.sendall(sys.argv[3].encode().decode("unicode_escape").encode("latin-1"))
except OSError:
    pass
s.settimeout(1)
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except (socket.timeout, ConnectionResetError):
    pass
sys.stdout.write(data.decode("latin-1"))
`;
  const out = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", script, source, String(port), request.replaceAll("\r\n", "\\r\\n")],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}
