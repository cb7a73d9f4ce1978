#include "samples/verify/redis_stream_reader.hpp"

#include "domain/errors.hpp"

namespace es::verify {

bool EntryView::well_formed() const {
  if (!entry_.is_array() || entry_.size() != 2) return false;
  if (entry_[0].kind() != RedisReplyView::Kind::string) return false;
  const auto fields = entry_[1];
  if (!fields.is_array() || fields.size() % 2 != 0) return false;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].kind() != RedisReplyView::Kind::string) return false;
  }
  return true;
}

RedisStreamReader::RedisStreamReader(RedisUrl url, RedisConnectionOptions options)
    : connection_(std::move(url), options) {}

void RedisStreamReader::connect() {
  connection_.connect();
  auto pong = connection_.command({"PING"});
  if (pong.is_error()) throw_redis_error(pong.view(), "PING");
}

std::string RedisStreamReader::scan(const std::string& cursor, const std::string& pattern,
                                    std::size_t count, std::vector<std::string>& keys) {
  RedisArgs args{"SCAN", cursor, "MATCH", pattern, "COUNT"};
  args.add(static_cast<std::int64_t>(count));
  auto reply = connection_.command(args);
  if (reply.is_error()) throw_redis_error(reply.view(), "SCAN");
  if (reply.size() != 2) throw StoreUnavailable("SCAN gave an unexpected reply");
  const auto found = reply[1];
  for (std::size_t i = 0; i < found.size(); ++i) keys.emplace_back(found[i].str());
  return std::string(reply[0].str());
}

std::optional<std::string> RedisStreamReader::hash_field(const std::string& key,
                                                         const std::string& field) {
  auto reply = connection_.command({"HGET", key, field});
  if (reply.is_error()) throw_redis_error(reply.view(), "HGET");
  if (reply.is_nil()) return std::nullopt;
  return std::string(reply.str());
}

std::vector<std::string> RedisStreamReader::set_members(const std::string& key) {
  std::vector<std::string> members;
  std::string cursor = "0";
  do {
    auto reply = connection_.command({"SSCAN", key, cursor, "COUNT", "1000"});
    if (reply.is_error()) throw_redis_error(reply.view(), "SSCAN");
    if (reply.size() != 2) throw StoreUnavailable("SSCAN gave an unexpected reply");
    for (std::size_t i = 0; i < reply[1].size(); ++i) members.emplace_back(reply[1][i].str());
    cursor = std::string(reply[0].str());
  } while (cursor != "0");
  return members;
}

std::int64_t RedisStreamReader::stream_length(const std::string& key) {
  auto reply = connection_.command({"XLEN", key});
  if (reply.is_error()) return 0;  // not a stream: the checks report it
  return reply.integer();
}

void RedisStreamReader::request_pages(const std::vector<StreamRead>& reads, std::size_t count) {
  const std::string count_text = std::to_string(count);
  for (const auto& r : reads) {
    // "(" + ID: strictly after (Redis 6.2+); "-" from the start.
    const std::string start = r.after == "-" ? std::string("-") : "(" + r.after;
    RedisArgs args{"XRANGE", r.key};
    args.add_copy(start).add("+").add("COUNT").add_copy(count_text);
    connection_.append(args);
  }
  connection_.flush();
}

std::vector<RedisStreamReader::Page> RedisStreamReader::collect() {
  std::vector<Page> pages;
  pages.reserve(connection_.pending());
  while (connection_.pending() > 0) {
    Page page;
    page.reply = connection_.read_reply();
    if (page.reply.is_error()) {
      page.error = std::string(page.reply.str());
      if (is_unavailable_error(page.error)) throw_redis_error(page.reply.view(), "XRANGE");
    } else if (!page.reply.view().is_array()) {
      page.error = "XRANGE did not answer an array";
    }
    pages.push_back(std::move(page));
  }
  return pages;
}

}  // namespace es::verify
