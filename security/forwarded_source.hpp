// Whose request it is when a trusted front (a load balancer such as Kamailio's dispatcher)
// forwards it: the address the front stamped in a header, not the front's own.
#pragma once

#include "auth/ip_network.hpp"

#include <boost/asio/ip/address.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::security {

/// The fronts we trust and the header they write the original source in ("X-Source-Address:
/// 192.0.2.7:5060;transport=udp", "[2001:db8::7]:5060").
struct forwarding_policy {
    /// Networks of the fronts; empty = none (every request is its sender's own).
    std::vector<auth::ip_network> fronts;
    std::string header = "X-Source-Address";
};

/// An address and port, as the tables of this layer take them.
struct source_endpoint {
    boost::asio::ip::address address;
    std::uint16_t port = 0;
};

/// The "address[:port]" at the start of a forwarded-source value, IPv6 in brackets when a port
/// follows; parameters after ';' are ignored. nullopt for anything else.
std::optional<source_endpoint> parse_forwarded_value(std::string_view value) noexcept;

/// Decides whose request a received message is.
///
/// Everything per source (bans, the flood limit, nonces bound to an address, allowed_sources,
/// trunk identification, the failure log) must act on the PBX behind a front, not on the
/// front: one PBX's brute force must not ban the front and with it every PBX. The header is
/// believed only from a front: anybody else could write one to pass for a trusted address or
/// to put the blame on another PBX. A front must remove any copy its client sent before it
/// adds its own (deploy/cluster/kamailio.cfg does). Responses still go to the front, which
/// forwarded the request statefully (its Via is on top).
class forwarded_source {
public:
    using address = boost::asio::ip::address;

    explicit forwarded_source(forwarding_policy policy = {});

    enum class kind : std::uint8_t {
        direct,     ///< not from a front: the sender is the source
        forwarded,  ///< from a front, with a valid header: the header's address is the source
        front,      ///< from a front, without the header: the front's own (an OPTIONS probe)
        malformed,  ///< from a front, with a header that is not an address
    };
    struct origin {
        kind how = kind::direct;
        source_endpoint source;  ///< the sender's own unless `forwarded`
    };

    /// `value` is the header's value if the message has one (nullopt when absent).
    origin resolve(const address& sender, std::uint16_t port, std::optional<std::string_view> value) const;

    bool from_front(const address& sender) const noexcept;
    bool enabled() const noexcept { return !policy_.fronts.empty(); }
    const std::string& header() const noexcept { return policy_.header; }
    const forwarding_policy& policy() const noexcept { return policy_; }

private:
    forwarding_policy policy_;
};

}  // namespace b2b::security
