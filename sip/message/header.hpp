// Header names the stack knows, with their compact forms (RFC 3261 §7.3.3, §20).
#pragma once

#include <cstdint>
#include <string_view>

namespace b2b::sip {

enum class header_id : std::uint8_t {
    other,  // an extension header: kept untouched
    accept,
    allow,
    authorization,
    call_id,  // i
    contact,  // m
    content_disposition,
    content_encoding,  // e
    content_length,    // l
    content_type,      // c
    cseq,
    date,
    event,  // o
    expires,
    from,  // f
    max_forwards,
    min_expires,
    proxy_authenticate,
    proxy_authorization,
    proxy_require,
    reason,
    record_route,
    require,
    retry_after,
    route,
    server,
    subject,    // s
    supported,  // k
    to,         // t
    unsupported,
    user_agent,
    via,  // v
    www_authenticate,
    warning,
};

/// Case-insensitive lookup of a long or compact header name. Unknown names give `other`.
header_id header_id_from_name(std::string_view name) noexcept;

/// The canonical long name ("Call-ID", "WWW-Authenticate"); "" for `other`.
std::string_view canonical_name(header_id id) noexcept;

/// One header line as received: a view of the name and of the value (leading and trailing
/// whitespace removed; line folding, if any, kept inside the view as written).
struct header_field {
    header_id id = header_id::other;
    std::string_view name;   ///< as written (long or compact, any case)
    std::string_view value;  ///< trimmed value
    std::string_view raw;    ///< the whole line(s) as received, including the final CRLF
};

}  // namespace b2b::sip
