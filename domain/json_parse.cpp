// parse_json: Boost.JSON's basic_parser driving a value_stack, with doubles converted by
// std::from_chars. See json_parse.hpp for the rules.
//
// This is the one translation unit that instantiates basic_parser (basic_parser_impl.hpp
// holds the template definitions that the compiled Boost.JSON library keeps to itself).
#include "domain/json_parse.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value_stack.hpp>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <system_error>
#include <unordered_set>
#include <vector>

#include "domain/errors.hpp"

namespace es {
namespace {

namespace json = boost::json;

// Largest integer magnitude that I-JSON (RFC 7493 2.2) allows: 2^53 - 1.
constexpr std::int64_t kMaxSafeInteger = (std::int64_t{1} << 53) - 1;

// Why a handler stopped the parse (Boost's own errors arrive as error codes).
enum class Failure { none, integer_range, not_finite, bad_number };

// True for an integer literal: no fraction and no exponent.
bool is_integer_literal(const char* first, const char* last) noexcept {
  for (; first != last; ++first) {
    const char c = *first;
    if (c == '.' || c == 'e' || c == 'E') return false;
  }
  return true;
}

// For a number that std::from_chars found out of range: true when its magnitude is large
// (overflow to infinity), false when it is tiny (underflow to zero). The text is a valid
// JSON number with a non-zero significand.
bool magnitude_is_large(const char* first, const char* last) noexcept {
  const char* p = first;
  if (p != last && *p == '-') ++p;
  // Decimal exponent of the first significant digit, before the explicit exponent.
  long long lead = 0;
  bool seen = false;
  long long integer_digits = 0;
  for (; p != last && *p >= '0' && *p <= '9'; ++p, ++integer_digits) {
    if (!seen && *p != '0') {
      seen = true;
      lead = -integer_digits;  // corrected below by the count of integer digits
    }
  }
  if (seen) {
    lead += integer_digits - 1;
  } else if (p != last && *p == '.') {
    long long position = 0;
    for (++p; p != last && *p >= '0' && *p <= '9'; ++p) {
      --position;
      if (!seen && *p != '0') {
        seen = true;
        lead = position;
      }
    }
  }
  while (p != last && *p != 'e' && *p != 'E') ++p;
  // Saturates far beyond any digit count, so that lead + exponent keeps its sign.
  constexpr long long kExponentCap = 1000000000000000;
  long long exponent = 0;
  if (p != last) {
    ++p;
    bool negative = false;
    if (p != last && (*p == '+' || *p == '-')) negative = *p++ == '-';
    for (; p != last && exponent < kExponentCap; ++p) exponent = exponent * 10 + (*p - '0');
    if (negative) exponent = -exponent;
  }
  return lead + exponent >= 0;
}

// Position of the first byte of `s` that does not belong to a well-formed UTF-8 sequence
// (Unicode table 3-7), or s.size().
std::size_t first_invalid_utf8(std::string_view s) noexcept {
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned c = b[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned lo = 0x80, hi = 0xBF;  // range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (n - i < len || b[i + 1] < lo || b[i + 1] > hi) return i;
    for (std::size_t k = 2; k < len; ++k) {
      if (b[i + k] < 0x80 || b[i + k] > 0xBF) return i;
    }
    i += len;
  }
  return n;
}

// Handler for basic_parser that builds the value with a value_stack, like Boost's own
// parser, but converts doubles from their text.
class Handler {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  Handler(unsigned char* temp, std::size_t temp_size, std::string_view text, bool i_json_numbers,
          bool count_keys)
      : st(json::storage_ptr(), temp, temp_size),
        text_(text),
        i_json_numbers_(i_json_numbers),
        count_keys_(count_keys) {}

  json::value_stack st;

  Failure failure() const noexcept { return failure_; }
  std::size_t failure_offset() const noexcept { return failure_offset_; }
  std::size_t keys_seen() const noexcept { return keys_seen_; }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t n, json::error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(std::size_t n, json::error_code&) {
    st.push_object(n);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    st.push_key(s);
    if (count_keys_) ++keys_seen_;
    return true;
  }
  // Only called when a number spans two write_some buffers; parse_json writes the whole text
  // at once, so this is a fallback.
  bool on_number_part(json::string_view s, json::error_code&) {
    append_number(s);
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view s, json::error_code& ec) {
    const std::size_t offset = number_offset(s);
    number_.clear();
    if (i_json_numbers_ && (i > kMaxSafeInteger || i < -kMaxSafeInteger)) {
      return fail(Failure::integer_range, offset, ec);
    }
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view s, json::error_code& ec) {
    // Boost reports only integers above INT64_MAX here, all beyond 2^53-1.
    const std::size_t offset = number_offset(s);
    number_.clear();
    if (i_json_numbers_) return fail(Failure::integer_range, offset, ec);
    st.push_uint64(u);
    return true;
  }
  bool on_double(double, json::string_view s, json::error_code& ec) {
    const std::size_t offset = number_offset(s);
    const char* first = s.data();
    const char* last = first + s.size();
    if (!number_.empty()) {
      append_number(s);
      first = number_.data();
      last = first + number_.size();
    }
    if (i_json_numbers_ && is_integer_literal(first, last)) {
      // An integer literal that Boost could not hold in int64/uint64.
      number_.clear();
      return fail(Failure::integer_range, offset, ec);
    }
    double d = 0;
    const auto r = std::from_chars(first, last, d);
    if (r.ec == std::errc::result_out_of_range) {
      if (magnitude_is_large(first, last)) {
        number_.clear();
        return fail(Failure::not_finite, offset, ec);
      }
      d = *first == '-' ? -0.0 : 0.0;  // underflow: the correctly rounded value is zero
    } else if (r.ec != std::errc() || r.ptr != last) {
      number_.clear();  // not reachable for text that Boost accepted as a number
      return fail(Failure::bad_number, offset, ec);
    }
    number_.clear();
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  // The text of a number split over several parts: a small inline buffer, a std::string only
  // for long texts.
  class NumberText {
   public:
    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }
    const char* data() const noexcept { return big_.empty() ? small_ : big_.data(); }
    void clear() noexcept {
      size_ = 0;
      big_.clear();
    }
    void append(const char* p, std::size_t n) {
      if (big_.empty() && size_ + n <= sizeof(small_)) {
        std::memcpy(small_ + size_, p, n);
      } else {
        if (big_.empty()) big_.assign(small_, size_);
        big_.append(p, n);
      }
      size_ += n;
    }

   private:
    char small_[64];
    std::size_t size_ = 0;
    std::string big_;
  };

  void append_number(json::string_view s) { number_.append(s.data(), s.size()); }

  // Offset of the number whose last part is `s` (exact when the number came in one piece).
  std::size_t number_offset(json::string_view s) const noexcept {
    const std::less_equal<const char*> le;
    if (!le(text_.data(), s.data()) || !le(s.data(), text_.data() + text_.size())) return 0;
    const auto at = static_cast<std::size_t>(s.data() - text_.data());
    return at >= number_.size() ? at - number_.size() : 0;
  }

  bool fail(Failure f, std::size_t offset, json::error_code& ec) noexcept {
    failure_ = f;
    failure_offset_ = offset;
    ec = json::error::exception;  // any code: parse_json reads failure_ first
    return false;
  }

  std::string_view text_;
  bool i_json_numbers_;
  bool count_keys_;
  std::size_t keys_seen_ = 0;
  Failure failure_ = Failure::none;
  std::size_t failure_offset_ = 0;
  NumberText number_;
};

// Sum of the sizes of all objects in `v`. Smaller than the number of keys in the text exactly
// when some object named a key twice (value_stack keeps the last value of a duplicate key).
std::size_t count_members(const json::value& v) noexcept {
  std::size_t n = 0;
  if (const json::object* o = v.if_object()) {
    n += o->size();
    for (const auto& member : *o) {
      if (member.value().is_structured()) n += count_members(member.value());
    }
  } else if (const json::array* a = v.if_array()) {
    for (const auto& element : *a) {
      if (element.is_structured()) n += count_members(element);
    }
  }
  return n;
}

// Handler that only looks for the first key named twice in one object (error path only).
class DuplicateKeyFinder {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  const std::string& duplicate() const noexcept { return duplicate_; }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t, json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    objects_.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    objects_.pop_back();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
    key_.append(s.data(), s.size());
    if (!objects_.back().insert(key_).second) {
      duplicate_ = key_;
      ec = json::error::exception;
      return false;
    }
    key_.clear();
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return true; }
  bool on_double(double, json::string_view, json::error_code&) { return true; }
  bool on_bool(bool, json::error_code&) { return true; }
  bool on_null(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  std::vector<std::unordered_set<std::string>> objects_;
  std::string key_;
  std::string duplicate_;
};

json::parse_options boost_options(const JsonParseOptions& options) {
  json::parse_options o;
  o.max_depth = options.max_depth;
  o.allow_comments = false;
  o.allow_trailing_commas = false;
  o.allow_invalid_utf8 = false;
  return o;
}

// `key` quoted for an error message, cut after 64 bytes on a code point boundary.
std::string quote_key(const std::string& key) {
  constexpr std::size_t kMax = 64;
  if (key.size() <= kMax) return "'" + key + "'";
  std::size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(key[cut]) & 0xC0) == 0x80) --cut;
  return "'" + key.substr(0, cut) + "...'";
}

[[noreturn]] void throw_duplicate_key(std::string_view text, const JsonParseOptions& options) {
  json::basic_parser<DuplicateKeyFinder> p(boost_options(options));
  json::error_code ec;
  p.write_some(false, text.data(), text.size(), ec);
  const std::string& key = p.handler().duplicate();
  throw InvalidInput("duplicate key " + quote_key(key));
}

[[noreturn]] void throw_handler_failure(Failure f, std::size_t offset) {
  switch (f) {
    case Failure::integer_range:
      throw InvalidInput("number out of range at offset " + std::to_string(offset) +
                         " (integers must be within +-(2^53-1))");
    case Failure::not_finite:
      throw InvalidInput("number out of range at offset " + std::to_string(offset) +
                         " (not finite)");
    default:
      throw InvalidInput("invalid number at offset " + std::to_string(offset));
  }
}

[[noreturn]] void throw_parse_error(std::string_view text, const json::error_code& ec,
                                    std::size_t offset, const JsonParseOptions& options) {
  if (offset > text.size()) offset = text.size();
  const std::string at = " at offset " + std::to_string(offset);
  if (ec == json::error::too_deep) {
    throw InvalidInput("nesting deeper than " + std::to_string(options.max_depth) + at);
  }
  if (ec == json::error::exponent_overflow) throw InvalidInput("number out of range" + at);
  if (ec == json::error::illegal_leading_surrogate ||
      ec == json::error::illegal_trailing_surrogate) {
    throw InvalidInput("invalid surrogate escape" + at);
  }
  // A syntax error at or just after bytes that are not UTF-8 is reported as invalid UTF-8.
  const std::size_t bad = first_invalid_utf8(text.substr(0, offset + 4));
  if (bad <= offset && bad < text.size()) {
    throw InvalidInput("invalid UTF-8 at offset " + std::to_string(bad));
  }
  if (ec == json::error::incomplete) {
    if (text.find_first_not_of(" \t\n\r") == std::string_view::npos) {
      throw InvalidInput("empty input");
    }
    throw InvalidInput("unexpected end of input");
  }
  throw InvalidInput("invalid JSON" + at);
}

}  // namespace

json::value parse_json(std::string_view text, const JsonParseOptions& options) {
  return parse_json(text, options, json::storage_ptr());
}

json::value parse_json(std::string_view text, const JsonParseOptions& options,
                       json::storage_ptr storage) {
  unsigned char temp[BOOST_JSON_STACK_BUFFER_SIZE];
  json::basic_parser<Handler> p(boost_options(options), temp, sizeof(temp), text,
                                options.i_json_numbers, options.reject_duplicate_keys);
  Handler& h = p.handler();
  h.st.reset(std::move(storage));
  json::error_code ec;
  // more = false: the text is complete. On failure the result is the offset of the error.
  const std::size_t n = p.write_some(false, text.data(), text.size(), ec);
  if (h.failure() != Failure::none) throw_handler_failure(h.failure(), h.failure_offset());
  if (ec) throw_parse_error(text, ec, n, options);
  if (n != text.size()) throw InvalidInput("trailing characters at offset " + std::to_string(n));
  json::value v = h.st.release();
  if (options.reject_duplicate_keys && h.keys_seen() != 0 && count_members(v) != h.keys_seen()) {
    throw_duplicate_key(text, options);
  }
  return v;
}

json::value parse_i_json(std::string_view text) {
  JsonParseOptions options;
  options.max_depth = 64;
  options.reject_duplicate_keys = true;
  options.i_json_numbers = true;
  return parse_json(text, options);
}

}  // namespace es
