// Why: see redis_protocol.hpp.
#include "persistence/redis_protocol.hpp"

#include "domain/errors.hpp"

#include <hiredis/hiredis.h>

#include <charconv>

namespace es {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

// --- RedisArgs ---

RedisArgs::RedisArgs(std::initializer_list<std::string_view> args) {
  reserve(args.size());
  for (auto a : args) add(a);
}

RedisArgs& RedisArgs::add(std::string_view arg) {
  pointers_.push_back(arg.data() == nullptr ? "" : arg.data());
  lengths_.push_back(arg.size());
  offsets_.push_back(0);
  bytes_ += arg.size();
  return *this;
}

RedisArgs& RedisArgs::add_copy(std::string_view arg) {
  pointers_.push_back(nullptr);
  lengths_.push_back(arg.size());
  offsets_.push_back(owned_.size());
  owned_.append(arg.data(), arg.size());
  bytes_ += arg.size();
  return *this;
}

RedisArgs& RedisArgs::add(std::int64_t number) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, number);
  (void)ec;
  return add_copy(std::string_view(buf, static_cast<std::size_t>(end - buf)));
}

const char* const* RedisArgs::argv() const {
  resolved_.resize(pointers_.size());
  for (std::size_t i = 0; i < pointers_.size(); ++i) {
    resolved_[i] = pointers_[i] != nullptr ? pointers_[i] : owned_.data() + offsets_[i];
  }
  return resolved_.data();
}

// --- replies ---

RedisReplyView::Kind RedisReplyView::kind() const {
  if (reply_ == nullptr) return Kind::nil;
  switch (reply_->type) {
    case REDIS_REPLY_STRING:
      return Kind::string;
    case REDIS_REPLY_ARRAY:
      return Kind::array;
    case REDIS_REPLY_INTEGER:
      return Kind::integer;
    case REDIS_REPLY_STATUS:
      return Kind::status;
    case REDIS_REPLY_ERROR:
      return Kind::error;
    default:
      return Kind::nil;
  }
}

std::string_view RedisReplyView::str() const {
  if (reply_ == nullptr || reply_->str == nullptr) return {};
  switch (reply_->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return std::string_view(reply_->str, reply_->len);
    default:
      return {};
  }
}

long long RedisReplyView::integer() const {
  return reply_ != nullptr && reply_->type == REDIS_REPLY_INTEGER ? reply_->integer : 0;
}

std::size_t RedisReplyView::size() const {
  return reply_ != nullptr && reply_->type == REDIS_REPLY_ARRAY ? reply_->elements : 0;
}

RedisReplyView RedisReplyView::operator[](std::size_t i) const {
  if (i >= size()) return RedisReplyView(nullptr);
  return RedisReplyView(reply_->element[i]);
}

RedisReply::RedisReply(redisReply* reply) : reply_(reply) {}

void RedisReply::Free::operator()(redisReply* r) const {
  freeReplyObject(r);
}

// --- errors ---

bool is_unavailable_error(std::string_view error) {
  for (std::string_view code : {"LOADING", "BUSY", "OOM", "READONLY", "MASTERDOWN", "TRYAGAIN",
                                "CLUSTERDOWN", "NOREPLICAS", "MISCONF"}) {
    if (starts_with(error, code) && (error.size() == code.size() || error[code.size()] == ' ')) {
      return true;
    }
  }
  return false;
}

void throw_redis_error(const RedisReplyView& reply, const std::string& context) {
  // Server error texts name the command or the problem, not the arguments; cut them short.
  std::string text(reply.str().substr(0, 200));
  if (reply.kind() != RedisReplyView::Kind::error) text = "unexpected reply type";
  if (is_unavailable_error(text))
    throw StoreUnavailable(context + ": Redis cannot serve now: " + text);
  throw Error(context + ": Redis error: " + text);
}

RedisArgs owned_copy(const RedisArgs& args) {
  RedisArgs copy;
  copy.reserve(args.size());
  const char* const* argv = args.argv();
  for (std::size_t i = 0; i < args.size(); ++i) {
    copy.add_copy(std::string_view(argv[i], args.lengths()[i]));
  }
  return copy;
}

}  // namespace es
