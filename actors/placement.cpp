// Why: see placement.hpp.
#include "actors/placement.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <stdexcept>

namespace es {

std::uint64_t placement_weight(std::string_view node_id, std::string_view entity_id) {
  std::string input;
  input.reserve(node_id.size() + 1 + entity_id.size());
  input.append(node_id).push_back('/');
  input.append(entity_id);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  std::uint64_t weight = 0;
  for (int i = 0; i < 8; ++i) weight = (weight << 8) | digest[i];
  return weight;
}

const std::string& placement_owner(const std::vector<std::string>& live,
                                   std::string_view entity_id) {
  if (live.empty()) throw std::invalid_argument("placement_owner: no live node");
  const std::string* best = &live.front();
  std::uint64_t best_weight = placement_weight(*best, entity_id);
  for (std::size_t i = 1; i < live.size(); ++i) {
    const auto weight = placement_weight(live[i], entity_id);
    if (weight > best_weight || (weight == best_weight && live[i] < *best)) {
      best = &live[i];
      best_weight = weight;
    }
  }
  return *best;
}

Placement::Placement(std::string self, std::vector<std::string> live)
    : self_(std::move(self)), live_(std::move(live)) {
  live_.push_back(self_);
  std::sort(live_.begin(), live_.end());
  live_.erase(std::unique(live_.begin(), live_.end()), live_.end());
}

const std::string& Placement::owner(std::string_view entity_id) const {
  if (alone()) return self_;
  return placement_owner(live_, entity_id);
}

}  // namespace es
