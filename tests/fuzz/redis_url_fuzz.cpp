// Fuzzes the Redis URL parser (RedisUrl::parse, every --redis flag and store URL).
// Invariants: the only error is ConfigurationError; a parsed URL renders (with the password)
// to a URL that parses to the same fields; the masked rendering parses to the same fields
// with the password "***"; and what parse says never depends on the password's bytes (a
// password without %-escapes replaced by as many 'x' gives the same error text or the same
// fields), so no error message can show a password.
#include "domain/errors.hpp"
#include "persistence/redis_url.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace {

struct Parsed {
  std::optional<es::RedisUrl> url;
  std::string error;
};

Parsed parse(std::string_view text) {
  Parsed out;
  try {
    out.url = es::RedisUrl::parse(text);
  } catch (const es::ConfigurationError& e) {
    out.error = e.what();
  } catch (const std::exception& e) {
    FUZZ_UNEXPECTED("RedisUrl::parse", e.what());
  }
  return out;
}

bool same(const es::RedisUrl& a, const es::RedisUrl& b) {
  return a.host == b.host && a.port == b.port && a.user == b.user && a.password == b.password &&
         a.db == b.db;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const Parsed parsed = parse(text);

  if (parsed.url) {
    const auto& url = *parsed.url;
    const Parsed again = parse(url.to_string_with_password());
    FUZZ_CHECK(again.url && same(*again.url, url), "the URL does not round-trip");
    const Parsed masked = parse(url.to_string());
    FUZZ_CHECK(masked.url, "the masked URL does not parse");
    es::RedisUrl expected = url;
    if (!expected.password.empty()) expected.password = "***";
    FUZZ_CHECK(same(*masked.url, expected), "the masked URL has other fields");
  }

  // The password: between the first ':' after the scheme and the last '@'.
  constexpr std::string_view scheme = "redis://";
  if (text.substr(0, scheme.size()) != scheme) return 0;
  const std::string_view rest = text.substr(scheme.size());
  const auto at = rest.rfind('@');
  if (at == std::string_view::npos) return 0;
  const auto colon = rest.substr(0, at).find(':');
  if (colon == std::string_view::npos) return 0;
  const std::string_view password = rest.substr(colon + 1, at - colon - 1);
  if (password.empty() || password.find('%') != std::string_view::npos) return 0;
  std::string other(text);
  other.replace(scheme.size() + colon + 1, password.size(), std::string(password.size(), 'x'));
  const Parsed blind = parse(other);
  FUZZ_CHECK(blind.url.has_value() == parsed.url.has_value(),
             "whether the URL parses depends on the password's bytes");
  FUZZ_CHECK(blind.error == parsed.error, "the error text depends on the password's bytes");
  return 0;
}
