// A source IP address as fixed bytes: the key of per-source tables and part of a nonce's MAC.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <array>
#include <cstdint>

namespace b2b::auth::detail {

/// An IP address in 17 bytes: a family byte (4 or 6) and the address, IPv4 left-aligned and
/// zero-padded. An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack socket reports)
/// becomes the IPv4 address it maps, so one PBX has one key whichever socket it reached. The
/// IPv6 scope id is left out: it names our interface, not the peer.
struct address_key {
    std::array<std::uint8_t, 17> bytes{};

    friend bool operator==(const address_key&, const address_key&) = default;
};

address_key key_of(const boost::asio::ip::address& a) noexcept;

/// The address a key was made from (without scope id).
boost::asio::ip::address address_of(const address_key& k);

}  // namespace b2b::auth::detail
