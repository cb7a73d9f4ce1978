// The typed error hierarchy of the runtime. Every failure a caller may want to tell apart
// has its own type; all derive from es::Error so that a caller can also catch them at once.
#pragma once

#include <stdexcept>
#include <string>

namespace es {

// Root of every error this library throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Replay found an event of another entity.
class OriginatorIDError : public Error {
 public:
  using Error::Error;
};

// Replay found an event whose version is not the entity's version + 1.
class OriginatorVersionError : public Error {
 public:
  using Error::Error;
};

// Stored data failed an integrity check (hash chain, cipher tag, corrupt record).
class DataIntegrityError : public Error {
 public:
  using Error::Error;
};

// An event's previous_hash is not the entity's head.
class HeadHashError : public DataIntegrityError {
 public:
  using DataIntegrityError::DataIntegrityError;
};

// An event's own hash does not recompute.
class EventHashError : public DataIntegrityError {
 public:
  using DataIntegrityError::DataIntegrityError;
};

// A stored record cannot be decoded (bad base64, failed tag, wrong key, truncated or
// non-object JSON, missing or mistyped field). Also a DataIntegrityError, as in the reference.
class RecordDecodingError : public DataIntegrityError {
 public:
  using DataIntegrityError::DataIntegrityError;
};

// A command was given to a discarded entity.
class EntityIsDiscarded : public Error {
 public:
  using Error::Error;
};

// The store already holds an event at a version this append wanted to write.
class ConcurrencyError : public Error {
 public:
  using Error::Error;
};

// A command named the version it expects the entity to be at, and it is at another
// (HTTP If-Match).
class PreconditionFailed : public ConcurrencyError {
 public:
  using ConcurrencyError::ConcurrencyError;
};

// The runtime refuses work past its configured number of commands in flight.
class Overloaded : public Error {
 public:
  using Error::Error;
};

// The repository has no (live) entity with this id.
class RepositoryKeyError : public Error {
 public:
  using Error::Error;
};

// A topic names no registered event or entity type.
class TopicResolutionError : public Error {
 public:
  using Error::Error;
};

// Input that is not acceptable: invalid UTF-8, a non-finite number, a bad argument.
class InvalidInput : public Error {
 public:
  using Error::Error;
};

// The store cannot be reached within its timeout.
class StoreUnavailable : public Error {
 public:
  using Error::Error;
};

// A configuration value is wrong (bad URL, bad key length, partition count mismatch).
class ConfigurationError : public Error {
 public:
  using Error::Error;
};

}  // namespace es
