// Fuzzes the I-JSON parser (es::parse_i_json, what every HTTP body goes through).
// Invariants: the only error is es::InvalidInput; an accepted text obeys the I-JSON rules
// (UTF-8 strings and keys, nesting <= 64, integers within +-(2^53-1), finite numbers); the
// plain parser (parse_json) reads the same value; and its canonical JSON (RFC 8785, what
// hashes are computed over) parses back to a value with the same canonical JSON.
#include "domain/canonical_json.hpp"
#include "domain/errors.hpp"
#include "domain/json_parse.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <boost/json/value.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

constexpr std::int64_t kMaxSafeInteger = (std::int64_t{1} << 53) - 1;

// Checks the I-JSON rules on a parsed value; `depth` is the nesting of `v` (outermost 1).
void check_i_json(const boost::json::value& v, std::size_t depth) {
  switch (v.kind()) {
    case boost::json::kind::int64:
      FUZZ_CHECK(v.get_int64() >= -kMaxSafeInteger && v.get_int64() <= kMaxSafeInteger,
                 "I-JSON integer out of +-(2^53-1)");
      break;
    case boost::json::kind::uint64:
      FUZZ_CHECK(false, "I-JSON integer read as uint64 (beyond int64)");
      break;
    case boost::json::kind::double_:
      FUZZ_CHECK(std::isfinite(v.get_double()), "non-finite number accepted");
      break;
    case boost::json::kind::string:
      FUZZ_CHECK(es::is_valid_utf8(v.get_string()), "invalid UTF-8 string accepted");
      break;
    case boost::json::kind::array:
      FUZZ_CHECK(depth <= 64, "nesting deeper than 64 accepted");
      for (const auto& e : v.get_array()) check_i_json(e, depth + 1);
      break;
    case boost::json::kind::object:
      FUZZ_CHECK(depth <= 64, "nesting deeper than 64 accepted");
      for (const auto& kv : v.get_object()) {
        FUZZ_CHECK(es::is_valid_utf8(kv.key()), "invalid UTF-8 key accepted");
        check_i_json(kv.value(), depth + 1);
      }
      break;
    default:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  boost::json::value value;
  try {
    value = es::parse_i_json(text);
  } catch (const es::InvalidInput&) {
    return 0;  // the one typed error for bad input
  } catch (const std::exception& e) {
    FUZZ_UNEXPECTED("parse_i_json", e.what());
  }
  check_i_json(value, 1);

  // The plain parser reads the same value (I-JSON only adds refusals).
  try {
    FUZZ_CHECK(es::parse_json(text) == value, "parse_json reads another value");
  } catch (const std::exception& e) {
    FUZZ_UNEXPECTED("parse_json of an I-JSON text", e.what());
  }

  // parse -> canonical -> parse -> canonical is stable.
  std::string canonical;
  try {
    canonical = es::canonical_json(value);
  } catch (const std::exception& e) {
    FUZZ_UNEXPECTED("canonical_json of a parsed value", e.what());
  }
  boost::json::value again;
  try {
    again = es::parse_json(canonical);
  } catch (const std::exception& e) {
    FUZZ_UNEXPECTED("parse_json of canonical JSON", e.what());
  }
  FUZZ_CHECK(es::canonical_json(again) == canonical, "canonical JSON does not round-trip");
  return 0;
}
