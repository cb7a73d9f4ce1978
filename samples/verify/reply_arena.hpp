// Why: a store audit reads every stored entry once, and hiredis' default replies cost a
// malloc and a free per element (seven per stream entry), which dominated es-verify's
// profile. These reply functions build replies in an arena instead: bump allocation, nothing
// freed per element, the whole arena reset before the next round trip.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

struct redisReplyObjectFunctions;  // hiredis

namespace es::verify {

// One reply element (hiredis' REDIS_REPLY_* types).
struct ReplyNode {
  int type = 0;
  std::size_t size = 0;  // string length, or array element count
  long long integer = 0;
  const char* str = nullptr;
  ReplyNode** elements = nullptr;
};

class ReplyArena {
 public:
  void* allocate(std::size_t bytes);
  // Forgets every reply built so far (keeps the memory).
  void reset();

 private:
  static constexpr std::size_t kBlock = std::size_t{1} << 20;
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::vector<std::unique_ptr<char[]>> large_;  // over a block each; freed on reset
  std::size_t block_ = 0, used_ = 0;
};

// Reply functions that build ReplyNodes in the arena set for the calling thread.
const redisReplyObjectFunctions* arena_reply_functions();
void use_arena_on_this_thread(ReplyArena* arena);

}  // namespace es::verify
