// Why: see example_read_model_redis.hpp. The Lua body below and apply_entry() in
// example_read_model.cpp state the same effects.
#include "samples/example/example_read_model_redis.hpp"

#include "domain/errors.hpp"

#include <algorithm>
#include <charconv>

namespace es {
namespace {

// check/apply/finish for TrackedScript. args: {kind} for 'h' (heartbeats) and 'o' (nothing),
// {kind, uuid, token} for 'c' (created), 'f' (foo changed) and 'd' (discarded).
const char* const kBody = R"lua(
local live, index = KEYS[3], KEYS[4]
local beats = 0
local function check(args)
  local kind = args[1]
  if kind == 'h' or kind == 'o' then
    if #args ~= 1 then return 'wrong argument count' end
  elseif kind == 'c' or kind == 'f' or kind == 'd' then
    if #args ~= 3 or string.len(args[2]) ~= 36 then return 'wrong arguments' end
    if string.find(args[3], ':', 1, true) then return 'bad token' end
  else
    return 'unknown change'
  end
  return nil
end
local function unindex(id)
  local old = redis.call('HGET', live, id)
  if old and old ~= '' then redis.call('ZREM', index, old .. ':' .. id) end
  return old
end
local function set(id, token)
  redis.call('HSET', live, id, token)
  if token ~= '' then redis.call('ZADD', index, 0, token .. ':' .. id) end
end
local function apply(args, count)
  local kind = args[1]
  if kind == 'h' then
    beats = beats + count
  elseif kind == 'c' then
    unindex(args[2])
    set(args[2], args[3])
  elseif kind == 'f' then
    if unindex(args[2]) then set(args[2], args[3]) end
  elseif kind == 'd' then
    if unindex(args[2]) then redis.call('HDEL', live, args[2]) end
  end
end
local function finish()
  if beats > 0 then redis.call('HINCRBY', tracking, 'heartbeats', string.format('%d', beats)) end
end
)lua";

std::int64_t parse_number(const RedisReplyView& v, const char* what) {
  if (v.is_nil()) return 0;
  if (v.kind() == RedisReplyView::Kind::integer) return v.integer();
  auto s = v.str();
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    throw Error(std::string("the projection's ") + what + " is not a number");
  }
  return value;
}

void check_name(const std::string& name) {
  if (name.empty()) throw ConfigurationError("a projection needs a name");
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) throw ConfigurationError("a projection name holds letters, digits, '-' and '_'");
  }
}

}  // namespace

const char* RedisExampleReadModel::script_body() {
  return kBody;
}

RedisExampleReadModel::RedisExampleReadModel(std::shared_ptr<RedisPool> pool, RedisKeys keys,
                                             std::string name, int replica_acks,
                                             std::chrono::milliseconds replica_ack_timeout)
    : pool_(std::move(pool)),
      keys_(std::move(keys)),
      name_(std::move(name)),
      replica_acks_(replica_acks),
      replica_ack_timeout_(replica_ack_timeout),
      script_(std::make_unique<TrackedScript>(kBody)) {
  if (!pool_) throw ConfigurationError("a read model needs a Redis pool");
  check_name(name_);
}

std::string RedisExampleReadModel::state_key(int partition) const {
  return keys_.prefix() + ":" + keys_.tag(partition) + ":projection:" + name_;
}
std::string RedisExampleReadModel::live_key(int partition) const {
  return state_key(partition) + ":live";
}
std::string RedisExampleReadModel::index_key(int partition) const {
  return state_key(partition) + ":foo";
}

std::vector<std::int64_t> RedisExampleReadModel::positions(
    const std::vector<int>& partitions) const {
  std::vector<std::string> keys;
  keys.reserve(partitions.size());
  for (int p : partitions) {
    if (p < 0 || p >= keys_.partitions()) throw InvalidInput("no such partition");
    keys.push_back(state_key(p));
  }
  if (keys.empty()) return {};
  auto lease = pool_->acquire();
  return read_tracked_positions(*lease, keys);
}

std::vector<TrackedResult> RedisExampleReadModel::apply(
    const std::vector<ExampleChanges>& batches) {
  std::vector<TrackedCall> calls;
  calls.reserve(batches.size());
  for (const auto& b : batches) {
    if (b.partition < 0 || b.partition >= keys_.partitions()) {
      throw InvalidInput("no such partition");
    }
    TrackedCall call;
    call.keys = {state_key(b.partition), keys_.log(b.partition), live_key(b.partition),
                 index_key(b.partition)};
    call.entries = to_tracked_entries(b.changes);
    calls.push_back(std::move(call));
  }
  if (calls.empty()) return {};
  auto lease = pool_->acquire();
  auto results = script_->run(*lease, calls);
  if (replica_acks_ > 0) {
    const auto acks = lease->wait_for_replicas(replica_acks_, replica_ack_timeout_);
    if (acks < replica_acks_) {
      throw StoreUnavailable("the read model's writes reached " + std::to_string(acks) + " of " +
                             std::to_string(replica_acks_) + " replicas in time");
    }
  }
  return results;
}

ExampleStats RedisExampleReadModel::stats() const {
  const int n = keys_.partitions();
  std::vector<std::string> state(static_cast<std::size_t>(n)), live(static_cast<std::size_t>(n));
  std::vector<RedisArgs> commands;
  commands.reserve(2 * static_cast<std::size_t>(n));
  for (int p = 0; p < n; ++p) {
    state[static_cast<std::size_t>(p)] = state_key(p);
    live[static_cast<std::size_t>(p)] = live_key(p);
  }
  for (int p = 0; p < n; ++p) {
    commands.push_back(
        RedisArgs{"HMGET", state[static_cast<std::size_t>(p)], "position", "heartbeats"});
    commands.push_back(RedisArgs{"HLEN", live[static_cast<std::size_t>(p)]});
  }
  auto lease = pool_->acquire();
  auto replies = lease->pipeline(commands);
  ExampleStats s;
  for (int p = 0; p < n; ++p) {
    const auto& fields = replies[2 * static_cast<std::size_t>(p)];
    const auto& count = replies[2 * static_cast<std::size_t>(p) + 1];
    if (fields.is_error()) throw_redis_error(fields.view(), "reading the projection");
    if (count.is_error()) throw_redis_error(count.view(), "reading the projection");
    s.positions.push_back(parse_number(fields[0], "position"));
    s.heartbeats += parse_number(fields[1], "heartbeat count");
    s.examples += count.integer();
  }
  return s;
}

std::vector<std::string> RedisExampleReadModel::ids_with_token(const std::string& token) const {
  if (token.empty() || token.find(':') != std::string::npos) return {};
  const int n = keys_.partitions();
  std::vector<std::string> index(static_cast<std::size_t>(n));
  const std::string lo = "[" + token + ":";
  const std::string hi = "(" + token + ";";  // ';' follows ':'
  std::vector<RedisArgs> commands;
  for (int p = 0; p < n; ++p) index[static_cast<std::size_t>(p)] = index_key(p);
  for (int p = 0; p < n; ++p) {
    commands.push_back(RedisArgs{"ZRANGEBYLEX", index[static_cast<std::size_t>(p)], lo, hi});
  }
  auto lease = pool_->acquire();
  auto replies = lease->pipeline(commands);
  std::vector<std::string> out;
  for (const auto& r : replies) {
    if (r.is_error()) throw_redis_error(r.view(), "reading the projection's index");
    for (std::size_t i = 0; i < r.size(); ++i) {
      auto member = r[i].str();
      if (member.size() > token.size() + 1) out.emplace_back(member.substr(token.size() + 1));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void RedisExampleReadModel::clear() {
  const int n = keys_.partitions();
  std::vector<std::string> keys;
  keys.reserve(3 * static_cast<std::size_t>(n));
  for (int p = 0; p < n; ++p) {
    keys.push_back(state_key(p));
    keys.push_back(live_key(p));
    keys.push_back(index_key(p));
  }
  std::vector<RedisArgs> commands;
  for (int p = 0; p < n; ++p) {
    // One DEL per partition: its three keys go together (one slot, atomic).
    const auto at = 3 * static_cast<std::size_t>(p);
    commands.push_back(RedisArgs{"DEL", keys[at], keys[at + 1], keys[at + 2]});
  }
  auto lease = pool_->acquire();
  for (const auto& r : lease->pipeline(commands)) {
    if (r.is_error()) throw_redis_error(r.view(), "clearing the projection");
  }
}

std::vector<ExamplePartitionDump> RedisExampleReadModel::dump() const {
  const int n = keys_.partitions();
  std::vector<ExamplePartitionDump> out(static_cast<std::size_t>(n));
  auto lease = pool_->acquire();
  for (int p = 0; p < n; ++p) {
    const std::string state = state_key(p), live = live_key(p), index = index_key(p);
    std::vector<RedisArgs> commands;
    commands.push_back(RedisArgs{"HMGET", state, "position", "heartbeats"});
    commands.push_back(RedisArgs{"HGETALL", live});
    commands.push_back(RedisArgs{"ZRANGE", index, "0", "-1"});
    auto replies = lease->pipeline(commands);
    for (const auto& r : replies) {
      if (r.is_error()) throw_redis_error(r.view(), "reading the projection");
    }
    auto& part = out[static_cast<std::size_t>(p)];
    part.position = parse_number(replies[0][0], "position");
    part.heartbeats = parse_number(replies[0][1], "heartbeat count");
    for (std::size_t i = 0; i + 1 < replies[1].size(); i += 2) {
      part.live.emplace(std::string(replies[1][i].str()), std::string(replies[1][i + 1].str()));
    }
    for (std::size_t i = 0; i < replies[2].size(); ++i) {
      part.index.emplace(std::string(replies[2][i].str()));
    }
  }
  return out;
}

}  // namespace es
