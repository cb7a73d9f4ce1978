// The Prometheus text exposition format 0.0.4 (what GET /metrics answers): one HELP and TYPE
// line per metric family, then its samples; histograms as cumulative _bucket{le=...} lines
// ending with +Inf, then _sum and _count. A family's samples must be written together, so
// callers add a whole family at a time.
#pragma once

#include "actors/metrics.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace es {

inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4";

class PrometheusText {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;
  struct Sample {
    Labels labels;
    double value = 0;
  };

  // A counter family (`name` ends in _total) or a gauge family, with its samples.
  void counter(std::string_view name, std::string_view help, const std::vector<Sample>& samples);
  void gauge(std::string_view name, std::string_view help, const std::vector<Sample>& samples);
  void counter(std::string_view name, std::string_view help, double value) {
    counter(name, help, std::vector<Sample>{{{}, value}});
  }
  void gauge(std::string_view name, std::string_view help, double value) {
    gauge(name, help, std::vector<Sample>{{{}, value}});
  }
  void histogram(std::string_view name, std::string_view help, const Histogram::Reading& reading);

  const std::string& text() const { return text_; }
  std::string take() { return std::move(text_); }

 private:
  void family(std::string_view name, std::string_view help, std::string_view type);
  void sample(std::string_view name, const Labels& labels, double value);

  std::string text_;
};

// The runtime's own families (every es_* metric but those a sample adds, such as projection
// lag and store health).
void render_runtime_metrics(const RuntimeMetrics& metrics, PrometheusText& out);

}  // namespace es
