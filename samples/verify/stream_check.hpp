// Why: the checks of one entity stream, entry by entry, as DESIGN.md "Stored event format"
// defines a valid one: entry IDs <version>-1 contiguous from 0, exactly the fields topic and
// state, a registered topic, a state that decrypts (with a cipher) and decodes, an
// event_hash equal to SHA-256 of the RFC 8785 text without it, that text exactly as stored,
// the stream's own id and version in the envelope, and previous_hash linking to the event
// before. Decoding and hashing are the domain's own (EventMapper); nothing is rewritten here.
#pragma once

#include "domain/cipher.hpp"
#include "domain/mapper.hpp"
#include "domain/uuid.hpp"
#include "samples/verify/redis_stream_reader.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace es::verify {

// What a stream's checks found; also what the notification-log check needs of it.
struct StreamFacts {
  std::string key;
  Uuid id{};
  int partition = -1;                // from the key's tag
  std::int64_t first_version = 0;    // 0, or later for an entity with deleted events
  std::int64_t events = 0;           // entries read
  std::vector<std::uint8_t> topics;  // per entry: index in the topic table
  std::vector<bool> logged;          // per entry: a log entry points at it (the log check)
  // The first problem: its version (-1 when the stream itself is wrong) and why.
  bool broken = false;
  std::int64_t broken_version = -1;
  std::string reason;
};

// Topic names by index (the registered ones first); kUnknownTopic for any other.
class TopicTable {
 public:
  static constexpr std::uint8_t kUnknownTopic = 255;
  explicit TopicTable(std::vector<std::string> topics);
  std::uint8_t index_of(std::string_view topic) const;
  const std::string& name(std::uint8_t index) const { return topics_.at(index); }

 private:
  std::vector<std::string> topics_;
};

class StreamCheck {
 public:
  // `deleted`: the entity had events deleted (delete_records), so its stream may start
  // past version 0 and its first entry's previous_hash is not checked.
  StreamCheck(StreamFacts& facts, const EventMapper& mapper, const AesGcmCipher* cipher,
              const TopicTable& topics, bool deleted);

  // Checks the next entry; the ID of the last entry seen is kept for the next page.
  void check(const EntryView& entry);
  const std::string& last_id() const { return last_id_; }
  // The stream itself cannot be read (not a stream).
  void fail_stream(const std::string& reason);

 private:
  void fail(std::int64_t version, std::string reason);
  // The common case, without building an Event: the domain's scanner reads the canonical
  // layout this library writes, SHA-256 runs over the stored bytes, and the text is
  // re-serialised (values through the domain's canonical JSON) to prove it canonical. False
  // when anything differs: check_decoded() then finds and names the problem.
  bool check_scanned(std::int64_t version, std::string_view text, bool chain_start,
                     bool check_previous);
  void check_decoded(std::int64_t version, std::string_view id, bool chain_start,
                     bool check_previous);

  StreamFacts& facts_;
  const EventMapper& mapper_;
  const AesGcmCipher* cipher_;
  const TopicTable& topics_;
  bool deleted_;
  std::int64_t next_version_ = 0;
  std::string previous_hash_;
  std::string last_id_ = "-";
  SequencedRecord record_;  // reused: its strings keep their capacity
  std::string id_text_;     // the stream's id, lowercase
  std::string canonical_;   // reused by check_scanned
};

// "<digits>-1" -> the version; nothing for any other form.
std::optional<std::int64_t> version_of_entry_id(std::string_view id);

}  // namespace es::verify
