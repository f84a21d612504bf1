// Building the REGISTERs of a registration client.
#include "registration/detail/register_request.hpp"

#include "registration/client.hpp"
#include "sip/message/uri.hpp"

#include <charconv>
#include <utility>
#include <vector>

namespace b2b::registration::detail {

register_request make_register_request(const registration_target& t, std::string_view call_id,
                                       std::string_view from_tag) {
    register_request r;
    r.call_id = std::string(call_id);
    // §10.2: To and From hold the address-of-record; the Request-URI names the registrar's
    // domain, without a user part.
    r.to = "<sip:" + sip::escape_user(t.aor_user) + "@" + t.domain + ">";
    r.from = r.to + ";tag=" + std::string(from_tag);
    r.request_uri = "sip:" + t.domain;
    r.request_uri += sip::transport_param(t.transport);
    return r;
}

void aim(register_request& r, const registration_target& t, const sip::flow& f, std::chrono::seconds expires) {
    r.self = dialog::make_identity(f, t.advertised_host);
    r.contact_host_port = t.contact_host_port.empty() ? r.self.host_port : t.contact_host_port;
    r.contact = "<sip:" + t.contact_user + "@" + r.contact_host_port;
    r.contact += sip::transport_param(f.transport);
    r.contact += ">";
    // §10.2.2: removing a binding asks for 0 in both places a registrar may look.
    if (expires.count() == 0) r.contact += ";expires=0";
    r.expires = std::to_string(expires.count());
}

sip::outbound_request build(register_request& r, std::string_view branch, std::string_view auth_name,
                            std::string_view auth_value) {
    dialog::outgoing_request o;
    o.method = "REGISTER";
    o.request_uri = r.request_uri;
    o.from = r.from;
    o.to = r.to;
    o.call_id = r.call_id;
    o.cseq = ++r.cseq;  // every REGISTER, re-sends included, takes the next CSeq (§10.2.4, §22.2)
    o.branch = branch;
    // Our Contact carries the trunk's token as user part: make_request's default would not.
    o.with_contact = false;
    o.extra_headers.emplace_back("Contact", r.contact);
    o.extra_headers.emplace_back("Expires", r.expires);
    if (!auth_name.empty()) o.extra_headers.emplace_back(auth_name, auth_value);
    return dialog::make_request(o, r.self);
}

host_port split_host_port(std::string_view hp) noexcept {
    host_port out;
    std::string_view port;
    if (!hp.empty() && hp.front() == '[') {
        const auto close = hp.find(']');
        if (close == std::string_view::npos) return {hp, 0};
        out.host = hp.substr(0, close + 1);
        if (close + 1 < hp.size() && hp[close + 1] == ':') port = hp.substr(close + 2);
    } else {
        const auto colon = hp.rfind(':');
        out.host = hp.substr(0, colon);
        if (colon != std::string_view::npos) port = hp.substr(colon + 1);
    }
    if (!port.empty()) std::from_chars(port.data(), port.data() + port.size(), out.port);
    return out;
}

}  // namespace b2b::registration::detail
