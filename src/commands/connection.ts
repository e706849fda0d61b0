/** Connection commands: PING, ECHO, QUIT, RESET, HELLO, AUTH. */
import { Args } from "./args.ts";
import type { ServerContext } from "./context.ts";
import { CommandError, WRONGPASS } from "./errors.ts";
import type { CommandDef } from "./registry.ts";
import { MapReply, OK, PONG, type Reply, SimpleString } from "../resp/reply.ts";
import { type ClientState, REPLY_OFF, REPLY_SKIP_NEXT } from "../server/client.ts";
import { asciiLower, toBinaryString, utf8 } from "../util/bytes.ts";
import { DENIED_AUTH } from "../acl/check.ts";
import { now } from "../util/clock.ts";
import { validateClientName } from "./client.ts";
import { unwatchAll } from "./transactions.ts";
import { subscriberPong } from "../pubsub/subscriber_mode.ts";
import { resetSubscriptions } from "../pubsub/hub.ts";

const RESET = new SimpleString("RESET");
const DEFAULT_USER = utf8("default");

/**
 * Authenticates `client` as `user` with `password` (AUTH, HELLO AUTH): on success the client runs
 * as that user; a failure is logged in the ACL LOG (reason `auth`) and false returned.
 */
function authenticate(
  ctx: ServerContext,
  client: ClientState,
  command: Uint8Array,
  user: Uint8Array,
  password: Uint8Array,
): boolean {
  const name = toBinaryString(user);
  const found = ctx.acl.authenticate(name, toBinaryString(password));
  if (found === null) {
    const at = now();
    ctx.acl.log.add({
      reason: DENIED_AUTH,
      context: client.multi !== null ? "multi" : "toplevel",
      object: toBinaryString(command),
      username: name,
      time: at,
      clientInfo: client.describe(at),
    }, ctx.acl.logMaxLen);
    return false;
  }
  client.authenticated = true;
  client.user = found;
  return true;
}

function ping(_ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  if (argv.length > 2) throw new CommandError("ERR wrong number of arguments for 'ping' command");
  const pong = subscriberPong(client, argv);
  if (pong !== null) return pong;
  return argv.length === 2 ? argv[1] : PONG;
}

function auth(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  if (argv.length > 3) throw new CommandError("ERR syntax error");
  // Redis keeps the old error for the one-argument form when the default user has no password;
  // the two-argument form goes to the ACL check, where `nopass` accepts any password.
  if (argv.length === 2 && ctx.acl.default.nopass) {
    throw new CommandError(
      "ERR AUTH <password> called without any password configured for the default user. " +
        "Are you sure your configuration is correct?",
    );
  }
  const user = argv.length === 3 ? argv[1] : DEFAULT_USER;
  return authenticate(ctx, client, argv[0], user, argv[argv.length - 1]) ? OK : WRONGPASS;
}

function hello(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const args = new Args(argv);
  let proto = client.proto;
  if (args.hasMore) {
    const ver = args.integer("ERR Protocol version is not an integer or out of range");
    if (ver < 2 || ver > 3) throw new CommandError("NOPROTO unsupported protocol version");
    proto = ver as 2 | 3;
  }
  // As in Redis 7.0, options are handled left to right: AUTH authenticates at once (and stays
  // authenticated even if a later option is refused), SETNAME is validated at once but applied
  // only when the whole command succeeds.
  let name: string | undefined;
  while (args.hasMore) {
    const raw = args.bytes();
    const option = asciiLower(raw);
    if (option === "auth" && args.remaining >= 2) {
      const user = args.bytes();
      if (!authenticate(ctx, client, argv[0], user, args.bytes())) return WRONGPASS;
    } else if (option === "setname" && args.remaining >= 1) {
      name = validateClientName(args.bytes());
    } else {
      throw new CommandError(`ERR Syntax error in HELLO option '${toBinaryString(raw)}'`);
    }
  }
  if (!client.authenticated) {
    throw new CommandError(
      "NOAUTH HELLO must be called with the client already authenticated, otherwise the " +
        "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and " +
        "select the RESP protocol version at the same time",
    );
  }
  if (name !== undefined) client.name = name;
  client.proto = proto;
  return new MapReply([
    "server",
    "gocache",
    "version",
    ctx.identity.redisVersion,
    "proto",
    proto,
    "id",
    client.id,
    "mode",
    "standalone",
    "role",
    "master",
    "modules",
    [],
  ]);
}

function reset(ctx: ServerContext, client: ClientState): Reply {
  resetSubscriptions(ctx, client);
  client.multi = null;
  unwatchAll(ctx, client);
  client.proto = 2;
  client.db = 0;
  client.name = "";
  client.noEvict = false;
  client.noTouch = false;
  // CLIENT REPLY OFF and a SKIP still to come end; a SKIP already in force silences RESET.
  client.replyFlags &= ~(REPLY_OFF | REPLY_SKIP_NEXT);
  client.monitor = false;
  ctx.observer.removeMonitor(client);
  client.user = ctx.acl.default;
  client.authenticated = ctx.acl.defaultAuthenticates;
  return RESET;
}

/** Connection command declarations. */
export const connectionCommands: readonly CommandDef[] = [
  {
    name: "ping",
    arity: -1,
    flags: ["fast", "sentinel"],
    group: "connection",
    summary: "Returns the server's liveliness response.",
    since: "1.0.0",
    complexity: "O(1)",
    handler: ping,
  },
  {
    name: "echo",
    arity: 2,
    flags: ["loading", "stale", "fast"],
    group: "connection",
    summary: "Returns the given string.",
    since: "1.0.0",
    complexity: "O(1)",
    handler: (_ctx, _client, argv) => argv[1],
  },
  {
    name: "quit",
    arity: -1,
    flags: ["allow_busy", "noscript", "loading", "stale", "fast", "no_auth"],
    group: "connection",
    summary: "Closes the connection.",
    since: "1.0.0",
    complexity: "O(1)",
    handler: (_ctx, client) => {
      client.closeAfterReply = true;
      return OK;
    },
  },
  {
    name: "reset",
    arity: 1,
    flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
    group: "connection",
    summary: "Resets the connection.",
    since: "6.2.0",
    complexity: "O(1)",
    handler: reset,
  },
  {
    name: "hello",
    arity: -1,
    flags: ["noscript", "loading", "stale", "fast", "no_auth", "sentinel", "allow_busy"],
    group: "connection",
    summary: "Handshakes with the Redis server.",
    since: "6.0.0",
    complexity: "O(1)",
    handler: hello,
  },
  {
    name: "auth",
    arity: -2,
    flags: ["noscript", "loading", "stale", "fast", "no_auth", "sentinel", "allow_busy"],
    group: "connection",
    summary: "Authenticates the connection.",
    since: "1.0.0",
    complexity: "O(N) where N is the number of passwords defined for the user",
    handler: auth,
  },
];
