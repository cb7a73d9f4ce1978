// Why: GET /notifications/stream?partition=P tails a partition's notification log as
// server-sent events (text/event-stream), for the event browser and any client that would
// otherwise poll GET /notifications. One poller serves every stream: each tick it reads the
// log once per (partition, next position) shared by ready streams, so many browsers on one
// partition cost one read. A stream gets its next batch only once the last one was written
// (a slow reader holds at most one batch), a comment line as heartbeat when nothing was sent
// for a while (idle proxies keep the connection; sent from a strand of their own, so a
// store that hangs delays no heartbeat), and ends when the server drains.
// Events: "id: <position>" and "data: <the item JSON of GET /notifications>". Resuming:
// Last-Event-ID (what EventSource sends when it reconnects) wins over ?start=N; without
// either the stream starts after the log's current end.
#pragma once

#include "persistence/record_manager.hpp"
#include "samples/http/router.hpp"
#include "samples/http/store_health.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace es::http {

struct NotificationStreamOptions {
  std::chrono::milliseconds poll_interval{200};
  // A comment line after this long without a write; example-server makes it at most half
  // its idle timeout.
  std::chrono::milliseconds heartbeat{std::chrono::seconds(15)};
  std::size_t batch = 500;        // log items read per stream and tick at most
  std::size_t max_streams = 256;  // past it 503 (each costs the poller a read per tick)
};

class NotificationStreams : public std::enable_shared_from_this<NotificationStreams> {
 public:
  NotificationStreams(std::shared_ptr<RecordManager> events, std::shared_ptr<StoreHealth> health,
                      NotificationStreamOptions options = {});
  ~NotificationStreams();

  void add_routes(Router& router);
  // Ends every stream and stops the poller (waits for a tick under way). Idempotent.
  void shutdown();
  std::size_t streams() const;

 private:
  struct Subscriber {
    int partition = 0;
    std::int64_t next = 1;  // the position to send next (the reading strand's)
    std::shared_ptr<ResponseStream> stream;
    // steady_clock ticks of the last write: both strands write (events, heartbeats).
    std::atomic<std::chrono::steady_clock::rep> last_write{0};
  };

  void open(const ExchangePtr& exchange, const Responder& respond);
  void arm();
  void tick();
  void arm_heartbeats();
  void heartbeats();
  std::vector<std::shared_ptr<Subscriber>> open_subscribers() const;

  std::shared_ptr<RecordManager> events_;
  std::shared_ptr<StoreHealth> health_;
  NotificationStreamOptions options_;
  // Two strands: reads of the log (which may block on a slow store) and heartbeats (which
  // must not wait for them).
  boost::asio::thread_pool pool_{2};
  boost::asio::strand<boost::asio::thread_pool::executor_type> reads_;
  boost::asio::strand<boost::asio::thread_pool::executor_type> beats_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer heartbeat_timer_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<Subscriber>> subscribers_;
  std::atomic<bool> closed_{false};
  bool armed_ = false;  // under mutex_
};

}  // namespace es::http
