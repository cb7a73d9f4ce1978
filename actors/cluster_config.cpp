// Why: see cluster_config.hpp.
#include "actors/cluster_config.hpp"

#include "domain/errors.hpp"

#include <caf/timespan.hpp>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>

namespace es {

std::string PeerAddress::text() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

PeerAddress parse_peer_address(const std::string& text, const std::string& flag) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    throw ConfigurationError(flag + " must be HOST:PORT, got '" + text + "'");
  }
  PeerAddress out;
  out.host = text.substr(0, colon);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  const std::string port = text.substr(colon + 1);
  unsigned long value = 0;
  try {
    std::size_t used = 0;
    value = std::stoul(port, &used);
    if (used != port.size() || value == 0 || value > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    throw ConfigurationError(flag + " port must be 1..65535, got '" + port + "'");
  }
  if (out.host.empty()) throw ConfigurationError(flag + " needs a host, got '" + text + "'");
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

std::unique_ptr<std::FILE, FileCloser> open_pem(const std::string& path, const std::string& flag) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) throw ConfigurationError(flag + ": cannot read '" + path + "'");
  return f;
}

void check_certificate(const std::string& path, const std::string& flag) {
  auto f = open_pem(path, flag);
  X509* cert = PEM_read_X509(f.get(), nullptr, nullptr, nullptr);
  if (!cert) throw ConfigurationError(flag + ": '" + path + "' holds no PEM certificate");
  X509_free(cert);
}

// No passphrase callback may prompt: an empty passphrase makes an encrypted key fail.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

void check_key(const std::string& path, const std::string& flag) {
  auto f = open_pem(path, flag);
  EVP_PKEY* key = PEM_read_PrivateKey(f.get(), nullptr, no_passphrase, nullptr);
  if (!key) {
    throw ConfigurationError(flag + ": '" + path +
                             "' holds no unencrypted PEM private key (encrypted keys are not "
                             "supported)");
  }
  EVP_PKEY_free(key);
}

}  // namespace

void check_tls_files(const TlsFiles& tls) {
  if (!tls.enabled()) return;
  if (tls.cert.empty() || tls.key.empty() || tls.ca.empty()) {
    std::string missing;
    for (auto [name, value] : {std::pair<const char*, const std::string*>{"--tls-cert", &tls.cert},
                               {"--tls-key", &tls.key},
                               {"--tls-ca", &tls.ca}}) {
      if (value->empty()) missing += std::string(missing.empty() ? "" : ", ") + name;
    }
    throw ConfigurationError(
        "TLS between nodes needs all of --tls-cert, --tls-key and --tls-ca (missing: " + missing +
        ")");
  }
  check_certificate(tls.cert, "--tls-cert");
  check_key(tls.key, "--tls-key");
  check_certificate(tls.ca, "--tls-ca");
}

std::vector<PeerAddress> without_own_address(const ClusterSettings& settings) {
  std::vector<PeerAddress> out;
  for (const auto& p : settings.peers) {
    if (settings.port != 0 && p.port == settings.port && p.host == settings.host) continue;
    out.push_back(p);
  }
  return out;
}

void configure_cluster_transport(caf::actor_system_config& cfg, const ClusterTimings& timings) {
  cfg.set("middleman.heartbeat-interval", caf::timespan{timings.heartbeat});
  cfg.set("middleman.connection-timeout", caf::timespan{timings.connection_timeout});
}

}  // namespace es
