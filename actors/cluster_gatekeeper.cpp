// Why: see cluster_gatekeeper.hpp.
#include "actors/cluster_gatekeeper.hpp"

#include "actors/cluster_guard.hpp"
#include "actors/error_code.hpp"

#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <map>

namespace es {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kNonceLifetime = std::chrono::seconds(10);
constexpr std::size_t kMaxNonces = 1024;
constexpr auto kLogInterval = std::chrono::seconds(5);

struct GatekeeperState {
  GatekeeperSettings settings;
  std::map<std::string, Clock::time_point> nonces;  // outstanding, single-use
  Clock::time_point last_log{};
  std::size_t refused_since_log = 0;
  static inline const char* name = "cluster-gatekeeper";
};

using gatekeeper_pointer = gatekeeper_actor::stateful_pointer<GatekeeperState>;

caf::error refuse(gatekeeper_pointer self, const ClusterJoin& join, const std::string& why) {
  auto& st = self->state;
  ++st.refused_since_log;
  const auto now = Clock::now();
  if (st.settings.log && now - st.last_log >= kLogInterval) {
    std::string line = "refused a cluster join from '" + printable(join.node_id) + "': " + why;
    if (st.refused_since_log > 1) {
      line += " (" + std::to_string(st.refused_since_log) + " refusals since the last report)";
    }
    st.settings.log(line);
    st.last_log = now;
    st.refused_since_log = 0;
  }
  return make_error(ErrorCode::invalid, "cluster join refused: " + why);
}

gatekeeper_actor::behavior_type gatekeeper(gatekeeper_pointer self, GatekeeperSettings settings) {
  self->state.settings = std::move(settings);
  guard_against_remote_exits(self);
  self->set_down_handler([](caf::down_msg&) {});  // monitors nothing; CAF would print them
  return {
      [=](hello_atom) -> std::string {
        auto& nonces = self->state.nonces;
        const auto now = Clock::now();
        for (auto it = nonces.begin(); it != nonces.end();) {
          it = it->second <= now ? nonces.erase(it) : std::next(it);
        }
        // Bounded: under a flood the oldest outstanding nonce goes first.
        while (nonces.size() >= kMaxNonces) {
          auto oldest = nonces.begin();
          for (auto it = nonces.begin(); it != nonces.end(); ++it) {
            if (it->second < oldest->second) oldest = it;
          }
          nonces.erase(oldest);
        }
        auto nonce = random_nonce();
        nonces.emplace(nonce, now + kNonceLifetime);
        return nonce;
      },
      [=](join_atom, ClusterJoin& join) -> caf::result<ClusterWelcome> {
        auto& st = self->state;
        auto nonce = st.nonces.find(join.server_nonce);
        if (nonce == st.nonces.end() || nonce->second <= Clock::now()) {
          return refuse(self, join, "unknown or expired nonce");
        }
        st.nonces.erase(nonce);
        if (join.protocol != 1) return refuse(self, join, "unsupported protocol version");
        const auto expected = st.settings.secret.join_proof(join.server_nonce, join.client_nonce,
                                                            join.node_id, join.member);
        if (!constant_time_equal(expected, join.proof)) {
          return refuse(self, join, "wrong cluster secret");
        }
        if (!valid_node_id(join.node_id)) return refuse(self, join, "malformed node id");
        if (join.member) {
          if (join.node_id == st.settings.node_id) {
            return refuse(self, join,
                          "a node with this node id is already here (ids must be unique)");
          }
          if (!join.router || !join.repository) return refuse(self, join, "no router given");
          caf::anon_send(st.settings.router, member_atom::value, join.node_id, join.address,
                         join.router, join.repository);
        }
        ClusterWelcome welcome;
        welcome.node_id = st.settings.node_id;
        welcome.proof = st.settings.secret.welcome_proof(join.client_nonce, join.server_nonce,
                                                         st.settings.node_id);
        welcome.router = st.settings.router;
        welcome.repository = st.settings.repository;
        return welcome;
      },
  };
}

}  // namespace

gatekeeper_actor spawn_gatekeeper(caf::actor_system& sys, GatekeeperSettings settings) {
  return sys.spawn(gatekeeper, std::move(settings));
}

}  // namespace es
