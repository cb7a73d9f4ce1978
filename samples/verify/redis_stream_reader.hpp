// Why: es-verify reads a whole store and must never write to it; every Redis command it sends
// is here, in one small class. Reads are SCAN with COUNT (never KEYS) and pipelined XRANGE
// pages. On a Redis Cluster (found with CLUSTER SLOTS on the node in the URL) it holds one
// connection per master, routes every key by its slot, walks SCAN over every master in turn
// and pipelines each round's XRANGEs to all masters at once. It talks hiredis directly rather than
// through RedisConnection so that replies are built in an arena (reply_arena.hpp) and the read
// buffer is kept between replies: the audit's cost is then the checks, not the allocator.
#pragma once

#include "persistence/redis_connection.hpp"
#include "persistence/redis_url.hpp"
#include "samples/verify/reply_arena.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct redisContext;

namespace es::verify {

// One stream entry of an XRANGE reply: its ID and its field/value strings.
class EntryView {
 public:
  explicit EntryView(const ReplyNode* entry) : entry_(entry) {}
  // False when the reply is not [id, [field, value, ...]] of strings.
  bool well_formed() const;
  std::string_view id() const { return text(entry_->elements[0]); }
  std::size_t fields() const { return entry_->elements[1]->size; }  // names and values
  std::string_view field(std::size_t i) const { return text(entry_->elements[1]->elements[i]); }

 private:
  static std::string_view text(const ReplyNode* n) { return {n->str, n->size}; }
  const ReplyNode* entry_;
};

// One page of a stream: its entries in ID order.
class EntryPage {
 public:
  explicit EntryPage(const ReplyNode* page) : page_(page) {}
  std::size_t size() const { return page_->size; }
  EntryView operator[](std::size_t i) const { return EntryView(page_->elements[i]); }

 private:
  const ReplyNode* page_;
};

// A read of one stream after an entry ID ("-": from the start). The key is not copied.
struct StreamRead {
  std::string_view key;
  std::string_view after = "-";
};

class RedisStreamReader {
 public:
  // Connects (AUTH, SELECT, PING): StoreUnavailable when the server cannot be reached in
  // the connect timeout, ConfigurationError for a wrong password.
  RedisStreamReader(const RedisUrl& url, const RedisConnectionOptions& options);
  ~RedisStreamReader();
  RedisStreamReader(const RedisStreamReader&) = delete;
  RedisStreamReader& operator=(const RedisStreamReader&) = delete;

  // One SCAN step over keys matching `pattern`: the next cursor ("0" when done); the keys
  // found are appended to `keys`. On a cluster the cursor is the master's index + 1 followed
  // by that master's own cursor in 20 digits.
  std::string scan(const std::string& cursor, const std::string& pattern, std::size_t count,
                   std::vector<std::string>& keys);
  // A hash field, or nothing.
  std::optional<std::string> hash_field(const std::string& key, const std::string& field);
  std::vector<std::string> set_members(const std::string& key);
  // The number part of the last entry's ID (a log's last position); 0 for an empty or
  // missing key or one that is not a stream.
  std::int64_t last_id_number(const std::string& key);

  // Sends one XRANGE per read (at most `count` entries each) in one pipelined round trip;
  // collect() then returns their pages in the same order, valid until the next call. A key
  // that is not a stream gives an error text instead of a page.
  void request_pages(const std::vector<StreamRead>& reads, std::size_t count);
  struct Page {
    const ReplyNode* reply = nullptr;
    std::string error;  // not empty: no page
    EntryPage entries() const { return EntryPage(reply); }
  };
  const std::vector<Page>& collect();

  // The masters read from: 1 on a single Redis.
  std::size_t nodes() const { return nodes_.size(); }

 private:
  struct Node {
    RedisUrl url;  // this node's address, with the URL's credentials
    redisContext* context = nullptr;
    std::size_t pending = 0;
  };
  void connect(Node& node, const RedisConnectionOptions& options);
  void discover_cluster(const RedisConnectionOptions& options);
  Node& node_of(std::string_view key);
  void append(Node& node, const std::vector<std::string_view>& args);
  const ReplyNode* read_reply(Node& node);
  const ReplyNode* command(Node& node, const std::vector<std::string_view>& args, const char* what);
  [[noreturn]] void fail(const Node& node, const char* what);

  RedisUrl url_;
  std::vector<Node> nodes_;                // [0] is the URL's node on a single Redis
  std::vector<std::uint16_t> slot_owner_;  // cluster only: slot -> index in nodes_
  std::vector<std::size_t> page_nodes_;    // the node of each requested page, in order
  ReplyArena arena_;
  std::vector<Page> pages_;
  std::vector<const char*> argv_;
  std::vector<std::size_t> lengths_;
};

}  // namespace es::verify
