// Why: see example_bodies.hpp. Parsing goes through es::parse_i_json, the one
// implementation of the contract's I-JSON rules; values are parsed here, once, and travel
// to the entity as data.
#include "samples/http/example_bodies.hpp"

#include "domain/canonical_json.hpp"
#include "domain/errors.hpp"
#include "domain/json_parse.hpp"
#include "samples/http/representation.hpp"

#include <array>

namespace es::http {

namespace {

constexpr std::array<std::string_view, 3> kAttributes = {"foo", "a", "b"};

std::string quoted(std::string_view key) {
  std::string out;
  append_json_string(out, key.substr(0, 64));
  return out;
}

boost::json::object parse_object(std::string_view body) {
  boost::json::value value;
  try {
    value = parse_i_json(body);
  } catch (const InvalidInput& e) {
    throw BadRequest(std::string("the body is not I-JSON: ") + e.what());
  }
  if (!value.is_object()) throw BadRequest("the body must be a JSON object");
  return std::move(value.get_object());
}

std::vector<AttributeChange> attributes_of(const boost::json::object& object) {
  for (const auto& kv : object) {
    bool known = false;
    for (auto name : kAttributes) known = known || kv.key() == name;
    if (!known) {
      throw BadRequest("unknown key " + quoted(kv.key()) + "; expected foo, a or b");
    }
  }
  std::vector<AttributeChange> out;
  for (auto name : kAttributes) {
    auto it = object.find(name);
    if (it == object.end()) continue;
    out.push_back({std::string(name), {it->value()}});
  }
  return out;
}

}  // namespace

CreateExample parse_create_body(std::string_view body) {
  CreateExample command;
  if (body.empty()) return command;
  for (auto& change : attributes_of(parse_object(body))) {
    (change.name == "foo" ? command.foo
     : change.name == "a" ? command.a
                          : command.b) = std::move(change.value);
  }
  return command;
}

std::vector<AttributeChange> parse_patch_body(std::string_view body) {
  if (body.empty()) throw BadRequest("PATCH needs a JSON object with at least one of foo, a, b");
  auto changes = attributes_of(parse_object(body));
  if (changes.empty()) throw BadRequest("PATCH needs at least one of foo, a, b");
  return changes;
}

std::int32_t parse_heartbeats_body(std::string_view body) {
  if (body.empty()) return 1;
  auto object = parse_object(body);
  std::int32_t count = 1;
  for (const auto& kv : object) {
    if (kv.key() != "count")
      throw BadRequest("unknown key " + quoted(kv.key()) + "; expected count");
    const auto& v = kv.value();
    if (!v.is_int64() || v.get_int64() < 1 || v.get_int64() > 10000) {
      throw BadRequest("count must be an integer literal from 1 to 10000");
    }
    count = static_cast<std::int32_t>(v.get_int64());
  }
  return count;
}

}  // namespace es::http
