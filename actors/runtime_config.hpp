// The CAF configuration of the runtime: registers every message type of the protocols so
// they can cross nodes, and loads the I/O middleman for multi-node deployments.
#pragma once

#include <caf/actor_system_config.hpp>

namespace es {

class RuntimeConfig : public caf::actor_system_config {
 public:
  // threads: scheduler worker threads; 0 keeps CAF's default (one per core).
  explicit RuntimeConfig(std::size_t threads = 0, bool load_middleman = false);
};

// Registers the message types on any configuration (for programs with their own).
void register_message_types(caf::actor_system_config& cfg);

}  // namespace es
