// Why: what each route reads from a request besides its body (the entity id of the path,
// If-Match, the queries of GET /examples/<id>, /events, /notifications and /examples?foo=)
// has exact rules and error texts in HTTP_API.md. Pure functions here, apart from the
// handlers that go on to actors and stores, so that the rules are tested and fuzzed
// (tests/fuzz/http_request_fuzz.cpp) without a server. Every violation throws BadRequest,
// whose text becomes the 400 answer.
#pragma once

#include "samples/http/example_bodies.hpp"
#include "samples/http/router.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace es::http {

// The lowercase id of an entity path parameter (a UUID in any case).
std::string parse_entity_id(std::string_view text);

// The version of the request's one If-Match header, -1 when there is none.
std::int64_t parse_expected_version(const Request& request);

// GET /examples/<id>?at=V: the version asked for, nothing for the current one. Other
// parameters are ignored.
std::optional<std::int64_t> parse_at_query(std::string_view query);

// GET /examples/<id>/events?after=V&limit=L. Other parameters are ignored.
struct EventsQuery {
  std::int64_t after = -1;  // -1: from the first event
  std::int64_t limit = 0;   // 0: the largest page
};
EventsQuery parse_events_query(std::string_view query, std::int64_t max_limit);

// GET /notifications?partition=P[&start=S][&limit=L]. The partition is checked against the
// store's count by the caller.
inline constexpr std::size_t kMaxNotificationLimit = 1000;
inline constexpr std::size_t kDefaultNotificationLimit = 20;
struct NotificationsQuery {
  std::int64_t partition = 0;
  std::int64_t start = 1;
  std::size_t limit = kDefaultNotificationLimit;
};
NotificationsQuery parse_notifications_query(std::string_view query);

// GET /examples?foo=<value>: the value.
std::string parse_foo_query(std::string_view query);

}  // namespace es::http
