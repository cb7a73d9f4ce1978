// The Example entity hosted as actors: its commands (distinct types, values already parsed),
// the view callers see (the HTTP representation), and the binding that tells the generic
// entity actor how to decide (entity_binding.hpp).
#pragma once

#include "actors/entity_protocol.hpp"
#include "actors/json_message.hpp"
#include "samples/example/example.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace es {

// One attribute to set: its name ("foo", "a" or "b") and the new value.
struct AttributeChange {
  std::string name;
  Json value;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, AttributeChange& x) {
  return f(caf::meta::type_name("es.AttributeChange"), x.name, x.value);
}

// Creates an Example; missing attributes are "".
struct CreateExample {
  static constexpr bool creates = true;
  Json foo, a, b;
};
// Sets attributes, one AttributeChanged each, in the order given.
struct ChangeAttributes {
  std::vector<AttributeChange> changes;
  std::int64_t expected_version = -1;  // If-Match; -1: none
};
struct BeatHeart {
  std::int32_t count = 1;  // 1..10000
  std::int64_t expected_version = -1;
};
struct DiscardExample {
  std::int64_t expected_version = -1;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, CreateExample& x) {
  return f(caf::meta::type_name("es.CreateExample"), x.foo, x.a, x.b);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ChangeAttributes& x) {
  return f(caf::meta::type_name("es.ChangeAttributes"), x.changes, x.expected_version);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, BeatHeart& x) {
  return f(caf::meta::type_name("es.BeatHeart"), x.count, x.expected_version);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, DiscardExample& x) {
  return f(caf::meta::type_name("es.DiscardExample"), x.expected_version);
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

struct ExampleBinding {
  static constexpr std::string_view topic = Example::type_topic_name;
  using Entity = Example;
  using Command = Commands<CreateExample, ChangeAttributes, BeatHeart, DiscardExample>;
  using View = ExampleView;

  static Decision decide(const Example&, const CreateExample& c);
  static Decision decide(const Example& e, const ChangeAttributes& c);
  static Decision decide(const Example& e, const BeatHeart& c);
  static Decision decide(const Example& e, const DiscardExample&) { return e.decide_discard(); }
  static View view(const Example& e);
};

using example_actor = entity_actor<ExampleBinding>;
using example_repository_actor = repository_actor<ExampleBinding>;

}  // namespace es
