/**
 * The Lua source run once in every fresh state: Redis's `redis.*` API around the host
 * functions, Lua 5.1 compatibility shims over Lua 5.4, the `bit` library, Redis's
 * deterministic `math.random`, and the sandbox (read-only globals and library tables).
 *
 * Before it runs, the engine puts its host functions in the global table `__gocache` (`call`,
 * `pcall`, `log`, `setresp`, `set_repl`, `sha1hex`, `cjson`, `cmsgpack`, `struct`,
 * `version`, `version_num`). The prelude removes that table and returns a table of internals
 * for the engine (see {@link PreludeExports}).
 *
 * The sandbox: scripts run with `_ENV` set to an empty proxy whose reads fall through to the
 * real globals table and whose writes fail, so that neither new globals nor existing ones can be
 * assigned, as with Redis 7's read-only tables; library tables (`string`, `redis`, ...) are
 * proxies in the same way. `rawset`, `setmetatable`, `getmetatable`, `rawget` and `next` see
 * through or refuse the proxies. Error messages are Redis 7.0's.
 *
 * What remains different from Redis's Lua 5.1 (details in README_SECTION.md):
 * - integral floats concatenate as "5.0" (`..`, table.concat); tostring and string.format are
 *   shimmed to print "5";
 * - numbers are 64-bit integers or doubles: integer arithmetic wraps at 2^63, integer `% 0`
 *   raises, the literal `-0` is the integer 0;
 * - Lua 5.4 syntax (goto, //, bitwise operators, <const>, \x and \u escapes) is accepted;
 * - rarer VM error messages keep their 5.4 wording (the common "attempt to ... a nil value"
 *   ones are rewritten by the error handler);
 * - table iteration order (pairs, cjson objects, cmsgpack maps) is Lua 5.4's;
 * - library tables are read-only proxies, so getmetatable(string) is nil.
 */

/** Chunk name of the prelude; the error handler skips frames from it to find the user's line. */
export const PRELUDE_CHUNK = "=gocache";

/** Names of the fields of the table the prelude returns to the engine. */
export type PreludeExports =
  | "env"
  | "globals"
  | "function_env"
  | "run"
  | "memory"
  | "begin_library"
  | "end_library";

/** The prelude's Lua source. */
export const LUA_PRELUDE = String.raw`
local host = __gocache
__gocache = nil
local G = _G
local rawget, rawset, rawequal, setmetatable, getmetatable = rawget, rawset, rawequal, setmetatable, getmetatable
local type, tostring, tonumber, error, select, pairs, next, xpcall, load = type, tostring, tonumber, error, select, pairs, next, xpcall, load
local math_type, math_floor, math_tointeger, math_abs, math_log, math_exp = math.type, math.floor, math.tointeger, math.abs, math.log, math.exp
local string_format, string_gsub, string_sub, string_find, string_rep = string.format, string.gsub, string.sub, string.find, string.rep
local table_unpack, table_concat = table.unpack, table.concat
local dbg_getinfo = debug.getinfo
local co_running, co_yield = coroutine.running, coroutine.yield
local collect = collectgarbage
local READONLY = "Attempt to modify a readonly table"
local PRELUDE = "${PRELUDE_CHUNK}"

local function missing_global(k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 3)
end
local function readonly_newindex()
  error(READONLY, 2)
end

-- Lua 5.1 number formatting: floats as %.14g ("5", not "5.0").
local raw_tostring = tostring
local function lua51_tostring(v)
  if math_type(v) == "float" then return (string_format("%.14g", v)) end
  return raw_tostring(v)
end
tostring = lua51_tostring
G.tostring = lua51_tostring
G.error = function(message, level)
  if type(message) == "number" then message = tostring(message) end
  level = level or 1
  error(message, level > 0 and level + 1 or 0)
end
local current_driver_thread

-- string.format: 5.1 truncates floats for integer conversions and prints %s of floats as %.14g.
local function format_arg(spec, v)
  if math_type(v) ~= "float" then return v end
  if spec == "s" then return tostring(v) end
  if string_find("dicouxX", spec, 1, true) and v == v and v ~= 1/0 and v ~= -1/0 then
    local t = v >= 0 and math_floor(v) or -math_floor(-v)
    return math_tointeger(t) or t
  end
  return v
end
local raw_format = string_format
string.format = function(fmt, ...)
  local n = select("#", ...)
  local args = { ... }
  local has_float = false
  for i = 1, n do if math_type(args[i]) == "float" then has_float = true break end end
  if not has_float then return raw_format(fmt, ...) end
  local i = 0
  for spec in string.gmatch(fmt, "%%[-+ #0]*%d*%.?%d*([%a%%])") do
    if spec ~= "%" then
      i = i + 1
      args[i] = format_arg(spec, args[i])
    end
  end
  return raw_format(fmt, table_unpack(args, 1, n))
end

-- Lua 5.1 functions missing from 5.4.
unpack = table_unpack
loadstring = function(s, chunkname)
  local f, e = load(s, chunkname or s, "t")
  if not f and type(e) == "string" then e = string_gsub(e, " near <eof>$", " near '<eof>'") end
  return f, e
end
G.load = function(chunk, chunkname, mode, ...)
  if select("#", ...) > 0 then return load(chunk, chunkname, "t", ...) end
  return load(chunk, chunkname, "t")
end
gcinfo = function() return math_floor(collect("count")) end
math.pow = function(x, y) return x ^ y end
math.mod = math.fmod
math.log10 = function(x) return math_log(x, 10) end
math.ldexp = function(m, e) return m * 2.0 ^ e end
math.frexp = function(x)
  if x == 0 or x ~= x or x == 1/0 or x == -1/0 then return x, 0 end
  local e = math_floor(math_log(math_abs(x), 2)) + 1
  local m = x / 2.0 ^ e
  if math_abs(m) >= 1 then m, e = m / 2, e + 1 elseif math_abs(m) < 0.5 then m, e = m * 2, e - 1 end
  return m, e
end
math.cosh = function(x) return (math_exp(x) + math_exp(-x)) / 2 end
math.sinh = function(x) return (math_exp(x) - math_exp(-x)) / 2 end
math.tanh = function(x) local a, b = math_exp(x), math_exp(-x) return (a - b) / (a + b) end
table.getn = function(t) return #t end
table.setn = function() error("'setn' is obsolete", 2) end
table.maxn = function(t)
  local max = 0
  for k in pairs(t) do if type(k) == "number" and k > max then max = k end end
  return max
end
table.foreach = function(t, f)
  for k, v in pairs(t) do local r = f(k, v) if r ~= nil then return r end end
end
table.foreachi = function(t, f)
  for i = 1, #t do local r = f(i, t[i]) if r ~= nil then return r end end
end
string.gfind = string.gmatch

-- Redis's math.random: rand48 (redisLrand48), seeded once per state, never reseeded per script.
local rand_state = 0x1234ABCD330E
local RAND_MAX = 0x7fffffff
local function lrand48()
  rand_state = (rand_state * 0x5DEECE66D + 0xB) & 0xFFFFFFFFFFFF
  return rand_state >> 17
end
local function check_int(v, i, fname)
  local n = tonumber(v)
  if n == nil then
    error(string_format("bad argument #%d to '%s' (number expected, got %s)", i, fname, v == nil and "no value" or type(v)), 3)
  end
  if math_type(n) == "float" then n = n >= 0 and math_floor(n) or -math_floor(-n) end
  return math_tointeger(n) or 0
end
math.random = function(...)
  local argc = select("#", ...)
  local r = (lrand48() % RAND_MAX) / RAND_MAX
  if argc == 0 then return r end
  if argc == 1 then
    local u = check_int(..., 1, "random")
    if u < 1 then error("bad argument #1 to 'random' (interval is empty)", 2) end
    return math_floor(r * u) + 1
  end
  if argc == 2 then
    local a, b = ...
    local l, u = check_int(a, 1, "random"), check_int(b, 2, "random")
    if l > u then error("bad argument #2 to 'random' (interval is empty)", 2) end
    return math_floor(r * (u - l + 1)) + l
  end
  error("wrong number of arguments", 2)
end
math.randomseed = function(seed)
  rand_state = ((check_int(seed, 1, "randomseed") & 0xffffffff) << 16) | 0x330E
end

-- The bit library (LuaBitOp semantics: 32-bit signed results, floats rounded half to even).
local function tobit_of(v, i, fname)
  local x = tonumber(v)
  if x == nil then
    error(string_format("bad argument #%d to '%s' (number expected, got %s)", i, fname, v == nil and "no value" or type(v)), 3)
  end
  if math_type(x) == "float" then
    local f = math_floor(x)
    local d = x - f
    if d > 0.5 or (d == 0.5 and f % 2 == 1) then f = f + 1 end
    x = math_tointeger(f % 4294967296) or 0
  end
  x = x & 0xffffffff
  if x >= 0x80000000 then x = x - 0x100000000 end
  return x
end
local function signed(x)
  x = x & 0xffffffff
  if x >= 0x80000000 then return x - 0x100000000 end
  return x
end
local function fold(fname, op)
  return function(a, ...)
    local r = tobit_of(a, 1, fname)
    for i = 1, select("#", ...) do r = op(r, tobit_of((select(i, ...)), i + 1, fname)) end
    return signed(r)
  end
end
bit = {
  tobit = function(x) return tobit_of(x, 1, "tobit") end,
  bnot = function(x) return signed(~tobit_of(x, 1, "bnot")) end,
  band = fold("band", function(a, b) return a & b end),
  bor = fold("bor", function(a, b) return a | b end),
  bxor = fold("bxor", function(a, b) return a ~ b end),
  lshift = function(x, n) return signed(tobit_of(x, 1, "lshift") << (tobit_of(n, 2, "lshift") & 31)) end,
  rshift = function(x, n) return signed((tobit_of(x, 1, "rshift") & 0xffffffff) >> (tobit_of(n, 2, "rshift") & 31)) end,
  arshift = function(x, n) return signed(tobit_of(x, 1, "arshift") >> (tobit_of(n, 2, "arshift") & 31)) end,
  rol = function(x, n)
    local v, s = tobit_of(x, 1, "rol") & 0xffffffff, tobit_of(n, 2, "rol") & 31
    return signed((v << s) | (v >> (32 - s)))
  end,
  ror = function(x, n)
    local v, s = tobit_of(x, 1, "ror") & 0xffffffff, tobit_of(n, 2, "ror") & 31
    return signed((v >> s) | (v << (32 - s)))
  end,
  bswap = function(x)
    local v = tobit_of(x, 1, "bswap") & 0xffffffff
    return signed(((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >> 8) & 0xff00) | (v >> 24))
  end,
  tohex = function(x, n)
    local v = tobit_of(x, 1, "tohex") & 0xffffffff
    local digits = n == nil and 8 or tobit_of(n, 2, "tohex")
    local hex = "%08x"
    if digits < 0 then digits, hex = -digits, "%08X" end
    if digits > 8 then digits = 8 end
    local text = string_format(hex, v)
    return string_sub(text, 9 - digits)
  end,
}

-- The redis table.
local function error_table(message)
  local code, text = "ERR", message
  if string_sub(message, 1, 1) == "-" then
    local space = string_find(message, " ", 1, true)
    if space then code, text = string_sub(message, 2, space - 1), string_sub(message, space + 1)
    else text = string_sub(message, 2) end
  end
  text = string_gsub(string_gsub(text, "^[\r\n]+", ""), "[\r\n]+$", "")
  return { err = code .. " " .. text }
end
local function single_string(...)
  return select("#", ...) == 1 and type((...)) == "string"
end
local redis_api = {
  call = host.call,
  pcall = host.pcall,
  log = host.log,
  setresp = host.setresp,
  set_repl = host.set_repl,
  sha1hex = host.sha1hex,
  error_reply = function(...)
    if not single_string(...) then return error_table("wrong number or type of arguments") end
    local e = ...
    if string_sub(e, 1, 1) ~= "-" then e = "-" .. e end
    return error_table(e)
  end,
  status_reply = function(...)
    if not single_string(...) then return error_table("wrong number or type of arguments") end
    return { ok = (...) }
  end,
  replicate_commands = function() return true end,
  breakpoint = function() return false end,
  debug = function() end,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REPL_NONE = 0, REPL_AOF = 1, REPL_SLAVE = 2, REPL_REPLICA = 2, REPL_ALL = 3,
  REDIS_VERSION = host.version,
  REDIS_VERSION_NUM = host.version_num,
}
cjson = host.cjson
cmsgpack = host.cmsgpack
struct = host.struct

-- Redis 7's pcall (luaRedisPcall): an error object that is a table with a string err field is
-- caught as that string, as older Redis versions raised strings.
local raw_pcall = pcall
local function caught(ok, ...)
  if ok then return true, ... end
  local e = ...
  if type(e) == "table" then
    local text = e.err
    if type(text) == "string" or type(text) == "number" then e = text end
  end
  return false, e
end
pcall = function(...) return caught(raw_pcall(...)) end

-- Removed: what Redis does not offer, and Lua 5.4 additions absent from Redis's Lua 5.1.
io, os, package, require, dofile, loadfile, print, debug, utf8, warn = nil
table.unpack, table.move = nil
string.pack, string.unpack, string.packsize = nil
math.type, math.tointeger, math.ult, math.maxinteger, math.mininteger = nil
coroutine.isyieldable, coroutine.close = nil

-- Read-only proxies.
local real_of = setmetatable({}, { __mode = "k" })
local function readonly(t, on_missing)
  local proxy = {}
  local index = t
  if on_missing then
    index = function(_, k)
      local v = t[k]
      if v == nil then on_missing(k) end
      return v
    end
  end
  setmetatable(proxy, {
    __index = index,
    __newindex = readonly_newindex,
    __pairs = function() return next, t, nil end,
    __len = function() return #t end,
  })
  real_of[proxy] = t
  return proxy
end

local string_proxy = readonly(string)
local string_meta_proxy = readonly({ __index = string_proxy })
local raw_getmetatable, raw_setmetatable, raw_rawset, raw_rawget, raw_next = getmetatable, setmetatable, rawset, rawget, next
G.getmetatable = function(v)
  if real_of[v] then return nil end
  if type(v) == "string" then return string_meta_proxy end
  return raw_getmetatable(v)
end
G.setmetatable = function(t, mt)
  if real_of[t] then error(READONLY, 0) end
  return raw_setmetatable(t, mt)
end
G.rawset = function(t, k, v)
  if real_of[t] then error(READONLY, 0) end
  return raw_rawset(t, k, v)
end
G.rawget = function(t, k)
  return raw_rawget(real_of[t] or t, k)
end
G.next = function(t, k)
  return raw_next(real_of[t] or t, k)
end
coroutine.yield = function(...)
  if co_running() == current_driver_thread then
    error("attempt to yield across metamethod/C-call boundary", 0)
  end
  return co_yield(...)
end

for _, name in pairs({ "string", "math", "table", "coroutine", "bit", "cjson", "cmsgpack", "struct" }) do
  G[name] = readonly(G[name])
end
G.redis = readonly(redis_api)

-- The error handler: Redis's __redis__err__handler (source and line of the user's frame).
local function error_handler(err)
  local level = 2
  local info = dbg_getinfo(level, "Sl")
  while info and (info.what == "C" or info.source == PRELUDE) do
    level = level + 1
    info = dbg_getinfo(level, "Sl")
  end
  if type(err) == "string" then
    err = string_gsub(err, "attempt to ([%a ]-) a (%a+) value %((%a+) '(.-)'%)", "attempt to %1 %3 '%4' (a %2 value)")
  end
  if type(err) ~= "table" then err = { err = "ERR " .. tostring(err) } end
  if info then
    err.source = info.source
    err.line = info.currentline
  end
  return err
end

local function run(fn, ...)
  current_driver_thread = co_running()
  return xpcall(fn, error_handler, ...)
end

-- Environments: EVAL scripts see env (KEYS and ARGV included); functions see function_env.
local script_env = readonly(G, nil)
raw_setmetatable(G, { __index = function(_, k) missing_global(k) end })
G._G = script_env

local function_globals = {}
for k, v in raw_next, G do
  if k ~= "KEYS" and k ~= "ARGV" then function_globals[k] = v end
end
local function_env_meta = { __newindex = readonly_newindex }
local function_env = raw_setmetatable({}, function_env_meta)
real_of[function_env] = function_globals
function_globals._G = function_env
raw_setmetatable(function_globals, { __index = function(_, k) missing_global(k) end })
function_env_meta.__index = function_globals

-- FUNCTION LOAD: the library body sees only redis.register_function, redis.log and constants.
local loading
local function registration_error(message)
  error({ err = "ERR " .. message })
end
local FLAG_NAMES = { ["no-writes"] = true, ["allow-oom"] = true, ["allow-stale"] = true, ["no-cluster"] = true, ["allow-cross-slot-keys"] = true }
local function read_flags(t)
  local flags = {}
  for _, v in raw_next, t do
    if type(v) ~= "string" and type(v) ~= "number" then return nil end
    local name = string.lower(tostring(v))
    if not FLAG_NAMES[name] then return nil end
    flags[#flags + 1] = name
  end
  return flags
end
local function read_named(t)
  local spec = { flags = {} }
  for k, v in raw_next, t do
    if type(k) ~= "string" and type(k) ~= "number" then
      registration_error("named argument key given to redis.register_function is not a string")
    end
    local key = string.lower(tostring(k))
    if key == "function_name" then
      if type(v) ~= "string" and type(v) ~= "number" then registration_error("function_name argument given to redis.register_function must be a string") end
      spec.name = tostring(v)
    elseif key == "description" then
      if type(v) ~= "string" and type(v) ~= "number" then registration_error("description argument given to redis.register_function must be a string") end
      spec.description = tostring(v)
    elseif key == "callback" then
      if type(v) ~= "function" then registration_error("callback argument given to redis.register_function must be a function") end
      spec.callback = v
    elseif key == "flags" then
      if type(v) ~= "table" then registration_error("flags argument to redis.register_function must be a table representing function flags") end
      spec.flags = read_flags(v)
      if not spec.flags then registration_error("unknown flag given") end
    else
      registration_error("unknown argument given to redis.register_function")
    end
  end
  if spec.name == nil then registration_error("redis.register_function must get a function name argument") end
  if spec.callback == nil then registration_error("redis.register_function must get a callback argument") end
  return spec
end
local function register_function(...)
  local argc = select("#", ...)
  if argc < 1 or argc > 2 then registration_error("wrong number of arguments to redis.register_function") end
  local spec
  if argc == 1 then
    local t = ...
    if type(t) ~= "table" then
      registration_error("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")
    end
    spec = read_named(t)
  else
    local name, callback = ...
    if type(name) ~= "string" and type(name) ~= "number" then registration_error("first argument to redis.register_function must be a string") end
    if type(callback) ~= "function" then registration_error("second argument to redis.register_function must be a function") end
    spec = { name = tostring(name), callback = callback, flags = {} }
  end
  if not string_find(spec.name, "^[%w_]+$") then
    registration_error("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long")
  end
  if loading.by_name[spec.name] then registration_error("Function already exists in the library") end
  loading.by_name[spec.name] = true
  loading.list[#loading.list + 1] = spec
end
local load_redis = readonly({
  register_function = register_function,
  log = host.log,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = host.version,
  REDIS_VERSION_NUM = host.version_num,
}, missing_global)
local load_globals = raw_setmetatable({ redis = load_redis }, { __index = function(_, k) missing_global(k) end })

return {
  env = script_env,
  globals = G,
  function_env = function_env,
  run = run,
  memory = function() return collect("count") end,
  begin_library = function()
    loading = { list = {}, by_name = {} }
    function_env_meta.__index = load_globals
  end,
  end_library = function()
    function_env_meta.__index = function_globals
    local list = loading.list
    loading = nil
    return list
  end,
}
`;
