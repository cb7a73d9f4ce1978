#include "actors/error_code.hpp"

#include "domain/errors.hpp"

#include <caf/atom.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace es {

namespace {
constexpr caf::atom_value kCategory = caf::atom("es");
}

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::none:
      return "none";
    case ErrorCode::not_found:
      return "not_found";
    case ErrorCode::discarded:
      return "discarded";
    case ErrorCode::concurrency:
      return "concurrency";
    case ErrorCode::integrity:
      return "integrity";
    case ErrorCode::invalid:
      return "invalid";
    case ErrorCode::precondition_failed:
      return "precondition_failed";
    case ErrorCode::overloaded:
      return "overloaded";
    case ErrorCode::unavailable:
      return "unavailable";
    case ErrorCode::topic:
      return "topic";
    case ErrorCode::internal:
      return "internal";
  }
  return "unknown";
}

caf::error make_error(ErrorCode code, std::string reason) {
  return caf::error(static_cast<std::uint8_t>(code), kCategory,
                    caf::make_message(std::move(reason)));
}

ErrorCode code_of(const caf::error& error) {
  if (!error) return ErrorCode::none;
  if (error.category() == kCategory) return static_cast<ErrorCode>(error.code());
  if (error.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(error.code())) {
      case caf::sec::request_timeout:
      case caf::sec::request_receiver_down:
      case caf::sec::remote_linking_failed:
      case caf::sec::cannot_connect_to_node:
      case caf::sec::connection_timeout:
      case caf::sec::socket_disconnected:
      case caf::sec::remote_lookup_failed:
      case caf::sec::no_route_to_receiving_node:
        return ErrorCode::unavailable;
      default:
        break;
    }
  }
  return ErrorCode::internal;
}

std::string reason_of(const caf::error& error) {
  if (error.category() == kCategory && error.context().match_elements<std::string>()) {
    return error.context().get_as<std::string>(0);
  }
  if (error.category() == caf::atom("system")) {
    return "actor system: " + caf::to_string(static_cast<caf::sec>(error.code()));
  }
  return "error " + std::to_string(error.code());
}

caf::error current_exception_to_error() {
  try {
    throw;
  } catch (const RepositoryKeyError& e) {
    return make_error(ErrorCode::not_found, e.what());
  } catch (const EntityIsDiscarded& e) {
    return make_error(ErrorCode::discarded, e.what());
  } catch (const PreconditionFailed& e) {
    return make_error(ErrorCode::precondition_failed, e.what());
  } catch (const Overloaded& e) {
    return make_error(ErrorCode::overloaded, e.what());
  } catch (const ConcurrencyError& e) {
    return make_error(ErrorCode::concurrency, e.what());
  } catch (const DataIntegrityError& e) {
    return make_error(ErrorCode::integrity, e.what());
  } catch (const InvalidInput& e) {
    return make_error(ErrorCode::invalid, e.what());
  } catch (const StoreUnavailable& e) {
    return make_error(ErrorCode::unavailable, e.what());
  } catch (const TopicResolutionError& e) {
    return make_error(ErrorCode::topic, e.what());
  } catch (const OriginatorIDError& e) {
    return make_error(ErrorCode::integrity, e.what());
  } catch (const OriginatorVersionError& e) {
    return make_error(ErrorCode::integrity, e.what());
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal, e.what());
  } catch (...) {
    return make_error(ErrorCode::internal, "unknown exception");
  }
}

void throw_as_exception(const caf::error& error) {
  std::string reason = reason_of(error);
  switch (code_of(error)) {
    case ErrorCode::not_found:
      throw RepositoryKeyError(reason);
    case ErrorCode::discarded:
      throw EntityIsDiscarded(reason);
    case ErrorCode::concurrency:
      throw ConcurrencyError(reason);
    case ErrorCode::integrity:
      throw DataIntegrityError(reason);
    case ErrorCode::invalid:
      throw InvalidInput(reason);
    case ErrorCode::precondition_failed:
      throw PreconditionFailed(reason);
    case ErrorCode::unavailable:
      throw StoreUnavailable(reason);
    case ErrorCode::topic:
      throw TopicResolutionError(reason);
    case ErrorCode::overloaded:
      throw Overloaded(reason);
    case ErrorCode::none:
    case ErrorCode::internal:
      break;
  }
  throw Error(reason);
}

}  // namespace es
