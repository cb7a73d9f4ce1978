// A strict JSON parser with correctly rounded doubles.
//
// Boost.JSON 1.81's boost::json::parse does not round every decimal to the nearest double
// (about 5% of random 16-digit and 18% of 17-digit decimals come back one or more ulps off),
// which breaks the event hash: it is SHA-256 over the canonical JSON re-encoded from the
// parsed state. parse_json is built from Boost's basic_parser and value_stack (so it produces
// the same boost::json::value trees, just as fast), but converts every number with a fraction
// or exponent from its text with std::from_chars, which is correctly rounded.
//
// Rules, in every mode:
// - exactly one JSON text (RFC 8259), surrounded by optional whitespace; no comments, no
//   trailing commas;
// - strings and keys must be well-formed UTF-8; \u escapes must not leave a lone surrogate;
// - integer literals (no fraction, no exponent) that fit int64 become int64, those that fit
//   only uint64 become uint64, larger ones become double; `-0` is the int64 0;
// - other numbers become the correctly rounded double; a number whose magnitude rounds to
//   infinity (e.g. `1e400`) is rejected, one that underflows becomes +-0.0 (`1e-400`);
//   Boost rejects exponents beyond the int range (`1e99999999999`) before we see them;
// - duplicate keys keep the last value unless reject_duplicate_keys.
//
// Every failure throws es::InvalidInput with a short reason, e.g. "invalid JSON at offset 3",
// "invalid UTF-8 at offset 7", "nesting deeper than 64", "duplicate key 'a'",
// "number out of range at offset 0", "trailing characters at offset 2", "empty input",
// "unexpected end of input". Offsets are byte offsets into the text.
#pragma once

#include <cstddef>
#include <string_view>

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

namespace es {

struct JsonParseOptions {
  // Maximum nesting of arrays and objects; the outermost array or object is depth 1.
  std::size_t max_depth = 64;
  // I-JSON: reject an object that names the same key twice.
  bool reject_duplicate_keys = false;
  // I-JSON: integer literals (no `.`, no `e`/`E`) must lie within +-(2^53-1). Numbers with a
  // fraction or exponent are doubles and only need to be finite (as in every mode).
  bool i_json_numbers = false;
};

// Parses `text` as one JSON value. Throws es::InvalidInput on any failure.
boost::json::value parse_json(std::string_view text, const JsonParseOptions& options = {});
// The same, allocating the result from `storage` (e.g. a monotonic_resource over a stack
// buffer, for values that are read and dropped at once).
boost::json::value parse_json(std::string_view text, const JsonParseOptions& options,
                              boost::json::storage_ptr storage);

// parse_json with the I-JSON rules of HTTP_API.md (RFC 7493): valid UTF-8, nesting at most 64,
// no duplicate keys, integer literals within +-(2^53-1), finite numbers.
boost::json::value parse_i_json(std::string_view text);

}  // namespace es
