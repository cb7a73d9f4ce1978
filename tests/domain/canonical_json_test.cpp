// RFC 8785 canonical JSON and the SHA-256 helper: test vectors from the RFC, the number
// table in tests/data/jcs-numbers.txt and the stored example hash chain.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "domain/canonical_json.hpp"
#include "domain/errors.hpp"
#include "domain/sha256.hpp"

namespace json = boost::json;

namespace {

std::string data_path(const char* name) {
  return std::string(ES_TEST_DATA_DIR) + "/" + name;
}

std::vector<std::string> read_lines(const char* name) {
  std::ifstream in(data_path(name));
  REQUIRE(in.good());
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::string utf8_of(std::uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

std::u16string utf16_of(const std::vector<std::uint32_t>& cps) {
  std::u16string s;
  for (std::uint32_t cp : cps) {
    if (cp < 0x10000) {
      s += static_cast<char16_t>(cp);
    } else {
      cp -= 0x10000;
      s += static_cast<char16_t>(0xD800 + (cp >> 10));
      s += static_cast<char16_t>(0xDC00 + (cp & 0x3FF));
    }
  }
  return s;
}

// Straightforward JSON.stringify string escaping, to check the optimised one against.
std::string reference_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          const char* hex = "0123456789abcdef";
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

json::value str(const std::string& s) {
  return json::value(json::string(s));
}

}  // namespace

TEST_CASE("canonical_json: every number of jcs-numbers.txt", "[canonical_json]") {
  const auto lines = read_lines("jcs-numbers.txt");
  REQUIRE(lines.size() >= 14);
  for (const auto& line : lines) {
    const auto space = line.find(' ');
    REQUIRE(space != std::string::npos);
    const std::string hex = line.substr(0, space);
    const std::string expected = line.substr(space + 1);
    char* end = nullptr;
    const double d = std::strtod(hex.c_str(), &end);
    REQUIRE(*end == '\0');
    INFO(line);
    CHECK(es::canonical_json(json::value(d)) == expected);
    // The same number inside an array and appended after existing text.
    std::string out = "x";
    es::canonical_json_append(out, json::array{d, d});
    CHECK(out == "x[" + expected + "," + expected + "]");
  }
}

TEST_CASE("canonical_json: ECMAScript number layout", "[canonical_json]") {
  const std::vector<std::pair<double, const char*>> cases = {
      {-0.0, "0"},
      {1e20, "100000000000000000000"},
      {1e21, "1e+21"},
      {1.5e21, "1.5e+21"},
      {1e23, "1e+23"},
      {1e-6, "0.000001"},
      {1.5e-6, "0.0000015"},
      {1e-7, "1e-7"},
      {-1e-7, "-1e-7"},
      {1.25e-7, "1.25e-7"},
      {0.1 + 0.2, "0.30000000000000004"},
      {123.456, "123.456"},
      {-123.456, "-123.456"},
      {4.5, "4.5"},
      {2e-3, "0.002"},
      {1e30, "1e+30"},
      {1e-27, "1e-27"},
      {333333333.33333329, "333333333.3333333"},
      {9007199254740992.0, "9007199254740992"},
      {9007199254740994.0, "9007199254740994"},
      {295147905179352830000.0, "295147905179352830000"},
      {std::numeric_limits<double>::denorm_min(), "5e-324"},
      {-std::numeric_limits<double>::max(), "-1.7976931348623157e+308"},
      {std::numeric_limits<double>::min(), "2.2250738585072014e-308"},
      {std::numeric_limits<double>::epsilon(), "2.220446049250313e-16"},
  };
  for (const auto& [d, expected] : cases) {
    INFO(expected);
    CHECK(es::canonical_json(json::value(d)) == expected);
  }
}

TEST_CASE("canonical_json: numbers are shortest round-trip text", "[canonical_json]") {
  std::mt19937_64 rng(2020);
  for (int i = 0; i < 200000; ++i) {
    const std::uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    const std::string text = es::canonical_json(json::value(d));
    INFO(text);
    REQUIRE(std::strtod(text.c_str(), nullptr) == d);
    // ECMAScript shape: no '+' without 'e', no leading zeros, no trailing zeros after '.'.
    REQUIRE(text.find_first_not_of("-0123456789.e+") == std::string::npos);
    const auto dot = text.find('.');
    const auto exp = text.find('e');
    if (dot != std::string::npos) {
      REQUIRE(text[(exp == std::string::npos ? text.size() : exp) - 1] != '0');
    }
  }
}

TEST_CASE("canonical_json: integers are written as IEEE-754 doubles", "[canonical_json]") {
  const auto i64 = [](std::int64_t i) { return es::canonical_json(json::value(i)); };
  const auto u64 = [](std::uint64_t u) { return es::canonical_json(json::value(u)); };
  CHECK(i64(0) == "0");
  CHECK(i64(-1) == "-1");
  CHECK(i64(1795735065946010) == "1795735065946010");
  CHECK(i64(9007199254740992) == "9007199254740992");    // 2^53
  CHECK(i64(-9007199254740992) == "-9007199254740992");  // -2^53
  CHECK(i64(9007199254740993) == "9007199254740992");    // 2^53 + 1 rounds to even
  CHECK(i64(9007199254740995) == "9007199254740996");    // 2^53 + 3 rounds to even
  CHECK(i64(123456789012345678) == "123456789012345680");
  CHECK(i64(std::numeric_limits<std::int64_t>::max()) == "9223372036854776000");
  CHECK(i64(std::numeric_limits<std::int64_t>::min()) == "-9223372036854776000");
  CHECK(u64(0) == "0");
  CHECK(u64(9007199254740992ULL) == "9007199254740992");
  CHECK(u64(9007199254740993ULL) == "9007199254740992");
  CHECK(u64(std::numeric_limits<std::uint64_t>::max()) == "18446744073709552000");
  // Integer and double spellings of one number are one canonical text.
  CHECK(es::canonical_json(json::parse("[1.0,1e2,-0.0,100]")) == "[1,100,0,100]");
}

TEST_CASE("canonical_json: non-finite numbers are rejected", "[canonical_json]") {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(es::canonical_json(json::value(nan)), es::InvalidInput);
  CHECK_THROWS_AS(es::canonical_json(json::value(inf)), es::InvalidInput);
  CHECK_THROWS_AS(es::canonical_json(json::value(-inf)), es::InvalidInput);
  json::object o;
  o["a"] = 1;
  o["b"] = json::array{1, nan};
  CHECK_THROWS_AS(es::canonical_json(o), es::InvalidInput);
  std::string out = "kept";
  CHECK_THROWS_AS(es::canonical_json_append(out, o), es::InvalidInput);
  CHECK(out == "kept");
}

TEST_CASE("canonical_json: RFC 8785 section 3.2.2 example", "[canonical_json]") {
  const char* input = R"({
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })";
  const std::string expected =
      R"({"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],)"
      "\"string\":\"\xE2\x82\xAC$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
  json::value v = json::parse(input);
  // Boost.JSON 1.81's parser does not round decimal text correctly (it reads
  // 333333333.33333329 as 333333333.33333325, one ulp off), so the numbers are given as C++
  // literals, which the compiler rounds correctly, as an ECMAScript JSON.parse would.
  v.as_object()["numbers"] =
      json::array{333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001};
  CHECK(es::canonical_json(v) == expected);
  CHECK(es::canonical_json(v.as_object()) == expected);
  std::string out;
  es::canonical_json_append(out, v);
  CHECK(out == expected);
  // Section 3.2.4 lists the UTF-8 bytes: the euro sign is e2 82 ac, then 24 5c 75 30 30 30 66.
  CHECK(out.find("\xE2\x82\xAC\x24\x5C\x75\x30\x30\x30\x66") != std::string::npos);
}

TEST_CASE("canonical_json: RFC 8785 section 3.2.3 sorting of object properties",
          "[canonical_json]") {
  const char* input = R"({
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  })";
  const std::string expected =
      "{\"\\r\":\"Carriage Return\","
      "\"1\":\"One\","
      "\"\xC2\x80\":\"Control\","
      "\"\xC3\xB6\":\"Latin Small Letter O With Diaeresis\","
      "\"\xE2\x82\xAC\":\"Euro Sign\","
      "\"\xF0\x9F\x98\x80\":\"Emoji: Grinning Face\","
      "\"\xEF\xAC\xB3\":\"Hebrew Letter Dalet With Dagesh\"}";
  CHECK(es::canonical_json(json::parse(input)) == expected);
}

TEST_CASE("canonical_json: keys sort by UTF-16 code units", "[canonical_json]") {
  // Code points around every boundary where UTF-8 byte order and UTF-16 order could differ.
  const std::vector<std::uint32_t> pool = {
      0x00,   0x01,    0x1F,    0x20,    0x41,    0x61,     0x7E,    0x7F,   0x80,
      0xF6,   0x7FF,   0x800,   0xFFF,   0x1000,  0xD7FF,   0xE000,  0xFB33, 0xFFFD,
      0xFFFF, 0x10000, 0x1F600, 0x1F601, 0xFFFFF, 0x100000, 0x10FFFF};
  std::mt19937 rng(8785);
  std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 1);
  std::uniform_int_distribution<int> length(0, 4);
  std::uniform_int_distribution<int> members(1, 60);  // beyond 32 uses the heap buffer
  for (int round = 0; round < 300; ++round) {
    json::object o;
    std::vector<std::pair<std::u16string, std::string>> keys;
    const int count = members(rng);
    for (int m = 0; m < count; ++m) {
      std::vector<std::uint32_t> cps(static_cast<std::size_t>(length(rng)));
      for (auto& cp : cps) cp = pool[pick(rng)];
      std::string key;
      for (auto cp : cps) key += utf8_of(cp);
      if (o.contains(key)) continue;
      o[key] = m;
      keys.emplace_back(utf16_of(cps), key);
    }
    std::sort(keys.begin(), keys.end());
    const json::object back = json::parse(es::canonical_json(o)).as_object();
    REQUIRE(back.size() == keys.size());
    std::size_t i = 0;
    for (const auto& kv : back) {
      REQUIRE(std::string(kv.key()) == keys[i].second);
      ++i;
    }
  }
}

TEST_CASE("canonical_json: string escaping", "[canonical_json]") {
  SECTION("every control character 0x00-0x1f") {
    const char* expected[32] = {
        "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
        "\\b",     "\\t",     "\\n",     "\\u000b", "\\f",     "\\r",     "\\u000e", "\\u000f",
        "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
        "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f"};
    std::string all;
    std::string all_expected = "\"";
    for (int c = 0; c < 0x20; ++c) {
      const std::string s(1, static_cast<char>(c));
      INFO("control character " << c);
      CHECK(es::canonical_json(str(s)) == "\"" + std::string(expected[c]) + "\"");
      all += s;
      all_expected += expected[c];
    }
    CHECK(es::canonical_json(str(all)) == all_expected + "\"");
  }
  SECTION("quote and backslash; nothing else is escaped") {
    CHECK(es::canonical_json(str("a\"b\\c")) == R"("a\"b\\c")");
    CHECK(es::canonical_json(str("/")) == "\"/\"");
    CHECK(es::canonical_json(str("\x7F")) == "\"\x7F\"");         // DEL
    CHECK(es::canonical_json(str("\xE2\x80\xA8\xE2\x80\xA9")) ==  // U+2028/9
          "\"\xE2\x80\xA8\xE2\x80\xA9\"");
    CHECK(es::canonical_json(str("h\xC3\xA9llo \xF0\x9D\x84\x9E")) ==
          "\"h\xC3\xA9llo \xF0\x9D\x84\x9E\"");
    CHECK(es::canonical_json(str("")) == "\"\"");
  }
  SECTION("escaped keys") {
    json::object o;
    o["a\nb"] = 1;
    o["\"q\""] = 2;
    CHECK(es::canonical_json(o) == R"({"\"q\"":2,"a\nb":1})");
  }
  SECTION("random strings match a byte-by-byte reference") {
    const std::vector<std::string> pieces = {"a",
                                             "Z",
                                             " ",
                                             "~",
                                             "\"",
                                             "\\",
                                             "/",
                                             "\n",
                                             "\t",
                                             std::string(1, '\0'),
                                             "\x1F",
                                             "\x7F",
                                             "\xC3\xA9",
                                             "\xE2\x82\xAC",
                                             "\xF0\x9F\x98\x80",
                                             "0123456789abcdef"};
    std::mt19937 rng(42);
    std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
    std::uniform_int_distribution<int> length(0, 40);
    for (int round = 0; round < 2000; ++round) {
      std::string s;
      for (int n = length(rng); n > 0; --n) s += pieces[pick(rng)];
      REQUIRE(es::is_valid_utf8(s));
      REQUIRE(es::canonical_json(str(s)) == reference_quote(s));
    }
  }
}

TEST_CASE("canonical_json: invalid UTF-8 is rejected in values and keys", "[canonical_json]") {
  const std::vector<std::string> invalid = {
      "\x80",                      // lone continuation byte
      "\xBF",                      // lone continuation byte
      "\xC0\x80",                  // overlong NUL
      "\xC1\xBF",                  // overlong 2-byte
      "\xE0\x80\x80",              // overlong 3-byte
      "\xE0\x9F\xBF",              // overlong 3-byte
      "\xED\xA0\x80",              // encoded surrogate U+D800
      "\xED\xBF\xBF",              // encoded surrogate U+DFFF
      "\xED\xA0\xBD\xED\xB8\x80",  // CESU-8 surrogate pair
      "\xF0\x80\x80\x80",          // overlong 4-byte
      "\xF0\x8F\xBF\xBF",          // overlong 4-byte
      "\xF4\x90\x80\x80",          // U+110000
      "\xF5\x80\x80\x80",          // lead byte above F4
      "\xF8\x88\x80\x80\x80",      // 5-byte form
      "\xFE",                      // never valid
      "\xFF",                      // never valid
      "\xC3",                      // truncated 2-byte
      "\xE2\x82",                  // truncated 3-byte
      "\xF0\x9F\x98",              // truncated 4-byte
      "\xC3\x28",                  // bad continuation
      "\xE2\x28\xA1",              // bad continuation
      "\xF0\x9F\x28\x80",          // bad continuation
      "abcdefghijklmnop\xC3",      // truncated after a long ASCII run
      "abcdefgh\xE2\x82\xACxyz\xED\xA0\x80ok",
  };
  for (const auto& bad : invalid) {
    INFO("bytes of length " << bad.size() << ": " << reference_quote(bad));
    CHECK_FALSE(es::is_valid_utf8(bad));
    CHECK_THROWS_AS(es::canonical_json(str(bad)), es::InvalidInput);
    json::object with_bad_value;
    with_bad_value["k"] = json::string(bad);
    CHECK_THROWS_AS(es::canonical_json(with_bad_value), es::InvalidInput);
    json::object with_bad_key;
    with_bad_key["a"] = 1;
    with_bad_key[bad] = 2;
    with_bad_key["z"] = 3;
    CHECK_THROWS_AS(es::canonical_json(with_bad_key), es::InvalidInput);
    std::string out = "prefix";
    CHECK_THROWS_AS(es::canonical_json_append(out, json::value(with_bad_key)), es::InvalidInput);
    CHECK(out == "prefix");
  }
  const std::vector<std::string> valid = {"",
                                          "plain ASCII text",
                                          "\xC2\x80",
                                          "\xDF\xBF",
                                          "\xE0\xA0\x80",
                                          "\xED\x9F\xBF",
                                          "\xEE\x80\x80",
                                          "\xEF\xBF\xBF",
                                          "\xF0\x90\x80\x80",
                                          "\xF4\x8F\xBF\xBF",
                                          "\x7F",
                                          std::string(3, '\0')};
  for (const auto& good : valid) {
    INFO(reference_quote(good));
    CHECK(es::is_valid_utf8(good));
    CHECK(es::canonical_json(str(good)) == reference_quote(good));
  }
}

TEST_CASE("canonical_json: literals, empty and nested containers", "[canonical_json]") {
  CHECK(es::canonical_json(json::value(nullptr)) == "null");
  CHECK(es::canonical_json(json::value(true)) == "true");
  CHECK(es::canonical_json(json::value(false)) == "false");
  CHECK(es::canonical_json(json::object()) == "{}");
  CHECK(es::canonical_json(json::array()) == "[]");
  CHECK(
      es::canonical_json(json::parse(R"( { "b" : [ 1 , { } , [ ] ] , "a" : { "d":1,"c":2 } } )")) ==
      R"({"a":{"c":2,"d":1},"b":[1,{},[]]})");

  SECTION("100 levels of arrays") {
    json::value v = 7;
    for (int i = 0; i < 100; ++i) {
      json::array a;
      a.push_back(std::move(v));
      v = std::move(a);
    }
    CHECK(es::canonical_json(v) == std::string(100, '[') + "7" + std::string(100, ']'));
  }
  SECTION("100 levels of objects") {
    json::value v = "leaf";
    std::string expected = "\"leaf\"";
    for (int i = 0; i < 100; ++i) {
      json::object o;
      o["z"] = i;
      o["k"] = std::move(v);
      v = std::move(o);
      expected = "{\"k\":" + expected + ",\"z\":" + std::to_string(i) + "}";
    }
    CHECK(es::canonical_json(v) == expected);
  }
}

TEST_CASE("canonical_json: example-chain.jsonl states and hash chain", "[canonical_json][sha256]") {
  const auto lines = read_lines("example-chain.jsonl");
  REQUIRE(lines.size() == 5);
  std::string previous_event_hash;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    INFO("line " << i + 1);
    const json::object entry = json::parse(lines[i]).as_object();
    const std::string topic(entry.at("topic").as_string());
    const std::string state(entry.at("state").as_string());

    json::object event = json::parse(state).as_object();
    CHECK(es::canonical_json(event) == state);
    CHECK(es::canonical_json(json::value(event)) == state);
    CHECK(std::string(event.at("topic").as_string()) == topic);

    const std::string event_hash(event.at("event_hash").as_string());
    CHECK(std::string(event.at("previous_hash").as_string()) == previous_event_hash);
    event.erase("event_hash");
    CHECK(es::sha256_hex(es::canonical_json(event)) == event_hash);
    previous_event_hash = event_hash;
  }
}

TEST_CASE("sha256_hex: known digests", "[sha256]") {
  CHECK(es::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(es::sha256_hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(es::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(es::sha256_hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  const std::string with_nul("a\0b", 3);
  CHECK(es::sha256_hex(with_nul) != es::sha256_hex("ab"));

  SECTION("concurrent use from several threads") {
    std::vector<std::thread> threads;
    std::vector<int> ok(4, 0);
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&ok, t] {
        bool all = true;
        for (int i = 0; i < 2000; ++i) {
          all = all && es::sha256_hex("abc") ==
                           "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        }
        ok[static_cast<std::size_t>(t)] = all ? 1 : 0;
      });
    }
    for (auto& th : threads) th.join();
    CHECK(ok == std::vector<int>(4, 1));
  }
}
