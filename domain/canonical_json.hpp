// RFC 8785 JSON Canonicalization Scheme (JCS): the byte-exact text that event hashes are
// computed over and that is stored as an event's state when no cipher is configured.
//
// - Object members are sorted by their keys compared as UTF-16 code units (RFC 8785 3.2.3).
// - No insignificant whitespace.
// - Strings: only `"`, `\` and control characters below U+0020 are escaped (as \b \f \n \r \t,
//   the others as \u00xx with lowercase hex); everything else is written as raw UTF-8.
// - Every number is an IEEE-754 double written with ECMAScript's Number::toString (integers
//   are converted to double first, so int64/uint64 beyond 2^53 lose precision, as JCS says).
//
// Errors: es::InvalidInput for a string or key that is not valid UTF-8 and for a non-finite
// number. Nesting depth is not limited here (recursion); the parser's max_depth bounds it.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace es {

// The canonical JSON text of `v`.
std::string canonical_json(const boost::json::value& v);
// Overloads that spare the caller a deep copy into a boost::json::value.
std::string canonical_json(const boost::json::object& o);
std::string canonical_json(const boost::json::array& a);

// Appends the canonical JSON text of `v` to `out` (reuse `out` to avoid allocations). On
// error nothing is appended: `out` is restored to its previous size before the throw.
void canonical_json_append(std::string& out, const boost::json::value& v);
void canonical_json_append(std::string& out, const boost::json::object& o);
void canonical_json_append(std::string& out, const boost::json::array& a);

// Appends `s` as a canonical JSON string literal (quotes included); InvalidInput when `s` is
// not valid UTF-8.
void canonical_string_append(std::string& out, std::string_view s);
// The order of object keys in canonical JSON (UTF-16 code units).
bool canonical_key_less(std::string_view a, std::string_view b) noexcept;

// True when `s` is well-formed UTF-8 (Unicode 3.9 table 3-7): no overlong forms, no encoded
// surrogates, nothing above U+10FFFF, no truncated sequence.
bool is_valid_utf8(std::string_view s) noexcept;

}  // namespace es
