// Why: attribute values are parsed once, at the HTTP edge, and travel to the entity as data.
// They used to travel as canonical JSON text and be parsed again with the I-JSON integer rule,
// so `1.23e+20` (canonical form `123000000000000000000`) was refused as an out-of-range
// integer. The contract range-checks integer *literals* only: every finite number written
// with an exponent or a fraction is accepted and stored exactly, and reads back as the same
// double, through every read path, across a restart and from a snapshot.
#include "http_test_support.hpp"
#include "support/redis_fixture.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

using namespace es::test;

namespace {

// The attribute's value as a double (1e20 and beyond come back as integer literals, which a
// JSON parser may hold as an integer or a double).
double number(const boost::json::value& v) {
  return v.to_number<double>();
}

void check_values(const boost::json::value& entity) {
  INFO(boost::json::serialize(entity));
  CHECK(number(entity.at("foo")) == 1.23e20);
  CHECK(number(entity.at("a")) == 9007199254740993.5);  // rounds to 9007199254740994
  CHECK(number(entity.at("b")) == 1e20);
}

}  // namespace

TEST_CASE("numbers with an exponent or a fraction beyond 2^53 are accepted and read back",
          "[http][numbers]") {
  std::string id;
  {
    auto server = start_server();
    HttpClient c(server->port());
    auto created = c.post("/examples", R"({"foo": 1.23e+20, "a": 9007199254740993.5, "b": 1e20})");
    REQUIRE(created.status == 201);
    // RFC 8785 writes these doubles without exponent: the stored text of the JCS form.
    CHECK(created.body.find("\"foo\":123000000000000000000") != std::string::npos);
    CHECK(created.body.find("\"a\":9007199254740994") != std::string::npos);
    CHECK(created.body.find("\"b\":100000000000000000000") != std::string::npos);
    check_values(created.json());
    id = id_of(created);
    const auto path = "/examples/" + id;

    auto patched = c.patch(path, R"({"foo": 1.23e+20, "b": 100000000000000000000.0})");
    REQUIRE(patched.status == 200);
    check_values(patched.json());
    CHECK(patched.json().at("version") == 2);

    check_values(c.get(path).json());
    check_values(c.get(path + "?at=0").json());
    check_values(c.get(path + "?at=1").json());
    auto events = c.get(path + "/events");
    REQUIRE(events.status == 200);
    const auto body = events.json();
    const auto& list = body.as_array();
    REQUIRE(list.size() == 3);
    CHECK(number(list[0].at("data").at("foo")) == 1.23e20);
    CHECK(number(list[1].at("data").at("value")) == 1.23e20);
    CHECK(number(list[2].at("data").at("value")) == 1e20);

    // Integer literals are still range-checked, and refused ones change nothing.
    const auto before = redis_fingerprint_when_still();  // after the projection's own writes
    CHECK(c.post("/examples", R"({"a": 9007199254740992})").status == 400);
    CHECK(c.post("/examples", R"({"a": -9007199254740992})").status == 400);
    CHECK(c.patch(path, R"({"a": 123000000000000000000})").status == 400);
    CHECK(redis_fingerprint() == before);
    CHECK(c.post("/examples", R"({"a": 9007199254740991, "b": -9007199254740991})").status == 201);
    CHECK(c.get(path).json().at("version") == 2);

    REQUIRE(c.post(path + "/snapshot").status == 201);
    CHECK(server->stop() == 0);
  }
  // After a restart the entity is rebuilt from its snapshot; its chain still verifies
  // (GET would answer 500 otherwise) and the values are the same doubles.
  auto server = start_server();
  HttpClient c(server->port());
  auto reloaded = c.get("/examples/" + id);
  REQUIRE(reloaded.status == 200);
  check_values(reloaded.json());
  check_values(c.get("/examples/" + id + "?at=0").json());
}
