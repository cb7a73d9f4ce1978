// Why: see router.hpp. Matching is a linear scan over a handful of routes: cheaper than any
// index for this size, and it keeps the "literal beats parameter" rule obvious.
#include "samples/http/router.hpp"

#include "samples/http/representation.hpp"
#include "samples/http/request_parsing.hpp"

#include <exception>
#include <stdexcept>

namespace es::http {

Responder::Responder(Sink sink, StreamSink stream_sink) : state_(std::make_shared<State>()) {
  state_->sink = std::move(sink);
  state_->stream_sink = std::move(stream_sink);
}

std::shared_ptr<ResponseStream> Responder::stream(Response head) const {
  if (!state_->stream_sink || state_->done.exchange(true)) return nullptr;
  return state_->stream_sink(std::move(head));
}

void Responder::operator()(Response response) const {
  if (state_->done.exchange(true)) return;
  state_->sink(std::move(response));
}

Responder::State::~State() {
  if (done.load()) return;
  try {
    sink(error_response(500, "internal error: the request was dropped without an answer"));
  } catch (...) {
    // A destructor must not throw; the connection then closes on its timeout.
  }
}

namespace {

// Splits "/a/b/c" into {"a", "b", "c"}; "/" gives {}.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.size() <= 1) return out;
  std::size_t start = 1;
  while (true) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(path.substr(start));
      break;
    }
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

}  // namespace

void Router::add(Verb method, std::string_view pattern, Handler handler) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern must start with '/'");
  }
  for (auto& route : routes_) {
    if (route.pattern == pattern) {
      for (auto& m : route.methods) {
        if (m.verb == method) throw std::invalid_argument("route added twice");
      }
      route.methods.push_back({method, std::move(handler)});
      route.allow += ", ";
      route.allow += std::string(boost::beast::http::to_string(method));
      return;
    }
  }
  Route route;
  route.pattern = std::string(pattern);
  for (auto part : split_path(pattern)) {
    Segment s;
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      s.parameter = true;
    } else {
      s.literal = std::string(part);
    }
    route.segments.push_back(std::move(s));
  }
  route.methods.push_back({method, std::move(handler)});
  route.allow = std::string(boost::beast::http::to_string(method));
  routes_.push_back(std::move(route));
}

void Router::dispatch(const std::shared_ptr<Exchange>& exchange, const Responder& respond) const {
  const auto parts = split_path(exchange->path);
  const Route* best = nullptr;
  std::size_t best_literals = 0;
  for (const auto& route : routes_) {
    if (route.segments.size() != parts.size()) continue;
    std::size_t literals = 0;
    bool match = true;
    for (std::size_t i = 0; i < parts.size() && match; ++i) {
      const auto& s = route.segments[i];
      if (s.parameter) {
        match = !parts[i].empty();
      } else {
        match = s.literal == parts[i];
        ++literals;
      }
    }
    if (match && (best == nullptr || literals > best_literals)) {
      best = &route;
      best_literals = literals;
    }
  }
  if (best == nullptr) {
    respond(error_response(404, "no such route"));
    return;
  }
  const Method* method = nullptr;
  for (const auto& m : best->methods) {
    if (m.verb == exchange->request.method() && m.verb != Verb::unknown) method = &m;
  }
  if (method == nullptr) {
    auto response = error_response(405, "method not allowed; allowed: " + best->allow);
    response.set(boost::beast::http::field::allow, best->allow);
    respond(std::move(response));
    return;
  }
  exchange->params.clear();
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (!best->segments[i].parameter) continue;
    auto decoded = percent_decode(parts[i], false);
    if (!decoded) {
      respond(error_response(400, "malformed percent-encoding in the path"));
      return;
    }
    exchange->params.push_back(std::move(*decoded));
  }
  try {
    method->handler(exchange, respond);
  } catch (const std::exception& e) {
    respond(error_response(500, std::string("internal error: ") + e.what()));
  } catch (...) {
    respond(error_response(500, "internal error"));
  }
}

bool split_target(std::string_view target, std::string& path, std::string& query) {
  // absolute-form (RFC 7230 5.3.2): drop scheme and authority.
  std::string owned;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() > scheme.size() && target.substr(0, scheme.size()) == scheme) {
      auto rest = target.substr(scheme.size());
      auto end = rest.find_first_of("/?");
      if (end == std::string_view::npos) {
        target = "/";
      } else if (rest[end] == '?') {
        owned = "/" + std::string(rest.substr(end));
        target = owned;
      } else {
        target = rest.substr(end);
      }
      break;
    }
  }
  if (target.empty() || target.front() != '/') return false;
  auto mark = target.find('?');
  if (mark == std::string_view::npos) {
    path.assign(target);
    query.clear();
  } else {
    path.assign(target.substr(0, mark));
    query.assign(target.substr(mark + 1));
  }
  auto hash = query.find('#');
  if (hash != std::string::npos) query.resize(hash);
  return true;
}

}  // namespace es::http
