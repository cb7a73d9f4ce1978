#include "actors/runtime_config.hpp"

#include "actors/cluster_protocol.hpp"
#include "actors/error_code.hpp"

#include <caf/io/middleman.hpp>

#include <algorithm>
#include <thread>

namespace es {

void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<EventView>("es.EventView")
      .add_message_type<std::vector<EventView>>("std::vector<es.EventView>")
      .add_message_type<EventPage>("es.EventPage")
      .add_message_type<SnapshotTaken>("es.SnapshotTaken")
      .add_message_type<RepositoryStats>("es.RepositoryStats")
      // Multi-node deployments (cluster_protocol.hpp).
      .add_message_type<ClusterJoin>("es.ClusterJoin")
      .add_message_type<ClusterWelcome>("es.ClusterWelcome")
      .add_message_type<ClusterView>("es.ClusterView");
  cfg.add_error_category(
      caf::atom("es"),
      [](std::uint8_t code, caf::atom_value, const caf::message& context) -> std::string {
        std::string out = to_string(static_cast<ErrorCode>(code));
        if (context.match_elements<std::string>()) out += ": " + context.get_as<std::string>(0);
        return out;
      });
}

RuntimeConfig::RuntimeConfig(std::size_t threads, bool load_middleman) {
  register_message_types(*this);
  // CAF 0.17's own default is at least 4 workers. With fewer cores its idle workers spin and
  // yield in work stealing, slowing the busy ones: stopping 100,000 live actors took 3 - 5.5 s
  // with 4 workers on 2 cores against 0.9 s with 2 (docs/BENCHMARKS.md).
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  set("scheduler.max-threads", threads);
  if (load_middleman) load<caf::io::middleman>();
  // The runtime prints nothing on its own; programs report what matters.
  set("logger.console", caf::atom("none"));
}

}  // namespace es
