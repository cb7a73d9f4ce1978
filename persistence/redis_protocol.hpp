// Why: the pieces of the Redis protocol every layer of the Redis stores shares, without a
// network in them: the arguments of a command, owned and borrowed replies, the connection
// options, and the mapping of error replies to typed errors. The hiredis types stay out.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct redisReply;  // hiredis

namespace es {

struct RedisConnectionOptions {
  std::chrono::milliseconds connect_timeout{2000};
  // Limit of every single read or write on the socket once connected.
  std::chrono::milliseconds command_timeout{5000};
  // After a failed connect, the next attempt waits initial, 2x, 4x, ... up to max.
  std::chrono::milliseconds backoff_initial{50};
  std::chrono::milliseconds backoff_max{1000};
};

// The arguments of one command. Views are kept as given (the caller keeps the strings alive
// until the command is sent); add_copy() and add(number) keep their own copy in one internal
// buffer, resolved to pointers only when the command is sent (so moves and copies are safe).
class RedisArgs {
 public:
  RedisArgs() = default;
  RedisArgs(std::initializer_list<std::string_view> args);

  RedisArgs& add(std::string_view arg);
  RedisArgs& add(const char* arg) { return add(std::string_view(arg)); }
  RedisArgs& add(std::string&&) = delete;  // would dangle: use add_copy
  RedisArgs& add_copy(std::string_view arg);
  RedisArgs& add(std::int64_t number);
  void reserve(std::size_t args) {
    pointers_.reserve(args);
    lengths_.reserve(args);
  }

  std::size_t size() const { return pointers_.size(); }
  // Bytes of the arguments, for sizing batches.
  std::size_t bytes() const { return bytes_; }
  // Valid until this object changes.
  const char* const* argv() const;
  const std::size_t* lengths() const { return lengths_.data(); }

 private:
  std::vector<const char*> pointers_;  // nullptr: owned, at the offset in offsets_
  std::vector<std::size_t> lengths_;
  std::vector<std::size_t> offsets_;  // per argument (only read for owned ones)
  std::string owned_;
  mutable std::vector<const char*> resolved_;
  std::size_t bytes_ = 0;
};

// A non-owning view of one reply (or of an element of an array reply).
class RedisReplyView {
 public:
  enum class Kind { string, array, integer, nil, status, error };

  explicit RedisReplyView(const redisReply* reply) : reply_(reply) {}

  Kind kind() const;
  bool is_error() const { return kind() == Kind::error; }
  bool is_nil() const { return kind() == Kind::nil; }
  bool is_array() const { return kind() == Kind::array; }
  // The text of a string, status or error reply (empty for other kinds).
  std::string_view str() const;
  // An integer reply's value (0 for other kinds).
  long long integer() const;
  // Elements of an array reply (0 for other kinds).
  std::size_t size() const;
  RedisReplyView operator[](std::size_t i) const;

 private:
  const redisReply* reply_;
};

// An owned reply: freed with freeReplyObject when it goes.
class RedisReply {
 public:
  RedisReply() = default;
  explicit RedisReply(redisReply* reply);
  RedisReply(RedisReply&&) noexcept = default;
  RedisReply& operator=(RedisReply&&) noexcept = default;

  RedisReplyView view() const { return RedisReplyView(reply_.get()); }
  RedisReplyView::Kind kind() const { return view().kind(); }
  bool is_error() const { return view().is_error(); }
  bool is_nil() const { return view().is_nil(); }
  std::string_view str() const { return view().str(); }
  long long integer() const { return view().integer(); }
  std::size_t size() const { return view().size(); }
  RedisReplyView operator[](std::size_t i) const { return view()[i]; }

 private:
  struct Free {
    void operator()(redisReply* r) const;
  };
  std::unique_ptr<redisReply, Free> reply_;
};

// Throws the right typed error for an error reply: StoreUnavailable when the server cannot
// serve now (LOADING, BUSY, OOM, READONLY, MASTERDOWN, ...), es::Error otherwise. `context`
// says what was being done (no data in it).
[[noreturn]] void throw_redis_error(const RedisReplyView& reply, const std::string& context);
// True when an error reply means "the server cannot serve now".
bool is_unavailable_error(std::string_view error);

// A deep copy of `args`: every argument owned (for commands that may have to be sent again).
RedisArgs owned_copy(const RedisArgs& args);

}  // namespace es
