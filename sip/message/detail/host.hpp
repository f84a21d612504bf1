// Host and port scanners shared by the URI parser and the Via parser (RFC 3261 §25.1 hostport).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sip/message/uri.hpp"

namespace b2b::sip::detail {

/// Dotted quad, each part 1-3 digits and at most 255.
bool valid_ipv4(std::string_view s) noexcept;

/// An IPv6 address without brackets (RFC 4291 §2.2 text forms, IPv4 tail allowed).
bool valid_ipv6(std::string_view s) noexcept;

/// Scans a host at `s[i]`: "[IPv6]", IPv4 or host name. On success `i` is past it.
bool scan_host(std::string_view s, std::size_t& i, std::string_view& host,
               host_kind& kind) noexcept;

/// Scans 1*DIGIT at `s[i]` as a port in 1..65535.
bool scan_port(std::string_view s, std::size_t& i, std::uint16_t& port) noexcept;

}  // namespace b2b::sip::detail
