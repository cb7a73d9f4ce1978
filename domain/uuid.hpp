// Entity ids: random (v4) UUIDs, written as lowercase hyphenated text on the wire.
#pragma once

#include <boost/uuid/uuid.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace es {

using Uuid = boost::uuids::uuid;

// A fresh random (version 4) UUID; thread-safe.
Uuid new_uuid();

// Lowercase hyphenated text, 36 characters.
std::string to_string(const Uuid& id);

// Strict parse of the 36-character hyphenated form; hex digits in either case.
// Returns nothing for anything else (braces, missing hyphens, other lengths).
std::optional<Uuid> parse_uuid(std::string_view text);

}  // namespace es
