// An entity type from a plain state struct, in the spirit of Akka's EventSourcedBehavior:
// the definition names its type topic, its state and its events, and says how each event
// changes the state; the base Entity keeps id, version, timestamps and the hash chain.
//
//   struct Counting {
//     static constexpr std::string_view topic = "demo.Counter";
//     struct State { std::int64_t count = 0; };            // described, for snapshots
//     using Events = es::EventTypes<Started, Added>;
//     static void apply(State& s, const Added& e) { s.count += e.amount; }  // one per event
//   };
//   using Counter = es::Aggregate<Counting>;
//
// An event type with `static constexpr bool discards = true;` marks the entity discarded.
// Snapshots hold the base fields and the state (Boost.JSON conversion, so the state struct
// is described with Boost.Describe or has its own tag_invoke conversions) under "state".
#pragma once

#include "domain/entity.hpp"

#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include <type_traits>

namespace es {

template <class T, class = void>
struct discards_entity : std::false_type {};
template <class T>
struct discards_entity<T, std::void_t<decltype(T::discards)>>
    : std::integral_constant<bool, T::discards> {};

template <class Definition>
class Aggregate final : public Entity {
 public:
  using State = typename Definition::State;
  using Events = typename Definition::Events;

  // Registers the event topics in the global registry; idempotent.
  static void register_types() {
    static const bool once = (Events::register_all(), true);
    (void)once;
  }

  const State& state() const { return state_; }
  std::string_view type_topic() const override { return Definition::topic; }

 protected:
  void mutate(const Event& event) override {
    Events::dispatch(event, [this](const auto& payload) {
      using T = std::decay_t<decltype(payload)>;
      if constexpr (discards_entity<T>::value) {
        mark_discarded();
      } else {
        Definition::apply(state_, payload);
      }
    });
  }
  void save_state(boost::json::object& out) const override {
    out["state"] = boost::json::value_from(state_);
  }
  void load_state(const boost::json::object& in) override {
    auto result = boost::json::try_value_to<State>(require_field(in, "state"));
    if (!result) {
      throw RecordDecodingError("snapshot state of '" + std::string(Definition::topic) +
                                "' does not match its type: " + result.error().message());
    }
    state_ = std::move(*result);
  }

 private:
  State state_{};
};

}  // namespace es
