// What a stream transport reports about its connections, for metrics and logs.
#pragma once

#include "sip/transport/flow.hpp"

#include <cstdint>
#include <string_view>

namespace b2b::sip {

enum class connection_direction : std::uint8_t {
    inbound,   ///< accepted from a peer
    outbound,  ///< opened by us
};
std::string_view to_string(connection_direction d) noexcept;

/// Why a connection was refused (accepted and closed at once, or never opened).
enum class connection_refusal : std::uint8_t {
    limit,           ///< the inbound budget is spent
    source_limit,    ///< the source address holds its share of the inbound budget
    outbound_limit,  ///< the outbound budget is spent
    descriptors,     ///< the process is out of file descriptors (EMFILE/ENFILE)
    banned,          ///< the source is banned (the transport's admission check said no)
};
std::string_view to_string(connection_refusal r) noexcept;

/// Why we closed a connection ourselves (a peer closing is not counted here).
enum class connection_close : std::uint8_t {
    idle,           ///< nothing, not even a keep-alive, for the idle timeout
    slow_reader,    ///< the peer does not read: its write queue outgrew the bound, or a write stalled
    framing_error,  ///< a message could not be framed (no or bad Content-Length, oversized header)
    banned,         ///< its source was banned
};
std::string_view to_string(connection_close c) noexcept;

/// Receives connection events from a stream transport. All calls on the transport's thread.
class connection_observer {
public:
    virtual ~connection_observer() = default;
    virtual void on_connection_opened(transport_kind, connection_direction) {}
    virtual void on_connection_closed(transport_kind, connection_direction) {}
    virtual void on_connection_refused(transport_kind, connection_refusal) {}
    virtual void on_connection_dropped(transport_kind, connection_close) {}
};

}  // namespace b2b::sip
