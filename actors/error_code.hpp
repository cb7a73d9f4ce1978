// How the runtime's typed errors travel between actors (and nodes): a CAF error with the
// category atom "es", one of these codes, and the reason text as its context. The blocking
// facade turns them back into the exceptions of domain/errors.hpp.
#pragma once

#include <caf/error.hpp>

#include <cstdint>
#include <exception>
#include <string>

namespace es {

enum class ErrorCode : std::uint8_t {
  none = 0,
  not_found,            // RepositoryKeyError: unknown or discarded id
  discarded,            // EntityIsDiscarded
  concurrency,          // ConcurrencyError: the store refused the version
  integrity,            // DataIntegrityError (hash chain, cipher, corrupt record)
  invalid,              // InvalidInput: a malformed command
  precondition_failed,  // an expected version (If-Match) did not match
  overloaded,           // too many commands in flight
  unavailable,          // StoreUnavailable, or a node that cannot be reached
  topic,                // TopicResolutionError
  internal,             // anything else
};

const char* to_string(ErrorCode code);

caf::error make_error(ErrorCode code, std::string reason);

// The code of an error of our category; ErrorCode::unavailable for CAF's own errors about
// unreachable or vanished actors and timeouts; ErrorCode::internal for anything else.
ErrorCode code_of(const caf::error& error);
// The reason text carried by an error (or CAF's rendering of a foreign error).
std::string reason_of(const caf::error& error);

// The error for the exception being handled (call inside a catch block).
caf::error current_exception_to_error();

// Throws the exception of domain/errors.hpp that matches `error`.
[[noreturn]] void throw_as_exception(const caf::error& error);

}  // namespace es
