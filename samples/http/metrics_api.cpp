#include "samples/http/metrics_api.hpp"

#include "actors/metrics_text.hpp"
#include "samples/http/representation.hpp"

#include <boost/asio/post.hpp>

namespace es::http {

MetricsApi::MetricsApi(std::shared_ptr<const RuntimeMetrics> metrics,
                       std::shared_ptr<ExampleProjectionService> projection,
                       std::shared_ptr<StoreHealth> health)
    : metrics_(std::move(metrics)),
      projection_(std::move(projection)),
      health_(std::move(health)) {}

MetricsApi::~MetricsApi() {
  shutdown();
}

void MetricsApi::shutdown() {
  if (closed_.exchange(true)) return;
  pool_.join();
}

void MetricsApi::add_routes(Router& router) {
  auto self = shared_from_this();
  router.add(Verb::get, "/metrics",
             [self](const ExchangePtr&, const Responder& r) { self->scrape(r); });
}

std::string MetricsApi::render(bool store_up) const {
  PrometheusText out;
  render_runtime_metrics(*metrics_, out);
  out.gauge("es_store_up", "1 when the event store answers, else 0.", store_up ? 1 : 0);
  std::vector<PrometheusText::Sample> lag;
  if (projection_ && store_up) {
    // Log end minus applied position, per partition; nothing when the store fails meanwhile
    // (a scrape never fails because of the store).
    try {
      const auto applied = projection_->stats().positions;
      const auto& events = projection_->backend().events();
      for (int p = 0; p < events->partitions() && p < static_cast<int>(applied.size()); ++p) {
        const auto head = events->last_notification_position(p);
        lag.push_back({{{"partition", std::to_string(p)}},
                       static_cast<double>(std::max<std::int64_t>(
                           0, head - applied[static_cast<std::size_t>(p)]))});
      }
    } catch (const std::exception&) {
      lag.clear();
    }
  }
  out.gauge("es_projection_lag_events",
            "Notifications of a partition's log not yet applied by the sample projection.", lag);
  return out.take();
}

void MetricsApi::scrape(const Responder& respond) {
  if (closed_) return respond(error_response(503, "the server is shutting down"));
  auto self = shared_from_this();
  health_->check([self, respond](const StoreStatus& status) {
    const bool up = status.ok;
    boost::asio::post(self->pool_, [self, respond, up] {
      if (!respond.wanted()) return;
      try {
        respond(text_response(200, self->render(up), std::string(kPrometheusContentType)));
      } catch (const std::exception& e) {
        respond(error_response(500, e.what()));
      }
    });
  });
}

}  // namespace es::http
