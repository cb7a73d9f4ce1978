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

// Appends `s` as a JSON string literal, validating UTF-8 on the way.
void append_string(std::string& out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  out.push_back('"');
  std::size_t start = 0;  // first byte not yet copied to out
  std::size_t i = 0;
  while (i < n) {
    if (n - i >= 8 && !needs_attention(load8(p + i))) {
      i += 8;
      continue;
    }
    const unsigned c = p[i];
    if (c >= 0x80) {
      const std::size_t len = utf8_sequence_length(p + i, n - i);
      if (len == 0) throw InvalidInput("canonical_json: string is not valid UTF-8");
      i += len;
      continue;
    }
    const char esc = kEscape[c];
    if (esc == 0) {
      ++i;
      continue;
    }
    out.append(s.data() + start, i - start);
    if (esc == 'u') {
      const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out.append(u, sizeof u);
    } else {
      const char e[2] = {'\\', esc};
      out.append(e, sizeof e);
    }
    start = ++i;
  }
  out.append(s.data() + start, n - start);
  out.push_back('"');
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
void append_integer(std::string& out, Int v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

// ECMAScript Number::toString(d) for a finite double (ECMA-262 Number::toString, radix 10).
void append_double(std::string& out, double d) {
  if (!std::isfinite(d)) throw InvalidInput("canonical_json: number is not finite");
  if (d == 0) {  // also -0
    out.push_back('0');
    return;
  }
  // Integral values up to 2^53 are their own shortest round-trip digits.
  if (std::fabs(d) <= kMaxExactInteger && std::trunc(d) == d) {
    append_integer(out, static_cast<std::int64_t>(d));
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

  char buf[40];
  char* o = buf;
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
    o = std::to_chars(o, buf + sizeof buf, e < 0 ? -e : e).ptr;
  }
  out.append(buf, static_cast<std::size_t>(o - buf));
}

void append_value(std::string& out, const json::value& v);

void append_array(std::string& out, const json::array& a) {
  out.push_back('[');
  bool first = true;
  for (const auto& element : a) {
    if (!first) out.push_back(',');
    first = false;
    append_value(out, element);
  }
  out.push_back(']');
}

void append_object(std::string& out, const json::object& o) {
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
  out.push_back('{');
  for (i = 0; i < n; ++i) {
    if (i != 0) out.push_back(',');
    append_string(out, members[i]->key());
    out.push_back(':');
    append_value(out, members[i]->value());
  }
  out.push_back('}');
}

void append_value(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      out.append("null", 4);
      return;
    case json::kind::bool_:
      if (v.get_bool()) {
        out.append("true", 4);
      } else {
        out.append("false", 5);
      }
      return;
    case json::kind::int64: {
      const std::int64_t i = v.get_int64();
      if (i >= -kMaxExactInt64 && i <= kMaxExactInt64) {
        append_integer(out, i);
      } else {
        append_double(out, static_cast<double>(i));
      }
      return;
    }
    case json::kind::uint64: {
      const std::uint64_t u = v.get_uint64();
      if (u <= static_cast<std::uint64_t>(kMaxExactInt64)) {
        append_integer(out, u);
      } else {
        append_double(out, static_cast<double>(u));
      }
      return;
    }
    case json::kind::double_:
      append_double(out, v.get_double());
      return;
    case json::kind::string:
      append_string(out, v.get_string());
      return;
    case json::kind::array:
      append_array(out, v.get_array());
      return;
    case json::kind::object:
      append_object(out, v.get_object());
      return;
  }
}

// Runs `append` and restores `out` to its previous size if it throws.
template <class F>
void append_or_restore(std::string& out, F&& append) {
  const std::size_t old_size = out.size();
  try {
    append();
  } catch (...) {
    out.resize(old_size);
    throw;
  }
}

constexpr std::size_t kInitialCapacity = 256;  // a typical event is ~200 bytes

}  // namespace

void canonical_json_append(std::string& out, const boost::json::value& v) {
  append_or_restore(out, [&] { append_value(out, v); });
}

void canonical_json_append(std::string& out, const boost::json::object& o) {
  append_or_restore(out, [&] { append_object(out, o); });
}

void canonical_json_append(std::string& out, const boost::json::array& a) {
  append_or_restore(out, [&] { append_array(out, a); });
}

std::string canonical_json(const boost::json::value& v) {
  std::string out;
  out.reserve(kInitialCapacity);
  append_value(out, v);
  return out;
}

std::string canonical_json(const boost::json::object& o) {
  std::string out;
  out.reserve(kInitialCapacity);
  append_object(out, o);
  return out;
}

std::string canonical_json(const boost::json::array& a) {
  std::string out;
  out.reserve(kInitialCapacity);
  append_array(out, a);
  return out;
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
