// Longest-prefix route lookup.
#include "routing/route_table.hpp"

#include <algorithm>

namespace b2b::routing {

route_table::route_table(std::vector<route> routes) {
    // Keep the last definition of each prefix, in configuration order.
    for (auto& r : routes) {
        auto same = std::find_if(routes_.begin(), routes_.end(),
                                 [&](const route& x) { return x.prefix == r.prefix; });
        if (same != routes_.end()) {
            *same = std::move(r);
        } else {
            routes_.push_back(std::move(r));
        }
    }
    for (std::size_t i = 0; i < routes_.size(); ++i) {
        by_prefix_.emplace(routes_[i].prefix, i);
        lengths_.push_back(routes_[i].prefix.size());
    }
    std::sort(lengths_.begin(), lengths_.end(), std::greater<>());
    lengths_.erase(std::unique(lengths_.begin(), lengths_.end()), lengths_.end());
}

std::string route::rewrite(std::string_view dialled) const {
    dialled.remove_prefix(std::min(strip, dialled.size()));
    std::string out;
    out.reserve(prepend.size() + dialled.size());
    out += prepend;
    out += dialled;
    return out;
}

const route* route_table::match(std::string_view user) const {
    for (std::size_t len : lengths_) {
        if (len > user.size()) continue;
        if (auto it = by_prefix_.find(user.substr(0, len)); it != by_prefix_.end()) {
            return &routes_[it->second];
        }
    }
    return nullptr;
}

}  // namespace b2b::routing
