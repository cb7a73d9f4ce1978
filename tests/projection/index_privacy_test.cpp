// Why: with a cipher key the read model may hold no plaintext of event data: the foo index
// keys on an HMAC-SHA256 under a key derived (HKDF) from the cipher key. Checked by scanning
// every key and value in Redis after a projection ran over encrypted events.
#include <catch2/catch.hpp>

#include "actors/runtime_config.hpp"
#include "projection/projection_support.hpp"
#include "samples/example/example_projection_service.hpp"

#include <openssl/crypto.h>

using namespace es;
using namespace std::chrono_literals;

namespace {

std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// Every key of the server, and every value, as text.
std::vector<std::string> everything(RedisPool& pool) {
  std::vector<std::string> out;
  auto lease = pool.acquire();
  std::string cursor = "0";
  do {
    auto page = lease->command({"SCAN", cursor, "COUNT", "1000"});
    cursor = std::string(page[0].str());
    for (std::size_t i = 0; i < page[1].size(); ++i) {
      const std::string key(page[1][i].str());
      out.push_back(key);
      const std::string type(lease->command({"TYPE", key}).str());
      RedisReply values;
      if (type == "string") values = lease->command({"GET", key});
      if (type == "hash") values = lease->command({"HGETALL", key});
      if (type == "zset") values = lease->command({"ZRANGE", key, "0", "-1"});
      if (type == "set") values = lease->command({"SMEMBERS", key});
      if (type == "list") values = lease->command({"LRANGE", key, "0", "-1"});
      if (type == "stream") values = lease->command({"XRANGE", key, "-", "+"});
      // Flatten nested arrays.
      std::vector<RedisReplyView> todo{values.view()};
      while (!todo.empty()) {
        auto v = todo.back();
        todo.pop_back();
        if (v.is_array()) {
          for (std::size_t k = 0; k < v.size(); ++k) todo.push_back(v[k]);
        } else {
          out.emplace_back(v.str());
        }
      }
    }
  } while (cursor != "0");
  return out;
}

}  // namespace

TEST_CASE("hkdf and hmac match the RFC test vectors", "[index]") {
  // RFC 5869 test case 3 (empty salt, empty info).
  const std::string ikm(22, '\x0b');
  CHECK(hex(hkdf_sha256(ikm, "", 42)) ==
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  // RFC 4231 test case 2.
  auto mac = hmac_sha256("Jefe", "what do ya want for nothing?");
  CHECK(hex(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size())) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("index tokens: stable, keyed by the cipher key and the label", "[index]") {
  AesGcmCipher k1(std::string(32, 'k')), k2(std::string(32, 'j'));
  IndexTokenizer t1(&k1, kExampleFooIndexLabel), t1b(&k1, kExampleFooIndexLabel);
  IndexTokenizer t2(&k2, kExampleFooIndexLabel), other(&k1, "another/use");
  IndexTokenizer plain(nullptr, kExampleFooIndexLabel);
  CHECK(t1.token("bar") == t1b.token("bar"));
  CHECK(t1.token("bar").size() == 64);
  CHECK(t1.token("bar") != t1.token("baz"));
  CHECK(t1.token("bar") != t2.token("bar"));
  CHECK(t1.token("bar") != other.token("bar"));
  CHECK(t1.token("bar") != plain.token("bar"));
  CHECK(t1.keyed());
  CHECK_FALSE(plain.keyed());
  // The derived key is not the cipher key, and differs per label.
  CHECK(k1.derive_key("a") != std::string(32, 'k'));
  CHECK(k1.derive_key("a") != k1.derive_key("b"));
  CHECK(k1.derive_key("a").size() == 32);
}

TEST_CASE("with a cipher, no plaintext of event data anywhere in redis", "[index][redis]") {
  auto server = test::private_redis("privacy");
  auto pool = test::pool_for(*server);
  auto stores = redis_stores(pool);
  auto cipher = test::test_cipher();
  const std::string marker = "PlainTextMarker";
  std::vector<std::string> ids_with_marker;
  ApplicationConfig cfg;
  cfg.stores = stores;
  cfg.cipher = cipher;
  cfg.scheduler_threads = 2;
  ExampleApplication app(cfg);
  for (int i = 0; i < 40; ++i) {
    auto v = app.create_new_example(boost::json::string(marker + std::to_string(i % 4)),
                                    boost::json::string(marker + "-a"),
                                    boost::json::string(marker + "-b"));
    if (i % 4 == 1) ids_with_marker.push_back(v.id);
    app.beat_heart(*parse_uuid(v.id), 2);
  }
  auto moved = app.create_new_example("x");
  app.set_attribute(*parse_uuid(moved.id), "foo", boost::json::string(marker + "1"));
  ids_with_marker.push_back(moved.id);
  std::sort(ids_with_marker.begin(), ids_with_marker.end());

  app.close();  // every append done
  RuntimeConfig runtime(2);
  caf::actor_system system{runtime};
  ExampleProjectionService service(system, stores.events, cipher);
  service.start();
  REQUIRE(service.wait_until_caught_up(20s));
  CHECK(service.ids_with_foo(marker + "1") == ids_with_marker);
  CHECK(service.stats().examples == 41);
  CHECK(service.stats().heartbeats == 80);
  service.stop();

  std::size_t projection_keys = 0;
  for (const auto& text : everything(*pool)) {
    INFO(text.substr(0, 120));
    CHECK(text.find(marker) == std::string::npos);
    CHECK(text.find("PlainText") == std::string::npos);
    if (text.find(":projection:") != std::string::npos) ++projection_keys;
  }
  CHECK(projection_keys >= 3);

  // Without the key the tokens cannot be recomputed: the index answers nothing for the
  // plain-hash token.
  IndexTokenizer unkeyed(nullptr, kExampleFooIndexLabel);
  CHECK(service.projection().read_model()->ids_with_token(unkeyed.token(marker + "1")).empty());
}
