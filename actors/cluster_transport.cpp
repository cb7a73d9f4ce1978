// Why: see cluster_transport.hpp.
#include "actors/cluster_transport.hpp"

#include "actors/error_code.hpp"
#include "domain/errors.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/network/multiplexer.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <list>
#include <map>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace es {

namespace {

// A socket on its way from the front to CAF: closed unless CAF took it.
class LinkSocket {
 public:
  explicit LinkSocket(int fd) : fd_(fd) {}
  ~LinkSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  LinkSocket(const LinkSocket&) = delete;
  LinkSocket& operator=(const LinkSocket&) = delete;
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

using link_socket = std::shared_ptr<LinkSocket>;

}  // namespace

}  // namespace es

// Local only: a type without a serializer cannot arrive from another node.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::link_socket)

namespace es {

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

using linkin_atom = caf::atom_constant<caf::atom("linkin")>;
using linkout_atom = caf::atom_constant<caf::atom("linkout")>;

constexpr char kMagic[8] = {'e', 's', '-', 'l', 'i', 'n', 'k', '1'};
constexpr std::size_t kNonceSize = 32;
constexpr std::size_t kHelloSize = sizeof kMagic + 1 + kNonceSize;
constexpr std::size_t kProofSize = 32;
constexpr char kExporterLabel[] = "EXPORTER-es-cluster-link";
constexpr std::size_t kRelayBuffer = 64 * 1024;
constexpr auto kLogInterval = std::chrono::seconds(5);
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);

std::string seconds_text(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

std::string endpoint_text(const tcp::endpoint& e) {
  const auto address = e.address();
  if (address.is_v6()) return "[" + address.to_string() + "]:" + std::to_string(e.port());
  return address.to_string() + ":" + std::to_string(e.port());
}

// OpenSSL's reason ("certificate verify failed") rather than Asio's composite text.
std::string tls_reason(const boost::system::error_code& ec) {
  if (ec.category() == net::error::get_ssl_category()) {
    if (const char* reason = ::ERR_reason_error_string(static_cast<unsigned long>(ec.value()))) {
      return reason;
    }
  }
  return ec.message();
}

}  // namespace

class LinkBase : public std::enable_shared_from_this<LinkBase> {
 public:
  virtual ~LinkBase() = default;
  virtual void abort(const std::string& why) = 0;
  // This link's entry among the core's pending incoming handshakes.
  std::optional<std::list<std::weak_ptr<LinkBase>>::iterator> slot;
};

// Everything on the front's one thread. The io_context is declared first so that it goes
// last: its destruction drops every handler still queued, and with them the links.
class TransportCore {
 public:
  using Done = std::function<void(link_socket, const std::string& error)>;

  explicit TransportCore(TransportSettings s) : settings(std::move(s)) {
    if (settings.tls.enabled()) tls.emplace(make_tls_context(settings.tls));
  }

  ~TransportCore() { shutdown(); }

  void run() {
    thread = std::thread([this] {
      for (;;) {
        try {
          io.run();
          return;
        } catch (const std::exception& e) {
          log(std::string("cluster transport: ") + e.what());
        }
      }
    });
  }

  // Closes the port and every link the front still holds (handshakes, relays), then ends
  // the thread. Handlers of the aborted operations never run: they go with the io_context.
  void shutdown() {
    if (stopped.exchange(true)) return;
    net::post(io, [this] {
      boost::system::error_code ignored;
      acceptor.close(ignored);
      accept_retry.cancel();
      for (auto& weak : links) {
        if (auto link = weak.lock()) link->abort("the transport stopped");
      }
      io.stop();
    });
    work.reset();
    if (thread.joinable()) thread.join();
  }

  void log(const std::string& line) const {
    if (settings.log) settings.log(line);
  }

  // Refusals, at most one line per reason every few seconds, with the count in between.
  // (Reasons come from fixed texts and OpenSSL's: a small set.)
  void refused(const std::string& peer, const std::string& why) {
    if (stopped) return;
    auto& entry = refusals[why];
    ++entry.second;
    const auto now = Clock::now();
    if (entry.first != Clock::time_point{} && now - entry.first < kLogInterval) return;
    std::string line = "refused a cluster connection from " + peer + ": " + why;
    if (entry.second > 1) {
      line += " (" + std::to_string(entry.second) + " such refusals since the last report)";
    }
    log(line);
    entry = {now, 0};
  }

  void accept_next();
  void start_incoming(tcp::socket socket);
  void dial(std::string host, std::uint16_t port, Done done);
  void track(const std::shared_ptr<LinkBase>& link) {
    links.remove_if([](const std::weak_ptr<LinkBase>& w) { return w.expired(); });
    links.push_back(link);
  }
  void unlist(LinkBase& link) {
    if (!link.slot) return;
    pending.erase(*link.slot);
    link.slot.reset();
  }

  net::io_context io{1};
  net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(io);
  TransportSettings settings;
  std::optional<ssl::context> tls;
  tcp::acceptor acceptor{io};
  net::steady_timer accept_retry{io};
  std::list<std::weak_ptr<LinkBase>> pending;  // incoming handshakes, oldest first
  std::list<std::weak_ptr<LinkBase>> links;    // every link, for shutdown
  std::function<void(link_socket)> on_accepted;
  std::map<std::string, std::pair<Clock::time_point, std::size_t>> refusals;
  std::atomic<bool> stopped{false};
  std::thread thread;

 private:
  static ssl::context make_tls_context(const TlsFiles& files) {
    ssl::context ctx(ssl::context::tls);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    const auto step = [](const std::string& flag, const std::string& path, auto&& f) {
      try {
        f();
      } catch (const boost::system::system_error& e) {
        throw ConfigurationError(flag + ": cannot use '" + path + "': " + tls_reason(e.code()));
      }
    };
    step("--tls-cert", files.cert, [&] { ctx.use_certificate_chain_file(files.cert); });
    step("--tls-key", files.key, [&] { ctx.use_private_key_file(files.key, ssl::context::pem); });
    if (::SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
      throw ConfigurationError("--tls-key: '" + files.key +
                               "' does not belong to the certificate of --tls-cert");
    }
    step("--tls-ca", files.ca, [&] { ctx.load_verify_file(files.ca); });
    // Mutual: each side presents its certificate and accepts only ones the CA signed.
    ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    return ctx;
  }
};

namespace {

// One connection through the link handshake and, with TLS, the relay to CAF afterwards.
template <class Stream>
class Link : public LinkBase {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;
  using Done = TransportCore::Done;

  template <class... Args>
  Link(TransportCore* core, bool accepting, Done done, Args&&... args)
      : core_(core),
        accepting_(accepting),
        done_(std::move(done)),
        stream_(std::forward<Args>(args)...),
        timer_(core->io),
        resolver_(core->io),
        inner_(core->io) {}

  void start_accepted() {
    arm(core_->settings.timings.auth_timeout,
        "no proof within " + seconds_text(core_->settings.timings.auth_timeout));
    secure();
  }

  void start_dial(const std::string& host, std::uint16_t port) {
    arm(core_->settings.timings.connect_timeout,
        "no connection within " + seconds_text(core_->settings.timings.connect_timeout));
    resolver_.async_resolve(
        host, std::to_string(port),
        [self = me()](const boost::system::error_code& ec, tcp::resolver::results_type results) {
          if (ec) return self->fail(ec.message());
          net::async_connect(self->stream_.lowest_layer(), results,
                             [self](const boost::system::error_code& ec, const tcp::endpoint&) {
                               if (ec) return self->fail(ec.message());
                               const auto limit = self->core_->settings.timings.auth_timeout;
                               self->arm(limit,
                                         "no proof from the node within " + seconds_text(limit));
                               self->secure();
                             });
        });
  }

  void abort(const std::string& why) override {
    if (handed_over_) return close_relay();
    fail(why);
  }

 private:
  std::shared_ptr<Link> me() { return std::static_pointer_cast<Link>(shared_from_this()); }

  void arm(std::chrono::milliseconds limit, std::string why) {
    timer_.expires_after(limit);
    timer_.async_wait(
        [weak = weak_from_this(), why = std::move(why)](boost::system::error_code ec) {
          if (ec) return;
          if (auto self = weak.lock()) self->abort(why);
        });
  }

  void fail(const std::string& why) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    core_->unlist(*this);
    boost::system::error_code ignored;
    resolver_.cancel();
    stream_.lowest_layer().close(ignored);
    done_(nullptr, why);
  }

  std::string closed(const boost::system::error_code& ec) const {
    if (ec == net::error::eof || ec == net::error::connection_reset) {
      return accepting_ ? "closed the connection during the handshake"
                        : "the node closed the connection during the handshake";
    }
    if (ec.category() == net::error::get_ssl_category())
      return "TLS failed (" + tls_reason(ec) + ")";
    return ec.message();
  }

  void secure() {
    boost::system::error_code ignored;
    stream_.lowest_layer().set_option(tcp::no_delay(true), ignored);
    if constexpr (kTls) {
      stream_.async_handshake(
          accepting_ ? ssl::stream_base::server : ssl::stream_base::client,
          [self = me()](const boost::system::error_code& ec) {
            if (ec) {
              return self->fail("TLS handshake failed (" + tls_reason(ec) + ")");
            }
            self->send_hello();
          });
    } else {
      send_hello();
    }
  }

  void send_hello() {
    std::memcpy(hello_out_.data(), kMagic, sizeof kMagic);
    hello_out_[sizeof kMagic] = accepting_ ? 'A' : 'C';
    if (::RAND_bytes(reinterpret_cast<unsigned char*>(hello_out_.data()) + sizeof kMagic + 1,
                     kNonceSize) != 1) {
      return fail("no random bytes");
    }
    net::async_write(stream_, net::buffer(hello_out_),
                     [self = me()](const boost::system::error_code& ec, std::size_t) {
                       if (ec) return self->fail(self->closed(ec));
                       self->read_hello();
                     });
  }

  void read_hello() {
    net::async_read(stream_, net::buffer(hello_in_),
                    [self = me()](const boost::system::error_code& ec, std::size_t) {
                      if (ec) return self->fail(self->closed(ec));
                      const char expected = self->accepting_ ? 'C' : 'A';
                      if (std::memcmp(self->hello_in_.data(), kMagic, sizeof kMagic) != 0 ||
                          self->hello_in_[sizeof kMagic] != expected) {
                        return self->fail(self->accepting_
                                              ? "not the cluster protocol"
                                              : "the node there does not speak the cluster "
                                                "protocol");
                      }
                      if (!self->bind_channel()) return self->fail("no TLS keying material");
                      if (self->accepting_) return self->read_proof();
                      self->send_proof();
                    });
  }

  // With TLS, both proofs cover keying material of this TLS session: proofs relayed between
  // two other sessions do not verify.
  bool bind_channel() {
    if constexpr (kTls) {
      binding_.resize(32);
      return ::SSL_export_keying_material(
                 stream_.native_handle(), reinterpret_cast<unsigned char*>(binding_.data()),
                 binding_.size(), kExporterLabel, sizeof kExporterLabel - 1, nullptr, 0, 0) == 1;
    }
    return true;
  }

  std::string proof(char role) const {
    const std::string_view mine(hello_out_.data() + sizeof kMagic + 1, kNonceSize);
    const std::string_view theirs(hello_in_.data() + sizeof kMagic + 1, kNonceSize);
    const auto nonce_c = accepting_ ? theirs : mine;
    const auto nonce_a = accepting_ ? mine : theirs;
    return core_->settings.secret.link_proof(role, nonce_c, nonce_a, binding_);
  }

  void send_proof() {
    proof_out_ = proof(accepting_ ? 'A' : 'C');
    net::async_write(stream_, net::buffer(proof_out_),
                     [self = me()](const boost::system::error_code& ec, std::size_t) {
                       if (ec) return self->fail(self->closed(ec));
                       if (self->accepting_) return self->hand_over();
                       self->read_proof();
                     });
  }

  void read_proof() {
    net::async_read(stream_, net::buffer(proof_in_),
                    [self = me()](const boost::system::error_code& ec, std::size_t) {
                      if (ec) return self->fail(self->closed(ec));
                      const auto expected = self->proof(self->accepting_ ? 'C' : 'A');
                      const std::string_view got(self->proof_in_.data(), kProofSize);
                      if (!constant_time_equal(expected, got)) {
                        return self->fail(self->accepting_
                                              ? "wrong cluster secret"
                                              : "the node there does not prove the cluster "
                                                "secret");
                      }
                      if (self->accepting_) return self->send_proof();
                      self->hand_over();
                    });
  }

  void hand_over() {
    timer_.cancel();
    core_->unlist(*this);
    finished_ = true;
    handed_over_ = true;
    boost::system::error_code ec;
    if constexpr (!kTls) {
      const int fd = stream_.release(ec);
      if (ec) {
        finished_ = handed_over_ = false;
        return fail("cannot hand the connection over: " + ec.message());
      }
      done_(std::make_shared<LinkSocket>(fd), "");
    } else {
      // CAF gets one end of a socket pair; the front relays between it and TLS. (A Unix
      // socket: CAF 0.17 asks a connection for its port only in the middleman's `get`,
      // which nothing here sends.)
      int fds[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        finished_ = handed_over_ = false;
        return fail(std::string("socketpair failed: ") + std::strerror(errno));
      }
      inner_.assign(net::local::stream_protocol(), fds[0], ec);
      if (ec) {
        ::close(fds[0]);
        ::close(fds[1]);
        finished_ = handed_over_ = false;
        return fail("cannot relay: " + ec.message());
      }
      done_(std::make_shared<LinkSocket>(fds[1]), "");
      from_peer_.resize(kRelayBuffer);
      to_peer_.resize(kRelayBuffer);
      relay_in();
      relay_out();
    }
  }

  void relay_in() {
    stream_.async_read_some(
        net::buffer(from_peer_), [self = me()](const boost::system::error_code& ec, std::size_t n) {
          if (ec) return self->close_relay();
          net::async_write(self->inner_, net::buffer(self->from_peer_.data(), n),
                           [self](const boost::system::error_code& ec, std::size_t) {
                             if (ec) return self->close_relay();
                             self->relay_in();
                           });
        });
  }

  void relay_out() {
    inner_.async_read_some(
        net::buffer(to_peer_), [self = me()](const boost::system::error_code& ec, std::size_t n) {
          if (ec) return self->close_relay();
          net::async_write(self->stream_, net::buffer(self->to_peer_.data(), n),
                           [self](const boost::system::error_code& ec, std::size_t) {
                             if (ec) return self->close_relay();
                             self->relay_out();
                           });
        });
  }

  void close_relay() {
    if (relay_closed_) return;
    relay_closed_ = true;
    boost::system::error_code ignored;
    inner_.close(ignored);
    stream_.lowest_layer().close(ignored);
  }

  TransportCore* core_;  // outlives every link (links die with its io_context)
  bool accepting_;
  Done done_;
  Stream stream_;
  net::steady_timer timer_;
  tcp::resolver resolver_;
  net::local::stream_protocol::socket inner_;
  std::array<char, kHelloSize> hello_out_{}, hello_in_{};
  std::array<char, kProofSize> proof_in_{};
  std::string proof_out_, binding_;
  std::vector<char> from_peer_, to_peer_;
  bool finished_ = false;
  bool handed_over_ = false;
  bool relay_closed_ = false;
};

using PlainLink = Link<tcp::socket>;
using TlsLink = Link<ssl::stream<tcp::socket>>;

}  // namespace

void TransportCore::accept_next() {
  acceptor.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // Out of descriptors, say: try again shortly rather than spin.
      refused("?", "cannot accept (" + ec.message() + ")");
      accept_retry.expires_after(kAcceptRetry);
      accept_retry.async_wait([this](boost::system::error_code ec) {
        if (!ec) accept_next();
      });
      return;
    }
    start_incoming(std::move(socket));
    accept_next();
  });
}

void TransportCore::start_incoming(tcp::socket socket) {
  // Bounded: under a flood the oldest pending handshake goes first, so that a real peer
  // (which answers within milliseconds) still gets through.
  while (!pending.empty() && pending.size() >= settings.max_pending) {
    auto oldest = pending.front().lock();
    pending.pop_front();
    if (oldest) {
      oldest->slot.reset();
      oldest->abort("too many pending handshakes");
    }
  }
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  const std::string peer = ec ? "?" : endpoint_text(remote);
  auto done = [this, peer](link_socket s, const std::string& error) {
    if (!s) return refused(peer, error);
    if (on_accepted) on_accepted(std::move(s));
  };
  auto start = [this](auto link) {
    track(link);
    pending.push_back(link);
    link->slot = std::prev(pending.end());
    link->start_accepted();
  };
  if (tls) {
    start(std::make_shared<TlsLink>(this, true, std::move(done), std::move(socket), *tls));
  } else {
    start(std::make_shared<PlainLink>(this, true, std::move(done), std::move(socket)));
  }
}

void TransportCore::dial(std::string host, std::uint16_t port, Done done) {
  net::post(io, [this, host = std::move(host), port, done = std::move(done)]() mutable {
    if (tls) {
      auto l = std::make_shared<TlsLink>(this, false, std::move(done), io, *tls);
      track(l);
      l->start_dial(host, port);
    } else {
      auto l = std::make_shared<PlainLink>(this, false, std::move(done), io);
      track(l);
      l->start_dial(host, port);
    }
  });
}

namespace {

// The CAF side: turns authenticated sockets into BASP connections. Nothing but this process
// can reach it: its handle never leaves the node, so it is in no registry, and its messages
// carry a type that cannot be deserialized.
struct ConnectorState {
  struct Dial {
    caf::typed_response_promise<caf::node_id, caf::strong_actor_ptr, std::set<std::string>> promise;
    std::uint16_t port = 0;
  };
  std::weak_ptr<TransportCore> core;
  caf::actor basp;
  std::chrono::milliseconds basp_timeout{2000};
  std::uint16_t port = 0;  // ours, under which BASP lists the published actor
  caf::strong_actor_ptr published;
  std::set<std::string> interfaces;
  std::uint64_t next_dial = 0;
  std::unordered_map<std::uint64_t, Dial> dials;
  static inline const char* name = "cluster-connector";
};

caf::behavior connector_behavior(caf::stateful_actor<ConnectorState>* self,
                                 std::weak_ptr<TransportCore> core, caf::actor basp,
                                 std::chrono::milliseconds basp_timeout) {
  self->state.core = std::move(core);
  self->state.basp = std::move(basp);
  self->state.basp_timeout = basp_timeout;
  return {
      [=](caf::connect_atom, std::string& host, std::uint16_t port)
          -> caf::result<caf::node_id, caf::strong_actor_ptr, std::set<std::string>> {
        auto& st = self->state;
        auto core = st.core.lock();
        if (!core || core->stopped) {
          return make_error(ErrorCode::unavailable, "the cluster transport is stopped");
        }
        auto promise = self->make_response_promise<caf::node_id, caf::strong_actor_ptr,
                                                   std::set<std::string>>();
        const auto id = ++st.next_dial;
        st.dials.emplace(id, ConnectorState::Dial{promise, port});
        core->dial(std::move(host), port,
                   [handle = caf::actor_cast<caf::actor>(self), id](link_socket s,
                                                                    const std::string& error) {
                     caf::anon_send(handle, linkout_atom::value, id, std::move(s), error);
                   });
        return promise;
      },
      [=](linkout_atom, std::uint64_t id, link_socket& socket, std::string& error) {
        auto& st = self->state;
        auto it = st.dials.find(id);
        if (it == st.dials.end()) return;
        auto dial = std::move(it->second);
        st.dials.erase(it);
        if (!socket) {
          dial.promise.deliver(make_error(ErrorCode::unavailable, error));
          return;
        }
        auto scribe = self->system().middleman().backend().new_scribe(socket->release());
        self->request(st.basp, st.basp_timeout, caf::connect_atom::value, std::move(scribe),
                      dial.port)
            .then(
                [promise = dial.promise](caf::node_id& node, caf::strong_actor_ptr& published,
                                         std::set<std::string>& interfaces) mutable {
                  promise.deliver(std::move(node), std::move(published), std::move(interfaces));
                },
                [promise = dial.promise](caf::error& error) mutable {
                  promise.deliver(std::move(error));
                });
      },
      [=](linkin_atom, link_socket& socket) {
        auto& st = self->state;
        if (!socket || !st.published) return;
        auto scribe = self->system().middleman().backend().new_scribe(socket->release());
        // BASP's own message for a server-side connection without a doorman: it sends its
        // server handshake naming `published`, as for a connection it accepted itself.
        caf::anon_send(st.basp, caf::publish_atom::value, std::move(scribe), st.port, st.published,
                       st.interfaces);
      },
      [=](caf::publish_atom, std::uint16_t port, caf::strong_actor_ptr& published,
          std::set<std::string>& interfaces) {
        auto& st = self->state;
        st.port = port;
        st.published = std::move(published);
        st.interfaces = std::move(interfaces);
      },
  };
}

}  // namespace

ClusterTransport::ClusterTransport(caf::actor_system& sys, TransportSettings settings)
    : core_(std::make_shared<TransportCore>(std::move(settings))) {
  auto basp = sys.middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
  auto handle = sys.spawn<caf::hidden>(connector_behavior, std::weak_ptr<TransportCore>(core_),
                                       basp, core_->settings.timings.handshake_timeout);
  connector_ = caf::actor_cast<cluster_connector_actor>(handle);
  core_->on_accepted = [handle](link_socket s) {
    caf::anon_send(handle, linkin_atom::value, std::move(s));
  };
  core_->run();
}

ClusterTransport::~ClusterTransport() {
  stop();
}

std::uint16_t ClusterTransport::listen(const std::string& host, std::uint16_t port,
                                       caf::strong_actor_ptr published,
                                       std::set<std::string> interfaces) {
  const auto where = PeerAddress{host, port}.text();
  boost::system::error_code ec;
  tcp::endpoint endpoint;
  const auto address = net::ip::make_address(host, ec);
  if (!ec) {
    endpoint = {address, port};
  } else {
    net::io_context io;
    tcp::resolver resolver(io);
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) {
      throw ConfigurationError("cannot open the node port " + where + ": unknown host");
    }
    endpoint = results.begin()->endpoint();
  }
  auto& acceptor = core_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    throw ConfigurationError("cannot open the node port " + where + ": " + ec.message());
  }
  const auto actual = acceptor.local_endpoint(ec).port();
  // Queued before any connection is accepted, so BASP knows what to serve.
  caf::anon_send(caf::actor_cast<caf::actor>(connector_), caf::publish_atom::value, actual,
                 std::move(published), std::move(interfaces));
  net::post(core_->io, [core = core_.get()] { core->accept_next(); });
  return actual;
}

const ClusterSecret& ClusterTransport::secret() const {
  return core_->settings.secret;
}

bool ClusterTransport::tls() const {
  return core_->tls.has_value();
}

void ClusterTransport::stop() {
  if (!core_) return;
  core_->shutdown();
  caf::anon_send_exit(connector_, caf::exit_reason::user_shutdown);
}

}  // namespace es
