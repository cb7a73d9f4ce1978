// A bank account, issue 10's second application, in amounts of cents. Transfer steps may come
// twice (redelivered after a crash): the account remembers them and then decides nothing.
#pragma once

#include "actors/entity_binding.hpp"

#include <set>

namespace bank {

struct OpenAccount {
  static constexpr bool creates = true;
  std::string owner;
  std::int64_t overdraft_limit = 0;  // the balance may go down to -overdraft_limit
};
struct Deposit {
  std::int64_t amount = 0;
};
struct Withdraw {
  std::int64_t amount = 0;
};
struct CloseAccount {};
struct DebitForTransfer {
  std::string transfer_id, to;
  std::int64_t amount = 0;
};
struct CreditForTransfer {
  std::string transfer_id, from;
  std::int64_t amount = 0;
};
struct RefundTransfer {
  std::string transfer_id, reason;
  std::int64_t amount = 0;
};
ES_FIELDS(OpenAccount, owner, overdraft_limit)
ES_FIELDS(Deposit, amount)
ES_FIELDS(Withdraw, amount)
ES_FIELDS(CloseAccount, )
ES_FIELDS(DebitForTransfer, transfer_id, to, amount)
ES_FIELDS(CreditForTransfer, transfer_id, from, amount)
ES_FIELDS(RefundTransfer, transfer_id, reason, amount)

struct AccountOpened : OpenAccount {  // events mostly record accepted commands as they were
  static constexpr std::string_view topic = "bank.Account.Opened";
};
struct Deposited : Deposit {
  static constexpr std::string_view topic = "bank.Account.Deposited";
};
struct Withdrawn : Withdraw {
  static constexpr std::string_view topic = "bank.Account.Withdrawn";
};
struct AccountClosed {
  static constexpr std::string_view topic = "bank.Account.Closed";
};
struct TransferDebited : DebitForTransfer {
  static constexpr std::string_view topic = "bank.Account.TransferDebited";
};
struct TransferDebitDeclined {
  static constexpr std::string_view topic = "bank.Account.TransferDebitDeclined";
  std::string transfer_id, reason;
};
struct TransferCredited : CreditForTransfer {
  static constexpr std::string_view topic = "bank.Account.TransferCredited";
};
struct TransferRefunded : RefundTransfer {
  static constexpr std::string_view topic = "bank.Account.TransferRefunded";
};
ES_FIELDS(AccountOpened, owner, overdraft_limit)
ES_FIELDS(Deposited, amount)
ES_FIELDS(Withdrawn, amount)
ES_FIELDS(AccountClosed, )
ES_FIELDS(TransferDebited, transfer_id, to, amount)
ES_FIELDS(TransferDebitDeclined, transfer_id, reason)
ES_FIELDS(TransferCredited, transfer_id, from, amount)
ES_FIELDS(TransferRefunded, transfer_id, reason, amount)

struct AccountState {
  std::string owner;
  std::int64_t overdraft_limit = 0, balance = 0;
  bool closed = false;
  std::set<std::string> steps;  // "d:<transfer id>" debited, "n:" debit declined, "c:", "r:"
};
ES_FIELDS(AccountState, owner, overdraft_limit, balance, closed, steps)

struct AccountBinding {
  static constexpr std::string_view topic = "bank.Account";
  using State = AccountState;
  using Events = es::EventTypes<AccountOpened, Deposited, Withdrawn, AccountClosed, TransferDebited,
                                TransferDebitDeclined, TransferCredited, TransferRefunded>;
  using Command = es::Commands<OpenAccount, Deposit, Withdraw, CloseAccount, DebitForTransfer,
                               CreditForTransfer, RefundTransfer>;
  using D = es::Decision;
  static constexpr std::int64_t kMaxAmount = 1'000'000'000'000;  // no balance can overflow

  static void apply(State& s, const AccountOpened& e) {
    s = {e.owner, e.overdraft_limit, 0, false, {}};
  }
  static void apply(State& s, const Deposited& e) { s.balance += e.amount; }
  static void apply(State& s, const Withdrawn& e) { s.balance -= e.amount; }
  static void apply(State& s, const AccountClosed&) { s.closed = true; }
  static void apply(State& s, const TransferDebited& e) { step(s, "d:", e.transfer_id, -e.amount); }
  static void apply(State& s, const TransferDebitDeclined& e) { step(s, "n:", e.transfer_id, 0); }
  static void apply(State& s, const TransferCredited& e) { step(s, "c:", e.transfer_id, e.amount); }
  static void apply(State& s, const TransferRefunded& e) { step(s, "r:", e.transfer_id, e.amount); }

  static D decide(const State&, const OpenAccount& c) {
    if (c.owner.empty() || c.overdraft_limit < 0 || c.overdraft_limit > kMaxAmount)
      throw es::InvalidInput("an account needs an owner and a limit of 0..10^12 cents");
    return D(AccountOpened{c});
  }
  static D decide(const State& s, const Deposit& c) { return D(Deposited{valid(s, c)}); }
  static D decide(const State& s, const Withdraw& c) {
    if (!covers(s, valid(s, c).amount)) throw es::InvalidInput("insufficient funds");
    return D(Withdrawn{c});
  }
  static D decide(const State& s, const CloseAccount&) {
    if (s.closed || s.balance != 0) throw es::InvalidInput("only an open, empty account closes");
    return D(AccountClosed{});
  }
  static D decide(const State& s, const DebitForTransfer& c) {  // declines: events (funds vary)
    if (s.steps.count("d:" + c.transfer_id) || s.steps.count("n:" + c.transfer_id)) return {};
    if (covers(s, valid(s, c).amount)) return D(TransferDebited{c});
    return D(TransferDebitDeclined{c.transfer_id, "insufficient funds"});
  }
  static D decide(const State& s, const CreditForTransfer& c) {
    return s.steps.count("c:" + c.transfer_id) ? D() : D(TransferCredited{valid(s, c)});
  }
  static D decide(const State& s, const RefundTransfer& c) {
    if (s.steps.count("r:" + c.transfer_id)) return {};
    if (!s.steps.count("d:" + c.transfer_id)) throw es::InvalidInput("nothing to refund");
    return D(TransferRefunded{valid(s, c, false)});  // closed since or not: its own money
  }

 private:
  static void step(State& s, const char* kind, const std::string& id, std::int64_t change) {
    s.steps.insert(kind + id);
    s.balance += change;
  }
  static bool covers(const State& s, std::int64_t a) { return s.balance - a >= -s.overdraft_limit; }
  template <class C>  // the command, when its amount is valid and the account open (if it must)
  static const C& valid(const State& s, const C& c, bool must_be_open = true) {
    if (must_be_open && s.closed) throw es::InvalidInput("the account is closed");
    if (c.amount < 1 || c.amount > kMaxAmount) throw es::InvalidInput("amounts are 1..10^12 cents");
    return c;
  }
};

using Account = es::Aggregate<AccountBinding>;

}  // namespace bank
