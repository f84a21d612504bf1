// The user part of the Contact we register for a trunk.
#pragma once

#include <string>
#include <string_view>

namespace b2b::registration {

/// The Contact user we register for trunk `trunk_name`: 32 hex digits of
/// HMAC-SHA256(key = username ":" password, trunk_name). Providers send calls for the trunk to
/// this Contact, from addresses we cannot list; a request whose Request-URI user is this token
/// belongs to the trunk. It cannot be guessed without the trunk's credentials, and it stays the
/// same across restarts (a provider may deliver a call to a binding made before one).
std::string contact_user(std::string_view trunk_name, std::string_view username, std::string_view password);

}  // namespace b2b::registration
