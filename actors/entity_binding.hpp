// How an entity type is hosted as actors: its *binding*, one struct that names
//   static constexpr std::string_view topic = "bank.Account";   // the entity type's topic
//   using Command = es::Commands<Open, Deposit, Close>;          // distinct command types
//   static es::Decision decide(const State& s, const Deposit& c);  // one per command type
// and either (an Aggregate binding, domain/aggregate.hpp)
//   struct State {...};  using Events = es::EventTypes<...>;  static void apply(State&, const E&);
// or (a hand-written Entity subclass, default-constructible, with `using Events = ...` and a
// static register_types())
//   using Entity = MyEntity;  // decide then takes `const MyEntity&`
// and optionally
//   using View = ...;  static View view(const Entity&);  // default: EntityView<State>
//
// decide() reads the current state and returns the events to persist, or throws a domain
// error (InvalidInput, EntityIsDiscarded, ...); it never mutates anything. The events are
// applied, by the event handler, only after the store confirmed them.
//
// A command type that creates its entity says `static constexpr bool creates = true;` (it is
// sent with create, the others with execute). A command with a member
// `std::int64_t expected_version` (-1: none) is refused with precondition_failed when the
// entity is at another version (HTTP If-Match).
//
// Messages cross nodes, so commands, views and states need a CAF inspect(): ES_FIELDS below
// writes it, and the Boost.Describe description JSON conversion uses, in one line.
#pragma once

#include "domain/aggregate.hpp"

#include <boost/describe/class.hpp>
#include <boost/mp11/algorithm.hpp>

#include <caf/actor_system_config.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/sum_type.hpp>
#include <caf/variant.hpp>

#include <cstdint>
#include <string>
#include <type_traits>

namespace es {

template <class... Cs>
using Commands = caf::variant<Cs...>;

// CAF inspect() for a described struct: every public member, in declaration order. The
// member list is Boost.Describe's own list template, not an mp_list: match any list.
template <class Inspector, class T, template <class...> class L, class... Ds>
typename Inspector::result_type inspect_members(Inspector& f, T& x, L<Ds...>) {
  return f((x.*Ds::pointer)...);
}
template <class Inspector, class T>
typename Inspector::result_type inspect_described(Inspector& f, T& x) {
  return inspect_members(f, x, boost::describe::describe_members<T, boost::describe::mod_public>{});
}

}  // namespace es

// Describes a struct's fields once for JSON (events, snapshots) and CAF (messages):
//   struct Deposit { std::int64_t amount = 0; };  ES_FIELDS(Deposit, amount)
// Use at namespace scope, in the struct's namespace.
#define ES_FIELDS(Type, ...)                                       \
  BOOST_DESCRIBE_STRUCT(Type, (), (__VA_ARGS__))                   \
  template <class Inspector>                                       \
  typename Inspector::result_type inspect(Inspector& f, Type& x) { \
    return ::es::inspect_described(f, x);                          \
  }

namespace es {

// The default view of an entity: its base fields and its state.
template <class State>
struct EntityView {
  std::string id;
  std::int64_t version = -1;
  std::int64_t created_on = 0;
  std::int64_t last_modified = 0;
  std::string head;
  bool discarded = false;
  State state{};
};

template <class Inspector, class State>
typename Inspector::result_type inspect(Inspector& f, EntityView<State>& x) {
  return f(caf::meta::type_name("es.EntityView"), x.id, x.version, x.created_on, x.last_modified,
           x.head, x.discarded, x.state);
}

namespace binding {

template <class B, class = void>
struct entity_of {
  using type = Aggregate<B>;
};
template <class B>
struct entity_of<B, std::void_t<typename B::Entity>> {
  using type = typename B::Entity;
};

template <class B, class = void>
struct is_aggregate : std::false_type {};
template <class B>
struct is_aggregate<B, std::void_t<typename B::State>> : std::true_type {};

template <class B, class = void>
struct view_of {
  using type = EntityView<typename B::State>;
};
template <class B>
struct view_of<B, std::void_t<typename B::View>> {
  using type = typename B::View;
};

template <class C, class = void>
struct creates : std::false_type {};
template <class C>
struct creates<C, std::void_t<decltype(C::creates)>> : std::integral_constant<bool, C::creates> {};

template <class C, class = void>
struct has_expected_version : std::false_type {};
template <class C>
struct has_expected_version<C, std::void_t<decltype(std::declval<const C&>().expected_version)>>
    : std::true_type {};

template <class C, class Variant>
struct is_command_of : std::false_type {};
template <class C, class... Cs>
struct is_command_of<C, caf::variant<Cs...>> : std::disjunction<std::is_same<C, Cs>...> {};

}  // namespace binding

// The types the runtime derives from a binding.
template <class B>
using entity_t = typename binding::entity_of<B>::type;
template <class B>
using view_t = typename binding::view_of<B>::type;
template <class B>
using command_t = typename B::Command;

// True when the command creates its entity.
template <class Command>
bool creates_entity(const Command& command) {
  return caf::visit(
      [](const auto& c) { return binding::creates<std::decay_t<decltype(c)>>::value; }, command);
}

// The command's expected version (If-Match), -1 when it has none.
template <class Command>
std::int64_t expected_version_of(const Command& command) {
  return caf::visit(
      [](const auto& c) -> std::int64_t {
        if constexpr (binding::has_expected_version<std::decay_t<decltype(c)>>::value) {
          return c.expected_version;
        } else {
          return -1;
        }
      },
      command);
}

// Runs the binding's command handler for whichever command this is.
template <class B>
Decision decide(const entity_t<B>& entity, const command_t<B>& command) {
  return caf::visit(
      [&](const auto& c) -> Decision {
        if constexpr (binding::is_aggregate<B>::value) {
          return B::decide(entity.state(), c);
        } else {
          return B::decide(entity, c);
        }
      },
      command);
}

template <class B, class = void>
struct has_view_function : std::false_type {};
template <class B>
struct has_view_function<B, std::void_t<decltype(B::view(std::declval<const entity_t<B>&>()))>>
    : std::true_type {};

template <class B>
view_t<B> view_of(const entity_t<B>& e) {
  if constexpr (has_view_function<B>::value) {
    return B::view(e);
  } else {
    view_t<B> v;
    v.id = to_string(e.id());
    v.version = e.version();
    v.created_on = e.created_on();
    v.last_modified = e.last_modified();
    v.head = e.head();
    v.discarded = e.is_discarded();
    v.state = e.state();
    return v;
  }
}

// Registers the binding's event topics (once).
template <class B>
void register_event_types() {
  entity_t<B>::register_types();
}

}  // namespace es
