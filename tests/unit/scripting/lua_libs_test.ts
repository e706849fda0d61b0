import assert from "node:assert/strict";
import fc from "fast-check";
import { sha1Hex } from "../../../src/scripting/sha1.ts";
import { fromBinaryString } from "../../../src/util/bytes.ts";
import { bytes, errorText, evalScript, FakeHost, hexOf } from "./_helpers.ts";

/** Expected values below were produced by redis-server 7.0.15 with the same EVAL. */

Deno.test("cjson.encode matches Redis", () => {
  assert.equal(evalScript("return cjson.encode({1,2,3,{a=1}})"), '[1,2,3,{"a":1}]');
  assert.equal(evalScript("return cjson.encode({})"), "{}");
  assert.equal(evalScript("return cjson.encode('\\1\\127\\128\\255')"), '"\\u0001\\u007f\x80\xff"');
  assert.equal(evalScript("return cjson.encode({[1]=1,[3]=3})"), "[1,null,3]");
  assert.equal(
    evalScript("return cjson.encode({[1]=1,[2]=2,[3]=3,[10]=10})"),
    "[1,2,3,null,null,null,null,null,null,10]",
  );
  assert.equal(evalScript("return cjson.encode({b='x\"y\\\\z/'})"), '{"b":"x\\"y\\\\z\\/"}');
  assert.equal(
    evalScript("return cjson.encode({1.5, 0.1, 1e20, -0.0, 3, 12345678901234567})"),
    "[1.5,0.1,1e+20,-0,3,1.2345678901235e+16]",
  );
  assert.equal(evalScript("return cjson.encode({[1.5]=1})"), '{"1.5":1}');
  assert.equal(
    String(evalScript("return cjson.encode({a=cjson.null, b=true})")).length,
    '{"a":null,"b":true}'.length,
  );
  const fail = (source: string) => errorText(evalScript(source, [], [], new FakeHost(), "S"));
  assert.equal(
    fail("return cjson.encode({[1]=1,[2]=2,[3]=3,[11]=10})"),
    "ERR user_script:1: Cannot serialise table: excessively sparse array script: S, on @user_script:1.",
  );
  assert.equal(
    fail("return cjson.encode(function() end)"),
    "ERR user_script:1: Cannot serialise function: type not supported script: S, on @user_script:1.",
  );
  assert.equal(
    fail("return cjson.encode(1/0)"),
    "ERR user_script:1: Cannot serialise number: must not be NaN or Inf script: S, on @user_script:1.",
  );
  assert.equal(
    fail("return cjson.encode({[true]=1})"),
    "ERR user_script:1: Cannot serialise boolean: table key must be a number or string script: S, on @user_script:1.",
  );
  assert.equal(
    fail("local t = {} t[1] = t return cjson.encode(t)"),
    "ERR user_script:1: Cannot serialise, excessive nesting (1001) script: S, on @user_script:1.",
  );
});

Deno.test("cjson.decode matches Redis", () => {
  assert.deepEqual(
    evalScript(
      'local t = cjson.decode(\'[1,2.5,"a",null,true,{"k":[]}]\'); return {t[1], t[2], t[3], tostring(t[4] == cjson.null), tostring(t[5]), type(t[6].k), #t}',
    ),
    [1, 2, "a", "true", "true", "table", 6],
  );
  assert.equal(evalScript('return cjson.decode(\'{"a":1,"b":[1,2]}\').b[2]'), 2);
  assert.equal(
    evalScript("return cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\"')"),
    "\xc3\xa9\xf0\x9f\x98\x80",
  );
  assert.equal(
    evalScript("return tostring(cjson.decode('12345678901234567890'))"),
    "1.2345678901235e+19",
  );
  assert.equal(evalScript("return tostring(cjson.decode('1e2'))"), "100");
  assert.equal(
    String(evalScript('return cjson.encode(cjson.decode(\'{"a":null, "b":[null]}\'))')).length,
    '{"a":null,"b":[null]}'.length,
  );
  const fail = (source: string) => errorText(evalScript(source, [], [], new FakeHost(), "S"));
  assert.equal(
    fail("return cjson.decode('[1,2')"),
    "ERR user_script:1: Expected comma or array end but found T_END at character 5 script: S, on @user_script:1.",
  );
  assert.equal(
    fail("return cjson.decode('{\"a\":1}x')"),
    "ERR user_script:1: Expected the end but found invalid token at character 8 script: S, on @user_script:1.",
  );
});

Deno.test("cjson round trip of random JSON values", () => {
  fc.assert(
    fc.property(fc.json(), (text) => {
      const roundTrip = (json: string) => {
        const reply = evalScript("return cjson.encode(cjson.decode(ARGV[1]))", [], [json]);
        assert.equal(typeof reply, "string");
        return new TextDecoder().decode(fromBinaryString(reply as string));
      };
      const once = roundTrip(text);
      assert.deepEqual(JSON.parse(roundTrip(once)), JSON.parse(once));
    }),
    { numRuns: 100 },
  );
});

Deno.test("cmsgpack.pack matches Redis byte for byte", () => {
  assert.equal(
    hexOf(
      evalScript(
        "return cmsgpack.pack(1, -1, 127, 128, -33, 65536, 2^32, -2^40, 1.5, 'abc', true, false, {1,2}, {a=1})",
      ),
    ),
    "01ff7fcc80d0dfce00010000cf0000000100000000d3ffffff0000000000ca3fc00000a3616263c3c292010281a16101",
  );
  assert.equal(
    hexOf(evalScript("return cmsgpack.pack(0.1, 3.0, 1e300, 2^53)")),
    "cb3fb999999999999a03cb7e37e43c8800759ccf0020000000000000",
  );
  assert.equal(
    hexOf(
      evalScript(
        "return cmsgpack.pack(-1.5, -32, -128, -129, -32768, -32769, 255, 256, 65535, 65536, 2^31, -2^31, -2^31-1)",
      ),
    ),
    "cabfc00000e0d080d1ff7fd18000d2ffff7fffccffcd0100cdffffce00010000ce80000000d280000000d3ffffffff7fffffff",
  );
  assert.equal(hexOf(evalScript("return cmsgpack.pack({})")), "90");
  assert.equal(hexOf(evalScript("return cmsgpack.pack(nil)")), "c0");
  assert.equal(hexOf(evalScript("return cmsgpack.pack({1,2,nil,4})")), "83010102020404");
  assert.equal(hexOf(evalScript("return cmsgpack.pack({1,2,x=3})")), "8301010202a17803");
  assert.equal(
    hexOf(evalScript("return cmsgpack.pack(string.rep('x', 40))")),
    "d928" + "78".repeat(40),
  );
  assert.equal(hexOf(evalScript("return cmsgpack.pack(function() end)")), "c0");
});

Deno.test("cmsgpack.unpack matches Redis", () => {
  assert.deepEqual(
    evalScript("return {cmsgpack.unpack(cmsgpack.pack(1, 'a', {1,2,{x='y'}}, 1.5, true))}"),
    [1, "a", [1, 2, []], 1, 1],
  );
  assert.equal(evalScript("local a = cmsgpack.unpack(cmsgpack.pack({1,2,3})); return #a"), 3);
  assert.equal(
    evalScript("return tostring(cmsgpack.unpack('\\203\\63\\248\\0\\0\\0\\0\\0\\0'))"),
    "1.5",
  );
  assert.equal(evalScript("return tostring(cmsgpack.unpack('\\202\\63\\192\\0\\0'))"), "1.5");
  assert.equal(
    evalScript("return tostring(cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255'))"),
    "-1",
  );
  assert.equal(evalScript("return type(cmsgpack.unpack('\\192'))"), "nil");
  assert.deepEqual(evalScript("return {cmsgpack.unpack('')}"), []);
  assert.deepEqual(evalScript("return {cmsgpack.unpack_one(cmsgpack.pack(1,2,3))}"), [1, 1]);
  assert.deepEqual(evalScript("return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 2)}"), [
    2,
    1,
    2,
  ]);
  assert.deepEqual(evalScript("return {cmsgpack.unpack_one(cmsgpack.pack(1,2,3), 2)}"), [-1, 3]);
  const fail = (source: string) => errorText(evalScript(source, [], [], new FakeHost(), "S"));
  assert.equal(
    fail("return cmsgpack.unpack('\\193')"),
    "ERR user_script:1: Bad data format in input. script: S, on @user_script:1.",
  );
  assert.equal(
    fail("return cmsgpack.unpack('\\146\\1')"),
    "ERR user_script:1: Missing bytes in input. script: S, on @user_script:1.",
  );
  assert.equal(
    fail("return cmsgpack.pack()"),
    "ERR user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.) script: S, on @user_script:1.",
  );
  assert.equal(
    fail("return cmsgpack.unpack()"),
    "ERR user_script:1: bad argument #1 to 'unpack' (string expected, got no value) script: S, on @user_script:1.",
  );
});

Deno.test("cmsgpack round trip of random values", () => {
  const value = fc.letrec((tie) => ({
    leaf: fc.oneof(
      fc.integer(),
      fc.string(),
      fc.boolean(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    ),
    node: fc.oneof({ depthSize: "small" }, tie("leaf"), fc.array(tie("node"), { maxLength: 4 })),
  })).node;
  fc.assert(
    fc.property(value, (v) => {
      const json = JSON.stringify(v);
      const reply = evalScript(
        "local v = cjson.decode(ARGV[1]) return cjson.encode(cmsgpack.unpack(cmsgpack.pack(v))) == cjson.encode(v)",
        [],
        [bytes(json)],
      );
      assert.equal(reply, 1, json);
    }),
    { numRuns: 100 },
  );
});

Deno.test("struct matches Redis", () => {
  assert.equal(hexOf(evalScript("return struct.pack('>I2i4', 258, -1)")), "0102ffffffff");
  assert.equal(
    hexOf(evalScript("return struct.pack('<hHlLbBc0s', 1, 2, 3, 4, 5, 6, 'x', 'yz')")),
    "010002000300000000000000040000000000000005067879" + "7a00",
  );
  assert.deepEqual(evalScript("return {struct.unpack('>I2i4', struct.pack('>I2i4', 258, -1))}"), [
    258,
    -1,
    7,
  ]);
  assert.equal(evalScript("return struct.size('>I2i4d')"), 14);
  assert.equal(hexOf(evalScript("return struct.pack('d', 1.5)")), "000000000000f83f");
  assert.equal(hexOf(evalScript("return struct.pack('f', 1.5)")), "0000c03f");
  assert.deepEqual(evalScript("return {struct.unpack('s', 'ab\\0cd')}"), ["ab", 4]);
  assert.deepEqual(evalScript("return {struct.unpack('c2', 'abcd')}"), ["ab", 3]);
  assert.equal(hexOf(evalScript("return struct.pack('!4 b i', 1, 2)")), "0100000002000000");
  assert.deepEqual(evalScript("return {struct.unpack('bc0', '\\3abcd')}"), ["abc", 5]);
  assert.equal(hexOf(evalScript("return struct.pack('i3', 1)")), "010000");
  assert.equal(hexOf(evalScript("return struct.pack('>i8', -2)")), "fffffffffffffffe");
  assert.deepEqual(evalScript("return {struct.unpack('B', 'xyz', 2)}"), [121, 3]);
  assert.equal(hexOf(evalScript("return struct.pack('>x i2 x', 1)")), "00000100");
  const fail = (source: string) => errorText(evalScript(source, [], [], new FakeHost(), "S"));
  assert.equal(
    fail("return struct.pack('q', 1)"),
    "ERR user_script:1: bad argument #1 to 'pack' (invalid format option 'q') script: S, on @user_script:1.",
  );
  assert.equal(
    fail("return {struct.unpack('i', 'ab')}"),
    "ERR user_script:1: bad argument #2 to 'unpack' (data string too short) script: S, on @user_script:1.",
  );
});

Deno.test("bit matches Redis (LuaBitOp)", () => {
  assert.deepEqual(
    evalScript(
      "return {bit.tobit(0xffffffff), bit.tobit(2^32+5), bit.bnot(0), bit.bor(1,2,4), bit.bxor(5,3), bit.lshift(1,31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(0x12345678, 8), bit.ror(0x12345678, 8), bit.bswap(0x12345678), bit.tohex(-1), bit.tohex(255, -4), bit.tohex(0x1234, 2)}",
    ),
    [
      -1,
      5,
      -1,
      7,
      6,
      -2147483648,
      15,
      -16,
      878082066,
      2014458966,
      2018915346,
      "ffffffff",
      "00FF",
      "34",
    ],
  );
  assert.deepEqual(
    evalScript("return {bit.tobit(1.5), bit.tobit(-1.5), bit.tobit(2.5), bit.tobit(2^53)}"),
    [2, -2, 2, 0],
  );
  assert.deepEqual(evalScript("return {bit.tohex(65535), bit.band(0xff, 0x0f)}"), ["0000ffff", 15]);
});

Deno.test("sha1Hex matches WebCrypto on random inputs", async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (data) => {
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", data));
      const expected = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
      assert.equal(sha1Hex(data), expected);
    }),
    { numRuns: 100 },
  );
});
