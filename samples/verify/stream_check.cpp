#include "samples/verify/stream_check.hpp"

#include "domain/canonical_event_scanner.hpp"
#include "domain/canonical_json.hpp"
#include "domain/errors.hpp"
#include "domain/event.hpp"
#include "domain/event_registry.hpp"
#include "domain/sha256.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace es::verify {

TopicTable::TopicTable(std::vector<std::string> topics) : topics_(std::move(topics)) {
  if (topics_.size() >= kUnknownTopic) topics_.resize(kUnknownTopic - 1);
}

std::uint8_t TopicTable::index_of(std::string_view topic) const {
  for (std::size_t i = 0; i < topics_.size(); ++i) {
    if (topics_[i] == topic) return static_cast<std::uint8_t>(i);
  }
  return kUnknownTopic;
}

std::optional<std::int64_t> version_of_entry_id(std::string_view id) {
  const auto dash = id.find('-');
  if (dash == std::string_view::npos || dash == 0 || id.substr(dash) != "-1") return std::nullopt;
  if (dash > 1 && id[0] == '0') return std::nullopt;
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(id.data(), id.data() + dash, v);
  if (ec != std::errc() || ptr != id.data() + dash) return std::nullopt;
  return v;
}

StreamCheck::StreamCheck(StreamFacts& facts, const EventMapper& mapper, const AesGcmCipher* cipher,
                         const TopicTable& topics, bool deleted)
    : facts_(facts), mapper_(mapper), cipher_(cipher), topics_(topics), deleted_(deleted) {
  record_.sequence_id = facts.id;
  id_text_ = to_string(facts.id);
}

void StreamCheck::fail(std::int64_t version, std::string reason) {
  if (facts_.broken) return;  // the first problem is the one reported
  facts_.broken = true;
  facts_.broken_version = version;
  facts_.reason = std::move(reason);
}

void StreamCheck::fail_stream(const std::string& reason) {
  fail(-1, reason);
}

void StreamCheck::check(const EntryView& entry) {
  if (!entry.well_formed()) {
    ++facts_.events;
    facts_.topics.push_back(TopicTable::kUnknownTopic);
    fail(next_version_, "entry is not an ID with field/value strings");
    return;
  }
  last_id_.assign(entry.id());
  ++facts_.events;
  const bool named = entry.fields() == 4 && entry.field(0) == "topic" && entry.field(2) == "state";
  facts_.topics.push_back(named ? topics_.index_of(entry.field(1)) : TopicTable::kUnknownTopic);
  const auto version = version_of_entry_id(entry.id());
  const bool first = facts_.events == 1;
  if (first && version) {
    facts_.first_version = *version;
    if (deleted_) next_version_ = *version;
  }
  if (facts_.broken) return;  // counted; only the first problem is reported
  if (!version) {
    return fail(next_version_, "entry ID '" + std::string(entry.id()) + "' is not <version>-1");
  }
  if (*version != next_version_) {
    return fail(next_version_, "version " + std::to_string(next_version_) +
                                   " is missing: the next entry is version " +
                                   std::to_string(*version));
  }
  ++next_version_;
  if (!named) return fail(*version, "the entry's fields are not exactly topic and state");
  record_.position = *version;
  record_.topic.assign(entry.field(1));
  if (facts_.topics.back() == TopicTable::kUnknownTopic) {
    return fail(*version, "topic '" + record_.topic + "' is not registered");
  }
  // The plain text: decrypted here, so the same bytes serve the canonical check.
  try {
    if (cipher_) {
      record_.state = cipher_->decrypt(entry.field(3));
    } else {
      record_.state.assign(entry.field(3));
    }
  } catch (const std::exception& e) {
    return fail(*version,
                std::string("integrity failure: cannot decrypt the state (") + e.what() + ")");
  }
  const bool chain_start = first && (deleted_ || *version == 0);
  const bool check_previous = !(first && deleted_);
  if (check_scanned(*version, record_.state, chain_start, check_previous)) return;
  check_decoded(*version, entry.id(), chain_start, check_previous);
}

bool StreamCheck::check_scanned(std::int64_t version, std::string_view text, bool chain_start,
                                bool check_previous) {
  constexpr std::size_t kMaxStoredDepth = 128;  // as the mapper: 64 for values, and the envelope
  auto scanned = scan_canonical_event(text, kMaxStoredDepth);
  if (!scanned || !scanned->event_hash || !scanned->originator_id || !scanned->topic ||
      !scanned->previous_hash || !scanned->originator_version || !scanned->timestamp) {
    return false;
  }
  auto& s = *scanned;
  if (*s.topic != record_.topic || *s.originator_id != id_text_ ||
      *s.originator_version != version) {
    return false;
  }
  if (check_previous && *s.previous_hash != (chain_start ? std::string_view() : previous_hash_)) {
    return false;
  }
  if (sha256_hex({s.before_hash, s.after_hash}) != *s.event_hash) return false;
  // Canonical: the members in key order, envelope values as read (plain strings and
  // integers are their own canonical form), the event's own values re-serialised.
  struct Member {
    std::string_view key;
    const std::string_view* text = nullptr;
    const std::int64_t* integer = nullptr;
    const boost::json::value* value = nullptr;
  };
  std::array<Member, 64> members;
  std::size_t n = 0;
  auto add_text = [&](const char* key, const std::optional<std::string_view>& v) {
    if (v) members[n++] = {key, &*v, nullptr, nullptr};
  };
  auto add_integer = [&](const char* key, const std::optional<std::int64_t>& v) {
    if (v) members[n++] = {key, nullptr, &*v, nullptr};
  };
  add_text(field::event_hash, s.event_hash);
  add_text(field::originator_id, s.originator_id);
  add_text(field::topic, s.topic);
  add_text(field::previous_hash, s.previous_hash);
  add_integer(field::originator_version, s.originator_version);
  add_integer(field::timestamp, s.timestamp);
  add_integer(field::schema_version, s.schema_version);
  if (s.data.size() > members.size() - n) return false;
  for (const auto& kv : s.data) {
    members[n++] = {std::string_view(kv.key().data(), kv.key().size()), nullptr, nullptr,
                    &kv.value()};
  }
  std::sort(members.begin(), members.begin() + static_cast<std::ptrdiff_t>(n),
            [](const Member& a, const Member& b) { return a.key < b.key; });
  canonical_.clear();
  canonical_ += '{';
  char digits[24];
  for (std::size_t i = 0; i < n; ++i) {
    const auto& m = members[i];
    if (i > 0) canonical_ += ',';
    canonical_.append("\"").append(m.key).append("\":");
    if (m.text) {
      canonical_.append("\"").append(*m.text).append("\"");
    } else if (m.integer) {
      auto [end, ec] = std::to_chars(digits, digits + sizeof digits, *m.integer);
      canonical_.append(digits, end);
    } else {
      canonical_json_append(canonical_, *m.value);
    }
  }
  canonical_ += '}';
  if (canonical_ != text) return false;
  try {
    const int schema = s.schema_version ? static_cast<int>(*s.schema_version) : 1;
    if (!s.schema_version || (*s.schema_version >= 1 && *s.schema_version <= 1'000'000)) {
      EventRegistry::global().upcast_and_validate(*s.topic, schema, s.data);
    } else {
      return false;
    }
  } catch (const std::exception&) {
    return false;
  }
  previous_hash_.assign(*s.event_hash);
  return true;
}

void StreamCheck::check_decoded(std::int64_t version, std::string_view id, bool chain_start,
                                bool check_previous) {
  std::optional<Event> event;
  try {
    event.emplace(mapper_.from_record(record_));
  } catch (const std::exception& e) {
    return fail(version, std::string("cannot decode the state: ") + e.what());
  }
  if (!event->hash_matches()) {
    return fail(version,
                "integrity failure: event_hash is not the SHA-256 of the event's canonical JSON");
  }
  if (event->originator_id() != facts_.id) {
    return fail(version,
                "originator_id " + to_string(event->originator_id()) + " is not the stream's id");
  }
  if (event->originator_version() != version) {
    return fail(version, "originator_version " + std::to_string(event->originator_version()) +
                             " is stored at entry ID " + std::string(id));
  }
  if (check_previous) {
    static const std::string none;
    const std::string& expected = chain_start ? none : previous_hash_;
    if (event->previous_hash() != expected) {
      return fail(version, chain_start ? "previous_hash of the first event is not empty"
                                       : "integrity failure: previous_hash is not the "
                                         "event_hash of version " +
                                             std::to_string(version - 1));
    }
  }
  if (event->canonical_text() != record_.state) {
    return fail(version, "the stored state is not its canonical JSON (RFC 8785) text");
  }
  previous_hash_ = event->event_hash();
}

}  // namespace es::verify
