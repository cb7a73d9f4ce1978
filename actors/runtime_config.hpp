// The CAF actor-system configuration of the runtime: registers every message type the
// actors exchange, so the same protocol works across nodes.
#pragma once

#include <caf/actor_system_config.hpp>

namespace es {

class RuntimeConfig : public caf::actor_system_config {
 public:
  RuntimeConfig();
};

}  // namespace es
