// Why: a node must only join (and only accept) nodes that know the cluster secret, without
// the secret ever crossing the wire (the link may be plain TCP) and without a recorded join
// being replayable. Each side proves knowledge with an HMAC over the other side's fresh
// nonce: the joiner over the gatekeeper's single-use nonce, the gatekeeper over the joiner's.
//
//   join proof    = HMAC-SHA256(secret, "es-cluster-join\n" server_nonce "\n" client_nonce
//                                       "\n" node_id "\n" ("member" | "client"))
//   welcome proof = HMAC-SHA256(secret, "es-cluster-welcome\n" client_nonce "\n"
//                                       server_nonce "\n" node_id)
//
// The secret is held by ClusterSecret, which has no way to print it.
#pragma once

#include <string>
#include <string_view>

namespace es {

class ClusterSecret {
 public:
  ClusterSecret() = default;  // the empty secret (a loopback-only cluster without a file)
  // The file's content without surrounding whitespace: at least 16 bytes. Throws
  // ConfigurationError (naming the file, never its content).
  static ClusterSecret from_file(const std::string& path);
  static ClusterSecret from_text(std::string text) { return ClusterSecret(std::move(text)); }

  bool empty() const { return key_.empty(); }
  std::string join_proof(std::string_view server_nonce, std::string_view client_nonce,
                         std::string_view node_id, bool member) const;
  std::string welcome_proof(std::string_view client_nonce, std::string_view server_nonce,
                            std::string_view node_id) const;
  // The transport's link proof (cluster_transport.hpp): 32 raw bytes of
  // HMAC-SHA256(secret, "es-cluster-link\n" role nonce_c nonce_a binding).
  std::string link_proof(char role, std::string_view nonce_c, std::string_view nonce_a,
                         std::string_view binding) const;

 private:
  explicit ClusterSecret(std::string key) : key_(std::move(key)) {}
  std::string raw_mac(const std::string& text) const;
  std::string mac(const std::string& text) const;
  std::string key_;
};

// 128 random bits as 32 lowercase hex digits (OpenSSL's RAND_bytes).
std::string random_nonce();

// Equality that takes the same time wherever the first difference is.
bool constant_time_equal(std::string_view a, std::string_view b);

// Node ids: 1 to 64 characters of [A-Za-z0-9._:-].
bool valid_node_id(std::string_view id);

// Untrusted text made safe for a log line: printable ASCII, at most 64 characters.
std::string printable(std::string_view text);

}  // namespace es
