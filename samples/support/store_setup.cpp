#include "samples/support/store_setup.hpp"

#include "domain/errors.hpp"
#include "persistence/redis_stores.hpp"
#include "persistence/redis_url.hpp"

#include <boost/program_options/value_semantic.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace po = boost::program_options;

namespace es::samples {

void add_store_options(po::options_description& options, StoreFlags& flags) {
  options.add_options()(
      "redis", po::value(&flags.redis_url)->value_name("URL"),
      "redis://[:PASSWORD@]HOST:PORT[/DB]; without it a private redis-server is started")(
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
      "a snapshot every N events per entity; 0 is off");
}

void check_store_flags(const StoreFlags& flags) {
  if (flags.snapshot_period < 0) throw ConfigurationError("--snapshot-period must be >= 0");
  if (flags.store != "redis" && flags.store != "memory")
    throw ConfigurationError("--store must be redis or memory");
  if (flags.store == "memory" && !flags.redis_url.empty())
    throw ConfigurationError("--redis and --store memory exclude each other");
}

StoreSetup open_stores(const StoreFlags& flags, const std::string& program) {
  check_store_flags(flags);
  StoreSetup setup;
  if (flags.store == "memory") {
    setup.stores = memory_stores();
    setup.description = "in-memory store (nothing is kept after exit)";
    return setup;
  }
  std::string url = flags.redis_url;
  if (url.empty()) {
    RedisServerOptions options;
    options.data_dir = std::filesystem::path(flags.data_dir) / (program + "-redis");
    options.fsync_always = flags.fsync_always;
    if (flags.fresh_private_store) std::filesystem::remove_all(options.data_dir);
    setup.server = std::make_unique<RedisServer>(options);
    url = setup.server->url();
    setup.description =
        "private redis-server on 127.0.0.1:" + std::to_string(setup.server->port()) + " (data in " +
        options.data_dir.string() + ")";
  } else {
    setup.description = "redis at " + RedisUrl::parse(url).to_string();
  }
  setup.pool = std::make_shared<RedisPool>(url, flags.connection, flags.pool_connections);
  setup.stores = redis_stores(setup.pool);
  return setup;
}

std::shared_ptr<const AesGcmCipher> load_cipher(const StoreFlags& flags) {
  if (flags.cipher_key_file.empty()) return nullptr;
  std::ifstream in(flags.cipher_key_file);
  if (!in) throw ConfigurationError("cannot read --cipher-key-file " + flags.cipher_key_file);
  std::stringstream text;
  text << in.rdbuf();
  return std::make_shared<AesGcmCipher>(AesGcmCipher::from_base64_key(text.str()));
}

}  // namespace es::samples
