// Why: HTTP_API.md fixes the representation byte for byte in places (entity keys, ETag,
// error bodies); one file builds every body and header the server sends, so routes cannot
// drift apart. Bodies are written by hand from the canonical JSON the actors already hold:
// no parse and re-serialise on the hot path.
#pragma once

#include "actors/messages.hpp"
#include "samples/example/example_binding.hpp"
#include "samples/http/router.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace es::http {

// Appends `s` as a JSON string literal. Bytes that are not valid UTF-8 become U+FFFD, so a
// body is valid JSON whatever an error message quotes.
void append_json_string(std::string& out, std::string_view s);

// {"id": ..., "version": ..., "foo": ..., "a": ..., "b": ..., "heartbeats": ...,
//  "created_on": ..., "last_modified": ..., "head": ...}
std::string entity_json(const ExampleView& view);
// [{"version", "topic", "timestamp", "previous_hash", "hash", "data"}, ...]
std::string events_json(const std::vector<EventView>& events);
// The same, appended to `out` (a response body: a page is written once, never copied).
void append_events_json(std::string& out, const std::vector<EventView>& events);

// "\"<version>\"": the strong entity tag of a version.
std::string etag_of(std::int64_t version);

Response json_response(unsigned status, std::string body);
// {"error": "<reason>"} with `status`.
Response error_response(unsigned status, std::string_view reason);
// The entity with its ETag.
Response entity_response(unsigned status, const ExampleView& view);
Response text_response(unsigned status, std::string body, std::string_view content_type);

// <h1 style='color:blue'>FOO</h1>, FOO being the foo attribute (a string's value, else its
// JSON text), HTML-escaped; as the reference's Flask index page.
std::string hello_html(const ExampleView& view);

}  // namespace es::http
