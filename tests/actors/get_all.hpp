// Asks the repository for many entities at once, as a mass recovery meets them: one client
// actor sends every get before any answer comes back. Shared by the recovery tests.
#pragma once

#include "actors/error_code.hpp"
#include "samples/example/example_application.hpp"

#include <catch2/catch.hpp>

#include <caf/event_based_actor.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace es::test {

struct GetAnswer {
  std::int64_t version = -1;
  ErrorCode error = ErrorCode::none;
};

// Every id's answer (its version, or its error's code); waits at most 60 s for all of them.
inline std::map<Uuid, GetAnswer> get_all(ExampleApplication& app, const std::vector<Uuid>& ids) {
  auto answers = std::make_shared<std::map<Uuid, GetAnswer>>();
  auto mutex = std::make_shared<std::mutex>();
  auto left = std::make_shared<std::atomic<int>>(static_cast<int>(ids.size()));
  auto repo = app.repository();
  app.system().spawn([=](caf::event_based_actor* self) {
    for (const auto& id : ids) {
      self->request(repo, std::chrono::seconds(60), get_atom::value, es::to_string(id))
          .then(
              [=](ExampleView& v) {
                std::lock_guard lock(*mutex);
                (*answers)[id].version = v.version;
                left->fetch_sub(1);
              },
              [=](caf::error& e) {
                std::lock_guard lock(*mutex);
                (*answers)[id].error = code_of(e);
                left->fetch_sub(1);
              });
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (left->load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(left->load() == 0);
  std::lock_guard lock(*mutex);
  return *answers;
}

}  // namespace es::test
