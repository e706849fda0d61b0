/**
 * What a refusal by the ACL answers and records: Redis 7.0's -NOPERM texts for a client's
 * command, the texts a script's `redis.call` gets, and the ACL LOG entry of every refusal.
 */
import type { Command } from "../commands/registry.ts";
import { ErrorReply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import type { Acl } from "./acl.ts";
import { type Denial, DENIED_CHANNEL, DENIED_CMD, DENIED_KEY } from "./check.ts";
import type { LogContext } from "./log.ts";

const NOPERM_KEY = new ErrorReply(
  "NOPERM this user has no permissions to access one of the keys used as arguments",
);
const NOPERM_CHANNEL = new ErrorReply(
  "NOPERM this user has no permissions to access one of the channels used as arguments",
);

/** The -NOPERM reply to a refused command (Redis's processCommand texts). */
export function nopermReply(denial: Denial, cmd: Command): ErrorReply {
  if (denial.reason === DENIED_KEY) return NOPERM_KEY;
  if (denial.reason === DENIED_CHANNEL) return NOPERM_CHANNEL;
  return new ErrorReply(`NOPERM this user has no permissions to run the '${cmd.fullName}' command`);
}

/**
 * EXEC's reply for a queued command its user may no longer run (Redis's execCommand, when the
 * ACL changed between the queuing and the EXEC).
 */
export function execRefusal(denial: Denial): ErrorReply {
  const reason = denial.reason === DENIED_CMD
    ? "no permission to execute the command or subcommand"
    : denial.reason === DENIED_KEY
    ? "no permission to touch the specified keys"
    : "no permission to access one of the channels used as arguments";
  return new ErrorReply(
    "NOPERM ACLs rules changed between the moment the transaction was accumulated and the " +
      `EXEC call. This command is no longer allowed for the following reason: ${reason}`,
  );
}

/** The error a script's command refused by the ACL gets (Redis's scriptVerifyACL texts). */
export function scriptRefusalText(denial: Denial): string {
  if (denial.reason === DENIED_CMD) {
    return "ERR The user executing the script can't run this command or subcommand";
  }
  if (denial.reason === DENIED_KEY) {
    return "ERR The user executing the script can't access at least one of the keys mentioned " +
      "in the command arguments";
  }
  return "ERR The user executing the script can't publish to the channel mentioned in the command";
}

/** ACL DRYRUN's answer for a refusal (a bulk string, not an error). */
export function dryrunText(denial: Denial, cmd: Command, argv: readonly Uint8Array[]): string {
  if (denial.reason === DENIED_CMD) {
    return `This user has no permissions to run the '${cmd.fullName}' command`;
  }
  const what = denial.reason === DENIED_KEY ? "key" : "channel";
  return `This user has no permissions to access the '${
    toBinaryString(argv[denial.index])
  }' ${what}`;
}

/**
 * Records a refusal in the ACL LOG: `client` ran the command (its user is logged), `caller` is
 * the connection whose CLIENT INFO is kept (a script's caller).
 */
export function recordDenial(
  acl: Acl,
  denial: Denial,
  cmd: Command,
  argv: readonly Uint8Array[],
  client: ClientState,
  caller: ClientState,
  context: LogContext,
): void {
  const object = denial.reason === DENIED_CMD ? cmd.fullName : toBinaryString(argv[denial.index]);
  const at = now();
  acl.log.add({
    reason: denial.reason,
    context,
    object,
    username: client.user.name,
    time: at,
    clientInfo: caller.describe(at),
  }, acl.logMaxLen);
}
