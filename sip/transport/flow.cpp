// Flow and endpoint helpers.
#include "sip/transport/flow.hpp"

#include <boost/algorithm/string/predicate.hpp>

namespace b2b::sip {

std::string_view to_string(transport_kind k) noexcept {
    switch (k) {
        case transport_kind::udp: return "UDP";
        case transport_kind::tcp: return "TCP";
        case transport_kind::tls: return "TLS";
    }
    return "UDP";
}

std::string_view transport_param(transport_kind k) noexcept {
    switch (k) {
        case transport_kind::udp: return "";
        case transport_kind::tcp: return ";transport=tcp";
        case transport_kind::tls: return ";transport=tls";
    }
    return "";
}

bool transport_from_string(std::string_view s, transport_kind& out) noexcept {
    if (boost::algorithm::iequals(s, "udp")) {
        out = transport_kind::udp;
        return true;
    }
    if (boost::algorithm::iequals(s, "tcp")) {
        out = transport_kind::tcp;
        return true;
    }
    if (boost::algorithm::iequals(s, "tls")) {
        out = transport_kind::tls;
        return true;
    }
    return false;
}

boost::asio::ip::address unmapped(const boost::asio::ip::address& a) {
    if (a.is_v6() && a.to_v6().is_v4_mapped()) {
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
    }
    return a;
}

std::string endpoint::to_string() const {
    std::string out;
    if (address.is_v6()) {
        out += '[';
        out += address.to_string();
        out += ']';
    } else {
        out += address.to_string();
    }
    out += ':';
    out += std::to_string(port);
    return out;
}

}  // namespace b2b::sip
