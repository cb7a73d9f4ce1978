// Why: concurrent requests on one entity are serialized by its actor, so no update is lost:
// 20 writers PATCH one entity at once and every write must land (final version = number
// of acknowledged writes, versions answered all distinct, the stream as long); and the
// server must serve many connections at the same time.
#include "http_test_support.hpp"
#include "support/redis_fixture.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

using namespace es::test;

TEST_CASE("20 concurrent writers on one entity lose nothing", "[http][concurrency]") {
  auto server = start_server();
  HttpClient setup(server->port());
  const auto id = id_of(setup.post("/examples"));
  const auto path = "/examples/" + id;

  constexpr int kWriters = 20;
  constexpr int kWrites = 15;
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::mutex mutex;
  std::set<std::int64_t> versions;
  std::vector<std::string> problems;
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      try {
        HttpClient c(server->port());
        for (int i = 0; i < kWrites; ++i) {
          const std::string body =
              i % 3 == 0 ? R"({"b": )" + std::to_string(w) + "}"
                         : R"({"a": ")" + std::to_string(w) + "-" + std::to_string(i) + "\"}";
          auto r = c.patch(path, body);
          std::lock_guard lock(mutex);
          if (r.status == 200) {
            ++ok;
            versions.insert(r.json().at("version").as_int64());
          } else {
            ++failed;
            problems.push_back(std::to_string(r.status) + " " + r.body);
          }
        }
      } catch (const std::exception& e) {
        std::lock_guard lock(mutex);
        ++failed;
        problems.push_back(e.what());
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& p : problems) UNSCOPED_INFO(p);
  CHECK(failed == 0);
  CHECK(ok == kWriters * kWrites);
  CHECK(versions.size() == static_cast<std::size_t>(ok.load()));  // every answer its own version
  CHECK(*versions.rbegin() == ok.load());
  auto final_state = setup.get(path);
  REQUIRE(final_state.status == 200);
  CHECK(final_state.json().at("version").as_int64() == ok.load());
  CHECK(std::stoll(redis_command({"XLEN", entity_key(id)}).at(0)) == ok.load() + 1);
  CHECK(server->stop() == 0);
}

TEST_CASE("many concurrent connections are served", "[http][concurrency]") {
  auto server = start_server();
  HttpClient setup(server->port());
  const auto id = id_of(setup.post("/examples", R"({"a": 42})"));
  constexpr int kThreads = 8;
  constexpr int kConnectionsPerThread = 25;
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      try {
        // Open every connection first, so that all are open at once.
        std::vector<std::unique_ptr<HttpClient>> clients;
        for (int i = 0; i < kConnectionsPerThread; ++i) {
          clients.push_back(std::make_unique<HttpClient>(server->port()));
          if (clients.back()->get("/healthz").status != 200) ++failed;
        }
        for (int round = 0; round < 3; ++round) {
          for (auto& c : clients) {
            auto r = c->get("/examples/" + id);
            if (r.status == 200 && r.json().at("a") == 42) {
              ++ok;
            } else {
              ++failed;
            }
          }
        }
      } catch (const std::exception&) {
        ++failed;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failed == 0);
  CHECK(ok == kThreads * kConnectionsPerThread * 3);
  CHECK(server->stop() == 0);
}
