// Why: every node must agree, without talking, on which node hosts an entity, and a change
// of membership should move as few entities as possible. Rendezvous (highest-random-weight)
// hashing does both: each (node, entity) pair gets a pseudo-random weight and the entity goes
// to the live node with the highest one, so when a node leaves only its own entities move
// (spread evenly over the survivors), and when it comes back exactly those move back.
//
// The weight is normative (docs/CLUSTER.md), so that outside tools and tests can compute the
// placement themselves: the first 8 bytes, read as a big-endian unsigned integer, of
// SHA-256(node_id + "/" + entity_id), with entity_id the lowercase hyphenated UUID. Ties
// (never seen in practice) go to the smaller node id.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace es {

std::uint64_t placement_weight(std::string_view node_id, std::string_view entity_id);

// The owner of `entity_id` among `live` (not empty; order does not matter).
const std::string& placement_owner(const std::vector<std::string>& live,
                                   std::string_view entity_id);

// One node's view: its own id and the live nodes (sorted, unique, itself included).
class Placement {
 public:
  Placement() = default;
  Placement(std::string self, std::vector<std::string> live);

  const std::string& self() const { return self_; }
  const std::vector<std::string>& live() const { return live_; }
  bool alone() const { return live_.size() <= 1; }
  // The node hosting `entity_id` (lowercase UUID text); `self()` when alone.
  const std::string& owner(std::string_view entity_id) const;
  bool owns(std::string_view entity_id) const { return alone() || owner(entity_id) == self_; }

 private:
  std::string self_;
  std::vector<std::string> live_;
};

}  // namespace es
