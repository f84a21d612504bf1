// IP networks in CIDR notation, for choosing per-source digest settings.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace b2b::auth {

/// An IPv4 or IPv6 network, e.g. 10.0.0.0/8 or ::1/128. A value type.
///
/// An IPv4 address matches an IPv4 network also when it arrives IPv4-mapped (::ffff:10.1.2.3,
/// as dual-stack sockets report it); IPv6 scope ids are ignored.
class ip_network {
  public:
    /// "10.0.0.0/8", "2001:db8::/32", or a bare address ("127.0.0.2" is 127.0.0.2/32, "::1" is
    /// ::1/128). nullopt for anything else, including a prefix longer than the address.
    static std::optional<ip_network> parse(std::string_view text);

    ip_network(boost::asio::ip::address base, unsigned prefix_length);

    bool contains(const boost::asio::ip::address& a) const noexcept;

    /// False when bits beyond the prefix are set ("10.1.2.3/8"): such a value is usually a
    /// typo for a host or a network, so configuration refuses it.
    bool is_canonical() const noexcept;

    const boost::asio::ip::address& base() const noexcept { return base_; }
    unsigned prefix_length() const noexcept { return prefix_length_; }

    /// "10.0.0.0/8".
    std::string to_string() const;

    friend bool operator==(const ip_network&, const ip_network&) = default;

  private:
    boost::asio::ip::address base_;
    unsigned prefix_length_ = 0;
};

}  // namespace b2b::auth
