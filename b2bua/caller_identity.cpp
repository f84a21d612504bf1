// The caller's identity on the other leg (RFC 3325 P-Asserted-Identity and Privacy, RFC 5806 Diversion).
#include "b2bua/caller_identity.hpp"

#include "sip/message/text.hpp"
#include "sip/message/values.hpp"

namespace b2b::b2bua {

namespace {

// `value` (one name-addr) with the host of its SIP URI replaced by `host`: display name, user
// part and header parameters kept. A tel: URI names no host and crosses as it is. Anything
// else (no user part, another scheme, unparseable) is dropped: it could only name a host.
std::string rehosted(std::string_view value, std::string_view host, bool keep_params) {
    auto na = sip::parse_name_addr(sip::trim_lws(value));
    if (!na) return {};
    std::string out;
    if (!na->display_name.empty()) {
        out += na->display_name;
        out += ' ';
    }
    if (na->uri.is_sip_or_sips()) {
        if (na->uri.user.empty()) return {};
        out += "<sip:";
        out += na->uri.user;
        out += '@';
        out += host;
        out += '>';
    } else if (sip::iequals(na->uri.scheme, "tel")) {
        out += '<';
        out += na->uri.text;
        out += '>';
    } else {
        return {};
    }
    if (keep_params) out += na->params;
    return out;
}

}  // namespace

caller_identity make_caller_identity(const sip::message& invite, const routing::trunk& peer, std::string_view caller,
                                     std::string_view host) {
    caller_identity id;
    id.from_user = peer.from_user.empty() ? std::string(caller) : peer.from_user;

    switch (peer.asserted_identity) {
        case routing::identity_policy::pass:
            // RFC 3325 §9.1: at most one sip/sips and one tel URI.
            sip::any_list_item(invite, "P-Asserted-Identity", [&](std::string_view v) {
                if (auto r = rehosted(v, host, false); !r.empty()) id.headers.emplace_back("P-Asserted-Identity", r);
                return false;
            });
            break;
        case routing::identity_policy::set:
            id.headers.emplace_back("P-Asserted-Identity",
                                    "<sip:" + (peer.asserted_user.empty() ? id.from_user : peer.asserted_user) + "@" +
                                        std::string(host) + ">");
            break;
        case routing::identity_policy::strip:
            break;
    }
    switch (peer.privacy) {
        case routing::identity_policy::pass:
            sip::any_list_item(invite, "Privacy", [&](std::string_view v) {
                id.headers.emplace_back("Privacy", std::string(v));
                return false;
            });
            break;
        case routing::identity_policy::set:
            id.headers.emplace_back("Privacy", "id");
            break;
        case routing::identity_policy::strip:
            break;
    }
    // RFC 5806: who forwarded the call, and why (reason, counter): providers need it to accept
    // a forwarded call with a caller number that is not ours.
    sip::any_list_item(invite, "Diversion", [&](std::string_view v) {
        if (auto r = rehosted(v, host, true); !r.empty()) id.headers.emplace_back("Diversion", r);
        return false;
    });
    return id;
}

}  // namespace b2b::b2bua
