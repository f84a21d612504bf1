// The process's Prometheus registry.
#include "metrics/registry.hpp"

namespace b2b::metrics {

std::shared_ptr<prometheus::Registry> make_registry() {
    // Adding a family whose name is already taken with another type, or with other constant
    // labels, throws: two layers claiming the same metric name is a bug we want at startup,
    // not a silent merge.
    return std::make_shared<prometheus::Registry>(
        prometheus::Registry::InsertBehavior::Throw);
}

}  // namespace b2b::metrics
