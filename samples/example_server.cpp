// example-server: the HTTP interface of the Example application (HTTP_API.md), the
// reference's Flask app grown into a JSON API. Wires the pieces of samples/http together:
// stores (a private redis-server by default), the application's actors, the CAF bridge, the
// store health probe, the routes and the Beast server; prints `listening on http://HOST:PORT`
// when ready, and on SIGINT/SIGTERM drains the connections, closes the application (which
// waits for commands in flight) and exits 0. With cluster flags it is a node of a multi-node
// deployment (docs/CLUSTER.md): every entity route goes through the cluster router, which
// places each entity on one live node; without them a standalone router serves all here.
#include "actors/cluster_router.hpp"
#include "actors/runtime_config.hpp"
#include "domain/errors.hpp"
#include "samples/example/example_application.hpp"
#include "samples/http/access_log.hpp"
#include "samples/http/actor_bridge.hpp"
#include "samples/http/cluster_api.hpp"
#include "samples/http/example_api.hpp"
#include "samples/http/metrics_api.hpp"
#include "samples/http/notification_stream.hpp"
#include "samples/http/read_model_api.hpp"
#include "samples/http/request_parsing.hpp"
#include "samples/http/router.hpp"
#include "samples/http/server.hpp"
#include "samples/http/store_health.hpp"
#include "samples/http/ui_api.hpp"
#include "samples/support/cluster_flags.hpp"
#include "samples/support/store_setup.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

namespace po = boost::program_options;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

// The timeouts that make "Redis down: 503 within 5 s" hold, innermost first: a Redis
// connect 1 s, one Redis read or write 2 s (the entity actors wait for the store without a
// timeout of their own), the application's wait for commands in flight at close 2 x 3 s,
// and 4 s from a complete request to its answer (the HTTP side's handler deadline; the
// bridge itself sets no CAF timeout). The health probe has its own, shorter ones.
constexpr auto kRedisConnect = 1000ms;
constexpr auto kRedisCommand = 2000ms;
constexpr auto kStoreTimeout = 3000ms;
constexpr auto kRequestTimeout = 4000ms;
constexpr auto kHealthMaxAge = 500ms;
constexpr auto kDrainTimeout = 15s;
// Threads, for a 2-core machine that also runs Redis (and, when measured, the load
// generator): one Asio thread for every HTTP connection, one CAF worker with the work-sharing
// policy (it sleeps when idle, where work stealing spins and takes CPU from Redis), and CAF's
// detached store actors. Measured against 2 workers with work stealing and 2 Asio threads:
// the same or better throughput for less CPU per request (docs/BENCHMARKS.md, "HTTP").
constexpr std::size_t kIoThreads = 1;
constexpr std::size_t kSchedulerThreads = 1;
constexpr std::size_t kBridgeActors = kSchedulerThreads;

// Connections: at most half the descriptors (the other half is for the store's pool, the
// private redis-server, the cluster and the 503 answers to connections past the cap), and
// by default no more than 1024: 3.5 MB when idle, but up to 1 GiB if each sends a maximal
// body at once (docs/RELIABILITY.md).
constexpr std::size_t kDefaultMaxConnections = 1024;
constexpr std::int64_t kMaxIdleTimeoutSeconds = 86400;

struct Options {
  std::string http = "127.0.0.1:5001";
  std::string max_connections;
  std::string idle_timeout = "30";
  bool quiet = false;
  bool rebuild_projection = false;
  std::int64_t max_live_entities = 0;
  std::int64_t passivate_after_s = 300;
  es::samples::StoreFlags store;
  es::samples::ClusterFlags cluster;
};

// "HOST:PORT", "[V6]:PORT" -> endpoint. Names are resolved (the first address wins).
tcp::endpoint parse_http(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    throw es::ConfigurationError("--http must be HOST:PORT, got '" + text + "'");
  }
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(port_text, &used);
    if (used != port_text.size() || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    throw es::ConfigurationError("--http port must be 0..65535, got '" + port_text + "'");
  }
  if (host.empty()) throw es::ConfigurationError("--http needs a host, e.g. 127.0.0.1:5001");
  boost::system::error_code ec;
  auto address = net::ip::make_address(host, ec);
  if (!ec) return {address, static_cast<unsigned short>(port)};
  net::io_context io;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(host, port_text, ec);
  if (ec || results.empty()) {
    throw es::ConfigurationError("--http host '" + host + "' cannot be resolved");
  }
  return results.begin()->endpoint();
}

std::string url_of(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  std::string host = address.to_string();
  if (address.is_v6()) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(endpoint.port());
}

// Many keep-alive connections need many descriptors: raise the soft limit to the hard one.
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

std::size_t descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return static_cast<std::size_t>(limit.rlim_cur);
}

std::size_t max_connections_of(const std::optional<std::string>& given) {
  const std::size_t most = std::max<std::size_t>(1, descriptor_limit() / 2);
  if (!given) return std::min(kDefaultMaxConnections, most);
  const auto& text = *given;
  auto n = es::http::parse_decimal_version(text);
  if (!n || *n < 1 || static_cast<std::uint64_t>(*n) > most) {
    throw es::ConfigurationError("--max-connections must be an integer from 1 to " +
                                 std::to_string(most) + " (half the descriptor limit), got '" +
                                 text + "'");
  }
  return static_cast<std::size_t>(*n);
}

std::chrono::seconds idle_timeout_of(const std::string& text) {
  auto n = es::http::parse_decimal_version(text);
  if (!n || *n < 1 || *n > kMaxIdleTimeoutSeconds) {
    throw es::ConfigurationError("--idle-timeout must be a whole number of seconds from 1 to " +
                                 std::to_string(kMaxIdleTimeoutSeconds) + ", got '" + text + "'");
  }
  return std::chrono::seconds(*n);
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a vanished peer is an error code, not a signal
  raise_descriptor_limit();
  Options opt;
  po::options_description options("example-server options");
  options.add_options()("help", "show this help")(
      "http", po::value(&opt.http)->value_name("HOST:PORT")->default_value(opt.http),
      "address to serve HTTP on; port 0 picks a free port")(
      "max-connections", po::value(&opt.max_connections)->value_name("N"),
      "connections served at once (default: 1024, or half the descriptor limit when lower; "
      "at most half of it); past them a new connection gets 503 and is closed")(
      "idle-timeout",
      po::value(&opt.idle_timeout)->value_name("SECONDS")->default_value(opt.idle_timeout),
      "a keep-alive connection idle this long is closed (1..86400); a request must arrive "
      "whole within 10 s of its first byte")(
      "rebuild-projection", po::bool_switch(&opt.rebuild_projection),
      "clear the read models and replay them from position 1 at start")(
      "quiet", po::bool_switch(&opt.quiet), "no access log on stderr")(
      "max-live-entities",
      po::value(&opt.max_live_entities)->value_name("N")->default_value(opt.max_live_entities),
      "live entity actors at most; beyond, the least recently used idle ones are passivated "
      "(0: an eighth of the machine's memory at 4 KiB each)")(
      "passivate-after",
      po::value(&opt.passivate_after_s)
          ->value_name("SECONDS")
          ->default_value(opt.passivate_after_s),
      "an entity actor idle this long is passivated (1..86400)");
  es::samples::add_store_options(options, opt.store);
  es::samples::add_cluster_node_options(options, opt.cluster);
  std::optional<es::ClusterSettings> cluster;
  std::string standalone_id;
  es::http::ServerOptions server_options;
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(options).run(), vm);
    if (vm.count("help")) {
      std::cout << "Usage: example-server [options]\n"
                   "The HTTP interface of the Example application (see HTTP_API.md).\n\n"
                << options << std::flush;
      return 0;
    }
    po::notify(vm);
    server_options.max_connections = max_connections_of(
        vm.count("max-connections") ? std::optional(opt.max_connections) : std::nullopt);
    server_options.idle_timeout = idle_timeout_of(opt.idle_timeout);
    es::samples::check_store_flags(opt.store);
    if (opt.max_live_entities < 0) throw es::ConfigurationError("--max-live-entities must be >= 0");
    if (opt.passivate_after_s < 1 || opt.passivate_after_s > 86400)
      throw es::ConfigurationError("--passivate-after must be within 1..86400 seconds");
    // Checked before any actor system exists (a clear message, exit status 2).
    cluster = es::samples::node_settings(opt.cluster, opt.store, "example-server");
    if (!cluster) standalone_id = es::samples::standalone_node_id(opt.cluster);
  } catch (const std::exception& e) {
    std::cerr << "example-server: " << e.what() << " (see --help)\n";
    return 2;
  }

  // Created first and destroyed last: handlers still queued in it may hold sessions.
  net::io_context io{static_cast<int>(kIoThreads)};
  net::signal_set signals(io, SIGINT, SIGTERM);

  es::samples::StoreSetup setup;
  std::unique_ptr<es::RuntimeConfig> caf_config;
  std::unique_ptr<caf::actor_system> system;
  std::unique_ptr<es::ExampleApplication> app;
  es::ClusterNode<es::ExampleBinding> node;
  std::shared_ptr<es::ExampleProjectionService> projection;
  tcp::endpoint endpoint;
  try {
    endpoint = parse_http(opt.http);
    opt.store.connection.connect_timeout = kRedisConnect;
    opt.store.connection.command_timeout = kRedisCommand;
    opt.store.connection.backoff_initial = 20ms;
    opt.store.connection.backoff_max = 250ms;
    opt.store.pool_connections = 16;
    setup = es::samples::open_stores(opt.store, "example-server");
    es::ApplicationConfig cfg;
    cfg.stores = setup.stores;
    cfg.cipher = es::samples::load_cipher(opt.store, "example-server");
    cfg.snapshot_period = opt.store.snapshot_period;
    cfg.max_live_entities = opt.max_live_entities;
    cfg.passivate_after = std::chrono::seconds(opt.passivate_after_s);
    cfg.store_timeout = kStoreTimeout;
    cfg.request_timeout = kRequestTimeout;
    caf_config = std::make_unique<es::RuntimeConfig>(kSchedulerThreads, cluster.has_value());
    caf_config->add_binding<es::ExampleBinding>();
    caf_config->set("scheduler.policy", caf::atom("sharing"));
    if (cluster) es::configure_cluster_transport(*caf_config, cluster->timings);
    system = std::make_unique<caf::actor_system>(*caf_config);
    auto cipher = cfg.cipher;
    app = std::make_unique<es::ExampleApplication>(*system, std::move(cfg));
    // The read models of GET /stats and GET /examples?foo= (docs/PROJECTIONS.md).
    projection =
        std::make_shared<es::ExampleProjectionService>(app->system(), setup.stores.events, cipher);
    if (opt.rebuild_projection) projection->rebuild();
    projection->start();
    if (cluster) {
      cluster->log = [](const std::string& line) {
        std::fprintf(stderr, "example-server: %s\n", line.c_str());
      };
      const auto id = cluster->node_id;
      const bool tls = cluster->tls.enabled();
      std::string peers;
      for (const auto& p : cluster->peers) peers += " " + p.text();
      node = es::start_cluster_node<es::ExampleBinding>(*system, std::move(*cluster),
                                                        app->repository());
      std::fprintf(stderr, "example-server: node %s on %s:%u (%s), peers:%s\n", id.c_str(),
                   opt.cluster.node_host.c_str(), static_cast<unsigned>(node.port),
                   tls ? "TLS, mutual authentication" : "plain TCP",
                   peers.empty() ? " none" : peers.c_str());
    } else {
      node.router = es::spawn_standalone_router<es::ExampleBinding>(*system, standalone_id,
                                                                    app->repository());
    }
  } catch (const es::ConfigurationError& e) {
    // A bad flag found only now (an unreadable key or password file, a wrong password).
    std::cerr << "example-server: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "example-server: " << e.what() << "\n";
    return 1;
  }

  auto bridge = std::make_shared<es::http::ActorBridge>(app->system(), kBridgeActors,
                                                        std::chrono::milliseconds(0));
  std::optional<es::RedisUrl> redis_url;
  if (setup.pool) redis_url = setup.pool->url();
  es::RedisConnectionOptions probe;
  probe.connect_timeout = 1000ms;
  probe.command_timeout = 1000ms;
  probe.backoff_initial = 10ms;
  probe.backoff_max = 200ms;
  auto health = std::make_shared<es::http::StoreHealth>(redis_url, probe, kHealthMaxAge);
  auto api =
      std::make_shared<es::http::ExampleApi>(bridge, node.router, health, app->runtime().metrics());
  auto cluster_api =
      std::make_shared<es::http::ClusterApi>(bridge, caf::actor_cast<caf::actor>(node.router));
  auto router = std::make_shared<es::http::Router>();
  api->add_routes(*router);
  cluster_api->add_routes(*router);
  auto read_models =
      std::make_shared<es::http::ReadModelApi>(setup.stores.events, projection, health);
  read_models->add_routes(*router);
  // GET /metrics (docs/OPERATIONS.md).
  auto metrics_api =
      std::make_shared<es::http::MetricsApi>(app->runtime().metrics(), projection, health);
  metrics_api->add_routes(*router);
  // The event browser (GET /ui/) and its live tail (GET /notifications/stream), whose
  // heartbeats come at least twice per idle timeout (docs/OPERATIONS.md, "Event browser").
  es::http::NotificationStreamOptions stream_options;
  stream_options.heartbeat = std::min<std::chrono::milliseconds>(std::chrono::seconds(15),
                                                                 server_options.idle_timeout / 2);
  auto streams =
      std::make_shared<es::http::NotificationStreams>(setup.stores.events, health, stream_options);
  streams->add_routes(*router);
  auto ui = std::make_shared<es::http::UiApi>(bridge, caf::actor_cast<caf::actor>(node.router),
                                              setup.stores.events, health);
  ui->add_routes(*router);
  std::shared_ptr<es::http::AccessLog> log;
  if (!opt.quiet) log = std::make_shared<es::http::AccessLog>(stderr);

  // What both ends (a failed listen, a signal) stop before the application closes: the read
  // side, the HTTP handlers and the bridge, then this node's place in the cluster.
  auto stop_components = [&] {
    health->stop();
    metrics_api->shutdown();
    metrics_api.reset();
    streams->shutdown();
    ui->shutdown();
    read_models->shutdown();
    projection->stop();
    read_models.reset();
    projection.reset();  // before the actor system it runs in
    api->shutdown();
    cluster_api->shutdown();
    bridge->shutdown();
    // Leaving: the other nodes see this node's connection close and take over its entities.
    es::stop_cluster_node(*system, node);
  };

  std::unique_ptr<es::http::HttpServer> server;
  try {
    server_options.handler_timeout = kRequestTimeout;
    server = std::make_unique<es::http::HttpServer>(io, endpoint, router, server_options, log);
  } catch (const std::exception& e) {
    std::cerr << "example-server: cannot listen on " << opt.http << ": " << e.what() << "\n";
    stop_components();
    return 1;
  }

  std::mutex mutex;
  std::condition_variable stopped;
  bool stop_requested = false;
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    server->drain();
    {
      std::lock_guard lock(mutex);
      stop_requested = true;
    }
    stopped.notify_all();
  });
  server->start();
  std::cerr << "example-server: " << setup.description << "\n";
  std::cout << "listening on " << url_of(server->local_endpoint()) << "\n" << std::flush;

  auto work = net::make_work_guard(io);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < kIoThreads; ++i) threads.emplace_back([&io] { io.run(); });

  {
    std::unique_lock lock(mutex);
    stopped.wait(lock, [&] { return stop_requested; });
  }
  // Requests in flight finish (each is bounded by the request timeout).
  const auto deadline = std::chrono::steady_clock::now() + kDrainTimeout;
  while (server->connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  work.reset();
  io.stop();
  for (auto& t : threads) t.join();

  stop_components();
  app->close();  // waits (bounded) for commands in flight, stops every actor
  app.reset();
  system.reset();  // waits for every actor to end
  if (log) log->flush();
  std::cerr << "example-server: stopped\n";
  return 0;
}
