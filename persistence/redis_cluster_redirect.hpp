// Why: a Redis Cluster node answers a command for a slot it does not serve with a redirect
// (MOVED: the slot lives elsewhere now; ASK: this one command goes to the importing node
// during a migration), or with TRYAGAIN (a multi-key command while its keys are split by a
// migration). Parsing these error replies is all the client needs to follow them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace es {

struct RedisRedirect {
  enum class Kind { moved, ask };
  Kind kind = Kind::moved;
  int slot = 0;
  std::string address;  // "host:port"
};

// "MOVED 3999 127.0.0.1:6381" / "ASK 3999 127.0.0.1:6381" -> the redirect; nothing otherwise.
std::optional<RedisRedirect> parse_redirect(std::string_view error);

// TRYAGAIN: resend after a short pause.
bool is_tryagain(std::string_view error);
// The slot map the client holds is no longer right: CLUSTERDOWN, a demoted master
// (READONLY / MASTERDOWN) or a connection that failed.
bool means_map_changed(std::string_view error);

}  // namespace es
