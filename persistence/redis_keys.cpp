// Why: see redis_keys.hpp; the normative description is docs/STORAGE.md.
#include "persistence/redis_keys.hpp"

#include "domain/errors.hpp"
#include "persistence/redis_connection.hpp"

#include <algorithm>
#include <charconv>

namespace es {

std::optional<std::int64_t> parse_number(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || value < 0) return std::nullopt;
  return value;
}

void check_key_prefix(const std::string& prefix) {
  if (prefix.empty()) throw ConfigurationError("the Redis key prefix must not be empty");
  for (char c : prefix) {
    auto u = static_cast<unsigned char>(c);
    if (c == '{' || c == '}' || u <= 32 || u == 127) {
      throw ConfigurationError(
          "the Redis key prefix must not hold braces, spaces or control characters");
    }
  }
  if ((prefix + ":").find(":entity:") != std::string::npos) {
    throw ConfigurationError("the Redis key prefix must not contain \":entity:\"");
  }
}

RedisKeys::RedisKeys(std::string prefix, int partitions)
    : prefix_(std::move(prefix)), partitions_(partitions) {
  check_key_prefix(prefix_);
  if (partitions_ < 1) throw ConfigurationError("partitions must be >= 1");
  digits_ = static_cast<int>(std::to_string(partitions_ - 1).size());
  if (digits_ < 2) digits_ = 2;
  entity_prefixes_.reserve(static_cast<std::size_t>(partitions_));
  for (int p = 0; p < partitions_; ++p) {
    entity_prefixes_.push_back(prefix_ + ":" + tag(p) + ":entity:");
  }
}

void append_uuid(std::string& out, const Uuid& id) {
  static const char* hex = "0123456789abcdef";
  char text[36];
  std::size_t at = 0;
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text[at++] = '-';
    text[at++] = hex[id.data[i] >> 4];
    text[at++] = hex[id.data[i] & 15];
  }
  out.append(text, sizeof text);
}

std::string RedisKeys::tag(int partition) const {
  std::string n = std::to_string(partition);
  if (static_cast<int>(n.size()) < digits_)
    n.insert(0, static_cast<std::size_t>(digits_) - n.size(), '0');
  return "{p" + n + "}";
}

std::string RedisKeys::meta() const {
  return prefix_ + ":meta";
}

std::string RedisKeys::entity(const Uuid& id) const {
  std::string key;
  append_entity(key, id);
  return key;
}

void RedisKeys::append_entity(std::string& out, const Uuid& id) const {
  out += entity_prefixes_[static_cast<std::size_t>(partition_of(id))];
  append_uuid(out, id);
}

std::string RedisKeys::log(int partition) const {
  return prefix_ + ":" + tag(partition) + ":log";
}

std::string RedisKeys::deleted(int partition) const {
  return prefix_ + ":" + tag(partition) + ":deleted";
}

std::string RedisKeys::snapshot(const Uuid& id) const {
  return prefix_ + ":" + tag(partition_of(id)) + ":snapshot:" + to_string(id);
}

std::string RedisKeys::bucket(const Uuid& id) const {
  return prefix_ + ":log:" + to_string(id);
}

std::string RedisKeys::entity_pattern() const {
  std::string escaped;
  for (char c : prefix_) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  return escaped + ":{p*}:entity:*";
}

std::optional<Uuid> RedisKeys::entity_id_of(std::string_view key) const {
  constexpr std::string_view kEntity = ":entity:";
  if (key.size() < prefix_.size() + 1 || key.substr(0, prefix_.size()) != prefix_ ||
      key[prefix_.size()] != ':') {
    return std::nullopt;
  }
  const auto at = key.rfind(kEntity);
  if (at == std::string_view::npos) return std::nullopt;
  auto text = key.substr(at + kEntity.size());
  auto id = parse_uuid(text);
  if (!id || to_string(*id) != text) return std::nullopt;  // lowercase only
  if (key != entity(*id)) return std::nullopt;
  return id;
}

int open_partitions(RedisConnection& connection, const std::string& prefix, int requested) {
  check_key_prefix(prefix);
  if (requested < 0) throw ConfigurationError("partitions must be >= 1");
  const std::string meta = prefix + ":meta";
  const std::string wanted = std::to_string(requested == 0 ? kDefaultPartitions : requested);
  std::vector<RedisArgs> commands;
  commands.push_back(RedisArgs{"HSETNX", meta, "partitions", wanted});
  commands.push_back(RedisArgs{"HGET", meta, "partitions"});
  auto replies = connection.pipeline(commands);
  for (const auto& r : replies) {
    if (r.is_error()) throw_redis_error(r.view(), "recording the partition count in " + meta);
  }
  auto stored = parse_number(replies[1].str());
  if (!stored || *stored < 1 || *stored > 1'000'000) {
    throw ConfigurationError("the partition count recorded in " + meta + " is not a valid number");
  }
  const int count = static_cast<int>(*stored);
  if (requested != 0 && count != requested) {
    throw ConfigurationError("the Redis store " + prefix + " was created with " +
                             std::to_string(count) + " partitions, not " +
                             std::to_string(requested));
  }
  return count;
}

std::optional<std::int64_t> parse_exact_id(std::string_view id) {
  if (id.size() < 3 || id.substr(id.size() - 2) != "-1") return std::nullopt;
  return parse_number(id.substr(0, id.size() - 2));
}

std::optional<std::int64_t> parse_id_ms(std::string_view id) {
  const auto dash = id.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto seq = id.substr(dash + 1);
  if (seq.empty() || seq.size() > 20) return std::nullopt;
  for (char c : seq) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return parse_number(id.substr(0, dash));
}

void drop_before(std::vector<Notification>& events, std::int64_t first) {
  const auto kept = std::find_if(events.begin(), events.end(),
                                 [&](const Notification& n) { return n.position >= first; });
  events.erase(events.begin(), kept);
}

std::int64_t position_span(std::size_t events) {
  return static_cast<std::int64_t>(std::min<std::size_t>(events, std::size_t{1} << 40));
}

std::optional<LoggedEvent> next_logged_event(std::string_view& rest) {
  const auto end = rest.find('\n');
  if (end == std::string_view::npos) return std::nullopt;
  const auto line = rest.substr(0, end);
  const auto a = line.find(' ');
  const auto b = a == std::string_view::npos ? a : line.find(' ', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  rest.remove_prefix(end + 1);
  return LoggedEvent{line.substr(0, a), line.substr(a + 1, b - a - 1), line.substr(b + 1)};
}

std::optional<LoggedEvent> LoggedEvents::next() {
  if (!packed_) return read_ < triples_.size() ? triples_[read_++] : std::nullopt;
  auto event = next_logged_event(rest_);
  if (!event) {  // past the line that is not of the form
    const auto end = rest_.find('\n');
    rest_.remove_prefix(end == std::string_view::npos ? rest_.size() : end + 1);
  }
  return event;
}

void decode_log_entry(const RedisReplyView& entry, int partition, std::vector<Notification>& out) {
  auto fail = [&](const std::string& why) {
    throw RecordDecodingError("notification of partition " + std::to_string(partition) +
                              " cannot be decoded: " + why);
  };
  if (!entry.is_array() || entry.size() != 2) fail("malformed stream entry");
  auto last = parse_exact_id(entry[0].str());
  if (!last) fail("entry id is not of the form <position>-1");
  auto fields = entry[1];
  if (!fields.is_array()) fail("malformed stream entry");
  LoggedEvents logged(fields.size(), [&](std::size_t i) { return fields[i].str(); });
  const auto events = logged.events();
  if (events == 0) {
    fail((logged.packed() ? "the entry's events are not one line each at position "
                          : "the entry's fields are neither events nor (id, version, topic) per "
                            "event at position ") +
         std::to_string(*last));
  }
  if (*last < events) fail("entry " + std::to_string(*last) + " holds positions below 1");
  const auto before = out.size();
  try {
    for (std::int64_t e = 0; e < events; ++e) {
      const auto position = *last - events + 1 + e;
      const auto event = logged.next();
      auto id = event ? parse_uuid(event->id) : std::nullopt;
      auto version = event ? parse_number(event->version) : std::nullopt;
      if (!id || !version) fail("bad event at position " + std::to_string(position));
      out.push_back(Notification{position, *id, *version, std::string(event->topic)});
    }
  } catch (...) {
    out.resize(before);
    throw;
  }
}

}  // namespace es
