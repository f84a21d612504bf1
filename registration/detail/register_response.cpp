// Reading the responses to our REGISTERs.
#include "registration/detail/register_response.hpp"

#include "registration/detail/register_request.hpp"
#include "registration/detail/registrar_values.hpp"
#include "sip/message/text.hpp"

#include <algorithm>

namespace b2b::registration::detail {

namespace {

const sip::header_field* first(const sip::message& m, sip::header_id id) noexcept { return m.find(id); }

std::optional<std::chrono::seconds> seconds_of(std::string_view s) noexcept {
    const auto v = parse_delta_seconds(s);
    if (!v) return std::nullopt;
    return std::chrono::seconds{*v};
}

}  // namespace

std::optional<std::chrono::seconds> retry_after(const sip::message& rsp) noexcept {
    const auto* h = first(rsp, sip::header_id::retry_after);
    if (h == nullptr) return std::nullopt;
    // Retry-After = delta-seconds [ comment ] *( SEMI retry-param ): only the number counts.
    const std::string_view v = sip::trim_lws(h->value);
    const std::size_t used = std::min(v.find_first_not_of("0123456789"), v.size());
    const std::string_view rest = sip::trim_lws(v.substr(used));
    if (!rest.empty() && rest.front() != ';' && rest.front() != '(') return std::nullopt;
    return seconds_of(v.substr(0, used));
}

std::optional<std::chrono::seconds> min_expires(const sip::message& rsp) noexcept {
    const auto* h = first(rsp, sip::header_id::min_expires);
    if (h == nullptr) return std::nullopt;
    return seconds_of(h->value);
}

std::string warning(const sip::message& rsp) {
    std::string out;
    for (const auto v : rsp.values(sip::header_id::warning)) {
        if (!out.empty()) out += ", ";
        out += v;
    }
    return out;
}

std::optional<std::chrono::seconds> granted(const sip::message& ok, std::string_view contact_user,
                                            std::string_view our_host_port, std::chrono::seconds asked) noexcept {
    const host_port ours = split_host_port(our_host_port);
    const sip::name_addr* mine = nullptr;
    for (const auto& c : ok.contacts()) {
        if (!c.uri.is_sip_or_sips() || c.uri.user != contact_user) continue;
        // A registrar may give our IPv6 Contact back in another text form (RFC 5954 §4).
        const bool same_host = sip::iequals(c.uri.host, ours.host) || sip::same_ip_address(c.uri.host, ours.host);
        const bool here = same_host && (c.uri.port == 0 ? 5060 : c.uri.port) == ours.port;
        if (mine == nullptr || here) mine = &c;
        if (here) break;
    }
    if (mine == nullptr && !ok.contacts().empty()) return std::nullopt;
    if (mine != nullptr) {
        if (const auto p = mine->param("expires")) {
            if (auto v = seconds_of(*p)) return v;
        }
    }
    if (const auto* h = first(ok, sip::header_id::expires)) {
        if (auto v = seconds_of(h->value)) return v;
    }
    return asked;
}

}  // namespace b2b::registration::detail
