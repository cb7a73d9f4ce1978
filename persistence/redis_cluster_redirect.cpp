// Why: see redis_cluster_redirect.hpp.
#include "persistence/redis_cluster_redirect.hpp"

#include <charconv>

namespace es {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::optional<RedisRedirect> parse_redirect(std::string_view error) {
  RedisRedirect redirect;
  if (starts_with(error, "MOVED ")) {
    redirect.kind = RedisRedirect::Kind::moved;
    error.remove_prefix(6);
  } else if (starts_with(error, "ASK ")) {
    redirect.kind = RedisRedirect::Kind::ask;
    error.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  const auto space = error.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  auto slot_text = error.substr(0, space);
  auto [end, ec] =
      std::from_chars(slot_text.data(), slot_text.data() + slot_text.size(), redirect.slot);
  if (ec != std::errc() || end != slot_text.data() + slot_text.size()) return std::nullopt;
  redirect.address = std::string(error.substr(space + 1));
  if (redirect.address.find(':') == std::string::npos) return std::nullopt;
  return redirect;
}

bool is_tryagain(std::string_view error) {
  return starts_with(error, "TRYAGAIN");
}

bool means_map_changed(std::string_view error) {
  return starts_with(error, "CLUSTERDOWN") || starts_with(error, "READONLY") ||
         starts_with(error, "MASTERDOWN");
}

}  // namespace es
