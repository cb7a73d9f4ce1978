#include "samples/verify/redis_stream_reader.hpp"

#include "domain/errors.hpp"
#include "persistence/redis_cluster_map.hpp"
#include "persistence/redis_cluster_slot.hpp"
#include "persistence/redis_keys.hpp"
#include "persistence/redis_node_connection.hpp"

#include <hiredis/hiredis.h>

#include <sys/time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace es::verify {

namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

std::string_view text_of(const ReplyNode* n) {
  return n->str != nullptr ? std::string_view(n->str, n->size) : std::string_view();
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

bool EntryView::well_formed() const {
  if (entry_->type != REDIS_REPLY_ARRAY || entry_->size != 2) return false;
  if (entry_->elements[0]->type != REDIS_REPLY_STRING) return false;
  const ReplyNode* fields = entry_->elements[1];
  if (fields->type != REDIS_REPLY_ARRAY || fields->size % 2 != 0) return false;
  for (std::size_t i = 0; i < fields->size; ++i) {
    if (fields->elements[i]->type != REDIS_REPLY_STRING) return false;
  }
  return true;
}

RedisStreamReader::RedisStreamReader(const RedisUrl& url, const RedisConnectionOptions& options)
    : url_(url) {
  use_arena_on_this_thread(&arena_);
  nodes_.push_back(Node{url_});
  connect(nodes_.front(), options);
  discover_cluster(options);
}

RedisStreamReader::~RedisStreamReader() {
  for (auto& node : nodes_) {
    if (node.context != nullptr) redisFree(node.context);
  }
}

void RedisStreamReader::connect(Node& node, const RedisConnectionOptions& options) {
  const RedisUrl& url = node.url;
  node.context =
      redisConnectWithTimeout(url.host.c_str(), url.port, to_timeval(options.connect_timeout));
  if (node.context == nullptr || node.context->err) {
    const std::string reason = node.context == nullptr ? "out of memory" : node.context->errstr;
    if (node.context != nullptr) redisFree(node.context);
    node.context = nullptr;
    throw StoreUnavailable("cannot connect to Redis at " + url.to_string() + ": " + reason);
  }
  // Freed on any failure below: the reader may be half-built, its destructor would not run.
  auto free_on_failure = std::unique_ptr<Node, void (*)(Node*)>(&node, [](Node* n) {
    redisFree(n->context);
    n->context = nullptr;
  });
  if (redisSetTimeout(node.context, to_timeval(options.command_timeout)) != REDIS_OK) {
    throw StoreUnavailable("cannot set timeouts on the connection to " + url.to_string());
  }
  // Replies in the arena; the read buffer kept between replies (0: never shrunk).
  node.context->reader->fn = const_cast<redisReplyObjectFunctions*>(arena_reply_functions());
  node.context->reader->maxbuf = 0;
  if (!url.password.empty()) {
    std::vector<std::string_view> auth{"AUTH"};
    if (!url.user.empty()) auth.push_back(url.user);
    auth.push_back(url.password);
    append(node, auth);
  }
  const std::string db = std::to_string(url.db);
  if (url.db != 0) append(node, {"SELECT", db});
  append(node, {"PING"});
  const std::size_t replies = node.pending;
  arena_.reset();
  for (std::size_t i = 0; i < replies; ++i) {
    const ReplyNode* reply = read_reply(node);
    if (reply->type != REDIS_REPLY_ERROR) continue;
    const std::string error(text_of(reply).substr(0, 200));
    if (is_unavailable_error(error)) {
      throw StoreUnavailable("Redis at " + url.to_string() + " cannot serve now: " + error);
    }
    if ((!url.password.empty() && i == 0) || starts_with(error, "NOAUTH") ||
        starts_with(error, "WRONGPASS")) {
      throw ConfigurationError("Redis authentication failed at " + url.to_string() + ": " + error);
    }
    throw ConfigurationError("Redis at " + url.to_string() + " refused the setup: " + error);
  }
  free_on_failure.release();
}

// The persistence layer's slot map decides: on a single Redis nothing changes; on a cluster,
// one connection per master and every slot mapped to its master.
void RedisStreamReader::discover_cluster(const RedisConnectionOptions& options) {
  RedisClusterMap map(url_, options);
  RedisNodeConnection seed(url_, options);
  if (map.learn(seed) != RedisClusterMap::Mode::cluster) return;
  const auto masters = map.masters();
  std::vector<Node> nodes;
  for (const auto& address : masters) {
    RedisUrl url = map.url_of(address);
    url.db = 0;  // a cluster has database 0 only
    nodes.push_back(Node{url});
  }
  std::vector<std::uint16_t> owner(kRedisClusterSlots);
  for (int slot = 0; slot < kRedisClusterSlots; ++slot) {
    const auto address = map.master_of(slot);
    owner[static_cast<std::size_t>(slot)] = static_cast<std::uint16_t>(
        std::find(masters.begin(), masters.end(), address) - masters.begin());
  }
  for (auto& n : nodes) connect(n, options);
  redisFree(nodes_.front().context);
  nodes_ = std::move(nodes);
  slot_owner_ = std::move(owner);
}

RedisStreamReader::Node& RedisStreamReader::node_of(std::string_view key) {
  if (slot_owner_.empty()) return nodes_.front();
  return nodes_[slot_owner_[static_cast<std::size_t>(redis_key_slot(key))]];
}

void RedisStreamReader::fail(const Node& node, const char* what) {
  const std::string reason = node.context->errstr;
  throw StoreUnavailable(std::string(what) + " on Redis at " + node.url.to_string() +
                         " failed: " + reason);
}

void RedisStreamReader::append(Node& node, const std::vector<std::string_view>& args) {
  argv_.clear();
  lengths_.clear();
  for (auto a : args) {
    argv_.push_back(a.data());
    lengths_.push_back(a.size());
  }
  if (redisAppendCommandArgv(node.context, static_cast<int>(argv_.size()), argv_.data(),
                             lengths_.data()) != REDIS_OK) {
    fail(node, "sending a command");
  }
  ++node.pending;
}

const ReplyNode* RedisStreamReader::read_reply(Node& node) {
  use_arena_on_this_thread(&arena_);
  void* reply = nullptr;
  if (redisGetReply(node.context, &reply) != REDIS_OK || reply == nullptr) {
    fail(node, "reading a reply");
  }
  --node.pending;
  return static_cast<const ReplyNode*>(reply);
}

const ReplyNode* RedisStreamReader::command(Node& node, const std::vector<std::string_view>& args,
                                            const char* what) {
  arena_.reset();
  append(node, args);
  const ReplyNode* reply = read_reply(node);
  if (reply->type == REDIS_REPLY_ERROR) {
    const std::string error(text_of(reply).substr(0, 200));
    throw StoreUnavailable(std::string(what) + " on Redis at " + node.url.to_string() +
                           " answered: " + error);
  }
  return reply;
}

std::string RedisStreamReader::scan(const std::string& cursor, const std::string& pattern,
                                    std::size_t count, std::vector<std::string>& keys) {
  std::size_t index = 0;
  std::string node_cursor = cursor;
  if (!slot_owner_.empty() && cursor != "0") {
    const bool digits =
        cursor.size() > 20 && cursor.find_first_not_of("0123456789") == std::string::npos;
    if (!digits) throw InvalidInput("not a cluster SCAN cursor: " + cursor);
    index = std::strtoull(cursor.substr(0, cursor.size() - 20).c_str(), nullptr, 10) - 1;
    node_cursor =
        std::to_string(std::strtoull(cursor.substr(cursor.size() - 20).c_str(), nullptr, 10));
    if (index >= nodes_.size()) throw InvalidInput("not a cluster SCAN cursor: " + cursor);
  }
  const std::string count_text = std::to_string(count);
  const ReplyNode* reply =
      command(nodes_[index], {"SCAN", node_cursor, "MATCH", pattern, "COUNT", count_text}, "SCAN");
  if (reply->type != REDIS_REPLY_ARRAY || reply->size != 2) {
    throw StoreUnavailable("SCAN gave an unexpected reply");
  }
  const ReplyNode* found = reply->elements[1];
  for (std::size_t i = 0; i < found->size; ++i) keys.emplace_back(text_of(found->elements[i]));
  std::string next(text_of(reply->elements[0]));
  if (slot_owner_.empty()) return next;
  if (next == "0") {
    if (++index == nodes_.size()) return "0";
  }
  char padded[24];
  std::snprintf(padded, sizeof padded, "%020llu", std::strtoull(next.c_str(), nullptr, 10));
  return std::to_string(index + 1) + padded;
}

std::optional<std::string> RedisStreamReader::hash_field(const std::string& key,
                                                         const std::string& field) {
  const ReplyNode* reply = command(node_of(key), {"HGET", key, field}, "HGET");
  if (reply->type == REDIS_REPLY_NIL) return std::nullopt;
  return std::string(text_of(reply));
}

std::vector<std::string> RedisStreamReader::set_members(const std::string& key) {
  std::vector<std::string> members;
  std::string cursor = "0";
  Node& node = node_of(key);
  do {
    const ReplyNode* reply = command(node, {"SSCAN", key, cursor, "COUNT", "1000"}, "SSCAN");
    if (reply->type != REDIS_REPLY_ARRAY || reply->size != 2) {
      throw StoreUnavailable("SSCAN gave an unexpected reply");
    }
    for (std::size_t i = 0; i < reply->elements[1]->size; ++i) {
      members.emplace_back(text_of(reply->elements[1]->elements[i]));
    }
    cursor = std::string(text_of(reply->elements[0]));
  } while (cursor != "0");
  return members;
}

std::int64_t RedisStreamReader::last_id_number(const std::string& key) {
  arena_.reset();
  Node& node = node_of(key);
  append(node, {"XREVRANGE", key, "+", "-", "COUNT", "1"});
  const ReplyNode* reply = read_reply(node);
  if (reply->type != REDIS_REPLY_ARRAY || reply->size != 1) return 0;
  const ReplyNode* entry = reply->elements[0];
  if (entry->type != REDIS_REPLY_ARRAY || entry->size != 2) return 0;
  return parse_id_ms(text_of(entry->elements[0])).value_or(0);
}

void RedisStreamReader::request_pages(const std::vector<StreamRead>& reads, std::size_t count) {
  const std::string count_text = std::to_string(count);
  std::string start;
  page_nodes_.clear();
  for (const auto& r : reads) {
    // "(" + ID: strictly after it (Redis 6.2+); "-": from the start.
    start.assign(r.after == "-" ? "-" : "(");
    if (r.after != "-") start.append(r.after);
    Node& node = node_of(r.key);
    append(node, {"XRANGE", r.key, start, "+", "COUNT", count_text});
    page_nodes_.push_back(static_cast<std::size_t>(&node - nodes_.data()));
  }
  // Sent now, to every master: they work on them while the caller finishes the last pages.
  for (auto& node : nodes_) {
    if (node.pending == 0) continue;
    int done = 0;
    while (!done) {
      if (redisBufferWrite(node.context, &done) != REDIS_OK) fail(node, "sending XRANGE");
    }
  }
}

const std::vector<RedisStreamReader::Page>& RedisStreamReader::collect() {
  arena_.reset();
  pages_.clear();
  for (const auto index : page_nodes_) {
    Node& node = nodes_[index];
    Page page;
    page.reply = read_reply(node);
    if (page.reply->type == REDIS_REPLY_ERROR) {
      page.error = std::string(text_of(page.reply));
      if (is_unavailable_error(page.error)) {
        throw StoreUnavailable("XRANGE on Redis at " + node.url.to_string() + ": " + page.error);
      }
    } else if (page.reply->type != REDIS_REPLY_ARRAY) {
      page.error = "XRANGE did not answer an array";
    }
    pages_.push_back(std::move(page));
  }
  page_nodes_.clear();
  return pages_;
}

}  // namespace es::verify
