#include "actors/example_protocol.hpp"

#include "domain/canonical_json.hpp"
#include "domain/errors.hpp"

#include "domain/json_parse.hpp"

namespace es {

namespace {

// Attribute values arrive as JSON text (already checked as I-JSON by the HTTP layer, but
// other callers may send anything).
boost::json::value parse_value(const AttributeChange& change) {
  if (!Example::is_attribute(change.name)) {
    throw InvalidInput("Example has no attribute '" + change.name + "'");
  }
  try {
    return parse_i_json(change.value_json);
  } catch (const InvalidInput& e) {
    throw InvalidInput("value of '" + change.name + "' is not valid I-JSON: " + e.what());
  }
}

}  // namespace

ExampleCommand ExampleCommand::make_create(std::vector<AttributeChange> initial) {
  ExampleCommand c;
  c.kind = create;
  c.attributes = std::move(initial);
  return c;
}

ExampleCommand ExampleCommand::make_change(std::vector<AttributeChange> changes,
                                           std::int64_t expected_version) {
  ExampleCommand c;
  c.kind = change;
  c.attributes = std::move(changes);
  c.expected_version = expected_version;
  return c;
}

ExampleCommand ExampleCommand::make_beat(std::int32_t count, std::int64_t expected_version) {
  ExampleCommand c;
  c.kind = beat;
  c.count = count;
  c.expected_version = expected_version;
  return c;
}

ExampleCommand ExampleCommand::make_discard(std::int64_t expected_version) {
  ExampleCommand c;
  c.kind = discard;
  c.expected_version = expected_version;
  return c;
}

Example ExampleModel::create(const Uuid& id, const Command& c) {
  boost::json::value foo = "", a = "", b = "";
  for (const auto& change : c.attributes) {
    auto v = parse_value(change);
    (change.name == "foo" ? foo : change.name == "a" ? a : b) = std::move(v);
  }
  return Example::create_with_id(id, std::move(foo), std::move(a), std::move(b));
}

void ExampleModel::execute(Example& draft, const Command& c) {
  switch (c.kind) {
    case Command::change:
      if (c.attributes.empty()) throw InvalidInput("no attribute to change");
      for (const auto& change : c.attributes) draft.set_attribute(change.name, parse_value(change));
      return;
    case Command::beat:
      if (c.count < 1 || c.count > 10000) throw InvalidInput("count must be within 1..10000");
      draft.beat_heart(c.count);
      return;
    case Command::discard:
      draft.discard();
      return;
    default:
      throw InvalidInput("not a command for an existing Example");
  }
}

ExampleView ExampleModel::view(const Example& e) {
  ExampleView v;
  v.id = to_string(e.id());
  v.version = e.version();
  v.foo_json = canonical_json(e.foo());
  v.a_json = canonical_json(e.a());
  v.b_json = canonical_json(e.b());
  v.heartbeats = e.count_heartbeats();
  v.created_on = e.created_on();
  v.last_modified = e.last_modified();
  v.head = e.head();
  v.discarded = e.is_discarded();
  return v;
}

}  // namespace es
