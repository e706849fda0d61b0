/**
 * CRC-64 as Redis computes it for the RDB trailer (Redis's `crc64.c`): the Jones polynomial
 * 0xad93d23594c935a9, reflected input and output, initial value 0, no final xor
 * (`crc64("123456789") === 0xe9c6d914c4b8d9ca`).
 *
 * Snapshots can be gigabytes, so the hot loop avoids BigInt: the 64-bit register is kept as two
 * 32-bit halves and the input is consumed eight bytes at a time with slice-by-8 tables (as
 * Redis's `crcspeed.c`), read as aligned 32-bit words. Measured on the development machine
 * (Deno 2.9.6, x86-64, 64 MiB in 64 KiB updates): 1200-1500 MB/s; the same tables fed by byte
 * loads reach about 750 MB/s.
 */

/** The reflected Jones polynomial (0xad93d23594c935a9 bit-reversed), as two 32-bit halves. */
const POLY_LO = 0xac4bc9b5;
const POLY_HI = 0x95ac9329;

/** Slice-by-8 tables: table k at offset k * 256, low and high halves kept apart. */
const TABLE_LO = new Int32Array(8 * 256);
const TABLE_HI = new Int32Array(8 * 256);

function buildTables(): void {
  for (let n = 0; n < 256; n++) {
    let lo = n;
    let hi = 0;
    for (let bit = 0; bit < 8; bit++) {
      const carry = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (carry) {
        lo = (lo ^ POLY_LO) >>> 0;
        hi = (hi ^ POLY_HI) >>> 0;
      }
    }
    TABLE_LO[n] = lo;
    TABLE_HI[n] = hi;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const prevLo = TABLE_LO[(k - 1) * 256 + n];
      const prevHi = TABLE_HI[(k - 1) * 256 + n];
      const index = prevLo & 0xff;
      TABLE_LO[k * 256 + n] = (((prevLo >>> 8) | (prevHi << 24)) ^ TABLE_LO[index]) >>> 0;
      TABLE_HI[k * 256 + n] = ((prevHi >>> 8) ^ TABLE_HI[index]) >>> 0;
    }
  }
}
buildTables();

/** Whether this platform stores integers little-endian, so that word reads match byte order. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Below this many bytes the word view is not worth creating. */
const WORD_PATH_MIN = 64;

/** Reused result pair of {@link sliceBy8}, so the hot loop allocates nothing. */
const STATE = new Int32Array(2);

/** Consumes `words` (pairs of little-endian 32-bit words) from state (lo, hi) into STATE. */
function sliceBy8(words: Int32Array, lo: number, hi: number): Int32Array {
  const tl = TABLE_LO;
  const th = TABLE_HI;
  const n = words.length;
  for (let w = 0; w < n; w += 2) {
    const a = lo ^ words[w];
    const b = hi ^ words[w + 1];
    const i7 = 1792 + (a & 0xff);
    const i6 = 1536 + ((a >>> 8) & 0xff);
    const i5 = 1280 + ((a >>> 16) & 0xff);
    const i4 = 1024 + (a >>> 24);
    const i3 = 768 + (b & 0xff);
    const i2 = 512 + ((b >>> 8) & 0xff);
    const i1 = 256 + ((b >>> 16) & 0xff);
    const i0 = b >>> 24;
    lo = tl[i7] ^ tl[i6] ^ tl[i5] ^ tl[i4] ^ tl[i3] ^ tl[i2] ^ tl[i1] ^ tl[i0];
    hi = th[i7] ^ th[i6] ^ th[i5] ^ th[i4] ^ th[i3] ^ th[i2] ^ th[i1] ^ th[i0];
  }
  STATE[0] = lo;
  STATE[1] = hi;
  return STATE;
}

/**
 * An incremental CRC-64 (Redis's variant). Feed the data in any number of chunks with
 * {@link update}; read the result with {@link value}, {@link hex} or {@link equalsBytesLE}.
 */
export class Crc64 {
  #lo = 0;
  #hi = 0;

  /** Adds `data[start, end)` to the checksum and returns `this` for chaining. */
  update(data: Uint8Array, start = 0, end = data.length): this {
    let lo = this.#lo;
    let hi = this.#hi;
    let i = start;
    if (LITTLE_ENDIAN && end - start >= WORD_PATH_MIN) {
      // Reach a 4-byte boundary, then read aligned 32-bit words (2x faster than byte loads).
      while (((data.byteOffset + i) & 3) !== 0) {
        const index = (lo ^ data[i]) & 0xff;
        lo = ((lo >>> 8) | (hi << 24)) ^ TABLE_LO[index];
        hi = (hi >>> 8) ^ TABLE_HI[index];
        i++;
      }
      const pairs = (end - i) >>> 3;
      const words = new Int32Array(data.buffer, data.byteOffset + i, pairs * 2);
      const state = sliceBy8(words, lo, hi);
      lo = state[0];
      hi = state[1];
      i += pairs * 8;
    }
    while (i < end) {
      const index = (lo ^ data[i]) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ TABLE_LO[index];
      hi = (hi >>> 8) ^ TABLE_HI[index];
      i++;
    }
    this.#lo = lo >>> 0;
    this.#hi = hi >>> 0;
    return this;
  }

  /** The low 32 bits of the checksum so far. */
  get lo(): number {
    return this.#lo;
  }

  /** The high 32 bits of the checksum so far. */
  get hi(): number {
    return this.#hi;
  }

  /** The checksum so far as a 64-bit unsigned BigInt (for display and tests, not hot paths). */
  value(): bigint {
    return (BigInt(this.#hi) << 32n) | BigInt(this.#lo);
  }

  /** The checksum so far as 16 lower-case hex digits, as error messages show it. */
  hex(): string {
    return this.#hi.toString(16).padStart(8, "0") + this.#lo.toString(16).padStart(8, "0");
  }

  /** The checksum so far as the 8 little-endian bytes the RDB trailer stores. */
  toBytesLE(): Uint8Array {
    const out = new Uint8Array(8);
    this.writeLE(out, 0);
    return out;
  }

  /** Writes the checksum as the 8 little-endian bytes the RDB trailer stores at `offset`. */
  writeLE(out: Uint8Array, offset: number): void {
    writeUint32LE(out, offset, this.#lo);
    writeUint32LE(out, offset + 4, this.#hi);
  }

  /** Whether `bytes[offset, offset + 8)` holds this checksum in little-endian order. */
  equalsBytesLE(bytes: Uint8Array, offset = 0): boolean {
    return readUint32LE(bytes, offset) === this.#lo && readUint32LE(bytes, offset + 4) === this.#hi;
  }
}

/** The CRC-64 (Redis's variant) of `data` in one call, as an unsigned BigInt. */
export function crc64(data: Uint8Array): bigint {
  return new Crc64().update(data).value();
}

function writeUint32LE(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value & 0xff;
  out[offset + 1] = (value >>> 8) & 0xff;
  out[offset + 2] = (value >>> 16) & 0xff;
  out[offset + 3] = value >>> 24;
}

function readUint32LE(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) |
    (bytes[offset + 3] << 24)) >>> 0;
}
