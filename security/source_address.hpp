// The form of a source address that the security tables key on.
#pragma once

#include <boost/asio/ip/address.hpp>

namespace b2b::security {

/// `a`, with an IPv4-mapped IPv6 address (::ffff:192.0.2.1, as a dual-stack socket reports an
/// IPv4 peer) turned into the IPv4 address: one peer, one entry, whichever socket it reached.
inline boost::asio::ip::address source_key(const boost::asio::ip::address& a) {
    if (a.is_v6() && a.to_v6().is_v4_mapped()) {
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
    }
    return a;
}

}  // namespace b2b::security
