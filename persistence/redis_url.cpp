// Why: a strict parser, so that a typo in a URL fails at start-up with a clear message
// instead of connecting somewhere unexpected; messages never contain the password.
#include "persistence/redis_url.hpp"

#include "domain/errors.hpp"

#include <cctype>

namespace es {
namespace {

constexpr std::string_view kScheme = "redis://";
constexpr std::string_view kForm = "expected redis://[:password@]host:port[/db]";

[[noreturn]] void fail(const std::string& why) {
  throw ConfigurationError("invalid Redis URL: " + why + " (" + std::string(kForm) + ")");
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding of the user-info parts; a bad escape is an error (without the text).
std::string percent_decode(std::string_view s, const char* what) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) fail(std::string("bad %-escape in the ") + what);
    int hi = hex_value(s[i + 1]);
    int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) fail(std::string("bad %-escape in the ") + what);
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 15]);
    }
  }
  return out;
}

bool valid_host_name(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  for (char c : h) {
    auto u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || c == '-' || c == '.' || c == '_')) return false;
  }
  return true;
}

bool valid_ipv6(std::string_view h) {
  if (h.empty()) return false;
  for (char c : h) {
    auto u = static_cast<unsigned char>(c);
    if (!(std::isxdigit(u) || c == ':' || c == '.')) return false;
  }
  return true;
}

std::string render(const RedisUrl& url, bool mask) {
  std::string out(kScheme);
  if (!url.password.empty() || !url.user.empty()) {
    out += percent_encode(url.user);
    out += ':';
    out += mask ? std::string("***") : percent_encode(url.password);
    out += '@';
  }
  if (url.host.find(':') != std::string::npos) {
    out += '[' + url.host + ']';
  } else {
    out += url.host;
  }
  out += ':' + std::to_string(url.port);
  if (url.db != 0) out += '/' + std::to_string(url.db);
  return out;
}

}  // namespace

RedisUrl RedisUrl::parse(std::string_view text) {
  if (text.substr(0, kScheme.size()) != kScheme) fail("it must start with redis://");
  std::string_view rest = text.substr(kScheme.size());
  RedisUrl url;

  // The user-info part ends at the last '@' (a raw '@' in a password is then still fine).
  const auto at = rest.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view info = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = info.find(':');
    if (colon == std::string_view::npos) fail("the credentials must be :password or user:password");
    url.user = percent_decode(info.substr(0, colon), "user name");
    url.password = percent_decode(info.substr(colon + 1), "password");
    if (url.password.empty()) fail("the password is empty");
  }

  // Path: an optional database number.
  std::string_view authority = rest;
  const auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    std::string_view path = rest.substr(slash + 1);
    if (!path.empty()) {
      if (!all_digits(path) || path.size() > 5) fail("the database must be a number");
      url.db = std::stoi(std::string(path));
    }
  }
  if (authority.find_first_of("?#") != std::string_view::npos)
    fail("query strings are not supported");

  std::string_view host, port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) fail("unterminated [IPv6] host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (after.empty() || after.front() != ':') fail("a port is required");
    port = after.substr(1);
    if (!valid_ipv6(host)) fail("bad IPv6 host");
  } else {
    const auto colon = authority.rfind(':');
    if (colon == std::string_view::npos) fail("a port is required");
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (!valid_host_name(host)) fail("bad or missing host");
  }
  if (!all_digits(port) || port.size() > 5) fail("the port must be a number");
  url.port = std::stoi(std::string(port));
  if (url.port < 1 || url.port > 65535) fail("the port must be within 1..65535");
  url.host = std::string(host);
  return url;
}

std::string RedisUrl::to_string() const {
  return render(*this, true);
}

std::string RedisUrl::to_string_with_password() const {
  return render(*this, false);
}

}  // namespace es
