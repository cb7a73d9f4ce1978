// The Example entity's commands and its view, as messages, and the model that tells the
// generic entity actor how to run them (see entity_actor.hpp).
#pragma once

#include "actors/messages.hpp"
#include "domain/example.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace es {

// One attribute to set: its name ("foo", "a" or "b") and the new value as JSON text.
struct AttributeChange {
  std::string name;
  std::string value_json;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, AttributeChange& x) {
  return f(caf::meta::type_name("es.AttributeChange"), x.name, x.value_json);
}

struct ExampleCommand {
  enum Kind : std::uint8_t { create = 0, change = 1, beat = 2, discard = 3 };
  std::uint8_t kind = create;
  // create: the initial foo, a, b (missing ones default to ""); change: the attributes to
  // set, applied in the order given.
  std::vector<AttributeChange> attributes;
  std::int32_t count = 1;              // beat: number of heartbeats
  std::int64_t expected_version = -1;  // change/beat/discard: If-Match, -1 for none

  static ExampleCommand make_create(std::vector<AttributeChange> initial = {});
  static ExampleCommand make_change(std::vector<AttributeChange> changes,
                                    std::int64_t expected_version = -1);
  static ExampleCommand make_beat(std::int32_t count = 1, std::int64_t expected_version = -1);
  static ExampleCommand make_discard(std::int64_t expected_version = -1);
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ExampleCommand& x) {
  return f(caf::meta::type_name("es.ExampleCommand"), x.kind, x.attributes, x.count,
           x.expected_version);
}

// An Example as callers see it (the HTTP representation).
struct ExampleView {
  std::string id;
  std::int64_t version = -1;
  std::string foo_json, a_json, b_json;  // attribute values as canonical JSON
  std::int64_t heartbeats = 0;
  std::int64_t created_on = 0;
  std::int64_t last_modified = 0;
  std::string head;
  bool discarded = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ExampleView& x) {
  return f(caf::meta::type_name("es.ExampleView"), x.id, x.version, x.foo_json, x.a_json, x.b_json,
           x.heartbeats, x.created_on, x.last_modified, x.head, x.discarded);
}

// How the generic entity actor runs Example commands.
struct ExampleModel {
  using Entity = Example;
  using Command = ExampleCommand;
  using View = ExampleView;

  static void register_types() { Example::register_types(); }
  static bool is_create(const Command& c) { return c.kind == Command::create; }
  static std::int64_t expected_version(const Command& c) { return c.expected_version; }
  // A new Example with the given id and the command's initial attributes (pending Created).
  static Entity create(const Uuid& id, const Command& c);
  // Runs a command on a draft; throws the domain's errors (InvalidInput, EntityIsDiscarded).
  static void execute(Entity& draft, const Command& c);
  static View view(const Entity& e);
};

}  // namespace es
