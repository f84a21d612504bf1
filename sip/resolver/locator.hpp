// RFC 3263 §4: from a SIP URI's host, port and transport to an ordered list of targets.
#pragma once

#include "sip/resolver/dns_lookup.hpp"
#include "sip/resolver/selection.hpp"
#include "sip/resolver/target.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace b2b::sip::resolver {

/// What a SIP URI says about where it is: a host name, and the port and transport when it
/// names them.
struct peer_name {
    std::string host;
    std::uint16_t port = 0;                   ///< 0: none in the URI
    std::optional<transport_kind> transport;  ///< its `transport` parameter, if any
};

/// How a location ended: a resolution, or what went wrong (for the log).
struct location {
    std::optional<resolution> found;
    std::string problem;
};

/// Locates `peer` through `dns` (RFC 3263 §4.1, §4.2), then calls `done` once:
///  - a port or a transport in the URI: A/AAAA of the host, on that port (5060 by default),
///    over that transport (UDP by default);
///  - otherwise NAPTR of the host, keeping the services we support (selection.hpp) in order;
///    without any, SRV of _sip._udp and _sip._tcp; each SRV domain's records ordered by
///    priority and weight (RFC 2782), each record's target by its A/AAAA records; the targets
///    of every SRV domain that has any, in NAPTR (or our) order;
///  - no SRV records at all: A/AAAA of the host on port 5060 (§4.2).
/// The resolution's TTL is the smallest TTL of every record it was built from. A NAPTR query
/// that gets no answer at all (timeout, server failure) ends the location as failed at once,
/// without the SRV and A queries a dead server would not answer either.
/// `dns` must outlive the location.
void locate(dns_lookup& dns, const peer_name& peer, random_source random, std::function<void(location)> done);

}  // namespace b2b::sip::resolver
