// Why: every Redis consumer (record manager, launcher, samples' --redis flag) takes one URL
// string; parsing it in one place keeps the accepted forms, the errors and the password
// masking consistent, so that no log line or error message ever shows a password.
#pragma once

#include <string>
#include <string_view>

namespace es {

// A parsed `redis://[[USER]:PASSWORD@]HOST:PORT[/DB]` URL. HOST is a name, an IPv4 address
// or a bracketed IPv6 address; PASSWORD may be percent-encoded.
struct RedisUrl {
  std::string host;
  int port = 6379;
  std::string user;      // empty: AUTH with the password only (the default user)
  std::string password;  // empty: no AUTH
  int db = 0;

  // ConfigurationError (without the password in its message) for anything else.
  static RedisUrl parse(std::string_view text);

  // The URL with the password replaced by `***`; safe to log.
  std::string to_string() const;
  // The URL with the password in clear, for handing to another program (never log it).
  std::string to_string_with_password() const;
};

}  // namespace es
