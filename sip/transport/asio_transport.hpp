// SIP over UDP, TCP and TLS on Boost.Asio: listening sockets, stream framing, outbound connections.
#pragma once

#include "sip/transport/connection_budget.hpp"
#include "sip/transport/connection_events.hpp"
#include "sip/transport/flow.hpp"
#include "sip/transport/tls.hpp"
#include "sip/transport/transport.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

namespace b2b::sip {

struct tls_contexts;  // sip/transport/tls_context.hpp

struct asio_transport_options {
    std::size_t max_message_size = 65535;
    /// A TCP connection that carries no message for this long is closed.
    std::chrono::seconds tcp_idle_timeout{600};
    /// Connections accepted from peers beyond this many are refused (accepted and closed at once).
    std::size_t max_inbound_connections = 4096;
    /// Connections accepted from one source address beyond this many are refused; 0 = no limit.
    std::size_t max_connections_per_source = 64;
    /// Connections we open (to trunks, to PBX contacts) beyond this many fail to open. A budget of
    /// their own: inbound floods do not stop calls from reaching a provider.
    std::size_t max_outbound_connections = 1024;
    /// Octets waiting to be written on one connection beyond which the peer counts as not reading
    /// and the connection is closed; and the longest one write may take.
    std::size_t max_queued_bytes = 256 * 1024;
    std::chrono::seconds write_timeout{32};
    /// A connection we open that is not up within this time is given up: a peer that drops SYNs
    /// would otherwise hold it (and every request queued on it) for the kernel's two minutes.
    std::chrono::seconds connect_timeout{10};
    /// A TLS connection whose handshake is not done within this is closed (a peer that opens
    /// connections and says nothing must not hold them for the whole idle timeout).
    std::chrono::seconds tls_handshake_timeout{10};
    /// Socket buffer sizes for UDP (0 = system default); large buffers absorb bursts.
    int udp_receive_buffer = 4 * 1024 * 1024;
    int udp_send_buffer = 4 * 1024 * 1024;
    /// UDP sockets and TCP/TLS listeners join an SO_REUSEPORT group: the transports of several
    /// workers (event loops) bind one address and port, and the kernel hands each peer's
    /// datagrams, and each new connection, to one of them, chosen by both ends' addresses and
    /// ports, so one peer's datagrams keep their order. Off by default: the kernel lets any
    /// process of the same user join a group.
    bool reuse_port = false;
    /// Connection ids count up from this + 1. Several transports of one process (sip.workers)
    /// each take a base with their number in the top byte, so a flow's connection id names the
    /// transport that holds the connection.
    std::uint64_t connection_id_base = 0;
    /// The connection budget to count against, shared by the transports of one process
    /// (sip.workers) so that the three limits above hold for the process; when empty the
    /// transport makes its own from them.
    std::shared_ptr<connection_budget> budget = nullptr;
};

/// The three connection limits of `o`, as a budget counts them: what a transport's own budget
/// is made from, and what a process makes the budget its workers share from.
connection_budget::limits connection_limits(const asio_transport_options& o);

/// The production transport: UDP sockets and TCP and TLS listeners bound to the configured
/// addresses, plus outbound TCP and TLS connections opened on demand. A UDP datagram is handed
/// up as one message; a TCP or TLS stream is cut into messages by Content-Length
/// (`frame_stream`), answering RFC 5626 CRLF keep-alive pings on the way. TLS connections take
/// part in the same connection budgets as TCP ones; an outbound one verifies the peer's
/// certificate (chain and host name) before any message goes out.
///
/// @par Thread safety
/// None: every call and every callback to the `transport_user` happens on the thread running
/// the io_context.
class asio_transport final : public transport {
public:
    asio_transport(boost::asio::io_context& io, asio_transport_options options = {});
    ~asio_transport() override;
    asio_transport(const asio_transport&) = delete;
    asio_transport& operator=(const asio_transport&) = delete;

    /// Who receives what is read. Must be set before `start`.
    void set_user(transport_user& user) noexcept;
    /// Who hears of connections opened, closed and refused (metrics); optional.
    void set_observer(connection_observer& observer) noexcept;
    /// Asked for each connection accepted, before it counts against any budget: false closes it
    /// at once (counted as refused, reason banned). Optional; without it every peer is admitted.
    using admission = std::function<bool(const endpoint& remote)>;
    void set_admission(admission admit);
    /// Who hears of failed TLS handshakes (metrics); optional.
    void set_tls_observer(tls_observer& observer) noexcept;
    /// The TLS contexts new connections use from now on (tls:// listeners: `server`; outbound:
    /// `client`); connections up keep the ones they were made with. Before `listen(tls, ...)`.
    void set_tls(tls_contexts contexts);

    /// Binds a socket (UDP) or a listener (TCP, TLS). Port 0 picks a free port: see `listening`.
    /// A TLS listener needs a server context (`set_tls` with a certificate): no_protocol_option.
    boost::system::error_code listen(transport_kind kind, const endpoint& ep);

    /// The bound local endpoints, in the order `listen` was called.
    std::vector<std::pair<transport_kind, endpoint>> listening() const;

    /// Starts reading and accepting.
    void start();
    /// Closes every socket; pending operations end with operation_aborted.
    void stop();

    // sip::transport
    boost::system::result<flow> flow_to(transport_kind kind, const endpoint& remote) override;
    boost::system::result<flow> flow_to_host(transport_kind kind, const endpoint& remote,
                                             std::string_view host) override;
    boost::system::error_code send(const flow& f, std::string_view bytes) override;

    /// Closes every connection accepted from `source` (any port), counted as closed for reason
    /// `why`; returns how many. Safe from a `transport_user` callback on one of them: the
    /// message being delivered is the last one read from it.
    std::size_t close_from(const boost::asio::ip::address& source, connection_close why);

    /// Number of open stream connections (for metrics and tests).
    std::size_t tcp_connections() const noexcept;
    /// Connections counted by the budget (the process's, when the budget is shared).
    std::size_t connections(connection_direction d) const;

private:
    class impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace b2b::sip
