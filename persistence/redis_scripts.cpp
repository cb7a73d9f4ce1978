// Why: see redis_scripts.hpp. Version arithmetic stays below 2^53 (Lua numbers are doubles);
// numbers are formatted with %d so that no exponent form ever reaches an entry ID.
#include "persistence/redis_scripts.hpp"

namespace es {

const char* const kAppendScript = R"lua(
-- es append v1: see persistence/redis_scripts.hpp and docs/STORAGE.md
local call = redis.call

-- The highest version (entry-ID milliseconds part) a stream holds or held; -1 for none.
local function highest(key)
  local top = call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  local id
  if top[1] then
    id = top[1][1]
  else
    if call('EXISTS', key) == 0 then return -1 end
    -- an emptied stream: its last generated id survives the deletes
    local info = call('XINFO', 'STREAM', key)
    for j = 1, #info, 2 do
      if info[j] == 'last-generated-id' then id = info[j + 1] end
    end
    if id == nil or id == '0-0' then return -1 end
  end
  local ms = string.match(id, '^(%d+)%-%d+$')
  if ms == nil then error('es-append: unexpected entry id in ' .. key) end
  return tonumber(ms)
end

-- Integer text without an exponent (Lua 5.1 prints 14 significant digits).
local function text(n)
  if n < 1e14 then return n .. '' end
  return string.format('%d', n)
end

local n = tonumber(ARGV[1])
local nargs = #ARGV
if n == nil or n < 1 or #KEYS ~= n + 1 then
  return redis.error_reply('ERR es-append: bad argument counts')
end

-- Phase 1: parse and check everything. Nothing is written before phase 2.
local heads = {}
local out = {}
local stored = 0
local a = 2
for i = 1, n do
  local key = KEYS[i + 1]
  local expected = tonumber(ARGV[a + 1])
  local count = tonumber(ARGV[a + 2])
  if ARGV[a] == nil or expected == nil or count == nil or count < 1 or expected < -1 or
     a + 2 + 2 * count > nargs then
    return redis.error_reply('ERR es-append: bad arguments for append ' .. i)
  end
  local head = heads[key]
  if head == nil then
    if expected == -1 and call('EXISTS', key) == 0 then
      head = -1
    else
      head = highest(key)
    end
  end
  if head == expected then
    heads[key] = expected + count
    out[2 * i - 1] = 1
    stored = stored + 1
  else
    heads[key] = head
    out[2 * i - 1] = 0
  end
  out[2 * i] = head
  a = a + 3 + 2 * count
end
if a - 1 ~= nargs then
  return redis.error_reply('ERR es-append: bad argument counts')
end
if stored == 0 then return out end

-- Phase 2: write the accepted appends and their notifications, in order.
local log = KEYS[1]
local position = highest(log)
if position < 0 then position = 0 end
a = 2
for i = 1, n do
  local count = tonumber(ARGV[a + 2])
  if out[2 * i - 1] == 1 then
    local key, id, version = KEYS[i + 1], ARGV[a], out[2 * i]
    local arg = a + 3
    for _ = 1, count do
      version = version + 1
      local v = text(version)
      local topic = ARGV[arg]
      call('XADD', key, v .. '-1', 'topic', topic, 'state', ARGV[arg + 1])
      position = position + 1
      call('XADD', log, text(position) .. '-1', 'id', id, 'version', v, 'topic', topic)
      arg = arg + 2
    end
  end
  a = a + 3 + 2 * count
end
return out
)lua";

}  // namespace es
