/**
 * SHA-1 as scripts are named by it (EVALSHA, SCRIPT LOAD) and as `redis.sha1hex` returns it.
 * node:crypto's, like the ACL's SHA-256 (src/acl/user.ts): measured 1.0-1.4 us for a 120-byte
 * script against 7.4 us for a SHA-1 written in TypeScript.
 */
import { createHash } from "node:crypto";

/** The SHA-1 of `bytes` (any bytes) as 40 lower-case hex digits. */
export function sha1Hex(bytes: Uint8Array): string {
  return createHash("sha1").update(bytes).digest("hex");
}
