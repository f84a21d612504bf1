#include "sip/transport/connection_events.hpp"

namespace b2b::sip {

std::string_view to_string(connection_direction d) noexcept {
    return d == connection_direction::inbound ? "inbound" : "outbound";
}

std::string_view to_string(connection_refusal r) noexcept {
    switch (r) {
        case connection_refusal::limit: return "limit";
        case connection_refusal::source_limit: return "source_limit";
        case connection_refusal::outbound_limit: return "outbound_limit";
        case connection_refusal::descriptors: return "descriptors";
        case connection_refusal::banned: return "banned";
    }
    return "unknown";
}

std::string_view to_string(connection_close c) noexcept {
    switch (c) {
        case connection_close::idle: return "idle";
        case connection_close::slow_reader: return "slow_reader";
        case connection_close::framing_error: return "framing_error";
        case connection_close::banned: return "banned";
    }
    return "unknown";
}

}  // namespace b2b::sip
