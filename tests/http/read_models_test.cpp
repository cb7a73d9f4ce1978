// Why: the "Read models" routes of HTTP_API.md end to end: the notification log pages, and
// the sample projection behind GET /stats and GET /examples?foo=, which must agree with
// what was written (nothing missed, nothing counted twice), also after a rebuild.
#include "http_test_support.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

using namespace es::test;
namespace json = boost::json;

namespace {

// Polls GET /stats until it shows `examples` and `heartbeats` (the projection lags a little).
json::object wait_for_stats(HttpClient& client, std::int64_t examples, std::int64_t heartbeats) {
  json::object last;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = client.get("/stats");
    REQUIRE(r.status == 200);
    last = r.json().as_object();
    if (last.at("examples").as_int64() == examples &&
        last.at("heartbeats").as_int64() == heartbeats) {
      return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("stats never reached examples=" << examples << " heartbeats=" << heartbeats
                                       << ", last: " << json::serialize(last));
  return last;
}

std::vector<std::string> ids_with_foo(HttpClient& client, const std::string& foo_query) {
  auto r = client.get("/examples?foo=" + foo_query);
  REQUIRE(r.status == 200);
  std::vector<std::string> ids;
  const json::value body = r.json();
  for (const auto& id : body.at("ids").as_array()) ids.emplace_back(id.as_string());
  return ids;
}

}  // namespace

TEST_CASE("read models: stats and the foo index follow the writes", "[http][read_models]") {
  redis_command({"FLUSHALL"});
  auto server = start_server();
  HttpClient client(server->port());
  std::vector<std::string> red;
  std::string blue;
  for (int i = 0; i < 5; ++i) {
    auto r = client.post("/examples", R"({"foo": "red"})");
    REQUIRE(r.status == 201);
    red.push_back(std::string(r.json().at("id").as_string()));
  }
  auto b = client.post("/examples", R"({"foo": "blue sky", "a": 1})");
  REQUIRE(b.status == 201);
  blue = std::string(b.json().at("id").as_string());
  auto n = client.post("/examples", R"({"foo": 7})");  // not a string: not indexed
  REQUIRE(n.status == 201);
  REQUIRE(client.post("/examples/" + red[0] + "/heartbeats", R"({"count": 3})").status == 200);
  REQUIRE(client.post("/examples/" + blue + "/heartbeats", "").status == 200);
  REQUIRE(client.patch("/examples/" + red[1], R"({"foo": "blue sky"})").status == 200);
  REQUIRE(client.del("/examples/" + red[2]).status == 204);

  auto stats = wait_for_stats(client, 6, 4);
  CHECK(stats.at("position").as_object().size() == 16);
  auto now_red = ids_with_foo(client, "red");
  CHECK(std::is_sorted(now_red.begin(), now_red.end()));
  std::vector<std::string> expected_red = {red[0], red[3], red[4]};
  std::sort(expected_red.begin(), expected_red.end());
  CHECK(now_red == expected_red);
  auto now_blue = ids_with_foo(client, "blue%20sky");
  CHECK(now_blue.size() == 2);
  CHECK(std::find(now_blue.begin(), now_blue.end(), blue) != now_blue.end());
  CHECK(ids_with_foo(client, "nothing").empty());
  CHECK(ids_with_foo(client, "7").empty());

  // A rebuild from position 1 gives the same read models.
  server->stop();
  auto rebuilt = start_server({"--rebuild-projection"}, false);
  HttpClient again(rebuilt->port());
  wait_for_stats(again, 6, 4);
  CHECK(ids_with_foo(again, "red").size() == 3);
  CHECK(ids_with_foo(again, "blue%20sky").size() == 2);
}

TEST_CASE("read models: notification pages and bad queries", "[http][read_models]") {
  redis_command({"FLUSHALL"});
  auto server = start_server();
  HttpClient client(server->port());
  for (int i = 0; i < 30; ++i) REQUIRE(client.post("/examples", "").status == 201);
  // Find a partition with at least two notifications and page through it.
  std::int64_t total = 0;
  int busy = -1;
  for (int p = 0; p < 16; ++p) {
    auto r = client.get("/notifications?partition=" + std::to_string(p) + "&limit=1000");
    REQUIRE(r.status == 200);
    auto body = r.json().as_object();
    CHECK(body.at("partition").as_int64() == p);
    const auto& items = body.at("items").as_array();
    total += static_cast<std::int64_t>(items.size());
    std::int64_t expected = 1;
    for (const auto& item : items) {
      CHECK(item.at("position").as_int64() == expected++);
      CHECK(item.at("topic") == "example.Example.Created");
      CHECK(item.at("version").as_int64() == 0);
      CHECK(item.at("id").as_string().size() == 36);
    }
    CHECK(body.at("next").is_null());
    if (items.size() >= 2) busy = p;
  }
  CHECK(total == 30);
  REQUIRE(busy >= 0);
  const std::string base = "/notifications?partition=" + std::to_string(busy);
  auto first = client.get(base + "&start=1&limit=1").json().as_object();
  CHECK(first.at("items").as_array().size() == 1);
  CHECK(first.at("next").as_int64() == 2);
  auto second = client.get(base + "&start=2&limit=1").json().as_object();
  CHECK(second.at("items").as_array()[0].at("position").as_int64() == 2);
  auto past = client.get(base + "&start=1000").json().as_object();
  CHECK(past.at("items").as_array().empty());
  CHECK(past.at("next").is_null());
  CHECK(client.get("/notifications?partition=0").json().at("items").is_array());  // defaults

  for (const char* bad :
       {"/notifications", "/notifications?partition=16", "/notifications?partition=-1",
        "/notifications?partition=01", "/notifications?partition=0&start=0",
        "/notifications?partition=0&limit=0", "/notifications?partition=0&limit=1001",
        "/notifications?partition=0&limit=1.5", "/notifications?partition=0&x=1",
        "/notifications?partition=0&partition=1", "/examples?bar=1", "/examples",
        "/examples?foo=a&foo=b"}) {
    INFO(bad);
    auto r = client.get(bad);
    CHECK(r.status == 400);
    CHECK(r.json().at("error").is_string());
  }
  auto wrong = client.request("POST", "/stats", "");
  CHECK(wrong.status == 405);
}
