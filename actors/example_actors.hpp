// The actor interfaces of the Example entity type.
#pragma once

#include "actors/example_protocol.hpp"
#include "actors/repository_actor.hpp"

namespace es {

using example_actor = entity_actor<ExampleModel>;
using example_repository_actor = repository_actor<ExampleModel>;

}  // namespace es
