#include "samples/example/example.hpp"

#include <mutex>

namespace es {

boost::json::object Example::Created::to_data() const {
  return {{"foo", foo}, {"a", a}, {"b", b}};
}

Example::Created Example::Created::from_data(const boost::json::object& data) {
  return {require_field(data, "foo"), require_field(data, "a"), require_field(data, "b")};
}

boost::json::object Example::AttributeChanged::to_data() const {
  return {{"name", name}, {"value", value}};
}

Example::AttributeChanged Example::AttributeChanged::from_data(const boost::json::object& data) {
  const auto& name = require_string(data, "name");
  if (!is_attribute(name)) {
    throw RecordDecodingError("AttributeChanged names an unknown attribute");
  }
  return {std::string(name), require_field(data, "value")};
}

void Example::register_types() {
  static std::once_flag once;
  std::call_once(once, [] { Events::register_all(); });
}

Example Example::create_new(boost::json::value foo, boost::json::value a, boost::json::value b) {
  return create_with_id(new_uuid(), std::move(foo), std::move(a), std::move(b));
}

Example Example::create_with_id(const Uuid& id, boost::json::value foo, boost::json::value a,
                                boost::json::value b) {
  register_types();
  Example example;
  example.record(id, decide_create(std::move(foo), std::move(a), std::move(b)));
  return example;
}

Decision Example::decide_create(boost::json::value foo, boost::json::value a,
                                boost::json::value b) {
  return Decision(Created{std::move(foo), std::move(a), std::move(b)});
}

Decision Example::decide_change(Changes changes) const {
  assert_live();
  if (changes.empty()) throw InvalidInput("no attribute to change");
  Decision decision;
  for (auto& [name, value] : changes) {
    if (!is_attribute(name)) throw InvalidInput("Example has no attribute '" + name + "'");
    decision.persist(AttributeChanged{std::move(name), std::move(value)});
  }
  return decision;
}

Decision Example::decide_beats(int number_of_beats) const {
  assert_live();
  Decision decision;
  for (int i = 0; i < number_of_beats; ++i) decision.persist(Heartbeat{});
  return decision;
}

Decision Example::decide_discard() const {
  assert_live();
  return Decision(Discarded{});
}

Example create_new_example(boost::json::value foo, boost::json::value a, boost::json::value b) {
  return Example::create_new(std::move(foo), std::move(a), std::move(b));
}

bool Example::is_attribute(std::string_view name) {
  return name == "foo" || name == "a" || name == "b";
}

const boost::json::value& Example::attribute(std::string_view name) const {
  if (name == "foo") return foo_;
  if (name == "a") return a_;
  if (name == "b") return b_;
  throw InvalidInput("Example has no attribute '" + std::string(name) + "'");
}

void Example::set_attribute(std::string_view name, boost::json::value value) {
  record(id(), decide_change({{std::string(name), std::move(value)}}));
}

void Example::beat_heart(int number_of_beats) {
  record(id(), decide_beats(number_of_beats));
}

void Example::discard() {
  record(id(), decide_discard());
}

void Example::mutate(const Event& event) {
  Events::dispatch(event, [this](const auto& e) {
    using T = std::decay_t<decltype(e)>;
    if constexpr (std::is_same_v<T, Created>) {
      foo_ = e.foo;
      a_ = e.a;
      b_ = e.b;
    } else if constexpr (std::is_same_v<T, AttributeChanged>) {
      if (e.name == "foo")
        foo_ = e.value;
      else if (e.name == "a")
        a_ = e.value;
      else
        b_ = e.value;
    } else if constexpr (std::is_same_v<T, Heartbeat>) {
      ++heartbeats_;
    } else {
      mark_discarded();
    }
  });
}

void Example::save_state(boost::json::object& state) const {
  state["foo"] = foo_;
  state["a"] = a_;
  state["b"] = b_;
  state["heartbeats"] = heartbeats_;
}

void Example::load_state(const boost::json::object& state) {
  foo_ = require_field(state, "foo");
  a_ = require_field(state, "a");
  b_ = require_field(state, "b");
  heartbeats_ = require_int64(state, "heartbeats");
}

}  // namespace es
