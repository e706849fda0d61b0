/**
 * What ACL checks cost: SET and GET through redis-benchmark as the default user (allowed
 * everything: dispatch's one boolean test) and as a restricted user whose every command is
 * checked (command, key pattern), on gocache and on redis-server in one run.
 *
 *   deno task bench:acl [--requests 200000] [--rounds 3] [--gocache "CMD with {port}"]
 *
 * Both servers get the user `bench on >benchpw ~key:* ~counter* resetchannels +@all -@dangerous`.
 * Prints one line per server, test and mode, "ACL <server> <test> <mode> <default_rps>
 * <restricted_rps> <ratio>" (ratio = restricted/default, medians of the rounds, the two runs in
 * alternation); the goal is a ratio of at least 0.97 on gocache.
 */
import {
  benchOptions,
  cli,
  csvRps,
  failWith,
  median,
  redisBenchmark,
  requirePrograms,
  say,
  startPair,
} from "./_support.ts";

const USAGE = 'usage: deno task bench:acl [--requests 200000] [--rounds 3] [--gocache "CMD"]';

function fail(code: number, message: string): never {
  return failWith("bench/acl.ts", code, message);
}

const options = benchOptions("bench/acl.ts", USAGE, { requests: 200000, rounds: 3 });
const REQUESTS = options.numbers.requests;
const ROUNDS = options.numbers.rounds;
requirePrograms("bench/acl.ts", ["redis-server", "redis-cli", "redis-benchmark"]);

const USER_RULES = [
  "bench",
  "on",
  ">benchpw",
  "~key:*",
  "~counter*",
  "resetchannels",
  "+@all",
  "-@dangerous",
];

/** redis-benchmark's requests per second for `test`, as `user` when given. */
async function rps(
  port: number,
  test: string,
  pipeline: number,
  n: number,
  user: string | null,
): Promise<number> {
  const out = await redisBenchmark(port, pipeline, n, [
    ...(user === null ? [] : ["--user", user, "-a", "benchpw"]),
    "-t",
    test,
    "-d",
    "32",
  ]);
  const value = csvRps(out, test);
  if (!Number.isFinite(value)) fail(1, `redis-benchmark on port ${port} reported:\n${out}`);
  return value;
}

const pair = await startPair("bench-acl", "", options.gocache).catch((e) =>
  fail(1, (e as Error).message)
);
try {
  for (const server of [pair.redis, pair.gocache]) {
    const answer = (await cli(server.port, "ACL", "SETUSER", ...USER_RULES)).trim();
    if (answer !== "OK") fail(1, `ACL SETUSER on port ${server.port} answered ${answer}`);
  }
  for (const [name, server] of [["redis", pair.redis], ["gocache", pair.gocache]] as const) {
    for (const test of ["set", "get"]) {
      for (const pipeline of [16, 1]) {
        const n = pipeline === 1 ? Math.max(1, Math.floor(REQUESTS / 4)) : REQUESTS;
        const open: number[] = [];
        const restricted: number[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          open.push(await rps(server.port, test, pipeline, n, null));
          restricted.push(await rps(server.port, test, pipeline, n, "bench"));
        }
        say(
          `ACL ${name} ${test} P${pipeline} ${median(open).toFixed(0)} ` +
            `${median(restricted).toFixed(0)} ${(median(restricted) / median(open)).toFixed(2)}`,
        );
      }
    }
  }
} catch (e) {
  await pair.stop();
  fail(1, (e as Error).message);
}
await pair.stop();
