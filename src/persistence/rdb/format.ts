/**
 * Constants of Redis's RDB file format (Redis's `rdb.h`), shared by the reader and the writer:
 * the magic, the version gocache writes, opcodes, value types and string encodings.
 */

/** The RDB version redis-server 7.0 writes and gocache writes; the newest the reader accepts. */
export const RDB_VERSION = 10;

/** The oldest RDB version the reader accepts. */
export const RDB_MIN_VERSION = 1;

/** Versions from this one on end with an 8-byte CRC-64 trailer. */
export const RDB_CHECKSUM_SINCE_VERSION = 5;

/** Length of the file header: `REDIS` and four decimal digits of version. */
export const RDB_MAGIC_LENGTH = 9;

/** Opcode: a function library, pre-release encoding (Redis 7.0 release candidates). */
export const OP_FUNCTION_PRE_GA = 0xf6;
/** Opcode: a function library (Redis 7.0 and later). */
export const OP_FUNCTION2 = 0xf5;
/** Opcode: auxiliary data of a module. */
export const OP_MODULE_AUX = 0xf7;
/** Opcode: the next key's LRU idle time, in seconds (a length). */
export const OP_IDLE = 0xf8;
/** Opcode: the next key's LFU frequency (one byte). */
export const OP_FREQ = 0xf9;
/** Opcode: an auxiliary field, two strings. */
export const OP_AUX = 0xfa;
/** Opcode: the sizes of the selected database's main and expires tables (two lengths). */
export const OP_RESIZEDB = 0xfb;
/** Opcode: the next key's expire time, 8-byte little-endian milliseconds. */
export const OP_EXPIRETIME_MS = 0xfc;
/** Opcode: the next key's expire time, 4-byte little-endian seconds (old files). */
export const OP_EXPIRETIME = 0xfd;
/** Opcode: switch to a database (a length). */
export const OP_SELECTDB = 0xfe;
/** Opcode: end of the data; the checksum follows from version 5 on. */
export const OP_EOF = 0xff;

/** Value type of a string. */
export const TYPE_STRING = 0;
/** Value type of a list as a plain sequence of strings (what gocache writes for lists). */
export const TYPE_LIST = 1;
/** Value type of a set as a plain sequence of strings (what gocache writes for sets). */
export const TYPE_SET = 2;
/** Value type of a sorted set with scores as decimal text (RDB before version 8). */
export const TYPE_ZSET = 3;
/** Value type of a hash as a plain sequence of fields and values (what gocache writes). */
export const TYPE_HASH = 4;
/** Value type of a sorted set with binary double scores (what gocache writes). */
export const TYPE_ZSET_2 = 5;
/** Value type of a hash as a zipmap blob (Redis before 2.6). */
export const TYPE_HASH_ZIPMAP = 9;
/** Value type of a list as a ziplist blob (Redis before 3.2). */
export const TYPE_LIST_ZIPLIST = 10;
/** Value type of a set of integers as an intset blob. */
export const TYPE_SET_INTSET = 11;
/** Value type of a sorted set as a ziplist blob (Redis before 7.0). */
export const TYPE_ZSET_ZIPLIST = 12;
/** Value type of a hash as a ziplist blob (Redis before 7.0). */
export const TYPE_HASH_ZIPLIST = 13;
/** Value type of a list as a quicklist of ziplist blobs (Redis 3.2 to 6.2). */
export const TYPE_LIST_QUICKLIST = 14;
/** Value type of a hash as a listpack blob (Redis 7.0). */
export const TYPE_HASH_LISTPACK = 16;
/** Value type of a sorted set as a listpack blob (Redis 7.0). */
export const TYPE_ZSET_LISTPACK = 17;
/** Value type of a list as a quicklist of listpack or plain nodes (Redis 7.0). */
export const TYPE_LIST_QUICKLIST_2 = 18;
/** Quicklist 2 node container: one element stored as it is. */
export const QUICKLIST_NODE_PLAIN = 1;
/** Quicklist 2 node container: a listpack of elements. */
export const QUICKLIST_NODE_PACKED = 2;

/** Names of the value types Redis defines, indexed by type number, for error messages. */
export const TYPE_NAMES: readonly string[] = [
  "string",
  "list",
  "set",
  "zset",
  "hash",
  "zset-2",
  "module-pre-ga",
  "module-2",
  "(unused)",
  "hash-zipmap",
  "list-ziplist",
  "set-intset",
  "zset-ziplist",
  "hash-ziplist",
  "list-quicklist",
  "stream-listpacks",
  "hash-listpack",
  "zset-listpack",
  "list-quicklist-2",
  "stream-listpacks-2",
  "set-listpack",
  "stream-listpacks-3",
];

/** Length prefix `10000000`: a 32-bit big-endian length follows. */
export const LEN_32BIT = 0x80;
/** Length prefix `10000001`: a 64-bit big-endian length follows. */
export const LEN_64BIT = 0x81;

/** String encoding byte: an 8-bit signed integer follows. */
export const ENC_INT8 = 0xc0;
/** String encoding byte: a 16-bit little-endian signed integer follows. */
export const ENC_INT16 = 0xc1;
/** String encoding byte: a 32-bit little-endian signed integer follows. */
export const ENC_INT32 = 0xc2;
/** String encoding byte: LZF data follows (compressed length, original length, data). */
export const ENC_LZF = 0xc3;

/** Strings up to this length are tried as integers, as Redis's `rdbTryIntegerEncoding`. */
export const INT_ENCODING_MAX_LENGTH = 11;

/** Strings longer than this are tried with LZF, as Redis's `rdbSaveRawString`. */
export const LZF_MIN_LENGTH = 20;

/** The "no expire time" value of the reader's and writer's `expireAtMs`. */
export const NO_EXPIRE = -1;
