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

/// Where a request to `contact` would go by the Contact itself: its IP address and port (5060,
/// or 5061 for sips, by default: RFC 3261 §19.1.2). Nullopt when its host is a name: the
/// registrar does not resolve it, and the REGISTER's source is then the one address known to
/// reach the registering UA.
std::optional<sip::endpoint> contact_endpoint(const sip::uri& contact);

}  // namespace b2b::registration::detail
