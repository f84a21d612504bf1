// Dialog state and the requests we originate on either leg.
#include "dialog/dialog.hpp"

#include "sip/message/uri.hpp"
#include "sip/message/values.hpp"
#include "sip/message/writer.hpp"

#include <boost/asio/ip/address.hpp>

#include <stdexcept>

namespace b2b::dialog {

namespace {

// Whether an advertised "host[:port]" names a port: a ':' after the IPv6 reference's closing
// bracket, or anywhere in a name or IPv4 address.
bool names_port(std::string_view host_port) noexcept {
    const std::size_t close = host_port.rfind(']');
    return host_port.find(':', close == std::string_view::npos ? 0 : close) != std::string_view::npos;
}

}  // namespace

local_identity make_identity(const sip::flow& f, std::string_view advertised, bool sips) {
    local_identity id;
    id.transport = f.transport;
    // The flow's local endpoint brackets an IPv6 address (RFC 3261 §25.1 hostport takes an
    // IPv6reference; RFC 5118 §4.1). An advertised value is already written that way (the
    // configuration checks it); without a port it takes the flow's.
    if (advertised.empty()) {
        id.host_port = f.local.to_string();
    } else if (names_port(advertised)) {
        id.host_port = std::string(advertised);
    } else {
        id.host_port = std::string(advertised) + ":" + std::to_string(f.local.port);
    }
    id.sips = sips;
    return id;
}

std::string local_identity::contact() const {
    // §8.1.1.8: a request whose Request-URI is sips: carries a sips: Contact.
    std::string c = (sips ? "<sips:b2bua@" : "<sip:b2bua@") + host_port;
    if (!sips) c += sip::transport_param(transport);
    c += ">";
    return c;
}

std::string_view dialog_state::tag_of(std::string_view value) noexcept {
    const auto parsed = sip::parse_name_addr(value);
    return parsed ? parsed->tag : std::string_view{};
}

dialog_state uas_dialog(const sip::message& invite, std::string_view local_tag, const sip::flow& f,
                        local_identity self) {
    dialog_state d;
    d.call_id = std::string(invite.call_id());
    d.local = std::string(invite.to().text);
    if (invite.to().tag.empty()) {
        d.local += ";tag=";
        d.local += local_tag;
    }
    d.remote = std::string(invite.from().text);
    if (!invite.contacts().empty()) {
        d.remote_target = std::string(invite.contacts().front().uri.text);
    } else {
        // Contact is mandatory in an INVITE (§8.1.1.8); without it the From URI is the best
        // remaining guess, and the flow decides where the request really goes.
        d.remote_target = std::string(invite.from().uri.text);
    }
    for (const auto& rr : invite.record_routes()) d.route_set.emplace_back(rr.text);
    // Our first request on this leg gets CSeq 1: the PBX's own numbering is its business.
    d.local_cseq = 0;
    d.remote_cseq = invite.cseq().seq;
    d.flow = f;
    if (f.reliable()) {
        // §18.1.1: the connection the INVITE came on may be gone when we send in this dialog
        // (a BYE an hour later). A new one goes to the next hop (§12.2.1.1), but only where
        // the peer can be reached: its first Route (a proxy), or its Contact when that names
        // the address it connected from. A Contact naming another address is behind NAT (the
        // registrar's rule): only the peer's own connection reached it (RFC 5626 §5.3).
        const sip::endpoint none{};
        if (!d.route_set.empty()) {
            if (auto hop = next_hop(d.route_set.front(), none); hop != none) d.reconnect = hop;
        } else if (auto hop = next_hop(d.remote_target, none); hop != none && hop.address == f.remote.address) {
            d.reconnect = hop;
        }
    }
    d.self = std::move(self);
    return d;
}

void update_uac_dialog(dialog_state& d, const sip::message& response) {
    d.remote = std::string(response.to().text);
    if (!response.contacts().empty()) d.remote_target = std::string(response.contacts().front().uri.text);
    d.route_set.clear();
    const auto rr = response.record_routes();
    for (auto it = rr.rbegin(); it != rr.rend(); ++it) d.route_set.emplace_back(it->text);
}

bool refresh_target(dialog_state& d, const sip::message& m) {
    if (m.contacts().empty()) return false;
    d.remote_target = std::string(m.contacts().front().uri.text);
    return true;
}

bool accept_remote_cseq(dialog_state& d, const sip::message& request) {
    const auto m = request.method();
    if (m == sip::method::ack || m == sip::method::cancel) return true;
    const std::uint32_t seq = request.cseq().seq;
    if (d.remote_cseq && seq < *d.remote_cseq) return false;
    d.remote_cseq = seq;
    return true;
}

sip::outbound_request make_request(const outgoing_request& r, const local_identity& self) {
    // Our Via: one value, with rport so that responses find us behind NAT (RFC 3581).
    std::string via_value;
    via_value.reserve(64 + r.branch.size());
    via_value += "SIP/2.0/";
    via_value += sip::to_string(self.transport);
    via_value += ' ';
    via_value += self.host_port;
    via_value += ";branch=";
    via_value += r.branch;
    via_value += ";rport";
    sip::request_builder b(r.method, r.request_uri, 768 + r.body.size());
    b.via(via_value);
    if (r.route_set) {
        for (const auto& route : *r.route_set) b.route(route);
    }
    b.max_forwards(r.max_forwards).from(r.from).to(r.to).call_id(r.call_id).cseq(r.cseq, r.cseq_method);
    if (r.with_contact) b.header(sip::header_id::contact, self.contact());
    for (const auto& [name, value] : r.extra_headers) b.header(name, value);
    return std::move(b).finish(r.body, r.content_type);
}

sip::outbound_request make_in_dialog(dialog_state& d, std::string_view method, std::string_view branch,
                            std::uint32_t cseq_override, std::string_view body, std::string_view content_type,
                            std::vector<std::pair<std::string_view, std::string_view>> extra) {
    std::uint32_t cseq = cseq_override;
    if (cseq == 0) cseq = ++d.local_cseq;
    outgoing_request r;
    r.method = method;
    r.request_uri = d.remote_target;
    r.from = d.local;
    r.to = d.remote;
    r.call_id = d.call_id;
    r.cseq = cseq;
    r.branch = branch;
    r.route_set = &d.route_set;
    // ACK and BYE need no Contact (§12.2.1.1 lists it for target refresh requests only).
    r.with_contact = method != "ACK" && method != "BYE";
    r.extra_headers = std::move(extra);
    r.body = body;
    r.content_type = content_type;
    return make_request(r, d.self);
}

sip::endpoint next_hop(std::string_view target_uri, const sip::endpoint& fallback) {
    // Strip angle brackets of a Route value.
    auto open = target_uri.find('<');
    if (open != std::string_view::npos) {
        auto close = target_uri.find('>', open);
        if (close == std::string_view::npos) return fallback;
        target_uri = target_uri.substr(open + 1, close - open - 1);
    }
    auto uri = sip::parse_uri(target_uri);
    if (!uri || !uri->is_sip_or_sips()) return fallback;
    if (uri->host_type != sip::host_kind::ipv4 && uri->host_type != sip::host_kind::ipv6) return fallback;
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(std::string(uri->host_without_brackets()), ec);
    if (ec) return fallback;
    // §19.1.2: sips: and transport=tls default to 5061.
    sip::transport_kind named = sip::transport_kind::udp;  // left as is by an unknown transport
    if (uri->is_sips()) {
        named = sip::transport_kind::tls;
    } else {
        sip::transport_from_string(uri->transport(), named);
    }
    return {address, uri->port ? uri->port : sip::default_port(named)};
}

void aim_in_dialog(dialog_state& d, const sip::endpoint& fallback) {
    const sip::endpoint hop = next_hop(d.route_set.empty() ? d.remote_target : d.route_set.front(), fallback);
    if (d.flow.reliable()) {
        // The connection stays as long as it lives (the peer may only be reachable over it);
        // once gone, the next request opens one to the hop (§18.1.1).
        d.reconnect = hop;
        return;
    }
    d.flow.remote = hop;
}

}  // namespace b2b::dialog
