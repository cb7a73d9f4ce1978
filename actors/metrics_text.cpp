#include "actors/metrics_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace es {

namespace {

// HELP text escapes backslash and newline; label values also the double quote.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// Integers as integers, other values in the shortest form that reads back the same.
void append_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else if (value == std::floor(value) && std::fabs(value) < 9.007199254740992e15) {
    out += std::to_string(static_cast<long long>(value));
  } else {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.17g", value);
    // Shorter when it still reads back exactly.
    for (int precision = 6; precision < 17; ++precision) {
      char shorter[32];
      std::snprintf(shorter, sizeof shorter, "%.*g", precision, value);
      if (std::strtod(shorter, nullptr) == value) {
        out += shorter;
        return;
      }
    }
    out += buffer;
  }
}

}  // namespace

void PrometheusText::family(std::string_view name, std::string_view help, std::string_view type) {
  text_.append("# HELP ").append(name).append(" ");
  append_escaped(text_, help, false);
  text_.append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
}

void PrometheusText::sample(std::string_view name, const Labels& labels, double value) {
  text_.append(name);
  if (!labels.empty()) {
    text_ += '{';
    bool first = true;
    for (const auto& [key, v] : labels) {
      if (!first) text_ += ',';
      first = false;
      text_.append(key).append("=\"");
      append_escaped(text_, v, true);
      text_ += '"';
    }
    text_ += '}';
  }
  text_ += ' ';
  append_value(text_, value);
  text_ += '\n';
}

void PrometheusText::counter(std::string_view name, std::string_view help,
                             const std::vector<Sample>& samples) {
  family(name, help, "counter");
  for (const auto& s : samples) sample(name, s.labels, s.value);
}

void PrometheusText::gauge(std::string_view name, std::string_view help,
                           const std::vector<Sample>& samples) {
  family(name, help, "gauge");
  for (const auto& s : samples) sample(name, s.labels, s.value);
}

void PrometheusText::histogram(std::string_view name, std::string_view help,
                               const Histogram::Reading& r) {
  family(name, help, "histogram");
  const std::string bucket = std::string(name) + "_bucket";
  std::string le;
  for (std::size_t i = 0; i < r.upper_bounds.size(); ++i) {
    le.clear();
    append_value(le, r.upper_bounds[i]);
    sample(bucket, {{"le", le}}, static_cast<double>(r.buckets[i]));
  }
  sample(bucket, {{"le", "+Inf"}}, static_cast<double>(r.count));
  sample(std::string(name) + "_sum", {}, r.sum);
  sample(std::string(name) + "_count", {}, static_cast<double>(r.count));
}

void render_runtime_metrics(const RuntimeMetrics& m, PrometheusText& out) {
  std::vector<PrometheusText::Sample> outcomes;
  for (std::size_t i = 0; i < kCommandOutcomes; ++i) {
    const auto outcome = static_cast<CommandOutcome>(i);
    outcomes.push_back({{{"outcome", std::string(to_string(outcome))}},
                        static_cast<double>(m.commands_with(outcome))});
  }
  out.counter("es_commands_total", "Commands answered, by outcome.", outcomes);
  out.histogram("es_command_seconds",
                "Seconds from a command's arrival at its entity to its answer.",
                m.command_seconds.read());
  out.counter("es_events_appended_total", "Events the store confirmed.",
              static_cast<double>(m.events_appended.value()));
  out.histogram("es_append_seconds",
                "Seconds per store round trip of the journal writers (one batch of appends).",
                m.append_seconds.read());
  out.gauge("es_live_entities", "Entity actors in memory.", static_cast<double>(m.live_entities()));
  out.counter("es_recoveries_total", "Entities rebuilt from the store (snapshot and events).",
              static_cast<double>(m.recoveries.value()));
  out.histogram("es_recovery_seconds", "Seconds to load and rebuild one entity.",
                m.recovery_seconds.read());
  out.counter("es_passivations_total", "Idle entity actors stopped (idle time or the live cap).",
              static_cast<double>(m.passivations.value()));
}

}  // namespace es
