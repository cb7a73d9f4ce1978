// A transfer between two accounts: requested, then completed or declined with a reason. The
// transfer process (transfer_process.hpp) moves the money and records the outcome here; the
// first outcome stays, so an outcome delivered again changes nothing.
#pragma once

#include "actors/entity_binding.hpp"
#include "domain/uuid.hpp"
#include "samples/bank/account.hpp"

namespace bank {

struct RequestTransfer {
  static constexpr bool creates = true;
  std::string from, to;  // account ids
  std::int64_t amount = 0;
};
struct CompleteTransfer {};
struct DeclineTransfer {
  std::string reason;
};
ES_FIELDS(RequestTransfer, from, to, amount)
ES_FIELDS(CompleteTransfer, )
ES_FIELDS(DeclineTransfer, reason)

struct TransferRequested : RequestTransfer {
  static constexpr std::string_view topic = "bank.Transfer.Requested";
};
struct TransferCompleted {
  static constexpr std::string_view topic = "bank.Transfer.Completed";
};
struct TransferDeclined : DeclineTransfer {
  static constexpr std::string_view topic = "bank.Transfer.Declined";
};
ES_FIELDS(TransferRequested, from, to, amount)
ES_FIELDS(TransferCompleted, )
ES_FIELDS(TransferDeclined, reason)

struct TransferState {
  std::string from, to;
  std::int64_t amount = 0;
  std::string status;  // "requested", "completed" or "declined"
  std::string reason;  // why it was declined
};
ES_FIELDS(TransferState, from, to, amount, status, reason)

struct TransferBinding {
  static constexpr std::string_view topic = "bank.Transfer";
  using State = TransferState;
  using Events = es::EventTypes<TransferRequested, TransferCompleted, TransferDeclined>;
  using Command = es::Commands<RequestTransfer, CompleteTransfer, DeclineTransfer>;

  static void apply(State& s, const TransferRequested& e) {
    s = {e.from, e.to, e.amount, "requested", ""};
  }
  static void apply(State& s, const TransferCompleted&) { s.status = "completed"; }
  static void apply(State& s, const TransferDeclined& e) {
    s.status = "declined";
    s.reason = e.reason;
  }

  static es::Decision decide(const State&, const RequestTransfer& c) {
    const auto from = es::parse_uuid(c.from), to = es::parse_uuid(c.to);
    if (!from || !to || *from == *to)
      throw es::InvalidInput("a transfer needs two distinct account ids");
    if (c.amount < 1 || c.amount > AccountBinding::kMaxAmount)
      throw es::InvalidInput("an amount must be within 1..10^12 cents");
    return es::Decision(TransferRequested{{es::to_string(*from), es::to_string(*to), c.amount}});
  }
  static es::Decision decide(const State& s, const CompleteTransfer&) {
    return s.status == "requested" ? es::Decision(TransferCompleted{}) : es::Decision();
  }
  static es::Decision decide(const State& s, const DeclineTransfer& c) {
    if (c.reason.empty()) throw es::InvalidInput("a declined transfer needs a reason");
    return s.status == "requested" ? es::Decision(TransferDeclined{c}) : es::Decision();
  }
};

using Transfer = es::Aggregate<TransferBinding>;

}  // namespace bank
