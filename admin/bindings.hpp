// The PBXs' registrar bindings as the store keeps them, so a restart does not make every PBX
// unreachable until it registers again.
#pragma once

#include "registration/registrar.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace b2b::admin {

/// A binding as JSON, its expiry on the wall clock (the steady clock does not survive a restart).
std::string binding_json(const registration::binding& b, std::chrono::system_clock::time_point expires);

/// A stored binding and its wall-clock expiry; nothing when the text is not one (written by
/// another version, or damaged): such a binding is skipped, the PBX registers again.
std::optional<std::pair<registration::binding, std::chrono::system_clock::time_point>> binding_from_json(
    std::string_view json);

}  // namespace b2b::admin
