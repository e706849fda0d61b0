/**
 * CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0, no reflection), the checksum Redis
 * Cluster hashes keys with. Table-driven, one table built at load.
 */

/** The CRC of each byte value, for callers that fold the CRC into their own loop. */
export const CRC16_TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[i] = crc & 0xffff;
  }
  return table;
})();

/** CRC16 (XMODEM) of `bytes[start, end)`, continuing from `crc` (0 to start afresh). */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length, crc = 0): number {
  for (let i = start; i < end; i++) {
    crc = ((crc << 8) & 0xff00) ^ CRC16_TABLE[((crc >> 8) ^ bytes[i]) & 0xff];
  }
  return crc;
}

/** CRC16 (XMODEM) of a binary string (one byte per character) between `start` and `end`. */
export function crc16Binary(text: string, start = 0, end = text.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc = ((crc << 8) & 0xff00) ^ CRC16_TABLE[((crc >> 8) ^ text.charCodeAt(i)) & 0xff];
  }
  return crc;
}
