// bank-sim: the bank application under load. Opens accounts with deposits, closes a few (so
// that transfers to them are refunded and transfers from them declined), requests random
// transfers with a bounded number in flight, which the transfer process manager carries out,
// then checks the invariant: no money was created or lost, every transfer ended, no account
// went below its limit, every stored chain verifies, every transfer step happened once.
//
// A run killed at any point (kill -9) is finished by `--resume` on the same store: it creates
// nothing, lets the process manager go on from its stored positions until every requested
// transfer has ended, and checks the same invariant.
#include "actors/runtime.hpp"
#include "domain/errors.hpp"
#include "samples/bank/transfer_process.hpp"
#include "samples/support/store_setup.hpp"

#include <boost/program_options.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

namespace po = boost::program_options;
using namespace bank;
namespace samples = es::samples;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::int64_t accounts = 200;
  std::int64_t transfers = 20000;
  std::int64_t concurrency = 64;
  std::int64_t threads = 0;  // CAF scheduler workers; 0: one per core but one
  std::int64_t timeout_s = 120;
  std::uint64_t seed = 42;
  bool resume = false;
  bool quiet = false;
  samples::StoreFlags store;
};

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// A progress bar on stderr, redrawn at most every 200 ms; nothing with --quiet.
class Bar {
 public:
  Bar(const char* label, std::int64_t total, bool enabled)
      : label_(label), total_(total), enabled_(enabled), started_(Clock::now()) {}
  void draw(std::int64_t done, bool force = false) {
    if (!enabled_ || (!force && Clock::now() - last_ < std::chrono::milliseconds(200))) return;
    last_ = Clock::now();
    const int width = 30;
    const int filled =
        total_ > 0 ? static_cast<int>(width * std::min(done, total_) / total_) : width;
    const double secs = seconds_since(started_);
    std::fprintf(stderr, "\r%-10s [%s%s] %3d%% %lld/%lld  %.0f/s   ", label_,
                 std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - filled), '-').c_str(),
                 total_ > 0 ? static_cast<int>(100 * std::min(done, total_) / total_) : 100,
                 static_cast<long long>(done), static_cast<long long>(total_),
                 secs > 0 ? static_cast<double>(done) / secs : 0.0);
  }
  void finish(std::int64_t done) {
    if (!enabled_) return;
    std::fprintf(stderr, "\r%-10s done: %lld in %.2f s%40s\n", label_, static_cast<long long>(done),
                 seconds_since(started_), "");
  }

 private:
  const char* label_;
  std::int64_t total_;
  bool enabled_;
  Clock::time_point started_;
  Clock::time_point last_{};
};

using ended_atom = caf::atom_constant<caf::atom("ended")>;

// Follows the notification log from its start, in memory: which accounts and transfers exist
// and which transfers have ended. Tells `driver` of each end.
class Watcher final : public es::NotificationHandler {
 public:
  explicit Watcher(int partitions) : stored_(static_cast<std::size_t>(partitions), 0) {}

  // From now on tells `driver` of each end, starting with those already seen.
  void notify(caf::actor driver) {
    std::lock_guard lock(mutex_);
    driver_ = std::move(driver);
    for (const auto& id : ended_) caf::anon_send(driver_, ended_atom::value, es::to_string(id));
  }

  std::vector<std::int64_t> positions(const std::vector<int>& partitions) override {
    std::lock_guard lock(mutex_);
    std::vector<std::int64_t> out;
    for (int p : partitions) out.push_back(stored_[static_cast<std::size_t>(p)]);
    return out;
  }
  std::vector<std::int64_t> handle(const std::vector<es::NotificationBatch>& batches) override {
    std::lock_guard lock(mutex_);
    std::vector<std::int64_t> out;
    for (const auto& b : batches) {
      auto& stored = stored_[static_cast<std::size_t>(b.partition)];
      for (const auto& n : b.items) {
        if (n.position <= stored) continue;
        if (n.position != stored + 1) break;
        stored = n.position;
        if (n.topic == AccountOpened::topic) {
          accounts_.push_back(n.sequence_id);
        } else if (n.topic == TransferRequested::topic) {
          transfers_.push_back(n.sequence_id);
          if (!ended_.count(n.sequence_id)) pending_.insert(n.sequence_id);
        } else if (n.topic == TransferCompleted::topic || n.topic == TransferDeclined::topic) {
          ended_.insert(n.sequence_id);
          pending_.erase(n.sequence_id);
          if (driver_) caf::anon_send(driver_, ended_atom::value, es::to_string(n.sequence_id));
        }
      }
      out.push_back(stored);
    }
    return out;
  }

  // True when every partition is at or past `heads`.
  bool reached(const std::vector<std::int64_t>& heads) {
    std::lock_guard lock(mutex_);
    for (std::size_t p = 0; p < heads.size(); ++p) {
      if (stored_[p] < heads[p]) return false;
    }
    return true;
  }
  std::size_t pending() {
    std::lock_guard lock(mutex_);
    return pending_.size();
  }
  std::size_t ended() {
    std::lock_guard lock(mutex_);
    return ended_.size();
  }
  std::vector<es::Uuid> accounts() {
    std::lock_guard lock(mutex_);
    return accounts_;
  }
  std::vector<es::Uuid> transfers() {
    std::lock_guard lock(mutex_);
    return transfers_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::int64_t> stored_;
  caf::actor driver_;
  std::vector<es::Uuid> accounts_, transfers_;
  std::set<es::Uuid> ended_, pending_;
};

// --- the transfer driver: keeps `concurrency` transfers in flight until all were requested ---

struct DriverReport {
  std::atomic<std::int64_t> requested{0};
  std::atomic<std::int64_t> ended{0};
  std::atomic<std::int64_t> failed{0};
  std::atomic<bool> done{false};
  std::mutex mutex;
  std::vector<double> latencies_ms;
  Clock::time_point finished{};
  std::vector<std::string> problems;
};

struct DriverState {
  es::repository_actor<TransferBinding> transfers;
  std::vector<std::string> accounts;
  std::int64_t total = 0, window = 0, sent = 0, in_flight = 0;
  std::mt19937_64 rng;
  std::unordered_map<std::string, Clock::time_point> started;      // requested, not ended
  std::unordered_map<std::string, Clock::time_point> ended_early;  // ended before the reply
  std::vector<double> latencies_ms;
  std::shared_ptr<DriverReport> report;
  static inline const char* name = "bank-driver";
};

using driver_pointer = caf::stateful_actor<DriverState>*;

void end_one(driver_pointer self, Clock::time_point started, Clock::time_point ended);

void fill(driver_pointer self) {
  auto& st = self->state;
  while (st.in_flight < st.window && st.sent < st.total) {
    ++st.sent;
    ++st.in_flight;
    const auto n = st.accounts.size();
    const auto from = st.rng() % n;
    const auto to = (from + 1 + st.rng() % (n - 1)) % n;
    RequestTransfer request{st.accounts[from], st.accounts[to],
                            static_cast<std::int64_t>(100 + st.rng() % 20000)};
    const auto t0 = Clock::now();
    self->request(st.transfers, std::chrono::seconds(30), es::create_atom::value,
                  TransferBinding::Command(std::move(request)))
        .then(
            [=](es::view_t<TransferBinding>& view) {
              auto& st = self->state;
              st.report->requested.fetch_add(1);
              auto early = st.ended_early.find(view.id);
              if (early != st.ended_early.end()) {
                const auto at = early->second;
                st.ended_early.erase(early);
                end_one(self, t0, at);
              } else {
                st.started.emplace(view.id, t0);
              }
            },
            [=](caf::error& error) {
              auto& st = self->state;
              st.report->failed.fetch_add(1);
              {
                std::lock_guard lock(st.report->mutex);
                if (st.report->problems.size() < 5)
                  st.report->problems.push_back("request: " + es::reason_of(error));
              }
              --st.in_flight;
              fill(self);
            });
  }
  if (st.sent == st.total && st.in_flight == 0) {
    std::lock_guard lock(st.report->mutex);
    st.report->latencies_ms = std::move(st.latencies_ms);
    st.report->finished = Clock::now();
    st.report->done = true;
    self->quit();
  }
}

void end_one(driver_pointer self, Clock::time_point started, Clock::time_point ended) {
  auto& st = self->state;
  st.latencies_ms.push_back(std::chrono::duration<double, std::milli>(ended - started).count());
  st.report->ended.fetch_add(1);
  --st.in_flight;
  fill(self);
}

caf::behavior transfer_driver(driver_pointer self, es::repository_actor<TransferBinding> transfers,
                              std::vector<std::string> accounts, const Options& opt,
                              std::shared_ptr<DriverReport> report) {
  auto& st = self->state;
  st.transfers = std::move(transfers);
  st.accounts = std::move(accounts);
  st.total = opt.transfers;
  st.window = opt.concurrency;
  st.rng.seed(opt.seed * 7919 + 1);
  st.latencies_ms.reserve(static_cast<std::size_t>(opt.transfers));
  st.report = std::move(report);
  fill(self);
  return {
      [=](ended_atom, const std::string& id) {
        auto& st = self->state;
        auto it = st.started.find(id);
        if (it == st.started.end()) {
          st.ended_early.emplace(id, Clock::now());  // or not ours (an earlier run's)
          return;
        }
        const auto t0 = it->second;
        st.started.erase(it);
        end_one(self, t0, Clock::now());
      },
  };
}

// --- set-up: accounts ---

struct Funds {
  std::atomic<std::int64_t> deposited{0};
  std::atomic<std::int64_t> withdrawn{0};
  std::atomic<std::int64_t> failed{0};
};

// Runs fn(i) for i in [0, n) on `threads` threads (blocking handle calls), drawing a bar.
template <class Fn>
void parallel(std::int64_t n, std::int64_t threads, Bar& bar, Fn fn) {
  std::atomic<std::int64_t> next{0}, done{0};
  std::vector<std::thread> pool;
  for (std::int64_t t = 0; t < std::max<std::int64_t>(1, std::min(threads, n)); ++t) {
    pool.emplace_back([&] {
      for (std::int64_t i; (i = next.fetch_add(1)) < n;) {
        fn(i);
        done.fetch_add(1);
      }
    });
  }
  while (done.load() < n) {
    bar.draw(done.load());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& t : pool) t.join();
  bar.finish(n);
}

std::vector<std::string> open_accounts(es::EntityHandle<AccountBinding> accounts,
                                       const Options& opt, Funds& funds) {
  std::vector<std::string> ids(static_cast<std::size_t>(opt.accounts));
  std::vector<std::int64_t> balances(ids.size());
  const std::int64_t limits[] = {0, 0, 5000, 20000};
  Bar bar("accounts", opt.accounts, !opt.quiet);
  parallel(opt.accounts, std::min<std::int64_t>(opt.concurrency, 16), bar, [&](std::int64_t i) {
    std::mt19937_64 rng(opt.seed * 31 + static_cast<std::uint64_t>(i));
    const auto k = static_cast<std::size_t>(i);
    try {
      auto view = accounts.create(OpenAccount{"owner-" + std::to_string(i), limits[rng() % 4]});
      ids[k] = view.id;
      const auto amount = static_cast<std::int64_t>(1000 + rng() % 99000);
      accounts.execute(*es::parse_uuid(view.id), Deposit{amount});
      funds.deposited += amount;
      balances[k] = amount;
    } catch (const std::exception&) {
      funds.failed += 1;
    }
  });
  // A few accounts close (emptied first): transfers to them are refunded, from them declined.
  const std::int64_t closing = opt.accounts >= 4 ? std::max<std::int64_t>(1, opt.accounts / 20) : 0;
  for (std::int64_t c = 0; c < closing; ++c) {
    const auto k = ids.size() - 1 - static_cast<std::size_t>(c);
    if (ids[k].empty()) continue;
    try {
      const auto id = *es::parse_uuid(ids[k]);
      if (balances[k] > 0) accounts.execute(id, Withdraw{balances[k]});
      funds.withdrawn += balances[k];
      accounts.execute(id, CloseAccount{});
    } catch (const std::exception&) {
      funds.failed += 1;
    }
  }
  ids.erase(std::remove(ids.begin(), ids.end(), std::string()), ids.end());
  return ids;
}

// --- the invariant ---

struct Leg {
  int debits = 0, declines = 0, credits = 0, refunds = 0;
  std::string debited, credited, refunded;  // account ids
  std::int64_t debit_amount = 0, credit_amount = 0, refund_amount = 0;
};

struct Audit {
  std::int64_t accounts = 0, closed = 0, transfers = 0, completed = 0, declined = 0;
  std::int64_t balances = 0, deposited = 0, withdrawn = 0, chains = 0;
  std::map<std::string, std::int64_t> reasons;
  std::vector<std::string> problems;
  void problem(std::string text) {
    if (problems.size() < 20) problems.push_back(std::move(text));
    ++problem_count;
  }
  std::int64_t problem_count = 0;
};

// The events of one entity, read from the store itself and decoded (cipher included).
std::vector<es::Event> stored_events(es::Runtime& runtime, const es::Uuid& id) {
  std::vector<es::Event> out;
  for (const auto& r : runtime.stores().events->read(id, {})) {
    out.push_back(runtime.mapper().from_record(r));
  }
  return out;
}

Audit audit(es::Runtime& runtime, Watcher& watcher) {
  Audit a;
  std::unordered_map<std::string, Leg> legs;
  auto accounts = runtime.host<AccountBinding>();
  for (const auto& id : watcher.accounts()) {
    const auto text = es::to_string(id);
    try {
      auto events = stored_events(runtime, id);
      // Replaying checks every event's id, version, previous hash and own hash.
      const auto account = es::replay<Account>(nullptr, events);
      ++a.chains;
      ++a.accounts;
      const auto& s = account.state();
      a.balances += s.balance;
      a.closed += s.closed ? 1 : 0;
      if (s.balance < -s.overdraft_limit) {
        a.problem("account " + text + " is at " + std::to_string(s.balance) + ", below -" +
                  std::to_string(s.overdraft_limit));
      }
      for (const auto& e : events) {
        Account::Events::dispatch(e, [&](const auto& payload) {
          using T = std::decay_t<decltype(payload)>;
          if constexpr (std::is_same_v<T, Deposited>) {
            a.deposited += payload.amount;
          } else if constexpr (std::is_same_v<T, Withdrawn>) {
            a.withdrawn += payload.amount;
          } else if constexpr (std::is_same_v<T, TransferDebited>) {
            auto& l = legs[payload.transfer_id];
            ++l.debits, l.debited = text, l.debit_amount = payload.amount;
          } else if constexpr (std::is_same_v<T, TransferDebitDeclined>) {
            ++legs[payload.transfer_id].declines;
          } else if constexpr (std::is_same_v<T, TransferCredited>) {
            auto& l = legs[payload.transfer_id];
            ++l.credits, l.credited = text, l.credit_amount = payload.amount;
          } else if constexpr (std::is_same_v<T, TransferRefunded>) {
            auto& l = legs[payload.transfer_id];
            ++l.refunds, l.refunded = text, l.refund_amount = payload.amount;
          }
        });
      }
      // The live actor agrees with the store.
      const auto view = accounts.get(id);
      if (view.version != account.version() || view.state.balance != s.balance) {
        a.problem("account " + text + ": the runtime answers version " +
                  std::to_string(view.version) + ", the store holds " +
                  std::to_string(account.version()));
      }
    } catch (const std::exception& e) {
      a.problem("account " + text + ": " + e.what());
    }
  }
  for (const auto& id : watcher.transfers()) {
    const auto text = es::to_string(id);
    try {
      const auto transfer = es::replay<Transfer>(nullptr, stored_events(runtime, id));
      ++a.chains;
      ++a.transfers;
      const auto& s = transfer.state();
      auto found = legs.find(text);
      const Leg leg = found == legs.end() ? Leg{} : found->second;
      if (found != legs.end()) legs.erase(found);
      if (s.status == "completed") {
        ++a.completed;
        if (leg.debits != 1 || leg.credits != 1 || leg.refunds != 0 || leg.declines != 0 ||
            leg.debited != s.from || leg.credited != s.to || leg.debit_amount != s.amount ||
            leg.credit_amount != s.amount) {
          a.problem("completed transfer " + text + " was not one debit and one credit");
        }
      } else if (s.status == "declined") {
        ++a.declined;
        ++a.reasons[s.reason];
        const bool untouched = leg.debits == 0 && leg.refunds == 0;
        const bool refunded = leg.debits == 1 && leg.refunds == 1 && leg.refunded == s.from &&
                              leg.debited == s.from && leg.refund_amount == leg.debit_amount;
        if (leg.credits != 0 || leg.declines > 1 || !(untouched || refunded)) {
          a.problem("declined transfer " + text + " moved money");
        }
      } else {
        a.problem("transfer " + text + " did not end (" + s.status + ")");
      }
    } catch (const std::exception& e) {
      a.problem("transfer " + text + ": " + e.what());
    }
  }
  for (const auto& [transfer, leg] : legs) a.problem("steps of an unknown transfer " + transfer);
  if (a.balances != a.deposited - a.withdrawn) {
    a.problem("the balances sum to " + std::to_string(a.balances) + ", not " +
              std::to_string(a.deposited - a.withdrawn));
  }
  return a;
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1))];
}

std::size_t scheduler_threads(const Options& opt) {
  if (opt.threads > 0) return static_cast<std::size_t>(opt.threads);
  return std::max(1u, std::max(1u, std::thread::hardware_concurrency()) - 1);
}

// Transfers requested in the store, and how many of them have not ended, from the log.
std::pair<std::size_t, std::size_t> transfers_in_progress(const es::RecordManager& events) {
  std::set<es::Uuid> requested, ended;
  for (int p = 0; p < events.partitions(); ++p) {
    for (std::int64_t next = 1;;) {
      const auto page = events.read_notifications(p, next, 1000);
      if (page.empty()) break;
      for (const auto& n : page) {
        if (n.topic == TransferRequested::topic) requested.insert(n.sequence_id);
        if (n.topic == TransferCompleted::topic || n.topic == TransferDeclined::topic) {
          ended.insert(n.sequence_id);
        }
      }
      next = page.back().position + 1;
    }
  }
  std::size_t open = 0;
  for (const auto& id : requested) open += ended.count(id) ? 0 : 1;
  return {requested.size(), open};
}

// Waits until the watcher has read the whole log and every requested transfer has ended.
bool settle(es::Runtime& runtime, Watcher& watcher, const Options& opt) {
  const auto& events = runtime.stores().events;
  const auto deadline = Clock::now() + std::chrono::seconds(opt.timeout_s);
  auto last_draw = Clock::now();
  bool drawn = false;
  bool done = false;
  while (!done && Clock::now() < deadline) {
    std::vector<std::int64_t> heads;
    for (int p = 0; p < events->partitions(); ++p) {
      heads.push_back(events->last_notification_position(p));
    }
    done = watcher.reached(heads) && watcher.pending() == 0;
    if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!opt.quiet && Clock::now() - last_draw > std::chrono::milliseconds(200)) {
      last_draw = Clock::now();
      drawn = true;
      std::fprintf(stderr, "\rfinishing  %zu transfers ended, %zu in progress   ", watcher.ended(),
                   watcher.pending());
    }
  }
  if (drawn) std::fprintf(stderr, "\n");
  return done;
}

int run(const Options& opt) {
  auto flags = opt.store;
  flags.fresh_private_store = !opt.resume;  // a new run starts on an empty private store
  auto setup = samples::open_stores(flags, "bank-sim");
  es::RuntimeSettings settings;
  settings.stores = setup.stores;
  settings.cipher = samples::load_cipher(opt.store, "bank-sim");
  settings.snapshot_period = opt.store.snapshot_period;
  settings.scheduler_threads = scheduler_threads(opt);
  es::Runtime runtime(settings);

  if (opt.resume) {
    const auto [requested, open] = transfers_in_progress(*setup.stores.events);
    std::printf(
        "bank-sim: resuming (nothing new is created): %zu transfers requested before, %zu "
        "of them in progress\n",
        requested, open);
  } else {
    std::printf("bank-sim: %lld accounts, %lld transfers, %lld in flight, %zu actor threads\n",
                static_cast<long long>(opt.accounts), static_cast<long long>(opt.transfers),
                static_cast<long long>(opt.concurrency), settings.scheduler_threads);
  }
  std::printf("store: %s\n", setup.description.c_str());
  std::fflush(stdout);

  // Whether every account and transfer in the store is this run's (else the amounts this run
  // put in cannot be compared with what the store holds).
  bool empty_store = true;
  for (int p = 0; p < runtime.stores().events->partitions(); ++p) {
    empty_store = empty_store && runtime.stores().events->last_notification_position(p) == 0;
  }
  auto accounts = runtime.host<AccountBinding>();
  auto transfers = runtime.host<TransferBinding>();
  auto process = start_transfer_process(runtime);
  auto watcher = std::make_shared<Watcher>(runtime.stores().events->partitions());
  runtime.adopt(es::spawn_catchup_subscription(runtime.system(),
                                               follow_log(runtime.stores().events), watcher, {}));

  Funds funds;
  auto report = std::make_shared<DriverReport>();
  double transfer_secs = 0;
  if (!opt.resume) {
    auto ids = open_accounts(accounts, opt, funds);
    if (ids.size() < 2) throw es::Error("fewer than two accounts could be opened");
    const auto started = Clock::now();
    auto driver = runtime.system().spawn(transfer_driver, transfers.repository(), std::move(ids),
                                         opt, report);
    runtime.adopt(driver);
    watcher->notify(driver);
    Bar bar("transfers", opt.transfers, !opt.quiet);
    const auto deadline = started + std::chrono::seconds(opt.timeout_s);
    while (!report->done.load() && Clock::now() < deadline) {
      bar.draw(report->ended.load());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    bar.finish(report->ended.load());
    std::lock_guard lock(report->mutex);
    transfer_secs = std::chrono::duration<double>(
                        (report->done.load() ? report->finished : Clock::now()) - started)
                        .count();
  }
  const bool settled = settle(runtime, *watcher, opt);
  Audit a = audit(runtime, *watcher);
  if (!settled)
    a.problem("not every transfer ended within " + std::to_string(opt.timeout_s) + " s");
  if (!opt.resume && empty_store &&
      funds.deposited.load() - funds.withdrawn.load() != a.deposited - a.withdrawn) {
    a.problem("this run put in " + std::to_string(funds.deposited.load() - funds.withdrawn.load()) +
              " net, the accounts recorded " + std::to_string(a.deposited - a.withdrawn));
  }

  auto& stats = process.process->stats();
  std::printf("\nsummary\n");
  std::printf("  accounts             %lld (%lld closed), %lld deposited, %lld withdrawn (cents)\n",
              static_cast<long long>(a.accounts), static_cast<long long>(a.closed),
              static_cast<long long>(a.deposited), static_cast<long long>(a.withdrawn));
  std::printf("  transfers            %lld: %lld completed, %lld declined\n",
              static_cast<long long>(a.transfers), static_cast<long long>(a.completed),
              static_cast<long long>(a.declined));
  for (const auto& [reason, n] : a.reasons) {
    std::printf("    declined: %-40s %lld\n", reason.c_str(), static_cast<long long>(n));
  }
  std::printf("  process manager      %lld notifications, %lld commands, %lld refused\n",
              static_cast<long long>(stats.notifications.load()),
              static_cast<long long>(stats.commands.load()),
              static_cast<long long>(stats.refusals.load()));
  std::int64_t failures = report->failed.load() + funds.failed.load();
  if (stats.stuck.load() > 0) {
    std::lock_guard lock(stats.mutex);
    a.problem(std::to_string(stats.stuck.load()) +
              " refused steps with nothing to follow (last: " + stats.last_stuck + ")");
  }
  if (!opt.resume) {
    std::vector<double> latencies;
    {
      std::lock_guard lock(report->mutex);
      latencies = report->latencies_ms;
      for (const auto& p : report->problems) std::printf("    %s\n", p.c_str());
    }
    std::sort(latencies.begin(), latencies.end());
    const double per_s =
        transfer_secs > 0 ? static_cast<double>(report->ended.load()) / transfer_secs : 0;
    const double p50 = percentile(latencies, 0.5), p99 = percentile(latencies, 0.99);
    std::printf(
        "  transfer phase       %.2f s, %.0f transfers/s; latency p50 %.3f ms, p99 %.3f ms\n",
        transfer_secs, per_s, p50, p99);
    std::printf("  failed requests      %lld\n", static_cast<long long>(failures));
    std::printf("BENCH bank.transfers_per_s %.0f transfers/s\n", per_s);
    std::printf("BENCH bank.transfer_latency_p99 %.3f ms\n", p99);
  }
  for (const auto& p : a.problems) std::printf("  problem: %s\n", p.c_str());
  if (a.problem_count == 0) {
    std::printf(
        "invariant holds: balances sum to %lld = deposited %lld - withdrawn %lld; %lld accounts, "
        "none below its limit; %lld transfers all ended (%lld completed, %lld declined), each "
        "step once; %lld chains verified\n",
        static_cast<long long>(a.balances), static_cast<long long>(a.deposited),
        static_cast<long long>(a.withdrawn), static_cast<long long>(a.accounts),
        static_cast<long long>(a.transfers), static_cast<long long>(a.completed),
        static_cast<long long>(a.declined), static_cast<long long>(a.chains));
  } else {
    std::printf("invariant FAILED: %lld problem(s), the first above\n",
                static_cast<long long>(a.problem_count));
  }
  std::fflush(stdout);
  return a.problem_count == 0 && failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  po::options_description options(
      "bank-sim: accounts and transfers run by a process manager, then an invariant check\n"
      "(without --redis, the private redis-server keeps its data in --data-dir/bank-sim-redis,\n"
      "emptied at the start of every run but a --resume)");
  options.add_options()("help,h", "show this help")(
      "accounts", po::value(&opt.accounts)->value_name("N")->default_value(opt.accounts),
      "accounts to open (each with a deposit); one in 20 is then emptied and closed")(
      "transfers", po::value(&opt.transfers)->value_name("M")->default_value(opt.transfers),
      "random transfers to request")(
      "concurrency", po::value(&opt.concurrency)->value_name("C")->default_value(opt.concurrency),
      "transfers in flight at most")(
      "resume", po::bool_switch(&opt.resume),
      "create nothing: let the process manager finish what a killed run left (same --redis or "
      "--data-dir), then check the invariant")(
      "timeout", po::value(&opt.timeout_s)->value_name("S")->default_value(opt.timeout_s),
      "longest wait, in seconds, for the transfers to end")(
      "threads", po::value(&opt.threads)->value_name("N")->default_value(opt.threads),
      "actor scheduler threads; 0: one per core but one")(
      "seed", po::value(&opt.seed)->value_name("N")->default_value(opt.seed), "random seed")(
      "quiet,q", po::bool_switch(&opt.quiet), "no progress bar");
  samples::add_store_options(options, opt.store);
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, options), vm);
    if (vm.count("help")) {
      std::cout << options
                << "\nExit status: 0 when the invariant holds and every request succeeded; 1 "
                   "otherwise; 2 for bad flags.\n";
      return 0;
    }
    po::notify(vm);
    if (opt.accounts < 2 || opt.transfers < 0 || opt.concurrency < 1 || opt.threads < 0 ||
        opt.threads > 256 || opt.timeout_s < 1) {
      throw po::error(
          "--accounts must be >= 2, --transfers >= 0, --concurrency and --timeout >= 1, "
          "--threads 0 to 256");
    }
    if (opt.resume && opt.store.store == "memory") {
      throw po::error("--resume needs a store that outlives the process (not --store memory)");
    }
    if (opt.resume && (!vm["accounts"].defaulted() || !vm["transfers"].defaulted() ||
                       !vm["concurrency"].defaulted())) {
      throw po::error("--resume creates nothing: drop --accounts, --transfers, --concurrency");
    }
    samples::check_store_flags(opt.store);
    samples::load_cipher(opt.store, "bank-sim");  // a bad key file is a bad flag
  } catch (const es::ConfigurationError& e) {
    std::cerr << "bank-sim: " << e.what() << " (see --help)\n";
    return 2;
  } catch (const po::error& e) {
    std::cerr << "bank-sim: " << e.what() << " (see --help)\n";
    return 2;
  }
  try {
    return run(opt);
  } catch (const es::ConfigurationError& e) {
    std::cerr << "bank-sim: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "bank-sim: " << e.what() << "\n";
    return 1;
  }
}
