// Why: every route and status of HTTP_API.md, as an outside client sees them: the
// representation and its headers (ETag, Location, Content-Type), If-Match, `at`, the
// 404/405 answers with Allow, keep-alive, the start-up line, the access log and the flags.
#include "http_test_support.hpp"
#include "support/redis_fixture.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <regex>
#include <set>

using namespace es::test;
namespace json = boost::json;

namespace {

const std::regex kUuid("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
const std::regex kHex64("^[0-9a-f]{64}$");

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Every error: JSON {"error": "<non-empty text>"}.
void check_json_error(const HttpResponse& r) {
  INFO("status " << r.status << " body " << r.body);
  CHECK(r.header("content-type") == "application/json");
  auto body = r.json();
  REQUIRE(body.is_object());
  CHECK(body.as_object().size() == 1);
  REQUIRE(body.as_object().contains("error"));
  CHECK(body.at("error").is_string());
  CHECK_FALSE(body.at("error").as_string().empty());
}

}  // namespace

TEST_CASE("GET / creates an Example with foo 'Hello There!' and shows it", "[http][routes]") {
  auto server = start_server();
  HttpClient c(server->port());
  const auto before = redis_keys("*:entity:*");
  auto r = c.get("/");
  CHECK(r.status == 200);
  CHECK(r.header("content-type").rfind("text/html", 0) == 0);
  CHECK(r.body.find("<h1 style='color:blue'>Hello There!</h1>") != std::string::npos);
  std::vector<std::string> added;
  for (const auto& key : redis_keys("*:entity:*")) {
    if (std::find(before.begin(), before.end(), key) == before.end()) added.push_back(key);
  }
  REQUIRE(added.size() == 1);
  auto entries = stream_entries(added.front());
  REQUIRE(entries.size() == 1);
  CHECK(json::parse(entries[0].fields.at("state")).at("foo") == "Hello There!");
  CHECK(server->stop() == 0);
}

TEST_CASE("GET /healthz answers ok", "[http][routes]") {
  auto server = start_server();
  HttpClient c(server->port());
  auto r = c.get("/healthz");
  CHECK(r.status == 200);
  CHECK(r.body == "ok");
  CHECK(r.header("content-type").rfind("text/plain", 0) == 0);
  CHECK(server->stop() == 0);
}

TEST_CASE("POST /examples: 201, relative Location, ETag, representation", "[http][routes]") {
  auto server = start_server();
  HttpClient c(server->port());

  SECTION("empty body: every attribute defaults to \"\"") {
    auto r = c.post("/examples");
    REQUIRE(r.status == 201);
    CHECK(r.header("content-type") == "application/json");
    auto body = r.json().as_object();
    const std::string id(body.at("id").as_string());
    CHECK(std::regex_match(id, kUuid));
    CHECK(r.header("location") == "/examples/" + id);
    CHECK(r.header("etag") == "\"0\"");
    std::set<std::string> keys;
    for (const auto& kv : body) keys.insert(std::string(kv.key()));
    CHECK(keys == std::set<std::string>{"id", "version", "foo", "a", "b", "heartbeats",
                                        "created_on", "last_modified", "head"});
    CHECK(body.at("version") == 0);
    CHECK(body.at("foo") == "");
    CHECK(body.at("a") == "");
    CHECK(body.at("b") == "");
    CHECK(body.at("heartbeats") == 0);
    CHECK(body.at("created_on").is_int64());
    CHECK(body.at("created_on").as_int64() > 1600000000000000);  // µs since the epoch
    CHECK(body.at("last_modified") == body.at("created_on"));
    CHECK(std::regex_match(std::string(body.at("head").as_string()), kHex64));
    // It is stored.
    CHECK(stream_entries(entity_key(id)).size() == 1);
  }

  SECTION("values are any JSON") {
    const std::string foo = R"({"x": [1, 2.5, {"y": null}], "s": "ünïcødé ☃ \u0001"})";
    auto r = c.post("/examples", "{\"foo\": " + foo + ", \"a\": true, \"b\": -9007199254740991}");
    REQUIRE(r.status == 201);
    auto body = r.json();
    CHECK(body.at("foo") == json::parse(foo));
    CHECK(body.at("a") == true);
    CHECK(body.at("b") == -9007199254740991LL);
    auto got = c.get(r.header("location"));
    REQUIRE(got.status == 200);
    CHECK(got.json() == body);
  }

  SECTION("a subset of the attributes") {
    auto r = c.post("/examples", R"({"b": null})");
    REQUIRE(r.status == 201);
    CHECK(r.json().at("b").is_null());
    CHECK(r.json().at("a") == "");
  }

  SECTION("a body of exactly 1 MiB is accepted") {
    const std::size_t limit = std::size_t{1} << 20;
    std::string body = R"({"foo": ")";
    body += std::string(limit - body.size() - 2, 'x');
    body += "\"}";
    REQUIRE(body.size() == limit);
    auto r = c.post("/examples", body);
    CHECK(r.status == 201);
    CHECK(r.json().at("foo").as_string().size() == limit - 11);
  }
  CHECK(server->stop() == 0);
}

TEST_CASE("GET /examples/<id>: entity, ETag, ids in any case, ?at=N", "[http][routes]") {
  auto server = start_server();
  HttpClient c(server->port());
  auto created = c.post("/examples", R"({"a": 1})");
  const auto id = id_of(created);
  REQUIRE(c.patch("/examples/" + id, R"({"a": 2})").status == 200);

  auto r = c.get("/examples/" + id);
  REQUIRE(r.status == 200);
  CHECK(r.header("etag") == "\"1\"");
  CHECK(r.json().at("version") == 1);
  CHECK(r.json().at("a") == 2);
  CHECK(r.json().at("created_on") == created.json().at("created_on"));
  CHECK(r.json().at("last_modified").as_int64() >= r.json().at("created_on").as_int64());

  auto shouted = c.get("/examples/" + upper(id));
  REQUIRE(shouted.status == 200);
  CHECK(shouted.json().at("id").as_string() == id);  // always written lowercase
  CHECK(c.get("/examples/" + upper(id) + "/events").status == 200);

  auto at0 = c.get("/examples/" + id + "?at=0");
  REQUIRE(at0.status == 200);
  CHECK(at0.json().at("a") == 1);
  CHECK(at0.json().at("version") == 0);
  CHECK(at0.header("etag") == "\"0\"");
  auto beyond = c.get("/examples/" + id + "?at=9223372036854775807");
  REQUIRE(beyond.status == 200);
  CHECK(beyond.json().at("version") == 1);

  const std::string unknown = "00000000-0000-4000-8000-000000000000";
  auto missing = c.get("/examples/" + unknown);
  CHECK(missing.status == 404);
  check_json_error(missing);
  CHECK(c.get("/examples/" + unknown + "?at=0").status == 404);
  CHECK(c.get("/examples/" + unknown + "/events").status == 404);
  CHECK(server->stop() == 0);
}

TEST_CASE("PATCH: one event per key in the order foo, a, b, and If-Match", "[http][routes]") {
  auto server = start_server();
  HttpClient c(server->port());
  const auto id = id_of(c.post("/examples"));
  const auto path = "/examples/" + id;

  auto r = c.patch(path, R"({"b": 3, "a": 2, "foo": 1})");
  REQUIRE(r.status == 200);
  CHECK(r.json().at("version") == 3);
  CHECK(r.header("etag") == "\"3\"");
  auto events = c.get(path + "/events").json().as_array();
  REQUIRE(events.size() == 4);
  CHECK(events[1].at("data") == json::parse(R"({"name": "foo", "value": 1})"));
  CHECK(events[2].at("data") == json::parse(R"({"name": "a", "value": 2})"));
  CHECK(events[3].at("data") == json::parse(R"({"name": "b", "value": 3})"));

  auto matched = c.request("PATCH", path, R"({"a": 5})", {{"If-Match", "\"3\""}});
  REQUIRE(matched.status == 200);
  CHECK(matched.json().at("version") == 4);
  auto stale = c.request("PATCH", path, R"({"a": 6})", {{"If-Match", "\"3\""}});
  CHECK(stale.status == 412);
  check_json_error(stale);
  CHECK(c.get(path).json().at("a") == 5);
  auto spaced = c.request("PATCH", path, R"({"a": 7})", {{"If-Match", "  \"4\" "}});
  CHECK(spaced.status == 200);
  // If-Match also guards heartbeats and DELETE.
  CHECK(c.request("POST", path + "/heartbeats", "", {{"If-Match", "\"0\""}}).status == 412);
  CHECK(c.request("DELETE", path, "", {{"If-Match", "\"0\""}}).status == 412);
  CHECK(c.request("DELETE", path, "", {{"If-Match", "\"5\""}}).status == 204);

  auto unknown = c.patch("/examples/00000000-0000-4000-8000-000000000001", R"({"a": 1})");
  CHECK(unknown.status == 404);
  check_json_error(unknown);
  CHECK(server->stop() == 0);
}

TEST_CASE("POST /examples/<id>/heartbeats: empty, {} or a count", "[http][routes]") {
  auto server = start_server();
  HttpClient c(server->port());
  const auto id = id_of(c.post("/examples"));
  const auto path = "/examples/" + id + "/heartbeats";

  auto one = c.post(path);
  REQUIRE(one.status == 200);
  CHECK(one.json().at("heartbeats") == 1);
  CHECK(one.json().at("version") == 1);
  CHECK(one.header("etag") == "\"1\"");
  auto two = c.post(path, "{}");
  REQUIRE(two.status == 200);
  CHECK(two.json().at("heartbeats") == 2);
  auto five = c.post(path, R"({"count": 5})");
  REQUIRE(five.status == 200);
  CHECK(five.json().at("heartbeats") == 7);
  CHECK(five.json().at("version") == 7);
  auto max = c.post(path, R"({"count": 10000})");
  REQUIRE(max.status == 200);
  CHECK(max.json().at("heartbeats") == 10007);
  CHECK(max.json().at("version") == 10007);
  CHECK(std::stoll(redis_command({"XLEN", entity_key(id)}).at(0)) == 10008);
  auto topics = c.get("/examples/" + id + "/events").json().as_array();
  CHECK(topics.back().at("topic") == "example.Example.Heartbeat");
  CHECK(topics.back().at("data") == json::object());

  CHECK(c.post("/examples/00000000-0000-4000-8000-000000000002/heartbeats").status == 404);
  CHECK(server->stop() == 0);
}

TEST_CASE("POST /examples/<id>/snapshot: 201 new, 200 current, 404 unknown", "[http][routes]") {
  auto server = start_server();
  HttpClient c(server->port());
  const auto id = id_of(c.post("/examples"));
  auto first = c.post("/examples/" + id + "/snapshot");
  CHECK(first.status == 201);
  CHECK(first.json() == json::parse(R"({"version": 0})"));
  auto second = c.post("/examples/" + id + "/snapshot");
  CHECK(second.status == 200);
  CHECK(second.json() == json::parse(R"({"version": 0})"));
  REQUIRE(c.post("/examples/" + id + "/heartbeats").status == 200);
  auto third = c.post("/examples/" + id + "/snapshot");
  CHECK(third.status == 201);
  CHECK(third.json() == json::parse(R"({"version": 1})"));
  auto unknown = c.post("/examples/00000000-0000-4000-8000-000000000003/snapshot");
  CHECK(unknown.status == 404);
  check_json_error(unknown);
  CHECK(server->stop() == 0);
}

TEST_CASE("unknown routes answer 404, known routes with other methods 405 with Allow",
          "[http][routes]") {
  auto server = start_server();
  HttpClient c(server->port());
  const auto id = id_of(c.post("/examples"));

  for (const std::string& target :
       std::vector<std::string>{"/nope", "/examples/", "/examples/" + id + "/nope",
                                "/examples/" + id + "/events/x", "//", "/healthz/"}) {
    INFO(target);
    auto r = c.get(target);
    CHECK(r.status == 404);
    check_json_error(r);
  }
  struct Case {
    std::string method, target, allow;
  };
  const std::vector<Case> cases = {
      {"POST", "/", "GET"},
      {"DELETE", "/healthz", "GET"},
      {"DELETE", "/examples", "POST, GET"},
      {"POST", "/stats", "GET"},
      {"DELETE", "/notifications", "GET"},
      {"PUT", "/examples/" + id, "GET, PATCH, DELETE"},
      {"POST", "/examples/" + id, "GET, PATCH, DELETE"},
      {"POST", "/examples/" + id + "/events", "GET"},
      {"GET", "/examples/" + id + "/heartbeats", "POST"},
      {"GET", "/examples/" + id + "/snapshot", "POST"},
      {"OPTIONS", "/examples/" + id, "GET, PATCH, DELETE"},
      {"HEAD", "/healthz", "GET"},
      {"BREW", "/examples", "POST, GET"},
  };
  for (const auto& k : cases) {
    INFO(k.method << " " << k.target);
    auto r = c.request(k.method, k.target);
    CHECK(r.status == 405);
    CHECK(r.header("allow") == k.allow);
    if (k.method != "HEAD") check_json_error(r);
  }
  CHECK(server->stop() == 0);
}

TEST_CASE("keep-alive, HTTP/1.0 and Connection: close", "[http][routes]") {
  auto server = start_server();
  HttpClient c(server->port());
  for (int i = 0; i < 50; ++i) {
    auto r = c.get("/healthz");
    REQUIRE(r.status == 200);
    REQUIRE(r.keep_alive);
  }
  auto old = c.request("GET", "/healthz", "", {}, 10);
  CHECK(old.status == 200);
  CHECK_FALSE(old.keep_alive);
  auto closing = c.request("GET", "/healthz", "", {{"Connection", "close"}});
  CHECK(closing.status == 200);
  CHECK_FALSE(closing.keep_alive);
  // Garbage instead of HTTP: a JSON 400, then the connection closes.
  auto garbage = c.raw("THIS IS NOT HTTP\r\n\r\n");
  CHECK(garbage.status == 400);
  check_json_error(garbage);
  // Pipelined requests are answered in order.
  auto pipelined = c.raw_many(
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /examples HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n{\"a\": 9}"
      "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      3);
  CHECK(pipelined[0].status == 200);
  CHECK(pipelined[1].status == 201);
  CHECK(pipelined[1].json().at("a") == 9);
  CHECK(pipelined[2].status == 404);
  // Expect: 100-continue is honoured (curl sends it for larger bodies).
  auto expect = c.request("POST", "/examples", R"({"a": 1})", {{"Expect", "100-continue"}});
  CHECK(expect.status == 201);
  CHECK(server->stop() == 0);
}

TEST_CASE("the access log: one line per request on stderr, none with --quiet", "[http][routes]") {
  auto server = start_server({}, /*log=*/true);
  HttpClient c(server->port());
  REQUIRE(c.get("/healthz").status == 200);
  auto created = c.post("/examples", R"({"foo": "secret-body-value-5e1"})");
  const auto id = id_of(created);
  REQUIRE(c.get("/examples/" + id + "?at=0").status == 200);
  REQUIRE(c.get("/nope").status == 404);
  const std::regex healthz(R"(GET /healthz 200 [0-9]+us\n)");
  const std::regex post(R"(POST /examples 201 [0-9]+us\n)");
  const std::regex get("GET /examples/" + id + R"( 200 [0-9]+us\n)");
  const std::regex nope(R"(GET /nope 404 [0-9]+us\n)");
  CHECK(eventually(
      [&] {
        auto log = server->stderr_text();
        return std::regex_search(log, healthz) && std::regex_search(log, post) &&
               std::regex_search(log, get) && std::regex_search(log, nope);
      },
      std::chrono::seconds(5)));
  CHECK(server->stop() == 0);
  const auto log = server->stderr_text();
  CHECK(log.find("secret-body-value") == std::string::npos);  // bodies are never logged
  CHECK(log.find("at=0") == std::string::npos);               // nor queries

  auto quiet = start_server();
  HttpClient q(quiet->port());
  REQUIRE(q.get("/healthz").status == 200);
  REQUIRE(q.post("/examples").status == 201);
  CHECK(quiet->stop() == 0);
  CHECK(quiet->stderr_text().find("/healthz") == std::string::npos);
  CHECK(quiet->stderr_text().find("POST") == std::string::npos);
}

TEST_CASE("flags: --help, bad flags, --store memory, a private redis-server", "[http][flags]") {
  auto help = run_server_program({"--help"});
  CHECK(help.status == 0);
  for (const char* flag : {"--http", "--redis", "--store", "--data-dir", "--cipher-key-file",
                           "--snapshot-period", "--quiet", "--help"}) {
    CHECK(help.out.find(flag) != std::string::npos);
  }
  auto bogus = run_server_program({"--bogus"});
  CHECK(bogus.status != 0);
  CHECK_FALSE(bogus.err.empty());
  CHECK(run_server_program({"--http", "no-port-here"}).status != 0);
  CHECK(run_server_program({"--http", "127.0.0.1:99999"}).status != 0);
  CHECK(run_server_program({"--store", "memory", "--redis", redis_url()}).status != 0);
  CHECK(run_server_program({"--redis", "redis://127.0.0.1:1", "--quiet"}).status != 0);

  {
    ServerProcess memory({"--store", "memory", "--quiet"});
    HttpClient c(memory.port());
    auto created = c.post("/examples", R"({"a": 1})");
    REQUIRE(created.status == 201);
    CHECK(c.get(created.header("location")).json().at("a") == 1);
    CHECK(c.get("/healthz").status == 200);
    CHECK(memory.stop() == 0);
  }
  {
    auto dir = temp_dir("private");
    ServerProcess own({"--data-dir", dir.string(), "--quiet", "--snapshot-period", "2"});
    HttpClient c(own.port());
    auto created = c.post("/examples", R"({"a": 1})");
    REQUIRE(created.status == 201);
    REQUIRE(c.patch(created.header("location"), R"({"a": 2})").status == 200);
    CHECK(c.get("/healthz").status == 200);
    CHECK(own.stderr_text().find("private redis-server") != std::string::npos);
    CHECK(own.stop() == 0);
    CHECK(std::filesystem::exists(dir / "example-server-redis"));
  }
}
