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
    std::vector<std::string> prefixes;
    prefixes.reserve(routes_.size());
    for (const auto& r : routes_) prefixes.push_back(r.prefix);
    index_ = prefix_index(prefixes);
}

std::string rewrite_number(std::string_view number, std::size_t strip, std::string_view prepend) {
    number.remove_prefix(std::min(strip, number.size()));
    std::string out;
    out.reserve(prepend.size() + number.size());
    out += prepend;
    out += number;
    return out;
}

std::string route::rewrite(std::string_view dialled) const { return rewrite_number(dialled, strip, prepend); }

const route* route_table::match(std::string_view user) const {
    const auto i = index_.match(user);
    return i ? &routes_[*i] : nullptr;
}

}  // namespace b2b::routing
