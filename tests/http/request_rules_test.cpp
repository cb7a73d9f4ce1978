// Why: the pure request rules of samples/http (at, If-Match, queries, bodies, routing,
// JSON string escaping), tested without a server, so that a failure points at the rule.
#include "domain/canonical_json.hpp"
#include "samples/http/example_bodies.hpp"
#include "samples/http/representation.hpp"
#include "samples/http/request_parsing.hpp"
#include "samples/http/router.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

using namespace es::http;

TEST_CASE("at: decimal 0..2^63-1, no sign, no leading zeros", "[http][unit]") {
  CHECK(parse_decimal_version("0") == 0);
  CHECK(parse_decimal_version("7") == 7);
  CHECK(parse_decimal_version("9223372036854775807") == INT64_MAX);
  for (const char* bad : {"", "-1", "+1", "01", "00", "1.0", "1e2", " 1", "1 ", "0x1",
                          "9223372036854775808", "99999999999999999999", "abc"}) {
    INFO(bad);
    CHECK_FALSE(parse_decimal_version(bad).has_value());
  }
}

TEST_CASE("If-Match: one quoted version", "[http][unit]") {
  CHECK(parse_if_match("\"3\"") == 3);
  CHECK(parse_if_match("  \"0\"\t") == 0);
  for (const char* bad :
       {"3", "W/\"3\"", "*", "\"3\", \"4\"", "\"\"", "\"-1\"", "\"03\"", "\"3", "'3'"}) {
    INFO(bad);
    CHECK_FALSE(parse_if_match(bad).has_value());
  }
}

TEST_CASE("queries and percent-decoding", "[http][unit]") {
  auto q = parse_query("at=1&x=a%20b+c&flag");
  REQUIRE(q.has_value());
  REQUIRE(q->size() == 3);
  CHECK((*q)[0] == std::make_pair(std::string("at"), std::string("1")));
  CHECK((*q)[1].second == "a b c");
  CHECK((*q)[2] == std::make_pair(std::string("flag"), std::string()));
  CHECK_FALSE(parse_query("a=%zz").has_value());
  CHECK_FALSE(parse_query("a=%4").has_value());
  CHECK(percent_decode("%41b", false) == std::string("Ab"));
  CHECK(percent_decode("a+b", false) == std::string("a+b"));
}

TEST_CASE("bodies: create, patch, heartbeats", "[http][unit]") {
  auto empty = parse_create_body("");
  CHECK((empty.foo.value == "" && empty.a.value == "" && empty.b.value == ""));
  auto create = parse_create_body(R"({"b": [1, 2], "foo": {"z": 1, "a": 2}})");
  CHECK(es::canonical_json(create.foo.value) == R"({"a":2,"z":1})");
  CHECK(create.a.value == "");  // missing: the default
  CHECK(es::canonical_json(create.b.value) == "[1,2]");
  // Numbers with a fraction or an exponent are doubles, whatever their size; only integer
  // literals are range-checked (I-JSON).
  auto big = parse_create_body(R"({"a": 1.23e+20, "b": 9007199254740993.5})");
  CHECK(big.a.value.is_double());
  CHECK(big.a.value.get_double() == 1.23e20);
  CHECK(big.b.value.get_double() == 9007199254740993.5);
  CHECK_THROWS_AS(parse_create_body(R"({"a": 9007199254740993})"), BadRequest);
  CHECK_THROWS_AS(parse_create_body("[]"), BadRequest);
  CHECK_THROWS_AS(parse_create_body(R"({"c": 1})"), BadRequest);

  auto patch = parse_patch_body(R"({"b": 3, "a": 2, "foo": 1})");
  REQUIRE(patch.size() == 3);
  CHECK(patch[0].name == "foo");
  CHECK(patch[1].name == "a");
  CHECK(patch[2].name == "b");
  CHECK_THROWS_AS(parse_patch_body(""), BadRequest);
  CHECK_THROWS_AS(parse_patch_body("{}"), BadRequest);

  CHECK(parse_heartbeats_body("") == 1);
  CHECK(parse_heartbeats_body("{}") == 1);
  CHECK(parse_heartbeats_body(R"({"count": 10000})") == 10000);
  for (const char* bad : {R"({"count": 0})", R"({"count": 10001})", R"({"count": 1.0})",
                          R"({"count": "1"})", R"({"n": 1})", "null", "[]"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_heartbeats_body(bad), BadRequest);
  }
}

TEST_CASE("JSON strings: escapes, and U+FFFD for bytes that are not UTF-8", "[http][unit]") {
  std::string out;
  append_json_string(out, std::string("a\"\\\n\x01\xff\xc3\xa9", 8));
  CHECK(out == "\"a\\\"\\\\\\n\\u0001\xEF\xBF\xBD\xc3\xa9\"");
  CHECK_NOTHROW(boost::json::parse(error_response(400, "bad \xfe byte").body()));
}

TEST_CASE("router: literal beats parameter, 404, 405 with Allow", "[http][unit]") {
  Router router;
  std::string hit;
  router.add(Verb::get, "/examples/{id}", [&](const ExchangePtr& x, const Responder& r) {
    hit = "param:" + x->params.at(0);
    r(text_response(200, "", "text/plain"));
  });
  router.add(Verb::patch, "/examples/{id}", [](const ExchangePtr&, const Responder&) {});
  router.add(Verb::get, "/examples/search", [&](const ExchangePtr&, const Responder& r) {
    hit = "literal";
    r(text_response(200, "", "text/plain"));
  });
  auto run = [&](Verb verb, const std::string& target) {
    auto exchange = std::make_shared<Exchange>();
    exchange->request.method(verb);
    REQUIRE(split_target(target, exchange->path, exchange->query));
    Response out;
    router.dispatch(exchange, Responder([&](Response&& r) { out = std::move(r); }));
    return out;
  };
  CHECK(run(Verb::get, "/examples/search").result_int() == 200);
  CHECK(hit == "literal");
  CHECK(run(Verb::get, "/examples/a%20b?x=1").result_int() == 200);
  CHECK(hit == "param:a b");
  CHECK(run(Verb::get, "/nothing").result_int() == 404);
  auto wrong = run(Verb::put, "/examples/x");
  CHECK(wrong.result_int() == 405);
  CHECK(wrong[boost::beast::http::field::allow] == "GET, PATCH");
  // A handler that never answers: the Responder answers 500 when dropped.
  CHECK(run(Verb::patch, "/examples/x").result_int() == 500);
  std::string path, query;
  CHECK(split_target("http://host:1/examples?at=1", path, query));
  CHECK(path == "/examples");
  CHECK(query == "at=1");
  CHECK_FALSE(split_target("examples", path, query));
}
