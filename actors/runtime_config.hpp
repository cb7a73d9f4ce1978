// The CAF configuration of the runtime: registers every message type of the framework's
// protocols, and of each hosted entity type added with add_binding<B>(), so they can cross
// nodes, and loads the I/O middleman for multi-node deployments.
#pragma once

#include "actors/entity_protocol.hpp"

#include <caf/actor_system_config.hpp>

#include <string>

namespace es {

// Registers the framework's message types on any configuration (for programs with their own).
void register_message_types(caf::actor_system_config& cfg);

// Registers entity type B's command, view and actor handles under names taken from its
// topic, so they can cross nodes. Local-only runtimes need no registration.
template <class B>
void add_binding_types(caf::actor_system_config& cfg) {
  const std::string name(B::topic);
  cfg.add_message_type<command_t<B>>(name + ".Command")
      .template add_message_type<view_t<B>>(name + ".View")
      .template add_message_type<entity_actor<B>>(name + ".entity_actor")
      .template add_message_type<repository_actor<B>>(name + ".repository_actor");
}

class RuntimeConfig : public caf::actor_system_config {
 public:
  // threads: scheduler worker threads; 0 is one per core (CAF's own default is at least 4).
  explicit RuntimeConfig(std::size_t threads = 0, bool load_middleman = false);

  // Registers entity type B's messages (see add_binding_types).
  template <class B>
  RuntimeConfig& add_binding() {
    add_binding_types<B>(*this);
    return *this;
  }
};

}  // namespace es
