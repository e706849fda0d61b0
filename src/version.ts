/** Version facts reported by `--version`, INFO and HELLO. */

/** gocache's own version (kept equal to deno.json's `version`). */
export const VERSION = "0.1.0";

/**
 * The Redis version gocache reports as `redis_version` and in HELLO, so that clients enable the
 * Redis 7 features (RESP3, CLIENT SETINFO, COMMAND DOCS) that gocache implements.
 */
export const REDIS_COMPAT_VERSION = "7.2.0";
