// Why: see representation.hpp.
#include "samples/http/representation.hpp"

#include "domain/json_parse.hpp"

#include <boost/beast/http/field.hpp>

#include <charconv>

namespace es::http {

namespace bhttp = boost::beast::http;

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 (Unicode 3.9 table 3-7).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto c = b(0);
  const std::size_t left = s.size() - i;
  auto cont = [&](std::size_t k) { return (b(k) & 0xC0) == 0x80; };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return left >= 2 && cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || !cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;
    if (c == 0xED && b(1) > 0x9F) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || !cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;
    if (c == 0xF4 && b(1) > 0x8F) return 0;
    return 4;
  }
  return 0;
}

void append_int(std::string& out, std::int64_t v) {
  out += std::to_string(v);
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    // The common case: a run of printable ASCII that needs no escape, copied at once.
    std::size_t run = i;
    while (run < s.size()) {
      const auto c = static_cast<unsigned char>(s[run]);
      if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
      ++run;
    }
    out.append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const auto n = utf8_sequence(s, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD
        ++i;
      } else {
        out.append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xF]);
    }
    ++i;
  }
  out.push_back('"');
}

std::string entity_json(const ExampleView& v) {
  std::string out;
  out.reserve(220 + v.foo_json.size() + v.a_json.size() + v.b_json.size());
  out += "{\"id\":";
  append_json_string(out, v.id);
  out += ",\"version\":";
  append_int(out, v.version);
  out += ",\"foo\":";
  out += v.foo_json;
  out += ",\"a\":";
  out += v.a_json;
  out += ",\"b\":";
  out += v.b_json;
  out += ",\"heartbeats\":";
  append_int(out, v.heartbeats);
  out += ",\"created_on\":";
  append_int(out, v.created_on);
  out += ",\"last_modified\":";
  append_int(out, v.last_modified);
  out += ",\"head\":";
  append_json_string(out, v.head);
  out += '}';
  return out;
}

void append_events_json(std::string& out, const std::vector<EventView>& events) {
  // One allocation for the whole page (a growing string would briefly hold two copies):
  // keys and punctuation take 74 bytes, the two integers at most 40; escapes are rare.
  std::size_t size = out.size() + 2;
  for (const auto& e : events) {
    size += 114 + e.topic.size() + e.previous_hash.size() + e.hash.size() + e.data_json.size();
  }
  out.reserve(size);
  out.push_back('[');
  bool first = true;
  for (const auto& e : events) {
    if (!first) out.push_back(',');
    first = false;
    out += "{\"version\":";
    append_int(out, e.version);
    out += ",\"topic\":";
    append_json_string(out, e.topic);
    out += ",\"timestamp\":";
    append_int(out, e.timestamp);
    out += ",\"previous_hash\":";
    append_json_string(out, e.previous_hash);
    out += ",\"hash\":";
    append_json_string(out, e.hash);
    out += ",\"data\":";
    out += e.data_json.empty() ? std::string_view("{}") : std::string_view(e.data_json);
    out.push_back('}');
  }
  out.push_back(']');
}

std::string events_json(const std::vector<EventView>& events) {
  std::string out;
  append_events_json(out, events);
  return out;
}

std::string etag_of(std::int64_t version) {
  return "\"" + std::to_string(version) + "\"";
}

Response json_response(unsigned status, std::string body) {
  Response r{static_cast<bhttp::status>(status), 11};
  r.set(bhttp::field::content_type, "application/json");
  r.body() = std::move(body);
  return r;
}

Response error_response(unsigned status, std::string_view reason) {
  std::string body = "{\"error\":";
  append_json_string(body, reason);
  body.push_back('}');
  return json_response(status, std::move(body));
}

Response entity_response(unsigned status, const ExampleView& view) {
  auto r = json_response(status, entity_json(view));
  r.set(bhttp::field::etag, etag_of(view.version));
  return r;
}

Response text_response(unsigned status, std::string body, std::string_view content_type) {
  Response r{static_cast<bhttp::status>(status), 11};
  r.set(bhttp::field::content_type, content_type);
  r.body() = std::move(body);
  return r;
}

std::string hello_html(const ExampleView& view) {
  std::string text = view.foo_json;
  try {
    auto value = parse_json(view.foo_json);
    if (value.is_string()) text = std::string(value.get_string());
  } catch (...) {
    // Not expected (the actors hold canonical JSON); show the text as it is.
  }
  std::string out = "<h1 style='color:blue'>";
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  out += "</h1>";
  return out;
}

}  // namespace es::http
