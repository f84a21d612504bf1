// The pure parts of RFC 3263 §4.1 and RFC 2782: which NAPTR services we use, and in which
// order SRV targets are tried.
#pragma once

#include "sip/resolver/records.hpp"
#include "sip/transport/flow.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::sip::resolver {

/// Draws a number uniformly from [0, bound] (inclusive): the RFC 2782 weighted selection.
/// Injected, so tests choose the draws.
using random_source = std::function<std::uint32_t(std::uint32_t bound)>;

/// The transport an RFC 3263 NAPTR service field names, when it is one we support
/// ("SIP+D2U" UDP, "SIP+D2T" TCP); nothing for others (SIPS+D2T needs TLS, which this
/// build's transports do not offer yet; SCTP, WebSocket...).
std::optional<transport_kind> naptr_transport(std::string_view service) noexcept;

/// One SRV domain a NAPTR lookup names, with the transport it is for.
struct srv_choice {
    transport_kind transport = transport_kind::udp;
    std::string name;  ///< e.g. "_sip._tcp.example.com"
};

/// RFC 3263 §4.1: the NAPTR records of services we support, with flag "s", in order (lowest
/// `order`, then lowest `preference`; RFC 3403 §4.1). Records of other services are dropped.
std::vector<srv_choice> naptr_choices(std::span<const naptr_record> records);

/// RFC 3263 §4.1 without NAPTR records: the SRV names for the transports we support, in our
/// order of preference (UDP first, RFC 3263 §4.1 "...UDP... MUST be supported").
std::vector<srv_choice> default_srv_choices(std::string_view host);

/// RFC 2782: the records in the order they are to be tried: by priority (lowest first), and
/// within one priority by weighted random selection (a record of weight w among records of
/// total weight W goes first with probability w/W; weight 0 records have a small chance,
/// being put first in the running sums). A target of "." means the service is decidedly not
/// available: such records are dropped.
std::vector<srv_record> order_srv(std::vector<srv_record> records, const random_source& random);

}  // namespace b2b::sip::resolver
