// Why: see redis_scripts.hpp. Version arithmetic stays below 2^53 (Lua numbers are doubles);
// numbers are formatted with %d so that no exponent form ever reaches an entry ID.
#include "persistence/redis_scripts.hpp"

namespace es {

const char* const kAppendScript = R"lua(
-- es append v1: see persistence/redis_scripts.hpp and docs/STORAGE.md
local function highest(key)
  local top = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  local id
  if #top > 0 then
    id = top[1][1]
  else
    if redis.call('EXISTS', key) == 0 then return -1 end
    -- an emptied stream: its last generated id survives the deletes
    local info = redis.call('XINFO', 'STREAM', key)
    for j = 1, #info, 2 do
      if info[j] == 'last-generated-id' then id = info[j + 1] end
    end
    if id == nil or id == '0-0' then return -1 end
  end
  local ms = string.match(id, '^(%d+)%-%d+$')
  if ms == nil then error('es-append: unexpected entry id in ' .. key) end
  return tonumber(ms)
end

local n = tonumber(ARGV[1])
if n == nil or n < 1 or #KEYS ~= n + 1 then
  return redis.error_reply('ERR es-append: bad argument counts')
end

-- Phase 1: parse and check everything. Nothing is written before phase 2.
local heads = {}
local plan = {}
local out = {}
local a = 2
for i = 1, n do
  local key = KEYS[i + 1]
  local id = ARGV[a]
  local expected = tonumber(ARGV[a + 1])
  local count = tonumber(ARGV[a + 2])
  if id == nil or expected == nil or count == nil or count < 1 or expected < -1 or
     a + 2 + 2 * count > #ARGV then
    return redis.error_reply('ERR es-append: bad arguments for append ' .. i)
  end
  local head = heads[key]
  if head == nil then head = highest(key) end
  if head == expected then
    plan[#plan + 1] = {key, id, expected, count, a + 3}
    heads[key] = expected + count
    out[2 * i - 1] = 1
  else
    heads[key] = head
    out[2 * i - 1] = 0
  end
  out[2 * i] = head
  a = a + 3 + 2 * count
end
if a - 1 ~= #ARGV then
  return redis.error_reply('ERR es-append: bad argument counts')
end

-- Phase 2: write the planned appends and their notifications.
local log = KEYS[1]
local position = 0
if #plan > 0 then
  position = highest(log)
  if position < 0 then position = 0 end
end
for _, p in ipairs(plan) do
  local key, id, version, arg = p[1], p[2], p[3], p[5]
  for _ = 1, p[4] do
    version = version + 1
    local v = string.format('%d', version)
    local topic = ARGV[arg]
    redis.call('XADD', key, v .. '-1', 'topic', topic, 'state', ARGV[arg + 1])
    position = position + 1
    redis.call('XADD', log, string.format('%d', position) .. '-1',
               'id', id, 'version', v, 'topic', topic)
    arg = arg + 2
  end
end
return out
)lua";

}  // namespace es
