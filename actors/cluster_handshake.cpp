// Why: see cluster_handshake.hpp.
#include "actors/cluster_handshake.hpp"

#include "domain/errors.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <fstream>
#include <sstream>

namespace es {

namespace {

std::string hex(const unsigned char* data, std::size_t size) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 15]);
  }
  return out;
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

}  // namespace

ClusterSecret ClusterSecret::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigurationError("cannot read the cluster secret file '" + path + "'");
  std::stringstream content;
  content << in.rdbuf();
  std::string key = trim(content.str());
  if (key.size() < 16) {
    throw ConfigurationError("the cluster secret in '" + path +
                             "' is shorter than 16 bytes; use e.g. `openssl rand -hex 32`");
  }
  return ClusterSecret(std::move(key));
}

std::string ClusterSecret::raw_mac(const std::string& text) const {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), out, &size);
  return std::string(reinterpret_cast<const char*>(out), size);
}

std::string ClusterSecret::mac(const std::string& text) const {
  const auto raw = raw_mac(text);
  return hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

std::string ClusterSecret::link_proof(char role, std::string_view nonce_c, std::string_view nonce_a,
                                      std::string_view binding) const {
  std::string text = "es-cluster-link\n";
  text.push_back(role);
  text.append(nonce_c).append(nonce_a).append(binding);
  return raw_mac(text);
}

std::string ClusterSecret::join_proof(std::string_view server_nonce, std::string_view client_nonce,
                                      std::string_view node_id, bool member) const {
  std::string text = "es-cluster-join\n";
  text.append(server_nonce).append("\n").append(client_nonce).append("\n").append(node_id);
  text.append(member ? "\nmember" : "\nclient");
  return mac(text);
}

std::string ClusterSecret::welcome_proof(std::string_view client_nonce,
                                         std::string_view server_nonce,
                                         std::string_view node_id) const {
  std::string text = "es-cluster-welcome\n";
  text.append(client_nonce).append("\n").append(server_nonce).append("\n").append(node_id);
  return mac(text);
}

std::string random_nonce() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw Error("RAND_bytes failed");
  return hex(bytes, sizeof bytes);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

bool valid_node_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 64)) out.push_back(c >= 32 && c < 127 ? c : '?');
  return out;
}

}  // namespace es
