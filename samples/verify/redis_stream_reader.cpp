#include "samples/verify/redis_stream_reader.hpp"

#include "domain/errors.hpp"

#include <hiredis/hiredis.h>

#include <sys/time.h>

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
  context_ =
      redisConnectWithTimeout(url_.host.c_str(), url_.port, to_timeval(options.connect_timeout));
  if (context_ == nullptr || context_->err) {
    const std::string reason = context_ == nullptr ? "out of memory" : context_->errstr;
    if (context_ != nullptr) redisFree(context_);
    context_ = nullptr;
    throw StoreUnavailable("cannot connect to Redis at " + url_.to_string() + ": " + reason);
  }
  if (redisSetTimeout(context_, to_timeval(options.command_timeout)) != REDIS_OK) {
    redisFree(context_);
    context_ = nullptr;
    throw StoreUnavailable("cannot set timeouts on the connection to " + url_.to_string());
  }
  // Replies in the arena; the read buffer kept between replies (0: never shrunk).
  context_->reader->fn = const_cast<redisReplyObjectFunctions*>(arena_reply_functions());
  context_->reader->maxbuf = 0;
  if (!url_.password.empty()) {
    std::vector<std::string_view> auth{"AUTH"};
    if (!url_.user.empty()) auth.push_back(url_.user);
    auth.push_back(url_.password);
    append(auth);
  }
  const std::string db = std::to_string(url_.db);
  if (url_.db != 0) append({"SELECT", db});
  append({"PING"});
  const std::size_t replies = pending_;
  for (std::size_t i = 0; i < replies; ++i) {
    const ReplyNode* reply = read_reply();
    if (reply->type != REDIS_REPLY_ERROR) continue;
    const std::string error(text_of(reply).substr(0, 200));
    if (is_unavailable_error(error)) {
      throw StoreUnavailable("Redis at " + url_.to_string() + " cannot serve now: " + error);
    }
    if ((!url_.password.empty() && i == 0) || starts_with(error, "NOAUTH") ||
        starts_with(error, "WRONGPASS")) {
      throw ConfigurationError("Redis authentication failed at " + url_.to_string() + ": " + error);
    }
    throw ConfigurationError("Redis at " + url_.to_string() + " refused the setup: " + error);
  }
}

RedisStreamReader::~RedisStreamReader() {
  if (context_ != nullptr) redisFree(context_);
}

void RedisStreamReader::fail(const char* what) {
  const std::string reason = context_->errstr;
  throw StoreUnavailable(std::string(what) + " on Redis at " + url_.to_string() +
                         " failed: " + reason);
}

void RedisStreamReader::append(const std::vector<std::string_view>& args) {
  argv_.clear();
  lengths_.clear();
  for (auto a : args) {
    argv_.push_back(a.data());
    lengths_.push_back(a.size());
  }
  if (redisAppendCommandArgv(context_, static_cast<int>(argv_.size()), argv_.data(),
                             lengths_.data()) != REDIS_OK) {
    fail("sending a command");
  }
  ++pending_;
}

const ReplyNode* RedisStreamReader::read_reply() {
  use_arena_on_this_thread(&arena_);
  void* reply = nullptr;
  if (redisGetReply(context_, &reply) != REDIS_OK || reply == nullptr) fail("reading a reply");
  --pending_;
  return static_cast<const ReplyNode*>(reply);
}

const ReplyNode* RedisStreamReader::command(const std::vector<std::string_view>& args,
                                            const char* what) {
  arena_.reset();
  append(args);
  const ReplyNode* reply = read_reply();
  if (reply->type == REDIS_REPLY_ERROR) {
    const std::string error(text_of(reply).substr(0, 200));
    throw StoreUnavailable(std::string(what) + " on Redis at " + url_.to_string() +
                           " answered: " + error);
  }
  return reply;
}

std::string RedisStreamReader::scan(const std::string& cursor, const std::string& pattern,
                                    std::size_t count, std::vector<std::string>& keys) {
  const std::string count_text = std::to_string(count);
  const ReplyNode* reply = command({"SCAN", cursor, "MATCH", pattern, "COUNT", count_text}, "SCAN");
  if (reply->type != REDIS_REPLY_ARRAY || reply->size != 2) {
    throw StoreUnavailable("SCAN gave an unexpected reply");
  }
  const ReplyNode* found = reply->elements[1];
  for (std::size_t i = 0; i < found->size; ++i) keys.emplace_back(text_of(found->elements[i]));
  return std::string(text_of(reply->elements[0]));
}

std::optional<std::string> RedisStreamReader::hash_field(const std::string& key,
                                                         const std::string& field) {
  const ReplyNode* reply = command({"HGET", key, field}, "HGET");
  if (reply->type == REDIS_REPLY_NIL) return std::nullopt;
  return std::string(text_of(reply));
}

std::vector<std::string> RedisStreamReader::set_members(const std::string& key) {
  std::vector<std::string> members;
  std::string cursor = "0";
  do {
    const ReplyNode* reply = command({"SSCAN", key, cursor, "COUNT", "1000"}, "SSCAN");
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

std::int64_t RedisStreamReader::stream_length(const std::string& key) {
  arena_.reset();
  append({"XLEN", key});
  const ReplyNode* reply = read_reply();
  return reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
}

void RedisStreamReader::request_pages(const std::vector<StreamRead>& reads, std::size_t count) {
  const std::string count_text = std::to_string(count);
  std::string start;
  for (const auto& r : reads) {
    // "(" + ID: strictly after it (Redis 6.2+); "-": from the start.
    start.assign(r.after == "-" ? "-" : "(");
    if (r.after != "-") start.append(r.after);
    append({"XRANGE", r.key, start, "+", "COUNT", count_text});
  }
  // Sent now: Redis works on them while the caller finishes with the last pages.
  int done = 0;
  while (!done) {
    if (redisBufferWrite(context_, &done) != REDIS_OK) fail("sending XRANGE");
  }
}

const std::vector<RedisStreamReader::Page>& RedisStreamReader::collect() {
  arena_.reset();
  pages_.clear();
  while (pending_ > 0) {
    Page page;
    page.reply = read_reply();
    if (page.reply->type == REDIS_REPLY_ERROR) {
      page.error = std::string(text_of(page.reply));
      if (is_unavailable_error(page.error)) {
        throw StoreUnavailable("XRANGE on Redis at " + url_.to_string() + ": " + page.error);
      }
    } else if (page.reply->type != REDIS_REPLY_ARRAY) {
      page.error = "XRANGE did not answer an array";
    }
    pages_.push_back(std::move(page));
  }
  return pages_;
}

}  // namespace es::verify
