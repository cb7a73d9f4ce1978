// Why: the repository stops an idle entity actor only when every request it delegated has
// been answered, and refuses work past max_in_flight; both count on each request being marked
// answered exactly once. A ticket does that when it goes out of scope, on every path.
#pragma once

#include <atomic>
#include <cstdint>

namespace es {

class RequestTicket {
 public:
  RequestTicket(std::atomic<std::uint64_t>* completed, std::atomic<std::int64_t>* in_flight)
      : completed_(completed), in_flight_(in_flight) {}
  RequestTicket(RequestTicket&& other) noexcept
      : completed_(other.completed_), in_flight_(other.in_flight_) {
    other.completed_ = nullptr;
  }
  RequestTicket& operator=(RequestTicket&&) = delete;
  RequestTicket(const RequestTicket&) = delete;
  ~RequestTicket() {
    if (!completed_) return;
    completed_->fetch_add(1, std::memory_order_acq_rel);
    in_flight_->fetch_sub(1, std::memory_order_acq_rel);
  }

 private:
  std::atomic<std::uint64_t>* completed_;
  std::atomic<std::int64_t>* in_flight_;
};

}  // namespace es
