// Calls from trunks: which trunk sent a request, and where its dialled number goes.
#pragma once

#include "routing/prefix_index.hpp"
#include "routing/route_table.hpp"
#include "routing/trunk.hpp"
#include "sip/transport/flow.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::routing {

/// Where a call from a trunk goes: a PBX, reached like a trunk is (its `target` names the
/// address, transport and the credentials we answer its challenges with).
struct inbound_route {
    std::string prefix;  ///< of the dialled number (DID); "" = default
    /// The PBX. `target.name` labels it in logs and metrics; its `uri` is the configured `to`.
    trunk target;
    /// The Request-URI user towards the PBX: empty = the dialled number (after strip and
    /// prepend); set when `to` names a user (an extension, a queue) that takes every call.
    std::string user;
    std::size_t strip = 0;  ///< leading characters of the dialled number removed...
    std::string prepend;    ///< ...then this put in front (e.g. a national number to E.164)
    /// The caller's number (From user) rewritten the same way: providers send national or
    /// international forms, the PBX wants one.
    std::size_t caller_strip = 0;
    std::string caller_prepend;
    /// `to: { registered: USER }`: the call goes to the binding of PBX account USER most
    /// recently registered with us (target.uri and address are then empty: the binding says
    /// where), or gets 480 when it has none.
    std::string registered_user;
};

/// Inbound routes by longest prefix of the dialled number. Immutable once built.
class inbound_route_table {
public:
    inbound_route_table() = default;
    explicit inbound_route_table(std::vector<inbound_route> routes);

    /// The position of the route for `dialled` in `routes()`, or nullopt (no default route).
    std::optional<std::size_t> match(std::string_view dialled) const { return index_.match(dialled); }
    const std::vector<inbound_route>& routes() const noexcept { return routes_; }

private:
    std::vector<inbound_route> routes_;
    prefix_index index_;
};

/// Recognises a trunk by the source address of a request (RFC 3261 gives no other proof: a
/// provider does not answer our challenges). A source matches a trunk, in this order, when it
/// is one of its `inbound_from` address:port entries (or its uri's address and port, with
/// identify_by address_port); when its address is the one the trunk's uri resolves to (any
/// port: providers send from other ports than they listen on; identify_by address, the
/// default); when it lies in one of its `inbound_from` networks. The first trunk in configuration order wins
/// within each rule, so an exact address:port can tell apart two accounts on one provider.
class trunk_identifier {
public:
    trunk_identifier() = default;
    explicit trunk_identifier(const std::vector<trunk>& trunks);

    /// The position of the trunk in the configured list, or nullopt: the source is no trunk.
    std::optional<std::size_t> match(const sip::endpoint& source) const;

    /// Trunk `trunk`'s uri names a host (trunk::dns_host): these are the targets it resolves
    /// to now, replacing the ones given before. A request from any of their addresses (or
    /// address and port, with identify_by address_port) is the trunk's.
    void set_resolved(std::size_t trunk, const std::vector<sip::endpoint>& resolved);

private:
    struct entry {
        std::vector<sip::endpoint> endpoints;  ///< with the uri's endpoint when identified by address_port
        std::vector<sip::endpoint> resolved;   ///< the uri's resolved targets (address_port)
        std::vector<boost::asio::ip::address> addresses;  ///< the uri's, when identified by address
        std::vector<auth::ip_network> networks;
        source_identification identify_by = source_identification::address;
    };
    std::vector<entry> trunks_;
};

}  // namespace b2b::routing
