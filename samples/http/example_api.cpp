// Why: see example_api.hpp.
#include "samples/http/example_api.hpp"

#include "actors/error_code.hpp"
#include "samples/http/example_bodies.hpp"
#include "samples/http/representation.hpp"
#include "samples/http/route_requests.hpp"

#include <boost/beast/http/field.hpp>

#include <optional>

namespace es::http {

namespace bhttp = boost::beast::http;

Response error_response_for(const caf::error& error) {
  const std::string reason = reason_of(error);
  switch (code_of(error)) {
    case ErrorCode::none:
      return error_response(500, "internal error: an empty error");
    case ErrorCode::not_found:
    case ErrorCode::discarded:
      return error_response(404, reason);
    case ErrorCode::invalid:
      return error_response(400, reason);
    case ErrorCode::precondition_failed:
      return error_response(412, "precondition failed: " + reason);
    case ErrorCode::concurrency:
      return error_response(409, "concurrency conflict: " + reason);
    case ErrorCode::overloaded:
      return error_response(503, "overloaded: " + reason);
    case ErrorCode::unavailable:
      // A cluster node that cannot be reached says so itself (docs/CLUSTER.md).
      if (reason.rfind("node ", 0) == 0) return error_response(503, "unavailable: " + reason);
      return error_response(503, "the store is unavailable: " + reason);
    case ErrorCode::integrity:
      return error_response(500, "data integrity failure: " + reason);
    case ErrorCode::topic:
      return error_response(500, "data integrity failure: " + reason);
    case ErrorCode::internal:
      break;
  }
  return error_response(500, "internal error: " + reason);
}

namespace {

// The lowercase id of the first path parameter; answers 400 and gives nothing when it is
// not a UUID.
std::optional<std::string> entity_id(const ExchangePtr& exchange, const Responder& respond) {
  try {
    return parse_entity_id(exchange->params.at(0));
  } catch (const BadRequest& e) {
    respond(error_response(400, e.what()));
    return std::nullopt;
  }
}

// The If-Match version (-1 when absent); answers 400 and gives nothing when malformed.
std::optional<std::int64_t> if_match(const ExchangePtr& exchange, const Responder& respond) {
  try {
    return parse_expected_version(exchange->request);
  } catch (const BadRequest& e) {
    respond(error_response(400, e.what()));
    return std::nullopt;
  }
}

}  // namespace

ExampleApi::ExampleApi(std::shared_ptr<ActorBridge> bridge, example_repository_actor repository,
                       std::shared_ptr<StoreHealth> health, std::shared_ptr<RuntimeMetrics> metrics)
    : bridge_(std::move(bridge)),
      health_(std::move(health)),
      metrics_(std::move(metrics)),
      repository_(std::move(repository)) {}

void ExampleApi::refused() {
  if (metrics_) metrics_->command(CommandOutcome::invalid, std::chrono::nanoseconds(0));
}

void ExampleApi::add_routes(Router& router) {
  auto self = shared_from_this();
  router.add(Verb::get, "/", [self](const ExchangePtr&, const Responder& r) { self->index(r); });
  router.add(Verb::get, "/healthz",
             [self](const ExchangePtr&, const Responder& r) { self->healthz(r); });
  router.add(Verb::post, "/examples",
             [self](const ExchangePtr& x, const Responder& r) { self->create(x, r); });
  router.add(Verb::get, "/examples/{id}",
             [self](const ExchangePtr& x, const Responder& r) { self->get(x, r); });
  router.add(Verb::patch, "/examples/{id}",
             [self](const ExchangePtr& x, const Responder& r) { self->patch(x, r); });
  router.add(Verb::delete_, "/examples/{id}",
             [self](const ExchangePtr& x, const Responder& r) { self->discard(x, r); });
  router.add(Verb::get, "/examples/{id}/events",
             [self](const ExchangePtr& x, const Responder& r) { self->events(x, r); });
  router.add(Verb::post, "/examples/{id}/heartbeats",
             [self](const ExchangePtr& x, const Responder& r) { self->heartbeats(x, r); });
  router.add(Verb::post, "/examples/{id}/snapshot",
             [self](const ExchangePtr& x, const Responder& r) { self->snapshot(x, r); });
}

void ExampleApi::shutdown() {
  std::lock_guard lock(mutex_);
  repository_ = nullptr;
}

example_repository_actor ExampleApi::repository() {
  std::lock_guard lock(mutex_);
  return repository_;
}

template <class F>
void ExampleApi::when_store_up(const Responder& respond, F next) {
  health_->check([respond, next = std::move(next)](const StoreStatus& status) mutable {
    if (!status.ok) {
      respond(error_response(503, status.reason));
      return;
    }
    next();
  });
}

void ExampleApi::healthz(const Responder& respond) {
  health_->check([respond](const StoreStatus& status) {
    if (status.ok) {
      respond(text_response(200, "ok", "text/plain"));
    } else {
      respond(error_response(503, status.reason));
    }
  });
}

void ExampleApi::index(const Responder& respond) {
  auto self = shared_from_this();
  when_store_up(respond, [self, respond] {
    auto repo = self->repository();
    if (!repo) return respond(error_response(503, "the server is shutting down"));
    auto command = ExampleBinding::Command(CreateExample{{"Hello There!"}, {""}, {""}});
    self->bridge_->request<ExampleView>(
        repo,
        [self, respond, repo](caf::expected<ExampleView> created) {
          if (!created) return respond(error_response_for(created.error()));
          // Read it back through the repository, as the reference's index page does.
          self->bridge_->request<ExampleView>(
              repo,
              [respond](caf::expected<ExampleView> read) {
                if (!read) return respond(error_response_for(read.error()));
                respond(text_response(200, hello_html(*read), "text/html; charset=utf-8"));
              },
              get_atom::value, created->id);
        },
        create_atom::value, std::move(command));
  });
}

void ExampleApi::create(const ExchangePtr& exchange, const Responder& respond) {
  ExampleBinding::Command command;
  try {
    command = parse_create_body(exchange->request.body());
  } catch (const BadRequest& e) {
    refused();
    return respond(error_response(400, e.what()));
  }
  auto self = shared_from_this();
  when_store_up(respond, [self, respond, command = std::move(command)]() mutable {
    auto repo = self->repository();
    if (!repo) return respond(error_response(503, "the server is shutting down"));
    self->bridge_->request<ExampleView>(
        repo,
        [respond](caf::expected<ExampleView> view) {
          if (!view) return respond(error_response_for(view.error()));
          auto response = entity_response(201, *view);
          response.set(bhttp::field::location, "/examples/" + view->id);
          respond(std::move(response));
        },
        create_atom::value, std::move(command));
  });
}

void ExampleApi::get(const ExchangePtr& exchange, const Responder& respond) {
  auto id = entity_id(exchange, respond);
  if (!id) return;
  std::optional<std::int64_t> at;
  try {
    at = parse_at_query(exchange->query);
  } catch (const BadRequest& e) {
    return respond(error_response(400, e.what()));
  }
  auto self = shared_from_this();
  when_store_up(respond, [self, respond, id = std::move(*id), at] {
    auto repo = self->repository();
    if (!repo) return respond(error_response(503, "the server is shutting down"));
    auto done = [respond](caf::expected<ExampleView> view) {
      if (!view) return respond(error_response_for(view.error()));
      respond(entity_response(200, *view));
    };
    if (at) {
      self->bridge_->request<ExampleView>(repo, done, get_at_atom::value, id, *at);
    } else {
      self->bridge_->request<ExampleView>(repo, done, get_atom::value, id);
    }
  });
}

void ExampleApi::execute(std::string id, ExampleBinding::Command command, Responder respond,
                         bool no_content) {
  auto repo = repository();
  if (!repo) return respond(error_response(503, "the server is shutting down"));
  // A conflict was already retried once by the entity actor: it reaches us as 409.
  bridge_->request<ExampleView>(
      repo,
      [respond, no_content](caf::expected<ExampleView> view) {
        if (!view) return respond(error_response_for(view.error()));
        if (no_content) return respond(Response{bhttp::status::no_content, 11});
        respond(entity_response(200, *view));
      },
      execute_atom::value, std::move(id), std::move(command));
}

void ExampleApi::submit(std::string id, ExampleBinding::Command command, const Responder& respond,
                        bool no_content) {
  auto self = shared_from_this();
  when_store_up(respond, [self, respond, no_content, id = std::move(id),
                          command = std::move(command)]() mutable {
    self->execute(std::move(id), std::move(command), respond, no_content);
  });
}

void ExampleApi::patch(const ExchangePtr& exchange, const Responder& respond) {
  auto id = entity_id(exchange, respond);
  if (!id) return refused();
  auto expected = if_match(exchange, respond);
  if (!expected) return refused();
  std::vector<AttributeChange> changes;
  try {
    changes = parse_patch_body(exchange->request.body());
  } catch (const BadRequest& e) {
    refused();
    return respond(error_response(400, e.what()));
  }
  submit(std::move(*id), ChangeAttributes{std::move(changes), *expected}, respond, false);
}

void ExampleApi::discard(const ExchangePtr& exchange, const Responder& respond) {
  auto id = entity_id(exchange, respond);
  if (!id) return refused();
  auto expected = if_match(exchange, respond);
  if (!expected) return refused();
  submit(std::move(*id), DiscardExample{*expected}, respond, true);
}

void ExampleApi::heartbeats(const ExchangePtr& exchange, const Responder& respond) {
  auto id = entity_id(exchange, respond);
  if (!id) return refused();
  auto expected = if_match(exchange, respond);
  if (!expected) return refused();
  std::int32_t count = 1;
  try {
    count = parse_heartbeats_body(exchange->request.body());
  } catch (const BadRequest& e) {
    refused();
    return respond(error_response(400, e.what()));
  }
  submit(std::move(*id), BeatHeart{count, *expected}, respond, false);
}

namespace {

// ?after=V&limit=L of /events; answers 400 and gives nothing when malformed.
std::optional<EventsQuery> events_query(const ExchangePtr& exchange, const Responder& respond) {
  try {
    return parse_events_query(exchange->query, kMaxEventPage);
  } catch (const BadRequest& e) {
    respond(error_response(400, e.what()));
    return std::nullopt;
  }
}

}  // namespace

void ExampleApi::events(const ExchangePtr& exchange, const Responder& respond) {
  auto id = entity_id(exchange, respond);
  if (!id) return;
  auto query = events_query(exchange, respond);
  if (!query) return;
  auto self = shared_from_this();
  when_store_up(respond, [self, respond, id = std::move(*id), q = *query] {
    // A client that gave up meanwhile costs no store read.
    if (!respond.wanted()) return;
    auto repo = self->repository();
    if (!repo) return respond(error_response(503, "the server is shutting down"));
    self->bridge_->request<EventPage>(
        repo,
        [self, respond, repo, id, q](caf::expected<EventPage> page) {
          if (!page) return respond(error_response_for(page.error()));
          // Nobody waits for this page any more (closed connection, or 503 at the deadline):
          // rendering it would only cost time and memory.
          if (!respond.wanted()) return;
          if (page->events.empty() && q.after >= 0) {
            // Past the end is an empty page, but an entity without any event is 404: ask for
            // its first event to tell them apart.
            self->bridge_->request<EventPage>(
                repo,
                [respond](caf::expected<EventPage> first) {
                  if (!first) return respond(error_response_for(first.error()));
                  respond(json_response(200, "[]"));
                },
                events_atom::value, id, std::int64_t{-1}, std::int64_t{1});
            return;
          }
          auto response = json_response(200, std::string());
          append_events_json(response.body(), page->events);
          if (page->more && !page->events.empty()) {
            response.set(bhttp::field::link,
                         "</examples/" + id +
                             "/events?after=" + std::to_string(page->events.back().version) +
                             "&limit=" + std::to_string(q.limit) + ">; rel=\"next\"");
          }
          page->events = {};  // the page is in the body now: free it before the write
          respond(std::move(response));
        },
        events_atom::value, id, q.after, q.limit);
  });
}

void ExampleApi::snapshot(const ExchangePtr& exchange, const Responder& respond) {
  auto id = entity_id(exchange, respond);
  if (!id) return;
  auto self = shared_from_this();
  when_store_up(respond, [self, respond, id = std::move(*id)] {
    auto repo = self->repository();
    if (!repo) return respond(error_response(503, "the server is shutting down"));
    self->bridge_->request<SnapshotTaken>(
        repo,
        [respond](caf::expected<SnapshotTaken> taken) {
          if (!taken) return respond(error_response_for(taken.error()));
          respond(json_response(taken->created ? 201 : 200,
                                "{\"version\":" + std::to_string(taken->version) + "}"));
        },
        snapshot_atom::value, id);
  });
}

}  // namespace es::http
