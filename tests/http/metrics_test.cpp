// Why: GET /metrics (HTTP_API.md, "Operations"; docs/OPERATIONS.md) is read by Prometheus,
// which rejects a malformed scrape as a whole. The scrape is parsed here strictly (its own
// small parser: every sample after its family's TYPE line, valid names, quoted and escaped
// label values, numbers that parse, histograms with cumulative buckets ending in +Inf equal to
// _count), and the counters must move with the work done: commands by outcome, events
// appended, live entities, recoveries after passivation and after a restart, the store's
// health with Redis stopped, the projection's lag.
#include "http_test_support.hpp"
#include "support/redis_fixture.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

using namespace es::test;
using namespace std::chrono_literals;

namespace {

using Labels = std::map<std::string, std::string>;

struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};

struct Family {
  std::string type;
  std::string help;
  std::vector<Sample> samples;
};

// A scrape, parsed strictly; any deviation from the 0.0.4 text format throws.
struct Scrape {
  std::map<std::string, Family> families;

  // The value of the one sample `name` with exactly these labels.
  double value(const std::string& name, const Labels& labels = {}) const {
    for (const auto& [family_name, family] : families) {
      for (const auto& s : family.samples) {
        if (s.name == name && s.labels == labels) return s.value;
      }
    }
    throw std::runtime_error("no sample " + name);
  }
  bool has(const std::string& name, const Labels& labels = {}) const {
    try {
      value(name, labels);
      return true;
    } catch (const std::runtime_error&) {
      return false;
    }
  }
};

[[noreturn]] void bad(const std::string& line, const std::string& why) {
  throw std::runtime_error("malformed exposition line '" + line + "': " + why);
}

bool valid_metric_name(const std::string& n) {
  static const std::regex re("[a-zA-Z_:][a-zA-Z0-9_:]*");
  return std::regex_match(n, re);
}
bool valid_label_name(const std::string& n) {
  static const std::regex re("[a-zA-Z_][a-zA-Z0-9_]*");
  return std::regex_match(n, re) && n.rfind("__", 0) != 0;
}

double parse_value(const std::string& line, const std::string& text) {
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  if (text == "NaN") return NAN;
  static const std::regex number("-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?");
  if (!std::regex_match(text, number)) bad(line, "value '" + text + "' is not a number");
  return std::stod(text);
}

// The family a sample name belongs to: itself, or for histograms the name without _bucket,
// _sum or _count.
std::string family_of(const std::string& name, const std::map<std::string, Family>& families) {
  if (families.count(name)) return name;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      auto base = name.substr(0, name.size() - s.size());
      auto it = families.find(base);
      if (it != families.end() && it->second.type == "histogram") return base;
    }
  }
  return {};
}

Scrape parse_scrape(const std::string& text) {
  Scrape scrape;
  if (text.empty() || text.back() != '\n') throw std::runtime_error("scrape does not end in \\n");
  std::istringstream in(text);
  std::string line;
  std::string current;  // the family whose samples are being read
  std::set<std::string> closed;
  while (std::getline(in, line)) {
    if (line.empty()) bad(line, "empty line");
    if (line[0] == '#') {
      std::smatch m;
      static const std::regex help("# HELP ([^ ]+) (.*)");
      static const std::regex type("# TYPE ([^ ]+) (counter|gauge|histogram|summary|untyped)");
      if (std::regex_match(line, m, help)) {
        const std::string name = m[1];
        if (!valid_metric_name(name)) bad(line, "invalid metric name");
        if (!scrape.families[name].help.empty()) bad(line, "second HELP");
        scrape.families[name].help = m[2];
      } else if (std::regex_match(line, m, type)) {
        const std::string name = m[1];
        if (!valid_metric_name(name)) bad(line, "invalid metric name");
        auto& f = scrape.families[name];
        if (!f.type.empty()) bad(line, "second TYPE");
        if (!f.samples.empty()) bad(line, "TYPE after samples");
        f.type = m[2];
        if (!current.empty() && current != name) closed.insert(current);
        if (closed.count(name)) bad(line, "family split in two");
        current = name;
      } else {
        bad(line, "a comment that is neither HELP nor TYPE");
      }
      continue;
    }
    // name{label="value",...} value
    std::size_t at = 0;
    while (at < line.size() && line[at] != '{' && line[at] != ' ') ++at;
    Sample s;
    s.name = line.substr(0, at);
    if (!valid_metric_name(s.name)) bad(line, "invalid metric name");
    if (at < line.size() && line[at] == '{') {
      ++at;
      while (true) {
        if (at < line.size() && line[at] == '}') {
          ++at;
          break;
        }
        const auto eq = line.find('=', at);
        if (eq == std::string::npos) bad(line, "label without '='");
        const std::string label = line.substr(at, eq - at);
        if (!valid_label_name(label)) bad(line, "invalid label name '" + label + "'");
        at = eq + 1;
        if (at >= line.size() || line[at] != '"') bad(line, "label value not quoted");
        ++at;
        std::string value;
        while (true) {
          if (at >= line.size()) bad(line, "unterminated label value");
          const char c = line[at++];
          if (c == '"') break;
          if (c == '\\') {
            if (at >= line.size()) bad(line, "dangling escape");
            const char e = line[at++];
            if (e == 'n') {
              value += '\n';
            } else if (e == '\\' || e == '"') {
              value += e;
            } else {
              bad(line, "unknown escape");
            }
          } else {
            value += c;
          }
        }
        if (s.labels.count(label)) bad(line, "label repeated");
        s.labels[label] = value;
        if (at < line.size() && line[at] == ',') {
          ++at;
        } else if (at >= line.size() || line[at] != '}') {
          bad(line, "labels not separated by ','");
        }
      }
    }
    if (at >= line.size() || line[at] != ' ') bad(line, "no single space before the value");
    const std::string rest = line.substr(at + 1);
    if (rest.empty() || rest.find(' ') != std::string::npos) {
      bad(line, "value missing, or a timestamp (none expected)");
    }
    s.value = parse_value(line, rest);
    const auto family = family_of(s.name, scrape.families);
    if (family.empty() || scrape.families[family].type.empty()) {
      bad(line, "sample without a preceding TYPE line");
    }
    if (family != current) bad(line, "sample outside its family's block");
    scrape.families[family].samples.push_back(std::move(s));
  }
  // Per family: counters end in _total and are >= 0; histograms are whole and cumulative.
  for (const auto& [name, f] : scrape.families) {
    INFO("family " << name);
    if (f.type.empty()) throw std::runtime_error("HELP without TYPE for " + name);
    if (f.type == "counter") {
      if (name.size() < 6 || name.substr(name.size() - 6) != "_total") {
        throw std::runtime_error("counter " + name + " does not end in _total");
      }
      for (const auto& s : f.samples) {
        if (!(s.value >= 0)) throw std::runtime_error("negative counter " + name);
      }
    }
    if (f.type == "histogram") {
      double previous_le = -INFINITY, previous_count = 0;
      bool inf = false;
      double count = -1, sum = NAN;
      for (const auto& s : f.samples) {
        if (s.name == name + "_bucket") {
          if (inf) throw std::runtime_error(name + ": a bucket after +Inf");
          if (s.labels.size() != 1 || !s.labels.count("le")) {
            throw std::runtime_error(name + ": a bucket without exactly an le label");
          }
          const double le = parse_value(s.labels.at("le"), s.labels.at("le"));
          if (!(le > previous_le)) throw std::runtime_error(name + ": le not increasing");
          if (s.value < previous_count) throw std::runtime_error(name + ": buckets not cumulative");
          if (s.value != std::floor(s.value)) throw std::runtime_error(name + ": fractional count");
          previous_le = le;
          previous_count = s.value;
          inf = std::isinf(le);
        } else if (s.name == name + "_sum") {
          sum = s.value;
        } else if (s.name == name + "_count") {
          count = s.value;
        } else {
          throw std::runtime_error(name + ": unexpected sample " + s.name);
        }
      }
      if (!inf) throw std::runtime_error(name + ": no +Inf bucket");
      if (count != previous_count) throw std::runtime_error(name + ": +Inf differs from _count");
      if (!(sum >= 0)) throw std::runtime_error(name + ": _sum missing or negative");
    }
  }
  return scrape;
}

Scrape scrape(HttpClient& c) {
  auto r = c.get("/metrics");
  REQUIRE(r.status == 200);
  REQUIRE(r.header("content-type") == "text/plain; version=0.0.4");
  return parse_scrape(r.body);
}

double outcome(const Scrape& s, const std::string& o) {
  return s.value("es_commands_total", {{"outcome", o}});
}

}  // namespace

TEST_CASE("the strict parser refuses malformed expositions", "[http][metrics]") {
  // The parser itself must fail where Prometheus would, or the checks below prove nothing.
  const std::string good =
      "# HELP x_total X.\n# TYPE x_total counter\nx_total{a=\"1\"} 3\n"
      "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
      "h_sum 0.7\nh_count 2\n";
  CHECK_NOTHROW(parse_scrape(good));
  CHECK_THROWS(parse_scrape("x_total 1\n"));                               // no TYPE
  CHECK_THROWS(parse_scrape("# TYPE x_total counter\nx_total{a=1} 1\n"));  // unquoted
  CHECK_THROWS(parse_scrape("# TYPE x_total counter\nx_total 1x\n"));      // value
  CHECK_THROWS(parse_scrape("# TYPE x counter\nx 1\n"));                   // _total
  CHECK_THROWS(parse_scrape("# TYPE 1x gauge\n1x 1\n"));                   // name
  CHECK_THROWS(
      parse_scrape("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
                   "h_sum 1\nh_count 1\n"));  // not cumulative
  CHECK_THROWS(
      parse_scrape("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 2\n"
                   "h_sum 1\nh_count 3\n"));  // +Inf != _count
  CHECK_THROWS(parse_scrape("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_sum 1\nh_count 2\n"));
}

TEST_CASE("GET /metrics: strict format, counters that follow the work done", "[http][metrics]") {
  auto server = start_server({"--passivate-after", "1"});
  HttpClient c(server->port());
  const auto before = scrape(c);
  for (const char* name :
       {"es_commands_total", "es_events_appended_total", "es_append_seconds", "es_command_seconds",
        "es_live_entities", "es_recoveries_total", "es_recovery_seconds", "es_passivations_total",
        "es_projection_lag_events", "es_store_up"}) {
    INFO(name);
    CHECK(before.families.count(name) == 1);
  }
  CHECK(before.families.at("es_command_seconds").type == "histogram");
  CHECK(before.families.at("es_live_entities").type == "gauge");
  CHECK(before.value("es_store_up") == 1);
  for (const char* o : {"ok", "conflict", "invalid", "not_found", "unavailable", "error"}) {
    CHECK(before.has("es_commands_total", {{"outcome", o}}));
  }

  // N creations and a PATCH of 2 attributes: N + 1 ok commands, N + 2 events.
  constexpr int kCreated = 7;
  std::vector<std::string> ids;
  for (int i = 0; i < kCreated; ++i) ids.push_back(id_of(c.post("/examples", R"({"a": 1})")));
  REQUIRE(c.patch("/examples/" + ids[0], R"({"a": 2, "b": 3})").status == 200);
  REQUIRE(c.post("/examples/" + ids[1] + "/heartbeats", R"({"count": 5})").status == 200);
  auto after = scrape(c);
  CHECK(outcome(after, "ok") - outcome(before, "ok") == kCreated + 2);
  CHECK(after.value("es_events_appended_total") - before.value("es_events_appended_total") ==
        kCreated + 2 + 5);
  CHECK(after.value("es_command_seconds_count") - before.value("es_command_seconds_count") ==
        kCreated + 2);
  CHECK(after.value("es_command_seconds_sum") > before.value("es_command_seconds_sum"));
  CHECK(after.value("es_append_seconds_count") > before.value("es_append_seconds_count"));
  CHECK(after.value("es_live_entities") >= kCreated);

  // Refusals: a bad body (400), an unknown entity (404), a stale If-Match (412).
  CHECK(c.patch("/examples/" + ids[0], R"({"nope": 1})").status == 400);
  CHECK(c.patch("/examples/" + ids[0], "not json").status == 400);
  CHECK(c.patch("/examples/00000000-0000-4000-8000-0000000000aa", R"({"a": 1})").status == 404);
  CHECK(c.request("PATCH", "/examples/" + ids[0], R"({"a": 9})", {{"If-Match", "\"0\""}}).status ==
        412);
  const auto refused = scrape(c);
  CHECK(outcome(refused, "invalid") - outcome(after, "invalid") == 2);
  CHECK(outcome(refused, "not_found") - outcome(after, "not_found") == 1);
  CHECK(outcome(refused, "conflict") - outcome(after, "conflict") == 1);
  CHECK(outcome(refused, "ok") == outcome(after, "ok"));
  CHECK(refused.value("es_events_appended_total") == after.value("es_events_appended_total"));

  // Passivation after 1 s idle, then a recovery when the entity is used again.
  CHECK(eventually(
      [&] {
        auto s = scrape(c);
        return s.value("es_passivations_total") - refused.value("es_passivations_total") >=
                   kCreated &&
               s.value("es_live_entities") == 0;
      },
      20s));
  const auto passivated = scrape(c);
  REQUIRE(c.get("/examples/" + ids[0]).status == 200);
  const auto recovered = scrape(c);
  CHECK(recovered.value("es_recoveries_total") - passivated.value("es_recoveries_total") == 1);
  CHECK(recovered.value("es_recovery_seconds_count") -
            passivated.value("es_recovery_seconds_count") ==
        1);
  CHECK(recovered.value("es_live_entities") == 1);

  // The projection catches up: lag 0 on every partition.
  CHECK(eventually(
      [&] {
        auto s = scrape(c);
        const auto& f = s.families.at("es_projection_lag_events");
        if (f.samples.size() != 16) return false;
        for (const auto& sample : f.samples) {
          if (sample.value != 0) return false;
        }
        return true;
      },
      20s));
  CHECK(server->stop() == 0);

  // A restarted server counts from zero and recovers what it is asked for.
  auto again = start_server();
  HttpClient c2(again->port());
  const auto fresh = scrape(c2);
  CHECK(fresh.value("es_recoveries_total") == 0);
  CHECK(outcome(fresh, "ok") == 0);
  for (int i = 0; i < 3; ++i) REQUIRE(c2.get("/examples/" + ids[i]).status == 200);
  CHECK(scrape(c2).value("es_recoveries_total") == 3);
  CHECK(again->stop() == 0);
}

TEST_CASE("GET /metrics with Redis stopped: es_store_up 0, still a valid scrape",
          "[http][metrics]") {
  auto& redis = redis_server();
  auto server = start_server();
  HttpClient c(server->port(), 20s);
  const auto id = id_of(c.post("/examples"));
  CHECK(scrape(c).value("es_store_up") == 1);
  redis.kill();
  CHECK(eventually([&] { return scrape(c).value("es_store_up") == 0; }, 10s));
  const auto down = scrape(c);
  CHECK(down.families.at("es_projection_lag_events").samples.empty());
  // A command now fails as unavailable (answered by the health check or the actor).
  CHECK(c.patch("/examples/" + id, R"({"a": 1})").status == 503);
  redis.restart();
  CHECK(eventually([&] { return scrape(c).value("es_store_up") == 1; }, 20s));
  CHECK(server->stop() == 0);
}

TEST_CASE("GET /metrics on the memory store", "[http][metrics]") {
  auto server =
      std::make_unique<ServerProcess>(std::vector<std::string>{"--store", "memory", "--quiet"});
  HttpClient c(server->port());
  REQUIRE(c.post("/examples").status == 201);
  const auto s = scrape(c);
  CHECK(s.value("es_store_up") == 1);
  CHECK(outcome(s, "ok") == 1);
  CHECK(s.value("es_events_appended_total") == 1);
  CHECK(c.request("POST", "/metrics").status == 405);
  CHECK(server->stop() == 0);
}
