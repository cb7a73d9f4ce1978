#include "domain/event_type.hpp"

namespace es {

const boost::json::value& require_field(const boost::json::object& data, std::string_view name) {
  auto it = data.find(name);
  if (it == data.end()) {
    throw RecordDecodingError("event field '" + std::string(name) + "' is missing");
  }
  return it->value();
}

const boost::json::string& require_string(const boost::json::object& data, std::string_view name) {
  const auto& v = require_field(data, name);
  if (!v.is_string()) {
    throw RecordDecodingError("event field '" + std::string(name) + "' is not a string");
  }
  return v.get_string();
}

std::int64_t require_int64(const boost::json::object& data, std::string_view name) {
  const auto& v = require_field(data, name);
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v.get_uint64());
  }
  throw RecordDecodingError("event field '" + std::string(name) + "' is not an integer");
}

}  // namespace es
