import assert from "node:assert/strict";
import fc from "fast-check";
import {
  BigNumberReply,
  BulkSlicesReply,
  DoubleReply,
  ErrorReply,
  MapReply,
  NULL_ARRAY,
  OK,
  type Reply,
  SetReply,
  SimpleString,
  VerbatimReply,
} from "../../../src/resp/reply.ts";
import { toBinaryString } from "../../../src/util/bytes.ts";
import { bytes, engine, errorText, evalScript, FakeHost } from "./_helpers.ts";

Deno.test("binary safety: all 256 byte values through KEYS/ARGV, redis.call and back", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const host = new FakeHost();
  const reply = evalScript(
    "local v = redis.call('SET', KEYS[1], ARGV[1]) return {KEYS[1], ARGV[1], #ARGV[1], v}",
    [all],
    [all],
    host,
  );
  const expected = toBinaryString(all);
  assert.deepEqual(reply, [expected, expected, 256, expected]);
  assert.deepEqual(host.calls[0], [bytes("SET"), all, all]);
});

Deno.test("binary safety: raw bytes in the script source", () => {
  const source = Uint8Array.of(...bytes("return '"), 0x00, 0xff, 0x80, ...bytes("'"));
  assert.equal(evalScript(source), "\x00\xff\x80");
});

Deno.test("Lua to reply: Redis 7 conversion rules (RESP2)", () => {
  assert.deepEqual(
    evalScript("return {1, 2.9, -2.9, 'x', true, false, nil, 'after'}"),
    [1, 2, -2, "x", 1, null],
  );
  assert.equal(evalScript("return nil"), null);
  assert.equal(evalScript("return false"), null);
  assert.equal(evalScript("return true"), 1);
  assert.equal(evalScript("return 9007199254740993"), 9007199254740993n);
  assert.deepEqual(evalScript("return {1/0, -1/0, 0/0, 2^63}"), [
    -9223372036854775808n,
    -9223372036854775808n,
    -9223372036854775808n,
    -9223372036854775808n,
  ]);
  assert.deepEqual(evalScript("return {ok='FINE'}"), new SimpleString("FINE"));
  assert.deepEqual(evalScript("return {ok='a\\r\\nb'}"), new SimpleString("a  b"));
  assert.deepEqual(evalScript("return {err='x y'}"), new ErrorReply("x y"));
  assert.deepEqual(evalScript("return {{1, {2}}, {}}"), [[1, [2]], []]);
  let nested = evalScript("local t = {} t[1] = t return t");
  while (Array.isArray(nested)) nested = nested[0];
  assert.deepEqual(nested, new ErrorReply("ERR reached lua stack limit"));
});

Deno.test("Lua to reply: RESP3 forms work whatever the protocol", () => {
  assert.deepEqual(evalScript("return {double=3.5}"), new DoubleReply(3.5));
  assert.deepEqual(evalScript("return {map={a=1}}"), new MapReply(["a", 1]));
  assert.deepEqual(evalScript("return {set={a=true}}"), new SetReply(["a"]));
  assert.deepEqual(
    evalScript("return {big_number='123456789012345678901234567890'}"),
    new BigNumberReply("123456789012345678901234567890"),
  );
  assert.deepEqual(
    evalScript("return {verbatim_string={format='txt', string='hi'}}"),
    new VerbatimReply("hi"),
  );
  assert.equal(evalScript("redis.setresp(3) return true"), true);
  assert.equal(evalScript("redis.setresp(3) return false"), false);
});

/** Runs `source` with redis.call answering `reply`; returns what the script returns. */
function throughCall(source: string, reply: Reply): Reply {
  const host = new FakeHost();
  host.answer = () => reply;
  return evalScript(source, [], [], host);
}

Deno.test("reply to Lua: RESP2 rules", () => {
  const inspect = "local v = redis.call('X') return {type(v), tostring(v)}";
  assert.deepEqual(throughCall(inspect, 5), ["number", "5"]);
  assert.deepEqual(throughCall(inspect, 9007199254740993n), ["number", "9007199254740993"]);
  assert.deepEqual(throughCall(inspect, "bulk"), ["string", "bulk"]);
  assert.deepEqual(throughCall(inspect, bytes("bytes")), ["string", "bytes"]);
  assert.deepEqual(throughCall(inspect, null), ["boolean", "false"]);
  assert.deepEqual(throughCall(inspect, NULL_ARRAY), ["boolean", "false"]);
  assert.deepEqual(throughCall(inspect, true), ["number", "1"]);
  assert.deepEqual(throughCall(inspect, false), ["number", "0"]);
  assert.deepEqual(throughCall(inspect, new DoubleReply(1.1)), ["string", "1.1000000000000001"]);
  assert.deepEqual(throughCall(inspect, new VerbatimReply("txt")), ["string", "txt"]);
  assert.deepEqual(throughCall("return redis.call('X').ok", OK), "OK");
  assert.deepEqual(throughCall("return redis.call('X')", ["a", 1, ["b"]]), ["a", 1, ["b"]]);
  assert.deepEqual(throughCall("return redis.call('X')", new MapReply(["k", "v"])), ["k", "v"]);
  assert.deepEqual(throughCall("return redis.call('X')", new SetReply(["m"])), ["m"]);
  const slices = new BulkSlicesReply();
  slices.run("abcdef");
  slices.item(0, 2);
  slices.item(2, 3);
  assert.deepEqual(throughCall("return redis.call('X')", slices), ["ab", "cde"]);
});

Deno.test("reply to Lua: RESP3 rules after redis.setresp(3)", () => {
  const pre = "redis.setresp(3) local v = redis.call('X') ";
  assert.deepEqual(throughCall(pre + "return {type(v)}", null), ["nil"]);
  assert.deepEqual(throughCall(pre + "return {type(v), tostring(v)}", true), ["boolean", "true"]);
  assert.deepEqual(throughCall(pre + "return v.double", new DoubleReply(2.5)), 2);
  assert.deepEqual(throughCall(pre + "return tostring(v.double)", new DoubleReply(2.5)), "2.5");
  assert.deepEqual(throughCall(pre + "return v.map.k", new MapReply(["k", "v"])), "v");
  assert.deepEqual(throughCall(pre + "return tostring(v.set.m)", new SetReply(["m"])), "true");
  assert.deepEqual(
    throughCall(
      pre + "return {v.verbatim_string.format, v.verbatim_string.string}",
      new VerbatimReply("hi"),
    ),
    ["txt", "hi"],
  );
});

Deno.test("redis.call errors raise, redis.pcall returns them", () => {
  const host = new FakeHost();
  host.answer = () =>
    new ErrorReply("WRONGTYPE Operation against a key holding the wrong kind of value");
  assert.equal(
    errorText(evalScript("return redis.call('INCR', 'k')", [], [], host, "abc")),
    "WRONGTYPE Operation against a key holding the wrong kind of value script: abc, on @user_script:1.",
  );
  assert.deepEqual(
    evalScript("return redis.pcall('INCR', 'k')", [], [], host),
    new ErrorReply("WRONGTYPE Operation against a key holding the wrong kind of value"),
  );
  assert.deepEqual(
    evalScript(
      "local ok, e = pcall(redis.call, 'X') return {tostring(ok), type(e), e}",
      [],
      [],
      host,
    ),
    [
      "false",
      "string",
      "WRONGTYPE Operation against a key holding the wrong kind of value",
    ],
    "Redis 7's pcall catches an error table as its err string (luaRedisPcall)",
  );
  host.answer = () => new ErrorReply("NOSPACE");
  assert.equal(errorText(evalScript("return redis.pcall('X')", [], [], host)), "ERR NOSPACE");
});

Deno.test("redis.call argument errors and number formatting", () => {
  assert.equal(
    errorText(evalScript("return redis.call()", [], [], new FakeHost(), "s1")),
    "ERR Please specify at least one argument for this redis lib call script: s1, on @user_script:1.",
  );
  assert.equal(
    errorText(evalScript("return redis.call('get', {})", [], [], new FakeHost(), "s1")),
    "ERR Lua redis lib command arguments must be strings or integers script: s1, on @user_script:1.",
  );
  assert.equal(
    errorText(evalScript("return redis.pcall('get', true)")),
    "ERR Lua redis lib command arguments must be strings or integers",
  );
  assert.equal(
    errorText(evalScript("return redis.pcall()")),
    "ERR Please specify at least one argument for this redis lib call",
  );
  const host = new FakeHost();
  evalScript("redis.call('SET', 1.5, 3.0, 1e20, 0.1, 42, -7)", [], [], host);
  assert.deepEqual(
    host.calls[0].map((a) => new TextDecoder().decode(a)),
    ["SET", "1.5", "3", "1e+20", "0.10000000000000001", "42", "-7"],
  );
});

Deno.test("runtime and compile error texts (Redis 7.0.15)", () => {
  const cases: [string, string][] = [
    ["error('boom')", "ERR user_script:1: boom script: S, on @user_script:1."],
    ["error({err='MYCODE custom'})", "MYCODE custom script: S, on @user_script:1."],
    ["error(nil)", "ERR nil script: S, on @user_script:1."],
    ["error(12)", "ERR user_script:1: 12 script: S, on @user_script:1."],
    [
      "local t = nil; return t.x",
      "ERR user_script:1: attempt to index local 't' (a nil value) script: S, on @user_script:1.",
    ],
    [
      "\n\nreturn 'a' .. {}",
      "ERR user_script:3: attempt to concatenate a table value script: S, on @user_script:3.",
    ],
    ["return redis.setresp(4)", "ERR RESP version must be 2 or 3. script: S, on @user_script:1."],
    ["return redis.sha1hex()", "ERR wrong number of arguments script: S, on @user_script:1."],
    ["return redis.log(99, 'x')", "ERR Invalid debug level. script: S, on @user_script:1."],
    [
      "return redis.log(1)",
      "ERR redis.log() requires two arguments or more. script: S, on @user_script:1.",
    ],
    [
      "return redis.log('x', 'y')",
      "ERR First argument must be a number (log level). script: S, on @user_script:1.",
    ],
    [
      "return redis.setresp()",
      "ERR redis.setresp() requires one argument. script: S, on @user_script:1.",
    ],
    [
      "return redis.set_repl()",
      "ERR redis.set_repl() requires two arguments. script: S, on @user_script:1.",
    ],
    [
      "return redis.set_repl(9)",
      "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE. script: S, on @user_script:1.",
    ],
    [
      "return undefined_fn()",
      "ERR user_script:1: Script attempted to access nonexistent global variable 'undefined_fn' script: S, on @user_script:1.",
    ],
    [
      "local t = {} t.f()",
      "ERR user_script:1: attempt to call field 'f' (a nil value) script: S, on @user_script:1.",
    ],
    [
      "local x x = x + 1",
      "ERR user_script:1: attempt to perform arithmetic on local 'x' (a nil value) script: S, on @user_script:1.",
    ],
    [
      "local x = coroutine.yield(1)",
      "ERR attempt to yield across metamethod/C-call boundary script: S, on @user_script:1.",
    ],
  ];
  for (const [source, expected] of cases) {
    assert.equal(errorText(evalScript(source, [], [], new FakeHost(), "S")), expected, source);
  }
  const compile = (source: string) => engine.compile(bytes(source), "x");
  assert.deepEqual(compile("return 1 +"), {
    error:
      "ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'",
  });
  assert.deepEqual(compile("if 1 then"), {
    error: "ERR Error compiling script (new function): user_script:1: 'end' expected near '<eof>'",
  });
  assert.deepEqual(compile("x x"), {
    error: "ERR Error compiling script (new function): user_script:1: syntax error near 'x'",
  });
});

Deno.test("redis.* helpers", () => {
  assert.deepEqual(evalScript("return redis.error_reply('My Error')"), new ErrorReply("My Error"));
  assert.deepEqual(evalScript("return redis.error_reply('-My Error')"), new ErrorReply("My Error"));
  assert.deepEqual(
    evalScript("return redis.error_reply('NOSPACE')"),
    new ErrorReply("ERR NOSPACE"),
  );
  assert.deepEqual(evalScript("return redis.error_reply('-X')"), new ErrorReply("ERR X"));
  assert.deepEqual(
    evalScript("return redis.error_reply(12)"),
    new ErrorReply("ERR wrong number or type of arguments"),
  );
  assert.deepEqual(evalScript("return redis.status_reply('FINE')"), new SimpleString("FINE"));
  assert.deepEqual(
    evalScript("return redis.status_reply(1)"),
    new ErrorReply("ERR wrong number or type of arguments"),
  );
  assert.equal(evalScript("return redis.sha1hex('')"), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  assert.equal(
    evalScript("return redis.sha1hex('abc')"),
    "a9993e364706816aba3e25717850c26c9cd0d89d",
  );
  assert.equal(evalScript("return redis.sha1hex(12)"), "7b52009b64fd0a2a49e6d8a939753077792b0554");
  assert.deepEqual(evalScript("return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}"), [
    "7.0.15",
    458767,
  ]);
  assert.deepEqual(
    evalScript(
      "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL, redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}",
    ),
    [0, 1, 2, 2, 3, 0, 1, 2, 3],
  );
  assert.equal(evalScript("return redis.replicate_commands()"), 1);
  assert.deepEqual(
    evalScript("return {tostring(redis.breakpoint()), select('#', redis.debug('x'))}"),
    [
      "false",
      0,
    ],
  );
  const host = new FakeHost();
  evalScript(
    "redis.log(redis.LOG_WARNING, 'hello', 5, {}, 'x') redis.set_repl(redis.REPL_AOF)",
    [],
    [],
    host,
  );
  assert.deepEqual(host.logs, [[3, "hello 5 x"]]);
  assert.deepEqual(host.replication, [1]);
});

Deno.test("math.random is Redis's rand48, seeded once per state", async () => {
  const { LuaEngine } = await import("../../../src/scripting/lua_engine.ts");
  const fresh = await LuaEngine.create();
  const run = (source: string) => {
    const c = fresh.compile(bytes(source), "r");
    if ("error" in c) throw new Error(c.error);
    const r = fresh.run(c.ok, [], [], new FakeHost(), 2, 10_000);
    return r.done ? r.reply : undefined;
  };
  assert.equal(run("return math.random()"), 0);
  assert.deepEqual(run("return {math.random(100), math.random(100), math.random(1,1000000)}"), [
    85,
    36,
    446584,
  ]);
  assert.deepEqual(run("math.randomseed(42); return {math.random(100), tostring(math.random())}"), [
    75,
    "0.34270147855519",
  ]);
  fresh.close();
});

Deno.test("global protection texts", () => {
  const cases: [string, string][] = [
    [
      "return x",
      "ERR user_script:1: Script attempted to access nonexistent global variable 'x' script: S, on @user_script:1.",
    ],
    [
      "x = 1",
      "ERR user_script:1: Attempt to modify a readonly table script: S, on @user_script:1.",
    ],
    [
      "KEYS = {}",
      "ERR user_script:1: Attempt to modify a readonly table script: S, on @user_script:1.",
    ],
    [
      "string.len = nil",
      "ERR user_script:1: Attempt to modify a readonly table script: S, on @user_script:1.",
    ],
    [
      "redis.call = nil",
      "ERR user_script:1: Attempt to modify a readonly table script: S, on @user_script:1.",
    ],
    [
      "setmetatable(_G, {})",
      "ERR Attempt to modify a readonly table script: S, on @user_script:1.",
    ],
    ["rawset(_G, 'x', 1)", "ERR Attempt to modify a readonly table script: S, on @user_script:1."],
    [
      "getmetatable('').__index.len = nil",
      "ERR user_script:1: Attempt to modify a readonly table script: S, on @user_script:1.",
    ],
  ];
  for (const [source, expected] of cases) {
    assert.equal(errorText(evalScript(source, [], [], new FakeHost(), "S")), expected, source);
  }
  assert.equal(evalScript("return ('abc'):len() + string.len('x')"), 4);
  assert.equal(evalScript("return type(rawget(_G, 'redis'))"), "table");
  assert.equal(evalScript("local n = 0 for k in pairs(string) do n = n + 1 end return n > 10"), 1);
});

Deno.test("removed libraries and globals", () => {
  for (
    const name of [
      "os",
      "io",
      "print",
      "loadfile",
      "dofile",
      "require",
      "debug",
      "package",
      "utf8",
      "setfenv",
      "getfenv",
      "newproxy",
      "module",
    ]
  ) {
    assert.equal(
      errorText(evalScript(`return type(${name})`, [], [], new FakeHost(), "S")),
      `ERR user_script:1: Script attempted to access nonexistent global variable '${name}' script: S, on @user_script:1.`,
    );
  }
  assert.deepEqual(
    evalScript(
      "return {type(load), type(loadstring), type(unpack), type(xpcall), type(coroutine), type(select), type(rawset), type(_G), type(gcinfo), type(collectgarbage)}",
    ),
    [
      "function",
      "function",
      "function",
      "function",
      "table",
      "function",
      "function",
      "table",
      "function",
      "function",
    ],
  );
  assert.deepEqual(
    evalScript("return {type(table.unpack), type(string.pack), type(math.type)}"),
    ["nil", "nil", "nil"],
  );
  assert.equal(evalScript("return loadstring(string.dump and '' or '\\27Lua')"), null);
});

Deno.test("Lua 5.1 shims and number formatting", () => {
  assert.deepEqual(
    evalScript(
      "return {table.getn({1,2,3}), table.maxn({[5]=1, [2]=1}), math.pow(2,10), math.mod(7,3), math.log10(1000), unpack({'a','b'})}",
    ),
    [3, 5, 1024, 1, 3, "a", "b"],
  );
  assert.equal(
    evalScript("local s = '' for w in string.gfind('a b c', '%a') do s = s .. w end return s"),
    "abc",
  );
  assert.equal(evalScript("return loadstring('return 1+1')()"), 2);
  assert.equal(
    evalScript("local f, e = loadstring('x x') return e"),
    `[string "x x"]:1: syntax error near 'x'`,
  );
  assert.equal(
    evalScript(
      "return tostring(10/2) .. ' ' .. tostring(0.1) .. ' ' .. tostring(2^53) .. ' ' .. tostring(1/0)",
    ),
    "5 0.1 9.007199254741e+15 inf",
  );
  assert.equal(
    evalScript("return string.format('%d %s %5.1f %x', 3.7, 2.0, 1.25, 255.9)"),
    "3 2   1.2 ff",
  );
  assert.equal(evalScript("return math.floor(3.7) .. ''"), "3");
  assert.deepEqual(evalScript("local m, e = math.frexp(8) return {tostring(m), e}"), ["0.5", 4]);
  assert.equal(evalScript("return gcinfo() > 0"), 1);
});

Deno.test("slicing: an endless script yields, resumes, is killed; the engine works afterwards", () => {
  const compiled = engine.compile(bytes("local i = 0 while true do i = i + 1 end"), "busy");
  if ("error" in compiled) throw new Error(compiled.error);
  let run = engine.run(compiled.ok, [], [], new FakeHost(), 2, 2);
  assert.equal(run.done, false);
  for (let i = 0; i < 3 && !run.done; i++) run = run.resume(2);
  assert.equal(run.done, false);
  assert.equal(engine.busy, true);
  const killed = run.done ? null : run.kill();
  assert.deepEqual(
    killed,
    new ErrorReply(
      "ERR Script killed by user with SCRIPT KILL... script: busy, on @user_script:1.",
    ),
    "Redis 7.0's text, with the line the script was at",
  );
  assert.equal(engine.busy, false);
  assert.throws(() => !run.done && run.resume(1), /over/);
  assert.equal(evalScript("return 42"), 42);
  engine.release(compiled.ok);
});

Deno.test("slicing: a long finite loop gives the right result across slices, pcall included", () => {
  const source =
    "local ok, n = pcall(function() local n = 0 for i = 1, 3e6 do n = n + i end return n end) return n";
  const compiled = engine.compile(bytes(source), "long");
  if ("error" in compiled) throw new Error(compiled.error);
  let run = engine.run(compiled.ok, [], [], new FakeHost(), 2, 1);
  let slices = 1;
  while (!run.done) {
    run = run.resume(1);
    slices++;
  }
  assert.equal(run.reply, 4500001500000);
  assert.ok(slices > 1, `expected several slices, got ${slices}`);
});

Deno.test("a second run while one is suspended is refused; reset() abandons it", () => {
  const compiled = engine.compile(bytes("while true do end"), "busy");
  if ("error" in compiled) throw new Error(compiled.error);
  const run = engine.run(compiled.ok, [], [], new FakeHost(), 2, 1);
  assert.equal(run.done, false);
  assert.throws(() => engine.compile(bytes("return 1"), "x"), /running/);
  engine.reset();
  assert.equal(engine.busy, false);
  assert.throws(() => engine.run(compiled.ok, [], [], new FakeHost(), 2, 1), /stale/);
  assert.equal(evalScript("return 'fresh'"), "fresh");
});

Deno.test("JS exceptions from the host become script errors", () => {
  const host = new FakeHost();
  host.answer = () => {
    throw new Error("host bug");
  };
  assert.equal(
    errorText(evalScript("return redis.call('x')", [], [], host, "S")),
    "ERR user_script:1: internal error: host bug script: S, on @user_script:1.",
  );
  assert.equal(evalScript("return 1"), 1);
});

Deno.test("memoryBytes reports the Lua heap", () => {
  const before = engine.memoryBytes();
  assert.ok(before > 10_000);
  const handles = [];
  for (let i = 0; i < 50; i++) {
    const c = engine.compile(bytes(`return ${i} + ${"1 + ".repeat(50)}1`), `m${i}`);
    if ("ok" in c) handles.push(c.ok);
  }
  assert.ok(engine.memoryBytes() > before);
  for (const h of handles) engine.release(h);
});

Deno.test("a killed script that catches the kill error with pcall is still ended", () => {
  const compiled = engine.compile(
    bytes("while true do pcall(function() while true do end end) end"),
    "stubborn",
  );
  if ("error" in compiled) throw new Error(compiled.error);
  const run = engine.run(compiled.ok, [], [], new FakeHost(), 2, 2);
  assert.equal(run.done, false);
  const started = performance.now();
  const killed = run.done ? null : run.kill();
  assert.ok(performance.now() - started < 2000, "the kill returns within its grace time");
  assert.ok(killed instanceof ErrorReply);
  assert.match(
    killed.message,
    /^ERR Script killed by user with SCRIPT KILL\.\.\. script: stubborn/,
  );
  assert.equal(engine.busy, false);
  assert.equal(evalScript("return 7"), 7);
  engine.release(compiled.ok);
});

Deno.test("random bytes as script bodies compile or fail cleanly, never crash", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (body) => {
      const compiled = engine.compile(body, "fuzz");
      if ("error" in compiled) {
        assert.match(compiled.error, /^ERR Error compiling script \(new function\): /);
      } else {
        const run = engine.run(compiled.ok, [], [], new FakeHost(), 2, 50);
        if (!run.done) run.kill();
        engine.release(compiled.ok);
      }
    }),
    { numRuns: 300 },
  );
  assert.equal(evalScript("return 'alive'"), "alive");
});
