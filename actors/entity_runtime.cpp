#include "actors/entity_runtime.hpp"

#include "persistence/partitioning.hpp"

namespace es {

const journal_actor& EntityRuntime::journal_for(const Uuid& id) const {
  return journals[static_cast<std::size_t>(partition_of(id, partitions)) % journals.size()];
}

}  // namespace es
