/**
 * SHA-1 over raw bytes, synchronous: EVAL names scripts by the SHA-1 of their body and
 * `redis.sha1hex` hashes binary strings inside a running script, where WebCrypto's
 * asynchronous digest cannot be awaited.
 */

/** The lowercase hex SHA-1 digest of `bytes` (40 characters), as Redis's `sha1hex`. */
export function sha1Hex(bytes: Uint8Array): string {
  const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
  const words = new Int32Array(80);
  const padded = padMessage(bytes);
  const view = new DataView(padded.buffer);
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let i = 0; i < 16; i++) words[i] = view.getInt32(offset + i * 4);
    for (let i = 16; i < 80; i++) {
      words[i] = rotl(words[i - 3] ^ words[i - 8] ^ words[i - 14] ^ words[i - 16], 1);
    }
    compress(h, words);
  }
  return h.map((v) => (v >>> 0).toString(16).padStart(8, "0")).join("");
}

/** The message followed by 0x80, zeros, and its bit length as a 64-bit big-endian number. */
function padMessage(bytes: Uint8Array): Uint8Array {
  const length = Math.ceil((bytes.length + 9) / 64) * 64;
  const out = new Uint8Array(length);
  out.set(bytes);
  out[bytes.length] = 0x80;
  const view = new DataView(out.buffer);
  const bits = bytes.length * 8;
  view.setUint32(length - 8, Math.floor(bits / 0x100000000));
  view.setUint32(length - 4, bits >>> 0);
  return out;
}

/** One 512-bit block's 80 rounds, folded into the state `h`. */
function compress(h: number[], w: Int32Array): void {
  let [a, b, c, d, e] = h;
  for (let i = 0; i < 80; i++) {
    let f: number;
    let k: number;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5a827999;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ed9eba1;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8f1bbcdc;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6;
    }
    const t = (rotl(a, 5) + f + e + k + w[i]) | 0;
    e = d;
    d = c;
    c = rotl(b, 30);
    b = a;
    a = t;
  }
  h[0] = (h[0] + a) | 0;
  h[1] = (h[1] + b) | 0;
  h[2] = (h[2] + c) | 0;
  h[3] = (h[3] + d) | 0;
  h[4] = (h[4] + e) | 0;
}

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}
