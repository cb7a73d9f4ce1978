// Why: see notification_stream.hpp. Opening a stream and the reads run on one strand, so a
// subscriber's position needs no lock; heartbeats run on another.
#include "samples/http/notification_stream.hpp"

#include "domain/errors.hpp"
#include "domain/uuid.hpp"
#include "samples/http/representation.hpp"
#include "samples/http/request_parsing.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>

#include <limits>
#include <map>
#include <optional>
#include <utility>

namespace es::http {

namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

// One log item as an event: its position as id, the item JSON of GET /notifications as data.
void append_event(std::string& out, const Notification& n) {
  out += "id: ";
  out += std::to_string(n.position);
  out += "\ndata: ";
  out += boost::json::serialize(boost::json::object{{"position", n.position},
                                                    {"id", to_string(n.sequence_id)},
                                                    {"version", n.version},
                                                    {"topic", n.topic}});
  out += "\n\n";
}

}  // namespace

NotificationStreams::NotificationStreams(std::shared_ptr<RecordManager> events,
                                         std::shared_ptr<StoreHealth> health,
                                         NotificationStreamOptions options)
    : events_(std::move(events)),
      health_(std::move(health)),
      options_(options),
      reads_(boost::asio::make_strand(pool_.get_executor())),
      beats_(boost::asio::make_strand(pool_.get_executor())),
      timer_(reads_),
      heartbeat_timer_(beats_) {}

NotificationStreams::~NotificationStreams() {
  shutdown();
}

void NotificationStreams::add_routes(Router& router) {
  auto self = shared_from_this();
  router.add(Verb::get, "/notifications/stream",
             [self](const ExchangePtr& ex, const Responder& r) { self->open(ex, r); });
  boost::asio::post(beats_, [self] { self->arm_heartbeats(); });
}

std::size_t NotificationStreams::streams() const {
  std::lock_guard lock(mutex_);
  return subscribers_.size();
}

void NotificationStreams::shutdown() {
  if (closed_.exchange(true)) return;
  std::vector<std::shared_ptr<Subscriber>> subscribers;
  {
    std::lock_guard lock(mutex_);
    subscribers.swap(subscribers_);
  }
  for (auto& s : subscribers) s->stream->end();
  auto self = shared_from_this();
  boost::asio::post(reads_, [self] { self->timer_.cancel(); });
  boost::asio::post(beats_, [self] { self->heartbeat_timer_.cancel(); });
  pool_.join();
}

void NotificationStreams::open(const ExchangePtr& exchange, const Responder& respond) {
  auto query = parse_query(exchange->query);
  if (!query) return respond(error_response(400, "the query string is not valid"));
  std::optional<std::int64_t> partition, start;
  for (const auto& [key, value] : *query) {
    auto number = parse_decimal_version(value);
    if (key == "partition") {
      if (partition) return respond(error_response(400, "partition is given twice"));
      if (!number) return respond(error_response(400, "partition must be a decimal integer"));
      partition = number;
    } else if (key == "start") {
      if (start) return respond(error_response(400, "start is given twice"));
      if (!number || *number < 1) {
        return respond(error_response(400, "start must be a decimal integer >= 1"));
      }
      start = number;
    } else {
      return respond(error_response(400, "unknown query parameter '" + key + "'"));
    }
  }
  if (!partition) return respond(error_response(400, "partition is required"));
  if (*partition >= events_->partitions()) {
    return respond(error_response(
        400, "partition must be within 0.." + std::to_string(events_->partitions() - 1)));
  }
  const auto& req = exchange->request;
  const auto last_ids = req.equal_range("Last-Event-ID");
  if (last_ids.first != last_ids.second) {
    std::optional<std::int64_t> last;
    if (std::next(last_ids.first) == last_ids.second) {
      last = parse_decimal_version(last_ids.first->value());
    }
    if (!last || *last == std::numeric_limits<std::int64_t>::max()) {
      return respond(error_response(400, "Last-Event-ID must be one log position"));
    }
    start = *last + 1;  // EventSource sends it when it reconnects: it wins over ?start
  }
  if (closed_) return respond(error_response(503, "the server is shutting down"));
  if (streams() >= options_.max_streams) {
    return respond(error_response(503,
                                  "too many notification streams: the server holds its "
                                  "maximum of " +
                                      std::to_string(options_.max_streams)));
  }
  const int p = static_cast<int>(*partition);
  auto self = shared_from_this();
  health_->check([self, respond, p, start](const StoreStatus& status) {
    if (!status.ok) return respond(error_response(503, status.reason));
    boost::asio::post(self->reads_, [self, respond, p, start] {
      if (self->closed_) return respond(error_response(503, "the server is shutting down"));
      auto subscriber = std::make_shared<Subscriber>();
      subscriber->partition = p;
      try {
        subscriber->next = start ? *start : self->events_->last_notification_position(p) + 1;
      } catch (const StoreUnavailable& e) {
        return respond(error_response(503, e.what()));
      } catch (const std::exception& e) {
        return respond(error_response(500, e.what()));
      }
      Response head{bhttp::status::ok, 11};
      head.set(bhttp::field::content_type, "text/event-stream; charset=utf-8");
      head.set(bhttp::field::cache_control, "no-cache");
      head.set("X-Accel-Buffering", "no");  // proxies such as nginx: do not buffer it
      subscriber->stream = respond.stream(std::move(head));
      if (!subscriber->stream) return;
      // Reconnect after 2 s when the connection drops; say where the tail starts.
      subscriber->stream->write("retry: 2000\n: partition " + std::to_string(p) +
                                " from position " + std::to_string(subscriber->next) + "\n\n");
      subscriber->last_write = Clock::now().time_since_epoch().count();
      bool arm = false;
      {
        std::lock_guard lock(self->mutex_);
        self->subscribers_.push_back(std::move(subscriber));
        arm = !self->armed_;
        self->armed_ = true;
      }
      if (arm) self->tick();
    });
  });
}

void NotificationStreams::arm() {
  timer_.expires_after(options_.poll_interval);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->closed_) return;
    self->tick();
  });
}

void NotificationStreams::tick() {
  std::vector<std::shared_ptr<Subscriber>> subscribers;
  {
    std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<Subscriber>> open;
    for (auto& s : subscribers_) {
      if (!s->stream->ended()) open.push_back(s);
    }
    subscribers_.swap(open);
    if (subscribers_.empty() || closed_) {
      armed_ = false;
      return;
    }
    subscribers = subscribers_;
  }
  // Streams that wrote everything they were given, grouped by what they need next.
  std::map<std::pair<int, std::int64_t>, std::vector<Subscriber*>> wanted;
  for (auto& s : subscribers) {
    if (s->stream->pending() == 0) wanted[{s->partition, s->next}].push_back(s.get());
  }
  for (auto& [from, group] : wanted) {
    std::vector<Notification> items;
    try {
      items = events_->read_notifications(from.first, from.second, options_.batch);
    } catch (const std::exception&) {
      continue;  // the store is away: heartbeats keep the streams open, the next tick retries
    }
    if (items.empty()) continue;
    std::string text;
    for (const auto& n : items) append_event(text, n);
    const auto now = Clock::now().time_since_epoch().count();
    for (auto* s : group) {
      if (!s->stream->write(text)) continue;
      s->next = items.back().position + 1;
      s->last_write = now;
    }
  }
  arm();
}

std::vector<std::shared_ptr<NotificationStreams::Subscriber>>
NotificationStreams::open_subscribers() const {
  std::lock_guard lock(mutex_);
  return subscribers_;
}

void NotificationStreams::arm_heartbeats() {
  if (closed_) return;
  heartbeat_timer_.expires_after(options_.poll_interval);
  heartbeat_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->closed_) return;
    self->heartbeats();
    self->arm_heartbeats();
  });
}

// A comment line on every stream that wrote nothing for the heartbeat interval and has
// nothing queued.
void NotificationStreams::heartbeats() {
  const auto now = Clock::now().time_since_epoch().count();
  const auto interval = std::chrono::duration_cast<Clock::duration>(options_.heartbeat).count();
  for (auto& s : open_subscribers()) {
    if (now - s->last_write.load() < interval || s->stream->ended()) continue;
    if (s->stream->pending() != 0) continue;
    if (s->stream->write(": heartbeat\n\n")) s->last_write = now;
  }
}

}  // namespace es::http
