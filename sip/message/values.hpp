// Parsers for single header values, for headers that `message` keeps as text.
#pragma once

#include <string_view>
#include <vector>

#include "sip/message/error.hpp"
#include "sip/message/message.hpp"

namespace b2b::sip {

/// Parses one name-addr or addr-spec with header parameters, with the grammar the message
/// parser applies to From and To (RFC 3261 §20.10, §25.1): for Refer-To, P-Asserted-Identity,
/// Diversion and the like. Every view points into `value`, which must outlive the result.
/// Never throws on bad input.
parse_result<name_addr> parse_name_addr(std::string_view value) noexcept;

/// Parses a comma-separated list of name-addrs in angle brackets, as in Route and Record-Route
/// (RFC 3261 §20.34): for Path (RFC 3327 §4), which `message` keeps as text. Views point into
/// `value`. Never throws on bad input.
parse_result<std::vector<name_addr>> parse_route_list(std::string_view value) noexcept;

}  // namespace b2b::sip
