// Why: see redis_command_key.hpp.
#include "persistence/redis_command_key.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

namespace es {
namespace {

std::string_view arg(const RedisArgs& args, std::size_t i) {
  return std::string_view(args.argv()[i], args.lengths()[i]);
}

bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

}  // namespace

CommandScope command_scope(const RedisArgs& args) {
  if (args.size() == 0) return CommandScope::any_master;
  const auto name = arg(args, 0);
  if (same(name, "SCRIPT")) {
    return args.size() > 1 && (same(arg(args, 1), "LOAD") || same(arg(args, 1), "FLUSH"))
               ? CommandScope::every_master
               : CommandScope::any_master;
  }
  return routing_key(args) ? CommandScope::keyed : CommandScope::any_master;
}

std::optional<std::string_view> routing_key(const RedisArgs& args) {
  if (args.size() < 2) return std::nullopt;
  const auto name = arg(args, 0);
  for (std::string_view keyless : {"PING", "INFO", "CLUSTER", "SCRIPT", "WAIT", "ASKING", "AUTH",
                                   "SELECT", "SCAN", "DBSIZE", "FLUSHALL", "FLUSHDB", "CONFIG",
                                   "CLIENT", "COMMAND", "TIME", "ECHO", "READONLY", "MEMORY"}) {
    if (same(name, keyless)) return std::nullopt;
  }
  if (same(name, "EVAL") || same(name, "EVALSHA") || same(name, "EVAL_RO") ||
      same(name, "EVALSHA_RO") || same(name, "FCALL")) {
    if (args.size() < 4) return std::nullopt;
    int keys = 0;
    const auto n = arg(args, 2);
    std::from_chars(n.data(), n.data() + n.size(), keys);
    if (keys < 1) return std::nullopt;
    return arg(args, 3);
  }
  if (same(name, "XREAD") || same(name, "XREADGROUP")) {
    for (std::size_t i = 1; i + 1 < args.size(); ++i) {
      if (same(arg(args, i), "STREAMS")) return arg(args, i + 1);
    }
    return std::nullopt;
  }
  if (same(name, "XINFO") || same(name, "XGROUP") || same(name, "OBJECT")) {
    if (args.size() < 3) return std::nullopt;
    return arg(args, 2);
  }
  return arg(args, 1);
}

}  // namespace es
