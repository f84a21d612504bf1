// Small value codecs of the registration layer: delta-seconds (read by the client and the
// registrar), the RFC 1123 Date, and where a Contact is.
#pragma once

#include "sip/message/uri.hpp"
#include "sip/transport/flow.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace b2b::registration::detail {

/// delta-seconds (RFC 3261 §25.1: 1*DIGIT), LWS around it ignored. A value past 2^32-1 is
/// 2^32-1 (§10.2.1.1 allows that). nullopt when `s` is not a number.
std::optional<std::uint32_t> parse_delta_seconds(std::string_view s) noexcept;

/// The SIP-date of `t` (RFC 3261 §20.17, RFC 1123 in GMT): "Sat, 13 Nov 2010 23:29:00 GMT".
std::string format_sip_date(std::chrono::system_clock::time_point t);

/// Whether requests to `contact` must go to `source` instead of to the Contact itself: the
/// REGISTER did not come from the Contact's host:port (RFC 3581 style NAT detection). A Contact
/// whose host is a name rather than an IP literal counts too: the registrar does not resolve
/// it, and the source is the one address known to reach the registering UA. The Contact's
/// port defaults to 5060, or 5061 for sips (RFC 3261 §19.1.2).
bool behind_nat(const sip::uri& contact, const sip::flow& source);

}  // namespace b2b::registration::detail
