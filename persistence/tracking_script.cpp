// Why: see tracking_script.hpp. The Lua is kept in this one reviewed place.
#include "persistence/tracking_script.hpp"

#include "domain/errors.hpp"

#include <charconv>
#include <optional>

namespace es {
namespace {

const char* const kPrologue = R"lua(
local tracking, log = KEYS[1], KEYS[2]
local n = tonumber(ARGV[1])
if n == nil or n < 0 then return redis.error_reply('ERR tracked script: bad entry count') end
)lua";

const char* const kEpilogue = R"lua(
local entries = {}
local at = 2
for i = 1, n do
  local first, last, argc = tonumber(ARGV[at]), tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])
  if first == nil or last == nil or argc == nil or first < 1 or last < first or argc < 0
      or at + 2 + argc > #ARGV then
    return redis.error_reply('ERR tracked script: malformed entry ' .. i)
  end
  local args = {}
  for j = 1, argc do args[j] = ARGV[at + 2 + j] end
  local problem = check(args)
  if problem then
    return redis.error_reply('ERR tracked script: entry ' .. i .. ': ' .. problem)
  end
  entries[i] = {first, last, args, ARGV[at + 1]}
  at = at + 3 + argc
end
if at ~= #ARGV + 1 then return redis.error_reply('ERR tracked script: trailing arguments') end
local stored = 0
local stored_text = redis.call('HGET', tracking, 'position')
if stored_text then
  stored = tonumber(stored_text)
  if stored == nil then
    return redis.error_reply('ERR tracked script: the stored position is not a number')
  end
end
-- The log's last position, read once when needed: nothing is applied past it (a store that
-- lost the log's tail in a crash must not see positions it no longer has).
local head = nil
local function log_head()
  if head == nil then
    head = 0
    local top = redis.call('XREVRANGE', log, '+', '-', 'COUNT', 1)
    if top[1] then head = tonumber(string.match(top[1][1], '^(%d+)')) or 0 end
  end
  return head
end
local applied, gap, last_text = 0, 0, nil
for i = 1, n do
  local e = entries[i]
  if e[2] <= stored then
    -- at or below the stored position: applied before, skipped
  elseif e[2] > log_head() then
    gap = 2  -- refused: beyond the log's last entry
    break
  elseif e[1] <= stored + 1 then
    local count = e[2] - stored
    apply(e[3], count)
    applied = applied + count
    stored = e[2]
    last_text = e[4]
  else
    gap = 1  -- refused: the positions in between are not applied yet
    break
  end
end
if applied > 0 then
  finish()
  redis.call('HSET', tracking, 'position', last_text)
end
return {stored, applied, gap}
)lua";

std::int64_t parse_position(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0) {
    throw Error("a stored projection position is not a number");
  }
  return value;
}

}  // namespace

TrackedScript::TrackedScript(const std::string& body)
    : source_(std::string(kPrologue) + body + kEpilogue) {}

std::string TrackedScript::load(RedisConnection& connection) {
  auto reply = connection.command({"SCRIPT", "LOAD", source_});
  if (reply.is_error()) throw_redis_error(reply.view(), "loading a projection script");
  std::lock_guard lock(mutex_);
  sha_ = std::string(reply.str());
  return sha_;
}

std::vector<TrackedResult> TrackedScript::run(RedisConnection& connection,
                                              const std::vector<TrackedCall>& calls) {
  std::vector<TrackedResult> results(calls.size());
  if (calls.empty()) return results;
  std::string sha;
  {
    std::lock_guard lock(mutex_);
    sha = sha_;
  }
  if (sha.empty()) sha = load(connection);

  std::vector<std::size_t> todo(calls.size());
  for (std::size_t i = 0; i < calls.size(); ++i) todo[i] = i;
  for (int attempt = 0; attempt < 2 && !todo.empty(); ++attempt) {
    for (auto i : todo) {
      const auto& call = calls[i];
      if (call.keys.empty()) throw InvalidInput("a tracked call needs its tracking key");
      RedisArgs args{"EVALSHA", sha};
      args.add(static_cast<std::int64_t>(call.keys.size()));
      for (const auto& k : call.keys) args.add(std::string_view(k));
      args.add(static_cast<std::int64_t>(call.entries.size()));
      for (const auto& e : call.entries) {
        args.add(e.first).add(e.last).add(static_cast<std::int64_t>(e.args.size()));
        for (const auto& a : e.args) args.add(std::string_view(a));
      }
      connection.append(args);
    }
    std::vector<std::size_t> again;
    std::optional<RedisReply> failure;  // the first error; every reply is read first
    for (auto i : todo) {
      auto reply = connection.read_reply();
      if (reply.is_error()) {
        if (reply.str().substr(0, 8) == "NOSCRIPT") {
          again.push_back(i);
        } else if (!failure) {
          failure = std::move(reply);
        }
        continue;
      }
      if (reply.size() != 3) throw Error("the tracking script returned an unexpected reply");
      results[i].stored = reply[0].integer();
      results[i].applied = reply[1].integer();
      results[i].gap = reply[2].integer() != 0;
      results[i].beyond_log = reply[2].integer() == 2;
    }
    if (failure) throw_redis_error(failure->view(), "applying a projection's effects");
    todo = std::move(again);
    if (!todo.empty()) sha = load(connection);
  }
  if (!todo.empty()) throw StoreUnavailable("the projection script could not be loaded");
  return results;
}

std::vector<std::int64_t> read_tracked_positions(RedisConnection& connection,
                                                 const std::vector<std::string>& tracking_keys) {
  std::vector<RedisArgs> commands;
  commands.reserve(tracking_keys.size());
  for (const auto& k : tracking_keys) commands.push_back(RedisArgs{"HGET", k, "position"});
  auto replies = connection.pipeline(commands);
  std::vector<std::int64_t> out;
  out.reserve(replies.size());
  for (const auto& r : replies) {
    if (r.is_error()) throw_redis_error(r.view(), "reading projection positions");
    out.push_back(r.is_nil() ? 0 : parse_position(r.str()));
  }
  return out;
}

}  // namespace es
