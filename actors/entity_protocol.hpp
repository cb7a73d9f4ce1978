// The typed interfaces of an entity type's actors, for any binding (entity_binding.hpp): the
// entity actor, one per live id, and the repository that supervises them. Ids travel as
// lowercase UUID text.
#pragma once

#include "actors/atoms.hpp"
#include "actors/entity_binding.hpp"
#include "actors/messages.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace es {

using locate_atom = caf::atom_constant<caf::atom("locate")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
// Multi-node deployments (docs/CLUSTER.md): reload from the store, hand an entity over,
// learn the placement, and the repository's eviction timer.
using reload_atom = caf::atom_constant<caf::atom("reload")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using place_atom = caf::atom_constant<caf::atom("place")>;
using evict_atom = caf::atom_constant<caf::atom("evict")>;

template <class Binding>
using entity_actor = caf::typed_actor<
    // Runs a command; answers the new state once the store confirmed its events.
    typename caf::replies_to<execute_atom, command_t<Binding>>::template with<view_t<Binding>>,
    // The current state (not_found when unknown or discarded).
    typename caf::replies_to<get_atom>::template with<view_t<Binding>>,
    // The state as of a version (not_found when nothing is at or below it).
    typename caf::replies_to<get_at_atom, std::int64_t>::template with<view_t<Binding>>,
    // A page of the stored events, decoded: versions after `after` (-1: from the first), at
    // most `limit` (1..kMaxEventPage); not_found when the entity has none (discarded ones
    // have theirs).
    typename caf::replies_to<events_atom, std::int64_t, std::int64_t>::template with<EventPage>,
    // Takes a snapshot at the current version.
    typename caf::replies_to<snapshot_atom>::template with<SnapshotTaken>,
    // Passivation: finish what is queued, then stop.
    caf::reacts_to<stop_atom>,
    // Rebuild from the store before the next message (another node may have written).
    caf::reacts_to<reload_atom>>;

template <class Binding>
using repository_actor = caf::typed_actor<
    typename caf::replies_to<create_atom, command_t<Binding>>::template with<view_t<Binding>>,
    typename caf::replies_to<execute_atom, std::string,
                             command_t<Binding>>::template with<view_t<Binding>>,
    typename caf::replies_to<get_atom, std::string>::template with<view_t<Binding>>,
    typename caf::replies_to<get_at_atom, std::string,
                             std::int64_t>::template with<view_t<Binding>>,
    typename caf::replies_to<events_atom, std::string, std::int64_t,
                             std::int64_t>::template with<EventPage>,
    typename caf::replies_to<snapshot_atom, std::string>::template with<SnapshotTaken>,
    typename caf::replies_to<stats_atom>::template with<RepositoryStats>,
    // The entity actor hosting an id (spawning it if needed); for tests and tools.
    typename caf::replies_to<locate_atom, std::string>::template with<entity_actor<Binding>>,
    // From an entity actor with nothing worth keeping (an unknown id, an unreachable
    // store): it may be stopped if nothing is in flight to it.
    caf::reacts_to<passivate_atom, std::string>,
    // The supervisor's own timer: passivates children idle for passivate_after.
    caf::reacts_to<sweep_atom>,
    // Multi-node deployments (docs/CLUSTER.md). Creates the entity with the given id (a
    // fresh UUID the cluster router chose so that it lands on its owner).
    typename caf::replies_to<create_atom, std::string,
                             command_t<Binding>>::template with<view_t<Binding>>,
    // Hand-over: stops the id's actor once nothing is in flight to it; true when one was
    // stopped, false when none was hosted (or it stayed busy past the hand-over timeout).
    typename caf::replies_to<release_atom, std::string>::template with<bool>,
    // The placement: this node's id and the live nodes. Children placed elsewhere are
    // passivated as soon as they are idle, and every child reloads before its next request.
    caf::reacts_to<place_atom, std::string, std::vector<std::string>>,
    // The supervisor's own timer while children wait for eviction or release.
    caf::reacts_to<evict_atom>>;

}  // namespace es
