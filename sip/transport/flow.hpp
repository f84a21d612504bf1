// Where a SIP message came from or goes to: transport kind and both endpoints.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace b2b::sip {

/// `tls` is TLS over TCP (RFC 3261 §26.2): a stream transport like `tcp`.
enum class transport_kind : std::uint8_t { udp, tcp, tls };

/// "UDP", "TCP" or "TLS", as written in a Via header.
std::string_view to_string(transport_kind k) noexcept;
/// Case-insensitive "udp"/"tcp"/"tls"; false for anything else.
bool transport_from_string(std::string_view s, transport_kind& out) noexcept;
/// The port a URI or a Via sent-by without one stands for (RFC 3261 §19.1.2): 5061 for TLS
/// (sips: and transport=tls), 5060 otherwise.
constexpr std::uint16_t default_port(transport_kind k) noexcept { return k == transport_kind::tls ? 5061 : 5060; }
/// The URI parameter that names `k` in our Contact and Request-URIs: "" for UDP (the default,
/// RFC 3263 §4.1), ";transport=tcp", ";transport=tls".
std::string_view transport_param(transport_kind k) noexcept;

struct endpoint {
    boost::asio::ip::address address;
    std::uint16_t port = 0;

    friend bool operator==(const endpoint&, const endpoint&) = default;
    /// "127.0.0.1:5060", "[::1]:5060".
    std::string to_string() const;
};

/// An IPv4 peer reaching a dual-stack socket shows up as ::ffff:a.b.c.d; it is the IPv4 address
/// a.b.c.d for everything that compares sources (configured networks, per-source counts).
boost::asio::ip::address unmapped(const boost::asio::ip::address& a);

/// A message's path: the transport, our local endpoint and the peer's. For stream transports
/// `connection` names the connection (0 for UDP), so a response goes back on the very
/// connection its request came in on (RFC 3261 §18.2.2).
struct flow {
    transport_kind transport = transport_kind::udp;
    endpoint local;
    endpoint remote;
    std::uint64_t connection = 0;

    bool reliable() const noexcept { return transport != transport_kind::udp; }
    friend bool operator==(const flow&, const flow&) = default;
};

}  // namespace b2b::sip
