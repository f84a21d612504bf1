// SIP, SIPS and other URIs (RFC 3261 §19.1, §25.1): a parsed view over text owned elsewhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sip/message/error.hpp"

namespace b2b::sip {

enum class host_kind : std::uint8_t { none, name, ipv4, ipv6 };

/// A parsed URI. Every field is a view into the text given to `parse_uri`, which must outlive
/// it (inside a `message`, the message's buffer). Values are raw: %HH escapes are not decoded.
///
/// For `sip:` and `sips:` URIs every field is filled. For any other scheme (tel:, http:,
/// urn:, ...) only `text`, `scheme` and `opaque` are set: the B2BUA passes those through but
/// never routes on them (RFC 4475 §3.3.2).
struct uri {
    std::string_view text;      ///< the whole URI as written
    std::string_view scheme;    ///< as written; compare with `is_sip()` / `is_sips()`
    std::string_view opaque;    ///< everything after "scheme:" for non-SIP schemes
    std::string_view user;      ///< user part, raw; empty when there is none
    std::string_view password;  ///< after the ':' in userinfo; empty when there is none
    std::string_view host;      ///< host name, IPv4 literal, or IPv6 reference *with* brackets
    host_kind host_type = host_kind::none;
    std::uint16_t port = 0;    ///< 0 when the URI has no port
    std::string_view params;   ///< raw uri-parameters starting at the first ';' (may be empty)
    std::string_view headers;  ///< raw headers after '?' (may be empty)
    bool has_user = false;     ///< true when userinfo ("...@") is present, even if empty
    bool sip = false;
    bool sips = false;

    bool is_sip() const noexcept { return sip; }
    bool is_sips() const noexcept { return sips; }
    bool is_sip_or_sips() const noexcept { return sip || sips; }

    /// Value of a uri-parameter by case-insensitive name. A parameter without '=' ("lr")
    /// yields an empty view; an absent one yields nullopt.
    std::optional<std::string_view> param(std::string_view name) const noexcept;

    /// The `transport` parameter, or "" when absent.
    std::string_view transport() const noexcept;

    /// The IPv6 address without brackets, or the host unchanged.
    std::string_view host_without_brackets() const noexcept;
};

/// Parses `text` (no surrounding whitespace, no angle brackets). Never throws.
parse_result<uri> parse_uri(std::string_view text) noexcept;

/// URI equivalence for SIP and SIPS URIs per RFC 3261 §19.1.4 (escapes decoded, scheme and host
/// case-insensitive, user and password case-sensitive, the listed parameters compared when
/// present in either, other parameters when present in both, headers compared). For other
/// schemes: case-sensitive comparison of the text.
bool equivalent(const uri& a, const uri& b);

/// Whether two host texts are the same IP address: "[::1]", "::1" and "[0:0::1]" are one address,
/// since IPv6 has many text forms (RFC 4291 §2.2) and references compare as addresses, not as
/// text (RFC 5954 §4). IPv4 literals compare by value. Brackets are optional on either side.
/// False when either text is not an IP literal, or the two are of different families (an
/// IPv4-mapped IPv6 address is an IPv6 address, RFC 5118 §4.9).
bool same_ip_address(std::string_view a, std::string_view b) noexcept;

/// Decodes %HH escapes. A malformed escape is kept as written. "%00" yields a NUL octet.
std::string unescape(std::string_view raw);

/// `user` as the user part of a SIP URI may carry it (RFC 3261 §25.1: unreserved and
/// user-unreserved characters as they are, every other octet %HH-escaped).
std::string escape_user(std::string_view user);

}  // namespace b2b::sip
