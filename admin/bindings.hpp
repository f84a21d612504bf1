// The PBXs' registrar bindings as the store keeps them, so a restart does not make every PBX
// unreachable until it registers again.
#pragma once

#include "registration/registrar.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace b2b::admin {

/// A binding and its expiry on the wall clock (the steady clock does not survive a restart, nor
/// mean anything in another process).
using timed_binding = std::pair<registration::binding, std::chrono::system_clock::time_point>;

/// A binding as JSON, its expiry on the wall clock.
std::string binding_json(const registration::binding& b, std::chrono::system_clock::time_point expires);

/// A stored binding and its wall-clock expiry; nothing when the text is not one (written by
/// another version, or damaged): such a binding is skipped, the PBX registers again.
std::optional<timed_binding> binding_from_json(std::string_view json);

/// Every binding of one account as one JSON document, {"user": ..., "bindings": [...]} (each as
/// `binding_json` writes it): what a node of a cluster tells the others after a REGISTER changed
/// the account's bindings. An empty list says the account has none left.
std::string account_bindings_json(std::string_view user, const std::vector<timed_binding>& now);

struct account_bindings {
    std::string user;
    std::vector<timed_binding> bindings;
};

/// The document `account_bindings_json` wrote; nothing when the text is not one, or names a
/// binding of another account.
std::optional<account_bindings> account_bindings_from_json(std::string_view json);

}  // namespace b2b::admin
