// SIP request methods: the ones the stack knows by name, everything else is `unknown`.
#pragma once

#include <cstdint>
#include <string_view>

namespace b2b::sip {

enum class method : std::uint8_t {
    unknown,  // an extension method: kept as text, answered 501 by the core
    invite,
    ack,
    bye,
    cancel,
    options,
    register_,
    info,
    update,
    prack,
    subscribe,
    notify,
    refer,
    message,
    publish,
};

/// Method names are case-sensitive (RFC 3261 §7.1): "invite" is an unknown method.
method method_from_string(std::string_view name) noexcept;

/// The canonical name; "" for `unknown`.
std::string_view to_string(method m) noexcept;

}  // namespace b2b::sip
