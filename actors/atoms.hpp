// Message tags of the runtime's protocols (CAF 0.17 atoms: at most 10 characters).
#pragma once

#include <caf/atom.hpp>

namespace es {

using append_atom = caf::atom_constant<caf::atom("append")>;
using create_atom = caf::atom_constant<caf::atom("create")>;
using execute_atom = caf::atom_constant<caf::atom("execute")>;
using get_atom = caf::atom_constant<caf::atom("get")>;
using get_at_atom = caf::atom_constant<caf::atom("getat")>;
using events_atom = caf::atom_constant<caf::atom("events")>;
using snapshot_atom = caf::atom_constant<caf::atom("snapshot")>;
using load_atom = caf::atom_constant<caf::atom("load")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using passivate_atom = caf::atom_constant<caf::atom("passivate")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using publish_atom = caf::atom_constant<caf::atom("publish")>;
using log_atom = caf::atom_constant<caf::atom("log")>;
using health_atom = caf::atom_constant<caf::atom("health")>;
using ok_atom = caf::atom_constant<caf::atom("ok")>;

}  // namespace es
