#include "samples/verify/reply_arena.hpp"

#include <hiredis/hiredis.h>

#include <cstring>
#include <new>

namespace es::verify {

namespace {

thread_local ReplyArena* current = nullptr;

ReplyNode* make_node(const redisReadTask* task, int type) {
  auto* node = new (current->allocate(sizeof(ReplyNode))) ReplyNode();
  node->type = type;
  if (task->parent != nullptr) {
    auto* parent = static_cast<ReplyNode*>(task->parent->obj);
    parent->elements[task->idx] = node;
  }
  return node;
}

void* create_string(const redisReadTask* task, char* str, std::size_t len) {
  auto* node = make_node(task, task->type);
  char* copy = static_cast<char*>(current->allocate(len + 1));
  std::memcpy(copy, str, len);
  copy[len] = '\0';
  node->str = copy;
  node->size = len;
  return node;
}

void* create_array(const redisReadTask* task, int elements) {
  auto* node = make_node(task, REDIS_REPLY_ARRAY);
  node->size = elements > 0 ? static_cast<std::size_t>(elements) : 0;
  if (node->size > 0) {
    node->elements = static_cast<ReplyNode**>(current->allocate(node->size * sizeof(ReplyNode*)));
    std::memset(node->elements, 0, node->size * sizeof(ReplyNode*));
  }
  return node;
}

void* create_integer(const redisReadTask* task, long long value) {
  auto* node = make_node(task, REDIS_REPLY_INTEGER);
  node->integer = value;
  return node;
}

void* create_nil(const redisReadTask* task) {
  return make_node(task, REDIS_REPLY_NIL);
}

void free_object(void*) {}  // the arena's reset frees everything at once

redisReplyObjectFunctions functions = {create_string, create_array, create_integer, create_nil,
                                       free_object};

}  // namespace

void* ReplyArena::allocate(std::size_t bytes) {
  bytes = (bytes + 7) & ~std::size_t{7};
  if (bytes > kBlock / 4) {
    large_.push_back(std::make_unique<char[]>(bytes));
    return large_.back().get();
  }
  if (blocks_.empty() || used_ + bytes > kBlock) {
    if (!blocks_.empty()) ++block_;
    if (block_ >= blocks_.size()) blocks_.push_back(std::make_unique<char[]>(kBlock));
    used_ = 0;
  }
  void* at = blocks_[block_].get() + used_;
  used_ += bytes;
  return at;
}

void ReplyArena::reset() {
  block_ = 0;
  used_ = 0;
  large_.clear();
}

const redisReplyObjectFunctions* arena_reply_functions() {
  return &functions;
}

void use_arena_on_this_thread(ReplyArena* arena) {
  current = arena;
}

}  // namespace es::verify
