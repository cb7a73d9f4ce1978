#include "samples/example/example_application.hpp"

#include <mutex>

namespace es {

ExampleApplication::ExampleApplication(ApplicationConfig config)
    : runtime_(std::move(config)), examples_(runtime_.host<ExampleBinding>()) {}

ExampleApplication::ExampleApplication(caf::actor_system& system, ApplicationConfig config)
    : runtime_(system, std::move(config)), examples_(runtime_.host<ExampleBinding>()) {}

ExampleView ExampleApplication::create_new_example(boost::json::value foo, boost::json::value a,
                                                   boost::json::value b) {
  return examples_.create(CreateExample{{std::move(foo)}, {std::move(a)}, {std::move(b)}});
}

ExampleView ExampleApplication::set_attribute(const Uuid& id, const std::string& name,
                                              boost::json::value value) {
  return examples_.execute(id, ChangeAttributes{{{name, {std::move(value)}}}});
}

ExampleView ExampleApplication::beat_heart(const Uuid& id, int count) {
  return examples_.execute(id, BeatHeart{count});
}

ExampleView ExampleApplication::discard(const Uuid& id) {
  return examples_.execute(id, DiscardExample{});
}

namespace {
std::mutex global_mutex;
std::unique_ptr<ExampleApplication> global_application;
}  // namespace

std::unique_ptr<ExampleApplication> construct_example_application(ApplicationConfig config) {
  return std::make_unique<ExampleApplication>(std::move(config));
}

ExampleApplication& init_example_application(ApplicationConfig config) {
  std::lock_guard lock(global_mutex);
  if (global_application) throw Error("the example application is already initialised");
  global_application = construct_example_application(std::move(config));
  return *global_application;
}

ExampleApplication& get_example_application() {
  std::lock_guard lock(global_mutex);
  if (!global_application) throw Error("the example application is not initialised");
  return *global_application;
}

void close_example_application() {
  std::unique_ptr<ExampleApplication> app;
  {
    std::lock_guard lock(global_mutex);
    app = std::move(global_application);
  }
  if (app) app->close();
}

}  // namespace es
