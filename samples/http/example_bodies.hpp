// Why: the request bodies of the Example routes have exact rules in HTTP_API.md (I-JSON,
// an object, known keys only, PATCH non-empty and applied in the order foo, a, b, `count`
// an integer literal 1..10000). Pure functions, so the rules are tested without a server;
// every violation throws BadRequest, whose text becomes the 400 answer.
#pragma once

#include "samples/example/example_binding.hpp"

#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace es::http {

class BadRequest : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// POST /examples: empty, or an object with any of foo, a, b (any JSON values).
CreateExample parse_create_body(std::string_view body);
// PATCH /examples/<id>: an object with at least one of foo, a, b; in the order foo, a, b.
std::vector<AttributeChange> parse_patch_body(std::string_view body);
// POST /examples/<id>/heartbeats: empty, {} or {"count": n}, n an integer 1..10000.
std::int32_t parse_heartbeats_body(std::string_view body);

}  // namespace es::http
