// A JSON value inside a message. Between actors of one process it travels as data (parsed
// once, at the edge); between nodes as its canonical JSON text, parsed back with the stored
// form's rules (integer literals beyond 64 bits become doubles, so every value round-trips).
#pragma once

#include "domain/canonical_json.hpp"
#include "domain/json_parse.hpp"

#include <boost/json/value.hpp>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

#include <string>

namespace es {

struct Json {
  boost::json::value value = "";
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Json& x) {
  std::string text;
  if constexpr (Inspector::reads_state) text = canonical_json(x.value);
  auto parse = [&]() -> caf::error {
    try {
      x.value = parse_json(text);
    } catch (const std::exception&) {
      return caf::sec::invalid_argument;
    }
    return caf::none;
  };
  return f(caf::meta::type_name("es.Json"), text, caf::meta::load_callback(parse));
}

}  // namespace es
