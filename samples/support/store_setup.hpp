// What every sample program does to get its stores: a Redis URL, a private redis-server
// child (the default), or memory; plus the optional cipher key file. Shared by example-sim
// and example-server so their flags mean the same thing.
#pragma once

#include "domain/cipher.hpp"
#include "persistence/redis_connection.hpp"
#include "persistence/redis_launcher.hpp"
#include "persistence/stores.hpp"

#include <boost/program_options/options_description.hpp>

#include <memory>
#include <string>

namespace es::samples {

struct StoreFlags {
  std::string redis_url;             // --redis; empty: a private redis-server
  std::string redis_password_file;   // --redis-password-file
  std::string store = "redis";       // --store redis|memory
  std::string data_dir = "./var";    // --data-dir, for the private redis-server
  bool fsync_always = false;         // --fsync-always
  std::string cipher_key_file;       // --cipher-key-file
  std::int64_t snapshot_period = 0;  // --snapshot-period
  int replica_acks = 0;              // --replica-acks (Redis WAIT after every append)
  // Not flags: what a program sets for its Redis connections (timeouts, pool size).
  RedisConnectionOptions connection;
  std::size_t pool_connections = 8;
  // The private redis-server starts on an emptied data directory (a run that needs no
  // earlier data, such as the simulation, should not load and grow the last run's files).
  bool fresh_private_store = false;
};

// Adds --redis, --redis-password-file, --store, --data-dir, --fsync-always, --cipher-key-file,
// --snapshot-period, --replica-acks.
void add_store_options(boost::program_options::options_description& options, StoreFlags& flags);

// The environment variable a Redis password may come from instead of a file.
inline constexpr const char* kRedisPasswordVariable = "REDIS_PASSWORD";

struct StoreSetup {
  std::unique_ptr<RedisServer> server;  // the private redis-server, when one was started
  std::shared_ptr<RedisPool> pool;      // Redis stores only
  Stores stores;
  std::string description;  // for the start-up banner (never shows a password)
};

// Opens the stores the flags ask for. Throws ConfigurationError for bad flags (a wrong Redis
// password included) and StoreUnavailable when Redis cannot be reached or started.
//
// The Redis password comes from the --redis URL, else --redis-password-file, else
// $REDIS_PASSWORD (a URL with a password besides either is a ConfigurationError). Without
// --redis it is the private redis-server's password; without any, that server gets a random
// one. It never appears in a message or in `description`.
StoreSetup open_stores(const StoreFlags& flags, const std::string& program);
// The checks open_stores() makes before it starts anything: ConfigurationError for flags that
// contradict each other or are out of range (for programs that refuse bad flags up front).
void check_store_flags(const StoreFlags& flags);

// The cipher of --cipher-key-file (base64 of 16, 24 or 32 bytes; whitespace ignored), or
// nothing when no file is given. ConfigurationError when the file is unreadable or bad; a
// warning on stderr, prefixed with `program`, when others may read or write it.
std::shared_ptr<const AesGcmCipher> load_cipher(const StoreFlags& flags,
                                                const std::string& program = {});

}  // namespace es::samples
