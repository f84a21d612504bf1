// Whose request it is behind a trusted front.
#include "security/forwarded_source.hpp"

#include <algorithm>
#include <charconv>

namespace b2b::security {

namespace {

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::optional<std::uint16_t> port_of(std::string_view digits) noexcept {
    unsigned value = 0;
    const auto* end = digits.data() + digits.size();
    const auto [p, ec] = std::from_chars(digits.data(), end, value);
    if (digits.empty() || ec != std::errc() || p != end || value == 0 || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

std::optional<boost::asio::ip::address> address_of(std::string_view text) noexcept {
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address(std::string(text), ec);
    if (ec) return std::nullopt;
    return a;
}

}  // namespace

std::optional<source_endpoint> parse_forwarded_value(std::string_view value) noexcept {
    value = trim(value.substr(0, value.find(';')));
    if (value.empty()) return std::nullopt;
    source_endpoint out;
    if (value.front() == '[') {
        const auto close = value.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        const auto host = address_of(value.substr(1, close - 1));
        if (!host || !host->is_v6()) return std::nullopt;
        out.address = *host;
        const auto rest = value.substr(close + 1);
        if (rest.empty()) return out;
        if (rest.front() != ':') return std::nullopt;
        const auto port = port_of(rest.substr(1));
        if (!port) return std::nullopt;
        out.port = *port;
        return out;
    }
    // One colon: IPv4 (or a name, refused) with a port; more: a bare IPv6 address.
    const auto colon = value.find(':');
    if (colon != std::string_view::npos && value.find(':', colon + 1) == std::string_view::npos) {
        const auto host = address_of(value.substr(0, colon));
        const auto port = port_of(value.substr(colon + 1));
        if (!host || !port || !host->is_v4()) return std::nullopt;
        out.address = *host;
        out.port = *port;
        return out;
    }
    const auto host = address_of(value);
    if (!host) return std::nullopt;
    out.address = *host;
    return out;
}

forwarded_source::forwarded_source(forwarding_policy policy) : policy_(std::move(policy)) {}

bool forwarded_source::from_front(const address& sender) const noexcept {
    return std::any_of(policy_.fronts.begin(), policy_.fronts.end(),
                       [&](const auth::ip_network& n) { return n.contains(sender); });
}

forwarded_source::origin forwarded_source::resolve(const address& sender, std::uint16_t port,
                                                   std::optional<std::string_view> value) const {
    const origin own{kind::direct, {sender, port}};
    if (!enabled() || !from_front(sender)) return own;
    if (!value) return {kind::front, own.source};
    if (auto parsed = parse_forwarded_value(*value)) return {kind::forwarded, *parsed};
    return {kind::malformed, own.source};
}

}  // namespace b2b::security
