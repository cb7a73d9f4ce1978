#include "actors/runtime_config.hpp"

namespace es {

RuntimeConfig::RuntimeConfig() = default;

}  // namespace es
