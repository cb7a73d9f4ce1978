// Why: see route_requests.hpp.
#include "samples/http/route_requests.hpp"

#include "domain/uuid.hpp"
#include "samples/http/request_parsing.hpp"

#include <boost/beast/http/field.hpp>

#include <iterator>

namespace es::http {

std::string parse_entity_id(std::string_view text) {
  auto id = parse_uuid(text);
  if (!id) throw BadRequest("the entity id must be a UUID (8-4-4-4-12 hex digits)");
  return to_string(*id);
}

std::int64_t parse_expected_version(const Request& request) {
  const auto range = request.equal_range(boost::beast::http::field::if_match);
  if (range.first == range.second) return -1;
  std::optional<std::int64_t> version;
  if (std::next(range.first) == range.second) version = parse_if_match(range.first->value());
  if (!version) throw BadRequest("If-Match must be one quoted version, e.g. \"3\"");
  return *version;
}

std::optional<std::int64_t> parse_at_query(std::string_view text) {
  auto query = parse_query(text);
  if (!query) throw BadRequest("malformed percent-encoding in the query");
  std::optional<std::int64_t> at;
  for (const auto& [name, value] : *query) {
    if (name != "at") continue;
    if (at) throw BadRequest("at is given more than once");
    at = parse_decimal_version(value);
    if (!at) {
      throw BadRequest(
          "at must be a decimal integer from 0 to 9223372036854775807 without sign or "
          "leading zeros");
    }
  }
  return at;
}

EventsQuery parse_events_query(std::string_view text, std::int64_t max_limit) {
  auto query = parse_query(text);
  if (!query) throw BadRequest("malformed percent-encoding in the query");
  EventsQuery out;
  out.limit = max_limit;
  bool after_seen = false;
  bool limit_seen = false;
  for (const auto& [name, value] : *query) {
    if (name == "after") {
      if (after_seen) throw BadRequest("after is given more than once");
      after_seen = true;
      auto after = parse_decimal_version(value);
      if (!after) {
        throw BadRequest(
            "after must be a decimal integer from 0 to 9223372036854775807 without sign or "
            "leading zeros");
      }
      out.after = *after;
    } else if (name == "limit") {
      if (limit_seen) throw BadRequest("limit is given more than once");
      limit_seen = true;
      auto limit = parse_decimal_version(value);
      if (!limit || *limit < 1 || *limit > max_limit) {
        throw BadRequest("limit must be a decimal integer from 1 to " + std::to_string(max_limit) +
                         " without sign or leading zeros");
      }
      out.limit = *limit;
    }
  }
  return out;
}

NotificationsQuery parse_notifications_query(std::string_view text) {
  auto query = parse_query(text);
  if (!query) throw BadRequest("the query string is not valid");
  std::optional<std::int64_t> partition, start, limit;
  for (const auto& [key, value] : *query) {
    auto number = parse_decimal_version(value);
    if (key == "partition") {
      if (partition) throw BadRequest("partition is given twice");
      if (!number) throw BadRequest("partition must be a decimal integer");
      partition = number;
    } else if (key == "start") {
      if (start) throw BadRequest("start is given twice");
      if (!number || *number < 1) throw BadRequest("start must be a decimal integer >= 1");
      start = number;
    } else if (key == "limit") {
      if (limit) throw BadRequest("limit is given twice");
      if (!number || *number < 1 || *number > static_cast<std::int64_t>(kMaxNotificationLimit)) {
        throw BadRequest("limit must be a decimal integer within 1..1000");
      }
      limit = number;
    } else {
      throw BadRequest("unknown query parameter '" + key + "'");
    }
  }
  if (!partition) throw BadRequest("partition is required");
  NotificationsQuery out;
  out.partition = *partition;
  out.start = start.value_or(1);
  out.limit = static_cast<std::size_t>(limit.value_or(kDefaultNotificationLimit));
  return out;
}

std::string parse_foo_query(std::string_view text) {
  auto query = parse_query(text);
  if (!query) throw BadRequest("the query string is not valid");
  std::optional<std::string> foo;
  for (const auto& [key, value] : *query) {
    if (key != "foo") throw BadRequest("unknown query parameter '" + key + "'");
    if (foo) throw BadRequest("foo is given twice");
    foo = value;
  }
  if (!foo) throw BadRequest("GET /examples needs ?foo=<value>");
  return *foo;
}

}  // namespace es::http
