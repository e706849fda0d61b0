import assert from "node:assert/strict";
import { ErrorReply } from "../../../src/resp/reply.ts";
import { parseEvalShebang, parseLibraryShebang } from "../../../src/scripting/lua_shebang.ts";
import { bytes, engine, errorText, FakeHost } from "./_helpers.ts";

/** Loads a library and returns its functions, or the error text. */
function load(code: string) {
  const loaded = engine.loadLibrary(bytes(code));
  if ("error" in loaded) return loaded.error;
  return loaded.functions;
}

Deno.test("register_function: both forms, flags, description, calling with keys and args", () => {
  const functions = load(
    "#!lua name=lib\n" +
      "redis.register_function('f', function(keys, args) return {keys[1], args[1]} end)\n" +
      "redis.register_function{function_name='g', callback=function() return x end, flags={'no-writes', 'allow-oom'}, description='desc'}\n" +
      "redis.register_function('k', function() return #KEYS end)",
  );
  assert.ok(Array.isArray(functions), String(functions));
  assert.deepEqual(
    functions.map((f) => [f.name, f.flags, f.description]),
    [["f", [], null], ["g", ["no-writes", "allow-oom"], "desc"], ["k", [], null]],
  );
  const call = (i: number) => {
    const run = engine.runFunction(
      functions[i].handle,
      [bytes("key")],
      [bytes("arg")],
      new FakeHost(),
      2,
      1000,
    );
    assert.ok(run.done);
    return run.reply;
  };
  assert.deepEqual(call(0), ["key", "arg"]);
  assert.equal(
    errorText(call(1)),
    "ERR user_function:3: Script attempted to access nonexistent global variable 'x' script: g, on @user_function:3.",
  );
  assert.equal(
    errorText(call(2)),
    "ERR user_function:4: Script attempted to access nonexistent global variable 'KEYS' script: k, on @user_function:4.",
  );
  for (const f of functions) engine.release(f.handle);
});

Deno.test("functions see the full API at run time, not register_function", () => {
  const functions = load(
    "#!lua name=lib\nredis.register_function('t', function() return {type(redis.register_function), type(redis.call), type(string), redis.REDIS_VERSION} end)\n" +
      "redis.register_function('w', function() y = 1 end)",
  );
  assert.ok(Array.isArray(functions));
  const run = (i: number) =>
    engine.runFunction(functions[i].handle, [], [], new FakeHost(), 2, 1000);
  const t = run(0);
  assert.ok(t.done);
  assert.deepEqual(t.reply, ["nil", "function", "table", "7.0.15"]);
  const w = run(1);
  assert.ok(w.done);
  assert.deepEqual(
    w.reply,
    new ErrorReply(
      "ERR user_function:3: Attempt to modify a readonly table script: w, on @user_function:3.",
    ),
  );
});

Deno.test("FUNCTION LOAD error texts (Redis 7.0.15)", () => {
  const reg = "ERR Error registering functions: ";
  const cases: [string, string][] = [
    ["#!lua name=x\nreturn 1", "ERR No functions registered"],
    ["#!lua name=x\nreturn redis.log(1, 'x')", "ERR No functions registered"],
    [
      "#!lua name=x\nredis.register_function('f-1', function() return 1 end)",
      reg +
      "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
    ],
    [
      "#!lua name=x\nredis.register_function('f', function() end)\nredis.register_function('f', function() end)",
      reg + "ERR Function already exists in the library",
    ],
    [
      "#!lua name=x\nredis.register_function('f')",
      reg +
      "ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).",
    ],
    [
      "#!lua name=x\nredis.register_function('f', 1)",
      reg + "ERR second argument to redis.register_function must be a function",
    ],
    [
      "#!lua name=x\nredis.register_function('a','b','c')",
      reg + "ERR wrong number of arguments to redis.register_function",
    ],
    [
      "#!lua name=x\nredis.register_function()",
      reg + "ERR wrong number of arguments to redis.register_function",
    ],
    [
      "#!lua name=x\nredis.register_function{function_name='f', callback=function() end, flags={'bad-flag'}}",
      reg + "ERR unknown flag given",
    ],
    [
      "#!lua name=x\nredis.register_function{function_name='f', callback=function() end, flags='no-writes'}",
      reg +
      "ERR flags argument to redis.register_function must be a table representing function flags",
    ],
    [
      "#!lua name=x\nredis.register_function{function_name='f', callback=function() end, foo=1}",
      reg + "ERR unknown argument given to redis.register_function",
    ],
    [
      "#!lua name=x\nredis.register_function{callback=function() end}",
      reg + "ERR redis.register_function must get a function name argument",
    ],
    [
      "#!lua name=x\nredis.register_function{function_name='f'}",
      reg + "ERR redis.register_function must get a callback argument",
    ],
    [
      "#!lua name=x\nredis.register_function{function_name='f', callback=1}",
      reg + "ERR callback argument given to redis.register_function must be a function",
    ],
    [
      "#!lua name=x\nredis.call('ping')",
      reg + "ERR user_function:2: Script attempted to access nonexistent global variable 'call'",
    ],
    [
      "#!lua name=x\nlocal s = string.format('%d', 1)",
      reg + "ERR user_function:2: Script attempted to access nonexistent global variable 'string'",
    ],
    [
      "#!lua name=x\nerror('oops')",
      reg + "ERR user_function:2: Script attempted to access nonexistent global variable 'error'",
    ],
    [
      "#!lua name=x\nredis.register_function('f', function() return 1 end) x = 5",
      reg + "ERR user_function:2: Attempt to modify a readonly table",
    ],
    [
      "#!lua name=x\nlocal kk = KEYS",
      reg + "ERR user_function:2: Script attempted to access nonexistent global variable 'KEYS'",
    ],
    [
      "#!lua name=x\nif",
      "ERR Error compiling function: user_function:2: unexpected symbol near '<eof>'",
    ],
    ["#!lua name=x\nwhile true do end", reg + "ERR FUNCTION LOAD timeout"],
  ];
  for (const [code, expected] of cases) assert.equal(load(code), expected, code);
  const numeric = load("#!lua name=x\nredis.register_function(1, function() end)");
  assert.ok(Array.isArray(numeric));
  assert.equal(numeric[0].name, "1");
});

Deno.test("parseLibraryShebang: Redis 7.0.15 texts", () => {
  const parse = (code: string) => parseLibraryShebang(bytes(code));
  assert.deepEqual(parse("return 1"), { error: "ERR Missing library metadata" });
  assert.deepEqual(parse("#!lua"), { error: "ERR Invalid library metadata" });
  assert.deepEqual(parse("#!lua name=x"), { error: "ERR Invalid library metadata" });
  assert.deepEqual(parse("#!lua foo=bar\nreturn 1"), {
    error: "ERR Invalid metadata value given: foo=bar",
  });
  assert.deepEqual(parse("#!luajit name=x\nreturn 1"), { error: "ERR Engine 'luajit' not found" });
  assert.deepEqual(parse("#!lua name=x name=y\n"), {
    error: "ERR Invalid metadata value, name argument was given multiple times",
  });
  assert.deepEqual(parse("#!lua name=bad-name\n"), {
    error:
      "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
  });
  assert.deepEqual(parse("#!lua\n"), { error: "ERR Library name was not given" });
  const ok = parse("#!LUA   name=mylib  \nreturn 1");
  assert.ok("ok" in ok);
  assert.equal(ok.ok.name, "mylib");
  assert.equal(new TextDecoder().decode(ok.ok.body), "\nreturn 1");
});

Deno.test("parseEvalShebang: Redis 7.0.15 texts", () => {
  const parse = (code: string) => parseEvalShebang(bytes(code));
  assert.deepEqual(parse("#!lua flags=bad\nreturn 1"), {
    error: "ERR Unexpected flag in script shebang: bad",
  });
  assert.deepEqual(parse("#!notlua\nreturn 1"), {
    error: "ERR Unexpected engine in script shebang: #!notlua",
  });
  assert.deepEqual(parse("#!lua name=foo\nreturn 1"), {
    error: "ERR Unknown lua shebang option: name=foo",
  });
  const flagged = parse("#!lua flags=no-writes,allow-oom\nreturn 1");
  assert.ok("ok" in flagged);
  assert.deepEqual(flagged.ok.flags, ["no-writes", "allow-oom"]);
  assert.equal(new TextDecoder().decode(flagged.ok.body), "\nreturn 1");
  const plain = parse("return 1");
  assert.ok("ok" in plain);
  assert.equal(plain.ok.hasShebang, false);
});

Deno.test("an EVAL script after a shebang reports the shebang line's numbering", () => {
  const parsed = parseEvalShebang(bytes("#!lua flags=no-writes\nreturn x"));
  assert.ok("ok" in parsed);
  const compiled = engine.compile(parsed.ok.body, "S");
  assert.ok("ok" in compiled);
  const run = engine.run(compiled.ok, [], [], new FakeHost(), 2, 1000);
  assert.ok(run.done);
  assert.equal(
    errorText(run.reply),
    "ERR user_script:2: Script attempted to access nonexistent global variable 'x' script: S, on @user_script:2.",
  );
});
