#include "samples/example/example_binding.hpp"

#include "domain/canonical_json.hpp"

namespace es {

Decision ExampleBinding::decide(const Example&, const CreateExample& c) {
  return Example::decide_create(c.foo.value, c.a.value, c.b.value);
}

Decision ExampleBinding::decide(const Example& e, const ChangeAttributes& c) {
  Example::Changes changes;
  changes.reserve(c.changes.size());
  for (const auto& change : c.changes) changes.emplace_back(change.name, change.value.value);
  return e.decide_change(std::move(changes));
}

Decision ExampleBinding::decide(const Example& e, const BeatHeart& c) {
  if (c.count < 1 || c.count > 10000) throw InvalidInput("count must be within 1..10000");
  return e.decide_beats(c.count);
}

ExampleView ExampleBinding::view(const Example& e) {
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
