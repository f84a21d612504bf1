// Reading the responses to our REGISTERs.
#include "registration/detail/register_response.hpp"

#include "registration/detail/register_request.hpp"
#include "sip/message/text.hpp"

#include <cstdint>
#include <limits>

namespace b2b::registration::detail {

namespace {

constexpr std::uint64_t delta_max = std::numeric_limits<std::uint32_t>::max();

// The 1*DIGIT at the start of `s`, capped at 2^32-1; `used` is how many characters it took.
std::optional<std::chrono::seconds> leading_digits(std::string_view s, std::size_t& used) noexcept {
    std::uint64_t v = 0;
    used = 0;
    while (used < s.size() && s[used] >= '0' && s[used] <= '9') {
        v = std::min(v * 10 + static_cast<std::uint64_t>(s[used] - '0'), delta_max);
        ++used;
    }
    if (used == 0) return std::nullopt;
    return std::chrono::seconds{static_cast<std::chrono::seconds::rep>(v)};
}

const sip::header_field* first(const sip::message& m, sip::header_id id) noexcept { return m.find(id); }

}  // namespace

std::optional<std::chrono::seconds> delta_seconds(std::string_view s) noexcept {
    s = sip::trim_lws(s);
    std::size_t used = 0;
    auto v = leading_digits(s, used);
    if (!v || used != s.size()) return std::nullopt;
    return v;
}

std::optional<std::chrono::seconds> retry_after(const sip::message& rsp) noexcept {
    const auto* h = first(rsp, sip::header_id::retry_after);
    if (h == nullptr) return std::nullopt;
    // Retry-After = delta-seconds [ comment ] *( SEMI retry-param ): only the number counts.
    const std::string_view v = sip::trim_lws(h->value);
    std::size_t used = 0;
    auto seconds = leading_digits(v, used);
    if (!seconds) return std::nullopt;
    const std::string_view rest = sip::trim_lws(v.substr(used));
    if (!rest.empty() && rest.front() != ';' && rest.front() != '(') return std::nullopt;
    return seconds;
}

std::optional<std::chrono::seconds> min_expires(const sip::message& rsp) noexcept {
    const auto* h = first(rsp, sip::header_id::min_expires);
    if (h == nullptr) return std::nullopt;
    return delta_seconds(h->value);
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
        const bool here = sip::iequals(c.uri.host, ours.host) && (c.uri.port == 0 ? 5060 : c.uri.port) == ours.port;
        if (mine == nullptr || here) mine = &c;
        if (here) break;
    }
    if (mine == nullptr && !ok.contacts().empty()) return std::nullopt;
    if (mine != nullptr) {
        if (const auto p = mine->param("expires")) {
            if (auto v = delta_seconds(*p)) return v;
        }
    }
    if (const auto* h = first(ok, sip::header_id::expires)) {
        if (auto v = delta_seconds(h->value)) return v;
    }
    return asked;
}

}  // namespace b2b::registration::detail
