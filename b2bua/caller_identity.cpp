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

// Every value of the header `name`, comma lists split (RFC 3261 §7.3.1) outside quoted
// display names and <...> URIs, which may hold commas.
template <class F>
void each_value(const sip::message& m, std::string_view name, F&& f) {
    for (const auto& h : m.headers()) {
        if (!sip::iequals(h.name, name)) continue;
        const std::string_view v = h.value;
        bool quoted = false;
        bool angled = false;
        std::size_t start = 0;
        for (std::size_t i = 0; i <= v.size(); ++i) {
            const char c = i < v.size() ? v[i] : ',';
            if (quoted) {
                if (c == '\\') ++i;
                else if (c == '"') quoted = false;
                continue;
            }
            if (c == '"') quoted = true;
            else if (c == '<') angled = true;
            else if (c == '>') angled = false;
            else if (c == ',' && !angled) {
                if (const auto item = sip::trim_lws(v.substr(start, i - start)); !item.empty()) f(item);
                start = i + 1;
            }
        }
    }
}

}  // namespace

caller_identity make_caller_identity(const sip::message& invite, const routing::trunk& peer, std::string_view caller,
                                     std::string_view host) {
    caller_identity id;
    id.from_user = peer.from_user.empty() ? std::string(caller) : peer.from_user;

    switch (peer.asserted_identity) {
        case routing::identity_policy::pass:
            // RFC 3325 §9.1: at most one sip/sips and one tel URI.
            each_value(invite, "P-Asserted-Identity", [&](std::string_view v) {
                if (auto r = rehosted(v, host, false); !r.empty()) id.headers.emplace_back("P-Asserted-Identity", r);
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
            each_value(invite, "Privacy", [&](std::string_view v) {
                if (!v.empty()) id.headers.emplace_back("Privacy", std::string(v));
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
    each_value(invite, "Diversion", [&](std::string_view v) {
        if (auto r = rehosted(v, host, true); !r.empty()) id.headers.emplace_back("Diversion", r);
    });
    return id;
}

}  // namespace b2b::b2bua
