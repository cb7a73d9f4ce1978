#include "samples/support/store_setup.hpp"

#include "domain/errors.hpp"
#include "persistence/redis_stores.hpp"
#include "persistence/redis_url.hpp"
#include "samples/support/secret_file.hpp"

#include <boost/program_options/value_semantic.hpp>

#include <openssl/rand.h>

#include <cstdlib>
#include <filesystem>

namespace po = boost::program_options;

namespace es::samples {
namespace {

const char* password_variable() {
  const char* value = std::getenv(kRedisPasswordVariable);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

// The password the flags give besides the URL: the file's, else the environment's, else "".
std::string given_password(const StoreFlags& flags, const std::string& program) {
  if (!flags.redis_password_file.empty()) {
    return read_secret_file(flags.redis_password_file, "Redis password file", program);
  }
  const char* variable = password_variable();
  return variable != nullptr ? variable : "";
}

// For the private redis-server: without a password any local user could read and write the
// store through its loopback port.
std::string random_password() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    throw StoreUnavailable("cannot draw a random password for the private redis-server");
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

}  // namespace

void add_store_options(po::options_description& options, StoreFlags& flags) {
  options.add_options()(
      "redis", po::value(&flags.redis_url)->value_name("URL"),
      "redis://[:PASSWORD@]HOST:PORT[/DB]; without it a private redis-server is started (a "
      "password in the URL shows in ps: prefer --redis-password-file or $REDIS_PASSWORD)")(
      "redis-password-file", po::value(&flags.redis_password_file)->value_name("FILE"),
      "file holding the Redis password (surrounding whitespace ignored); else $REDIS_PASSWORD; "
      "without --redis the private redis-server's password (else a random one)")(
      "store", po::value(&flags.store)->value_name("KIND")->default_value(flags.store),
      "redis or memory (no persistence beyond the process)")(
      "data-dir", po::value(&flags.data_dir)->value_name("DIR")->default_value(flags.data_dir),
      "data directory of the private redis-server")(
      "fsync-always", po::bool_switch(&flags.fsync_always),
      "private redis-server with appendfsync always (default everysec)")(
      "cipher-key-file", po::value(&flags.cipher_key_file)->value_name("FILE"),
      "file with the base64 of a 16, 24 or 32 byte AES key: events are stored encrypted")(
      "snapshot-period",
      po::value(&flags.snapshot_period)->value_name("N")->default_value(flags.snapshot_period),
      "a snapshot every N events per entity; 0 is off")(
      "replica-acks", po::value(&flags.replica_acks)->value_name("N")->default_value(0),
      "confirm an append only once N replicas of its master have it (Redis WAIT, at most "
      "1 s, else 503); 0: once the master has it (a failover may lose the last writes)");
}

void check_store_flags(const StoreFlags& flags) {
  if (flags.snapshot_period < 0) throw ConfigurationError("--snapshot-period must be >= 0");
  if (flags.replica_acks < 0 || flags.replica_acks > 16)
    throw ConfigurationError("--replica-acks must be between 0 and 16");
  if (flags.store == "memory" && flags.replica_acks > 0)
    throw ConfigurationError("--replica-acks and --store memory exclude each other");
  if (flags.store != "redis" && flags.store != "memory")
    throw ConfigurationError("--store must be redis or memory");
  if (flags.store == "memory" && !flags.redis_url.empty())
    throw ConfigurationError("--redis and --store memory exclude each other");
  if (flags.store == "memory" && !flags.redis_password_file.empty())
    throw ConfigurationError("--redis-password-file and --store memory exclude each other");
  if (flags.store == "redis" && !flags.redis_url.empty()) {
    const char* other = !flags.redis_password_file.empty() ? "--redis-password-file"
                        : password_variable() != nullptr   ? kRedisPasswordVariable
                                                           : nullptr;
    if (other != nullptr && !RedisUrl::parse(flags.redis_url).password.empty()) {
      throw ConfigurationError(std::string("the --redis URL holds a password and ") + other +
                               " gives one too: give the password one way only");
    }
  }
}

StoreSetup open_stores(const StoreFlags& flags, const std::string& program) {
  check_store_flags(flags);
  StoreSetup setup;
  if (flags.store == "memory") {
    setup.stores = memory_stores();
    setup.description = "in-memory store (nothing is kept after exit)";
    return setup;
  }
  // Handed over as a RedisUrl, never as a URL string, so the password is in no text to leak.
  RedisUrl url;
  const std::string password = given_password(flags, program);
  if (flags.redis_url.empty()) {
    RedisServerOptions options;
    options.data_dir = std::filesystem::path(flags.data_dir) / (program + "-redis");
    options.fsync_always = flags.fsync_always;
    options.password = password.empty() ? random_password() : password;
    if (flags.fresh_private_store) std::filesystem::remove_all(options.data_dir);
    // The AOF holds every event: other local users may not read it either. (Failures are left
    // to RedisServer, which reports a directory it cannot create.)
    std::error_code ec;
    std::filesystem::create_directories(options.data_dir, ec);
    std::filesystem::permissions(options.data_dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
    setup.server = std::make_unique<RedisServer>(options);
    url = setup.server->redis_url();
    setup.description =
        "private redis-server on 127.0.0.1:" + std::to_string(setup.server->port()) + " (data in " +
        options.data_dir.string() + ")";
  } else {
    url = RedisUrl::parse(flags.redis_url);
    if (!password.empty()) url.password = password;
    setup.description = "redis at " + url.to_string();
  }
  setup.pool = std::make_shared<RedisPool>(url, flags.connection, flags.pool_connections);
  RedisStoreOptions options;
  options.replica_acks = flags.replica_acks;
  setup.stores = redis_stores(setup.pool, options);
  if (setup.pool->cluster_map()->mode() == RedisClusterMap::Mode::cluster) {
    setup.description = "Redis Cluster of " +
                        std::to_string(setup.pool->cluster_map()->masters().size()) +
                        " masters via " + url.to_string();
  }
  if (flags.replica_acks > 0) {
    setup.description += ", appends confirmed by " + std::to_string(flags.replica_acks) +
                         " replica" + (flags.replica_acks > 1 ? "s" : "");
  }
  return setup;
}

std::shared_ptr<const AesGcmCipher> load_cipher(const StoreFlags& flags,
                                                const std::string& program) {
  if (flags.cipher_key_file.empty()) return nullptr;
  return std::make_shared<AesGcmCipher>(AesGcmCipher::from_base64_key(
      read_secret_file(flags.cipher_key_file, "cipher key file", program)));
}

}  // namespace es::samples
