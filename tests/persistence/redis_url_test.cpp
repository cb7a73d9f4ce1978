// Why: the URL is user input (--redis); the accepted forms, the errors and the masking of
// passwords must not change by accident.
#include <catch2/catch.hpp>

#include "domain/errors.hpp"
#include "persistence/redis_url.hpp"

#include <string>

using es::RedisUrl;

TEST_CASE("redis url: accepted forms", "[redis][url]") {
  auto plain = RedisUrl::parse("redis://localhost:6380");
  CHECK(plain.host == "localhost");
  CHECK(plain.port == 6380);
  CHECK(plain.password.empty());
  CHECK(plain.user.empty());
  CHECK(plain.db == 0);
  CHECK(plain.to_string() == "redis://localhost:6380");

  auto full = RedisUrl::parse("redis://:s3cr%40t@127.0.0.1:7000/3");
  CHECK(full.host == "127.0.0.1");
  CHECK(full.port == 7000);
  CHECK(full.password == "s3cr@t");
  CHECK(full.db == 3);
  CHECK(full.to_string() == "redis://:***@127.0.0.1:7000/3");
  CHECK(full.to_string_with_password() == "redis://:s3cr%40t@127.0.0.1:7000/3");
  CHECK(RedisUrl::parse(full.to_string_with_password()).password == "s3cr@t");

  auto user = RedisUrl::parse("redis://app:pw@redis.example.com:6379/");
  CHECK(user.user == "app");
  CHECK(user.password == "pw");
  CHECK(user.db == 0);
  CHECK(user.to_string() == "redis://app:***@redis.example.com:6379");

  auto raw_at = RedisUrl::parse("redis://:p@ss@h:1");
  CHECK(raw_at.password == "p@ss");
  CHECK(raw_at.host == "h");

  auto v6 = RedisUrl::parse("redis://[::1]:6379");
  CHECK(v6.host == "::1");
  CHECK(v6.to_string() == "redis://[::1]:6379");
}

TEST_CASE("redis url: anything else is a ConfigurationError without the password", "[redis][url]") {
  for (const char* bad :
       {"", "localhost:6379", "http://localhost:6379", "redis://", "redis://localhost",
        "redis://:6379", "redis://localhost:", "redis://localhost:0", "redis://localhost:65536",
        "redis://localhost:63a9", "redis://localhost:6379/x", "redis://localhost:6379/1/2",
        "redis://topsecret@localhost:6379", "redis://:@localhost:6379",
        "redis://:topsecret@localhost", "redis://:topsecret@loc al:6379",
        "redis://:top%zzsecret@localhost:6379", "redis://[::1:6379",
        "redis://localhost:6379?db=1"}) {
    INFO(bad);
    try {
      RedisUrl::parse(bad);
      FAIL("accepted");
    } catch (const es::ConfigurationError& e) {
      const std::string message = e.what();
      CHECK(message.find("redis://[:password@]host:port[/db]") != std::string::npos);
      CHECK(message.find("topsecret") == std::string::npos);
      CHECK(message.find("secret") == std::string::npos);
    }
  }
}
