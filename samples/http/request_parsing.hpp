// Why: the contract's rules for the pieces of a request that are not JSON bodies (path
// segments, query parameters, `at`, If-Match) are exact and easy to get subtly wrong;
// pure functions here are unit-tested on their own and shared by every route.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace es::http {

// %XX decoding (and '+' as space when asked, for queries). Nothing when a '%' is not
// followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// name=value pairs of a query, decoded, in order; nothing when undecodable. "a" alone has
// an empty value.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query);

// A decimal integer 0..2^63-1 without sign or leading zeros ("0" itself is fine).
std::optional<std::int64_t> parse_decimal_version(std::string_view text);

// An If-Match header value: exactly one quoted version, `"N"`, with optional surrounding
// whitespace. Nothing for anything else (weak tags, `*`, lists, bare numbers).
std::optional<std::int64_t> parse_if_match(std::string_view value);

}  // namespace es::http
