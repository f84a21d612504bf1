// A change of the set of leases one node holds.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace b2b::cluster {

/// What changed in the set of leases this node holds since the last report. A name leaves the
/// set when Redis says another node has it, when this node could not renew it in time, or when
/// the node stopped wanting it.
struct lease_change {
    std::vector<std::string> gained;  ///< held now, not at the last report; sorted
    std::vector<std::string> lost;    ///< held at the last report, not now; sorted
    /// Every name wanted and not held, with the node Redis last named as its holder; empty when
    /// none is known (Redis unreachable, or the lease was just freed).
    std::map<std::string, std::string> others;
};

}  // namespace b2b::cluster
