// Why: with --cipher-key-file no plaintext of event data may reach Redis (scanned raw, every
// key and entry), the API still shows the plaintext, and a server started with the wrong key
// answers 500 with a JSON error naming the integrity failure for that entity, without
// garbage, while it stays up and healthy.
#include "http_test_support.hpp"
#include "support/redis_fixture.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <fstream>

using namespace es::test;

namespace {

// A key file with the base64 of 32 random bytes (and surrounding whitespace).
std::string key_file(const std::string& name) {
  unsigned char key[32];
  REQUIRE(RAND_bytes(key, sizeof key) == 1);
  unsigned char text[64];
  const int n = EVP_EncodeBlock(text, key, sizeof key);
  auto path = temp_dir("keys") / name;
  std::ofstream out(path);
  out << "  " << std::string(reinterpret_cast<char*>(text), static_cast<std::size_t>(n)) << "\n";
  return path.string();
}

}  // namespace

TEST_CASE("encrypted storage: no plaintext in Redis and a wrong key gives 500, not garbage",
          "[http][cipher]") {
  const auto right = key_file("right.key");
  const auto wrong = key_file("wrong.key");
  const std::vector<std::string> secrets = {"PLAINTEXT-FOO-7f3a", "PLAINTEXT-A-91c2",
                                            "PLAINTEXT-B-55d0", "PLAINTEXT-NESTED-0c44"};
  std::string id;
  boost::json::value state;
  {
    auto server = start_server({"--cipher-key-file", right});
    HttpClient c(server->port());
    auto created = c.post("/examples", R"({"foo": "PLAINTEXT-FOO-7f3a", "a": "PLAINTEXT-A-91c2"})");
    REQUIRE(created.status == 201);
    id = id_of(created);
    const auto path = "/examples/" + id;
    REQUIRE(
        c.patch(path, R"({"b": {"deep": ["PLAINTEXT-B-55d0", "PLAINTEXT-NESTED-0c44"]}})").status ==
        200);
    REQUIRE(c.post(path + "/heartbeats").status == 200);
    REQUIRE(c.post(path + "/snapshot").status == 201);
    auto got = c.get(path);
    REQUIRE(got.status == 200);
    CHECK(got.json().at("foo") == "PLAINTEXT-FOO-7f3a");
    CHECK(got.json().at("b").at("deep").at(1) == "PLAINTEXT-NESTED-0c44");
    state = got.json();
    auto events = c.get(path + "/events");
    REQUIRE(events.status == 200);
    CHECK(events.json().as_array().size() == 3);
    CHECK(events.body.find("PLAINTEXT-B-55d0") != std::string::npos);
    CHECK(server->stop() == 0);
  }
  const auto everything = redis_everything();
  CHECK(everything.find(id) != std::string::npos);  // the scan did see the entity's keys
  for (const auto& secret : secrets) {
    INFO(secret);
    CHECK(everything.find(secret) == std::string::npos);
    CHECK(everything.find("PLAINTEXT") == std::string::npos);
  }
  for (const auto& entry : stream_entries(entity_key(id))) {
    CHECK(entry.fields.at("state").find('{') == std::string::npos);  // base64, not JSON
  }

  {
    auto server = start_server({"--cipher-key-file", wrong});
    HttpClient c(server->port());
    const auto path = "/examples/" + id;
    for (const auto& target : {path, path + "/events", path + "?at=0"}) {
      INFO(target);
      auto r = c.get(target);
      CHECK(r.status == 500);
      REQUIRE(r.header("content-type") == "application/json");
      const std::string error(r.json().at("error").as_string());
      CHECK(error.find("integrity") != std::string::npos);
      CHECK(r.body.find("PLAINTEXT") == std::string::npos);
    }
    CHECK(c.patch(path, R"({"a": 1})").status == 500);
    CHECK(c.get("/healthz").status == 200);
    CHECK(c.post("/examples", R"({"a": 1})").status == 201);  // the server stays up
    CHECK(server->running());
    CHECK(server->stop() == 0);
  }
  {
    auto server = start_server({"--cipher-key-file", right});
    HttpClient c(server->port());
    auto got = c.get("/examples/" + id);
    REQUIRE(got.status == 200);
    CHECK(got.json() == state);  // nothing was written with the wrong key
    CHECK(server->stop() == 0);
  }
}
