/**
 * Reply values as a client receives them, for tests that run handlers in process: a reply that
 * views the store's bytes (BytesRangeReply, which GET gives when its reply is encoded at once)
 * becomes the binary string it stands for, read right away as the encoder would.
 */
import { BytesRangeReply, type Reply } from "../../src/resp/reply.ts";
import { toBinaryString } from "../../src/util/bytes.ts";

/** `reply` with every BytesRangeReply in it (in arrays too) read into its binary string. */
export function readNow(reply: Reply): Reply {
  if (reply instanceof BytesRangeReply) {
    return toBinaryString(reply.bytes, reply.start, reply.end);
  }
  if (Array.isArray(reply)) return reply.map(readNow);
  return reply;
}
