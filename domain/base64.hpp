// Standard base64 (RFC 4648 section 4: alphabet A-Z a-z 0-9 + /, '=' padding, no line breaks).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace es {

// Encodes arbitrary bytes; the output is padded to a multiple of 4 characters.
std::string base64_encode(std::string_view bytes);

// Strict decode: the length must be a multiple of 4, only alphabet characters, '=' only as
// the last one or two characters, and the unused bits before the padding must be zero (the
// canonical form). Whitespace, line breaks and the URL-safe alphabet are rejected.
// Returns nothing for any input that is not canonical base64; "" decodes to "".
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace es
