/**
 * Redis's RDB snapshot format (version 10, string values): a streaming writer, a streaming
 * reader, and the CRC-64 and LZF codecs they use. See writer.ts and reader.ts.
 */

export { Crc64, crc64 } from "./crc64.ts";
export { RdbError } from "./errors.ts";
export { RDB_VERSION } from "./format.ts";
export {
  LZF_MAX_EXPANSION,
  lzfCompress,
  lzfCompressInto,
  lzfDecompress,
  lzfDecompressInto,
  LzfError,
  lzfMaxCompressedLength,
} from "./lzf.ts";
export {
  type RdbHandler,
  type RdbSource,
  type RdbSummary,
  readRdb,
  type ReadRdbOptions,
} from "./reader.ts";
export { type RdbHeaderFields, type RdbSink, RdbWriter, type RdbWriterOptions } from "./writer.ts";
