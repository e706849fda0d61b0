/** Protocol limits, with Redis's values, shared by the request parser and the config defaults. */

/** Longest inline command or length line accepted before `too big ... request` (64 KiB). */
export const INLINE_MAX_SIZE = 64 * 1024;
/** Largest multibulk element count (INT_MAX). */
export const MAX_MULTIBULK_LENGTH = 2147483647;
/** Default largest bulk argument (`proto-max-bulk-len`, 512 MiB). */
export const DEFAULT_MAX_BULK_LENGTH = 512 * 1024 * 1024;
/** Default query buffer limit per client (`client-query-buffer-limit`, 1 GiB). */
export const DEFAULT_QUERY_BUFFER_LIMIT = 1024 * 1024 * 1024;
/** Element count an unauthenticated client may send in one command. */
export const UNAUTHENTICATED_MULTIBULK_LIMIT = 10;
/** Bulk length an unauthenticated client may send. */
export const UNAUTHENTICATED_BULK_LIMIT = 16384;
