#include "domain/canonical_event_scanner.hpp"

#include "domain/event.hpp"
#include "domain/json_parse.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>

namespace es {
namespace {

constexpr auto npos = std::string_view::npos;
using namespace std::string_view_literals;

// The envelope's names as views (comparing with field::'s C strings would measure them).
constexpr auto kEventHash = "event_hash"sv, kOriginatorId = "originator_id"sv, kTopic = "topic"sv,
               kPreviousHash = "previous_hash"sv, kOriginatorVersion = "originator_version"sv,
               kTimestamp = "timestamp"sv, kSchemaVersion = "schema_version"sv;

// A key or envelope string of printable ASCII without escapes: the index of its closing
// quote, or npos. `at` is the index just after the opening quote.
std::size_t plain_string_end(std::string_view text, std::size_t at) {
  const std::size_t end = text.find('"', at);
  if (end == npos) return npos;
  // Eight bytes at a time (SWAR): flags a byte below 0x20, above 0x7e or equal to '\\'.
  // This check runs over every hash and id of every event read, so it must not cost a
  // branch per byte.
  constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  std::uint64_t bad = 0;
  std::size_t i = at;
  for (; i + 8 <= end; i += 8) {
    std::uint64_t x;
    std::memcpy(&x, text.data() + i, 8);
    // The "has less / has more / has zero byte" tests of Bit Twiddling Hacks (exact for
    // whether any byte matches, which is all this needs).
    const std::uint64_t below = (x - ones * 0x20) & ~x;         // a byte < 0x20
    const std::uint64_t above = (x + ones * (127 - 0x7e)) | x;  // a byte > 0x7e
    const std::uint64_t slash = x ^ (ones * '\\');              // zero where '\\'
    bad |= (below | above | ((slash - ones) & ~slash)) & highs;
  }
  for (; i < end; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    bad |= static_cast<unsigned>(c < 0x20) | static_cast<unsigned>(c > 0x7e) |
           static_cast<unsigned>(c == '\\');
  }
  return bad ? npos : end;
}

// A JSON integer as ECMAScript prints it (no leading zeros, no '+', no fraction or exponent)
// that fits int64: its value, with `at` moved past it.
std::optional<std::int64_t> plain_integer(std::string_view text, std::size_t& at) {
  std::size_t digits = at + (at < text.size() && text[at] == '-' ? 1 : 0);
  std::size_t end = digits;
  while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
  if (end == digits || (text[digits] == '0' && end - digits > 1)) return std::nullopt;
  if (end < text.size() && text[end] != ',' && text[end] != '}') return std::nullopt;
  std::int64_t value = 0;
  auto [ptr, error] = std::from_chars(text.data() + at, text.data() + end, value);
  if (error != std::errc() || ptr != text.data() + end) return std::nullopt;
  if (value == 0 && end - at > 1) return std::nullopt;  // -0
  at = end;
  return value;
}

// The end of the member value starting at `at`: the index of the ',' or '}' that follows
// it at the object's level, or npos. Only finds the extent; the JSON parser validates it.
std::size_t value_end(std::string_view text, std::size_t at) {
  std::size_t depth = 0;
  while (at < text.size()) {
    const char c = text[at];
    if (c == '"') {
      for (++at; at < text.size() && text[at] != '"'; ++at) {
        if (text[at] == '\\') ++at;
      }
      if (at >= text.size()) return npos;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) return c == '}' ? at : npos;
      --depth;
    } else if (c == ',' && depth == 0) {
      return at;
    }
    ++at;
  }
  return npos;
}

}  // namespace

std::optional<ScannedEvent> scan_canonical_event(std::string_view text, std::size_t max_depth) {
  if (text.size() < 2 || text.front() != '{' || text.back() != '}' || max_depth < 2) {
    return std::nullopt;
  }
  ScannedEvent out;
  std::string_view previous_key;
  std::size_t hash_begin = npos, hash_end = npos;
  JsonParseOptions value_options;
  value_options.max_depth = max_depth - 1;
  std::size_t at = 1;
  if (text[at] == '}') return std::nullopt;  // an event always has members
  while (true) {
    // "key":
    if (text[at] != '"') return std::nullopt;
    const std::size_t member_begin = at;
    const std::size_t key_end = plain_string_end(text, at + 1);
    if (key_end == npos || key_end + 1 >= text.size() || text[key_end + 1] != ':') {
      return std::nullopt;
    }
    const std::string_view key = text.substr(at + 1, key_end - at - 1);
    // Strictly increasing keys: canonical order (bytewise for ASCII), and no duplicates.
    if (at > 1 && !(previous_key < key)) return std::nullopt;
    previous_key = key;
    at = key_end + 2;
    if (at >= text.size()) return std::nullopt;

    std::optional<std::string_view>* string_field = nullptr;
    std::optional<std::int64_t>* integer_field = nullptr;
    if (key == kEventHash)
      string_field = &out.event_hash;
    else if (key == kOriginatorId)
      string_field = &out.originator_id;
    else if (key == kTopic)
      string_field = &out.topic;
    else if (key == kPreviousHash)
      string_field = &out.previous_hash;
    else if (key == kOriginatorVersion)
      integer_field = &out.originator_version;
    else if (key == kTimestamp)
      integer_field = &out.timestamp;
    else if (key == kSchemaVersion)
      integer_field = &out.schema_version;

    if (string_field) {
      if (text[at] != '"') return std::nullopt;
      const std::size_t end = plain_string_end(text, at + 1);
      if (end == npos) return std::nullopt;
      *string_field = text.substr(at + 1, end - at - 1);
      at = end + 1;
      if (string_field == &out.event_hash) {
        hash_begin = member_begin;
        hash_end = at;
      }
    } else if (integer_field) {
      *integer_field = plain_integer(text, at);
      if (!*integer_field) return std::nullopt;
    } else if (std::size_t end; text[at] == '"' && (end = plain_string_end(text, at + 1)) != npos &&
                                (text[end + 1] == ',' || text[end + 1] == '}')) {
      // Plain strings and integers, the most common values, need no parser.
      out.data.emplace(key, boost::json::string_view(text.data() + at + 1, end - at - 1));
      at = end + 1;
    } else if (auto integer = plain_integer(text, at)) {
      out.data.emplace(key, *integer);
    } else {
      end = value_end(text, at);
      if (end == npos) return std::nullopt;
      try {
        out.data.emplace(key, parse_json(text.substr(at, end - at), value_options));
      } catch (const std::exception&) {
        return std::nullopt;  // the general decoder reports it
      }
      at = end;
    }

    if (at >= text.size()) return std::nullopt;
    if (text[at] == '}') {
      if (at + 1 != text.size()) return std::nullopt;
      break;
    }
    if (text[at] != ',') return std::nullopt;
    ++at;
  }

  if (hash_begin != npos) {
    if (text[hash_end] == ',') {
      out.before_hash = text.substr(0, hash_begin);
      out.after_hash = text.substr(hash_end + 1);
    } else if (text[hash_begin - 1] == ',') {
      out.before_hash = text.substr(0, hash_begin - 1);
      out.after_hash = text.substr(hash_end);
    } else {
      out.before_hash = text.substr(0, hash_begin);
      out.after_hash = text.substr(hash_end);
    }
  }
  return out;
}

}  // namespace es
