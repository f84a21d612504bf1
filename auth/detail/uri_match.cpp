// Digest uri versus Request-URI comparison.
#include "auth/detail/uri_match.hpp"

#include "auth/detail/text.hpp"
#include "sip/message/uri.hpp"

namespace b2b::auth::detail {
namespace {

struct sip_uri_parts {
    std::string_view scheme;    // "sip" or "sips", any case
    std::string_view userinfo;  // up to and including '@', or empty
    std::string_view host;      // hostname, IPv4, or [IPv6]
    std::string_view rest;      // ":port;params?headers", compared exactly
};

bool split_sip_uri(std::string_view uri, sip_uri_parts& out) noexcept {
    const std::size_t colon = uri.find(':');
    if (colon == std::string_view::npos) return false;
    out.scheme = uri.substr(0, colon);
    if (!iequals(out.scheme, "sip") && !iequals(out.scheme, "sips")) return false;
    std::string_view tail = uri.substr(colon + 1);
    // '@' cannot appear unescaped in SIP URI parameters or headers (RFC 3261 §25.1), so the
    // first one ends the userinfo.
    const std::size_t at = tail.find('@');
    if (at != std::string_view::npos) {
        out.userinfo = tail.substr(0, at + 1);
        tail.remove_prefix(at + 1);
    } else {
        out.userinfo = {};
    }
    std::size_t host_end = 0;
    if (!tail.empty() && tail.front() == '[') {
        host_end = tail.find(']');
        if (host_end == std::string_view::npos) return false;
        ++host_end;
    } else {
        host_end = tail.find_first_of(":;?");
        if (host_end == std::string_view::npos) host_end = tail.size();
    }
    out.host = tail.substr(0, host_end);
    out.rest = tail.substr(host_end);
    return !out.host.empty();
}

}  // namespace

bool uri_matches(std::string_view digest_uri, std::string_view request_uri) noexcept {
    digest_uri = trim_lws(digest_uri);
    request_uri = trim_lws(request_uri);
    if (digest_uri.empty()) return false;
    if (digest_uri == request_uri) return true;
    sip_uri_parts a, b;
    if (!split_sip_uri(digest_uri, a) || !split_sip_uri(request_uri, b)) return false;
    // An IPv6 host may be written in another text form by the PBX ("[0:0::1]" for "[::1]"):
    // the same address (RFC 5954 §4).
    const bool same_host = iequals(a.host, b.host) || sip::same_ip_address(a.host, b.host);
    return iequals(a.scheme, b.scheme) && a.userinfo == b.userinfo && same_host && a.rest == b.rest;
}

}  // namespace b2b::auth::detail
