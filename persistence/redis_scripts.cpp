// Why: see redis_scripts.hpp. Version arithmetic stays below 2^53 (Lua numbers are doubles);
// numbers are formatted with %d so that no exponent form ever reaches an entry ID. Written
// for speed as much as for clarity: every redis.call, tonumber and number formatting counts
// (about 10 us per one-event append on the benchmark machine, see docs/BENCHMARKS.md).
#include "persistence/redis_scripts.hpp"

namespace es {

const char* const kAppendScript = R"lua(
-- es append v6: see persistence/redis_scripts.hpp and docs/STORAGE.md
local call = redis.call

-- The highest version (entry-ID milliseconds part) a stream holds or held; -1 for none;
-- nil when the key holds something else than a stream.
local function highest(key)
  local top = redis.pcall('XREVRANGE', key, '+', '-', 'COUNT', 1)
  if top.err then return nil end
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
  if ms == nil then return nil end
  return tonumber(ms)
end

-- Integer text (never an exponent; %d is also faster than Lua's own number formatting).
local fmt = string.format
local function text(n)
  return fmt('%d', n)
end

local nargs = #ARGV
local nkeys = #KEYS

-- Phase 1a: parse every group and every append. Nothing is written before all passed.
local groups = {}    -- per group: log key, first append, append count
local keys = {}      -- entity stream of append i
local at = {}        -- ARGV index of the first (topic, state) pair of append i
local ids = {}
local expectations = {}
local counts = {}
local a, k, total = 1, 1, 0
while a <= nargs do
  local n = tonumber(ARGV[a])
  if n == nil or n < 1 or k + n > nkeys then
    return redis.error_reply('ERR es-append: bad argument counts')
  end
  groups[#groups + 1] = {KEYS[k], total + 1, n}
  a = a + 1
  for j = 1, n do
    local i = total + j
    local expected = tonumber(ARGV[a + 1])
    local count = tonumber(ARGV[a + 2])
    if ARGV[a] == nil or expected == nil or count == nil or count < 1 or expected < -1 or
       a + 2 + 2 * count > nargs then
      return redis.error_reply('ERR es-append: bad arguments for append ' .. i)
    end
    keys[i] = KEYS[k + j]
    ids[i] = ARGV[a]
    expectations[i] = expected
    counts[i] = count
    at[i] = a + 3
    a = a + 3 + 2 * count
  end
  total = total + n
  k = k + 1 + n
end
if total == 0 or k - 1 ~= nkeys then
  return redis.error_reply('ERR es-append: bad argument counts')
end

-- Phase 1b: check each append against its stream's highest version. Nothing is written yet.
local heads = {}
local out = {}
local stored = 0
for i = 1, total do
  local key = keys[i]
  local expected = expectations[i]
  local head = heads[key]
  if head == nil then
    -- XLEN - 1 is the highest version of a stream only this script wrote to, and never more
    -- than it (versions are distinct IDs). Less after delete_records: then the top entry
    -- tells. Equal to the expected version while the top is higher (deletes, foreign
    -- entries): the append's first XADD meets the higher ID and it becomes a conflict below.
    local len = redis.pcall('XLEN', key)
    if type(len) == 'number' then
      head = len - 1
      if head ~= expected then head = highest(key) end
    end
    if head == nil then head = -2 end
  end
  if head == -2 then
    out[2 * i - 1] = 2
  elseif head == expected then
    heads[key] = expected + counts[i]
    out[2 * i - 1] = 1
    stored = stored + 1
  else
    out[2 * i - 1] = 0
  end
  if heads[key] == nil then heads[key] = head end
  out[2 * i] = head
end
if stored == 0 then return out end

-- Phase 1c: the last position of every log that gets entries (a log that is no stream is
-- refused here, before any write).
local positions = {}
for g = 1, #groups do
  local log, first, n = groups[g][1], groups[g][2], groups[g][3]
  local needed = false
  for i = first, first + n - 1 do
    if out[2 * i - 1] == 1 then needed = true end
  end
  if needed and positions[log] == nil then
    local position = highest(log)
    if position == nil then
      return redis.error_reply('WRONGTYPE es-append: the notification log is not a stream')
    end
    if position < 0 then position = 0 end
    positions[log] = position
  end
end

-- Phase 2: write the accepted appends and their notifications, in order. A group's events get
-- one log entry (at most kPerEntry of them each) with one field, events: a line
-- "<id> <version> <topic>" per event, the entry's ID the position of its last one, so the
-- positions stay contiguous and each event keeps its own. One field rather than three per
-- event: fewer values through Lua and into the listpack, and the field name shared with the
-- node's first entry (docs/BENCHMARKS.md "The packed log entry").
local kPerEntry = 1000  -- bounds an entry (and so the events a reader gets past its page)
local concat = table.concat

-- Writes one log entry of `events` events whose last is at `last`; returns the position of
-- its last event. Should the log's last generated ID be above its top entry (that entry was
-- deleted by hand), the entry goes right after it: a gap in the positions, which readers
-- and es-verify report, but no stored event left out of the log.
local function log_entry(log, last, fields, events)
  local packed = concat(fields, '', 1, events * 6)
  local ok = redis.pcall('XADD', log, text(last) .. '-1', 'events', packed)
  if type(ok) == 'table' and ok.err then
    if not string.find(ok.err, 'equal or smaller', 1, true) then
      return error(ok)  -- after writes: raised as Redis raises it (e.g. out of memory)
    end
    local info = call('XINFO', 'STREAM', log)
    for j = 1, #info, 2 do
      if info[j] == 'last-generated-id' then
        last = tonumber(string.match(info[j + 1], '^(%d+)')) + events
      end
    end
    call('XADD', log, text(last) .. '-1', 'events', packed)
  end
  return last
end
local failed = {}
local written = false
for g = 1, #groups do
  local log, first, n = groups[g][1], groups[g][2], groups[g][3]
  local position = positions[log]
  local fields, events = {}, 0
  for i = first, first + n - 1 do
    if out[2 * i - 1] == 1 and failed[keys[i]] then
      out[2 * i - 1] = 0
      out[2 * i] = highest(keys[i]) or -2
    elseif out[2 * i - 1] == 1 then
      local key, id, version, arg = keys[i], ids[i], out[2 * i], at[i]
      for j = 1, counts[i] do
        version = version + 1
        local v = text(version)
        local topic = ARGV[arg]
        if j == 1 then
          -- Only this XADD can meet a higher ID (foreign entries, or deletes that left the
          -- stream at the expected length): then nothing of it is written.
          local ok = redis.pcall('XADD', key, v .. '-1', 'topic', topic, 'state', ARGV[arg + 1])
          if type(ok) == 'table' and ok.err then
            -- Anything but a too-small ID (e.g. OOM, refused at a script's first write only)
            -- is the caller's to see, as long as nothing has been written.
            if not written and not string.find(ok.err, 'equal or smaller', 1, true) then
              return redis.error_reply(ok.err)
            end
            failed[key] = true
            out[2 * i - 1] = 0
            out[2 * i] = highest(key) or -2
            break
          end
          written = true
        else
          call('XADD', key, v .. '-1', 'topic', topic, 'state', ARGV[arg + 1])
        end
        position = position + 1
        local f = events * 6
        fields[f + 1], fields[f + 2], fields[f + 3] = id, ' ', v
        fields[f + 4], fields[f + 5], fields[f + 6] = ' ', topic, '\n'
        events = events + 1
        if events == kPerEntry then
          position = log_entry(log, position, fields, events)
          events = 0
        end
        arg = arg + 2
      end
    end
  end
  if events > 0 then position = log_entry(log, position, fields, events) end
  positions[log] = position
end
return out
)lua";

}  // namespace es
