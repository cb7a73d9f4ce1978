// Fuzzes the HTTP request parsing of example-server: raw bytes (one or more pipelined
// requests) through Beast's parser with the server's limits, the target split into path
// and query, the route table (404, 405 + Allow, 400 for a bad path escape), and each route's
// rules for its path parameter, If-Match, query and body (samples/http/route_requests.hpp,
// example_bodies.hpp). The handlers stop where the server would go on to actors and stores.
// Invariants: nothing throws out of the parsing (a BadRequest becomes 400); every answer
// is 200, 400, 404 or 405, and an error's body is valid JSON {"error": "<text>"} even when it
// quotes invalid UTF-8; parsed values obey their documented ranges.
#include "actors/messages.hpp"
#include "domain/canonical_json.hpp"
#include "domain/json_parse.hpp"
#include "domain/uuid.hpp"
#include "samples/http/example_bodies.hpp"
#include "samples/http/representation.hpp"
#include "samples/http/route_requests.hpp"
#include "samples/http/router.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <boost/beast/http/parser.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace bhttp = boost::beast::http;
using namespace es::http;

namespace {

// As ServerOptions' defaults.
constexpr std::size_t kBodyLimit = std::size_t{1} << 20;
constexpr std::uint32_t kHeaderLimit = 16 * 1024;
constexpr int kMaxPipelined = 8;

void check_entity_id(const std::string& id) {
  FUZZ_CHECK(id.size() == 36, "an entity id that is not 36 characters");
  FUZZ_CHECK(es::parse_uuid(id) && es::to_string(*es::parse_uuid(id)) == id,
             "an entity id that is not in its lowercase form");
}

void check_value(const es::Json& value) {
  try {
    (void)es::canonical_json(value.value);
  } catch (const std::exception& e) {
    FUZZ_UNEXPECTED("canonical_json of a body value", e.what());
  }
}

// Answers 200 after `parse` ran, or 400 with the BadRequest's text.
template <class F>
Handler route(F parse) {
  return [parse](const ExchangePtr& exchange, const Responder& respond) {
    try {
      parse(*exchange);
    } catch (const BadRequest& e) {
      return respond(error_response(400, e.what()));
    }
    respond(json_response(200, "{}"));
  };
}

// The route table of example-server (ExampleApi, ReadModelApi, ClusterApi), each route
// doing the parsing its handler does before it calls an actor or a store.
const Router& routes() {
  static const Router router = [] {
    Router r;
    auto none = route([](const Exchange&) {});
    r.add(Verb::get, "/", none);
    r.add(Verb::get, "/healthz", none);
    r.add(Verb::get, "/stats", none);
    r.add(Verb::get, "/cluster", none);
    r.add(Verb::post, "/examples", route([](const Exchange& x) {
            const auto command = parse_create_body(x.request.body());
            check_value(command.foo);
            check_value(command.a);
            check_value(command.b);
          }));
    r.add(Verb::get, "/examples", route([](const Exchange& x) { (void)parse_foo_query(x.query); }));
    r.add(Verb::get, "/examples/{id}", route([](const Exchange& x) {
            check_entity_id(parse_entity_id(x.params.at(0)));
            const auto at = parse_at_query(x.query);
            FUZZ_CHECK(!at || *at >= 0, "a negative at");
          }));
    r.add(Verb::patch, "/examples/{id}", route([](const Exchange& x) {
            check_entity_id(parse_entity_id(x.params.at(0)));
            FUZZ_CHECK(parse_expected_version(x.request) >= -1, "If-Match below -1");
            const auto changes = parse_patch_body(x.request.body());
            FUZZ_CHECK(!changes.empty() && changes.size() <= 3, "PATCH with 0 or > 3 changes");
            std::string order;
            for (const auto& change : changes) {
              check_value(change.value);
              order += change.name + ",";
            }
            // A subsequence of foo, a, b: each name once, in that order.
            FUZZ_CHECK(order == "foo,b," || std::string("foo,a,b,").find(order) == 0 ||
                           std::string("a,b,").find(order) == 0 || order == "b,",
                       "PATCH changes out of the order foo, a, b");
          }));
    r.add(Verb::delete_, "/examples/{id}", route([](const Exchange& x) {
            check_entity_id(parse_entity_id(x.params.at(0)));
            FUZZ_CHECK(parse_expected_version(x.request) >= -1, "If-Match below -1");
          }));
    r.add(Verb::get, "/examples/{id}/events", route([](const Exchange& x) {
            check_entity_id(parse_entity_id(x.params.at(0)));
            const auto q = parse_events_query(x.query, es::kMaxEventPage);
            FUZZ_CHECK(q.after >= -1, "after below -1");
            FUZZ_CHECK(q.limit >= 1 && q.limit <= es::kMaxEventPage, "limit out of range");
          }));
    r.add(Verb::post, "/examples/{id}/heartbeats", route([](const Exchange& x) {
            check_entity_id(parse_entity_id(x.params.at(0)));
            FUZZ_CHECK(parse_expected_version(x.request) >= -1, "If-Match below -1");
            const auto count = parse_heartbeats_body(x.request.body());
            FUZZ_CHECK(count >= 1 && count <= 10000, "heartbeat count out of 1..10000");
          }));
    r.add(Verb::post, "/examples/{id}/snapshot",
          route([](const Exchange& x) { check_entity_id(parse_entity_id(x.params.at(0))); }));
    r.add(Verb::get, "/notifications", route([](const Exchange& x) {
            const auto q = parse_notifications_query(x.query);
            FUZZ_CHECK(q.partition >= 0, "a negative partition");
            FUZZ_CHECK(q.start >= 1, "start below 1");
            FUZZ_CHECK(q.limit >= 1 && q.limit <= kMaxNotificationLimit, "limit out of range");
          }));
    return r;
  }();
  return router;
}

void check_response(const Response& response) {
  const unsigned status = response.result_int();
  FUZZ_CHECK(status == 200 || status == 400 || status == 404 || status == 405,
             "an answer other than 200, 400, 404 or 405");
  if (status == 200) return;
  boost::json::value body;
  try {
    body = es::parse_json(response.body());
  } catch (const std::exception& e) {
    FUZZ_UNEXPECTED("parse_json of an error body", e.what());
  }
  FUZZ_CHECK(body.is_object() && body.get_object().size() == 1 &&
                 body.get_object().contains("error") && body.get_object().at("error").is_string(),
             "an error body that is not {\"error\": \"...\"}");
  if (status == 405) {
    FUZZ_CHECK(!response[bhttp::field::allow].empty(), "405 without Allow");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view buffer(reinterpret_cast<const char*>(data), size);
  for (int n = 0; n < kMaxPipelined && !buffer.empty(); ++n) {
    // As the server's Session::parse_buffered: everything buffered goes to one parser.
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(kBodyLimit);
    parser.header_limit(kHeaderLimit);
    parser.eager(true);
    boost::beast::error_code ec;
    while (!parser.is_done() && !buffer.empty()) {
      const auto used = parser.put(boost::asio::buffer(buffer.data(), buffer.size()), ec);
      buffer.remove_prefix(used);
      if (ec || used == 0) break;
    }
    if (!parser.is_done()) return 0;  // an error (the server answers 400/413/431) or more to read

    auto exchange = std::make_shared<Exchange>();
    exchange->request = parser.release();
    const auto& req = exchange->request;
    if (req.version() != 10 && req.version() != 11) return 0;  // 400, and the connection closes
    if (!split_target(req.target(), exchange->path, exchange->query)) continue;  // 400
    FUZZ_CHECK(!exchange->path.empty() && exchange->path.front() == '/', "a path without '/'");

    std::optional<Response> answer;
    {
      Responder respond([&answer](Response&& r) { answer = std::move(r); });
      try {
        routes().dispatch(exchange, respond);
      } catch (const std::exception& e) {
        FUZZ_UNEXPECTED("Router::dispatch", e.what());
      }
    }
    FUZZ_CHECK(answer.has_value(), "a request without an answer");
    check_response(*answer);
    if (!req.keep_alive()) return 0;
  }
  return 0;
}
