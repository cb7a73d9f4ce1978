// The reference's Example entity: attributes foo, a and b (any JSON value, default ""),
// a heartbeat counter, and the events Created, AttributeChanged, Heartbeat, Discarded.
#pragma once

#include "domain/entity.hpp"

#include <boost/json/value.hpp>

#include <string>
#include <utility>
#include <vector>

namespace es {

class Example final : public Entity {
 public:
  static constexpr std::string_view type_topic_name = "example.Example";

  struct Created {
    static constexpr std::string_view topic = "example.Example.Created";
    boost::json::value foo = "", a = "", b = "";
    boost::json::object to_data() const;
    static Created from_data(const boost::json::object& data);
  };
  struct AttributeChanged {
    static constexpr std::string_view topic = "example.Example.AttributeChanged";
    std::string name;  // "foo", "a" or "b"
    boost::json::value value;
    boost::json::object to_data() const;
    static AttributeChanged from_data(const boost::json::object& data);
  };
  struct Heartbeat {
    static constexpr std::string_view topic = "example.Example.Heartbeat";
    boost::json::object to_data() const { return {}; }
    static Heartbeat from_data(const boost::json::object&) { return {}; }
  };
  struct Discarded {
    static constexpr std::string_view topic = "example.Example.Discarded";
    boost::json::object to_data() const { return {}; }
    static Discarded from_data(const boost::json::object&) { return {}; }
  };
  using Events = EventTypes<Created, AttributeChanged, Heartbeat, Discarded>;

  // Registers the four topics in the global registry; idempotent, cheap after the first call.
  static void register_types();

  // A new Example (one pending Created event), with a fresh random id.
  static Example create_new(boost::json::value foo = "", boost::json::value a = "",
                            boost::json::value b = "");

  // The same, with a given id (e.g. chosen by a repository before the entity exists).
  static Example create_with_id(const Uuid& id, boost::json::value foo = "",
                                boost::json::value a = "", boost::json::value b = "");

  std::string_view type_topic() const override { return type_topic_name; }

  const boost::json::value& foo() const { return foo_; }
  const boost::json::value& a() const { return a_; }
  const boost::json::value& b() const { return b_; }
  // The attribute named "foo", "a" or "b"; InvalidInput for any other name.
  const boost::json::value& attribute(std::string_view name) const;
  static bool is_attribute(std::string_view name);

  // What a command decides (the actors' path: nothing changes until the store confirmed
  // the events). Each throws InvalidInput for a bad argument.
  using Changes = std::vector<std::pair<std::string, boost::json::value>>;
  static Decision decide_create(boost::json::value foo, boost::json::value a, boost::json::value b);
  // One AttributeChanged per change, in the order given; at least one.
  Decision decide_change(Changes changes) const;
  Decision decide_beats(int number_of_beats) const;
  Decision decide_discard() const;

  // The reference's synchronous API: decide, then record (apply and keep pending).
  // One AttributeChanged event each.
  void set_foo(boost::json::value v) { set_attribute("foo", std::move(v)); }
  void set_a(boost::json::value v) { set_attribute("a", std::move(v)); }
  void set_b(boost::json::value v) { set_attribute("b", std::move(v)); }
  void set_attribute(std::string_view name, boost::json::value value);

  // `number_of_beats` Heartbeat events; refused when discarded.
  void beat_heart(int number_of_beats = 1);
  std::int64_t count_heartbeats() const { return heartbeats_; }

  void discard();

 protected:
  void mutate(const Event& event) override;
  void save_state(boost::json::object& state) const override;
  void load_state(const boost::json::object& state) override;

 private:
  boost::json::value foo_ = "", a_ = "", b_ = "";
  std::int64_t heartbeats_ = 0;
};

// The reference's factory function.
Example create_new_example(boost::json::value foo = "", boost::json::value a = "",
                           boost::json::value b = "");

}  // namespace es
