// Why: "bad input never yields 500, never crashes the server, never changes stored data":
// every kind of malformed request of HTTP_API.md's 400/404/405/412/413 list, each checked
// for its status and JSON error, with a fingerprint of every Redis key taken before and
// after the whole suite (nothing may have changed) and the server still healthy.
#include "http_test_support.hpp"
#include "support/redis_fixture.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

using namespace es::test;
namespace json = boost::json;

namespace {

struct Bad {
  std::string method;
  std::string target;
  std::string body;
  unsigned status;
  std::vector<std::pair<std::string, std::string>> headers = {};
};

std::string nested(int depth) {  // `depth` arrays inside the body object (depth + 1 in all)
  return "{\"foo\": " + std::string(static_cast<std::size_t>(depth), '[') +
         std::string(static_cast<std::size_t>(depth), ']') + "}";
}

void check(HttpClient& c, const Bad& bad) {
  INFO(bad.method << " " << bad.target << " body <" << bad.body.substr(0, 80) << ">");
  auto r = c.request(bad.method, bad.target, bad.body, bad.headers);
  CHECK(r.status == bad.status);
  CHECK(r.header("content-type") == "application/json");
  auto body = r.json();
  REQUIRE(body.is_object());
  CHECK(body.as_object().size() == 1);
  CHECK(body.at("error").is_string());
}

}  // namespace

TEST_CASE("bad input: its 4xx with a JSON error, and nothing changes in Redis",
          "[http][bad-input]") {
  auto server = start_server();
  HttpClient c(server->port());
  auto created = c.post("/examples", R"({"a": 1})");
  REQUIRE(created.status == 201);
  const auto id = id_of(created);
  const auto e = "/examples/" + id;
  const std::string unknown = "/examples/00000000-0000-4000-8000-0000000000aa";
  REQUIRE(c.patch(e, R"({"a": 2})").status == 200);    // version 1
  const auto before = redis_fingerprint_when_still();  // after the projection's own writes
  REQUIRE_FALSE(before.empty());

  std::vector<Bad> cases = {
      // Bodies of POST /examples.
      {"POST", "/examples", "not json", 400},
      {"POST", "/examples", "[1, 2]", 400},
      {"POST", "/examples", "\"text\"", 400},
      {"POST", "/examples", "null", 400},
      {"POST", "/examples", "42", 400},
      {"POST", "/examples", " ", 400},
      {"POST", "/examples", "{", 400},
      {"POST", "/examples", "{} x", 400},
      {"POST", "/examples", "{}{}", 400},
      {"POST", "/examples", R"({"c": 1})", 400},
      {"POST", "/examples", R"({"a": 1, "extra": 2})", 400},
      {"POST", "/examples", R"({"foo": 1, "foo": 2})", 400},
      {"POST", "/examples", "{\"foo\": \"\xff\"}", 400},
      {"POST", "/examples", "{\"foo\": \"\xed\xa0\x80\"}", 400},  // an encoded surrogate
      {"POST", "/examples", "{\"foo\": \"\xc0\xaf\"}", 400},      // overlong
      {"POST", "/examples", "{\"fo\xff\": 1}", 400},
      {"POST", "/examples", R"({"foo": "\ud800"})", 400},        // a lone surrogate escape
      {"POST", "/examples", nested(64), 400},                    // 65 deep
      {"POST", "/examples", R"({"a": 9007199254740992})", 400},  // 2^53
      {"POST", "/examples", R"({"a": -9007199254740992})", 400},
      {"POST", "/examples", R"({"a": 1e400})", 400},
      {"POST", "/examples", R"({"a": NaN})", 400},
      {"POST", "/examples", R"({"a": Infinity})", 400},
      {"POST", "/examples", R"({"a": 01})", 400},
      {"POST", "/examples", R"({"a": 1,})", 400},
      {"POST", "/examples", R"({'a': 1})", 400},
      {"POST", "/examples", std::string("{\"a\": 1}\0", 9), 400},
      // Bodies of PATCH.
      {"PATCH", e, "", 400},
      {"PATCH", e, "{}", 400},
      {"PATCH", e, "[]", 400},
      {"PATCH", e, "not json", 400},
      {"PATCH", e, R"({"x": 1})", 400},
      {"PATCH", e, R"({"a": 3, "x": 1})", 400},
      {"PATCH", e, R"({"a": 3, "a": 4})", 400},
      {"PATCH", e, R"({"id": "x"})", 400},
      {"PATCH", e, R"({"version": 5})", 400},
      {"PATCH", e, "{\"a\": \"\xfe\"}", 400},
      {"PATCH", e, nested(64), 400},
      // If-Match.
      {"PATCH", e, R"({"a": 3})", 400, {{"If-Match", "1"}}},
      {"PATCH", e, R"({"a": 3})", 400, {{"If-Match", "W/\"1\""}}},
      {"PATCH", e, R"({"a": 3})", 400, {{"If-Match", "*"}}},
      {"PATCH", e, R"({"a": 3})", 400, {{"If-Match", "\"1\", \"2\""}}},
      {"PATCH", e, R"({"a": 3})", 400, {{"If-Match", "\"-1\""}}},
      {"PATCH", e, R"({"a": 3})", 400, {{"If-Match", "\"01\""}}},
      {"PATCH", e, R"({"a": 3})", 400, {{"If-Match", "\"abc\""}}},
      {"PATCH", e, R"({"a": 3})", 400, {{"If-Match", "\"\""}}},
      {"PATCH", e, R"({"a": 3})", 400, {{"If-Match", "\"1"}}},
      {"PATCH", e, R"({"a": 3})", 400, {{"If-Match", "\"1\""}, {"If-Match", "\"1\""}}},
      {"PATCH", e, R"({"a": 3})", 400, {{"If-Match", "\"99999999999999999999\""}}},
      {"PATCH", e, R"({"a": 3})", 412, {{"If-Match", "\"0\""}}},
      {"PATCH", e, R"({"a": 3})", 412, {{"If-Match", "\"2\""}}},
      {"DELETE", e, "", 400, {{"If-Match", "one"}}},
      {"DELETE", e, "", 412, {{"If-Match", "\"7\""}}},
      {"POST", e + "/heartbeats", "", 412, {{"If-Match", "\"7\""}}},
      // Heartbeat counts.
      {"POST", e + "/heartbeats", R"({"count": 0})", 400},
      {"POST", e + "/heartbeats", R"({"count": 10001})", 400},
      {"POST", e + "/heartbeats", R"({"count": -1})", 400},
      {"POST", e + "/heartbeats", R"({"count": 1.5})", 400},
      {"POST", e + "/heartbeats", R"({"count": 1.0})", 400},
      {"POST", e + "/heartbeats", R"({"count": 1e2})", 400},
      {"POST", e + "/heartbeats", R"({"count": "1"})", 400},
      {"POST", e + "/heartbeats", R"({"count": null})", 400},
      {"POST", e + "/heartbeats", R"({"count": true})", 400},
      {"POST", e + "/heartbeats", R"({"count": [1]})", 400},
      {"POST", e + "/heartbeats", R"({"count": 4294967297})", 400},
      {"POST", e + "/heartbeats", R"({"counts": 1})", 400},
      {"POST", e + "/heartbeats", R"({"count": 1, "x": 1})", 400},
      {"POST", e + "/heartbeats", R"({"count": 1, "count": 2})", 400},
      {"POST", e + "/heartbeats", "[]", 400},
      {"POST", e + "/heartbeats", "1", 400},
      {"POST", e + "/heartbeats", "nope", 400},
      // Ids that are not UUIDs.
      {"GET", "/examples/not-a-uuid", "", 400},
      {"GET", "/examples/123", "", 400},
      {"GET", "/examples/" + id.substr(0, 35), "", 400},
      {"GET", "/examples/" + id + "0", "", 400},
      {"GET", "/examples/%7B" + id + "%7D", "", 400},
      {"GET", "/examples/" + id.substr(0, 8) + id.substr(9), "", 400},
      {"GET", "/examples/" + std::string(36, 'g'), "", 400},
      {"GET", "/examples/%zz", "", 400},
      {"GET", "/examples/%00", "", 400},
      {"GET", "/examples/not-a-uuid/events", "", 400},
      {"PATCH", "/examples/not-a-uuid", R"({"a": 1})", 400},
      {"DELETE", "/examples/not-a-uuid", "", 400},
      {"POST", "/examples/not-a-uuid/heartbeats", "", 400},
      {"POST", "/examples/not-a-uuid/snapshot", "", 400},
      // at.
      {"GET", e + "?at=-1", "", 400},
      {"GET", e + "?at=01", "", 400},
      {"GET", e + "?at=+1", "", 400},
      {"GET", e + "?at=%2B1", "", 400},
      {"GET", e + "?at=1.0", "", 400},
      {"GET", e + "?at=1e2", "", 400},
      {"GET", e + "?at=99999999999999999999", "", 400},
      {"GET", e + "?at=9223372036854775808", "", 400},
      {"GET", e + "?at=", "", 400},
      {"GET", e + "?at", "", 400},
      {"GET", e + "?at=abc", "", 400},
      {"GET", e + "?at=%20", "", 400},
      {"GET", e + "?at=0x1", "", 400},
      {"GET", e + "?at=1&at=1", "", 400},
      {"GET", e + "?at=%zz", "", 400},
      // Unknown entities.
      {"GET", unknown, "", 404},
      {"GET", unknown + "?at=0", "", 404},
      {"GET", unknown + "/events", "", 404},
      {"PATCH", unknown, R"({"a": 1})", 404},
      {"DELETE", unknown, "", 404},
      {"POST", unknown + "/heartbeats", "", 404},
      {"POST", unknown + "/snapshot", "", 404},
      // Routes and methods.
      {"GET", "/examples/" + id + "/nope", "", 404},
      {"GET", "/no/such/route", "", 404},
      {"PUT", e, R"({"a": 9})", 405},
      {"POST", e, R"({"a": 9})", 405},
      {"DELETE", "/examples", "", 405},
      {"PUT", "/examples", R"({"a": 9})", 405},
      {"PATCH", e + "/events", R"({"a": 9})", 405},
      {"DELETE", e + "/events", "", 405},
      {"PATCH", "/", "", 405},
  };
  for (const auto& bad : cases) check(c, bad);

  // Bodies over 1 MiB, with Content-Length and chunked.
  const std::string huge = "{\"foo\": \"" + std::string((std::size_t{1} << 20), 'x') + "\"}";
  {
    HttpClient big(server->port());
    auto r = big.post("/examples", huge);
    CHECK(r.status == 413);
    CHECK(r.json().at("error").is_string());
    auto p = big.patch(e, huge);
    CHECK(p.status == 413);
    auto raw =
        big.raw("POST /examples HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + [&] {
          char size[32];
          std::snprintf(size, sizeof size, "%zx\r\n", huge.size());
          return std::string(size) + huge + "\r\n0\r\n\r\n";
        }());
    CHECK(raw.status == 413);
  }
  // Malformed HTTP.
  CHECK(c.raw("GET /examples HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n").status == 400);
  CHECK(c.raw("GET / HTTP/9.9\r\n\r\n").status == 400);
  CHECK(
      c.raw(
           "POST /examples HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}")
          .status == 400);

  CHECK(redis_fingerprint() == before);
  auto still = c.get(e);
  CHECK(still.status == 200);
  CHECK(still.json().at("version") == 1);
  CHECK(c.get("/healthz").status == 200);
  CHECK(server->running());
  CHECK(server->stop() == 0);
}

TEST_CASE("nesting of exactly 64 is accepted", "[http][bad-input]") {
  auto server = start_server();
  HttpClient c(server->port());
  auto r = c.post("/examples", nested(63));
  CHECK(r.status == 201);
  CHECK(server->stop() == 0);
}
