// Why: a Redis Cluster client sends each command to the master of its key's slot, so it must
// know where a command names its key; the commands the stores use are few and listed here.
#pragma once

#include "persistence/redis_protocol.hpp"

#include <optional>
#include <string_view>

namespace es {

enum class CommandScope {
  keyed,         // routed by routing_key()
  any_master,    // keyless (INFO, PING, CLUSTER ...): any master answers
  every_master,  // SCRIPT LOAD / FLUSH: must reach every master
};

CommandScope command_scope(const RedisArgs& args);

// The key whose slot decides where `args` goes (the first key; a multi-key command must keep
// its keys in one slot); nothing for keyless commands.
std::optional<std::string_view> routing_key(const RedisArgs& args);

}  // namespace es
