/**
 * EVAL, EVALSHA, their _RO forms, SCRIPT, FUNCTION and FCALL against redis-server 7.0: Lua to
 * RESP2 and RESP3 conversions both ways, redis.* helpers, the sandbox and its error texts, the
 * libraries scripts rely on (cjson, cmsgpack, bit, struct), shebang flags, argument errors,
 * function libraries, and the command table's declarations.
 */
import assert from "node:assert/strict";
import { encodeCommand } from "../../src/resp/reply_decoder.ts";
import {
  type Arg,
  assertSameCommandInfo,
  type ConnPair,
  itemsOf,
  type Normalize,
  script,
  type Shape,
  showBytes,
  stepsFromEmpty,
  textOf,
  withBoth,
} from "./_diff.ts";

/** Runs the same commands in RESP2 and, after HELLO 3, in RESP3. */
async function bothProtocols(c: ConnPair, commands: Arg[][]): Promise<void> {
  await script(c, commands);
  await c.call("HELLO", "3");
  await script(c, commands);
  await c.call("HELLO", "2");
}

/**
 * FUNCTION LIST's reply with each library's functions sorted by name: Redis lists them in its
 * dict's order (the command's `nondeterministic_output_order` tip), gocache in load order.
 */
const sortedFunctions: Normalize = (shape) => {
  if (shape.type !== "array") return shape;
  const libraries = shape.items.map((library): Shape => {
    if (library.type !== "array" && library.type !== "map") return library;
    const sortItems = (value: Shape): Shape =>
      value.type === "array"
        ? {
          type: "array",
          items: [...value.items].sort((a, b) => nameOf(a).localeCompare(nameOf(b))),
        }
        : value;
    if (library.type === "map") {
      return {
        type: "map",
        entries: library.entries.map(([k, v]) => [k, textOf(k) === "functions" ? sortItems(v) : v]),
      };
    }
    const items = [...library.items];
    for (let i = 0; i + 1 < items.length; i += 2) {
      if (textOf(items[i]) === "functions") items[i + 1] = sortItems(items[i + 1]);
    }
    return { type: "array", items };
  });
  return { type: "array", items: libraries };
};

/** The `name` field of one FUNCTION LIST function entry. */
function nameOf(fn: Shape): string {
  if (fn.type === "map") {
    const entry = fn.entries.find(([k]) => textOf(k) === "name");
    return entry === undefined ? "" : textOf(entry[1]);
  }
  const items = itemsOf(fn);
  const at = items.findIndex((item) => textOf(item) === "name");
  return at < 0 ? "" : textOf(items[at + 1]);
}

/** EVAL of `body` with no keys nor arguments. */
function ev(body: string, ...rest: Arg[]): Arg[] {
  return ["EVAL", body, rest.length === 0 ? 0 : rest[0], ...rest.slice(1)];
}

Deno.test("scripting answers like redis-server", async (t) => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();
    const step = stepsFromEmpty(t, c);

    await step("COMMAND INFO and GETKEYS of the scripting commands agree", async () => {
      const names = [
        "eval",
        "evalsha",
        "eval_ro",
        "evalsha_ro",
        "fcall",
        "fcall_ro",
        "script|load",
        "script|exists",
        "script|flush",
        "script|kill",
        "script|help",
        "function|load",
        "function|delete",
        "function|flush",
        "function|list",
        "function|stats",
        "function|kill",
        "function|help",
        "function|dump",
        "function|restore",
      ];
      await assertSameCommandInfo(c, names);
      await script(c, [
        ["COMMAND", "GETKEYS", "EVAL", "return 1", "2", "a", "b", "c"],
        ["COMMAND", "GETKEYS", "EVALSHA_RO", "x", "1", "a"],
        ["COMMAND", "GETKEYS", "FCALL", "f", "1", "k", "arg"],
      ]);
    });

    await step("Lua values become replies as in Redis 7.0, RESP2 and RESP3", async () => {
      await bothProtocols(c, [
        ev("return 1"),
        ev("return -7"),
        ev("return 3.99"),
        ev("return -3.99"),
        ev("return 10/2"),
        ev("return 'text'"),
        ev("return ''"),
        ev("return true"),
        ev("return false"),
        ev("return nil"),
        ev("return {1, 2.5, 'x', true, false, {3, {4}}}"),
        ev("return {1, nil, 3}"),
        ev("return {}"),
        ev("return {ok='fine'}"),
        ev("return {err='My Error'}"),
        ev("return {err='ERR typed'}"),
        ev("return redis.status_reply('STATUS')"),
        ev("return redis.error_reply('oops')"),
        ev("return redis.error_reply('WRONGTYPE shaped')"),
        ev("return {double=3.5}"),
        ev("return {double='2'}"),
        ev("return {map={field='value'}}"),
        ev("return {set={member=true}}"),
        ev("return {big_number='123456789012345678901234567890'}"),
        ev("return {verbatim_string={format='txt', string='plain text'}}"),
        ev("redis.setresp(3); return true"),
        ev("redis.setresp(3); return false"),
        ev("return {1, {ok='nested'}, {err='nested error'}}"),
        ev("return 2^53"),
        ev("return 1e20"),
      ]);
    });

    await step("command replies become Lua values by the script's protocol", async () => {
      await script(c, [
        ["HSET", "h", "f", "v"],
        ["SADD", "s", "m"],
        ["ZADD", "z", "1.5", "a"],
        ["SET", "str", "value"],
        ["RPUSH", "l", "a", "b", "c"],
      ]);
      await bothProtocols(c, [
        ev("return redis.call('hgetall', 'h')"),
        ev("redis.setresp(3); return redis.call('hgetall', 'h').map.f"),
        ev("return redis.call('smembers', 's')"),
        ev("redis.setresp(3); local r = redis.call('smembers', 's'); return r.set.m"),
        ev("return redis.call('zscore', 'z', 'a')"),
        ev("redis.setresp(3); return redis.call('zscore', 'z', 'a').double"),
        ev("return redis.call('get', 'missing')"),
        ev("redis.setresp(3); return redis.call('get', 'missing') == nil"),
        ev("return redis.call('ping')"),
        ev("return redis.call('ping').ok"),
        ev("return redis.call('lrange', 'l', 0, -1)"),
        ev("return redis.call('exists', 'str', 'h', 'nope')"),
        ev("return type(redis.call('get', 'missing'))"),
        ev("return redis.call('zrange', 'z', 0, -1, 'withscores')"),
        ev("redis.setresp(3); return redis.call('zrange', 'z', 0, -1, 'withscores')"),
        ev("return redis.call('incrbyfloat', 'num', '1.5')"),
        ev("return redis.call('set', 'k', 'v', 'get')"),
        ev("return redis.call('blpop', 'empty-list', 0)"),
        ev("return redis.pcall('incr', 'str')"),
        ev("return redis.pcall('incr', 'str').err"),
        ev("return type(redis.pcall('nosuchcommand'))"),
      ]);
    });

    await step("binary keys and arguments round-trip", async () => {
      const all = new Uint8Array(256).map((_, i) => i);
      await script(c, [
        ["EVAL", "return {KEYS[1], ARGV[1], #ARGV[1]}", "1", all, all],
        [
          "EVAL",
          "redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[1])",
          "1",
          "\x00k\xff",
          "\r\n\x00",
        ],
        ["EVAL", "return string.len(ARGV[1]) .. ':' .. ARGV[2]", "0", "\x00\x00\x00", "\xc3\x28"],
        ["EVAL", "return redis.call('set', 'n', 42.5)", "0"],
        ["GET", "n"],
        ["EVAL", "return redis.call('set', 'n', 7)", "0"],
        ["GET", "n"],
      ]);
    });

    await step("errors raised by scripts and by redis.call", async () => {
      await script(c, [
        ["SET", "s", "v"],
        ev("return redis.call('incr', 's')"),
        ev("return redis.call('lpush', 's', 'x')"),
        ev("return redis.call('nosuchcommand')"),
        ev("return redis.call('get')"),
        ev("return redis.call('multi')"),
        ev("return redis.call('eval', 'return 1', 0)"),
        ev("return redis.call()"),
        ev("return redis.call({})"),
        ev("return redis.call('get', {})"),
        ev("error('boom')"),
        ev("error({err='TABLE err'})"),
        ev("error({err='ERR typed table'})"),
        ev("error()"),
        ev("local t = nil; return t.x"),
        ev("return x"),
        ev("x = 1"),
        ev("return {1,2"),
        ev("return 1 +"),
        ev("return redis.call('select', 1)"),
        ev("return redis.call('get', 's')"),
        ["GET", "s"],
        ev("return pcall(error, 'caught')"),
        ev("local ok, e = pcall(redis.call, 'incr', 's'); return e.err"),
        ev("return redis.log(redis.LOG_WARNING, 'from a script')"),
        ev("return redis.log(42, 'bad level')"),
      ]);
    });

    await step(
      "bad input: cyclic and deep tables, huge key counts, the busy threshold's names",
      async () => {
        const keys = Array.from({ length: 20000 }, (_, i) => `key:${i}`);
        // Both servers nest arrays, then the stack-limit error: redis-server 7995 levels deep,
        // gocache 1000 (see MAX_REPLY_DEPTH). Compared as bytes: too deep for a decoder.
        for (
          const body of [
            "local t = {} t[1] = t return t",
            "local t = {} local c = t for i = 1, 10000 do c[1] = {} c = c[1] end return t",
          ]
        ) {
          const { redis, gocache } = await both.rawBoth(encodeCommand(ev(body)), { marker: true });
          const deepest = { redis: 7995, gocache: 1000 };
          for (const [side, raw] of [["redis", redis], ["gocache", gocache]] as const) {
            assert.equal(raw.closed, false, `${side} stays up`);
            const reply = showBytes(
              new TextEncoder().encode(
                "*1\r\n".repeat(deepest[side]) + "-ERR reached lua stack limit\r\n",
              ),
            );
            assert.ok(raw.bytes.startsWith(reply), `${side}: ${raw.bytes.slice(-80)}`);
          }
        }
        await script(c, [
          ev("local t = {} local c = t for i = 1, 100 do c[1] = {i} c = c[1] end return #t"),
          ["EVAL", "return #KEYS .. ' ' .. KEYS[20000]", String(keys.length), ...keys],
          ["EVAL", "return #KEYS", "99999999999", "a"],
          ["EVAL", "return #KEYS", "9223372036854775808", "a"],
          ev("return string.rep('x', 1024 * 1024):len()"),
          ev("local s = 0 for i = 1, 1000000 do s = s + i end return s"),
          ["CONFIG", "GET", "lua-time-limit"],
          ["CONFIG", "SET", "lua-time-limit", "4000"],
          ["CONFIG", "GET", "busy-reply-threshold"],
          ["CONFIG", "GET", "*time-limit"],
          ["CONFIG", "SET", "busy-reply-threshold", "5000"],
          ["CONFIG", "GET", "lua-time-limit"],
        ]);
      },
    );

    await step("the sandbox: removed libraries, protected globals, 5.1 helpers", async () => {
      await script(c, [
        ev("return type(os)"),
        ev("return type(io)"),
        ev("return type(loadfile)"),
        ev("return type(dofile)"),
        ev("return type(require)"),
        ev("return type(print)"),
        ev("return type(unpack)"),
        ev("return type(loadstring)"),
        ev("return type(string.gfind)"),
        ev("return unpack({1, 2, 3})"),
        ev("return {unpack({1, 2, 3})}"),
        ev("return table.getn({1, 2, 3})"),
        ev("return loadstring('return 7')()"),
        ev("return math.pow(2, 10)"),
        ev("return tostring(10/2)"),
        ev("return tostring(3)"),
        ev("return tostring(0.1)"),
        ev("return tostring(1e100)"),
        ev("return string.format('%d', 2^40)"),
        ev("return string.format('%.3f', 1/3)"),
        ev("return string.rep('ab', 3)"),
        ev("return #KEYS + #ARGV"),
        ev("return math.floor(7.9)"),
        ev("return select('#', 1, 2, 3)"),
        ev("local t = {3, 1, 2}; table.sort(t); return t"),
        ev("return table.concat({'a', 'b', 'c'}, '-')"),
        ev("return string.byte('A')"),
        ev("return string.char(72, 105)"),
        ev("return ('x'):upper()"),
        ev("local s = 0; for i = 1, 100 do s = s + i end; return s"),
      ]);
    });

    await step("redis.sha1hex, cjson, cmsgpack, bit and struct", async () => {
      await script(c, [
        ev("return redis.sha1hex('')"),
        ev("return redis.sha1hex('abc')"),
        ev("return redis.sha1hex(ARGV[1])", 0, "\x00\xff"),
        ev("return cjson.encode({1, 2, 3})"),
        ev("return cjson.encode({a = 1})"),
        ev("return cjson.encode({})"),
        ev("return cjson.encode('a\"b\\\\c')"),
        ev("return cjson.encode({1.5, true, false})"),
        ev('return cjson.decode(\'[1,2,{"a":"b"}]\')[3].a'),
        ev("return cjson.decode('{\"n\":12.5}').n"),
        ev("return cjson.decode('[1,2,3]')"),
        ev("return type(cjson.decode('null'))"),
        ev("return cjson.decode('not json')"),
        ev("return cmsgpack.pack({1, 2, 3})"),
        ev("return cmsgpack.pack('text')"),
        ev("return cmsgpack.pack(1, -1, 300, 70000, -70000, 2^40)"),
        ev("return cmsgpack.unpack(cmsgpack.pack({1, 'two', {3}}))"),
        ev("return cmsgpack.pack({a = 1})"),
        ev("return cmsgpack.pack(1.5)"),
        ev("return bit.band(12, 10)"),
        ev("return bit.bor(12, 10)"),
        ev("return bit.bxor(12, 10)"),
        ev("return bit.bnot(0)"),
        ev("return bit.lshift(1, 10)"),
        ev("return bit.rshift(-1, 28)"),
        ev("return bit.arshift(-256, 4)"),
        ev("return bit.tohex(255)"),
        ev("return bit.tohex(-1, -4)"),
        ev("return bit.tobit(2^32 + 5)"),
        ev("return struct.pack('>I2', 258)"),
        ev("return struct.pack('<i4', -2)"),
        ev("return {struct.unpack('>I2', ARGV[1])}", 0, "\x01\x02"),
        ev("return struct.size('>I2i4')"),
        ev("return struct.pack('s', 'zero-terminated')"),
      ]);
    });

    await step("EVALSHA, SCRIPT LOAD, EXISTS, FLUSH and argument errors", async () => {
      await script(c, [
        ["SCRIPT", "LOAD", "return 'loaded'"],
        ["EVALSHA", "1bfa8c3bff4a24a6de3f5e1c20fc6ef9ed16a6df", "0"],
        ["EVALSHA", "1BFA8C3BFF4A24A6DE3F5E1C20FC6EF9ED16A6DF", "0"],
        ["SCRIPT", "EXISTS", "1bfa8c3bff4a24a6de3f5e1c20fc6ef9ed16a6df", "nope"],
        ["EVAL", "return 1", "-1"],
        ["EVAL", "return 1", "2", "a"],
        ["EVAL", "return 1", "x"],
        ["EVALSHA", "0123456789012345678901234567890123456789", "0"],
        ["EVALSHA", "short", "0"],
        ["EVALSHA", "short", "x"],
        ["SCRIPT", "LOAD", "return {1"],
        ["SCRIPT", "FLUSH", "SYNC"],
        ["SCRIPT", "FLUSH", "bad"],
        ["SCRIPT", "FLUSH", "async"],
        ["SCRIPT", "EXISTS", "1bfa8c3bff4a24a6de3f5e1c20fc6ef9ed16a6df"],
        ["SCRIPT", "KILL"],
        ["SCRIPT", "HELP"],
        ["SCRIPT", "NOPE"],
        ["EVAL", "return 1"],
      ]);
    });

    await step("out of memory: the script's flags and its first write decide", async () => {
      await script(c, [
        ["SET", "before", "1"],
        ["CONFIG", "SET", "maxmemory-policy", "noeviction"],
        ["CONFIG", "SET", "maxmemory", "1"],
        ev("return redis.call('set', 'a', 'b')"),
        ev("return redis.call('get', 'before')"),
        ev("#!lua\nreturn 1"),
        ev("#!lua flags=no-writes\nreturn redis.call('get', 'before')"),
        ev("#!lua flags=allow-oom\nreturn redis.call('set', 'a', 'b')"),
        ["CONFIG", "SET", "maxmemory", "0"],
        ev("#!lua\nreturn redis.call('set', 'c', 'd')"),
      ]);
    });

    await step("shebang flags and read-only scripts", async () => {
      await script(c, [
        ev("#!lua flags=no-writes\nreturn redis.call('set', 'a', 'b')"),
        ev("#!lua flags=no-writes\nreturn redis.call('get', 'a')"),
        ev("#!lua\nreturn redis.call('set', 'a', 'b')"),
        ev("#!lua flags=bogus\nreturn 1"),
        ev("#!lua flags=no-writes,,allow-oom\nreturn 1"),
        ev("#!lua  flags=no-writes\nreturn 1"),
        ev("#!lua flags=\nreturn 1"),
        ev("#!lua name=x\nreturn 1"),
        ev("#!python\nreturn 1"),
        ev("#!lua"),
        ev("#!lua\nreturn x"),
        ["EVAL_RO", "return redis.call('set', 'a', 'b')", "0"],
        ["EVAL_RO", "return redis.call('get', 'a')", "0"],
        ["EVAL_RO", "#!lua\nreturn 1", "0"],
        ["EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0"],
        ["EVAL_RO", "return redis.call('publish', 'ch', 'm')", "0"],
      ]);
    });

    await step("FUNCTION LOAD, FCALL, LIST, DELETE, FLUSH and their errors", async () => {
      const lib = "#!lua name=mylib\n" +
        "redis.register_function('echo', function(keys, args) return args[1] end)\n" +
        "redis.register_function{function_name='ro_get', callback=function(keys, args) " +
        "return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}\n" +
        "redis.register_function('setter', function(keys, args) " +
        "return redis.call('set', keys[1], args[1]) end)";
      await script(c, [
        ["FUNCTION", "LOAD", lib],
        ["FUNCTION", "LOAD", lib],
        ["FCALL", "echo", "0", "hello"],
        ["FCALL", "ECHO", "0", "hello"],
        ["FCALL", "setter", "1", "fk", "fv"],
        ["FCALL", "ro_get", "1", "fk"],
        ["FCALL_RO", "ro_get", "1", "fk"],
        ["FCALL_RO", "setter", "1", "fk", "x"],
        ["FCALL", "nope", "0"],
        ["FCALL", "echo", "x"],
        ["FCALL", "echo", "5"],
        ["FCALL", "echo", "-1"],
      ]);
      for (const list of [["LIST"], ["LIST", "WITHCODE"], ["LIST", "LIBRARYNAME", "MY*"]]) {
        await c.assertSame(["FUNCTION", ...list], { normalize: sortedFunctions });
        await c.call("HELLO", "3");
        await c.assertSame(["FUNCTION", ...list], { normalize: sortedFunctions });
        await c.call("HELLO", "2");
      }
      await script(c, [
        ["FUNCTION", "LIST", "LIBRARYNAME", "other*"],
        ["FUNCTION", "LIST", "LIBRARYNAME"],
        ["FUNCTION", "LIST", "bogus"],
        ["FUNCTION", "STATS"],
        ["FUNCTION", "LOAD", "return 1"],
        ["FUNCTION", "LOAD", "#!lua\nx"],
        ["FUNCTION", "LOAD", "#!lua name=a b=c\nx"],
        ["FUNCTION", "LOAD", "#!foo name=a\nx"],
        ["FUNCTION", "LOAD", "#!lua name=a-b\nx"],
        ["FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('echo', function() end)"],
        ["FUNCTION", "LOAD", "#!lua name=x3\nlocal a = 1"],
        ["FUNCTION", "LOAD", "#!lua name=x4\nredis.register_function('f-1', function() end)"],
        ["FUNCTION", "LOAD", "#!lua name=x5\nredis.call('ping')"],
        ["FUNCTION", "LOAD", "#!lua name=x7\nx ="],
        ["FUNCTION", "LOAD", "#!lua name=x9"],
        [
          "FUNCTION",
          "LOAD",
          "REPLACE",
          "#!lua name=mylib\nredis.register_function('echo2', function(k, a) return 2 end)",
        ],
        ["FCALL", "echo", "0", "gone"],
        ["FCALL", "echo2", "0"],
        ["FUNCTION", "LOAD", "BAD", "#!lua name=z\nredis.register_function('z', function() end)"],
        ["FUNCTION", "RESTORE", "not a payload"],
        ["FUNCTION", "RESTORE", "not a payload", "BAD"],
        ["FUNCTION", "RESTORE", "\x00".repeat(12)],
        ["FUNCTION", "RESTORE", "x", "FLUSH", "extra"],
        ["FUNCTION", "DELETE", "nope"],
        ["FUNCTION", "DELETE", "mylib"],
        ["FUNCTION", "LIST"],
        ["FUNCTION", "FLUSH", "bad"],
        ["FUNCTION", "FLUSH"],
        ["FUNCTION", "KILL"],
        ["FUNCTION", "HELP"],
      ]);
    });
  });
});
