// Header-name lookup: a switch on length and first letter, then one case-insensitive compare.
#include "sip/message/header.hpp"

#include <array>
#include <cstddef>

#include "sip/message/text.hpp"

namespace b2b::sip {

namespace {

constexpr std::array<char, 256> make_lower_table() noexcept {
    std::array<char, 256> t{};
    for (int i = 0; i < 256; ++i)
        t[static_cast<std::size_t>(i)] = ascii_lower(static_cast<char>(i));
    return t;
}

constexpr std::array<char, 256> lower_table = make_lower_table();

// `lower` is the canonical name in lower case and has n's length (the switch checked it);
// `n` is the name as received. One table load per octet: this runs for every header line.
bool is(std::string_view n, std::string_view lower) noexcept {
    if (n.size() != lower.size()) return false;
    for (std::size_t i = 0; i < n.size(); ++i) {
        if (lower_table[static_cast<unsigned char>(n[i])] != lower[i]) return false;
    }
    return true;
}

header_id compact(char c) noexcept {
    // RFC 3261 §7.3.3 and §20; RFC 3265 (o), RFC 3903-era usages keep these letters.
    switch (c) {
        case 'i':
            return header_id::call_id;
        case 'm':
            return header_id::contact;
        case 'e':
            return header_id::content_encoding;
        case 'l':
            return header_id::content_length;
        case 'c':
            return header_id::content_type;
        case 'o':
            return header_id::event;
        case 'f':
            return header_id::from;
        case 's':
            return header_id::subject;
        case 'k':
            return header_id::supported;
        case 't':
            return header_id::to;
        case 'v':
            return header_id::via;
        default:
            return header_id::other;
    }
}

}  // namespace

header_id header_id_from_name(std::string_view n) noexcept {
    if (n.empty()) return header_id::other;
    const char c = ascii_lower(n[0]);
    switch (n.size()) {
        case 1:
            return compact(c);
        case 2:
            if (c == 't' && is(n, "to")) return header_id::to;
            break;
        case 3:
            if (c == 'v' && is(n, "via")) return header_id::via;
            break;
        case 4:
            switch (c) {
                case 'c':
                    return is(n, "cseq") ? header_id::cseq : header_id::other;
                case 'd':
                    return is(n, "date") ? header_id::date : header_id::other;
                case 'f':
                    return is(n, "from") ? header_id::from : header_id::other;
                default:
                    break;
            }
            break;
        case 5:
            switch (c) {
                case 'a':
                    return is(n, "allow") ? header_id::allow : header_id::other;
                case 'e':
                    return is(n, "event") ? header_id::event : header_id::other;
                case 'r':
                    return is(n, "route") ? header_id::route : header_id::other;
                default:
                    break;
            }
            break;
        case 6:
            switch (c) {
                case 'a':
                    return is(n, "accept") ? header_id::accept : header_id::other;
                case 'r':
                    return is(n, "reason") ? header_id::reason : header_id::other;
                case 's':
                    return is(n, "server") ? header_id::server : header_id::other;
                default:
                    break;
            }
            break;
        case 7:
            switch (c) {
                case 'c':
                    if (is(n, "call-id")) return header_id::call_id;
                    if (is(n, "contact")) return header_id::contact;
                    break;
                case 'e':
                    return is(n, "expires") ? header_id::expires : header_id::other;
                case 'r':
                    return is(n, "require") ? header_id::require : header_id::other;
                case 's':
                    return is(n, "subject") ? header_id::subject : header_id::other;
                case 'w':
                    return is(n, "warning") ? header_id::warning : header_id::other;
                default:
                    break;
            }
            break;
        case 9:
            if (c == 's' && is(n, "supported")) return header_id::supported;
            break;
        case 10:
            if (c == 'u' && is(n, "user-agent")) return header_id::user_agent;
            break;
        case 11:
            switch (c) {
                case 'm':
                    return is(n, "min-expires") ? header_id::min_expires : header_id::other;
                case 'r':
                    return is(n, "retry-after") ? header_id::retry_after : header_id::other;
                case 'u':
                    return is(n, "unsupported") ? header_id::unsupported : header_id::other;
                default:
                    break;
            }
            break;
        case 12:
            switch (c) {
                case 'c':
                    return is(n, "content-type") ? header_id::content_type : header_id::other;
                case 'm':
                    return is(n, "max-forwards") ? header_id::max_forwards : header_id::other;
                case 'r':
                    return is(n, "record-route") ? header_id::record_route : header_id::other;
                default:
                    break;
            }
            break;
        case 13:
            switch (c) {
                case 'a':
                    return is(n, "authorization") ? header_id::authorization : header_id::other;
                case 'p':
                    return is(n, "proxy-require") ? header_id::proxy_require : header_id::other;
                default:
                    break;
            }
            break;
        case 14:
            if (c == 'c' && is(n, "content-length")) return header_id::content_length;
            break;
        case 16:
            switch (c) {
                case 'c':
                    return is(n, "content-encoding") ? header_id::content_encoding
                                                     : header_id::other;
                case 'w':
                    return is(n, "www-authenticate") ? header_id::www_authenticate
                                                     : header_id::other;
                default:
                    break;
            }
            break;
        case 18:
            if (c == 'p' && is(n, "proxy-authenticate")) return header_id::proxy_authenticate;
            break;
        case 19:
            switch (c) {
                case 'p':
                    return is(n, "proxy-authorization") ? header_id::proxy_authorization
                                                        : header_id::other;
                case 'c':
                    return is(n, "content-disposition") ? header_id::content_disposition
                                                        : header_id::other;
                default:
                    break;
            }
            break;
        default:
            break;
    }
    return header_id::other;
}

std::string_view canonical_name(header_id id) noexcept {
    switch (id) {
        case header_id::other:
            return "";
        case header_id::accept:
            return "Accept";
        case header_id::allow:
            return "Allow";
        case header_id::authorization:
            return "Authorization";
        case header_id::call_id:
            return "Call-ID";
        case header_id::contact:
            return "Contact";
        case header_id::content_disposition:
            return "Content-Disposition";
        case header_id::content_encoding:
            return "Content-Encoding";
        case header_id::content_length:
            return "Content-Length";
        case header_id::content_type:
            return "Content-Type";
        case header_id::cseq:
            return "CSeq";
        case header_id::date:
            return "Date";
        case header_id::event:
            return "Event";
        case header_id::expires:
            return "Expires";
        case header_id::from:
            return "From";
        case header_id::max_forwards:
            return "Max-Forwards";
        case header_id::min_expires:
            return "Min-Expires";
        case header_id::proxy_authenticate:
            return "Proxy-Authenticate";
        case header_id::proxy_authorization:
            return "Proxy-Authorization";
        case header_id::proxy_require:
            return "Proxy-Require";
        case header_id::reason:
            return "Reason";
        case header_id::record_route:
            return "Record-Route";
        case header_id::require:
            return "Require";
        case header_id::retry_after:
            return "Retry-After";
        case header_id::route:
            return "Route";
        case header_id::server:
            return "Server";
        case header_id::subject:
            return "Subject";
        case header_id::supported:
            return "Supported";
        case header_id::to:
            return "To";
        case header_id::unsupported:
            return "Unsupported";
        case header_id::user_agent:
            return "User-Agent";
        case header_id::via:
            return "Via";
        case header_id::www_authenticate:
            return "WWW-Authenticate";
        case header_id::warning:
            return "Warning";
    }
    return "";
}

}  // namespace b2b::sip
