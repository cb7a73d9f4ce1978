// Why: the reference application's scenario (create a=10 b=20, change a, snapshots,
// historical versions, discard) must hold over HTTP exactly as it does through the actors,
// and what lands in Redis must be the documented hash chain: checked here from the raw
// stream entries by two implementations independent of our domain code (a Python script
// with hashlib/json, and OpenSSL's SHA-256 over a minimal canonicalizer written below).
#include "http_test_support.hpp"
#include "support/redis_fixture.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <openssl/sha.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

using namespace es::test;
namespace json = boost::json;

namespace {

// RFC 8785 for what the tests store: objects, arrays, strings, integers, booleans, null.
std::string mini_canonical(const json::value& v) {
  switch (v.kind()) {
    case json::kind::object: {
      const auto& o = v.get_object();
      std::vector<std::string> keys;
      for (const auto& kv : o) keys.emplace_back(kv.key());
      std::sort(keys.begin(), keys.end());
      std::string out = "{";
      for (std::size_t i = 0; i < keys.size(); ++i) {
        if (i) out += ",";
        out += mini_canonical(json::value(keys[i])) + ":" + mini_canonical(o.at(keys[i]));
      }
      return out + "}";
    }
    case json::kind::array: {
      std::string out = "[";
      bool first = true;
      for (const auto& x : v.get_array()) {
        if (!first) out += ",";
        first = false;
        out += mini_canonical(x);
      }
      return out + "]";
    }
    case json::kind::string: {
      std::string out = "\"";
      for (unsigned char c : v.get_string()) {
        switch (c) {
          case '"':
            out += "\\\"";
            break;
          case '\\':
            out += "\\\\";
            break;
          case '\b':
            out += "\\b";
            break;
          case '\f':
            out += "\\f";
            break;
          case '\n':
            out += "\\n";
            break;
          case '\r':
            out += "\\r";
            break;
          case '\t':
            out += "\\t";
            break;
          default:
            if (c < 0x20) {
              char buf[8];
              std::snprintf(buf, sizeof buf, "\\u%04x", c);
              out += buf;
            } else {
              out.push_back(static_cast<char>(c));
            }
        }
      }
      return out + "\"";
    }
    case json::kind::int64:
      return std::to_string(v.get_int64());
    case json::kind::uint64:
      return std::to_string(v.get_uint64());
    case json::kind::bool_:
      return v.get_bool() ? "true" : "false";
    case json::kind::null:
      return "null";
    case json::kind::double_:
      break;
  }
  throw std::runtime_error("mini_canonical: doubles are not used by this test");
}

std::string sha256_hex(const std::string& text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::string out;
  char buf[3];
  for (unsigned char b : digest) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

// Checks the chain of one entity's stream with OpenSSL; returns the last event_hash.
std::string check_chain_in_cpp(const std::string& id, const std::vector<StreamEntry>& entries) {
  std::string previous;
  for (std::size_t version = 0; version < entries.size(); ++version) {
    INFO("entry " << version);
    const auto& fields = entries[version].fields;
    REQUIRE(fields.count("topic") == 1);
    REQUIRE(fields.count("state") == 1);
    auto event = json::parse(fields.at("state")).as_object();
    CHECK(mini_canonical(event) == fields.at("state"));  // stored as canonical JSON
    CHECK(event.at("originator_id").as_string() == id);
    CHECK(event.at("originator_version").as_int64() == static_cast<std::int64_t>(version));
    CHECK(event.at("topic").as_string() == fields.at("topic"));
    CHECK(event.at("previous_hash").as_string() == previous);
    const std::string stated(event.at("event_hash").as_string());
    event.erase("event_hash");
    CHECK(sha256_hex(mini_canonical(event)) == stated);
    previous = stated;
  }
  return previous;
}

// Runs tests/http/check_chain.py over the entries; its output line.
std::string check_chain_in_python(const std::string& id, const std::vector<StreamEntry>& entries) {
  auto file = temp_dir("chain") / "entries.jsonl";
  {
    std::ofstream out(file);
    for (const auto& e : entries) {
      json::array line{json::string(e.fields.at("topic")), json::string(e.fields.at("state"))};
      out << json::serialize(line) << "\n";
    }
  }
  const std::string command = "python3 '" + (http_test_dir() / "check_chain.py").string() + "' " +
                              id + " '" + file.string() + "' 2>&1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) output += buf;
  const int status = ::pclose(pipe);
  INFO(output);
  CHECK(status == 0);
  return output;
}

json::value body_of(const HttpResponse& r) {
  return r.json();
}

}  // namespace

TEST_CASE("the reference application scenario over HTTP", "[http][scenario]") {
  auto server = start_server();
  HttpClient c(server->port());

  auto created = c.post("/examples", R"({"a": 10, "b": 20})");
  REQUIRE(created.status == 201);
  const auto id = id_of(created);
  const auto path = "/examples/" + id;
  CHECK(body_of(created).at("a") == 10);
  CHECK(body_of(created).at("b") == 20);
  CHECK(body_of(created).at("foo") == "");

  auto changed = c.patch(path, R"({"a": 50})");
  REQUIRE(changed.status == 200);
  CHECK(body_of(changed).at("a") == 50);
  CHECK(body_of(changed).at("version") == 1);

  auto snap = c.post(path + "/snapshot");
  CHECK(snap.status == 201);
  CHECK(body_of(snap) == json::parse(R"({"version": 1})"));
  auto again = c.post(path + "/snapshot");
  CHECK(again.status == 200);
  CHECK(body_of(again) == json::parse(R"({"version": 1})"));
  CHECK(redis_keys("*:snapshot:" + id).size() == 1);

  auto changed2 = c.patch(path, R"({"a": 100})");
  REQUIRE(changed2.status == 200);
  CHECK(body_of(changed2).at("version") == 2);

  const std::vector<int> expected_a = {10, 50, 100};
  for (int v = 0; v <= 2; ++v) {
    auto at = c.get(path + "?at=" + std::to_string(v));
    INFO("at=" << v);
    REQUIRE(at.status == 200);
    CHECK(body_of(at).at("a") == expected_a[static_cast<std::size_t>(v)]);
    CHECK(body_of(at).at("version") == v);
    CHECK(at.header("etag") == "\"" + std::to_string(v) + "\"");
  }
  auto current = c.get(path);
  REQUIRE(current.status == 200);
  CHECK(body_of(current).at("a") == 100);
  CHECK(current.header("etag") == "\"2\"");

  auto events = c.get(path + "/events");
  REQUIRE(events.status == 200);
  auto list = body_of(events).as_array();
  REQUIRE(list.size() == 3);
  CHECK(list[0].at("topic") == "example.Example.Created");
  CHECK(list[0].at("data") == json::parse(R"({"foo": "", "a": 10, "b": 20})"));
  CHECK(list[1].at("topic") == "example.Example.AttributeChanged");
  CHECK(list[1].at("data") == json::parse(R"({"name": "a", "value": 50})"));
  CHECK(list[2].at("data") == json::parse(R"({"name": "a", "value": 100})"));
  CHECK(list[0].at("previous_hash") == "");
  for (std::size_t i = 0; i < list.size(); ++i) {
    CHECK(list[i].at("version") == static_cast<std::int64_t>(i));
    CHECK(list[i].at("timestamp").is_int64());
    if (i > 0) CHECK(list[i].at("previous_hash") == list[i - 1].at("hash"));
  }
  CHECK(list[2].at("hash") == body_of(current).at("head"));

  auto deleted = c.del(path);
  CHECK(deleted.status == 204);
  CHECK(deleted.body.empty());
  CHECK(c.get(path).status == 404);
  CHECK(c.get(path + "?at=0").status == 404);
  CHECK(c.patch(path, R"({"a": 1})").status == 404);
  CHECK(c.post(path + "/heartbeats").status == 404);
  CHECK(c.post(path + "/snapshot").status == 404);
  CHECK(c.del(path).status == 404);
  auto after = c.get(path + "/events");
  REQUIRE(after.status == 200);
  auto all = body_of(after).as_array();
  REQUIRE(all.size() == 4);
  CHECK(all[3].at("topic") == "example.Example.Discarded");
  CHECK(all[3].at("data") == json::object());

  CHECK(server->stop() == 0);
}

TEST_CASE("the hash chain in Redis, checked by the test from the documented format",
          "[http][chain]") {
  auto server = start_server();
  HttpClient c(server->port());
  auto created =
      c.post("/examples",
             R"({"foo": "chain \"quoted\" \\ tab\t", "a": [1, {"z": 2, "y": null}], "b": true})");
  REQUIRE(created.status == 201);
  const auto id = id_of(created);
  const auto path = "/examples/" + id;
  REQUIRE(c.patch(path, R"({"b": 7, "foo": "x", "a": -3})").status == 200);
  REQUIRE(c.request("POST", path + "/heartbeats", R"({"count": 3})").status == 200);
  auto last = c.patch(path, R"({"a": {"k": "v"}})");
  REQUIRE(last.status == 200);
  const auto head = std::string(last.json().at("head").as_string());

  const auto key = entity_key(id);
  REQUIRE_FALSE(key.empty());
  CHECK(key.size() > id.size());
  auto entries = stream_entries(key);
  REQUIRE(entries.size() == 1 + 3 + 3 + 1);
  // Topics in order; AttributeChanged in the order foo, a, b whatever the body's order.
  std::vector<std::string> topics;
  for (const auto& e : entries) topics.push_back(e.fields.at("topic"));
  CHECK(topics[0] == "example.Example.Created");
  for (int i = 1; i <= 3; ++i)
    CHECK(topics[static_cast<std::size_t>(i)] == "example.Example.AttributeChanged");
  for (int i = 4; i <= 6; ++i)
    CHECK(topics[static_cast<std::size_t>(i)] == "example.Example.Heartbeat");
  CHECK(json::parse(entries[1].fields.at("state")).at("name") == "foo");
  CHECK(json::parse(entries[2].fields.at("state")).at("name") == "a");
  CHECK(json::parse(entries[3].fields.at("state")).at("name") == "b");

  CHECK(check_chain_in_cpp(id, entries) == head);
  auto python = check_chain_in_python(id, entries);
  CHECK(python.find("ok 8 " + head) != std::string::npos);

  // Discarded is chained too.
  REQUIRE(c.del(path).status == 204);
  entries = stream_entries(key);
  REQUIRE(entries.size() == 9);
  CHECK(entries.back().fields.at("topic") == "example.Example.Discarded");
  check_chain_in_cpp(id, entries);
  check_chain_in_python(id, entries);
  CHECK(server->stop() == 0);
}
