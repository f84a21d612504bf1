// Trunk identification by source address, and inbound routes by dialled number.
#include "routing/inbound.hpp"

#include <algorithm>

namespace b2b::routing {

inbound_route_table::inbound_route_table(std::vector<inbound_route> routes) : routes_(std::move(routes)) {
    std::vector<std::string> prefixes;
    prefixes.reserve(routes_.size());
    for (const auto& r : routes_) prefixes.push_back(r.prefix);
    index_ = prefix_index(prefixes);
}

trunk_identifier::trunk_identifier(const std::vector<trunk>& trunks) {
    trunks_.reserve(trunks.size());
    for (const auto& t : trunks) {
        entry e;
        e.endpoints = t.inbound_endpoints;
        switch (t.identify_by) {
            case source_identification::address: e.address = sip::unmapped(t.address.address); break;
            case source_identification::address_port: e.endpoints.push_back(t.address); break;
            case source_identification::none: break;
        }
        for (auto& ep : e.endpoints) ep.address = sip::unmapped(ep.address);
        e.networks = t.inbound_networks;
        trunks_.push_back(std::move(e));
    }
}

std::optional<std::size_t> trunk_identifier::match(const sip::endpoint& source) const {
    const sip::endpoint from{sip::unmapped(source.address), source.port};
    for (std::size_t i = 0; i < trunks_.size(); ++i) {
        const auto& eps = trunks_[i].endpoints;
        if (std::find(eps.begin(), eps.end(), from) != eps.end()) return i;
    }
    for (std::size_t i = 0; i < trunks_.size(); ++i) {
        if (trunks_[i].address == from.address) return i;
    }
    for (std::size_t i = 0; i < trunks_.size(); ++i) {
        for (const auto& net : trunks_[i].networks) {
            if (net.contains(from.address)) return i;
        }
    }
    return std::nullopt;
}

}  // namespace b2b::routing
