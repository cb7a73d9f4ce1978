// Uses each installed layer once: the domain (an Example), persistence (the in-memory store
// and repository) and the actors (the application facade).
#include "samples/example/example_application.hpp"
#include "samples/example/example.hpp"
#include "persistence/memory_record_manager.hpp"
#include "persistence/repository.hpp"

#include <cstdio>

int main() {
  es::Example e = es::create_new_example("installed", 1, 2);
  auto store = std::make_shared<es::EventStore>(std::make_shared<es::MemoryRecordManager>(),
                                                std::make_shared<es::EventMapper>());
  es::EventSourcedRepository<es::Example> repo(store);
  repo.save(e);
  es::ApplicationConfig cfg;
  cfg.scheduler_threads = 1;
  es::ExampleApplication app(cfg);
  auto view = app.create_new_example("via actors");
  std::printf("%s %s\n", repo.get(e.id()).foo().as_string().c_str(), view.foo_json.c_str());
  return repo.get(e.id()).version() == 0 && view.version == 0 ? 0 : 1;
}
