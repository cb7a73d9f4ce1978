// Why: CAF 0.17's OpenSSL module never clears OpenSSL's per-thread error queue. Its session
// classifies every SSL_read / SSL_write / SSL_accept / SSL_connect result with
// SSL_get_error, which reports SSL_ERROR_SSL whenever the queue holds anything, and all
// sessions share one multiplexer thread. So one failed handshake (a node without TLS, a
// wrong CA, a peer killed mid-record) leaves an entry that makes the next "would block" of a
// healthy connection look fatal: CAF closes it and the node pair flaps (seen in
// tests/cluster: every refused connection dropped an established node link). OpenSSL's
// documentation requires an empty queue before each of these calls.
//
// The fix interposes the four calls: this program's definitions come first in the dynamic
// symbol lookup of libcaf_openssl.so, clear the queue, and call OpenSSL's own (RTLD_NEXT).
// configure_cluster_transport refers to link_cluster_tls_fix() below, so every program that
// sets up a cluster node or client links this object; nothing else in the runtime calls
// these functions.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <dlfcn.h>

#include <cstdlib>

namespace {

template <class F>
F next_definition(const char* name) {
  void* symbol = ::dlsym(RTLD_NEXT, name);
  if (symbol == nullptr) std::abort();  // libssl is linked: cannot happen
  return reinterpret_cast<F>(symbol);
}

}  // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static const auto real = next_definition<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static const auto real = next_definition<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_accept(SSL* ssl) {
  static const auto real = next_definition<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return real(ssl);
}

int SSL_connect(SSL* ssl) {
  static const auto real = next_definition<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}

}  // extern "C"

namespace es {
void link_cluster_tls_fix() {}
}  // namespace es
