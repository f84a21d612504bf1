// Compares the Digest `uri` parameter with the Request-URI (RFC 7616 §3.4.6, RFC 3261 §19.1.4).
#pragma once

#include <string_view>

namespace b2b::auth::detail {

/// True when `digest_uri` names the same resource as `request_uri`: equal as strings after
/// trimming LWS, or both SIP/SIPS URIs that differ only in the case of the scheme and host
/// (RFC 3261 §19.1.4 makes those case-insensitive). Everything else (user part, port,
/// parameters, headers) must match byte for byte; this is deliberately stricter than full
/// RFC 3261 URI equality, which a client copying the Request-URI never needs.
bool uri_matches(std::string_view digest_uri, std::string_view request_uri) noexcept;

}  // namespace b2b::auth::detail
