// The transport interface the transaction layer sends through, and the callbacks it receives.
#pragma once

#include "sip/message/error.hpp"
#include "sip/message/message.hpp"
#include "sip/transport/flow.hpp"

#include <boost/system/error_code.hpp>

#include <string_view>

namespace b2b::sip {

/// Receives what a transport reads. Implemented by the transaction manager.
class transport_user {
public:
    virtual ~transport_user() = default;

    /// One UDP datagram (`framing::datagram`) or one message cut from a stream
    /// (`framing::stream`), not parsed yet. The bytes are valid only during the call.
    virtual void on_bytes(std::string_view bytes, const flow& f, framing fr) = 0;

    /// A stream could not be framed (no or bad Content-Length, oversized header section).
    /// `bytes` holds what was buffered. The transport closes the connection after this returns,
    /// so the user may answer first (RFC 4475 §3.1.2.3).
    virtual void on_framing_error(std::string_view bytes, const flow& f, const parse_error& e) = 0;

    /// A stream connection closed or failed to connect; messages queued on it are lost.
    virtual void on_flow_closed(const flow& f, boost::system::error_code ec) = 0;
};

/// Sends SIP messages. Implemented over Boost.Asio (UDP, TCP, TLS) and by the loopback fake in
/// tests. All calls happen on the I/O thread that owns the transport.
class transport {
public:
    virtual ~transport() = default;

    /// The flow to use for a new request towards `remote` over `kind`. For UDP this is our
    /// listening socket of that address family; for TCP an existing connection to `remote`
    /// or a new one (connecting in the background: `send` queues until it is up). The flow's
    /// `local` endpoint is what goes in our Via sent-by and Contact. Fails when we do not
    /// listen on that transport.
    virtual boost::system::result<flow> flow_to(transport_kind kind, const endpoint& remote) = 0;

    /// As `flow_to`, towards a peer we know by a host (a name or an address literal, as its URI
    /// writes it). Over TLS a new connection names `host` in SNI and requires the peer's
    /// certificate to match it (RFC 5922 §7.2); `flow_to` matches the address instead. Other
    /// transports have no use for the name.
    virtual boost::system::result<flow> flow_to_host(transport_kind kind, const endpoint& remote,
                                                     std::string_view host) {
        static_cast<void>(host);
        return flow_to(kind, remote);
    }

    /// Sends `bytes` on `f`. UDP: a datagram from `f.local` to `f.remote`. TCP: on connection
    /// `f.connection` (an error when it is gone). A returned error means nothing was sent.
    virtual boost::system::error_code send(const flow& f, std::string_view bytes) = 0;
};

}  // namespace b2b::sip
