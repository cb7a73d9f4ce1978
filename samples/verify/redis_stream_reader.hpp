// Why: es-verify reads a whole store and must never write to it; every Redis command it sends
// is here, in one small class, so that a Redis Cluster reader (routing each key to its node)
// can replace it without touching the checks. Reads are SCAN with COUNT (never KEYS) and
// pipelined XRANGE pages; replies are handed out as views, without copying the entries.
#pragma once

#include "persistence/redis_connection.hpp"
#include "persistence/redis_url.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace es::verify {

// One stream entry of an XRANGE reply: its ID and its field/value strings.
class EntryView {
 public:
  explicit EntryView(RedisReplyView entry) : entry_(entry) {}
  // False when the reply is not [id, [field, value, ...]] of strings.
  bool well_formed() const;
  std::string_view id() const { return entry_[0].str(); }
  std::size_t fields() const { return entry_[1].size(); }  // names and values
  std::string_view field(std::size_t i) const { return entry_[1][i].str(); }

 private:
  RedisReplyView entry_;
};

// One page of a stream: its entries in ID order.
class EntryPage {
 public:
  explicit EntryPage(RedisReplyView page) : page_(page) {}
  std::size_t size() const { return page_.size(); }
  EntryView operator[](std::size_t i) const { return EntryView(page_[i]); }

 private:
  RedisReplyView page_;
};

// A read of one stream from after an entry ID ("-" for the start).
struct StreamRead {
  std::string key;
  std::string after = "-";
};

class RedisStreamReader {
 public:
  RedisStreamReader(RedisUrl url, RedisConnectionOptions options);

  // Connects now: StoreUnavailable when the server cannot be reached, ConfigurationError for
  // a wrong password.
  void connect();

  // One SCAN step over keys matching `pattern`: the next cursor ("0" when done); the keys
  // found are appended to `keys`.
  std::string scan(const std::string& cursor, const std::string& pattern, std::size_t count,
                   std::vector<std::string>& keys);

  // A hash field, or nothing.
  std::optional<std::string> hash_field(const std::string& key, const std::string& field);
  std::vector<std::string> set_members(const std::string& key);
  // XLEN (0 for a missing key).
  std::int64_t stream_length(const std::string& key);

  // Sends one XRANGE per read (at most `count` entries each) in one pipelined round trip;
  // collect() then returns their pages in the same order. A key that is not a stream gives
  // an error text instead of a page.
  void request_pages(const std::vector<StreamRead>& reads, std::size_t count);
  struct Page {
    RedisReply reply;
    std::string error;  // not empty: no page
    EntryPage entries() const { return EntryPage(reply.view()); }
  };
  std::vector<Page> collect();

 private:
  RedisConnection connection_;
};

}  // namespace es::verify
