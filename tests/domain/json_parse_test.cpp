// es::parse_json / es::parse_i_json: correctly rounded doubles (against std::strtod), integer
// kinds, I-JSON rules (duplicate keys, depth, number ranges, UTF-8) and error reporting.
#include <catch2/catch.hpp>

#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "domain/errors.hpp"
#include "domain/json_parse.hpp"

namespace json = boost::json;

namespace {

std::uint64_t bits_of(double d) {
  std::uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}

double double_of(std::uint64_t b) {
  double d;
  std::memcpy(&d, &b, sizeof d);
  return d;
}

// The message of the es::InvalidInput that parsing `text` throws ("" if it does not throw).
std::string error_of(const std::string& text, const es::JsonParseOptions& options = {}) {
  try {
    es::parse_json(text, options);
  } catch (const es::InvalidInput& e) {
    return e.what();
  }
  return "";
}

std::string i_json_error_of(const std::string& text) {
  try {
    es::parse_i_json(text);
  } catch (const es::InvalidInput& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

es::JsonParseOptions i_json_options() {
  es::JsonParseOptions o;
  o.reject_duplicate_keys = true;
  o.i_json_numbers = true;
  return o;
}

std::string nested_arrays(int depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

std::string nested_objects(int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += "{\"a\":";
  s += "1";
  s += std::string(depth, '}');
  return s;
}

// Parses `text` as a number with parse_json and checks it has the bits of std::strtod.
bool same_as_strtod(const std::string& text, std::string& why) {
  const double expected = std::strtod(text.c_str(), nullptr);
  const json::value v = es::parse_json(text);
  if (!v.is_double()) {
    why = text + " did not become a double";
    return false;
  }
  if (bits_of(v.get_double()) != bits_of(expected)) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%s -> %.17g, strtod %.17g", text.c_str(), v.get_double(),
                  expected);
    why = buf;
    return false;
  }
  return true;
}

}  // namespace

TEST_CASE("parse_json: doubles are correctly rounded (200,000 random doubles)", "[json_parse]") {
  std::mt19937_64 rng(20240611);
  int checked = 0;
  std::string why;
  char buf[64];
  while (checked < 200000) {
    const double d = double_of(rng());
    if (!std::isfinite(d)) continue;
    ++checked;
    // %.17g: round-trips exactly, often not the shortest digits.
    std::snprintf(buf, sizeof buf, "%.17g", d);
    std::string g17(buf);
    if (g17.find_first_of(".e") == std::string::npos) g17 += ".0";  // keep it a double
    // Shortest representation that round-trips.
    const auto r = std::to_chars(buf, buf + sizeof buf, d);
    std::string shortest(buf, r.ptr);
    if (shortest.find_first_of(".e") == std::string::npos) shortest += ".0";
    for (const std::string* text : {&g17, &shortest}) {
      if (!same_as_strtod(*text, why)) FAIL(why);
    }
  }
}

TEST_CASE("parse_json: random 16- and 17-digit decimals match strtod", "[json_parse]") {
  std::mt19937_64 rng(7);
  std::string why;
  char buf[64];
  for (int digits : {16, 17}) {
    std::uniform_int_distribution<int> exponent(-30, 30);
    for (int i = 0; i < 50000; ++i) {
      // d.ddd...e<exp> with `digits` significant digits, and the same inside an object.
      std::string mantissa;
      mantissa += static_cast<char>('1' + rng() % 9);
      for (int k = 1; k < digits; ++k) mantissa += static_cast<char>('0' + rng() % 10);
      std::snprintf(buf, sizeof buf, "%s%c.%se%d", (rng() & 1) ? "-" : "", mantissa[0],
                    mantissa.c_str() + 1, exponent(rng));
      if (!same_as_strtod(buf, why)) FAIL(why);
      const json::value v = es::parse_json(std::string("{\"v\":[") + buf + "]}");
      REQUIRE(bits_of(v.at("v").at(0).as_double()) == bits_of(std::strtod(buf, nullptr)));
    }
  }
}

TEST_CASE("parse_json: the known misread -97570.19231092371", "[json_parse]") {
  const json::value v = es::parse_json("-97570.19231092371");
  REQUIRE(v.is_double());
  CHECK(bits_of(v.get_double()) == bits_of(std::strtod("-97570.19231092371", nullptr)));
  CHECK(v.get_double() == -97570.19231092371);
  const json::value o = es::parse_json(R"({"a": -97570.19231092371})");
  CHECK(o.at("a").as_double() == -97570.19231092371);
}

TEST_CASE("parse_json: number edge cases", "[json_parse]") {
  CHECK(es::parse_json("4.9406564584124654e-324").as_double() ==
        std::numeric_limits<double>::denorm_min());
  CHECK(es::parse_json("2.2250738585072011e-308").as_double() ==
        std::strtod("2.2250738585072011e-308", nullptr));
  CHECK(es::parse_json("1.7976931348623157e308").as_double() == std::numeric_limits<double>::max());
  // Underflow is zero (finite), keeping the sign.
  const json::value tiny = es::parse_json("1e-400");
  CHECK(tiny.as_double() == 0.0);
  CHECK_FALSE(std::signbit(tiny.as_double()));
  CHECK(std::signbit(es::parse_json("-1e-400").as_double()));
  CHECK(std::signbit(es::parse_json("-0.0").as_double()));
  CHECK(es::parse_json("0e99999").as_double() == 0.0);  // Boost's own parse gives NaN
  CHECK(es::parse_json("0.000000000000000000000000000001e30").as_double() == 1.0);
  CHECK(es::parse_json("10e-325").as_double() == 0.0);  // below half the smallest subnormal
  CHECK(es::parse_json("1000e305").as_double() == 1e308);
  CHECK(contains(error_of("10000e305"), "number out of range"));
  CHECK(contains(error_of("0.001e400"), "number out of range"));
  CHECK(es::parse_json("1e-99999").as_double() == 0.0);
  // A very long number text.
  const std::string long_number = "1." + std::string(2000, '0') + "1";
  CHECK(es::parse_json(long_number).as_double() == 1.0);
  CHECK(es::parse_json("[" + long_number + "]").at(0).as_double() == 1.0);
}

TEST_CASE("parse_json: integer kinds", "[json_parse]") {
  const json::value min = es::parse_json("-9223372036854775808");
  REQUIRE(min.is_int64());
  CHECK(min.get_int64() == std::numeric_limits<std::int64_t>::min());
  const json::value max = es::parse_json("9223372036854775807");
  REQUIRE(max.is_int64());
  CHECK(max.get_int64() == std::numeric_limits<std::int64_t>::max());
  const json::value above = es::parse_json("9223372036854775808");
  REQUIRE(above.is_uint64());
  CHECK(above.get_uint64() == 9223372036854775808ull);
  const json::value umax = es::parse_json("18446744073709551615");
  REQUIRE(umax.is_uint64());
  CHECK(umax.get_uint64() == std::numeric_limits<std::uint64_t>::max());
  const json::value beyond = es::parse_json("18446744073709551616");
  REQUIRE(beyond.is_double());
  CHECK(beyond.get_double() == 18446744073709551616.0);
  const json::value below = es::parse_json("-9223372036854775809");
  REQUIRE(below.is_double());
  CHECK(below.get_double() == -9223372036854775808.0);
  const json::value huge = es::parse_json("123456789012345678901234567890");
  REQUIRE(huge.is_double());
  CHECK(huge.get_double() == std::strtod("123456789012345678901234567890", nullptr));
  const json::value zero = es::parse_json("-0");
  REQUIRE(zero.is_int64());
  CHECK(zero.get_int64() == 0);
  CHECK(es::parse_json("0").is_int64());
  CHECK(es::parse_json("1.0").is_double());
  CHECK(es::parse_json("1e2").is_double());
}

TEST_CASE("parse_json: values and structure are those of boost::json::parse", "[json_parse]") {
  const char* texts[] = {
      "null",
      "true",
      " false ",
      R"("h\u00e9llo \ud834\udd1e \"q\" \\ \n\t")",
      "\"h\xC3\xA9llo \xE2\x9C\x93 \xF0\x9D\x84\x9E\"",
      R"({"a":2.5,"b":{"y":[true,null,1e+21,0,1e-7,123456789012345],"z":1},"c":[],"d":{}})",
      "\t[ 1 , -2 , \"x\" , [ [ ] ] , { \"k\" : { } } ]\r\n",
      R"({"a":1,"a":2})",
  };
  for (const char* text : texts) {
    INFO(text);
    CHECK(es::parse_json(text) == json::parse(text));
  }
  // Long strings and keys with escapes come from Boost in several parts.
  std::string long_string = "\"";
  for (int i = 0; i < 3000; ++i) long_string += "ab\\n\\u00e9";
  long_string += "\"";
  const std::string doc = "{" + long_string + ":" + long_string + "}";
  CHECK(es::parse_json(doc) == json::parse(doc));
  CHECK(es::parse_i_json(doc) == json::parse(doc));
}

TEST_CASE("parse_json: duplicate keys are rejected only when asked", "[json_parse]") {
  es::JsonParseOptions reject;
  reject.reject_duplicate_keys = true;

  const json::value last = es::parse_json(R"({"a":1,"a":2})");
  CHECK(last.as_object().size() == 1);
  CHECK(last.at("a") == 2);
  CHECK(error_of(R"({"a":1,"a":2})", reject) == "duplicate key 'a'");
  CHECK(i_json_error_of(R"({"a":1,"a":2})") == "duplicate key 'a'");

  CHECK(error_of(R"({"x":{"b":1,"c":2,"b":3}})", reject) == "duplicate key 'b'");
  CHECK(error_of(R"([1,{"k\u00e9":1,"k\u00e9":2}])", reject) == "duplicate key 'k\xC3\xA9'");
  CHECK(error_of(R"({"a":{"c":1},"b":0,"a":{"c":2}})", reject) == "duplicate key 'a'");
  CHECK(error_of(R"({"a":{"c":{"d":1}},"a":[]})", reject) == "duplicate key 'a'");
  CHECK(error_of(R"({"a":[],"a":{"c":{"d":1}}})", reject) == "duplicate key 'a'");
  CHECK(error_of(R"({"\u0061":1,"a":2})", reject) == "duplicate key 'a'");  // same after unescaping
  const std::string long_key(100, 'k');
  CHECK(error_of("{\"" + long_key + "\":1,\"" + long_key + "\":2}", reject) ==
        "duplicate key '" + std::string(64, 'k') + "...'");

  // The same key in different objects is fine.
  CHECK_NOTHROW(es::parse_json(R"({"a":{"a":1},"b":{"a":2},"c":[{"a":3},{"a":4}]})", reject));
  CHECK_NOTHROW(es::parse_i_json(R"({"a":1,"A":2,"a ":3})"));
  // Many keys, one duplicate at the end.
  std::string many = "{";
  for (int i = 0; i < 5000; ++i)
    many += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  CHECK_NOTHROW(es::parse_json(many + "\"end\":0}", reject));
  CHECK(error_of(many + "\"k4321\":0}", reject) == "duplicate key 'k4321'");
}

TEST_CASE("parse_json: nesting depth (outermost is depth 1)", "[json_parse]") {
  CHECK_NOTHROW(es::parse_json(nested_arrays(64)));
  CHECK_NOTHROW(es::parse_json(nested_objects(64)));
  CHECK_NOTHROW(es::parse_i_json(nested_arrays(64)));
  CHECK_NOTHROW(es::parse_i_json(nested_objects(64)));
  CHECK(contains(error_of(nested_arrays(65)), "nesting deeper than 64"));
  CHECK(contains(error_of(nested_objects(65)), "nesting deeper than 64"));
  CHECK(contains(i_json_error_of(nested_arrays(65)), "nesting deeper than 64"));
  CHECK(contains(i_json_error_of(nested_objects(65)), "nesting deeper than 64"));
  // Mixed: 32 arrays each holding an object -> 64 levels; one more array -> 65.
  std::string mixed;
  for (int i = 0; i < 32; ++i) mixed += "[{\"a\":";
  mixed += "0";
  for (int i = 0; i < 32; ++i) mixed += "}]";
  CHECK_NOTHROW(es::parse_i_json(mixed));
  CHECK(contains(i_json_error_of("[" + mixed + "]"), "nesting deeper than 64"));
  // Scalars do not count; the limit is configurable.
  es::JsonParseOptions three;
  three.max_depth = 3;
  CHECK_NOTHROW(es::parse_json("[[[1]]]", three));
  CHECK_NOTHROW(es::parse_json("\"x\"", three));
  CHECK(error_of("[[[[1]]]]", three) == "nesting deeper than 3 at offset 3");
  // Far deeper than the limit fails fast rather than recursing.
  CHECK(contains(error_of(nested_arrays(100000)), "nesting deeper than 64"));
}

TEST_CASE("parse_json: I-JSON number rules", "[json_parse]") {
  const es::JsonParseOptions ij = i_json_options();
  CHECK(es::parse_i_json("9007199254740991") == 9007199254740991);
  CHECK(es::parse_i_json("-9007199254740991") == -9007199254740991);
  CHECK(contains(i_json_error_of("9007199254740992"), "number out of range at offset 0"));
  CHECK(contains(i_json_error_of("-9007199254740992"), "number out of range"));
  CHECK(contains(i_json_error_of("[1, 9223372036854775808]"), "number out of range at offset 4"));
  CHECK(contains(i_json_error_of("18446744073709551615"), "number out of range"));
  CHECK(contains(i_json_error_of("-9223372036854775809"), "number out of range"));
  CHECK(contains(i_json_error_of("{\"a\":123456789012345678901234567890}"), "number out of range"));
  CHECK(contains(error_of("9007199254740992", ij), "number out of range"));
  // Without the option these are fine.
  CHECK(es::parse_json("9007199254740992") == 9007199254740992);
  // Fractions and exponents make doubles; they only need to be finite.
  CHECK(es::parse_i_json("1.5") == 1.5);
  CHECK(es::parse_i_json("1.0").is_double());
  CHECK(es::parse_i_json("1e2").is_double());
  CHECK(es::parse_i_json("9007199254740993.0").as_double() == 9007199254740992.0);
  CHECK(es::parse_i_json("1E300").as_double() == 1e300);
  CHECK(es::parse_i_json("-0").is_int64());
  CHECK(std::signbit(es::parse_i_json("-0.0").as_double()));
  CHECK(es::parse_i_json("1e-400").as_double() == 0.0);
  // Infinity is rejected in every mode.
  for (const char* text : {"1e400", "-1e400", "1.7976931348623159e308", "[0, 1e400]",
                           "{\"a\":{\"b\":-1E+309}}", "1e99999999999999999999"}) {
    INFO(text);
    CHECK(contains(error_of(text), "number out of range"));
    CHECK(contains(i_json_error_of(text), "number out of range"));
  }
  CHECK(error_of("[0, 1e400]") == "number out of range at offset 4 (not finite)");
}

TEST_CASE("parse_json: invalid UTF-8 is rejected in values and keys", "[json_parse]") {
  const std::string bad[] = {
      "\xC0\x80",          // overlong NUL
      "\xC1\xBF",          // overlong
      "\xE0\x80\xAF",      // overlong '/'
      "\xF0\x80\x80\x80",  // overlong
      "\xED\xA0\x80",      // encoded surrogate U+D800
      "\xED\xBF\xBF",      // encoded surrogate U+DFFF
      "\xF4\x90\x80\x80",  // above U+10FFFF
      "\xF5\x80\x80\x80",  // invalid lead byte
      "\xFF",              // invalid byte
      "\x80",              // lone continuation byte
      "\xE2\x82",          // truncated
      "\xF0\x9F\x98",      // truncated
      "\xC3",              // truncated
  };
  for (const std::string& b : bad) {
    const std::string cases[] = {
        "\"" + b + "\"",          // value
        "[\"abc" + b + "def\"]",  // inside a value
        "\"x\\n" + b + "\"",      // after an escape (Boost's slow path)
        "{\"" + b + "\":1}",      // key
        "{\"k\\t" + b + "\":1}",  // key after an escape
        "{\"a\":\"" + b + "\"}",  // value in an object
    };
    for (const std::string& text : cases) {
      INFO(json::serialize(json::string_view(text)));
      CHECK(contains(error_of(text), "invalid UTF-8 at offset"));
      CHECK(contains(i_json_error_of(text), "invalid UTF-8 at offset"));
    }
  }
  CHECK(error_of("[\"ab\xED\xA0\x80\"]") == "invalid UTF-8 at offset 4");
  CHECK(error_of("\"\xE2\x82") == "invalid UTF-8 at offset 1");  // truncated by the end
  // Escaped lone surrogates are rejected too; valid text passes unchanged.
  CHECK(!error_of(R"("\ud800")").empty());
  CHECK(contains(error_of(R"("\udc00")"), "surrogate"));
  CHECK(contains(error_of(R"({"\ud800\u0041":1})"), "surrogate"));
  CHECK(es::parse_json("\"\xF0\x9F\x98\x80\xEF\xBF\xBF\xF4\x8F\xBF\xBF\"").as_string() ==
        "\xF0\x9F\x98\x80\xEF\xBF\xBF\xF4\x8F\xBF\xBF");
}

TEST_CASE("parse_json: only one JSON text", "[json_parse]") {
  CHECK(error_of("") == "empty input");
  CHECK(error_of(" \n\t\r ") == "empty input");
  CHECK(i_json_error_of("") == "empty input");
  CHECK(error_of("{} x") == "trailing characters at offset 3");
  CHECK(error_of("1 2") == "trailing characters at offset 2");
  CHECK(error_of("[]]") == "trailing characters at offset 2");
  CHECK(error_of("{}{}") == "trailing characters at offset 2");
  CHECK(error_of(std::string("{}\0", 3)) == "trailing characters at offset 2");
  CHECK(error_of("[1,]") == "invalid JSON at offset 3");
  CHECK(error_of("{\"a\" 1}") == "invalid JSON at offset 5");
  CHECK(error_of("[1,2") == "unexpected end of input");
  CHECK(error_of("tru") == "unexpected end of input");
  CHECK(error_of("[1.]") == "invalid JSON at offset 3");
  // An error far into a long text is located exactly.
  std::string long_text = "[";
  for (int i = 0; i < 2000; ++i) long_text += "1,";
  CHECK(error_of(long_text + "x]") == "invalid JSON at offset 4001");
  CHECK_NOTHROW(es::parse_json("  {\"a\" : [ ] }  \n"));
}

TEST_CASE("parse_json: every error is es::InvalidInput", "[json_parse]") {
  const std::string bad[] = {
      "",
      " ",
      "{",
      "}",
      "[1,]",
      "{\"a\":1,}",
      "// comment\n1",
      "/* c */ 1",
      "01",
      "+1",
      ".5",
      "1.",
      "1e",
      "-",
      "NaN",
      "Infinity",
      "-Infinity",
      "'a'",
      "\"a",
      "\"\t\"",
      "\"\\x\"",
      "\"\\u12\"",
      "{1:2}",
      "[1 2]",
      "nul",
      "nulls",
      "1e400",
      "{\"a\":1,\"a\":1}",
      "9007199254740992",
      nested_arrays(65),
      "\"\xC0\x80\"",
      "[] []",
  };
  for (const std::string& text : bad) {
    INFO(text);
    CHECK_THROWS_AS(es::parse_i_json(text), es::InvalidInput);
  }
  // Random corruptions of a valid document: parse_json accepts exactly what Boost accepts
  // (same depth limit), except non-finite numbers, and throws only es::InvalidInput.
  const std::string doc = R"({"a":2.5,"b":{"y":[true,null,1e+21,0,1e-7,123456789012345],"z":1},)"
                          R"("foo":"h\u00e9llo \ud834\udd1e \"q\"","n":-12.5e-3,"t":"x"})";
  const char alphabet[] = "{}[]\",:0123456789.eE-+ \\u\x80\xC3\xA9tfnlrsa";
  std::mt19937 rng(99);
  json::parse_options boost_options;
  boost_options.max_depth = 64;
  for (int i = 0; i < 20000; ++i) {
    std::string text = doc;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % text.size();
      const char c = alphabet[rng() % (sizeof(alphabet) - 1)];
      switch (rng() % 3) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        default:
          text.erase(at, 1);
          break;
      }
    }
    json::error_code ec;
    json::parse(text, ec, {}, boost_options);
    INFO(text);
    try {
      es::parse_json(text);
      CHECK(!ec);
    } catch (const es::InvalidInput& e) {
      if (!ec) CHECK(contains(e.what(), "number out of range"));
    }
  }
}

TEST_CASE("parse_json: timing against boost::json::parse", "[.bench][json_parse_bench]") {
  std::ifstream in(std::string(ES_TEST_DATA_DIR) + "/example-chain.jsonl");
  REQUIRE(in.good());
  std::string line;
  REQUIRE(std::getline(in, line));
  const std::string state = json::parse(line).at("state").as_string().c_str();
  REQUIRE(es::parse_json(state) == json::parse(state));

  constexpr int kIterations = 200000;
  auto time_ns = [&](auto&& parse) {
    std::size_t sink = 0;
    double best = 1e18;
    for (int round = 0; round < 5; ++round) {
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < kIterations; ++i) sink += parse(state).as_object().size();
      const auto stop = std::chrono::steady_clock::now();
      const double ns = std::chrono::duration<double, std::nano>(stop - start).count();
      if (ns / kIterations < best) best = ns / kIterations;
    }
    REQUIRE(sink > 0);
    return best;
  };
  const double boost_ns = time_ns([](const std::string& s) { return json::parse(s); });
  const double ours_ns = time_ns([](const std::string& s) { return es::parse_json(s); });
  const double i_json_ns = time_ns([](const std::string& s) { return es::parse_i_json(s); });
  // How often Boost's own parse misreads random decimals that parse_json reads exactly.
  std::mt19937_64 rng(1);
  for (int digits : {16, 17}) {
    int differs = 0;
    constexpr int kSamples = 100000;
    for (int i = 0; i < kSamples; ++i) {
      std::string text = std::to_string(1 + rng() % 9);
      for (int k = 1; k < digits; ++k) text += static_cast<char>('0' + rng() % 10);
      text.insert(1 + rng() % (digits - 1), ".");
      if (json::parse(text) != es::parse_json(text)) ++differs;
    }
    std::printf("boost::json::parse misreads %.1f%% of random %d-digit decimals\n",
                100.0 * differs / kSamples, digits);
  }
  std::printf(
      "json_parse bench (%zu-byte state, best of 5 x %d): boost::json::parse %.0f ns, "
      "es::parse_json %.0f ns, es::parse_i_json %.0f ns\n",
      state.size(), kIterations, boost_ns, ours_ns, i_json_ns);
}
