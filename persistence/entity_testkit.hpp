// A test kit for entity types, in the given/when/then style of Akka's
// EventSourcedBehaviorTestKit: given a history (stored in an in-memory store), when a
// command runs on the entity rebuilt from that store, then check the events it stored, the
// state rebuilt afterwards, or the error it raised. Every check throws TestKitFailure with
// a readable message, so it works under any test framework.
//
//   EntityTestKit<Counter> kit;   // any Entity subclass with trigger-style methods
//   kit.given([] { return Counter::start("x"); });
//   kit.when([](Counter& c) { c.increment(5); })
//      .then_events({{"shop.Counter.Incremented", {{"by", 5}}}})
//      .then_state([](const Counter& c) { return c.value() == 5; });
//   kit.when([](Counter& c) { c.discard(); c.discard(); }).then_error<EntityIsDiscarded>();
#pragma once

#include "domain/entity.hpp"
#include "persistence/memory_record_manager.hpp"
#include "persistence/memory_snapshot_store.hpp"
#include "persistence/repository.hpp"

#include <boost/json/serialize.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

namespace es {

class TestKitFailure : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// An expected event: its topic and, optionally, its own fields.
struct ExpectedEvent {
  std::string topic;
  std::optional<boost::json::object> data;
  ExpectedEvent(std::string t) : topic(std::move(t)) {}  // NOLINT: implicit by design
  ExpectedEvent(const char* t) : topic(t) {}             // NOLINT
  ExpectedEvent(std::string t, boost::json::object d) : topic(std::move(t)), data(std::move(d)) {}
};

template <class E>
class EntityTestKit {
 public:
  class Outcome {
   public:
    // The command stored exactly these events, in order.
    const Outcome& then_events(const std::vector<ExpectedEvent>& expected) const {
      rethrow_unexpected();
      if (events_.size() != expected.size()) {
        fail("expected " + std::to_string(expected.size()) + " events, got " +
             std::to_string(events_.size()) + describe());
      }
      for (std::size_t i = 0; i < expected.size(); ++i) {
        if (events_[i].topic() != expected[i].topic) {
          fail("event " + std::to_string(i) + ": expected topic " + expected[i].topic + describe());
        }
        if (expected[i].data && events_[i].data() != *expected[i].data) {
          fail("event " + std::to_string(i) + ": expected data " +
               boost::json::serialize(*expected[i].data) + describe());
        }
      }
      return *this;
    }
    // The entity rebuilt from the store after the command satisfies `check`.
    const Outcome& then_state(const std::function<bool(const E&)>& check) const {
      rethrow_unexpected();
      if (!state_) fail("no entity in the store after the command");
      if (!check(*state_)) fail("the state after the command does not satisfy the check");
      return *this;
    }
    // The command failed with an Err, and stored nothing.
    template <class Err>
    const Outcome& then_error() const {
      if (!error_)
        fail(std::string("expected an error of type ") + typeid(Err).name() + describe());
      try {
        std::rethrow_exception(error_);
      } catch (const Err&) {
      } catch (const std::exception& e) {
        fail(std::string("expected an error of type ") + typeid(Err).name() + ", got " +
             typeid(e).name() + ": " + e.what());
      }
      if (!events_.empty()) fail("the failed command stored events" + describe());
      return *this;
    }
    const std::vector<Event>& events() const { return events_; }
    const std::optional<E>& state() const { return state_; }

   private:
    friend class EntityTestKit;
    void rethrow_unexpected() const {
      if (!error_) return;
      try {
        std::rethrow_exception(error_);
      } catch (const std::exception& e) {
        fail(std::string("the command failed: ") + e.what());
      }
    }
    std::string describe() const {
      std::string out = " (stored:";
      for (const auto& e : events_) out += " " + e.topic();
      return out + ")";
    }
    [[noreturn]] static void fail(const std::string& message) { throw TestKitFailure(message); }

    std::vector<Event> events_;
    std::optional<E> state_;
    std::exception_ptr error_;
  };

  explicit EntityTestKit(std::shared_ptr<const AesGcmCipher> cipher = nullptr)
      : records_(std::make_shared<MemoryRecordManager>()),
        mapper_(std::make_shared<EventMapper>(std::move(cipher))),
        store_(std::make_shared<EventStore>(records_, mapper_)),
        repository_(store_, std::make_shared<SnapshotStrategy>(
                                std::make_shared<MemorySnapshotStore>(), mapper_)) {}

  // Given: the entity `create` returns, with its pending events stored.
  EntityTestKit& given(const std::function<E()>& create) {
    E entity = create();
    id_ = entity.id();
    repository_.save(entity);
    return *this;
  }
  // Given: these events (of one entity) stored as they are.
  EntityTestKit& given(const std::vector<Event>& events) {
    if (events.empty()) throw TestKitFailure("given() needs at least one event");
    id_ = events.front().originator_id();
    store_->store(events);
    return *this;
  }

  // When: runs `command` on the entity rebuilt from the store, storing what it emits.
  Outcome when(const std::function<void(E&)>& command) {
    Outcome outcome;
    E entity = current();
    entity.collect_pending_events();
    try {
      command(entity);
      outcome.events_ = entity.collect_pending_events();
      if (!outcome.events_.empty()) store_->store(outcome.events_);
    } catch (...) {
      outcome.events_.clear();
      outcome.error_ = std::current_exception();
    }
    outcome.state_ = repository_.get_entity(id_);
    return outcome;
  }

  // The entity as the store has it now.
  E current() const {
    auto entity = repository_.get_entity(id_);
    if (!entity) throw TestKitFailure("no entity was given");
    return std::move(*entity);
  }
  EventSourcedRepository<E>& repository() { return repository_; }
  const MemoryRecordManager& records() const { return *records_; }

 private:
  std::shared_ptr<MemoryRecordManager> records_;
  std::shared_ptr<EventMapper> mapper_;
  std::shared_ptr<EventStore> store_;
  EventSourcedRepository<E> repository_;
  Uuid id_{};
};

}  // namespace es
