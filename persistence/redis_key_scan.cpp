// Why: see redis_key_scan.hpp.
#include "persistence/redis_key_scan.hpp"

#include "domain/errors.hpp"

#include <charconv>

namespace es {
namespace {

constexpr std::size_t kNodeCursorDigits = 20;  // 2^64 has 20 digits

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string strip_zeros(std::string s) {
  const auto first = s.find_first_not_of('0');
  return first == std::string::npos ? "0" : s.substr(first);
}

}  // namespace

RedisScanPage scan_step(RedisConnection& connection, const std::string& cursor,
                        const std::string& pattern, std::size_t count) {
  if (!all_digits(cursor)) throw InvalidInput("bad scan cursor");
  const std::string hint = std::to_string(count == 0 ? 1 : count);
  const auto masters = connection.masters();
  const bool cluster = connection.is_cluster();
  std::size_t index = 0;
  std::string node_cursor = cursor;
  if (cluster && cursor != "0") {
    if (cursor.size() <= kNodeCursorDigits) throw InvalidInput("bad scan cursor");
    const auto head = cursor.substr(0, cursor.size() - kNodeCursorDigits);
    std::from_chars(head.data(), head.data() + head.size(), index);
    if (index < 1 || index > masters.size()) throw InvalidInput("bad scan cursor");
    --index;
    node_cursor = strip_zeros(cursor.substr(head.size()));
  }
  auto reply = connection.command_on(
      masters.at(index), RedisArgs{"SCAN", node_cursor, "MATCH", pattern, "COUNT", hint});
  if (reply.is_error()) throw_redis_error(reply.view(), "listing keys");
  if (reply.size() != 2) throw Error("unexpected SCAN reply");
  RedisScanPage page;
  auto keys = reply[1];
  page.keys.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) page.keys.emplace_back(keys[i].str());
  std::string next(reply[0].str());
  if (!cluster) {
    page.next_cursor = next;
  } else if (next == "0" && index + 1 == masters.size()) {
    page.next_cursor = "0";
  } else {
    if (next == "0") {
      ++index;  // this master is done: the next one from its start
    }
    if (next.size() < kNodeCursorDigits) next.insert(0, kNodeCursorDigits - next.size(), '0');
    page.next_cursor = std::to_string(index + 1) + next;
  }
  return page;
}

void scan_every_master(RedisConnection& connection, const std::string& pattern,
                       const std::function<void(const std::vector<std::string>&)>& visit,
                       std::size_t count) {
  std::string cursor = "0";
  do {
    auto page = scan_step(connection, cursor, pattern, count);
    if (!page.keys.empty()) visit(page.keys);
    cursor = std::move(page.next_cursor);
  } while (cursor != "0");
}

}  // namespace es
