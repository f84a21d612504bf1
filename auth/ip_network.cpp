// CIDR parsing and matching.
#include "auth/ip_network.hpp"

#include <charconv>
#include <stdexcept>
#include <utility>

#include "auth/detail/address_key.hpp"

namespace b2b::auth {
namespace {

// Bits of the address part of a key: 32 for IPv4, 128 for IPv6.
unsigned width(const detail::address_key& k) noexcept {
    return k.bytes[0] == 4 ? 32 : 128;
}

// Whether the first `bits` bits of the two keys' addresses agree.
bool same_prefix(const detail::address_key& a, const detail::address_key& b,
                 unsigned bits) noexcept {
    std::size_t i = 1;
    for (; bits >= 8; bits -= 8, ++i)
        if (a.bytes[i] != b.bytes[i]) return false;
    if (bits == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xff00u >> bits);
    return (a.bytes[i] & mask) == (b.bytes[i] & mask);
}

}  // namespace

std::optional<ip_network> ip_network::parse(std::string_view text) {
    const auto slash = text.find('/');
    const std::string host(text.substr(0, slash));
    boost::system::error_code ec;
    const auto base = boost::asio::ip::make_address(host, ec);
    // A scope id ("fe80::1%eth0") names one of our interfaces, never a network of peers.
    if (ec || (base.is_v6() && base.to_v6().scope_id() != 0)) return std::nullopt;
    const unsigned max = width(detail::key_of(base));
    unsigned prefix = max;
    if (slash != std::string_view::npos) {
        const std::string_view digits = text.substr(slash + 1);
        if (digits.empty() || digits.size() > 3) return std::nullopt;
        const auto [end, err] =
            std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (err != std::errc() || end != digits.data() + digits.size() || prefix > max)
            return std::nullopt;
    }
    return ip_network(base, prefix);
}

ip_network::ip_network(boost::asio::ip::address base, unsigned prefix_length)
    : base_(std::move(base)), prefix_length_(prefix_length) {
    if (prefix_length_ > width(detail::key_of(base_)))
        throw std::invalid_argument("prefix length exceeds the address width");
}

bool ip_network::contains(const boost::asio::ip::address& a) const noexcept {
    const auto net = detail::key_of(base_);
    const auto key = detail::key_of(a);
    return net.bytes[0] == key.bytes[0] && same_prefix(net, key, prefix_length_);
}

bool ip_network::is_canonical() const noexcept {
    const auto net = detail::key_of(base_);
    detail::address_key zero_host = net;
    // Clear every bit past the prefix, then compare with the original.
    for (unsigned bit = prefix_length_; bit < width(net); ++bit)
        zero_host.bytes[1 + bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
    return zero_host == net;
}

std::string ip_network::to_string() const {
    return base_.to_string() + "/" + std::to_string(prefix_length_);
}

}  // namespace b2b::auth
