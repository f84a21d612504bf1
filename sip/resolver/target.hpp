// A place a request to a SIP peer may go, as RFC 3263 locates it: transport and address.
#pragma once

#include "sip/transport/flow.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace b2b::sip::resolver {

/// One target of a peer: the transport to use and the address and port to send to (RFC 3263 §4).
struct target {
    transport_kind transport = transport_kind::udp;
    endpoint address;

    friend bool operator==(const target&, const target&) = default;
    /// "UDP 192.0.2.1:5060".
    std::string to_string() const;
};

/// What a peer's name resolved to: its targets in the order they are to be tried, and how
/// long that answer holds (the smallest TTL of the records it was built from).
struct resolution {
    std::vector<target> targets;
    std::chrono::seconds ttl{0};
};

}  // namespace b2b::sip::resolver
