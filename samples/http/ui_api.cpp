// Why: see ui_api.hpp.
#include "samples/http/ui_api.hpp"

#include "actors/cluster_protocol.hpp"
#include "actors/placement.hpp"
#include "domain/errors.hpp"
#include "domain/uuid.hpp"
#include "samples/http/example_api.hpp"
#include "samples/http/representation.hpp"
#include "samples/http/request_parsing.hpp"
#include "samples/http/ui_assets.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>

#include <optional>

namespace es::http {

namespace bhttp = boost::beast::http;

namespace {

constexpr std::int64_t kDefaultListLimit = 20;
constexpr std::int64_t kMaxListLimit = 100;
constexpr std::size_t kMaxCursor = 32;

// Only this server's own files: no inline script, no outside origin, no framing.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

}  // namespace

UiApi::UiApi(std::shared_ptr<ActorBridge> bridge, caf::actor cluster_router,
             std::shared_ptr<RecordManager> events, std::shared_ptr<StoreHealth> health)
    : bridge_(std::move(bridge)),
      events_(std::move(events)),
      health_(std::move(health)),
      router_(std::move(cluster_router)) {}

UiApi::~UiApi() {
  shutdown();
}

void UiApi::shutdown() {
  {
    std::lock_guard lock(mutex_);
    router_ = nullptr;
  }
  if (closed_.exchange(true)) return;
  pool_.join();
}

caf::actor UiApi::cluster_router() {
  std::lock_guard lock(mutex_);
  return router_;
}

void UiApi::add_routes(Router& router) {
  auto self = shared_from_this();
  router.add(Verb::get, "/ui", [](const ExchangePtr&, const Responder& r) {
    Response response{bhttp::status::permanent_redirect, 11};
    response.set(bhttp::field::location, "/ui/");
    r(std::move(response));
  });
  router.add(Verb::get, "/ui/",
             [self](const ExchangePtr&, const Responder& r) { self->asset("index.html", r); });
  router.add(Verb::get, "/ui/{file}", [self](const ExchangePtr& ex, const Responder& r) {
    self->asset(ex->params.at(0), r);
  });
  router.add(Verb::get, "/ui/api/examples",
             [self](const ExchangePtr& ex, const Responder& r) { self->list(ex, r); });
  router.add(Verb::get, "/cluster/locate/{id}",
             [self](const ExchangePtr& ex, const Responder& r) { self->locate(ex, r); });
}

void UiApi::asset(std::string_view name, const Responder& respond) const {
  const UiAsset* file = find_ui_asset(name);
  if (file == nullptr) return respond(error_response(404, "no such file of the event browser"));
  auto response = text_response(200, std::string(file->body), file->content_type);
  response.set(bhttp::field::cache_control, "no-cache");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Content-Security-Policy", kContentSecurityPolicy);
  respond(std::move(response));
}

// GET /ui/api/examples[?cursor=C][&limit=N] -> {"examples": [{"id", "node"}, ...],
// "next": "<cursor>" | null}: the ids of stored entity streams (live or discarded; the
// store's own scan order, an id may repeat across pages), each with the node that hosts it.
void UiApi::list(const ExchangePtr& exchange, const Responder& respond) {
  auto query = parse_query(exchange->query);
  if (!query) return respond(error_response(400, "the query string is not valid"));
  std::optional<std::string> cursor;
  std::optional<std::int64_t> limit;
  for (const auto& [key, value] : *query) {
    if (key == "cursor") {
      if (cursor) return respond(error_response(400, "cursor is given twice"));
      bool digits = !value.empty() && value.size() <= kMaxCursor;
      for (char c : value) digits = digits && c >= '0' && c <= '9';
      if (!digits) return respond(error_response(400, "cursor must be a `next` of a former page"));
      cursor = value;
    } else if (key == "limit") {
      if (limit) return respond(error_response(400, "limit is given twice"));
      limit = parse_decimal_version(value);
      if (!limit || *limit < 1 || *limit > kMaxListLimit) {
        return respond(error_response(400, "limit must be a decimal integer within 1..100"));
      }
    } else {
      return respond(error_response(400, "unknown query parameter '" + key + "'"));
    }
  }
  auto router = cluster_router();
  if (!router || closed_) return respond(error_response(503, "the server is shutting down"));
  auto self = shared_from_this();
  const auto count = static_cast<std::size_t>(limit.value_or(kDefaultListLimit));
  health_->check(
      [self, respond, router, count, cursor = cursor.value_or("")](const StoreStatus& status) {
        if (!status.ok) return respond(error_response(503, status.reason));
        self->bridge_->request<ClusterView>(
            router,
            [self, respond, count, cursor](caf::expected<ClusterView> view) {
              if (!view) return respond(error_response_for(view.error()));
              if (self->closed_) return respond(error_response(503, "the server is shutting down"));
              boost::asio::post(self->pool_, [self, respond, count, cursor, view = *view] {
                try {
                  const auto page = self->events_->list_sequence_ids(cursor, count);
                  std::string body = "{\"examples\":[";
                  for (std::size_t i = 0; i < page.ids.size(); ++i) {
                    const auto id = to_string(page.ids[i]);
                    if (i > 0) body += ',';
                    body += "{\"id\":\"" + id + "\",\"node\":";
                    append_json_string(
                        body, view.live.empty() ? view.node : placement_owner(view.live, id));
                    body += '}';
                  }
                  body += "],\"next\":";
                  if (page.next_cursor.empty()) {
                    body += "null";
                  } else {
                    append_json_string(body, page.next_cursor);
                  }
                  body += '}';
                  respond(json_response(200, std::move(body)));
                } catch (const InvalidInput& e) {
                  respond(error_response(400, e.what()));
                } catch (const StoreUnavailable& e) {
                  respond(error_response(503, e.what()));
                } catch (const std::exception& e) {
                  respond(error_response(500, e.what()));
                }
              });
            },
            cluster_atom::value);
      });
}

// GET /cluster/locate/<id> -> {"id": "<uuid>", "node": "<its host>", "live": [...]}.
void UiApi::locate(const ExchangePtr& exchange, const Responder& respond) {
  auto id = parse_uuid(exchange->params.at(0));
  if (!id)
    return respond(error_response(400, "the entity id must be a UUID (8-4-4-4-12 hex digits)"));
  auto router = cluster_router();
  if (!router) return respond(error_response(503, "the server is shutting down"));
  bridge_->request<ClusterView>(
      router,
      [respond, id = to_string(*id)](caf::expected<ClusterView> view) {
        if (!view) return respond(error_response_for(view.error()));
        std::string body = "{\"id\":\"" + id + "\",\"node\":";
        append_json_string(body, view->live.empty() ? view->node : placement_owner(view->live, id));
        body += ",\"live\":[";
        for (std::size_t i = 0; i < view->live.size(); ++i) {
          if (i > 0) body += ',';
          append_json_string(body, view->live[i]);
        }
        body += "]}";
        respond(json_response(200, std::move(body)));
      },
      cluster_atom::value);
}

}  // namespace es::http
