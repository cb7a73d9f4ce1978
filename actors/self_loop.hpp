// Why: a client actor that keeps requests in flight re-arms one step from the step's own
// response handlers, so the handlers hold the step and the step holds them. The actor clears
// the step when it ends; without that the cycle outlives it (LeakSanitizer finds it).
#pragma once

#include <caf/local_actor.hpp>

#include <functional>
#include <memory>

namespace es {

// An empty step owned by `self` for its lifetime: assign the body, then call it.
inline std::shared_ptr<std::function<void()>> make_self_loop(caf::local_actor* self) {
  auto step = std::make_shared<std::function<void()>>();
  self->attach_functor([step] { *step = nullptr; });
  return step;
}

}  // namespace es
