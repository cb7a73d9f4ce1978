// Why: the operational promises of HTTP_API.md: state survives a server restart; SIGTERM
// finishes requests in flight, loses no acknowledged write and exits 0; with Redis killed
// every request answers 503 within 5 seconds (never a hang), and once Redis is back the
// same server process recovers by itself.
#include "http_test_support.hpp"
#include "support/redis_fixture.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

using namespace es::test;
using namespace std::chrono_literals;

TEST_CASE("a restarted server on the same Redis has the same state", "[http][resilience]") {
  std::string id;
  boost::json::value state;
  {
    auto server = start_server();
    HttpClient c(server->port());
    id = id_of(c.post("/examples", R"({"foo": "kept", "a": 1})"));
    REQUIRE(c.patch("/examples/" + id, R"({"a": 2, "b": [3]})").status == 200);
    REQUIRE(c.request("POST", "/examples/" + id + "/heartbeats", R"({"count": 4})").status == 200);
    state = c.get("/examples/" + id).json();
    CHECK(server->stop(SIGINT) == 0);  // SIGINT as from a terminal
  }
  auto server = start_server();
  HttpClient c(server->port());
  auto again = c.get("/examples/" + id);
  REQUIRE(again.status == 200);
  CHECK(again.json() == state);
  CHECK(again.json().at("version") == 6);
  auto more = c.patch("/examples/" + id, R"({"a": 3})");
  CHECK(more.status == 200);
  CHECK(more.json().at("version") == 7);
  CHECK(server->stop() == 0);
}

TEST_CASE("SIGTERM under load: requests in flight finish, no acknowledged write is lost",
          "[http][resilience]") {
  auto server = start_server();
  constexpr int kWriters = 8;
  std::vector<std::string> ids;
  {
    HttpClient c(server->port());
    for (int i = 0; i < kWriters; ++i) ids.push_back(id_of(c.post("/examples")));
  }
  std::vector<int> acknowledged(kWriters, 0);
  std::atomic<int> started{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      try {
        HttpClient c(server->port(), 10s);
        for (int i = 0;; ++i) {
          auto r = c.patch("/examples/" + ids[static_cast<std::size_t>(w)],
                           R"({"a": )" + std::to_string(i) + "}");
          if (r.status != 200) break;
          ++acknowledged[static_cast<std::size_t>(w)];
          if (i == 5) ++started;
          if (!r.keep_alive) break;  // drained: the server said Connection: close
        }
      } catch (const std::exception&) {
        // The server closed the connection or went away: the writer stops.
      }
    });
  }
  REQUIRE(eventually([&] { return started.load() == kWriters; }, 20s));
  CHECK(server->stop(SIGTERM) == 0);
  for (auto& t : threads) t.join();

  auto again = start_server();
  HttpClient c(again->port());
  for (int w = 0; w < kWriters; ++w) {
    INFO("writer " << w);
    auto r = c.get("/examples/" + ids[static_cast<std::size_t>(w)]);
    REQUIRE(r.status == 200);
    CHECK(r.json().at("version").as_int64() == acknowledged[static_cast<std::size_t>(w)]);
  }
  CHECK(again->stop() == 0);
}

TEST_CASE("Redis killed: 503 within 5 s everywhere, then recovery without a restart",
          "[http][resilience]") {
  auto& redis = redis_server();
  auto server = start_server();
  HttpClient c(server->port(), 20s);
  const auto id = id_of(c.post("/examples", R"({"a": 1})"));
  const auto path = "/examples/" + id;
  REQUIRE(c.get(path).status == 200);

  // This test is about answers while Redis is gone, not about durability: with appendfsync
  // everysec a busy disk lets Redis postpone its AOF write by up to 2 s after answering, and a
  // SIGKILL then loses the create (seen on a loaded machine). After 2.5 s it is written.
  std::this_thread::sleep_for(2500ms);
  redis.kill();
  // /healthz turns 503 quickly, and never takes 5 s to answer.
  const auto killed = std::chrono::steady_clock::now();
  bool unhealthy = false;
  while (std::chrono::steady_clock::now() - killed < 10s) {
    auto r = c.get("/healthz");
    CHECK(r.seconds < 5.0);
    if (r.status == 503) {
      unhealthy = true;
      CHECK(r.json().at("error").is_string());
      break;
    }
    REQUIRE(r.status == 200);
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(unhealthy);
  CHECK(std::chrono::steady_clock::now() - killed < 5s);

  struct Probe {
    std::string method, target, body;
  };
  const std::vector<Probe> probes = {
      {"GET", path, ""},
      {"GET", path + "?at=0", ""},
      {"PATCH", path, R"({"a": 2})"},
      {"POST", "/examples", ""},
      {"GET", "/", ""},
      {"GET", path + "/events", ""},
      {"POST", path + "/heartbeats", ""},
      {"POST", path + "/snapshot", ""},
      {"DELETE", path, ""},
      {"GET", "/examples/00000000-0000-4000-8000-0000000000bb", ""},
  };
  for (const auto& p : probes) {
    INFO(p.method << " " << p.target);
    auto r = c.request(p.method, p.target, p.body);
    CHECK(r.status == 503);
    CHECK(r.seconds < 5.0);
    CHECK(r.json().at("error").is_string());
  }
  // Bad input is still 400, whatever the store does.
  CHECK(c.patch(path, "{}").status == 400);

  redis.restart();
  CHECK(eventually([&] { return c.get("/healthz").status == 200; }, 20s));
  CHECK(eventually([&] { return c.get(path).status == 200; }, 20s));
  auto after = c.patch(path, R"({"a": 3})");
  REQUIRE(after.status == 200);
  CHECK(after.json().at("version") == 1);  // nothing half-written while Redis was down
  CHECK(after.json().at("a") == 3);
  CHECK(c.post("/examples").status == 201);
  CHECK(server->stop() == 0);
}

TEST_CASE("Redis frozen (SIGSTOP): every request still answers within 5 s", "[http][resilience]") {
  auto& redis = redis_server();
  auto server = start_server();
  HttpClient c(server->port(), 20s);
  const auto id = id_of(c.post("/examples", R"({"a": 1})"));
  const auto path = "/examples/" + id;

  REQUIRE(::kill(redis.pid(), SIGSTOP) == 0);
  struct Resume {  // resumes Redis whatever happens below
    pid_t pid;
    ~Resume() { ::kill(pid, SIGCONT); }
  } resume{redis.pid()};
  // The first write waits on a frozen connection: the handler deadline answers it.
  auto write = c.patch(path, R"({"a": 2})");
  CHECK(write.status == 503);
  CHECK(write.seconds < 5.0);
  for (const std::string target : {"/healthz", path.c_str()}) {
    auto r = c.get(target);
    INFO(target);
    CHECK(r.status == 503);
    CHECK(r.seconds < 5.0);
  }
  ::kill(redis.pid(), SIGCONT);
  CHECK(eventually([&] { return c.get("/healthz").status == 200; }, 20s));
  // A write whose outcome was unknown may or may not have landed; the entity reloads and
  // goes on from what the store holds.
  CHECK(eventually([&] { return c.patch(path, R"({"a": 3})").status == 200; }, 20s));
  auto got = c.get(path);
  REQUIRE(got.status == 200);
  CHECK(got.json().at("a") == 3);
  CHECK(server->stop() == 0);
}
