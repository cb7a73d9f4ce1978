// A user of the installed framework, outside the tree: it defines its own entity type (a
// to-do list) in a few lines, hosts it as actors through the runtime on the in-memory store
// and on a private redis-server, reloads it after a restart, and shuts down cleanly, also
// with an actor of its own left running (close() is bounded and reports it).
#include "actors/entity_binding.hpp"
#include "actors/runtime.hpp"
#include "persistence/redis_connection.hpp"
#include "persistence/redis_launcher.hpp"
#include "persistence/redis_stores.hpp"

#include <caf/event_based_actor.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace todo {

struct Started {
  static constexpr std::string_view topic = "todo.List.Started";
  std::string title;
};
ES_FIELDS(Started, title)
struct ItemAdded {
  static constexpr std::string_view topic = "todo.List.ItemAdded";
  std::string text;
};
ES_FIELDS(ItemAdded, text)

struct Start {
  static constexpr bool creates = true;
  std::string title;
};
ES_FIELDS(Start, title)
struct Add {
  std::string text;
};
ES_FIELDS(Add, text)

struct State {
  std::string title;
  std::vector<std::string> items;
};
ES_FIELDS(State, title, items)

struct ListBinding {
  static constexpr std::string_view topic = "todo.List";
  using State = todo::State;
  using Events = es::EventTypes<Started, ItemAdded>;
  using Command = es::Commands<Start, Add>;
  static void apply(State& s, const Started& e) { s.title = e.title; }
  static void apply(State& s, const ItemAdded& e) { s.items.push_back(e.text); }
  static es::Decision decide(const State&, const Start& c) {
    return es::Decision(Started{c.title});
  }
  static es::Decision decide(const State& s, const Add& c) {
    if (s.items.size() >= 3) throw es::InvalidInput("the list is full");
    return es::Decision(ItemAdded{c.text});
  }
};

}  // namespace todo

namespace {

int failures = 0;
void check(bool ok, const char* what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok) ++failures;
}

void exercise(es::RuntimeSettings settings, const char* where) {
  std::printf("-- %s\n", where);
  std::string id;
  {
    es::Runtime runtime(settings);
    auto lists = runtime.host<todo::ListBinding>();
    auto created = lists.create(todo::Start{"groceries"});
    id = created.id;
    auto uuid = *es::parse_uuid(id);
    lists.execute(uuid, todo::Add{"milk"});
    auto view = lists.execute(uuid, todo::Add{"bread"});
    check(view.version == 2 && view.state.items.size() == 2, "commands decide and apply");
    bool refused = false;
    lists.execute(uuid, todo::Add{"eggs"});
    try {
      lists.execute(uuid, todo::Add{"jam"});
    } catch (const es::InvalidInput&) {
      refused = true;
    }
    check(refused && lists.get(uuid).version == 3, "a refused command changes nothing");
    check(lists.events(uuid).size() == 4, "four events stored");
  }
  // A new runtime on the same stores rebuilds the list from its events.
  es::Runtime runtime(settings);
  auto lists = runtime.host<todo::ListBinding>();
  auto reloaded = lists.get(*es::parse_uuid(id));
  check(reloaded.state.title == "groceries" && reloaded.state.items.size() == 3 &&
            reloaded.state.items[2] == "eggs",
        "rebuilt after a restart");
}

}  // namespace

int main() {
  es::RuntimeSettings memory;
  memory.scheduler_threads = 1;
  memory.stores = es::memory_stores();
  exercise(memory, "in memory");

  const auto dir =
      std::filesystem::temp_directory_path() / ("es-consumer-redis-" + std::to_string(::getpid()));
  {
    es::RedisServerOptions options;
    options.data_dir = dir;
    es::RedisServer redis(options);
    es::RuntimeSettings on_redis;
    on_redis.scheduler_threads = 1;
    on_redis.stores = es::redis_stores(std::make_shared<es::RedisPool>(redis.url()));
    exercise(on_redis, "on a private redis-server");
  }
  std::filesystem::remove_all(dir);

  // An actor of the user's own, never stopped: close() waits a bounded time, then reports.
  es::RuntimeSettings settings;
  settings.scheduler_threads = 1;
  settings.close_timeout = std::chrono::milliseconds(300);
  const auto started = std::chrono::steady_clock::now();
  {
    es::Runtime runtime(settings);
    // Keeps itself alive with a timer, as a hand-spawned repository's passivation sweep does.
    runtime.system().spawn([](caf::event_based_actor* self) -> caf::behavior {
      self->delayed_send(self, std::chrono::milliseconds(20), 1);
      return {[=](int x) { self->delayed_send(self, std::chrono::milliseconds(20), x); }};
    });
    runtime.host<todo::ListBinding>().create(todo::Start{"x"});
  }
  const auto took = std::chrono::steady_clock::now() - started;
  check(took < std::chrono::seconds(5), "close() with a stray actor is bounded");

  std::printf("%d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
