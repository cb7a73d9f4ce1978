#include "domain/canonical_json.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>

#include "domain/errors.hpp"

namespace es {
namespace {

namespace json = boost::json;

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighs = 0x8080808080808080ULL;

inline std::uint64_t load8(const unsigned char* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// Nonzero iff some byte of `w` is zero (exact as a yes/no answer).
constexpr std::uint64_t has_zero_byte(std::uint64_t w) noexcept {
  return (w - kOnes) & ~w & kHighs;
}

// True unless all 8 bytes are printable ASCII other than '"' and '\\' (copied verbatim).
inline bool needs_attention(std::uint64_t w) noexcept {
  return ((w & kHighs) | has_zero_byte(w ^ (kOnes * '"')) | has_zero_byte(w ^ (kOnes * '\\')) |
          ((w - kOnes * 0x20) & ~w & kHighs)) != 0;
}

// Length of the well-formed UTF-8 sequence starting with the non-ASCII byte p[0], or 0.
inline std::size_t utf8_sequence_length(const unsigned char* p, std::size_t avail) noexcept {
  const unsigned c = p[0];
  if (c < 0xC2) return 0;  // continuation byte, or overlong lead C0/C1
  if (c < 0xE0) return (avail >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
  if (c < 0xF0) {
    if (avail < 3) return 0;
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80;  // E0: no overlong forms
    const unsigned hi = c == 0xED ? 0x9F : 0xBF;  // ED: no surrogates
    return (p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80) ? 3 : 0;
  }
  if (c < 0xF5) {
    if (avail < 4) return 0;
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80;  // F0: no overlong forms
    const unsigned hi = c == 0xF4 ? 0x8F : 0xBF;  // F4: nothing above U+10FFFF
    return (p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80) ? 4 : 0;
  }
  return 0;
}

// For each ASCII byte: 0 = copy verbatim, 'u' = \u00xx, otherwise the short escape letter.
constexpr std::array<char, 128> make_escape_table() {
  std::array<char, 128> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 'u';
  t['\b'] = 'b';
  t['\f'] = 'f';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  t['"'] = '"';
  t['\\'] = '\\';
  return t;
}
constexpr std::array<char, 128> kEscape = make_escape_table();
constexpr char kHex[] = "0123456789abcdef";

// Output cursor over `out`: grows the string in large steps and writes through a raw pointer,
// so that the many tiny writes of a serialisation cost no per-call capacity bookkeeping.
// finish() trims `out` to what was written.
class Sink {
 public:
  explicit Sink(std::string& out) : out_(out) {
    const std::size_t used = out.size();
    out.resize(used + kHeadroom);  // zero-fills only the headroom, never the whole capacity
    p_ = out.data() + used;
    end_ = out.data() + out.size();
  }
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // Makes room for `n` more bytes; returns the write position (advance it with commit()).
  char* reserve(std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n) grow(n);
    return p_;
  }
  void commit(char* position) noexcept { p_ = position; }

  void put(char c) {
    *reserve(1) = c;
    ++p_;
  }
  void write(const char* data, std::size_t n) {
    std::memcpy(reserve(n), data, n);
    p_ += n;
  }
  void finish() { out_.resize(static_cast<std::size_t>(p_ - out_.data())); }

 private:
  static constexpr std::size_t kHeadroom = 512;  // fits a typical event without regrowth

  void grow(std::size_t n) {
    const std::size_t used = static_cast<std::size_t>(p_ - out_.data());
    out_.resize(std::max(2 * out_.size(), used + n + kHeadroom));
    p_ = out_.data() + used;
    end_ = out_.data() + out_.size();
  }

  std::string& out_;
  char* p_;
  char* end_;
};

// Writes `s` as a JSON string literal, validating UTF-8 on the way.
void append_string(Sink& sink, std::string_view s) {
  const auto* in = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  // Input is processed in chunks, each with room reserved for its worst case (every byte
  // becoming \u00xx, plus 7 bytes a step may run past the chunk end, plus the quotes).
  constexpr std::size_t kChunk = 4096;
  char* o = sink.reserve(2);  // both quotes of an empty string
  *o++ = '"';
  std::size_t i = 0;
  while (i < n) {
    const std::size_t chunk_end = std::min(n, i + kChunk);
    sink.commit(o);
    o = sink.reserve(6 * (chunk_end - i) + 16);
    while (i < chunk_end) {
      if (n - i >= 8) {
        const std::uint64_t w = load8(in + i);
        if (!needs_attention(w)) {
          std::memcpy(o, &w, sizeof w);
          o += 8;
          i += 8;
          continue;
        }
      }
      const unsigned c = in[i];
      if (c >= 0x80) {
        const std::size_t len = utf8_sequence_length(in + i, n - i);
        if (len == 0) throw InvalidInput("canonical_json: string is not valid UTF-8");
        for (std::size_t j = 0; j < len; ++j) *o++ = static_cast<char>(in[i + j]);
        i += len;
        continue;
      }
      const char esc = kEscape[c];
      if (esc == 0) {
        *o++ = static_cast<char>(c);
      } else if (esc == 'u') {
        *o++ = '\\';
        *o++ = 'u';
        *o++ = '0';
        *o++ = '0';
        *o++ = kHex[c >> 4];
        *o++ = kHex[c & 0xF];
      } else {
        *o++ = '\\';
        *o++ = esc;
      }
      ++i;
    }
  }
  *o++ = '"';  // the reservations above always leave room for it
  sink.commit(o);
}

// Byte order of UTF-8 is code point order; UTF-16 order differs only in that supplementary
// characters (surrogate pairs D800-DFFF; UTF-8 leads F0-F4) sort before U+E000-U+FFFF (leads
// EE, EF). Comparing strings lexicographically after mapping the bytes EE and EF above every
// other byte therefore gives UTF-16 order for valid UTF-8. The map is injective, so this is a
// strict total order for any bytes, which std::sort needs even before validation throws.
inline unsigned utf16_rank(unsigned char c) noexcept {
  return (c == 0xEE || c == 0xEF) ? c + 0x100u : c;
}

bool utf16_less(std::string_view a, std::string_view b) noexcept {
  const auto* pa = reinterpret_cast<const unsigned char*>(a.data());
  const auto* pb = reinterpret_cast<const unsigned char*>(b.data());
  const std::size_t n = std::min(a.size(), b.size());
  std::size_t i = 0;
  while (i + 8 <= n && load8(pa + i) == load8(pb + i)) i += 8;
  while (i < n && pa[i] == pb[i]) ++i;
  if (i == n) return a.size() < b.size();
  const unsigned ca = pa[i];
  const unsigned cb = pb[i];
  if ((ca | cb) < 0xEE) return ca < cb;  // fast path: plain byte order
  return utf16_rank(pa[i]) < utf16_rank(pb[i]);
}

constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53
constexpr std::int64_t kMaxExactInt64 = 9007199254740992LL;

template <class Int>
void append_integer(Sink& sink, Int v) {
  char* o = sink.reserve(24);
  sink.commit(std::to_chars(o, o + 24, v).ptr);
}

// ECMAScript Number::toString(d) for a finite double (ECMA-262 Number::toString, radix 10).
void append_double(Sink& sink, double d) {
  if (!std::isfinite(d)) throw InvalidInput("canonical_json: number is not finite");
  if (d == 0) {  // also -0
    sink.put('0');
    return;
  }
  // Integral values up to 2^53 are their own shortest round-trip digits.
  if (std::fabs(d) <= kMaxExactInteger && std::trunc(d) == d) {
    append_integer(sink, static_cast<std::int64_t>(d));
    return;
  }
  // Shortest round-trip digits in the form [-]d[.ddd]e(+|-)xx.
  char sci[40];
  const auto r = std::to_chars(sci, sci + sizeof sci, d, std::chars_format::scientific);
  const char* p = sci;
  const char* const end = r.ptr;
  const bool negative = *p == '-';
  if (negative) ++p;
  char digits[20];
  int k = 0;  // number of significant digits
  digits[k++] = *p++;
  if (*p == '.') {
    ++p;
    while (*p != 'e') digits[k++] = *p++;
  }
  ++p;  // 'e'
  const bool exp_negative = *p++ == '-';
  int e = 0;
  while (p < end) e = e * 10 + (*p++ - '0');
  if (exp_negative) e = -e;
  const int n = e + 1;  // value = 0.d1d2...dk * 10^n

  constexpr std::size_t kMaxLength = 32;  // longest: "-0.00000" + 17 digits = 25
  char* const start = sink.reserve(kMaxLength);
  char* o = start;
  if (negative) *o++ = '-';
  if (k <= n && n <= 21) {  // integer: digits then n-k zeros
    o = std::copy(digits, digits + k, o);
    o = std::fill_n(o, n - k, '0');
  } else if (0 < n && n <= 21) {  // ddd.ddd
    o = std::copy(digits, digits + n, o);
    *o++ = '.';
    o = std::copy(digits + n, digits + k, o);
  } else if (-6 < n && n <= 0) {  // 0.000ddd
    *o++ = '0';
    *o++ = '.';
    o = std::fill_n(o, -n, '0');
    o = std::copy(digits, digits + k, o);
  } else {  // d.ddde+x / de-x
    *o++ = digits[0];
    if (k > 1) {
      *o++ = '.';
      o = std::copy(digits + 1, digits + k, o);
    }
    *o++ = 'e';
    *o++ = e < 0 ? '-' : '+';
    o = std::to_chars(o, start + kMaxLength, e < 0 ? -e : e).ptr;
  }
  sink.commit(o);
}

void append_value(Sink& sink, const json::value& v);

void append_array(Sink& sink, const json::array& a) {
  sink.put('[');
  bool first = true;
  for (const auto& element : a) {
    if (!first) sink.put(',');
    first = false;
    append_value(sink, element);
  }
  sink.put(']');
}

void append_object(Sink& sink, const json::object& o) {
  const std::size_t n = o.size();
  // Sort pointers to the members; small objects (all events) sort on the stack.
  constexpr std::size_t kOnStack = 32;
  const json::key_value_pair* on_stack[kOnStack];
  std::unique_ptr<const json::key_value_pair*[]> on_heap;
  const json::key_value_pair** members = on_stack;
  if (n > kOnStack) {
    on_heap.reset(new const json::key_value_pair*[n]);
    members = on_heap.get();
  }
  std::size_t i = 0;
  for (const auto& kv : o) members[i++] = &kv;
  std::sort(members, members + n, [](const json::key_value_pair* x, const json::key_value_pair* y) {
    return utf16_less(x->key(), y->key());
  });
  sink.put('{');
  for (i = 0; i < n; ++i) {
    if (i != 0) sink.put(',');
    append_string(sink, members[i]->key());
    sink.put(':');
    append_value(sink, members[i]->value());
  }
  sink.put('}');
}

void append_value(Sink& sink, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      sink.write("null", 4);
      return;
    case json::kind::bool_:
      if (v.get_bool()) {
        sink.write("true", 4);
      } else {
        sink.write("false", 5);
      }
      return;
    case json::kind::int64: {
      const std::int64_t i = v.get_int64();
      if (i >= -kMaxExactInt64 && i <= kMaxExactInt64) {
        append_integer(sink, i);
      } else {
        append_double(sink, static_cast<double>(i));
      }
      return;
    }
    case json::kind::uint64: {
      const std::uint64_t u = v.get_uint64();
      if (u <= static_cast<std::uint64_t>(kMaxExactInt64)) {
        append_integer(sink, u);
      } else {
        append_double(sink, static_cast<double>(u));
      }
      return;
    }
    case json::kind::double_:
      append_double(sink, v.get_double());
      return;
    case json::kind::string:
      append_string(sink, v.get_string());
      return;
    case json::kind::array:
      append_array(sink, v.get_array());
      return;
    case json::kind::object:
      append_object(sink, v.get_object());
      return;
  }
}

// Serialises with `write(sink)` onto the end of `out`; on an exception `out` gets back its
// previous size (the sink may have grown it).
template <class Write>
void append_with(std::string& out, Write&& write) {
  const std::size_t old_size = out.size();
  try {
    Sink sink(out);
    write(sink);
    sink.finish();
  } catch (...) {
    out.resize(old_size);
    throw;
  }
}

template <class Write>
std::string serialize_with(Write&& write) {
  std::string out;
  Sink sink(out);
  write(sink);
  sink.finish();
  return out;
}

}  // namespace

void canonical_json_append(std::string& out, const boost::json::value& v) {
  append_with(out, [&](Sink& sink) { append_value(sink, v); });
}

void canonical_json_append(std::string& out, const boost::json::object& o) {
  append_with(out, [&](Sink& sink) { append_object(sink, o); });
}

void canonical_json_append(std::string& out, const boost::json::array& a) {
  append_with(out, [&](Sink& sink) { append_array(sink, a); });
}

void canonical_string_append(std::string& out, std::string_view s) {
  append_with(out, [&](Sink& sink) { append_string(sink, s); });
}

bool canonical_key_less(std::string_view a, std::string_view b) noexcept {
  return utf16_less(a, b);
}

std::string canonical_json(const boost::json::value& v) {
  return serialize_with([&](Sink& sink) { append_value(sink, v); });
}

std::string canonical_json(const boost::json::object& o) {
  return serialize_with([&](Sink& sink) { append_object(sink, o); });
}

std::string canonical_json(const boost::json::array& a) {
  return serialize_with([&](Sink& sink) { append_array(sink, a); });
}

bool is_valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    if (n - i >= 8 && (load8(p + i) & kHighs) == 0) {
      i += 8;
      continue;
    }
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = utf8_sequence_length(p + i, n - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

}  // namespace es
