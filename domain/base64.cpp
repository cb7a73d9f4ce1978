#include "domain/base64.hpp"

#include <array>
#include <cstdint>

namespace es {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint8_t kInvalid = 0xFF;

constexpr std::array<std::uint8_t, 256> make_decode_table() {
  std::array<std::uint8_t, 256> table{};
  for (auto& entry : table) entry = kInvalid;
  for (std::uint8_t i = 0; i < 64; ++i) table[static_cast<unsigned char>(kAlphabet[i])] = i;
  return table;
}

constexpr std::array<std::uint8_t, 256> kDecode = make_decode_table();

}  // namespace

std::string base64_encode(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::string out((n + 2) / 3 * 4, '=');
  char* o = out.data();
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3, o += 4) {
    const std::uint32_t v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8) | p[i + 2];
    o[0] = kAlphabet[(v >> 18) & 63];
    o[1] = kAlphabet[(v >> 12) & 63];
    o[2] = kAlphabet[(v >> 6) & 63];
    o[3] = kAlphabet[v & 63];
  }
  if (i < n) {  // 1 or 2 bytes left; the '=' already in place stay
    const std::uint32_t v =
        (std::uint32_t{p[i]} << 16) | (i + 1 < n ? std::uint32_t{p[i + 1]} << 8 : 0);
    o[0] = kAlphabet[(v >> 18) & 63];
    o[1] = kAlphabet[(v >> 12) & 63];
    if (i + 1 < n) o[2] = kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  const std::size_t full = (text.size() - padding) / 4 * 4;  // characters of complete quads

  std::string out(text.size() / 4 * 3 - padding, '\0');
  char* o = out.data();
  const auto* t = reinterpret_cast<const unsigned char*>(text.data());
  for (std::size_t i = 0; i < full; i += 4, o += 3) {
    const std::uint32_t a = kDecode[t[i]], b = kDecode[t[i + 1]], c = kDecode[t[i + 2]],
                        d = kDecode[t[i + 3]];
    if (((a | b | c | d) & 0xC0) != 0) return std::nullopt;  // kInvalid has these bits
    const std::uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
    o[0] = static_cast<char>(v >> 16);
    o[1] = static_cast<char>((v >> 8) & 0xFF);
    o[2] = static_cast<char>(v & 0xFF);
  }
  if (padding != 0) {  // the last quad: 2 or 3 characters, then '=' ('=' elsewhere is invalid)
    const std::uint32_t a = kDecode[t[full]], b = kDecode[t[full + 1]],
                        c = padding == 1 ? kDecode[t[full + 2]] : 0;
    if (((a | b | c) & 0xC0) != 0) return std::nullopt;
    const std::uint32_t v = (a << 18) | (b << 12) | (c << 6);
    // The unused low bits must be zero (canonical form).
    if ((padding == 2 && (v & 0xFFFF) != 0) || (padding == 1 && (v & 0xFF) != 0)) {
      return std::nullopt;
    }
    o[0] = static_cast<char>(v >> 16);
    if (padding == 1) o[1] = static_cast<char>((v >> 8) & 0xFF);
  }
  return out;
}

}  // namespace es
