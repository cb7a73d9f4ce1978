// Typed events on top of the generic Event. An event type is a plain struct with
//   static constexpr std::string_view topic = "...";     // stable, never changes
//   static constexpr int schema_version = 2;              // optional, default 1
// and its fields, converted as event_codec.hpp says (to_data/from_data, or described).
// EventTypes<A, B, C> registers a set of them and dispatches a stored Event to the
// matching struct, so an entity's mutator is a set of overloads.
#pragma once

#include "domain/errors.hpp"
#include "domain/event.hpp"
#include "domain/event_codec.hpp"
#include "domain/event_registry.hpp"

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <type_traits>

namespace es {

template <class... Ts>
struct EventTypes {
  // Registers every topic, its schema version and a validator that decodes the fields.
  static void register_all(EventRegistry& registry = EventRegistry::global()) {
    (registry.register_topic(
         std::string(Ts::topic), schema_version_of<Ts>::value,
         [](const boost::json::object& data) { (void)event_from_data<Ts>(data); }),
     ...);
  }

  static bool contains(std::string_view topic) { return ((topic == Ts::topic) || ...); }

  // Calls `visit(T)` with the decoded struct of the event's type. Throws
  // TopicResolutionError when the topic is none of Ts.
  template <class Visitor>
  static void dispatch(const Event& event, Visitor&& visit) {
    bool found =
        ((event.topic() == Ts::topic ? (visit(event_from_data<Ts>(event.data())), true) : false) ||
         ...);
    if (!found) throw TopicResolutionError("no mutator for event topic: " + event.topic());
  }
};

// Field access for from_data(): each throws RecordDecodingError naming the field.
const boost::json::value& require_field(const boost::json::object& data, std::string_view name);
const boost::json::string& require_string(const boost::json::object& data, std::string_view name);
std::int64_t require_int64(const boost::json::object& data, std::string_view name);

}  // namespace es
